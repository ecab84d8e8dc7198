//===- ElementwiseOps.cpp - ONNX elementwise ops --------------------------===//
//
// Every elementwise op becomes one all-parallel linalg.generic whose indexing
// maps do the numpy broadcasting (size-1 dims read index 0). Integer ops
// follow the ONNX signedness of their inputs (divui/remui, cmpi ult, ...).
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

using ScalarFn =
    std::function<Value(OpBuilder &, Location, ValueRange, int32_t /*dtype*/)>;

/// Broadcast shape of the present inputs `idx`.
FailureOr<std::vector<int64_t>> outShapeOf(NodeContext &c,
                                           ArrayRef<size_t> idx) {
  std::vector<int64_t> s;
  bool first = true;
  for (size_t i : idx) {
    if (first) {
      s = c.shape(i);
      first = false;
      continue;
    }
    auto r = broadcastShapes(s, c.shape(i));
    if (!r) {
      (void)c.fail("cannot broadcast " + shapeStr(s) + " with " +
                   shapeStr(c.shape(i)));
      return failure();
    }
    s = *r;
  }
  return s;
}

/// Builds out = fn(inputs...) with broadcasting; `outDType` < 0 means the
/// dtype of the first input.
LogicalResult emitNary(NodeContext &c, ArrayRef<size_t> idx, int32_t outDType,
                       const ScalarFn &fn) {
  auto shape = outShapeOf(c, idx);
  if (failed(shape))
    return failure();
  int32_t inDT = c.dtype(idx[0]);
  int32_t outDT = outDType < 0 ? inDT : outDType;
  SmallVector<Value> ins;
  for (size_t i : idx)
    ins.push_back(c.value(i));
  Value r = buildElementwise(c.b, c.loc, ins, *shape, c.elemType(outDT),
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return fn(b, l, a.take_front(idx.size()), inDT);
                             });
  c.setOutput(0, r, outDT);
  return success();
}

LogicalResult requireSameTypes(NodeContext &c, ArrayRef<size_t> idx) {
  for (size_t i : idx)
    if (c.dtype(i) != c.dtype(idx[0]))
      return c.fail("inputs have different element types (" +
                    dtypeName(c.dtype(idx[0])) + " and " +
                    dtypeName(c.dtype(i)) + ")");
  return success();
}

LogicalResult requireFloat(NodeContext &c, size_t i = 0) {
  if (!isFloatDType(c.dtype(i)))
    return c.fail("expects a floating-point input, got " +
                  dtypeName(c.dtype(i)));
  return success();
}

SmallVector<size_t> presentInputs(NodeContext &c) {
  SmallVector<size_t> r;
  for (size_t i = 0; i < c.numInputs(); ++i)
    if (c.hasInput(i))
      r.push_back(i);
  return r;
}

Value cst(OpBuilder &b, Location l, Value like, double v) {
  return scalarConst(b, l, like.getType(), v);
}

//===----------------------------------------------------------------------===//
// Scalar bodies
//===----------------------------------------------------------------------===//

enum class Bin {
  Add,
  Sub,
  Mul,
  Div,
  Min,
  Max,
  And,
  Or,
  Xor,
  BitAnd,
  BitOr,
  BitXor
};

Value binScalar(OpBuilder &b, Location l, Bin k, Value x, Value y, int32_t dt) {
  bool f = isFloatDType(dt), u = isUnsignedDType(dt);
  switch (k) {
  case Bin::Add:
    return f ? (Value)arith::AddFOp::create(b, l, x, y)
             : (Value)arith::AddIOp::create(b, l, x, y);
  case Bin::Sub:
    return f ? (Value)arith::SubFOp::create(b, l, x, y)
             : (Value)arith::SubIOp::create(b, l, x, y);
  case Bin::Mul:
    return f ? (Value)arith::MulFOp::create(b, l, x, y)
             : (Value)arith::MulIOp::create(b, l, x, y);
  case Bin::Div:
    if (f)
      return arith::DivFOp::create(b, l, x, y);
    return u ? (Value)arith::DivUIOp::create(b, l, x, y)
             : (Value)arith::DivSIOp::create(b, l, x, y);
  case Bin::Min:
    if (f)
      return arith::MinimumFOp::create(b, l, x, y);
    return u ? (Value)arith::MinUIOp::create(b, l, x, y)
             : (Value)arith::MinSIOp::create(b, l, x, y);
  case Bin::Max:
    if (f)
      return arith::MaximumFOp::create(b, l, x, y);
    return u ? (Value)arith::MaxUIOp::create(b, l, x, y)
             : (Value)arith::MaxSIOp::create(b, l, x, y);
  case Bin::And:
  case Bin::BitAnd:
    return arith::AndIOp::create(b, l, x, y);
  case Bin::Or:
  case Bin::BitOr:
    return arith::OrIOp::create(b, l, x, y);
  case Bin::Xor:
  case Bin::BitXor:
    return arith::XOrIOp::create(b, l, x, y);
  }
  return x;
}

LogicalResult variadic(NodeContext &c, Bin k, bool mean = false) {
  auto idx = presentInputs(c);
  if (idx.empty())
    return c.fail("expects at least one input");
  if (failed(requireSameTypes(c, idx)))
    return failure();
  bool isLogic = k == Bin::And || k == Bin::Or || k == Bin::Xor;
  if (isLogic && c.dtype(idx[0]) != kBool)
    return c.fail("expects bool inputs");
  bool isBitwise = k == Bin::BitAnd || k == Bin::BitOr || k == Bin::BitXor;
  if (isBitwise && !isIntDType(c.dtype(idx[0])))
    return c.fail("expects integer inputs");
  if (mean && !isFloatDType(c.dtype(idx[0])))
    return c.fail("expects floating-point inputs");
  return emitNary(c, idx, -1,
                  [&](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
                    Value acc = a[0];
                    for (size_t i = 1; i < a.size(); ++i)
                      acc = binScalar(b, l, k, acc, a[i], dt);
                    if (mean && a.size() > 1)
                      acc = arith::DivFOp::create(
                          b, l, acc, cst(b, l, acc, (double)a.size()));
                    return acc;
                  });
}

LogicalResult binary(NodeContext &c, Bin k) {
  if (!c.hasInput(0) || !c.hasInput(1))
    return c.fail("expects two inputs");
  return variadic(c, k);
}

LogicalResult compare(NodeContext &c, arith::CmpFPredicate fp,
                      arith::CmpIPredicate sp, arith::CmpIPredicate up) {
  if (!c.hasInput(0) || !c.hasInput(1))
    return c.fail("expects two inputs");
  if (failed(requireSameTypes(c, {0, 1})))
    return failure();
  return emitNary(c, {0, 1}, kBool,
                  [&](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
                    if (isFloatDType(dt))
                      return (Value)arith::CmpFOp::create(b, l, fp, a[0], a[1]);
                    return (Value)arith::CmpIOp::create(
                        b, l, isUnsignedDType(dt) ? up : sp, a[0], a[1]);
                  });
}

LogicalResult
unaryFloat(NodeContext &c,
           std::function<Value(OpBuilder &, Location, Value)> fn) {
  if (!c.hasInput(0))
    return c.fail("expects one input");
  if (failed(requireFloat(c)))
    return failure();
  return emitNary(c, {0}, -1,
                  [&](OpBuilder &b, Location l, ValueRange a, int32_t) {
                    return fn(b, l, a[0]);
                  });
}

template <typename MathOp> OpHandler mathUnary() {
  return [](NodeContext &c) {
    return unaryFloat(c, [](OpBuilder &b, Location l, Value x) {
      return (Value)MathOp::create(b, l, x);
    });
  };
}

Value sigmoid(OpBuilder &b, Location l, Value x) {
  Value one = cst(b, l, x, 1.0);
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}

/// Python-style modulo (result has the sign of the divisor).
Value floorMod(OpBuilder &b, Location l, Value x, Value y, int32_t dt) {
  bool f = isFloatDType(dt);
  Value r = f ? (Value)arith::RemFOp::create(b, l, x, y)
              : (Value)arith::RemSIOp::create(b, l, x, y);
  Value zero = cst(b, l, x, 0.0);
  Value rNonZero, rNeg, yNeg;
  if (f) {
    rNonZero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::ONE, r, zero);
    rNeg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, r, zero);
    yNeg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, y, zero);
  } else {
    rNonZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, r, zero);
    rNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r, zero);
    yNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, y, zero);
  }
  Value signDiff = arith::XOrIOp::create(b, l, rNeg, yNeg);
  Value fix = arith::AndIOp::create(b, l, rNonZero, signDiff);
  Value adj = f ? (Value)arith::AddFOp::create(b, l, r, y)
                : (Value)arith::AddIOp::create(b, l, r, y);
  return arith::SelectOp::create(b, l, fix, adj, r);
}

LogicalResult handleMod(NodeContext &c) {
  if (!c.hasInput(0) || !c.hasInput(1))
    return c.fail("expects two inputs");
  if (failed(requireSameTypes(c, {0, 1})))
    return failure();
  int64_t fmod = c.attrInt("fmod", 0);
  return emitNary(
      c, {0, 1}, -1, [&](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
        if (isUnsignedDType(dt))
          return (Value)arith::RemUIOp::create(b, l, a[0], a[1]);
        if (fmod)
          return isFloatDType(dt)
                     ? (Value)arith::RemFOp::create(b, l, a[0], a[1])
                     : (Value)arith::RemSIOp::create(b, l, a[0], a[1]);
        return floorMod(b, l, a[0], a[1], dt);
      });
}

LogicalResult handlePow(NodeContext &c) {
  if (!c.hasInput(0) || !c.hasInput(1))
    return c.fail("expects two inputs");
  int32_t bt = c.dtype(0), et = c.dtype(1);
  if (bt == kBool || et == kBool)
    return c.fail("bool operands are not supported");
  // Small constant integral exponents become multiplications.
  if (isFloatDType(bt)) {
    if (const HostTensor *e = c.host(1);
        e && e->size() == 1 && e->shape.size() <= c.shape(0).size()) {
      double p = e->getF(0);
      if (p == 1.0 || p == 2.0 || p == 3.0 || p == 0.5) {
        auto shape = outShapeOf(c, {0, 1});
        if (failed(shape))
          return failure();
        Value r = buildElementwise(
            c.b, c.loc, ValueRange{c.value(0)}, *shape, c.elemType(bt),
            [&](OpBuilder &b, Location l, ValueRange a) -> Value {
              Value x = a[0];
              if (p == 0.5)
                return math::SqrtOp::create(b, l, x);
              Value r = x;
              for (int k = 1; k < (int)p; ++k)
                r = arith::MulFOp::create(b, l, r, x);
              return r;
            });
        c.setOutput(0, r, bt);
        return success();
      }
    }
  }
  return emitNary(c, {0, 1}, bt,
                  [&](OpBuilder &b, Location l, ValueRange a, int32_t) {
                    if (isFloatDType(bt)) {
                      Value e = castScalar(b, l, a[1], et, bt);
                      return (Value)math::PowFOp::create(b, l, a[0], e);
                    }
                    Value x = castScalar(b, l, a[0], bt, kDouble);
                    Value e = castScalar(b, l, a[1], et, kDouble);
                    Value r = math::PowFOp::create(b, l, x, e);
                    return castScalar(b, l, r, kDouble, bt);
                  });
}

LogicalResult handleWhere(NodeContext &c) {
  if (!c.hasInput(0) || !c.hasInput(1) || !c.hasInput(2))
    return c.fail("expects three inputs");
  if (c.dtype(0) != kBool)
    return c.fail("condition must be bool");
  if (failed(requireSameTypes(c, {1, 2})))
    return failure();
  auto shape = outShapeOf(c, {0, 1, 2});
  if (failed(shape))
    return failure();
  int32_t dt = c.dtype(1);
  Value r = buildElementwise(
      c.b, c.loc, ValueRange{c.value(0), c.value(1), c.value(2)}, *shape,
      c.elemType(dt), [&](OpBuilder &b, Location l, ValueRange a) {
        return (Value)arith::SelectOp::create(b, l, a[0], a[1], a[2]);
      });
  c.setOutput(0, r, dt);
  return success();
}

LogicalResult handleCast(NodeContext &c, int32_t to) {
  if (!isSupportedDType(to))
    return c.fail("cast to " + dtypeName(to) + " is not supported");
  Value v = castTensor(c.b, c.loc, c.value(0), c.dtype(0), to);
  c.setOutput(0, v, to);
  return success();
}

LogicalResult handleClip(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (dt == kBool)
    return c.fail("bool input is not supported");
  SmallVector<size_t> idx = {0};
  bool hasMin = false, hasMax = false;
  double minA = -INFINITY, maxA = INFINITY;
  if (c.opset < 11) {
    hasMin = c.hasAttr("min");
    hasMax = c.hasAttr("max");
    minA = c.attrFloat("min", -INFINITY);
    maxA = c.attrFloat("max", INFINITY);
  } else {
    if (c.hasInput(1)) {
      if (c.rank(1) != 0 && numElements(c.shape(1)) != 1)
        return c.fail("min must be a scalar");
      idx.push_back(1);
    }
    if (c.hasInput(2)) {
      if (c.rank(2) != 0 && numElements(c.shape(2)) != 1)
        return c.fail("max must be a scalar");
      idx.push_back(2);
    }
  }
  std::vector<int64_t> shape = c.shape(0);
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  for (size_t i : idx) {
    Value v = c.value(i);
    if (i != 0)
      v = reshapeTo(c.b, c.loc, v, {});
    ins.push_back(v);
    maps.push_back(i == 0 ? c.b.getMultiDimIdentityMap(shape.size())
                          : AffineMap::get(shape.size(), 0, c.ctx()));
  }
  bool minIn = c.opset >= 11 && c.hasInput(1);
  bool maxIn = c.opset >= 11 && c.hasInput(2);
  Value r = buildGeneric(c.b, c.loc, ins, maps, shape, c.elemType(dt),
                         [&](OpBuilder &b, Location l, ValueRange a) {
                           Value x = a[0];
                           size_t k = 1;
                           Value lo = minIn ? a[k++] : Value();
                           Value hi = maxIn ? a[k++] : Value();
                           if (!minIn && hasMin)
                             lo = scalarConst(b, l, x.getType(), minA);
                           if (!maxIn && hasMax)
                             hi = scalarConst(b, l, x.getType(), maxA);
                           if (lo)
                             x = binScalar(b, l, Bin::Max, x, lo, dt);
                           if (hi)
                             x = binScalar(b, l, Bin::Min, x, hi, dt);
                           return x;
                         });
  c.setOutput(0, r, dt);
  return success();
}

LogicalResult handlePRelu(NodeContext &c) {
  if (!c.hasInput(0) || !c.hasInput(1))
    return c.fail("expects two inputs");
  if (failed(requireSameTypes(c, {0, 1})))
    return failure();
  auto shape = outShapeOf(c, {0, 1});
  if (failed(shape))
    return failure();
  if (*shape != c.shape(0))
    return c.fail("slope " + shapeStr(c.shape(1)) +
                  " does not broadcast to the input");
  return emitNary(
      c, {0, 1}, -1, [&](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
        Value x = a[0], s = a[1];
        Value zero = cst(b, l, x, 0.0);
        Value neg = isFloatDType(dt)
                        ? (Value)arith::CmpFOp::create(
                              b, l, arith::CmpFPredicate::OLT, x, zero)
                        : (Value)arith::CmpIOp::create(
                              b, l, arith::CmpIPredicate::slt, x, zero);
        Value m = binScalar(b, l, Bin::Mul, x, s, dt);
        return (Value)arith::SelectOp::create(b, l, neg, m, x);
      });
}

LogicalResult handleDropout(NodeContext &c) {
  if (c.opset >= 12 && c.hasInput(2)) {
    auto t = c.constInts(2, "training_mode");
    if (failed(t))
      return failure();
    if (!t->empty() && (*t)[0]) {
      double ratio = 0.5;
      if (c.hasInput(1)) {
        auto r = c.constFloats(1, "ratio");
        if (failed(r))
          return failure();
        ratio = r->empty() ? 0.5 : (*r)[0];
      }
      if (ratio != 0.0)
        return c.fail("training mode with a nonzero ratio is not supported");
    }
  }
  if (c.opset < 7 && c.attrInt("is_test", 0) == 0 && c.opset >= 6)
    return c.unsupportedAttr("is_test=0");
  c.forwardInput(0, 0);
  if (c.hasOutput(1)) {
    Value t = intConst(c.b, c.loc, c.b.getI1Type(), 1);
    c.setOutput(1, filledTensor(c.b, c.loc, c.shape(0), t), kBool);
  }
  return success();
}

} // namespace

void registerElementwiseOps(OpTable &t) {
  t["Add"] = [](NodeContext &c) { return binary(c, Bin::Add); };
  t["Sub"] = [](NodeContext &c) { return binary(c, Bin::Sub); };
  t["Mul"] = [](NodeContext &c) { return binary(c, Bin::Mul); };
  t["Div"] = [](NodeContext &c) { return binary(c, Bin::Div); };
  t["And"] = [](NodeContext &c) { return binary(c, Bin::And); };
  t["Or"] = [](NodeContext &c) { return binary(c, Bin::Or); };
  t["Xor"] = [](NodeContext &c) { return binary(c, Bin::Xor); };
  t["BitwiseAnd"] = [](NodeContext &c) { return binary(c, Bin::BitAnd); };
  t["BitwiseOr"] = [](NodeContext &c) { return binary(c, Bin::BitOr); };
  t["BitwiseXor"] = [](NodeContext &c) { return binary(c, Bin::BitXor); };
  t["Min"] = [](NodeContext &c) { return variadic(c, Bin::Min); };
  t["Max"] = [](NodeContext &c) { return variadic(c, Bin::Max); };
  t["Sum"] = [](NodeContext &c) { return variadic(c, Bin::Add); };
  t["Mean"] = [](NodeContext &c) { return variadic(c, Bin::Add, true); };
  t["Mod"] = handleMod;
  t["Pow"] = handlePow;
  t["Where"] = handleWhere;
  t["Equal"] = [](NodeContext &c) {
    return compare(c, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
                   arith::CmpIPredicate::eq);
  };
  t["Less"] = [](NodeContext &c) {
    return compare(c, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                   arith::CmpIPredicate::ult);
  };
  t["Greater"] = [](NodeContext &c) {
    return compare(c, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                   arith::CmpIPredicate::ugt);
  };
  t["LessOrEqual"] = [](NodeContext &c) {
    return compare(c, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
                   arith::CmpIPredicate::ule);
  };
  t["GreaterOrEqual"] = [](NodeContext &c) {
    return compare(c, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
                   arith::CmpIPredicate::uge);
  };
  t["Not"] = [](NodeContext &c) {
    if (c.dtype(0) != kBool)
      return c.fail("expects a bool input");
    return emitNary(c, {0}, -1,
                    [](OpBuilder &b, Location l, ValueRange a, int32_t) {
                      return (Value)arith::XOrIOp::create(
                          b, l, a[0], intConst(b, l, b.getI1Type(), 1));
                    });
  };
  t["BitwiseNot"] = [](NodeContext &c) {
    if (!isIntDType(c.dtype(0)))
      return c.fail("expects an integer input");
    return emitNary(c, {0}, -1,
                    [](OpBuilder &b, Location l, ValueRange a, int32_t) {
                      return (Value)arith::XOrIOp::create(
                          b, l, a[0], intConst(b, l, a[0].getType(), -1));
                    });
  };
  t["Neg"] = [](NodeContext &c) {
    if (c.dtype(0) == kBool || isUnsignedDType(c.dtype(0)))
      return c.fail("expects a signed input");
    return emitNary(
        c, {0}, -1, [](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
          if (isFloatDType(dt))
            return (Value)arith::NegFOp::create(b, l, a[0]);
          return (Value)arith::SubIOp::create(b, l, cst(b, l, a[0], 0), a[0]);
        });
  };
  t["Abs"] = [](NodeContext &c) {
    if (c.dtype(0) == kBool)
      return c.fail("bool input is not supported");
    return emitNary(c, {0}, -1,
                    [](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
                      if (isFloatDType(dt))
                        return (Value)math::AbsFOp::create(b, l, a[0]);
                      if (isUnsignedDType(dt))
                        return a[0];
                      return (Value)math::AbsIOp::create(b, l, a[0]);
                    });
  };
  t["Sign"] = [](NodeContext &c) {
    if (c.dtype(0) == kBool)
      return c.fail("bool input is not supported");
    return emitNary(
        c, {0}, -1, [](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
          Value x = a[0];
          Value zero = cst(b, l, x, 0), one = cst(b, l, x, 1);
          Value pos, neg;
          if (isFloatDType(dt)) {
            pos =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, zero);
            neg =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zero);
          } else {
            pos = arith::CmpIOp::create(b, l,
                                        isUnsignedDType(dt)
                                            ? arith::CmpIPredicate::ugt
                                            : arith::CmpIPredicate::sgt,
                                        x, zero);
            neg = isUnsignedDType(dt)
                      ? intConst(b, l, b.getI1Type(), 0)
                      : (Value)arith::CmpIOp::create(
                            b, l, arith::CmpIPredicate::slt, x, zero);
          }
          Value r = arith::SelectOp::create(b, l, pos, one, zero);
          return (Value)arith::SelectOp::create(b, l, neg, cst(b, l, x, -1), r);
        });
  };
  t["Relu"] = [](NodeContext &c) {
    if (c.dtype(0) == kBool)
      return c.fail("bool input is not supported");
    return emitNary(
        c, {0}, -1, [](OpBuilder &b, Location l, ValueRange a, int32_t dt) {
          return binScalar(b, l, Bin::Max, a[0], cst(b, l, a[0], 0), dt);
        });
  };
  t["Sqrt"] = mathUnary<math::SqrtOp>();
  t["Exp"] = mathUnary<math::ExpOp>();
  t["Log"] = mathUnary<math::LogOp>();
  t["Tanh"] = mathUnary<math::TanhOp>();
  t["Erf"] = mathUnary<math::ErfOp>();
  t["Sin"] = mathUnary<math::SinOp>();
  t["Cos"] = mathUnary<math::CosOp>();
  t["Tan"] = mathUnary<math::TanOp>();
  t["Asin"] = mathUnary<math::AsinOp>();
  t["Acos"] = mathUnary<math::AcosOp>();
  t["Atan"] = mathUnary<math::AtanOp>();
  t["Sinh"] = mathUnary<math::SinhOp>();
  t["Cosh"] = mathUnary<math::CoshOp>();
  t["Asinh"] = mathUnary<math::AsinhOp>();
  t["Acosh"] = mathUnary<math::AcoshOp>();
  t["Atanh"] = mathUnary<math::AtanhOp>();
  t["Floor"] = mathUnary<math::FloorOp>();
  t["Ceil"] = mathUnary<math::CeilOp>();
  t["Round"] = mathUnary<math::RoundEvenOp>();
  t["Reciprocal"] = [](NodeContext &c) {
    return unaryFloat(c, [](OpBuilder &b, Location l, Value x) {
      return (Value)arith::DivFOp::create(b, l, cst(b, l, x, 1.0), x);
    });
  };
  t["Sigmoid"] = [](NodeContext &c) { return unaryFloat(c, sigmoid); };
  t["Swish"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 1.0f);
    return unaryFloat(c, [alpha](OpBuilder &b, Location l, Value x) {
      Value ax =
          alpha == 1.0
              ? x
              : (Value)arith::MulFOp::create(b, l, x, cst(b, l, x, alpha));
      return (Value)arith::MulFOp::create(b, l, x, sigmoid(b, l, ax));
    });
  };
  t["LeakyRelu"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 0.01f);
    return unaryFloat(c, [alpha](OpBuilder &b, Location l, Value x) {
      Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x,
                                        cst(b, l, x, 0.0));
      Value m = arith::MulFOp::create(b, l, x, cst(b, l, x, alpha));
      return (Value)arith::SelectOp::create(b, l, neg, m, x);
    });
  };
  t["ThresholdedRelu"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 1.0f);
    return unaryFloat(c, [alpha](OpBuilder &b, Location l, Value x) {
      Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x,
                                       cst(b, l, x, alpha));
      return (Value)arith::SelectOp::create(b, l, gt, x, cst(b, l, x, 0.0));
    });
  };
  t["Elu"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 1.0f);
    return unaryFloat(c, [alpha](OpBuilder &b, Location l, Value x) {
      Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x,
                                        cst(b, l, x, 0.0));
      Value e = arith::SubFOp::create(b, l, math::ExpOp::create(b, l, x),
                                      cst(b, l, x, 1.0));
      Value m = arith::MulFOp::create(b, l, e, cst(b, l, x, alpha));
      return (Value)arith::SelectOp::create(b, l, neg, m, x);
    });
  };
  t["Celu"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 1.0f);
    return unaryFloat(c, [alpha](OpBuilder &b, Location l, Value x) {
      // max(0,x) + min(0, alpha*(exp(x/alpha)-1))
      Value zero = cst(b, l, x, 0.0);
      Value e = math::ExpOp::create(
          b, l, arith::DivFOp::create(b, l, x, cst(b, l, x, alpha)));
      Value m = arith::MulFOp::create(
          b, l, cst(b, l, x, alpha),
          arith::SubFOp::create(b, l, e, cst(b, l, x, 1.0)));
      return (Value)arith::AddFOp::create(
          b, l, arith::MaximumFOp::create(b, l, x, zero),
          arith::MinimumFOp::create(b, l, m, zero));
    });
  };
  t["Selu"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 1.67326319217681884765625f);
    double gamma = c.attrFloat("gamma", 1.05070102214813232421875f);
    return unaryFloat(c, [alpha, gamma](OpBuilder &b, Location l, Value x) {
      Value le = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, x,
                                       cst(b, l, x, 0.0));
      Value e = arith::SubFOp::create(
          b, l,
          arith::MulFOp::create(b, l, cst(b, l, x, alpha),
                                math::ExpOp::create(b, l, x)),
          cst(b, l, x, alpha));
      Value s = arith::SelectOp::create(b, l, le, e, x);
      return (Value)arith::MulFOp::create(b, l, s, cst(b, l, x, gamma));
    });
  };
  t["HardSigmoid"] = [](NodeContext &c) {
    double alpha = c.attrFloat("alpha", 0.2f), beta = c.attrFloat("beta", 0.5f);
    return unaryFloat(c, [alpha, beta](OpBuilder &b, Location l, Value x) {
      Value y = arith::AddFOp::create(
          b, l, arith::MulFOp::create(b, l, x, cst(b, l, x, alpha)),
          cst(b, l, x, beta));
      y = arith::MinimumFOp::create(b, l, y, cst(b, l, x, 1.0));
      return (Value)arith::MaximumFOp::create(b, l, y, cst(b, l, x, 0.0));
    });
  };
  t["HardSwish"] = [](NodeContext &c) {
    return unaryFloat(c, [](OpBuilder &b, Location l, Value x) {
      Value y = arith::AddFOp::create(
          b, l, arith::MulFOp::create(b, l, x, cst(b, l, x, 1.0 / 6.0)),
          cst(b, l, x, 0.5));
      y = arith::MinimumFOp::create(b, l, y, cst(b, l, x, 1.0));
      y = arith::MaximumFOp::create(b, l, y, cst(b, l, x, 0.0));
      return (Value)arith::MulFOp::create(b, l, x, y);
    });
  };
  t["Softplus"] = [](NodeContext &c) {
    return unaryFloat(c, [](OpBuilder &b, Location l, Value x) {
      // max(x,0) + log1p(exp(-|x|)): no overflow for large |x|.
      Value ax = math::AbsFOp::create(b, l, x);
      Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, ax));
      return (Value)arith::AddFOp::create(
          b, l, arith::MaximumFOp::create(b, l, x, cst(b, l, x, 0.0)),
          math::Log1pOp::create(b, l, e));
    });
  };
  t["Softsign"] = [](NodeContext &c) {
    return unaryFloat(c, [](OpBuilder &b, Location l, Value x) {
      Value d = arith::AddFOp::create(b, l, cst(b, l, x, 1.0),
                                      math::AbsFOp::create(b, l, x));
      return (Value)arith::DivFOp::create(b, l, x, d);
    });
  };
  t["Mish"] = [](NodeContext &c) {
    return unaryFloat(c, [](OpBuilder &b, Location l, Value x) {
      Value ax = math::AbsFOp::create(b, l, x);
      Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, ax));
      Value sp = arith::AddFOp::create(
          b, l, arith::MaximumFOp::create(b, l, x, cst(b, l, x, 0.0)),
          math::Log1pOp::create(b, l, e));
      return (Value)arith::MulFOp::create(b, l, x,
                                          math::TanhOp::create(b, l, sp));
    });
  };
  t["Gelu"] = [](NodeContext &c) {
    std::string approx = c.attrString("approximate", "none");
    if (approx != "none" && approx != "tanh")
      return c.unsupportedAttr("approximate=" + approx);
    bool useTanh = approx == "tanh";
    return unaryFloat(c, [useTanh](OpBuilder &b, Location l, Value x) {
      Value half = cst(b, l, x, 0.5), one = cst(b, l, x, 1.0);
      Value inner;
      if (useTanh) {
        Value x3 =
            arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
        Value s = arith::AddFOp::create(
            b, l, x, arith::MulFOp::create(b, l, x3, cst(b, l, x, 0.044715)));
        inner = math::TanhOp::create(
            b, l,
            arith::MulFOp::create(b, l, s,
                                  cst(b, l, x, std::sqrt(2.0 / M_PI))));
      } else {
        inner = math::ErfOp::create(
            b, l, arith::MulFOp::create(b, l, x, cst(b, l, x, M_SQRT1_2)));
      }
      Value y = arith::MulFOp::create(b, l, half, x);
      return (Value)arith::MulFOp::create(
          b, l, y, arith::AddFOp::create(b, l, one, inner));
    });
  };
  t["IsNaN"] = [](NodeContext &c) {
    if (failed(requireFloat(c)))
      return failure();
    return emitNary(c, {0}, kBool,
                    [](OpBuilder &b, Location l, ValueRange a, int32_t) {
                      return (Value)arith::CmpFOp::create(
                          b, l, arith::CmpFPredicate::UNO, a[0], a[0]);
                    });
  };
  t["IsInf"] = [](NodeContext &c) {
    if (failed(requireFloat(c)))
      return failure();
    bool pos = c.attrInt("detect_positive", 1),
         neg = c.attrInt("detect_negative", 1);
    return emitNary(
        c, {0}, kBool,
        [pos, neg](OpBuilder &b, Location l, ValueRange a, int32_t) {
          Value x = a[0];
          Value pinf = cst(b, l, x, INFINITY), ninf = cst(b, l, x, -INFINITY);
          Value r = intConst(b, l, b.getI1Type(), 0);
          if (pos)
            r = arith::OrIOp::create(
                b, l, r,
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x,
                                      pinf));
          if (neg)
            r = arith::OrIOp::create(
                b, l, r,
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x,
                                      ninf));
          return r;
        });
  };
  t["Cast"] = [](NodeContext &c) {
    return handleCast(c, (int32_t)c.attrInt("to", 0));
  };
  t["CastLike"] = [](NodeContext &c) {
    if (!c.hasInput(1))
      return c.fail("expects two inputs");
    return handleCast(c, c.dtype(1));
  };
  t["Identity"] = [](NodeContext &c) {
    c.forwardInput(0, 0);
    return success();
  };
  t["Dropout"] = handleDropout;
  t["Clip"] = handleClip;
  t["PRelu"] = handlePRelu;
}

} // namespace onnximport
} // namespace qcc
