//===- CpuFeatures.h - Host CPU feature detection ---------------*- C++ -*-===//
//
// Answers "can this machine run code that requires feature X?" for the
// feature names of GCC's __builtin_cpu_supports, using cpuid and, for AVX
// and AVX-512, the OS's XSAVE state (xgetbv): a CPU with AVX-512 whose OS
// does not save ZMM state cannot run AVX-512 code.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_CPUFEATURES_H
#define QCC_RUNTIME_SRC_CPUFEATURES_H

#include <string>
#include <vector>

namespace qcc {
namespace runtime {

/// The features of the running CPU, usable by user code.
class CpuFeatures {
public:
  /// Detects the host once (cached), then applies the environment variable
  /// QCC_RUNTIME_DISABLE_CPU_FEATURES (comma-separated names treated as
  /// absent; lets tests and users emulate an older CPU).
  static const CpuFeatures &host();

  /// Detects the host, without cache and without the environment override.
  static CpuFeatures detect();

  /// True when `name` is a feature name this runtime knows.
  static bool isKnown(const std::string &name);
  /// Every known feature name.
  static std::vector<std::string> knownNames();

  /// True when `name` is known and usable on this machine.
  bool has(const std::string &name) const;
  /// The usable features, sorted by name.
  std::vector<std::string> presentNames() const;

  /// Marks `name` absent.
  void disable(const std::string &name);

  /// The machine's architecture as a triple prefix ("x86_64", "aarch64").
  static const char *hostArch();

private:
  std::vector<std::string> present;
};

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_CPUFEATURES_H
