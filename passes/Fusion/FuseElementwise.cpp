//===- FuseElementwise.cpp - fusion without recomputation -----------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qcc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

/// True when fusing the producer of `operand` into its consumer computes
/// each produced element exactly once.
static bool fusesWithoutRecomputation(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer)
    return false;
  if (producer.getNumParallelLoops() != producer.getNumLoops())
    return false;
  // A value that other ops read too stays materialized: fusing would keep
  // the producer for them and compute every element once more in the
  // consumer. Chained, this recomputed a transformer's whole residual stream
  // in each LayerNorm's three loops (work quadratic in the depth).
  for (Operation *user : operand->get().getUsers())
    if (user != consumer.getOperation())
      return false;
  AffineMap map = consumer.getMatchingIndexingMap(operand);
  return map.isPermutation();
}

struct FuseElementwisePass
    : public qcc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    linalg::populateConstantFoldLinalgOperations(patterns,
                                                 fusesWithoutRecomputation);
    tensor::populateFoldTensorEmptyPatterns(patterns);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
