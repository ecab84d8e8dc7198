//===- FoldConvAffine.cpp - per-channel affine ops into conv weights ------===//
//
// Inference BatchNormalization after a convolution is y = conv(x) * a[c] +
// b[c] with constants a = gamma / sqrt(var + eps), b = beta - mean * a; so is
// a Mul / Add by per-channel constants and the conv's own bias add. This
// pass walks the element-wise generics that follow a convolution with a
// constant filter, proves each one affine in the conv's value with
// per-channel constant coefficients (evaluated in double), multiplies the
// filter's output-channel rows by the composed `a` at compile time and
// leaves one `+ b[c]` generic (none when b is 0).
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"
#include "qcc/Passes/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>

namespace qcc {
#define GEN_PASS_DEF_FOLDCONVAFFINE
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

/// A per-channel affine function of the conv's value: a[c] * x + b[c]
/// (`linear` false: the value does not depend on x, a is 0).
struct Affine {
  bool linear = false;
  std::vector<double> a, b;
};

/// The element of a constant input its indexing map reads for channel `c`
/// of an NCHW-like iteration space: every map result must be a constant or
/// the channel dimension d1.
static std::optional<std::vector<double>>
channelValues(Value input, AffineMap map, int64_t channels) {
  auto cst = input.getDefiningOp<arith::ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (!cst || !type || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return std::nullopt;
  std::optional<std::vector<float>> values =
      qcc::getFloatValues(cast<ElementsAttr>(cst.getValue()));
  if (!values)
    return std::nullopt;
  ArrayRef<int64_t> shape = type.getShape();
  std::vector<double> out(channels);
  for (int64_t c = 0; c < channels; ++c) {
    int64_t linear = 0;
    for (auto [d, expr] : llvm::enumerate(map.getResults())) {
      int64_t index;
      if (auto k = dyn_cast<AffineConstantExpr>(expr))
        index = k.getValue();
      else if (auto dim = dyn_cast<AffineDimExpr>(expr);
               dim && dim.getPosition() == 1)
        index = c;
      else
        return std::nullopt;
      if (index < 0 || index >= shape[d])
        return std::nullopt;
      linear = linear * shape[d] + index;
    }
    out[c] = (*values)[linear];
  }
  return out;
}

/// The body of `op` as a per-channel affine function of its input `xIndex`,
/// or nullopt when it is not one (or reads anything but constants).
static std::optional<Affine> analyzeBody(linalg::GenericOp op,
                                         unsigned xIndex, int64_t channels) {
  Block &body = op->getRegion(0).front();
  DenseMap<Value, Affine> vals;
  auto constant = [&](double v) {
    Affine r;
    r.a.assign(channels, 0.0);
    r.b.assign(channels, v);
    return r;
  };
  for (auto [i, operand] : llvm::enumerate(op.getDpsInputOperands())) {
    if (i == xIndex) {
      Affine x;
      x.linear = true;
      x.a.assign(channels, 1.0);
      x.b.assign(channels, 0.0);
      vals[body.getArgument(i)] = x;
      continue;
    }
    std::optional<std::vector<double>> v = channelValues(
        operand->get(), op.getMatchingIndexingMap(operand), channels);
    if (!v)
      return std::nullopt;
    Affine k = constant(0.0);
    k.b = *v;
    vals[body.getArgument(i)] = k;
  }
  auto lookup = [&](Value v) -> const Affine * {
    auto it = vals.find(v);
    if (it != vals.end())
      return &it->second;
    // A scalar f32 constant defined outside the body.
    auto cst = v.getDefiningOp<arith::ConstantOp>();
    auto attr = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
    if (!attr || !attr.getType().isF32())
      return nullptr;
    return &(vals[v] = constant(attr.getValueAsDouble()));
  };
  for (Operation &inner : body.without_terminator()) {
    if (inner.getNumResults() != 1 || !inner.getResult(0).getType().isF32())
      return std::nullopt;
    if (auto cst = dyn_cast<arith::ConstantOp>(inner)) {
      if (!lookup(cst.getResult()))
        return std::nullopt;
      continue;
    }
    SmallVector<const Affine *> in;
    for (Value operand : inner.getOperands()) {
      const Affine *v = lookup(operand);
      if (!v)
        return std::nullopt;
      in.push_back(v);
    }
    Affine r = constant(0.0);
    auto eachChannel = [&](auto f) {
      for (int64_t c = 0; c < channels; ++c)
        f(c);
    };
    if (isa<arith::AddFOp, arith::SubFOp>(inner)) {
      double sign = isa<arith::SubFOp>(inner) ? -1.0 : 1.0;
      r.linear = in[0]->linear || in[1]->linear;
      eachChannel([&](int64_t c) {
        r.a[c] = in[0]->a[c] + sign * in[1]->a[c];
        r.b[c] = in[0]->b[c] + sign * in[1]->b[c];
      });
    } else if (isa<arith::MulFOp>(inner)) {
      if (in[0]->linear && in[1]->linear)
        return std::nullopt;
      const Affine *x = in[0]->linear ? in[0] : in[1];
      const Affine *k = in[0]->linear ? in[1] : in[0];
      r.linear = x->linear;
      eachChannel([&](int64_t c) {
        r.a[c] = x->a[c] * k->b[c];
        r.b[c] = x->b[c] * k->b[c];
      });
    } else if (isa<arith::DivFOp>(inner)) {
      if (in[1]->linear)
        return std::nullopt;
      r.linear = in[0]->linear;
      eachChannel([&](int64_t c) {
        r.a[c] = in[0]->a[c] / in[1]->b[c];
        r.b[c] = in[0]->b[c] / in[1]->b[c];
      });
    } else if (isa<arith::NegFOp>(inner)) {
      r.linear = in[0]->linear;
      eachChannel([&](int64_t c) {
        r.a[c] = -in[0]->a[c];
        r.b[c] = -in[0]->b[c];
      });
    } else if (isa<math::RsqrtOp, math::SqrtOp>(inner)) {
      if (in[0]->linear)
        return std::nullopt;
      bool rsqrt = isa<math::RsqrtOp>(inner);
      eachChannel([&](int64_t c) {
        double s = std::sqrt(in[0]->b[c]);
        r.b[c] = rsqrt ? 1.0 / s : s;
      });
    } else {
      return std::nullopt;
    }
    vals[inner.getResult(0)] = r;
  }
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  const Affine *result = lookup(yield.getValues()[0]);
  if (!result || !result->linear)
    return std::nullopt;
  for (int64_t c = 0; c < channels; ++c)
    if (!std::isfinite(result->a[c]) || !std::isfinite(result->b[c]))
      return std::nullopt;
  return *result;
}

/// `user` when it is an all-parallel element-wise generic over `value`'s
/// shape that reads `value` once through the identity map and does not read
/// its init; the index of that input in `xIndex`.
static linalg::GenericOp elementwiseUser(Value value, unsigned &xIndex) {
  if (!value.hasOneUse())
    return nullptr;
  auto op = dyn_cast<linalg::GenericOp>(*value.getUsers().begin());
  if (!op || !op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || op->getResult(0).getType() != value.getType() ||
      op.getNumParallelLoops() != op.getNumLoops())
    return nullptr;
  Block &body = op->getRegion(0).front();
  if (!body.getArguments().back().use_empty())
    return nullptr;
  bool found = false;
  for (auto [i, operand] : llvm::enumerate(op.getDpsInputOperands())) {
    if (operand->get() != value)
      continue;
    if (found || !op.getMatchingIndexingMap(operand).isIdentity())
      return nullptr;
    found = true;
    xIndex = i;
  }
  return found ? op : nullptr;
}

static bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto attr = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return attr && attr.getValue().isZero();
}

/// An f32 constant of `type` holding `values`, in a resource blob `name`.
static Value f32Constant(OpBuilder &b, Location loc, RankedTensorType type,
                         StringRef name, ArrayRef<float> values) {
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(values);
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

/// Folds the affine generics after `conv` (an NCHW conv with its output
/// channel in dimension 1 of the result and dimension 0 of the filter).
static void foldAfter(linalg::LinalgOp conv) {
  if (!conv.hasPureTensorSemantics() || conv->getNumResults() != 1 ||
      !isZeroFill(conv.getDpsInits()[0]))
    return;
  Value result = conv->getResult(0);
  auto type = dyn_cast<RankedTensorType>(result.getType());
  Value filter = conv.getDpsInputs()[1];
  auto filterType = dyn_cast<RankedTensorType>(filter.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32() ||
      type.getRank() != 4 || !filterType || !filterType.hasStaticShape())
    return;
  int64_t channels = type.getDimSize(1);
  if (filterType.getDimSize(0) != channels)
    return;
  auto filterCst = filter.getDefiningOp<arith::ConstantOp>();
  if (!filterCst)
    return;
  std::optional<std::vector<float>> weights =
      qcc::getFloatValues(cast<ElementsAttr>(filterCst.getValue()));
  if (!weights)
    return;

  // Compose the chain: after step i the value is a * conv + b.
  std::vector<double> a(channels, 1.0), b(channels, 0.0);
  SmallVector<linalg::GenericOp> chain;
  Value value = result;
  unsigned xIndex = 0;
  while (linalg::GenericOp op = elementwiseUser(value, xIndex)) {
    std::optional<Affine> f = analyzeBody(op, xIndex, channels);
    if (!f)
      break;
    for (int64_t c = 0; c < channels; ++c) {
      b[c] = f->a[c] * b[c] + f->b[c];
      a[c] = f->a[c] * a[c];
    }
    chain.push_back(op);
    value = op->getResult(0);
  }
  if (chain.empty())
    return;
  bool scaled = llvm::any_of(a, [](double v) { return v != 1.0; });
  if (!scaled && chain.size() == 1)
    return; // Only a bias add: nothing to fold.
  for (int64_t c = 0; c < channels; ++c)
    if (!std::isfinite(a[c]) || !std::isfinite(b[c]) ||
        !std::isfinite(static_cast<float>(a[c])) ||
        !std::isfinite(static_cast<float>(b[c])))
      return;

  OpBuilder builder(conv);
  Location loc = conv.getLoc();
  if (scaled) {
    size_t row = weights->size() / channels;
    std::vector<float> w(weights->size());
    for (int64_t c = 0; c < channels; ++c)
      for (size_t i = 0; i < row; ++i)
        w[c * row + i] =
            static_cast<float>(static_cast<double>((*weights)[c * row + i]) *
                               a[c]);
    conv->setOperand(1, f32Constant(builder, loc, filterType,
                                    "qcc_folded_filter", w));
  }

  Value replacement = result;
  if (llvm::any_of(b, [](double v) { return v != 0.0; })) {
    linalg::GenericOp last = chain.back();
    builder.setInsertionPoint(last);
    std::vector<float> bias(b.begin(), b.end());
    Value biasCst = f32Constant(
        builder, loc, RankedTensorType::get({channels}, builder.getF32Type()),
        "qcc_folded_bias", bias);
    MLIRContext *ctx = builder.getContext();
    AffineMap id = builder.getMultiDimIdentityMap(4);
    AffineMap ch = AffineMap::get(4, 0, {getAffineDimExpr(1, ctx)}, ctx);
    Value init = tensor::EmptyOp::create(builder, last.getLoc(),
                                         type.getShape(), type.getElementType());
    replacement =
        linalg::GenericOp::create(
            builder, last.getLoc(), TypeRange{type}, ValueRange{result, biasCst},
            ValueRange{init}, ArrayRef<AffineMap>{id, ch, id},
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::AddFOp::create(b, l, args[0], args[1])
                                       .getResult()});
            })
            .getResult(0);
  }
  chain.back()->getResult(0).replaceAllUsesWith(replacement);
  for (linalg::GenericOp op : llvm::reverse(chain))
    op->erase();
}

struct FoldConvAffinePass
    : qcc::impl::FoldConvAffineBase<FoldConvAffinePass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> convs;
    getOperation().walk([&](Operation *op) {
      if (isa<linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNchwChwOp>(op))
        convs.push_back(cast<linalg::LinalgOp>(op));
    });
    for (linalg::LinalgOp conv : convs)
      foldAfter(conv);
  }
};

} // namespace
