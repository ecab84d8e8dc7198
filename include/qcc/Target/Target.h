//===- Target.h - compilation targets ---------------------------*- C++ -*-===//
//
// A target is a record: what it is called, what hardware it needs, what the
// code generator may assume, and which formats have fast kernels there.
// `-bits` and codegen consult it; `qcc --print-targets` lists them.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_TARGET_TARGET_H
#define QCC_TARGET_TARGET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace qcc {

enum class TargetKind { Cpu, Gpu };

struct TargetInfo {
  /// Name given to -target=.
  std::string name;
  TargetKind kind = TargetKind::Cpu;
  std::string description;
  /// LLVM triple, CPU name and feature string for code generation.
  std::string triple;
  std::string cpu;
  std::string llvmFeatures;
  /// Features the runtime must find on the machine (GCC
  /// __builtin_cpu_supports names), written to the manifest.
  std::vector<std::string> requiredFeatures;
  /// f32 lanes of the widest vector register the code may use.
  int vectorWidthF32 = 4;
  /// Whether int8 dot products (vpdpbusd) are available.
  bool hasVnni = false;
  /// Bit widths with fast kernels on this target.
  std::vector<int> fastBits;
  /// GPU compute capability (80 for sm_80), 0 for CPUs.
  int smVersion = 0;
  /// GPU code for exactly this compute capability (sm_90a: Hopper's
  /// warpgroup MMA); the runtime refuses any other GPU.
  bool archSpecific = false;
};

/// All targets, in the order --print-targets shows them.
llvm::ArrayRef<TargetInfo> getAllTargets();

/// Looks a target up by name; "host" resolves to the best CPU target this
/// machine runs. Returns nullptr for an unknown name.
const TargetInfo *lookupTarget(llvm::StringRef name);

/// Whether this machine can run code of `target`: a CPU target whose
/// required features the host CPU has.
bool hostRuns(const TargetInfo &target);

} // namespace qcc

#endif // QCC_TARGET_TARGET_H
