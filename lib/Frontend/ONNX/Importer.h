//===- Importer.h - the ONNX graph importer (internal) ----------*- C++ -*-===//
//
// The importer's per-model state, shared by OnnxImporter.cpp (the driver)
// and NodeContext.cpp (what op handlers see of it).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_LIB_FRONTEND_ONNX_IMPORTER_H
#define QCC_LIB_FRONTEND_ONNX_IMPORTER_H

#include "ImportContext.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>

namespace qcc {
namespace onnximport {

/// Imports one graph into one function.
class Importer {
public:
  Importer(mlir::MLIRContext &ctx, const OnnxImportOptions &options,
           llvm::StringRef baseDir, std::string &error)
      : ctx(ctx), options(options), baseDir(baseDir.str()), error(error),
        builder(&ctx) {}

  mlir::OwningOpRef<mlir::ModuleOp> run(const onnx::ModelProto &model);

  /// Loads a TensorProto (initializer or Constant attribute) into `info`.
  mlir::LogicalResult loadTensor(const onnx::TensorProto &t, llvm::StringRef what,
                           TensorInfo &info);
  /// Materializes the SSA value of a constant value.
  mlir::Value materialize(TensorInfo &info, llvm::StringRef name);

  mlir::MLIRContext &ctx;
  const OnnxImportOptions &options;
  std::string baseDir;
  std::string &error;
  mlir::OpBuilder builder;
  std::map<std::string, TensorInfo> values;
  const OpTable &table();

private:
  mlir::LogicalResult importNode(const onnx::NodeProto &node, int64_t opset);
  mlir::LogicalResult importConstantNode(NodeContext &nc);
  mlir::LogicalResult checkDeclaredOutput(const onnx::ValueInfoProto &vo,
                                          const TensorInfo &t);
  mlir::LogicalResult setSignature(const onnx::GraphProto &g);
  mlir::Value funcEntryAnchor;
  std::string currentValueName;
};

/// Node checks (NodeChecks.cpp): against the ONNX schema of the node's opset
/// before the handler runs (input/output counts, attribute names, types and
/// required ones, names defined twice), and on the output shapes after it.
mlir::LogicalResult checkNodeSchema(NodeContext &nc);
mlir::LogicalResult checkNodeOutputs(NodeContext &nc);

} // namespace onnximport
} // namespace qcc

#endif // QCC_LIB_FRONTEND_ONNX_IMPORTER_H
