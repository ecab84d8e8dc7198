//===- Artifact.h - writing compiled artifacts ------------------*- C++ -*-===//
//
// The artifact (docs/ARTIFACT.md) is the contract with the runtime: a shared
// object, a weight file, a JSON manifest with hashes, and a C header.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_ARTIFACT_ARTIFACT_H
#define QCC_ARTIFACT_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace qcc {

struct TargetInfo;

/// Format version this compiler writes.
inline constexpr int kArtifactFormatVersion = 1;

/// One model input or output as the manifest lists it.
struct TensorSignature {
  std::string name;
  /// ONNX element type name ("float32", "int64", "bool", ...).
  std::string dtype;
  std::vector<int64_t> shape;
};

/// What the manifest records besides the files themselves.
struct ArtifactSpec {
  std::string sourceModelPath;
  std::string sourceModelSha256;
  const TargetInfo *target = nullptr;
  int bits = 32;
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
};

/// Reads the I/O signature of `func.func @entry` from its `qcc.name` /
/// `qcc.dtype` argument and result attributes and tensor types.
mlir::LogicalResult readSignature(mlir::ModuleOp module, llvm::StringRef entry,
                                  ArtifactSpec &spec, std::string &error);

/// Translates an LLVM-dialect module into LLVM IR for `target` and runs the
/// LLVM optimizer (O3) on it. Returns null and sets `error` on failure.
std::unique_ptr<llvm::Module> translateAndOptimize(mlir::ModuleOp module,
                                                   llvm::LLVMContext &context,
                                                   const TargetInfo &target,
                                                   std::string &error);

/// Writes `llvmModule` as an object file at `path`.
mlir::LogicalResult emitObjectFile(llvm::Module &llvmModule,
                                   const TargetInfo &target,
                                   llvm::StringRef path, std::string &error);

/// Links the object at `objectPath` into a shared object at `soPath` with the
/// system toolchain (clang-22, clang or cc).
mlir::LogicalResult linkSharedObject(llvm::StringRef objectPath,
                                     llvm::StringRef soPath,
                                     std::string &error);

/// Writes `<prefix>.weights` from the module's `qcc.weights` attribute, then
/// `<prefix>.json` and `<prefix>.h`. `<prefix>.so` must already exist.
mlir::LogicalResult writeArtifactFiles(mlir::ModuleOp module,
                                       const ArtifactSpec &spec,
                                       llvm::StringRef prefix,
                                       std::string &error);

/// The contents of the weight file: the module's `qcc.weights` records at
/// their offsets.
mlir::LogicalResult collectWeightBytes(mlir::ModuleOp module,
                                       std::string &weights,
                                       std::string &error);

/// A shape as the content hash writes it: dimensions joined by "x"
/// ("1x128"), "scalar" for rank 0.
std::string dimsString(llvm::ArrayRef<int64_t> shape);

/// The manifest's content hash (docs/ARTIFACT.md): over the library and
/// weights digests, the plan digest for GPU artifacts (empty for CPU ones)
/// and the I/O signature.
std::string computeContentHash(const ArtifactSpec &spec,
                               llvm::StringRef libraryHash,
                               llvm::StringRef weightsHash,
                               llvm::StringRef planHash = "");

/// Size of the weight file the module's `qcc.weights` records describe.
int64_t weightFileBytes(mlir::ModuleOp module);

/// The I/O signature a CPU library records about itself (docs/ARTIFACT.md):
/// "weights BYTES\n" then one "in|out NAME DTYPE DIMS\n" line per tensor, the
/// lines of the content hash. The runtime compares it with the manifest.
std::string ioSignatureText(const ArtifactSpec &spec, int64_t weightBytes);

/// Adds `const char *qcc_artifact_io_signature(void)`, returning `text`, to
/// an optimized LLVM module.
void addIoSignatureSymbol(llvm::Module &llvmModule, llvm::StringRef text);

/// Writes `bytes` to `path`, replacing it.
mlir::LogicalResult writeFile(llvm::StringRef path, llvm::StringRef bytes,
                              std::string &error);

/// SHA-256 of `bytes` as lowercase hex (the runtime's implementation).
std::string sha256Hex(llvm::StringRef bytes);

/// SHA-256 of a file's bytes as lowercase hex.
mlir::FailureOr<std::string> sha256File(llvm::StringRef path,
                                        std::string &error);

} // namespace qcc

#endif // QCC_ARTIFACT_ARTIFACT_H
