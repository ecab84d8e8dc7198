//===- ConvNhwc.cpp - convolution chains in NHWC ---------------------------===//
//
// ONNX convolutions arrive as NCHW named ops. On a CPU the channel should be
// the innermost dimension: im2col then copies contiguous channel runs, a 1x1
// convolution is a plain matmul on the activation, the matmul result
// [OH * OW, F] already is the next layer's input, and depthwise convolutions
// and pooling vectorise over channels.
//
// Each batch-1 NCHW convolution / depthwise convolution / max or sum pool
// becomes its NHWC twin between two linalg.transposes (NCHW -> NHWC on the
// way in, back on the way out; a constant filter is reordered at compile
// time). The transposes are then moved out of the chain:
//  - an element-wise linalg.generic reading a transposed operand runs in the
//    transpose's source layout and the transpose moves below it;
//  - tensor.pad of a transpose pads the source (pads permuted);
//  - a generic with reductions (global pooling) reads the source through
//    its indexing map instead of the transpose;
//  - transpose(transpose(x)) folds; transposes of fills/empties are fills.
// What remains is one transpose at the model's input and one at its output
// (or none, when a reduction consumes the last NHWC tensor).
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"
#include "qcc/Passes/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qcc {
#define GEN_PASS_DEF_CONVNHWC
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

constexpr int64_t kToNhwc[] = {0, 2, 3, 1};
constexpr int64_t kToNchw[] = {0, 3, 1, 2};

static RankedTensorType staticType(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() ? type : RankedTensorType();
}

/// The transposes this pass moves: NHWC -> NCHW (others are left alone, so
/// models without convolutions keep their layout decisions).
static bool isToNchw(linalg::TransposeOp t) {
  return t.getPermutation() == ArrayRef<int64_t>(kToNchw);
}

/// `value` transposed by `perm` (result dim i = source dim perm[i]).
static Value transpose(PatternRewriter &rewriter, Location loc, Value value,
                       ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init = tensor::EmptyOp::create(rewriter, loc, shape,
                                       type.getElementType());
  return linalg::TransposeOp::create(rewriter, loc, value, init, perm)
      .getResult()[0];
}

/// A constant f32 tensor's values reordered by `perm` (as transpose).
static Value transposedConstant(PatternRewriter &rewriter, Location loc,
                                Value value, ArrayRef<int64_t> perm) {
  auto cst = value.getDefiningOp<arith::ConstantOp>();
  auto type = cast<RankedTensorType>(value.getType());
  if (!cst || !type.getElementType().isF32())
    return transpose(rewriter, loc, value, perm);
  std::optional<std::vector<float>> values =
      qcc::getFloatValues(cast<ElementsAttr>(cst.getValue()));
  if (!values)
    return transpose(rewriter, loc, value, perm);
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = type.getRank();
  SmallVector<int64_t> outShape, srcStrides(rank, 1);
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  for (int64_t d = rank - 2; d >= 0; --d)
    srcStrides[d] = srcStrides[d + 1] * shape[d + 1];
  std::vector<float> out(values->size());
  SmallVector<int64_t> index(rank, 0);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += index[d] * srcStrides[perm[d]];
    out[i] = (*values)[src];
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  auto outType = RankedTensorType::get(outShape, rewriter.getF32Type());
  return arith::ConstantOp::create(
      rewriter, loc,
      DenseResourceElementsAttr::get(
          outType, "qcc_nhwc_filter",
          HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(out))));
}

/// Batch-1, static-shape f32 operands of a 2-D NCHW conv/pool named op.
static bool convertible(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op->getNumResults() != 1)
    return false;
  for (Value v : op->getOperands()) {
    RankedTensorType type = staticType(v);
    if (!type || !type.getElementType().isF32())
      return false;
  }
  return staticType(op->getOperand(0)).getDimSize(0) == 1;
}

/// An NCHW conv/pool named op -> transpose, its NHWC twin, transpose. The
/// second input (filter) is reordered by `filterPerm` (compile time for a
/// constant); a pool's window-shape operand (empty `filterPerm`) is kept.
template <typename NchwOp, typename NhwcOp>
struct ToNhwc : OpRewritePattern<NchwOp> {
  ToNhwc(MLIRContext *ctx, ArrayRef<int64_t> filterPerm)
      : OpRewritePattern<NchwOp>(ctx), filterPerm(filterPerm) {}
  LogicalResult matchAndRewrite(NchwOp op,
                                PatternRewriter &rewriter) const override {
    if (!convertible(op))
      return rewriter.notifyMatchFailure(op, "not a static batch-1 f32 op");
    Location loc = op.getLoc();
    Value x = transpose(rewriter, loc, op.getInputs()[0], kToNhwc);
    Value w = op.getInputs()[1];
    if (!filterPerm.empty())
      w = transposedConstant(rewriter, loc, w, filterPerm);
    Value init = transpose(rewriter, loc, op.getOutputs()[0], kToNhwc);
    Value y = NhwcOp::create(rewriter, loc, TypeRange{init.getType()},
                             ValueRange{x, w}, ValueRange{init},
                             op.getStrides(), op.getDilations())
                  .getResult(0);
    rewriter.replaceOp(op, transpose(rewriter, loc, y, kToNchw));
    return success();
  }
  SmallVector<int64_t> filterPerm;
};

/// Whether SinkTransposeThroughElementwise takes `operand` of `op`: an
/// element-wise generic reading it through the identity.
static bool sinkable(linalg::GenericOp op, OpOperand *operand) {
  return op.getNumReductionLoops() == 0 && op.getNumDpsInits() == 1 &&
         op.getIndexingMapsArray().back().isIdentity() &&
         op.getMatchingIndexingMap(operand).isIdentity();
}

/// Element-wise generic (all parallel, identity result map) with an operand
/// `transpose(x, P)` read through the identity: iterate in x's layout and
/// transpose the result instead.
struct SinkTransposeThroughElementwise : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    std::optional<SmallVector<int64_t>> perm;
    for (OpOperand *in : op.getDpsInputOperands()) {
      auto t = in->get().getDefiningOp<linalg::TransposeOp>();
      if (t && isToNchw(t) && sinkable(op, in)) {
        perm = SmallVector<int64_t>(t.getPermutation());
        break;
      }
    }
    if (!perm)
      return failure();
    MLIRContext *ctx = op.getContext();
    int64_t rank = op.getNumLoops();
    // Old loop d_i is the new loop e_{P[i]}.
    SmallVector<AffineExpr> sigma;
    for (int64_t i = 0; i < rank; ++i)
      sigma.push_back(getAffineDimExpr((*perm)[i], ctx));
    AffineMap sigmaMap = AffineMap::get(rank, 0, sigma, ctx);
    SmallVector<Value> inputs;
    SmallVector<AffineMap> newMaps;
    for (OpOperand *in : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(in);
      auto t = in->get().getDefiningOp<linalg::TransposeOp>();
      if (t && map.isIdentity() && t.getPermutation() == ArrayRef(*perm)) {
        inputs.push_back(t.getInput());
        newMaps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
      } else {
        inputs.push_back(in->get());
        newMaps.push_back(map.compose(sigmaMap));
      }
    }
    // The new init in the source layout: x's shape.
    SmallVector<int64_t> inversePerm(rank);
    for (int64_t i = 0; i < rank; ++i)
      inversePerm[(*perm)[i]] = i;
    Location loc = op.getLoc();
    Value oldInit = op.getDpsInits()[0];
    Value init = transpose(rewriter, loc, oldInit, inversePerm);
    newMaps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
        newMaps, op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op.getRegion(), generic.getRegion(),
                                generic.getRegion().begin());
    rewriter.replaceOp(op, transpose(rewriter, loc, generic.getResult(0),
                                     *perm));
    return success();
  }
};

/// Any other generic (a reduction such as global pooling, or an operand read
/// through a non-identity map) reads a transposed operand's source directly.
struct FoldTransposeIntoGeneric : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    for (OpOperand *in : op.getDpsInputOperands()) {
      auto t = in->get().getDefiningOp<linalg::TransposeOp>();
      if (!t || !isToNchw(t) || sinkable(op, in))
        continue;
      // Result dim i of the transpose is source dim P[i].
      AffineMap map = op.getMatchingIndexingMap(in);
      ArrayRef<int64_t> perm = t.getPermutation();
      SmallVector<AffineExpr> exprs(perm.size());
      for (size_t i = 0; i < perm.size(); ++i)
        exprs[perm[i]] = map.getResult(i);
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[in->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), 0, exprs, op.getContext());
      rewriter.modifyOpInPlace(op, [&] {
        in->set(t.getInput());
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      });
      return success();
    }
    return failure();
  }
};

/// tensor.pad(transpose(x, P)) -> transpose(tensor.pad(x), P).
struct SwapPadTranspose : OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::PadOp pad,
                                PatternRewriter &rewriter) const override {
    auto t = pad.getSource().getDefiningOp<linalg::TransposeOp>();
    Value padValue = pad.getConstantPaddingValue();
    if (!t || !isToNchw(t) || !padValue)
      return failure();
    if (!staticType(pad.getResult()))
      return failure();
    ArrayRef<int64_t> perm = t.getPermutation();
    ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
    if (llvm::any_of(low, ShapedType::isDynamic) ||
        llvm::any_of(high, ShapedType::isDynamic))
      return failure();
    SmallVector<OpFoldResult> newLow(perm.size()), newHigh(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      newLow[perm[i]] = rewriter.getIndexAttr(low[i]);
      newHigh[perm[i]] = rewriter.getIndexAttr(high[i]);
    }
    Location loc = pad.getLoc();
    auto srcType = cast<RankedTensorType>(t.getInput().getType());
    SmallVector<int64_t> padded;
    for (int64_t d = 0; d < srcType.getRank(); ++d)
      padded.push_back(srcType.getDimSize(d) +
                       *getConstantIntValue(newLow[d]) +
                       *getConstantIntValue(newHigh[d]));
    auto paddedType =
        RankedTensorType::get(padded, srcType.getElementType());
    Value newPad =
        tensor::PadOp::create(rewriter, loc, paddedType, t.getInput(), newLow,
                              newHigh, padValue, pad.getNofold());
    rewriter.replaceOp(pad, transpose(rewriter, loc, newPad, perm));
    return success();
  }
};

/// transpose(tensor.pad(x), NCHW -> NHWC) -> tensor.pad(transpose(x)) at a
/// chain's input, so that qcc-conv-to-matmul can have the transpose write
/// the padded tensor's interior (one pass over the input instead of two).
struct SwapTransposePad : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto pad = t.getInput().getDefiningOp<tensor::PadOp>();
    if (!pad || t.getPermutation() != ArrayRef<int64_t>(kToNhwc) ||
        !pad->hasOneUse() || !pad.getConstantPaddingValue() ||
        !staticType(pad.getResult()) || !pad.getLow().empty() ||
        !pad.getHigh().empty())
      return failure();
    ArrayRef<int64_t> perm = t.getPermutation();
    SmallVector<OpFoldResult> newLow, newHigh;
    for (int64_t p : perm) {
      newLow.push_back(rewriter.getIndexAttr(pad.getStaticLow()[p]));
      newHigh.push_back(rewriter.getIndexAttr(pad.getStaticHigh()[p]));
    }
    Location loc = t.getLoc();
    Value inner = transpose(rewriter, loc, pad.getSource(), perm);
    auto type = cast<RankedTensorType>(t.getResult()[0].getType());
    rewriter.replaceOpWithNewOp<tensor::PadOp>(
        t, type, inner, newLow, newHigh, pad.getConstantPaddingValue(),
        pad.getNofold());
    return success();
  }
};

/// transpose(transpose(x, P1), P2) -> x or transpose(x, P1 o P2).
struct FoldTransposePair : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<linalg::TransposeOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> p1 = inner.getPermutation(), p2 = op.getPermutation();
    SmallVector<int64_t> q;
    bool identity = true;
    for (size_t i = 0; i < p2.size(); ++i) {
      q.push_back(p1[p2[i]]);
      identity &= q.back() == (int64_t)i;
    }
    Value source = inner.getInput();
    rewriter.replaceOp(op, identity ? source
                                    : transpose(rewriter, op.getLoc(), source,
                                                q));
    return success();
  }
};

/// transpose(fill(empty)) / transpose(empty) -> fill(empty) / empty.
struct FoldTransposeOfFill : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Value input = op.getInput();
    auto type = cast<RankedTensorType>(op.getResult()[0].getType());
    Location loc = op.getLoc();
    if (input.getDefiningOp<tensor::EmptyOp>() && type.hasStaticShape()) {
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, type.getShape(),
                                                   type.getElementType());
      return success();
    }
    auto fill = input.getDefiningOp<linalg::FillOp>();
    if (!fill || !fill.hasPureTensorSemantics() ||
        !fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() ||
        !type.hasStaticShape())
      return failure();
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          type.getElementType());
    rewriter.replaceOpWithNewOp<linalg::FillOp>(op, fill.getInputs()[0],
                                                empty);
    return success();
  }
};

struct ConvNhwcPass : public qcc::impl::ConvNhwcBase<ConvNhwcPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // Filters: [F, C, KH, KW] -> [KH, KW, C, F]; depthwise [C, KH, KW] ->
    // [KH, KW, C]; pools keep their window-shape operand.
    patterns.add<ToNhwc<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp>>(
        ctx, ArrayRef<int64_t>{2, 3, 1, 0});
    patterns.add<ToNhwc<linalg::DepthwiseConv2DNchwChwOp,
                        linalg::DepthwiseConv2DNhwcHwcOp>>(
        ctx, ArrayRef<int64_t>{1, 2, 0});
    patterns.add<ToNhwc<linalg::PoolingNchwMaxOp, linalg::PoolingNhwcMaxOp>,
                 ToNhwc<linalg::PoolingNchwSumOp, linalg::PoolingNhwcSumOp>>(
        ctx, ArrayRef<int64_t>{});
    patterns.add<SinkTransposeThroughElementwise, FoldTransposeIntoGeneric,
                 SwapPadTranspose, SwapTransposePad, FoldTransposePair,
                 FoldTransposeOfFill>(
        ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
