//===- TransposeToReshape.cpp - transposes of unit dimensions as views ----===//
//
// Moving a dimension of size 1 does not move any element in memory: a
// transpose whose permutation keeps the other dimensions in order is a
// reshape. As a reshape it bufferizes to a view, where a transpose is a copy
// (a kernel launch on the GPU, a loop nest on the CPU).
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qcc {
#define GEN_PASS_DEF_TRANSPOSETORESHAPE
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

/// `shape` without its unit dimensions.
SmallVector<int64_t> withoutUnitDims(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> kept;
  for (int64_t d : shape)
    if (d != 1)
      kept.push_back(d);
  return kept;
}

/// A reassociation grouping `shape` into `shape` without its unit
/// dimensions: each kept dimension takes the unit dimensions before it, the
/// last one those after it too. Empty when every dimension is a unit one
/// (the reshape to rank 0).
SmallVector<ReassociationIndices> unitDimGroups(ArrayRef<int64_t> shape) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t i = 0, e = shape.size(); i < e; ++i) {
    pending.push_back(i);
    if (shape[i] != 1) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!groups.empty())
    groups.back().append(pending.begin(), pending.end());
  return groups;
}

struct UnitDimTranspose : public OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    auto inType = dyn_cast<RankedTensorType>(op.getInput().getType());
    auto outType = dyn_cast<RankedTensorType>(op.getInit().getType());
    if (!inType || !outType || !inType.hasStaticShape() ||
        !outType.hasStaticShape())
      return failure();
    // Result dimension i is input dimension perm[i]: the non-unit ones must
    // come in increasing order.
    int64_t last = -1;
    for (int64_t src : op.getPermutation()) {
      if (inType.getDimSize(src) == 1)
        continue;
      if (src < last)
        return rewriter.notifyMatchFailure(op, "moves a non-unit dimension");
      last = src;
    }
    Location loc = op.getLoc();
    auto flatType = RankedTensorType::get(withoutUnitDims(inType.getShape()),
                                          inType.getElementType());
    Value flat = tensor::CollapseShapeOp::create(
        rewriter, loc, flatType, op.getInput(),
        unitDimGroups(inType.getShape()));
    Value result = tensor::ExpandShapeOp::create(
        rewriter, loc, outType, flat, unitDimGroups(outType.getShape()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct TransposeToReshapePass
    : public qcc::impl::TransposeToReshapeBase<TransposeToReshapePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<UnitDimTranspose>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
