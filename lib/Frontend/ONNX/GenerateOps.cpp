//===- GenerateOps.cpp - ONNX ops that make, pad or rearrange tensors -----===//
//
// ConstantOfShape, Range and Trilu build tensors from compile-time shapes
// and indices. Pad becomes tensor.pad (constant mode) or a linalg.generic
// reading through clamped, mirrored or wrapped indices. DepthToSpace and
// SpaceToDepth are a reshape, a transpose and a reshape.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

LogicalResult handleConstantOfShape(NodeContext &c) {
  auto s = c.constInts(0, "input");
  if (failed(s))
    return failure();
  for (int64_t d : *s)
    if (d < 0)
      return c.fail("negative dimension in shape");
  std::string why;
  if (failed(checkShapeSize(*s, why)))
    return c.fail("shape " + shapeStr(*s) + " has " + why);
  int32_t dt = kFloat;
  double fv = 0;
  int64_t iv = 0;
  if (const auto *a = c.attr("value")) {
    const onnx::TensorProto &t = a->t();
    dt = t.data_type();
    if (t.dims_size() != 1 || t.dims(0) != 1)
      return c.fail("value must be a one-element 1-D tensor");
    if (!isSupportedDType(dt))
      return c.fail("value has unsupported type " + dtypeName(dt));
    // Single element: decode through the raw or typed fields.
    std::string bytes;
    if (t.has_raw_data()) {
      bytes = t.raw_data();
    } else if (t.float_data_size() + t.double_data_size() +
                   t.int64_data_size() + t.uint64_data_size() +
                   t.int32_data_size() !=
               1) {
      return c.fail("value must hold one element");
    } else {
      int64_t eb = dtypeBytes(dt);
      bytes.assign(eb, 0);
      uint64_t u = 0;
      if (dt == kFloat && t.float_data_size()) {
        float f = t.float_data(0);
        std::memcpy(bytes.data(), &f, 4);
      } else if (dt == kDouble && t.double_data_size()) {
        double f = t.double_data(0);
        std::memcpy(bytes.data(), &f, 8);
      } else {
        if (dt == kInt64 && t.int64_data_size())
          u = t.int64_data(0);
        else if ((dt == kUInt64 || dt == kUInt32) && t.uint64_data_size())
          u = t.uint64_data(0);
        else if (t.int32_data_size())
          u = (uint32_t)t.int32_data(0);
        std::memcpy(bytes.data(), &u, eb);
      }
    }
    if ((int64_t)bytes.size() != dtypeBytes(dt))
      return c.fail("value must hold one element");
    HostTensor one = rawToHost(bytes.data(), dt, {});
    fv = one.getF(0);
    iv = one.getI(0);
  }
  int64_t n = numElements(*s);
  if (n <= kMaxFoldElements) {
    HostTensor h(dt, *s);
    for (int64_t i = 0; i < n; ++i) {
      if (isFloatDType(dt))
        h.floats[i] = fv;
      else
        h.ints[i] = iv;
    }
    c.setOutputHost(0, std::move(h));
    return success();
  }
  auto type = c.tensorType(*s, dt);
  Type et = type.getElementType();
  Attribute sc = isFloatDType(dt) ? (Attribute)c.b.getFloatAttr(et, fv)
                                  : (Attribute)c.b.getIntegerAttr(et, iv);
  Value v = arith::ConstantOp::create(c.b, c.loc, type,
                                      DenseElementsAttr::get(type, sc));
  c.setOutput(0, v, dt);
  return success();
}

LogicalResult handleRange(NodeContext &c) {
  const char *names[] = {"start", "limit", "delta"};
  for (size_t i = 0; i < 3; ++i)
    if (failed(c.constFloats(i, names[i])))
      return failure();
  const HostTensor *s = c.host(0), *l = c.host(1), *d = c.host(2);
  int32_t dt = c.dtype(0);
  HostTensor out;
  if (isFloatDType(dt)) {
    double st = s->getF(0), li = l->getF(0), de = d->getF(0);
    if (de == 0)
      return c.fail("delta is 0");
    int64_t n = std::max<int64_t>(0, (int64_t)std::ceil((li - st) / de));
    out = HostTensor(dt, {n});
    for (int64_t i = 0; i < n; ++i)
      out.setF(i, st + i * de);
  } else {
    int64_t st = s->getI(0), li = l->getI(0), de = d->getI(0);
    if (de == 0)
      return c.fail("delta is 0");
    int64_t diff = li - st;
    int64_t n = de > 0 ? (diff + de - 1) / de : (diff + de + 1) / de;
    if (diff == 0 || (diff > 0) != (de > 0))
      n = 0;
    n = std::max<int64_t>(0, n);
    out = HostTensor(dt, {n});
    for (int64_t i = 0; i < n; ++i)
      out.setI(i, st + i * de);
  }
  if (out.size() > 16 * kMaxFoldElements)
    return c.fail("range too large");
  c.setOutputHost(0, std::move(out));
  return success();
}

LogicalResult handleTrilu(NodeContext &c) {
  int64_t r = c.rank(0);
  if (r < 2)
    return c.fail("input must have rank >= 2");
  int64_t k = 0;
  if (c.hasInput(1)) {
    auto kk = c.constInts(1, "k");
    if (failed(kk))
      return failure();
    k = kk->empty() ? 0 : (*kk)[0];
  }
  bool upper = c.attrInt("upper", 1);
  int32_t dt = c.dtype(0);
  Value res = buildElementwise(
      c.b, c.loc, ValueRange{c.value(0)}, c.shape(0), c.elemType(dt),
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value i = linalg::IndexOp::create(b, l, r - 2);
        Value j = linalg::IndexOp::create(b, l, r - 1);
        // keep when j - i >= k (upper) or j - i <= k (lower)
        Value diff = arith::SubIOp::create(b, l, j, i);
        Value kc = indexConst(b, l, k);
        Value keep = arith::CmpIOp::create(
            b, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
            diff, kc);
        Value zero = scalarConst(b, l, a[0].getType(), 0);
        return (Value)arith::SelectOp::create(b, l, keep, a[0], zero);
      });
  c.setOutput(0, res, dt);
  return success();
}

LogicalResult handlePad(NodeContext &c) {
  std::string mode = c.attrString("mode", "constant");
  int64_t r = c.rank(0);
  std::vector<int64_t> pads;
  if (c.opset < 11) {
    pads = c.attrInts(c.opset < 2 ? "paddings" : "pads");
  } else {
    auto p = c.constInts(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
  }
  std::vector<int64_t> axes;
  if (c.opset >= 18 && c.hasInput(3)) {
    auto a = c.constInts(3, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (int64_t i = 0; i < r; ++i)
      axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size())
    return c.fail("pads must have 2 entries per axis");
  std::vector<int64_t> lo(r, 0), hi(r, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    auto a = c.normAxis(axes[i], r);
    if (failed(a))
      return failure();
    lo[*a] = pads[i];
    hi[*a] = pads[i + axes.size()];
  }
  int32_t dt = c.dtype(0);
  Type et = c.elemType(dt);
  if (mode == "constant") {
    Value pv;
    if (c.opset < 11) {
      pv = scalarConst(c.b, c.loc, et, c.attrFloat("value", 0.0f));
    } else if (c.hasInput(2)) {
      if (const HostTensor *h = c.host(2)) {
        if (h->size() < 1)
          return c.fail("constant_value is empty");
        pv = isFloatDType(dt) ? scalarConst(c.b, c.loc, et, h->getF(0))
                              : intConst(c.b, c.loc, et, h->getI(0));
      } else {
        Value s = reshapeTo(c.b, c.loc, c.value(2), {});
        pv = tensor::ExtractOp::create(c.b, c.loc, s, ValueRange{});
      }
    } else {
      pv = scalarConst(c.b, c.loc, et, 0);
    }
    c.setOutput(0, padConstant(c.b, c.loc, c.value(0), lo, hi, pv), dt);
    return success();
  }
  if (mode != "reflect" && mode != "edge" && mode != "wrap")
    return c.unsupportedAttr("mode=" + mode);
  // Crop negative pads, then index-map the rest.
  std::vector<int64_t> zlo(r), zhi(r);
  for (int64_t d = 0; d < r; ++d) {
    zlo[d] = std::min<int64_t>(lo[d], 0);
    zhi[d] = std::min<int64_t>(hi[d], 0);
    lo[d] = std::max<int64_t>(lo[d], 0);
    hi[d] = std::max<int64_t>(hi[d], 0);
  }
  Value src = padConstant(c.b, c.loc, c.value(0), zlo, zhi,
                          scalarConst(c.b, c.loc, et, 0));
  auto st = cast<RankedTensorType>(src.getType());
  std::vector<int64_t> out;
  for (int64_t d = 0; d < r; ++d) {
    if (st.getDimSize(d) == 0 && (lo[d] || hi[d]))
      return c.fail("cannot pad an empty dimension in mode " + mode);
    out.push_back(st.getDimSize(d) + lo[d] + hi[d]);
  }
  Value res = buildGeneric(
      c.b, c.loc, ValueRange{}, {}, out, et,
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < r; ++d) {
          int64_t n = st.getDimSize(d);
          Value j = linalg::IndexOp::create(b, l, d);
          if (lo[d] == 0 && hi[d] == 0) {
            coords.push_back(j);
            continue;
          }
          j = arith::SubIOp::create(b, l, j, indexConst(b, l, lo[d]));
          Value zero = indexConst(b, l, 0), last = indexConst(b, l, n - 1);
          if (mode == "edge" || n == 1) {
            j = arith::MaxSIOp::create(b, l, j, zero);
            j = arith::MinSIOp::create(b, l, j, last);
          } else if (mode == "wrap") {
            Value nn = indexConst(b, l, n);
            j = arith::RemSIOp::create(b, l, j, nn);
            j = arith::AddIOp::create(b, l, j, nn);
            j = arith::RemSIOp::create(b, l, j, nn);
          } else { // reflect
            Value period = indexConst(b, l, 2 * (n - 1));
            Value neg =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, j, zero);
            j = arith::SelectOp::create(
                b, l, neg, arith::SubIOp::create(b, l, zero, j), j);
            j = arith::RemSIOp::create(b, l, j, period);
            Value over =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, j, last);
            j = arith::SelectOp::create(
                b, l, over, arith::SubIOp::create(b, l, period, j), j);
          }
          coords.push_back(j);
        }
        return (Value)tensor::ExtractOp::create(b, l, src, coords);
      });
  c.setOutput(0, res, dt);
  return success();
}

LogicalResult handleDepthSpace(NodeContext &c, bool toSpace) {
  if (c.rank(0) != 4)
    return c.fail("expects a 4-D input");
  int64_t bs = c.attrInt("blocksize", 0);
  if (bs <= 0)
    return c.fail("blocksize must be positive");
  const auto &s = c.shape(0);
  int64_t n = s[0], ch = s[1], h = s[2], w = s[3];
  Value v = c.value(0);
  Value r;
  if (toSpace) {
    if (ch % (bs * bs))
      return c.fail("channels not divisible by blocksize^2");
    bool crd = c.attrString("mode", "DCR") == "CRD";
    int64_t co = ch / (bs * bs);
    if (crd) {
      v = reshapeTo(c.b, c.loc, v, {n, co, bs, bs, h, w});
      v = transposeValue(c.b, c.loc, v, {0, 1, 4, 2, 5, 3});
    } else {
      v = reshapeTo(c.b, c.loc, v, {n, bs, bs, co, h, w});
      v = transposeValue(c.b, c.loc, v, {0, 3, 4, 1, 5, 2});
    }
    r = reshapeTo(c.b, c.loc, v, {n, co, h * bs, w * bs});
  } else {
    if (h % bs || w % bs)
      return c.fail("spatial dims not divisible by blocksize");
    v = reshapeTo(c.b, c.loc, v, {n, ch, h / bs, bs, w / bs, bs});
    v = transposeValue(c.b, c.loc, v, {0, 3, 5, 1, 2, 4});
    r = reshapeTo(c.b, c.loc, v, {n, ch * bs * bs, h / bs, w / bs});
  }
  c.setOutput(0, r, c.dtype(0));
  return success();
}

} // namespace

void registerGenerateOps(OpTable &t) {
  t["ConstantOfShape"] = handleConstantOfShape;
  t["Range"] = handleRange;
  t["Trilu"] = handleTrilu;
  t["Pad"] = handlePad;
  t["DepthToSpace"] = [](NodeContext &c) { return handleDepthSpace(c, true); };
  t["SpaceToDepth"] = [](NodeContext &c) { return handleDepthSpace(c, false); };
}

} // namespace onnximport
} // namespace qcc
