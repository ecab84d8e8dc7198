//===- ConvPoolOps.cpp - convolutions and pooling -------------------------===//
//
// Everything runs in 2-D NCHW: 1-D ops get a unit H dimension. Padding is an
// explicit tensor.pad in front of the named linalg op (zero for conv and
// average pool, -inf for max pool). ConvTranspose is a stride-1 convolution
// over the zero-dilated, padded input with the flipped weight.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

DenseIntElementsAttr i64Vec(OpBuilder &b, ArrayRef<int64_t> v) {
  return DenseIntElementsAttr::get(
      RankedTensorType::get({(int64_t)v.size()}, b.getI64Type()), v);
}

/// Spatial geometry of a conv/pool node after auto_pad resolution.
struct Geometry {
  std::vector<int64_t> kernel, strides, dilations, padBegin, padEnd, out;
};

LogicalResult computeGeometry(NodeContext &c, ArrayRef<int64_t> in,
                              std::vector<int64_t> kernel, bool ceilMode,
                              Geometry &g) {
  size_t n = in.size();
  g.kernel = kernel;
  g.strides = c.attrInts("strides");
  g.dilations = c.attrInts("dilations");
  if (g.strides.empty())
    g.strides.assign(n, 1);
  if (g.dilations.empty())
    g.dilations.assign(n, 1);
  std::vector<int64_t> pads = c.attrInts("pads");
  if (pads.empty())
    pads.assign(2 * n, 0);
  if (g.kernel.size() != n || g.strides.size() != n ||
      g.dilations.size() != n || pads.size() != 2 * n)
    return c.fail("kernel_shape/strides/dilations/pads do not match the "
                  "spatial rank " +
                  Twine(n));
  // Beyond 2^31 the window arithmetic below could overflow; no real model
  // comes near.
  constexpr int64_t big = int64_t(1) << 31;
  for (size_t i = 0; i < n; ++i)
    if (g.strides[i] <= 0 || g.dilations[i] <= 0 || g.kernel[i] <= 0 ||
        pads[i] < 0 || pads[i + n] < 0 || g.strides[i] > big ||
        g.dilations[i] > big || g.kernel[i] > big || pads[i] > big ||
        pads[i + n] > big)
      return c.fail("invalid strides, dilations, kernel or pads");
  std::string autoPad = c.attrString("auto_pad", "NOTSET");
  g.padBegin.assign(pads.begin(), pads.begin() + n);
  g.padEnd.assign(pads.begin() + n, pads.end());
  g.out.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t ek = (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t o = (in[i] + g.strides[i] - 1) / g.strides[i];
      int64_t total = std::max<int64_t>(0, (o - 1) * g.strides[i] + ek - in[i]);
      int64_t small = total / 2, big = total - small;
      g.padBegin[i] = autoPad == "SAME_UPPER" ? small : big;
      g.padEnd[i] = autoPad == "SAME_UPPER" ? big : small;
    } else if (autoPad == "VALID") {
      g.padBegin[i] = g.padEnd[i] = 0;
    } else if (autoPad != "NOTSET") {
      return c.unsupportedAttr("auto_pad=" + autoPad);
    }
    int64_t span = in[i] + g.padBegin[i] + g.padEnd[i] - ek;
    if (span < 0)
      return c.fail("kernel larger than the padded input");
    int64_t o = ceilMode ? (span + g.strides[i] - 1) / g.strides[i] + 1
                         : span / g.strides[i] + 1;
    // The last window must start inside the input or the left padding.
    if (ceilMode && (o - 1) * g.strides[i] >= in[i] + g.padBegin[i])
      --o;
    g.out[i] = o;
  }
  // Pooling keeps a host table of one divisor per output position.
  std::vector<int64_t> padded(in.begin(), in.end());
  for (size_t i = 0; i < n; ++i)
    padded[i] += g.padBegin[i] + g.padEnd[i];
  if (numElements(padded) > big || numElements(g.out) > big)
    return c.fail("strides, dilations, kernel and pads give a padded input " +
                  shapeStr(padded) + " or window grid " + shapeStr(g.out) +
                  " of more than 2^31 positions");
  return success();
}

/// [N, C, L] -> [N, C, 1, L] for 1-D ops.
Value to2d(NodeContext &c, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return reshapeTo(c.b, c.loc, v,
                   {t.getDimSize(0), t.getDimSize(1), 1, t.getDimSize(2)});
}

void geometryTo2d(Geometry &g) {
  g.kernel.insert(g.kernel.begin(), 1);
  g.strides.insert(g.strides.begin(), 1);
  g.dilations.insert(g.dilations.begin(), 1);
  g.padBegin.insert(g.padBegin.begin(), 0);
  g.padEnd.insert(g.padEnd.begin(), 0);
  g.out.insert(g.out.begin(), 1);
}

Value addChannelBias(NodeContext &c, Value y, Value bias) {
  auto yt = cast<RankedTensorType>(y.getType());
  int64_t r = yt.getRank();
  AffineMap ch = AffineMap::get(r, 0, {getAffineDimExpr(1, c.ctx())}, c.ctx());
  return buildGeneric(c.b, c.loc, ValueRange{y, bias},
                      {c.b.getMultiDimIdentityMap(r), ch}, yt.getShape(),
                      yt.getElementType(),
                      [](OpBuilder &b, Location l, ValueRange a) {
                        return (Value)arith::AddFOp::create(b, l, a[0], a[1]);
                      });
}

/// 2-D grouped convolution of padded x [N,C,H,W] with w [M,C/G,KH,KW].
Value conv2d(NodeContext &c, Value x, Value w, int64_t group,
             ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
             ArrayRef<int64_t> outHW) {
  OpBuilder &b = c.b;
  Location loc = c.loc;
  auto xt = cast<RankedTensorType>(x.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  Type et = xt.getElementType();
  int64_t n = xt.getDimSize(0), ch = xt.getDimSize(1), m = wt.getDimSize(0);
  int64_t kh = wt.getDimSize(2), kw = wt.getDimSize(3);
  int64_t oh = outHW[0], ow = outHW[1];
  Value zero = scalarConst(b, loc, et, 0.0);
  auto sAttr = i64Vec(b, strides), dAttr = i64Vec(b, dilations);
  if (group == 1) {
    Value acc = filledTensor(b, loc, {n, m, oh, ow}, zero);
    return linalg::Conv2DNchwFchwOp::create(b, loc, TypeRange{acc.getType()},
                                            ValueRange{x, w}, ValueRange{acc},
                                            sAttr, dAttr)
        .getResult(0);
  }
  if (group == ch && m == ch) {
    Value w3 = reshapeTo(b, loc, w, {ch, kh, kw});
    Value acc = filledTensor(b, loc, {n, ch, oh, ow}, zero);
    return linalg::DepthwiseConv2DNchwChwOp::create(
               b, loc, TypeRange{acc.getType()}, ValueRange{x, w3},
               ValueRange{acc}, sAttr, dAttr)
        .getResult(0);
  }
  int64_t cg = ch / group, mg = m / group;
  Value xg =
      reshapeTo(b, loc, x, {n, group, cg, xt.getDimSize(2), xt.getDimSize(3)});
  Value wg = reshapeTo(b, loc, w, {group, mg, cg, kh, kw});
  Value acc = filledTensor(b, loc, {n, group, mg, oh, ow}, zero);
  Value y = linalg::Conv2DNgchwGfchwOp::create(b, loc, TypeRange{acc.getType()},
                                               ValueRange{xg, wg},
                                               ValueRange{acc}, sAttr, dAttr)
                .getResult(0);
  return reshapeTo(b, loc, y, {n, m, oh, ow});
}

LogicalResult handleConv(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt) || c.dtype(1) != dt)
    return c.fail("expects floating-point input and weight of one type");
  int64_t r = c.rank(0);
  if (r != 3 && r != 4)
    return c.fail("only 1-D and 2-D convolutions are supported (input rank " +
                  Twine(r) + ")");
  if (c.rank(1) != r)
    return c.fail("weight rank differs from input rank");
  const auto &xs = c.shape(0), &ws = c.shape(1);
  int64_t group = c.attrInt("group", 1);
  if (group <= 0 || xs[1] % group || ws[0] % group || ws[1] * group != xs[1])
    return c.fail("channels " + Twine(xs[1]) + " / weight " + shapeStr(ws) +
                  " do not match group " + Twine(group));
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  if (c.hasAttr("kernel_shape") && c.attrInts("kernel_shape") != kernel)
    return c.fail("kernel_shape does not match the weight");
  std::vector<int64_t> in(xs.begin() + 2, xs.end());
  Geometry g;
  if (failed(computeGeometry(c, in, kernel, false, g)))
    return failure();
  Value x = c.value(0), w = c.value(1);
  if (r == 3) {
    x = to2d(c, x);
    w = to2d(c, w);
    geometryTo2d(g);
  }
  Type et = c.elemType(dt);
  x = padConstant(c.b, c.loc, x, {0, 0, g.padBegin[0], g.padBegin[1]},
                  {0, 0, g.padEnd[0], g.padEnd[1]},
                  scalarConst(c.b, c.loc, et, 0.0));
  Value y = conv2d(c, x, w, group, g.strides, g.dilations, g.out);
  if (c.hasInput(2)) {
    if (c.shape(2) != std::vector<int64_t>{ws[0]})
      return c.fail("bias must have shape [M]");
    y = addChannelBias(c, y, c.value(2));
  }
  if (r == 3)
    y = reshapeTo(c.b, c.loc, y, {xs[0], ws[0], g.out[1]});
  c.setOutput(0, y, dt);
  return success();
}

LogicalResult handleConvTranspose(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt) || c.dtype(1) != dt)
    return c.fail("expects floating-point input and weight of one type");
  int64_t r = c.rank(0);
  if (r != 3 && r != 4)
    return c.fail("only 1-D and 2-D transposed convolutions are supported");
  if (c.rank(1) != r)
    return c.fail("weight rank differs from input rank");
  const auto &xs = c.shape(0), &ws = c.shape(1);
  int64_t group = c.attrInt("group", 1);
  if (group <= 0 || xs[1] != ws[0] || xs[1] % group)
    return c.fail("weight " + shapeStr(ws) + " does not match the input");
  int64_t ns = r - 2;
  int64_t m = ws[1] * group;
  std::vector<int64_t> in(xs.begin() + 2, xs.end());
  std::vector<int64_t> k(ws.begin() + 2, ws.end());
  std::vector<int64_t> s = c.attrInts("strides"), d = c.attrInts("dilations"),
                       op = c.attrInts("output_padding"),
                       pads = c.attrInts("pads"),
                       outShape = c.attrInts("output_shape");
  if (s.empty())
    s.assign(ns, 1);
  if (d.empty())
    d.assign(ns, 1);
  if (op.empty())
    op.assign(ns, 0);
  if (pads.empty())
    pads.assign(2 * ns, 0);
  if ((int64_t)s.size() != ns || (int64_t)d.size() != ns ||
      (int64_t)op.size() != ns || (int64_t)pads.size() != 2 * ns)
    return c.fail("attribute lengths do not match the spatial rank");
  // ONNX: output_padding below the stride (or the dilation).
  constexpr int64_t big = int64_t(1) << 31;
  for (int64_t i = 0; i < ns; ++i)
    if (s[i] <= 0 || d[i] <= 0 || s[i] > big || d[i] > big || op[i] < 0 ||
        op[i] >= std::max(s[i], d[i]) || k[i] <= 0 || pads[i] < 0 ||
        pads[i + ns] < 0 || pads[i] > big || pads[i + ns] > big)
      return c.fail("invalid strides, dilations, output_padding, kernel or "
                    "pads");
  if (outShape.size() > (size_t)ns)
    outShape.erase(outShape.begin(), outShape.end() - ns);
  std::string autoPad = c.attrString("auto_pad", "NOTSET");
  std::vector<int64_t> pb(ns), pe(ns), out(ns);
  for (int64_t i = 0; i < ns; ++i) {
    int64_t ek = (k[i] - 1) * d[i] + 1;
    int64_t full = s[i] * (in[i] - 1) + op[i] + ek;
    auto floorDiv2 = [](int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t o = outShape.empty() ? in[i] * s[i] : outShape[i];
      int64_t total = full - o;
      if (autoPad == "SAME_UPPER") {
        pb[i] = floorDiv2(total);
        pe[i] = total - floorDiv2(total);
      } else {
        pb[i] = total - floorDiv2(total);
        pe[i] = floorDiv2(total);
      }
    } else if (autoPad == "VALID" || autoPad == "NOTSET") {
      pb[i] = autoPad == "VALID" ? 0 : pads[i];
      pe[i] = autoPad == "VALID" ? 0 : pads[i + ns];
      // An explicit output_shape keeps pads' begin and sizes the end (extra
      // positions read zeros), as the reference does.
      if (!outShape.empty())
        pe[i] = full - outShape[i] - pb[i];
    } else {
      return c.unsupportedAttr("auto_pad=" + autoPad);
    }
    out[i] = full - pb[i] - pe[i];
    if (out[i] <= 0)
      return c.fail("output would be empty");
  }
  Value x = c.value(0), w = c.value(1);
  if (r == 3) {
    x = to2d(c, x);
    w = to2d(c, w);
    auto ins1 = [](std::vector<int64_t> &v, int64_t val) {
      v.insert(v.begin(), val);
    };
    ins1(in, 1), ins1(k, 1), ins1(s, 1), ins1(d, 1), ins1(op, 0), ins1(pb, 0),
        ins1(pe, 0), ins1(out, 1);
  }
  Type et = c.elemType(dt);
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Value zero = scalarConst(b, loc, et, 0.0);
  // Zero-dilate the input by the strides.
  int64_t n = xs[0], ch = xs[1];
  std::vector<int64_t> dil = {n, ch, (in[0] - 1) * s[0] + 1,
                              (in[1] - 1) * s[1] + 1};
  if (s[0] != 1 || s[1] != 1) {
    Value z = filledTensor(b, loc, dil, zero);
    x = tensor::InsertSliceOp::create(
        b, loc, x, z, ValueRange{}, ValueRange{}, ValueRange{},
        ArrayRef<int64_t>{0, 0, 0, 0}, ArrayRef<int64_t>{n, ch, in[0], in[1]},
        ArrayRef<int64_t>{1, 1, s[0], s[1]});
  }
  std::vector<int64_t> lo(4, 0), hi(4, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t ek = (k[i] - 1) * d[i];
    lo[i + 2] = ek - pb[i];
    hi[i + 2] = ek - pe[i] + op[i];
  }
  x = padConstant(b, loc, x, lo, hi, zero);
  // w [C, M/G, KH, KW] -> [M, C/G, KH, KW], spatially flipped.
  int64_t cg = ch / group, mg = m / group;
  MLIRContext *ctx = c.ctx();
  auto dimE = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  // Iteration (m, c', kh, kw) with m = g*mg + m'; source (g*cg + c', m', ...).
  // Express g and m' through floordiv/mod of m (affine).
  AffineExpr mE = dimE(0);
  AffineExpr gE = mE.floorDiv(mg), mpE = mE % mg;
  AffineMap wmap = AffineMap::get(
      4, 0,
      {gE * cg + dimE(1), mpE, getAffineConstantExpr(k[0] - 1, ctx) - dimE(2),
       getAffineConstantExpr(k[1] - 1, ctx) - dimE(3)},
      ctx);
  Value wf =
      buildGeneric(b, loc, ValueRange{w}, {wmap}, {m, cg, k[0], k[1]}, et,
                   [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  Value y = conv2d(c, x, wf, group, {1, 1}, d, out);
  if (c.hasInput(2)) {
    if (c.shape(2) != std::vector<int64_t>{m})
      return c.fail("bias must have shape [M]");
    y = addChannelBias(c, y, c.value(2));
  }
  if (r == 3)
    y = reshapeTo(b, loc, y, {n, m, out[1]});
  c.setOutput(0, y, dt);
  return success();
}

LogicalResult handlePool(NodeContext &c, bool isMax) {
  int32_t origDT = c.dtype(0);
  // The named max pool compares signed: widen unsigned types first.
  int32_t dt = isUnsignedDType(origDT) && origDT != kBool
                   ? (origDT == kUInt64   ? kUInt64
                      : origDT == kUInt32 ? kInt64
                                          : kInt32)
                   : origDT;
  if (dt == kUInt64 || dt == kBool || (!isMax && !isFloatDType(dt)) ||
      !isSupportedDType(dt))
    return c.fail("element type " + dtypeName(origDT) + " is not supported");
  if (c.hasOutput(1))
    return c.fail("the Indices output is not supported");
  int64_t r = c.rank(0);
  if (r != 3 && r != 4)
    return c.fail("only 1-D and 2-D pooling is supported");
  const auto &xs = c.shape(0);
  std::vector<int64_t> in(xs.begin() + 2, xs.end());
  bool ceilMode = c.attrInt("ceil_mode", 0);
  Geometry g;
  if (failed(computeGeometry(c, in, c.attrInts("kernel_shape"), ceilMode, g)))
    return failure();
  if (!isMax && c.opset < 19 && c.hasAttr("dilations") &&
      llvm::any_of(g.dilations, [](int64_t v) { return v != 1; }))
    return c.unsupportedAttr("dilations");
  Value x = castTensor(c.b, c.loc, c.value(0), origDT, dt);
  if (r == 3) {
    x = to2d(c, x);
    geometryTo2d(g);
    in.insert(in.begin(), 1);
  }
  // Extra end padding so ceil-mode windows stay inside the tensor.
  std::vector<int64_t> extra(2, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t ek = (g.kernel[i] - 1) * g.dilations[i] + 1;
    int64_t need = (g.out[i] - 1) * g.strides[i] + ek;
    extra[i] =
        std::max<int64_t>(0, need - (in[i] + g.padBegin[i] + g.padEnd[i]));
  }
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Type et = c.elemType(dt);
  Value padV = isMax ? lowestValue(b, loc, dt) : scalarConst(b, loc, et, 0.0);
  x = padConstant(b, loc, x, {0, 0, g.padBegin[0], g.padBegin[1]},
                  {0, 0, g.padEnd[0] + extra[0], g.padEnd[1] + extra[1]}, padV);
  int64_t n = xs[0], ch = xs[1], oh = g.out[0], ow = g.out[1];
  Value window = emptyTensor(b, loc, {g.kernel[0], g.kernel[1]}, et);
  auto sAttr = i64Vec(b, g.strides), dAttr = i64Vec(b, g.dilations);
  Value y;
  if (isMax) {
    Value acc = filledTensor(b, loc, {n, ch, oh, ow}, lowestValue(b, loc, dt));
    y = linalg::PoolingNchwMaxOp::create(b, loc, TypeRange{acc.getType()},
                                         ValueRange{x, window}, ValueRange{acc},
                                         sAttr, dAttr)
            .getResult(0);
  } else {
    Value acc =
        filledTensor(b, loc, {n, ch, oh, ow}, scalarConst(b, loc, et, 0.0));
    y = linalg::PoolingNchwSumOp::create(b, loc, TypeRange{acc.getType()},
                                         ValueRange{x, window}, ValueRange{acc},
                                         sAttr, dAttr)
            .getResult(0);
    // Divisor per output position, on the host.
    bool includePad = c.attrInt("count_include_pad", 0);
    HostTensor cnt(dt, {oh, ow});
    bool uniform = true;
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        int64_t cnts[2];
        for (int a = 0; a < 2; ++a) {
          int64_t o = a == 0 ? i : j;
          int64_t lo = includePad ? -g.padBegin[a] : 0;
          int64_t hi = includePad ? in[a] + g.padEnd[a] : in[a];
          int64_t k = 0;
          for (int64_t t = 0; t < g.kernel[a]; ++t) {
            int64_t p = o * g.strides[a] - g.padBegin[a] + t * g.dilations[a];
            k += p >= lo && p < hi;
          }
          cnts[a] = k;
        }
        cnt.setF(i * ow + j, 1.0 / std::max<int64_t>(1, cnts[0] * cnts[1]));
        uniform &= cnt.floats[i * ow + j] == cnt.floats[0];
      }
    AffineMap id = b.getMultiDimIdentityMap(4);
    for (int64_t i = 0; i < cnt.size(); ++i)
      cnt.floats[i] = std::round(1.0 / cnt.floats[i]);
    if (uniform) {
      double count = cnt.floats.empty() ? 1.0 : cnt.floats[0];
      y = buildGeneric(b, loc, ValueRange{y}, {id}, {n, ch, oh, ow}, et,
                       [&](OpBuilder &b, Location l, ValueRange a) {
                         return (Value)arith::DivFOp::create(
                             b, l, a[0], scalarConst(b, l, et, count));
                       });
    } else {
      Value cv = hostConstant(b, loc, cnt, c.resourceThreshold());
      AffineMap hw = AffineMap::get(
          4, 0, {getAffineDimExpr(2, c.ctx()), getAffineDimExpr(3, c.ctx())},
          c.ctx());
      y = buildGeneric(b, loc, ValueRange{y, cv}, {id, hw}, {n, ch, oh, ow}, et,
                       [](OpBuilder &b, Location l, ValueRange a) {
                         return (Value)arith::DivFOp::create(b, l, a[0], a[1]);
                       });
    }
  }
  if (r == 3)
    y = reshapeTo(b, loc, y, {n, ch, ow});
  y = castTensor(b, loc, y, dt, origDT);
  c.setOutput(0, y, origDT);
  return success();
}

LogicalResult handleGlobalPool(NodeContext &c, bool isMax) {
  int32_t dt = c.dtype(0);
  if (!isFloatDType(dt))
    return c.fail("expects a floating-point input");
  int64_t r = c.rank(0);
  if (r < 3)
    return c.fail("expects rank >= 3");
  std::vector<int64_t> axes, keep(c.shape(0));
  int64_t count = 1;
  for (int64_t d = 2; d < r; ++d) {
    axes.push_back(d);
    count *= keep[d];
    keep[d] = 1;
  }
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Type et = c.elemType(dt);
  Value y;
  if (isMax) {
    y = buildReduce(b, loc, c.value(0), axes, lowestValue(b, loc, dt),
                    [](OpBuilder &b, Location l, Value acc, Value v) {
                      return (Value)arith::MaximumFOp::create(b, l, acc, v);
                    });
  } else {
    y = buildReduce(b, loc, c.value(0), axes, scalarConst(b, loc, et, 0.0),
                    [](OpBuilder &b, Location l, Value acc, Value v) {
                      return (Value)arith::AddFOp::create(b, l, acc, v);
                    });
    auto yt = cast<RankedTensorType>(y.getType());
    y = buildGeneric(b, loc, ValueRange{y},
                     {b.getMultiDimIdentityMap(yt.getRank())}, yt.getShape(),
                     et, [&](OpBuilder &b, Location l, ValueRange a) {
                       return (Value)arith::DivFOp::create(
                           b, l, a[0], scalarConst(b, l, et, count));
                     });
  }
  c.setOutput(0, reshapeTo(b, loc, y, keep), dt);
  return success();
}

} // namespace

void registerConvPoolOps(OpTable &t) {
  t["Conv"] = handleConv;
  t["ConvTranspose"] = handleConvTranspose;
  t["MaxPool"] = [](NodeContext &c) { return handlePool(c, true); };
  t["AveragePool"] = [](NodeContext &c) { return handlePool(c, false); };
  t["GlobalAveragePool"] = [](NodeContext &c) {
    return handleGlobalPool(c, false);
  };
  t["GlobalMaxPool"] = [](NodeContext &c) { return handleGlobalPool(c, true); };
}

} // namespace onnximport
} // namespace qcc
