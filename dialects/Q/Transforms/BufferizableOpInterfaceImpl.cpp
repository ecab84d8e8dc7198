//===- BufferizableOpInterfaceImpl.cpp - bufferization of q ops -----------===//

#include "qcc/Dialect/Q/Transforms/BufferizableOpInterfaceImpl.h"

#include "qcc/Dialect/Q/IR/QDialect.h"
#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

struct MatmulOpInterface
    : public DstBufferizableOpInterfaceExternalModel<MatmulOpInterface,
                                                     qcc::q::MatmulOp> {
  /// The init is overwritten, never read: no copy of its old contents.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &state) const {
    return !cast<qcc::q::MatmulOp>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto matmul = cast<qcc::q::MatmulOp>(op);
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      if (!isa<TensorType>(operand.getType())) {
        operands.push_back(operand);
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    auto bufferized = qcc::q::MatmulOp::create(
        rewriter, op->getLoc(), TypeRange(), operands, op->getAttrs());
    (void)bufferized;
    Value initBuffer = operands[matmul.getInitMutable().getOperandNumber()];
    replaceOpWithBufferizedValues(rewriter, op, initBuffer);
    return success();
  }
};

} // namespace

void qcc::q::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, QDialect *) {
    MatmulOp::attachInterface<MatmulOpInterface>(*ctx);
  });
}
