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

struct ConvToMatmulPass
    : public qcc::impl::ConvToMatmulBase<ConvToMatmulPass> {
  void runOnOperation() override {
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    getOperation().walk([&](linalg::Conv2DNchwFchwOp op) { convs.push_back(op); });
    for (linalg::Conv2DNchwFchwOp conv : convs)
      rewrite(conv);
  }
};

} // namespace
