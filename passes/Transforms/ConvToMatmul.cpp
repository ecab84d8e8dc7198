//===- ConvToMatmul.cpp - convolutions as im2col + matmul -----------------===//

#include "qcc/Passes/Passes.h"
#include "qcc/Passes/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace qcc {
#define GEN_PASS_DEF_CONVTOMATMUL
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

static bool isStaticF32(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// The filter's values when it is an f32 constant (dense or resource).
static std::optional<std::vector<float>> constantFilter(Value filter) {
  auto cst = filter.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  return qcc::getFloatValues(cast<ElementsAttr>(cst.getValue()));
}

/// A 2-D `[rows, cols]` f32 tensor transposed by a linalg.transpose.
static Value transpose2d(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  Value init = tensor::EmptyOp::create(
      b, loc, {type.getDimSize(1), type.getDimSize(0)}, b.getF32Type());
  return linalg::TransposeOp::create(b, loc, value, init,
                                     ArrayRef<int64_t>{1, 0})
      .getResult()[0];
}

static void rewrite(linalg::Conv2DNchwFchwOp conv) {
  Value input = conv.getInputs()[0], filter = conv.getInputs()[1];
  Value init = conv.getOutputs()[0];
  if (!conv.hasPureTensorSemantics() || !isStaticF32(input) ||
      !isStaticF32(filter) || !isStaticF32(init))
    return;
  ArrayRef<int64_t> in = cast<RankedTensorType>(input.getType()).getShape();
  ArrayRef<int64_t> fl = cast<RankedTensorType>(filter.getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(init.getType()).getShape();
  if (in[0] != 1)
    return;
  SmallVector<int64_t> strides(conv.getStrides().getValues<int64_t>());
  SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());
  int64_t c = fl[1], kh = fl[2], kw = fl[3], f = fl[0], oh = out[2],
          ow = out[3];
  // A constant filter becomes the right-hand [C*KH*KW, F] operand of a
  // `patches x weights` matmul, the form qcc-quantize-weights quantizes;
  // other filters stay on the left.
  std::optional<std::vector<float>> filterValues = constantFilter(filter);
  bool weightsRight = filterValues.has_value();

  OpBuilder b(conv);
  Location loc = conv.getLoc();
  MLIRContext *ctx = b.getContext();
  // col[c, kh, kw, oh, ow] = input[0, c, oh * sh + kh * dh, ow * sw + kw * dw]
  // (stored as [oh, ow, c, kh, kw] when the weights go right).
  AffineExpr dc = getAffineDimExpr(0, ctx), dkh = getAffineDimExpr(1, ctx),
             dkw = getAffineDimExpr(2, ctx), doh = getAffineDimExpr(3, ctx),
             dow = getAffineDimExpr(4, ctx);
  AffineMap readMap = AffineMap::get(
      5, 0,
      {getAffineConstantExpr(0, ctx), dc,
       doh * strides[0] + dkh * dilations[0],
       dow * strides[1] + dkw * dilations[1]},
      ctx);
  AffineMap writeMap =
      weightsRight ? AffineMap::get(5, 0, {doh, dow, dc, dkh, dkw}, ctx)
                   : b.getMultiDimIdentityMap(5);
  SmallVector<int64_t> colShape =
      weightsRight ? SmallVector<int64_t>{oh, ow, c, kh, kw}
                   : SmallVector<int64_t>{c, kh, kw, oh, ow};
  Value colInit = tensor::EmptyOp::create(b, loc, colShape, b.getF32Type());
  SmallVector<utils::IteratorType> parallel(5, utils::IteratorType::parallel);
  Value col = linalg::GenericOp::create(
                  b, loc, TypeRange{colInit.getType()}, ValueRange{input},
                  ValueRange{colInit}, ArrayRef<AffineMap>{readMap, writeMap},
                  parallel,
                  [](OpBuilder &nb, Location nloc, ValueRange args) {
                    linalg::YieldOp::create(nb, nloc, args[0]);
                  })
                  .getResult(0);
  auto collapseInit = [&] {
    return tensor::CollapseShapeOp::create(
        b, loc, init, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
  };
  Value product;
  if (weightsRight) {
    // weights[k, f] = filter[f, k] with k = (c, kh, kw), transposed now.
    Value init2d = collapseInit();
    int64_t k = c * kh * kw;
    std::vector<float> transposed(filterValues->size());
    for (int64_t fi = 0; fi < f; ++fi)
      for (int64_t ki = 0; ki < k; ++ki)
        transposed[ki * f + fi] = (*filterValues)[fi * k + ki];
    auto weightType = RankedTensorType::get({k, f}, b.getF32Type());
    Value weights = arith::ConstantOp::create(
        b, loc,
        DenseResourceElementsAttr::get(
            weightType, "qcc_conv_weights",
            HeapAsmResourceBlob::allocateAndCopyInferAlign(
                ArrayRef<float>(transposed))));
    Value col2d = tensor::CollapseShapeOp::create(
        b, loc, col, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3, 4}});
    Value acc = linalg::MatmulOp::create(b, loc, ValueRange{col2d, weights},
                                         ValueRange{transpose2d(b, loc, init2d)})
                    .getResult(0);
    product = transpose2d(b, loc, acc);
  } else {
    Value col2d = tensor::CollapseShapeOp::create(
        b, loc, col, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4}});
    Value filter2d = tensor::CollapseShapeOp::create(
        b, loc, filter, ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    product = linalg::MatmulOp::create(b, loc, ValueRange{filter2d, col2d},
                                       ValueRange{collapseInit()})
                  .getResult(0);
  }
  Value result = tensor::ExpandShapeOp::create(
      b, loc, init.getType(), product,
      ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
  conv.getResult(0).replaceAllUsesWith(result);
  conv.erase();
}

/// Static f32 operands, batch 1.
static bool staticBatch1F32(Operation *op) {
  for (Value v : op->getOperands())
    if (!isStaticF32(v))
      return false;
  return cast<RankedTensorType>(op->getOperand(0).getType()).getDimSize(0) ==
         1;
}

/// NHWC: patches [OH * OW, KH * KW * C] (channels innermost, so each patch
/// row is KH * KW contiguous channel runs) times the filter [KH * KW * C, F]
/// give the output [OH * OW, F], which already is NHWC: no transposes. A
/// 1x1 stride-1 convolution multiplies the activation itself.
static void rewrite(linalg::Conv2DNhwcHwcfOp conv) {
  if (!conv.hasPureTensorSemantics() || !staticBatch1F32(conv))
    return;
  Value input = conv.getInputs()[0], filter = conv.getInputs()[1];
  Value init = conv.getOutputs()[0];
  ArrayRef<int64_t> in = cast<RankedTensorType>(input.getType()).getShape();
  ArrayRef<int64_t> fl = cast<RankedTensorType>(filter.getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(init.getType()).getShape();
  SmallVector<int64_t> strides(conv.getStrides().getValues<int64_t>());
  SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());
  int64_t kh = fl[0], kw = fl[1], c = fl[2], f = fl[3], oh = out[1],
          ow = out[2];
  int64_t k = kh * kw * c;
  OpBuilder b(conv);
  Location loc = conv.getLoc();
  MLIRContext *ctx = b.getContext();
  Value col2d;
  if (kh == 1 && kw == 1 && strides[0] == 1 && strides[1] == 1 &&
      in[1] == oh && in[2] == ow) {
    col2d = tensor::CollapseShapeOp::create(
        b, loc, input, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
  } else {
    // col[oh, ow, kh, kw, c] = input[0, oh * sh + kh * dh, ow * sw + kw * dw, c]
    AffineExpr doh = getAffineDimExpr(0, ctx), dow = getAffineDimExpr(1, ctx),
               dkh = getAffineDimExpr(2, ctx), dkw = getAffineDimExpr(3, ctx),
               dc = getAffineDimExpr(4, ctx);
    AffineMap readMap = AffineMap::get(
        5, 0,
        {getAffineConstantExpr(0, ctx), doh * strides[0] + dkh * dilations[0],
         dow * strides[1] + dkw * dilations[1], dc},
        ctx);
    Value colInit = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{oh, ow, kh, kw, c}, b.getF32Type());
    SmallVector<utils::IteratorType> parallel(5, utils::IteratorType::parallel);
    Value col =
        linalg::GenericOp::create(
            b, loc, TypeRange{colInit.getType()}, ValueRange{input},
            ValueRange{colInit},
            ArrayRef<AffineMap>{readMap, b.getMultiDimIdentityMap(5)},
            parallel,
            [](OpBuilder &nb, Location nloc, ValueRange args) {
              linalg::YieldOp::create(nb, nloc, args[0]);
            })
            .getResult(0);
    col2d = tensor::CollapseShapeOp::create(
        b, loc, col, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3, 4}});
  }
  // [KH, KW, C, F] is [K, F] in memory already.
  Value weights;
  if (std::optional<std::vector<float>> values = constantFilter(filter)) {
    auto weightType = RankedTensorType::get({k, f}, b.getF32Type());
    weights = arith::ConstantOp::create(
        b, loc,
        DenseResourceElementsAttr::get(
            weightType, "qcc_conv_weights",
            HeapAsmResourceBlob::allocateAndCopyInferAlign(
                ArrayRef<float>(*values))));
  } else {
    weights = tensor::CollapseShapeOp::create(
        b, loc, filter, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
  }
  Value init2d = tensor::CollapseShapeOp::create(
      b, loc, init, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
  Value product = linalg::MatmulOp::create(b, loc, ValueRange{col2d, weights},
                                           ValueRange{init2d})
                      .getResult(0);
  Value result = tensor::ExpandShapeOp::create(
      b, loc, init.getType(), product,
      ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
  conv.getResult(0).replaceAllUsesWith(result);
  conv.erase();
}

/// An NHWC window op (depthwise convolution, pooling) as a generic over
/// (n, oh, ow, kh, kw, c): the channel loop innermost and parallel, so it
/// vectorises over contiguous channels. `filter` is the depthwise filter
/// [KH, KW, C] or the pool's [KH, KW] window shape; `combine(acc, x, w)`
/// folds one input element in (w: the filter element).
static void rewriteWindow(
    Operation *op, Value input, Value filter, Value init,
    DenseIntElementsAttr stridesAttr, DenseIntElementsAttr dilationsAttr,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)> combine) {
  SmallVector<int64_t> strides(stridesAttr.getValues<int64_t>());
  SmallVector<int64_t> dilations(dilationsAttr.getValues<int64_t>());
  OpBuilder b(op);
  Location loc = op->getLoc();
  MLIRContext *ctx = b.getContext();
  AffineExpr n = getAffineDimExpr(0, ctx), oh = getAffineDimExpr(1, ctx),
             ow = getAffineDimExpr(2, ctx), kh = getAffineDimExpr(3, ctx),
             kw = getAffineDimExpr(4, ctx), c = getAffineDimExpr(5, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(
      6, 0,
      {n, oh * strides[0] + kh * dilations[0],
       ow * strides[1] + kw * dilations[1], c},
      ctx)};
  SmallVector<Value> inputs = {input, filter};
  if (cast<RankedTensorType>(filter.getType()).getRank() == 3)
    maps.push_back(AffineMap::get(6, 0, {kh, kw, c}, ctx));
  else
    maps.push_back(AffineMap::get(6, 0, {kh, kw}, ctx));
  maps.push_back(AffineMap::get(6, 0, {n, oh, ow, c}, ctx));
  using utils::IteratorType;
  SmallVector<IteratorType> iterators = {
      IteratorType::parallel,  IteratorType::parallel,
      IteratorType::parallel,  IteratorType::reduction,
      IteratorType::reduction, IteratorType::parallel};
  Value result =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
          iterators,
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            linalg::YieldOp::create(
                nb, nloc, combine(nb, nloc, args[2], args[0], args[1]));
          })
          .getResult(0);
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
}

static void rewrite(linalg::DepthwiseConv2DNhwcHwcOp conv) {
  if (!conv.hasPureTensorSemantics() || !staticBatch1F32(conv))
    return;
  rewriteWindow(conv, conv.getInputs()[0], conv.getInputs()[1],
                conv.getOutputs()[0], conv.getStrides(), conv.getDilations(),
                [](OpBuilder &b, Location loc, Value acc, Value x, Value w) {
                  return (Value)arith::AddFOp::create(
                      b, loc, acc, arith::MulFOp::create(b, loc, x, w));
                });
}

template <typename PoolOp>
static void rewritePool(PoolOp pool, bool isMax) {
  if (!pool.hasPureTensorSemantics() || !staticBatch1F32(pool))
    return;
  rewriteWindow(
      pool, pool.getInputs()[0], pool.getInputs()[1], pool.getOutputs()[0],
      pool.getStrides(), pool.getDilations(),
      [isMax](OpBuilder &b, Location loc, Value acc, Value x, Value) {
        return isMax ? (Value)arith::MaximumFOp::create(b, loc, acc, x)
                     : (Value)arith::AddFOp::create(b, loc, acc, x);
      });
}

struct ConvToMatmulPass
    : public qcc::impl::ConvToMatmulBase<ConvToMatmulPass> {
  void runOnOperation() override {
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    getOperation().walk([&](linalg::Conv2DNchwFchwOp op) { convs.push_back(op); });
    for (linalg::Conv2DNchwFchwOp conv : convs)
      rewrite(conv);
    SmallVector<Operation *> nhwc;
    getOperation().walk([&](Operation *op) {
      if (isa<linalg::Conv2DNhwcHwcfOp, linalg::DepthwiseConv2DNhwcHwcOp,
              linalg::PoolingNhwcMaxOp, linalg::PoolingNhwcSumOp>(op))
        nhwc.push_back(op);
    });
    for (Operation *op : nhwc) {
      if (auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(op))
        rewrite(conv);
      else if (auto dw = dyn_cast<linalg::DepthwiseConv2DNhwcHwcOp>(op))
        rewrite(dw);
      else if (auto mx = dyn_cast<linalg::PoolingNhwcMaxOp>(op))
        rewritePool(mx, true);
      else
        rewritePool(cast<linalg::PoolingNhwcSumOp>(op), false);
    }
  }
};

} // namespace
