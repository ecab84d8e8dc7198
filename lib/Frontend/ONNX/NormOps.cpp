//===- NormOps.cpp - softmax, normalizations, reductions ------------------===//
//
// Reductions are linalg.generic ops with reduction iterators into a
// linalg.fill-ed init; the reduced value is read back by the following
// elementwise generic through a map that drops the reduced dims (no
// materialized broadcast).
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

Value addF(OpBuilder &b, Location l, Value x, Value y) {
  return arith::AddFOp::create(b, l, x, y);
}

Value maxF(OpBuilder &b, Location l, Value x, Value y) {
  return arith::MaximumFOp::create(b, l, x, y);
}

std::vector<int64_t> keepDimsShape(ArrayRef<int64_t> shape,
                                   ArrayRef<int64_t> axes) {
  std::vector<int64_t> r(shape.begin(), shape.end());
  for (int64_t a : axes)
    r[a] = 1;
  return r;
}

std::vector<int64_t> dropShape(ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> axes) {
  std::vector<int64_t> r;
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d)
    if (!llvm::is_contained(axes, d))
      r.push_back(shape[d]);
  return r;
}

/// Softmax / LogSoftmax over `axes` of x.
Value softmax(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
              bool log) {
  auto xt = cast<RankedTensorType>(x.getType());
  Type et = xt.getElementType();
  int64_t r = xt.getRank();
  MLIRContext *ctx = b.getContext();
  AffineMap id = b.getMultiDimIdentityMap(r);
  AffineMap drop = dropDimsMap(ctx, r, axes);
  Value ninf = arith::ConstantOp::create(
      b, loc,
      b.getFloatAttr(
          et, APFloat::getInf(cast<FloatType>(et).getFloatSemantics(), true)));
  Value mx = buildReduce(b, loc, x, axes, ninf, maxF);
  Value e = buildGeneric(b, loc, ValueRange{x, mx}, {id, drop}, xt.getShape(),
                         et, [](OpBuilder &b, Location l, ValueRange a) {
                           return (Value)math::ExpOp::create(
                               b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                         });
  Value s = buildReduce(b, loc, e, axes, scalarConst(b, loc, et, 0.0), addF);
  if (!log)
    return buildGeneric(b, loc, ValueRange{e, s}, {id, drop}, xt.getShape(), et,
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return (Value)arith::DivFOp::create(b, l, a[0], a[1]);
                        });
  return buildGeneric(b, loc, ValueRange{x, mx, s}, {id, drop, drop},
                      xt.getShape(), et,
                      [](OpBuilder &b, Location l, ValueRange a) {
                        Value d = arith::SubFOp::create(b, l, a[0], a[1]);
                        return (Value)arith::SubFOp::create(
                            b, l, d, math::LogOp::create(b, l, a[2]));
                      });
}

LogicalResult handleSoftmax(NodeContext &c, bool log) {
  if (!isFloatDType(c.dtype(0)))
    return c.fail("expects a floating-point input");
  int64_t r = c.rank(0);
  if (r == 0)
    return c.fail("expects rank >= 1");
  int64_t def = c.opset >= 13 ? -1 : 1;
  auto axis = c.normAxis(c.attrInt("axis", def), r);
  if (failed(axis))
    return failure();
  std::vector<int64_t> axes;
  if (c.opset >= 13)
    axes.push_back(*axis);
  else
    for (int64_t d = *axis; d < r; ++d)
      axes.push_back(d);
  c.setOutput(0, softmax(c.b, c.loc, c.value(0), axes, log), c.dtype(0));
  return success();
}

LogicalResult handleHardmax(NodeContext &c) {
  int64_t r = c.rank(0);
  if (!isFloatDType(c.dtype(0)) || r == 0)
    return c.fail("expects a floating-point input of rank >= 1");
  int64_t def = c.opset >= 13 ? -1 : 1;
  auto axis = c.normAxis(c.attrInt("axis", def), r);
  if (failed(axis))
    return failure();
  std::vector<int64_t> axes;
  if (c.opset >= 13)
    axes.push_back(*axis);
  else
    for (int64_t d = *axis; d < r; ++d)
      axes.push_back(d);
  // Row-major linear index within the reduced axes; the first maximum wins.
  const auto &s = c.shape(0);
  Type et = c.elemType(c.dtype(0));
  Type i64 = c.b.getI64Type();
  auto linear = [&](OpBuilder &b, Location l) {
    Value li = intConst(b, l, i64, 0);
    for (int64_t a : axes) {
      li = arith::MulIOp::create(b, l, li, intConst(b, l, i64, s[a]));
      Value ia = arith::IndexCastOp::create(b, l, i64,
                                            linalg::IndexOp::create(b, l, a));
      li = arith::AddIOp::create(b, l, li, ia);
    }
    return li;
  };
  std::vector<int64_t> red = dropShape(s, axes);
  Value vInit =
      filledTensor(c.b, c.loc, red, lowestValue(c.b, c.loc, c.dtype(0)));
  Value iInit = filledTensor(c.b, c.loc, red, intConst(c.b, c.loc, i64, 0));
  AffineMap drop = dropDimsMap(c.ctx(), r, axes);
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < r; ++d)
    iters.push_back(llvm::is_contained(axes, d)
                        ? utils::IteratorType::reduction
                        : utils::IteratorType::parallel);
  auto arg = linalg::GenericOp::create(
      c.b, c.loc, TypeRange{vInit.getType(), iInit.getType()},
      ValueRange{c.value(0)}, ValueRange{vInit, iInit},
      ArrayRef<AffineMap>{c.b.getMultiDimIdentityMap(r), drop, drop}, iters,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value gt =
            arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a[0], a[1]);
        Value nv = arith::SelectOp::create(b, l, gt, a[0], a[1]);
        Value ni = arith::SelectOp::create(b, l, gt, linear(b, l), a[2]);
        linalg::YieldOp::create(b, l, ValueRange{nv, ni});
      });
  Value best = arg.getResult(1);
  Value y = buildGeneric(
      c.b, c.loc, ValueRange{best}, {drop}, s, et,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value eq = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a[0],
                                         linear(b, l));
        return (Value)arith::SelectOp::create(
            b, l, eq, scalarConst(b, l, et, 1.0), scalarConst(b, l, et, 0.0));
      });
  c.setOutput(0, y, c.dtype(0));
  return success();
}

LogicalResult handleLayerNorm(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt))
    return c.fail("expects a floating-point input");
  int64_t r = c.rank(0);
  auto axis = c.normAxis(c.attrInt("axis", -1), r);
  if (failed(axis))
    return failure();
  double eps = c.attrFloat("epsilon", 1e-5f);
  int64_t stash = c.attrInt("stash_type", 1);
  int32_t cdt = (stash == 1 && dt != kDouble) ? kFloat : dt;
  std::vector<int64_t> axes;
  for (int64_t d = *axis; d < r; ++d)
    axes.push_back(d);
  const auto &s = c.shape(0);
  int64_t n = 1;
  for (int64_t a : axes)
    n *= s[a];
  for (size_t i = 1; i <= 2; ++i)
    if (c.hasInput(i) && !broadcastShapes(c.shape(i), s))
      return c.fail("scale/bias do not broadcast to the input");
  Type ct = c.elemType(cdt);
  Value x = castTensor(c.b, c.loc, c.value(0), dt, cdt);
  MLIRContext *ctx = c.ctx();
  AffineMap id = c.b.getMultiDimIdentityMap(r);
  AffineMap drop = dropDimsMap(ctx, r, axes);
  Value zero = scalarConst(c.b, c.loc, ct, 0.0);
  Value sum = buildReduce(c.b, c.loc, x, axes, zero, addF);
  std::vector<int64_t> red = dropShape(s, axes);
  Value mean = buildGeneric(c.b, c.loc, ValueRange{sum},
                            {c.b.getMultiDimIdentityMap(red.size())}, red, ct,
                            [&](OpBuilder &b, Location l, ValueRange a) {
                              return (Value)arith::DivFOp::create(
                                  b, l, a[0], scalarConst(b, l, ct, n));
                            });
  Value sq = buildGeneric(c.b, c.loc, ValueRange{x, mean}, {id, drop}, s, ct,
                          [](OpBuilder &b, Location l, ValueRange a) {
                            Value d = arith::SubFOp::create(b, l, a[0], a[1]);
                            return (Value)arith::MulFOp::create(b, l, d, d);
                          });
  Value ssum = buildReduce(c.b, c.loc, sq, axes, zero, addF);
  Value inv = buildGeneric(
      c.b, c.loc, ValueRange{ssum}, {c.b.getMultiDimIdentityMap(red.size())},
      red, ct, [&](OpBuilder &b, Location l, ValueRange a) {
        Value v = arith::DivFOp::create(b, l, a[0], scalarConst(b, l, ct, n));
        v = arith::AddFOp::create(b, l, v, scalarConst(b, l, ct, eps));
        return (Value)math::RsqrtOp::create(b, l, v);
      });
  SmallVector<Value> ins = {x, mean, inv};
  SmallVector<AffineMap> maps = {id, drop, drop};
  bool hasScale = c.hasInput(1), hasBias = c.hasInput(2);
  for (size_t i = 1; i <= 2; ++i) {
    if (!c.hasInput(i))
      continue;
    ins.push_back(castTensor(c.b, c.loc, c.value(i), c.dtype(i), cdt));
    maps.push_back(broadcastMap(ctx, c.shape(i), s));
  }
  Value y = buildGeneric(c.b, c.loc, ins, maps, s, c.elemType(dt),
                         [&](OpBuilder &b, Location l, ValueRange a) {
                           Value v = arith::SubFOp::create(b, l, a[0], a[1]);
                           v = arith::MulFOp::create(b, l, v, a[2]);
                           size_t k = 3;
                           if (hasScale)
                             v = arith::MulFOp::create(b, l, v, a[k++]);
                           if (hasBias)
                             v = arith::AddFOp::create(b, l, v, a[k++]);
                           return castScalar(b, l, v, cdt, dt);
                         });
  c.setOutput(0, y, dt);
  std::vector<int64_t> kd = keepDimsShape(s, axes);
  if (c.hasOutput(1))
    c.setOutput(1, reshapeTo(c.b, c.loc, mean, kd), cdt);
  if (c.hasOutput(2))
    c.setOutput(2, reshapeTo(c.b, c.loc, inv, kd), cdt);
  return success();
}

LogicalResult handleRMSNorm(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt))
    return c.fail("expects a floating-point input");
  int64_t r = c.rank(0);
  auto axis = c.normAxis(c.attrInt("axis", -1), r);
  if (failed(axis))
    return failure();
  double eps = c.attrFloat("epsilon", 1e-5f);
  int32_t cdt =
      (c.attrInt("stash_type", 1) == 1 && dt != kDouble) ? kFloat : dt;
  const auto &s = c.shape(0);
  if (!c.hasInput(1) || !broadcastShapes(c.shape(1), s))
    return c.fail("scale does not broadcast to the input");
  std::vector<int64_t> axes;
  int64_t n = 1;
  for (int64_t d = *axis; d < r; ++d) {
    axes.push_back(d);
    n *= s[d];
  }
  Type ct = c.elemType(cdt);
  Value x = castTensor(c.b, c.loc, c.value(0), dt, cdt);
  Value ssum =
      buildReduce(c.b, c.loc, x, axes, scalarConst(c.b, c.loc, ct, 0.0),
                  [](OpBuilder &b, Location l, Value acc, Value v) {
                    return (Value)arith::AddFOp::create(
                        b, l, acc, arith::MulFOp::create(b, l, v, v));
                  });
  std::vector<int64_t> red = dropShape(s, axes);
  Value inv = buildGeneric(
      c.b, c.loc, ValueRange{ssum}, {c.b.getMultiDimIdentityMap(red.size())},
      red, ct, [&](OpBuilder &b, Location l, ValueRange a) {
        Value v = arith::DivFOp::create(b, l, a[0], scalarConst(b, l, ct, n));
        v = arith::AddFOp::create(b, l, v, scalarConst(b, l, ct, eps));
        return (Value)math::RsqrtOp::create(b, l, v);
      });
  Value scale = castTensor(c.b, c.loc, c.value(1), c.dtype(1), cdt);
  Value y = buildGeneric(
      c.b, c.loc, ValueRange{x, inv, scale},
      {c.b.getMultiDimIdentityMap(r), dropDimsMap(c.ctx(), r, axes),
       broadcastMap(c.ctx(), c.shape(1), s)},
      s, c.elemType(dt), [&](OpBuilder &b, Location l, ValueRange a) {
        Value v = arith::MulFOp::create(b, l, a[0], a[1]);
        v = arith::MulFOp::create(b, l, v, a[2]);
        return castScalar(b, l, v, cdt, dt);
      });
  c.setOutput(0, y, dt);
  return success();
}

/// y = (x - mean) / sqrt(var + eps) * scale + bias with per-channel (dim 1)
/// parameters.
Value channelNorm(OpBuilder &b, Location loc, Value x, Value scale, Value bias,
                  Value mean, Value var, double eps, bool varIsInvStd) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t r = xt.getRank();
  MLIRContext *ctx = b.getContext();
  AffineMap id = b.getMultiDimIdentityMap(r);
  AffineMap ch = AffineMap::get(r, 0, {getAffineDimExpr(1, ctx)}, ctx);
  auto statMap = [&](Value v) {
    return cast<RankedTensorType>(v.getType()).getRank() == 1
               ? ch
               : AffineMap::get(
                     r, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)},
                     ctx);
  };
  Type et = xt.getElementType();
  return buildGeneric(
      b, loc, ValueRange{x, scale, bias, mean, var},
      {id, ch, ch, statMap(mean), statMap(var)}, xt.getShape(), et,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value d = arith::SubFOp::create(b, l, a[0], a[3]);
        Value inv = a[4];
        if (!varIsInvStd)
          inv = math::RsqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, a[4], scalarConst(b, l, et, eps)));
        Value v = arith::MulFOp::create(b, l, d, inv);
        v = arith::MulFOp::create(b, l, v, a[1]);
        return (Value)arith::AddFOp::create(b, l, v, a[2]);
      });
}

LogicalResult handleBatchNorm(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt))
    return c.fail("expects a floating-point input");
  if (c.rank(0) < 2)
    return c.fail("expects rank >= 2");
  if (c.attrInt("training_mode", 0))
    return c.unsupportedAttr("training_mode=1");
  if (c.opset < 9 && c.hasAttr("spatial") && c.attrInt("spatial", 1) == 0)
    return c.unsupportedAttr("spatial=0");
  if (c.opset < 7 && c.attrInt("is_test", 0) == 0)
    return c.unsupportedAttr("is_test=0");
  int64_t ch = c.shape(0)[1];
  for (size_t i = 1; i <= 4; ++i) {
    if (!c.hasInput(i))
      return c.fail("missing input " + Twine(i));
    if (c.shape(i) != std::vector<int64_t>{ch})
      return c.fail("parameter " + Twine(i) + " must have shape [C]");
  }
  double eps = c.attrFloat("epsilon", 1e-5f);
  auto cv = [&](size_t i) {
    return castTensor(c.b, c.loc, c.value(i), c.dtype(i), dt);
  };
  Value y = channelNorm(c.b, c.loc, c.value(0), cv(1), cv(2), cv(3), cv(4), eps,
                        false);
  c.setOutput(0, y, dt);
  return success();
}

LogicalResult handleInstanceNorm(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt))
    return c.fail("expects a floating-point input");
  int64_t r = c.rank(0);
  if (r < 3)
    return c.fail("expects rank >= 3");
  const auto &s = c.shape(0);
  if (c.shape(1) != std::vector<int64_t>{s[1]} ||
      c.shape(2) != std::vector<int64_t>{s[1]})
    return c.fail("scale and bias must have shape [C]");
  double eps = c.attrFloat("epsilon", 1e-5f);
  std::vector<int64_t> axes;
  int64_t n = 1;
  for (int64_t d = 2; d < r; ++d) {
    axes.push_back(d);
    n *= s[d];
  }
  Type et = c.elemType(dt);
  Value x = c.value(0);
  Value zero = scalarConst(c.b, c.loc, et, 0.0);
  AffineMap id = c.b.getMultiDimIdentityMap(r);
  AffineMap drop = dropDimsMap(c.ctx(), r, axes);
  AffineMap id2 = c.b.getMultiDimIdentityMap(2);
  std::vector<int64_t> red = {s[0], s[1]};
  Value mean = buildGeneric(
      c.b, c.loc, ValueRange{buildReduce(c.b, c.loc, x, axes, zero, addF)},
      {id2}, red, et, [&](OpBuilder &b, Location l, ValueRange a) {
        return (Value)arith::DivFOp::create(b, l, a[0],
                                            scalarConst(b, l, et, n));
      });
  Value sq = buildGeneric(c.b, c.loc, ValueRange{x, mean}, {id, drop}, s, et,
                          [](OpBuilder &b, Location l, ValueRange a) {
                            Value d = arith::SubFOp::create(b, l, a[0], a[1]);
                            return (Value)arith::MulFOp::create(b, l, d, d);
                          });
  Value var = buildGeneric(
      c.b, c.loc, ValueRange{buildReduce(c.b, c.loc, sq, axes, zero, addF)},
      {id2}, red, et, [&](OpBuilder &b, Location l, ValueRange a) {
        return (Value)arith::DivFOp::create(b, l, a[0],
                                            scalarConst(b, l, et, n));
      });
  Value y =
      channelNorm(c.b, c.loc, x, c.value(1), c.value(2), mean, var, eps, false);
  c.setOutput(0, y, dt);
  return success();
}

enum class Red {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  SumSquare,
  LogSum,
  LogSumExp
};

LogicalResult handleReduce(NodeContext &c, Red k) {
  int32_t dt = c.dtype(0);
  bool f = isFloatDType(dt), u = isUnsignedDType(dt);
  bool floatOnly = k == Red::L2 || k == Red::LogSum || k == Red::LogSumExp;
  if (floatOnly && !f)
    return c.fail("expects a floating-point input");
  if (dt == kBool && k != Red::Max && k != Red::Min)
    return c.fail("bool input is not supported");
  int64_t r = c.rank(0);
  std::vector<int64_t> axes;
  int64_t axesSince = k == Red::Sum ? 13 : 18;
  if (c.opset < axesSince) {
    axes = c.attrInts("axes");
  } else if (c.hasInput(1)) {
    auto a = c.constInts(1, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  }
  bool keep = c.attrInt("keepdims", 1);
  bool noop = c.attrInt("noop_with_empty_axes", 0);
  if (axes.empty() && !noop)
    for (int64_t d = 0; d < r; ++d)
      axes.push_back(d);
  for (int64_t &a : axes) {
    auto n = c.normAxis(a, r);
    if (failed(n))
      return failure();
    a = *n;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  const auto &s = c.shape(0);
  int64_t count = 1;
  for (int64_t a : axes)
    count *= s[a];
  Type et = c.elemType(dt);
  Value x = c.value(0);
  OpBuilder &b = c.b;
  Location loc = c.loc;
  std::vector<int64_t> red = dropShape(s, axes);
  AffineMap idr = b.getMultiDimIdentityMap(red.size());
  auto post = [&](Value v,
                  std::function<Value(OpBuilder &, Location, Value)> fn) {
    return buildGeneric(
        b, loc, ValueRange{v}, {idr}, red, et,
        [&](OpBuilder &b, Location l, ValueRange a) { return fn(b, l, a[0]); });
  };
  auto add = [&](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return f ? (Value)arith::AddFOp::create(b, l, x, y)
             : (Value)arith::AddIOp::create(b, l, x, y);
  };
  auto mul = [&](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return f ? (Value)arith::MulFOp::create(b, l, x, y)
             : (Value)arith::MulIOp::create(b, l, x, y);
  };
  Value zero = scalarConst(b, loc, et, 0.0);
  Value res;
  switch (k) {
  case Red::Sum:
  case Red::Mean:
    res = buildReduce(b, loc, x, axes, zero, add);
    if (k == Red::Mean)
      res = post(res, [&](OpBuilder &b, Location l, Value v) -> Value {
        Value n = scalarConst(b, l, et, count);
        if (f)
          return arith::DivFOp::create(b, l, v, n);
        return u ? (Value)arith::DivUIOp::create(b, l, v, n)
                 : (Value)arith::DivSIOp::create(b, l, v, n);
      });
    break;
  case Red::Prod:
    res = buildReduce(b, loc, x, axes, scalarConst(b, loc, et, 1.0), mul);
    break;
  case Red::Max:
  case Red::Min: {
    bool isMax = k == Red::Max;
    Value init = isMax ? lowestValue(b, loc, dt) : highestValue(b, loc, dt);
    res = buildReduce(
        b, loc, x, axes, init,
        [&](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          if (f)
            return isMax ? (Value)arith::MaximumFOp::create(b, l, acc, v)
                         : (Value)arith::MinimumFOp::create(b, l, acc, v);
          if (u)
            return isMax ? (Value)arith::MaxUIOp::create(b, l, acc, v)
                         : (Value)arith::MinUIOp::create(b, l, acc, v);
          return isMax ? (Value)arith::MaxSIOp::create(b, l, acc, v)
                       : (Value)arith::MinSIOp::create(b, l, acc, v);
        });
    break;
  }
  case Red::L1:
    res = buildReduce(b, loc, x, axes, zero,
                      [&](OpBuilder &b, Location l, Value acc, Value v) {
                        Value a = f   ? (Value)math::AbsFOp::create(b, l, v)
                                  : u ? v
                                      : (Value)math::AbsIOp::create(b, l, v);
                        return add(b, l, acc, a);
                      });
    break;
  case Red::L2:
  case Red::SumSquare:
    res = buildReduce(b, loc, x, axes, zero,
                      [&](OpBuilder &b, Location l, Value acc, Value v) {
                        return add(b, l, acc, mul(b, l, v, v));
                      });
    if (k == Red::L2)
      res = post(res, [](OpBuilder &b, Location l, Value v) {
        return (Value)math::SqrtOp::create(b, l, v);
      });
    break;
  case Red::LogSum:
    res = buildReduce(b, loc, x, axes, zero, add);
    res = post(res, [](OpBuilder &b, Location l, Value v) {
      return (Value)math::LogOp::create(b, l, v);
    });
    break;
  case Red::LogSumExp: {
    // log(sum(exp(x - m))) + m with m the finite max, as the reference.
    Value mx = buildReduce(
        b, loc, x, axes, lowestValue(b, loc, dt),
        [](OpBuilder &b, Location l, Value acc, Value v) -> Value {
          Value isInf = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OEQ, math::AbsFOp::create(b, l, v),
              scalarConst(b, l, v.getType(), INFINITY));
          Value ninf = arith::ConstantOp::create(
              b, l,
              b.getFloatAttr(
                  v.getType(),
                  APFloat::getInf(
                      cast<FloatType>(v.getType()).getFloatSemantics(), true)));
          return arith::MaximumFOp::create(
              b, l, acc, arith::SelectOp::create(b, l, isInf, ninf, v));
        });
    // An all -inf slice has max -inf; use 0 so exp(x - m) stays defined.
    mx = post(mx, [](OpBuilder &b, Location l, Value v) -> Value {
      Value isInf = arith::CmpFOp::create(
          b, l, arith::CmpFPredicate::OEQ, math::AbsFOp::create(b, l, v),
          scalarConst(b, l, v.getType(), INFINITY));
      return arith::SelectOp::create(b, l, isInf,
                                     scalarConst(b, l, v.getType(), 0.0), v);
    });
    AffineMap drop = dropDimsMap(c.ctx(), r, axes);
    Value e = buildGeneric(b, loc, ValueRange{x, mx},
                           {b.getMultiDimIdentityMap(r), drop}, s, et,
                           [](OpBuilder &b, Location l, ValueRange a) {
                             return (Value)math::ExpOp::create(
                                 b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                           });
    Value sum = buildReduce(b, loc, e, axes, zero, add);
    res = buildGeneric(b, loc, ValueRange{sum, mx}, {idr, idr}, red, et,
                       [](OpBuilder &b, Location l, ValueRange a) {
                         return (Value)arith::AddFOp::create(
                             b, l, math::LogOp::create(b, l, a[0]), a[1]);
                       });
    break;
  }
  }
  if (keep)
    res = reshapeTo(b, loc, res, keepDimsShape(s, axes));
  c.setOutput(0, res, dt);
  return success();
}

LogicalResult handleArgMinMax(NodeContext &c, bool isMax) {
  int32_t dt = c.dtype(0);
  if (dt == kBool)
    return c.fail("bool input is not supported");
  int64_t r = c.rank(0);
  auto axis = c.normAxis(c.attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  bool keep = c.attrInt("keepdims", 1);
  bool last = c.attrInt("select_last_index", 0);
  const auto &s = c.shape(0);
  std::vector<int64_t> axes = {*axis};
  std::vector<int64_t> red = dropShape(s, axes);
  Type i64 = c.b.getI64Type();
  Value vInit = filledTensor(c.b, c.loc, red,
                             isMax ? lowestValue(c.b, c.loc, dt)
                                   : highestValue(c.b, c.loc, dt));
  Value iInit = filledTensor(c.b, c.loc, red, intConst(c.b, c.loc, i64, -1));
  AffineMap drop = dropDimsMap(c.ctx(), r, axes);
  SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
  iters[*axis] = utils::IteratorType::reduction;
  bool f = isFloatDType(dt), u = isUnsignedDType(dt);
  int64_t ax = *axis;
  auto op = linalg::GenericOp::create(
      c.b, c.loc, TypeRange{vInit.getType(), iInit.getType()},
      ValueRange{c.value(0)}, ValueRange{vInit, iInit},
      ArrayRef<AffineMap>{c.b.getMultiDimIdentityMap(r), drop, drop}, iters,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value better;
        if (f) {
          auto p = isMax ? (last ? arith::CmpFPredicate::OGE
                                 : arith::CmpFPredicate::OGT)
                         : (last ? arith::CmpFPredicate::OLE
                                 : arith::CmpFPredicate::OLT);
          better = arith::CmpFOp::create(b, l, p, a[0], a[1]);
        } else {
          arith::CmpIPredicate p;
          if (isMax)
            p = last ? (u ? arith::CmpIPredicate::uge
                          : arith::CmpIPredicate::sge)
                     : (u ? arith::CmpIPredicate::ugt
                          : arith::CmpIPredicate::sgt);
          else
            p = last ? (u ? arith::CmpIPredicate::ule
                          : arith::CmpIPredicate::sle)
                     : (u ? arith::CmpIPredicate::ult
                          : arith::CmpIPredicate::slt);
          better = arith::CmpIOp::create(b, l, p, a[0], a[1]);
        }
        // The first element always wins (covers all -inf / NaN-free ties).
        Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                            a[2], intConst(b, l, i64, 0));
        better = arith::OrIOp::create(b, l, better, first);
        Value i = arith::IndexCastOp::create(b, l, i64,
                                             linalg::IndexOp::create(b, l, ax));
        Value nv = arith::SelectOp::create(b, l, better, a[0], a[1]);
        Value ni = arith::SelectOp::create(b, l, better, i, a[2]);
        linalg::YieldOp::create(b, l, ValueRange{nv, ni});
      });
  Value res = op.getResult(1);
  if (keep)
    res = reshapeTo(c.b, c.loc, res, keepDimsShape(s, axes));
  c.setOutput(0, res, kInt64);
  return success();
}

} // namespace

void registerNormOps(OpTable &t) {
  t["Softmax"] = [](NodeContext &c) { return handleSoftmax(c, false); };
  t["LogSoftmax"] = [](NodeContext &c) { return handleSoftmax(c, true); };
  t["Hardmax"] = handleHardmax;
  t["LayerNormalization"] = handleLayerNorm;
  t["RMSNormalization"] = handleRMSNorm;
  t["BatchNormalization"] = handleBatchNorm;
  t["InstanceNormalization"] = handleInstanceNorm;
  t["ReduceSum"] = [](NodeContext &c) { return handleReduce(c, Red::Sum); };
  t["ReduceMean"] = [](NodeContext &c) { return handleReduce(c, Red::Mean); };
  t["ReduceMax"] = [](NodeContext &c) { return handleReduce(c, Red::Max); };
  t["ReduceMin"] = [](NodeContext &c) { return handleReduce(c, Red::Min); };
  t["ReduceProd"] = [](NodeContext &c) { return handleReduce(c, Red::Prod); };
  t["ReduceL1"] = [](NodeContext &c) { return handleReduce(c, Red::L1); };
  t["ReduceL2"] = [](NodeContext &c) { return handleReduce(c, Red::L2); };
  t["ReduceSumSquare"] = [](NodeContext &c) {
    return handleReduce(c, Red::SumSquare);
  };
  t["ReduceLogSum"] = [](NodeContext &c) {
    return handleReduce(c, Red::LogSum);
  };
  t["ReduceLogSumExp"] = [](NodeContext &c) {
    return handleReduce(c, Red::LogSumExp);
  };
  t["ArgMax"] = [](NodeContext &c) { return handleArgMinMax(c, true); };
  t["ArgMin"] = [](NodeContext &c) { return handleArgMinMax(c, false); };
}

} // namespace onnximport
} // namespace qcc
