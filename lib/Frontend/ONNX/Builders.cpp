//===- Builders.cpp - IR and host-tensor helpers of the ONNX importer -----===//

#include "ImportContext.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/MemAlloc.h"

#include <cmath>
#include <cstdint>
#include <cstring>

using namespace mlir;

namespace qcc {
namespace onnximport {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

bool isSupportedDType(int32_t dt) {
  switch (dt) {
  case kFloat:
  case kUInt8:
  case kInt8:
  case kUInt16:
  case kInt16:
  case kInt32:
  case kInt64:
  case kBool:
  case kFloat16:
  case kDouble:
  case kUInt32:
  case kUInt64:
  case kBFloat16:
    return true;
  default:
    return false;
  }
}

bool isFloatDType(int32_t dt) {
  return dt == kFloat || dt == kFloat16 || dt == kDouble || dt == kBFloat16;
}

bool isUnsignedDType(int32_t dt) {
  return dt == kUInt8 || dt == kUInt16 || dt == kUInt32 || dt == kUInt64 ||
         dt == kBool;
}

bool isIntDType(int32_t dt) {
  return dt == kUInt8 || dt == kInt8 || dt == kUInt16 || dt == kInt16 ||
         dt == kInt32 || dt == kInt64 || dt == kUInt32 || dt == kUInt64;
}

int64_t dtypeBits(int32_t dt) {
  switch (dt) {
  case kBool:
    return 1;
  case kUInt8:
  case kInt8:
    return 8;
  case kUInt16:
  case kInt16:
  case kFloat16:
  case kBFloat16:
    return 16;
  case kInt32:
  case kUInt32:
  case kFloat:
    return 32;
  case kInt64:
  case kUInt64:
  case kDouble:
    return 64;
  default:
    return 0;
  }
}

int64_t dtypeBytes(int32_t dt) {
  int64_t bits = dtypeBits(dt);
  return bits == 1 ? 1 : bits / 8;
}

std::string dtypeName(int32_t dt) {
  switch (dt) {
  case kFloat:
    return "float32";
  case kUInt8:
    return "uint8";
  case kInt8:
    return "int8";
  case kUInt16:
    return "uint16";
  case kInt16:
    return "int16";
  case kInt32:
    return "int32";
  case kInt64:
    return "int64";
  case kString:
    return "string";
  case kBool:
    return "bool";
  case kFloat16:
    return "float16";
  case kDouble:
    return "float64";
  case kUInt32:
    return "uint32";
  case kUInt64:
    return "uint64";
  case kBFloat16:
    return "bfloat16";
  case 14:
    return "complex64";
  case 15:
    return "complex128";
  case 17:
    return "float8e4m3fn";
  case 18:
    return "float8e4m3fnuz";
  case 19:
    return "float8e5m2";
  case 20:
    return "float8e5m2fnuz";
  case 21:
    return "uint4";
  case 22:
    return "int4";
  case 23:
    return "float4e2m1";
  case 24:
    return "float8e8m0";
  case 25:
    return "uint2";
  case 26:
    return "int2";
  default:
    return "type" + std::to_string(dt);
  }
}

Type mlirElemType(MLIRContext *ctx, int32_t dt) {
  switch (dt) {
  case kFloat:
    return Float32Type::get(ctx);
  case kFloat16:
    return Float16Type::get(ctx);
  case kBFloat16:
    return BFloat16Type::get(ctx);
  case kDouble:
    return Float64Type::get(ctx);
  default:
    return IntegerType::get(ctx, dtypeBits(dt) ? dtypeBits(dt) : 8);
  }
}

int64_t numElements(ArrayRef<int64_t> shape) {
  // Saturates (INT64_MAX) instead of overflowing, so that size checks such
  // as `n <= kMaxFoldElements` hold for absurd shapes too.
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d == 0)
      return 0;
    if (n > INT64_MAX / std::max<int64_t>(d, 1))
      n = INT64_MAX;
    else
      n *= d;
  }
  return n;
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

int64_t wrapInt(int64_t v, int32_t dt) {
  switch (dt) {
  case kBool:
    return v != 0;
  case kUInt8:
    return (uint8_t)v;
  case kInt8:
    return (int8_t)v;
  case kUInt16:
    return (uint16_t)v;
  case kInt16:
    return (int16_t)v;
  case kUInt32:
    return (uint32_t)v;
  case kInt32:
    return (int32_t)v;
  default:
    return v;
  }
}

double roundFloat(double v, int32_t dt) {
  if (dt == kFloat)
    return (double)(float)v;
  if (dt == kFloat16 || dt == kBFloat16) {
    APFloat f(v);
    bool lost;
    f.convert(dt == kFloat16 ? APFloat::IEEEhalf() : APFloat::BFloat(),
              APFloat::rmNearestTiesToEven, &lost);
    f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return f.convertToDouble();
  }
  return v;
}

HostTensor::HostTensor(int32_t dtype, std::vector<int64_t> shape)
    : dtype(dtype), shape(std::move(shape)) {
  if (isFloat())
    floats.assign(size(), 0.0);
  else
    ints.assign(size(), 0);
}

double HostTensor::getF(int64_t i) const {
  if (isFloat())
    return floats[i];
  if (dtype == kUInt64)
    return (double)(uint64_t)ints[i];
  return (double)ints[i];
}

int64_t HostTensor::getI(int64_t i) const {
  if (!isFloat())
    return ints[i];
  double v = floats[i];
  if (std::isnan(v))
    return 0;
  if (v >= 9.2e18)
    return INT64_MAX;
  if (v <= -9.2e18)
    return INT64_MIN;
  return (int64_t)v;
}

void HostTensor::setF(int64_t i, double v) {
  if (isFloat()) {
    floats[i] = roundFloat(v, dtype);
    return;
  }
  if (dtype == kBool) {
    ints[i] = v != 0.0;
    return;
  }
  int64_t iv;
  if (std::isnan(v))
    iv = 0;
  else if (dtype == kUInt64 && v >= 9.2e18)
    iv = (int64_t)(uint64_t)v;
  else if (v >= 9.2e18)
    iv = INT64_MAX;
  else if (v <= -9.2e18)
    iv = INT64_MIN;
  else
    iv = (int64_t)v; // truncation toward zero, as ONNX Cast
  ints[i] = wrapInt(iv, dtype);
}

void HostTensor::setI(int64_t i, int64_t v) {
  if (isFloat())
    floats[i] = roundFloat((double)v, dtype);
  else
    ints[i] = wrapInt(v, dtype);
}

HostTensor HostTensor::castTo(int32_t dt) const {
  HostTensor r(dt, shape);
  for (int64_t i = 0, e = size(); i < e; ++i) {
    if (isFloat())
      r.setF(i, floats[i]);
    else if (r.isFloat())
      r.setF(i, getF(i));
    else
      r.setI(i, ints[i]);
  }
  return r;
}

RawBuffer::RawBuffer(size_t size) : size(size), owned(true) {
  data = (char *)llvm::allocate_buffer(size ? size : 1, 64);
}

RawBuffer::~RawBuffer() {
  if (owned && data)
    llvm::deallocate_buffer(data, size ? size : 1, 64);
}

std::shared_ptr<RawBuffer> hostToRaw(const HostTensor &t) {
  int64_t n = t.size(), eb = dtypeBytes(t.dtype);
  auto raw = std::make_shared<RawBuffer>(n * eb);
  char *p = raw->data;
  for (int64_t i = 0; i < n; ++i, p += eb) {
    switch (t.dtype) {
    case kFloat: {
      float f = (float)t.floats[i];
      std::memcpy(p, &f, 4);
      break;
    }
    case kDouble:
      std::memcpy(p, &t.floats[i], 8);
      break;
    case kFloat16:
    case kBFloat16: {
      APFloat f(t.floats[i]);
      bool lost;
      f.convert(t.dtype == kFloat16 ? APFloat::IEEEhalf() : APFloat::BFloat(),
                APFloat::rmNearestTiesToEven, &lost);
      uint16_t bits = (uint16_t)f.bitcastToAPInt().getZExtValue();
      std::memcpy(p, &bits, 2);
      break;
    }
    default: {
      int64_t v = t.ints[i];
      std::memcpy(p, &v, eb); // little endian
      break;
    }
    }
  }
  return raw;
}

HostTensor rawToHost(const char *data, int32_t dtype, ArrayRef<int64_t> shape) {
  HostTensor t(dtype, std::vector<int64_t>(shape.begin(), shape.end()));
  int64_t n = t.size(), eb = dtypeBytes(dtype);
  const char *p = data;
  for (int64_t i = 0; i < n; ++i, p += eb) {
    switch (dtype) {
    case kFloat: {
      float f;
      std::memcpy(&f, p, 4);
      t.floats[i] = f;
      break;
    }
    case kDouble:
      std::memcpy(&t.floats[i], p, 8);
      break;
    case kFloat16:
    case kBFloat16: {
      uint16_t bits;
      std::memcpy(&bits, p, 2);
      APFloat f(dtype == kFloat16 ? APFloat::IEEEhalf() : APFloat::BFloat(),
                APInt(16, bits));
      bool lost;
      f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      t.floats[i] = f.convertToDouble();
      break;
    }
    default: {
      uint64_t v = 0;
      std::memcpy(&v, p, eb);
      t.ints[i] = wrapInt((int64_t)v, dtype);
      break;
    }
    }
  }
  return t;
}

//===----------------------------------------------------------------------===//
// IR helpers
//===----------------------------------------------------------------------===//

std::optional<std::vector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return std::nullopt;
  }
  return out;
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elem) {
  return tensor::EmptyOp::create(b, loc, shape, elem);
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Value scalar) {
  Value e = emptyTensor(b, loc, shape, scalar.getType());
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{e})
      .getResult(0);
}

Value scalarConst(OpBuilder &b, Location loc, Type elem, double v) {
  if (auto ft = dyn_cast<FloatType>(elem))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(elem, (int64_t)v));
}

Value intConst(OpBuilder &b, Location loc, Type elem, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(elem, v));
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> inShape,
                       ArrayRef<int64_t> outShape) {
  size_t r = outShape.size(), ir = inShape.size();
  SmallVector<AffineExpr> exprs;
  for (size_t i = 0; i < ir; ++i) {
    size_t od = r - ir + i;
    if (inShape[i] == 1 && outShape[od] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(od, ctx));
  }
  return AffineMap::get(r, 0, exprs, ctx);
}

Value buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                   ArrayRef<AffineMap> maps, ArrayRef<int64_t> outShape,
                   Type outElem, BodyFn body) {
  Value init = emptyTensor(b, loc, outShape, outElem);
  SmallVector<AffineMap> allMaps(maps.begin(), maps.end());
  allMaps.push_back(b.getMultiDimIdentityMap(outShape.size()));
  SmallVector<utils::IteratorType> iters(outShape.size(),
                                         utils::IteratorType::parallel);
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, allMaps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args);
        linalg::YieldOp::create(nb, nl, r);
      });
  return op.getResult(0);
}

Value buildElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                       ArrayRef<int64_t> outShape, Type outElem, BodyFn body) {
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(broadcastMap(b.getContext(),
                                cast<RankedTensorType>(v.getType()).getShape(),
                                outShape));
  return buildGeneric(b, loc, inputs, maps, outShape, outElem, body);
}

AffineMap dropDimsMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, d))
      exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value buildReduce(
    OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  SmallVector<int64_t> outShape;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, d))
      outShape.push_back(xt.getDimSize(d));
  Value acc = filledTensor(b, loc, outShape, init);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                 dropDimsMap(b.getContext(), rank, axes)};
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d)
    iters.push_back(llvm::is_contained(axes, d)
                        ? utils::IteratorType::reduction
                        : utils::IteratorType::parallel);
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{x}, ValueRange{acc}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, combine(nb, nl, args[1], args[0]));
      });
  return op.getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto st = cast<RankedTensorType>(v.getType());
  auto dt = RankedTensorType::get(shape, st.getElementType());
  if (st == dt)
    return v;
  if (st.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, dt, v,
                                         ArrayRef<ReassociationIndices>{});
  if (dt.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, dt, v,
                                           ArrayRef<ReassociationIndices>{});
  if (st.getRank() > dt.getRank()) {
    if (auto re = getReassociationIndicesForReshape(st, dt))
      return tensor::CollapseShapeOp::create(b, loc, dt, v, *re);
  } else if (st.getRank() < dt.getRank()) {
    if (auto re = getReassociationIndicesForReshape(dt, st))
      return tensor::ExpandShapeOp::create(b, loc, dt, v, *re);
  }
  // General case: through a 1-D tensor.
  int64_t n = st.getNumElements();
  auto flatT = RankedTensorType::get({n}, st.getElementType());
  ReassociationIndices all;
  for (int64_t i = 0; i < st.getRank(); ++i)
    all.push_back(i);
  Value flat = v;
  if (st.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(b, loc, flatT, v,
                                           ArrayRef<ReassociationIndices>{all});
  if (dt.getRank() == 1)
    return flat;
  ReassociationIndices allD;
  for (int64_t i = 0; i < dt.getRank(); ++i)
    allD.push_back(i);
  return tensor::ExpandShapeOp::create(b, loc, dt, flat,
                                       ArrayRef<ReassociationIndices>{allD});
}

Value transposeValue(OpBuilder &b, Location loc, Value v,
                     ArrayRef<int64_t> perm) {
  auto st = cast<RankedTensorType>(v.getType());
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity)
    return v;
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(st.getDimSize(p));
  Value init = emptyTensor(b, loc, shape, st.getElementType());
  return linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
}

Value extractSlice(OpBuilder &b, Location loc, Value v,
                   ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                   ArrayRef<int64_t> strides) {
  auto st = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> str(strides.begin(), strides.end());
  if (str.empty())
    str.assign(sizes.size(), 1);
  if (llvm::equal(st.getShape(), sizes) &&
      llvm::all_of(offsets, [](int64_t o) { return o == 0; }))
    return v;
  auto rt = RankedTensorType::get(sizes, st.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, rt, v, ValueRange{},
                                        ValueRange{}, ValueRange{}, offsets,
                                        sizes, str);
}

Value concatValues(OpBuilder &b, Location loc, ArrayRef<Value> vals,
                   int64_t axis) {
  auto t0 = cast<RankedTensorType>(vals[0].getType());
  SmallVector<int64_t> shape(t0.getShape());
  shape[axis] = 0;
  for (Value v : vals)
    shape[axis] += cast<RankedTensorType>(v.getType()).getDimSize(axis);
  Value acc = emptyTensor(b, loc, shape, t0.getElementType());
  int64_t off = 0;
  for (Value v : vals) {
    auto vt = cast<RankedTensorType>(v.getType());
    if (vt.getDimSize(axis) == 0)
      continue;
    SmallVector<int64_t> offs(shape.size(), 0), strides(shape.size(), 1);
    offs[axis] = off;
    acc = tensor::InsertSliceOp::create(b, loc, v, acc, ValueRange{},
                                        ValueRange{}, ValueRange{}, offs,
                                        vt.getShape(), strides);
    off += vt.getDimSize(axis);
  }
  return acc;
}

Value padConstant(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> low,
                  ArrayRef<int64_t> high, Value padValue) {
  auto st = cast<RankedTensorType>(v.getType());
  int64_t r = st.getRank();
  // Crop first for negative pads.
  SmallVector<int64_t> offs(r, 0), sizes(st.getShape());
  bool crop = false;
  for (int64_t d = 0; d < r; ++d) {
    if (low[d] < 0) {
      offs[d] = -low[d];
      sizes[d] += low[d];
      crop = true;
    }
    if (high[d] < 0) {
      sizes[d] += high[d];
      crop = true;
    }
    if (sizes[d] < 0)
      sizes[d] = 0;
  }
  if (crop)
    v = extractSlice(b, loc, v, offs, sizes);
  SmallVector<int64_t> lo, hi, shape;
  bool any = false;
  for (int64_t d = 0; d < r; ++d) {
    lo.push_back(std::max<int64_t>(low[d], 0));
    hi.push_back(std::max<int64_t>(high[d], 0));
    shape.push_back(sizes[d] + lo.back() + hi.back());
    any |= lo.back() || hi.back();
  }
  if (!any)
    return v;
  auto rt = RankedTensorType::get(shape, st.getElementType());
  SmallVector<OpFoldResult> l, h;
  for (int64_t d = 0; d < r; ++d) {
    l.push_back(b.getIndexAttr(lo[d]));
    h.push_back(b.getIndexAttr(hi[d]));
  }
  return tensor::PadOp::create(b, loc, rt, v, l, h, padValue);
}

Value castScalar(OpBuilder &b, Location loc, Value v, int32_t from,
                 int32_t to) {
  if (from == to)
    return v;
  Type dst = mlirElemType(b.getContext(), to);
  Type src = v.getType();
  if (to == kBool) {
    if (isFloatDType(from))
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                   scalarConst(b, loc, src, 0.0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 intConst(b, loc, src, 0));
  }
  bool srcF = isFloatDType(from), dstF = isFloatDType(to);
  if (srcF && dstF) {
    unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
    if (sw == dw) { // f16 <-> bf16
      Value f = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
      return arith::TruncFOp::create(b, loc, dst, f);
    }
    if (sw < dw)
      return arith::ExtFOp::create(b, loc, dst, v);
    return arith::TruncFOp::create(b, loc, dst, v);
  }
  if (srcF) {
    if (isUnsignedDType(to))
      return arith::FPToUIOp::create(b, loc, dst, v);
    return arith::FPToSIOp::create(b, loc, dst, v);
  }
  if (dstF) {
    if (isUnsignedDType(from))
      return arith::UIToFPOp::create(b, loc, dst, v);
    return arith::SIToFPOp::create(b, loc, dst, v);
  }
  unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
  if (sw == dw)
    return v;
  if (sw > dw)
    return arith::TruncIOp::create(b, loc, dst, v);
  if (isUnsignedDType(from))
    return arith::ExtUIOp::create(b, loc, dst, v);
  return arith::ExtSIOp::create(b, loc, dst, v);
}

Value castTensor(OpBuilder &b, Location loc, Value v, int32_t from,
                 int32_t to) {
  if (from == to)
    return v;
  auto st = cast<RankedTensorType>(v.getType());
  return buildElementwise(b, loc, ValueRange{v}, st.getShape(),
                          mlirElemType(b.getContext(), to),
                          [&](OpBuilder &nb, Location nl, ValueRange a) {
                            return castScalar(nb, nl, a[0], from, to);
                          });
}

Value lowestValue(OpBuilder &b, Location loc, int32_t dt) {
  Type t = mlirElemType(b.getContext(), dt);
  if (isFloatDType(dt))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(
            t, APFloat::getInf(cast<FloatType>(t).getFloatSemantics(), true)));
  unsigned w = t.getIntOrFloatBitWidth();
  APInt v =
      isUnsignedDType(dt) ? APInt::getMinValue(w) : APInt::getSignedMinValue(w);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v));
}

Value highestValue(OpBuilder &b, Location loc, int32_t dt) {
  Type t = mlirElemType(b.getContext(), dt);
  if (isFloatDType(dt))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(
            t, APFloat::getInf(cast<FloatType>(t).getFloatSemantics(), false)));
  unsigned w = t.getIntOrFloatBitWidth();
  APInt v =
      isUnsignedDType(dt) ? APInt::getMaxValue(w) : APInt::getSignedMaxValue(w);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v));
}

std::string sanitizeKey(StringRef s) {
  std::string r;
  for (char c : s)
    r += (isalnum((unsigned char)c) || c == '_') ? c : '_';
  if (r.empty() || isdigit((unsigned char)r[0]))
    r = "w_" + r;
  return r;
}

Value hostConstant(OpBuilder &b, Location loc, const HostTensor &t,
                   int64_t resourceThreshold, StringRef blobName) {
  auto type =
      RankedTensorType::get(t.shape, mlirElemType(b.getContext(), t.dtype));
  int64_t n = t.size();
  if (t.dtype == kBool) {
    SmallVector<bool> bits;
    for (int64_t i = 0; i < n; ++i)
      bits.push_back(t.ints[i] != 0);
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, bits));
  }
  bool splat = n > 0;
  for (int64_t i = 1; i < n && splat; ++i)
    splat = t.isFloat()
                ? (t.floats[i] == t.floats[0] &&
                   std::signbit(t.floats[i]) == std::signbit(t.floats[0]))
                : t.ints[i] == t.ints[0];
  HostTensor one;
  const HostTensor *src = &t;
  if (splat && n > 1) {
    one = HostTensor(t.dtype, {});
    if (t.isFloat())
      one.floats[0] = t.floats[0];
    else
      one.ints[0] = t.ints[0];
    src = &one;
  }
  auto raw = hostToRaw(*src);
  if (!splat && (int64_t)raw->size >= resourceThreshold) {
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(raw->data, raw->size), 64);
    auto attr = DenseResourceElementsAttr::get(type, sanitizeKey(blobName),
                                               std::move(blob));
    return arith::ConstantOp::create(b, loc, type, attr);
  }
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(raw->data, raw->size)));
}

} // namespace onnximport
} // namespace qcc
