//===- ConvToMatmul.cpp - convolutions as im2col + matmul -----------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"

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

  OpBuilder b(conv);
  Location loc = conv.getLoc();
  MLIRContext *ctx = b.getContext();
  // col[c, kh, kw, oh, ow] = input[0, c, oh * sh + kh * dh, ow * sw + kw * dw]
  AffineExpr dc = getAffineDimExpr(0, ctx), dkh = getAffineDimExpr(1, ctx),
             dkw = getAffineDimExpr(2, ctx), doh = getAffineDimExpr(3, ctx),
             dow = getAffineDimExpr(4, ctx);
  AffineMap readMap = AffineMap::get(
      5, 0,
      {getAffineConstantExpr(0, ctx), dc,
       doh * strides[0] + dkh * dilations[0],
       dow * strides[1] + dkw * dilations[1]},
      ctx);
  AffineMap writeMap = b.getMultiDimIdentityMap(5);
  Value colInit =
      tensor::EmptyOp::create(b, loc, {c, kh, kw, oh, ow}, b.getF32Type());
  SmallVector<utils::IteratorType> parallel(5, utils::IteratorType::parallel);
  Value col = linalg::GenericOp::create(
                  b, loc, TypeRange{colInit.getType()}, ValueRange{input},
                  ValueRange{colInit}, ArrayRef<AffineMap>{readMap, writeMap},
                  parallel,
                  [](OpBuilder &nb, Location nloc, ValueRange args) {
                    linalg::YieldOp::create(nb, nloc, args[0]);
                  })
                  .getResult(0);
  Value col2d = tensor::CollapseShapeOp::create(
      b, loc, col, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4}});
  Value filter2d = tensor::CollapseShapeOp::create(
      b, loc, filter, ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  Value init2d = tensor::CollapseShapeOp::create(
      b, loc, init, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
  Value product =
      linalg::MatmulOp::create(b, loc, ValueRange{filter2d, col2d},
                               ValueRange{init2d})
          .getResult(0);
  Value result = tensor::ExpandShapeOp::create(
      b, loc, init.getType(), product,
      ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
  (void)f;
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
