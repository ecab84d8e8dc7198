//===- OnnxImporter.h - ONNX protobuf to MLIR -------------------*- C++ -*-===//
//
// Turns an ONNX ModelProto into a module holding one `func.func @main` on
// upstream dialects (linalg, tensor, arith, math). Shapes are static: taken
// from the model or from user overrides; shape subgraphs are folded while
// importing.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_FRONTEND_ONNX_ONNXIMPORTER_H
#define QCC_FRONTEND_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace qcc {

struct OnnxImportOptions {
  /// Shape overrides for graph inputs (`-input-shape=NAME:1x128`); they fix
  /// symbolic or dynamic dimensions and must agree with static ones.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Constants with at least this many bytes are kept as
  /// DenseResourceElementsAttr blobs (no hashing, no copy into the context).
  int64_t resourceThresholdBytes = 4096;
  /// Graph inputs bound to compile-time values (`-const-input=NAME=FILE`):
  /// NAME -> path of a serialized ONNX TensorProto (.pb). The input becomes a
  /// constant (it is no longer an argument of @main); this is how shape-like
  /// inputs of the ONNX backend node tests (axes, pads, sizes) get folded.
  std::map<std::string, std::string> constantInputFiles;
};

/// Imports the model at `path` (external data files are looked up relative
/// to its folder). On failure returns a null module and sets `error` to one
/// line naming the cause (for an unsupported op: its type, node name and
/// opset).
///
/// The result: `func.func @main` whose arguments are the graph inputs that
/// are not initializers and whose results are the graph outputs, in graph
/// order. Each argument and result carries `qcc.name` (the ONNX name) and
/// `qcc.dtype` (the ONNX element type name: "float32", "int64", "uint8",
/// "bool", ...) attributes. Unsigned ONNX types become signless integers of
/// the same width; bool becomes i1.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext &context, llvm::StringRef path,
                const OnnxImportOptions &options, std::string &error);

/// Same, from bytes already in memory; `baseDir` is where external data
/// files are looked up.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModelFromBytes(mlir::MLIRContext &context, llvm::StringRef bytes,
                         llvm::StringRef baseDir,
                         const OnnxImportOptions &options, std::string &error);

/// The ONNX op types (default domain) the importer handles, sorted.
std::vector<std::string> getSupportedOnnxOps();

/// Highest default-domain opset the importer accepts.
int64_t getMaxSupportedOpset();

} // namespace qcc

#endif // QCC_FRONTEND_ONNX_ONNXIMPORTER_H
