//===- GpuArtifact.h - PTX module, launch plan, GPU manifest ----*- C++ -*-===//
//
// A GPU artifact (docs/ARTIFACT.md, "GPU artifacts") is a PTX module with
// every kernel, a launch plan the runtime executes, the weight file and the
// manifest. No host code is compiled.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_ARTIFACT_GPUARTIFACT_H
#define QCC_ARTIFACT_GPUARTIFACT_H

#include "qcc/Artifact/Artifact.h"

namespace qcc {

/// Translates the kernels of the module's gpu.module (NVVM/LLVM dialect) to
/// LLVM IR, optimizes it and emits PTX for `target` with the NVPTX backend.
/// With `llvmIr`, also returns the optimized LLVM IR.
mlir::FailureOr<std::string> emitPtx(mlir::ModuleOp module,
                                     const TargetInfo &target,
                                     std::string &error,
                                     std::string *llvmIr = nullptr);

/// The launch plan (JSON text) of the entry function `main`, which
/// qcc-gpu-plan-memory has checked and annotated.
mlir::FailureOr<std::string> buildGpuPlan(mlir::ModuleOp module,
                                          std::string &error);

/// Writes `<prefix>.ptx`, `<prefix>.plan.json`, `<prefix>.weights` and the
/// manifest `<prefix>.json`.
mlir::LogicalResult writeGpuArtifactFiles(mlir::ModuleOp module,
                                          const ArtifactSpec &spec,
                                          llvm::StringRef prefix,
                                          llvm::StringRef ptx,
                                          llvm::StringRef plan,
                                          std::string &error);

/// What `qcc --emit` writes for a GPU target.
enum class GpuEmitKind { LlvmIr, Ptx, Artifact };

/// From a module the GPU pipeline lowered: with `LlvmIr`, the kernels'
/// optimized LLVM IR to `prefix` ('-' for stdout); with `Ptx`, PREFIX.ptx;
/// with `Artifact`, the whole artifact (a failure leaves no files behind).
mlir::LogicalResult emitGpuArtifact(mlir::ModuleOp module,
                                    const ArtifactSpec &spec,
                                    llvm::StringRef prefix, GpuEmitKind kind,
                                    std::string &error);

} // namespace qcc

#endif // QCC_ARTIFACT_GPUARTIFACT_H
