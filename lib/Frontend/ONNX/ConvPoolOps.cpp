//===- ConvPoolOps.cpp - convolutions, pooling, resize --------------------===//
//
// Everything runs in 2-D NCHW: 1-D ops get a unit H dimension. Padding is an
// explicit tensor.pad in front of the named linalg op (zero for conv and
// average pool, -inf for max pool). ConvTranspose is a stride-1 convolution
// over the zero-dilated, padded input with the flipped weight. Resize
// precomputes, per resized axis, the source indices and weights of every
// output position on the host and gathers with tensor.extract.
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

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

struct AxisTaps {
  int64_t taps = 0;
  std::vector<int64_t> idx;   // [out][taps]
  std::vector<double> weight; // [out][taps]
  std::vector<bool> extrap;   // [out]
};

/// Port of the ONNX reference's per-axis interpolation set-up.
AxisTaps computeTaps(const std::string &mode, const std::string &ctm,
                     const std::string &nearestMode, double cubicA,
                     bool antialias, bool excludeOutside, double scale,
                     int64_t inW, int64_t outW, double roiLo, double roiHi) {
  AxisTaps t;
  double outWf = scale * inW;
  auto coeffs = [&](double ratio) -> std::vector<double> {
    if (mode == "nearest") {
      if (ratio == std::floor(ratio))
        return {0, 1};
      if (nearestMode == "round_prefer_ceil")
        return {(double)(ratio < 0.5), (double)(ratio >= 0.5)};
      if (nearestMode == "floor")
        return {1, 0};
      if (nearestMode == "ceil")
        return {0, 1};
      return {(double)(ratio <= 0.5), (double)(ratio > 0.5)};
    }
    if (mode == "linear") {
      if (!antialias)
        return {1 - ratio, ratio};
      double sc = std::min(scale, 1.0);
      int64_t start = (int64_t)(std::floor(-1 / sc) + 1);
      int64_t fp = 2 - 2 * start;
      std::vector<double> cs;
      double sum = 0;
      for (int64_t i = start; i < start + fp; ++i) {
        double v = std::clamp(1 - std::fabs((i - ratio) * sc), 0.0, 1.0);
        cs.push_back(v);
        sum += v;
      }
      for (double &v : cs)
        v /= sum;
      return cs;
    }
    double A = cubicA;
    if (!antialias) {
      double r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
      return {((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A,
              ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
              ((A + 2) * q - (A + 3)) * q * q + 1,
              ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A};
    }
    double sc = std::min(scale, 1.0);
    auto cc = [&](double x) {
      x = std::fabs(x);
      double x2 = x * x, x3 = x * x2;
      if (x <= 1)
        return (A + 2) * x3 - (A + 3) * x2 + 1;
      if (x < 2)
        return A * x3 - 5 * A * x2 + 8 * A * x - 4 * A;
      return 0.0;
    };
    int64_t is = (int64_t)(std::floor(-2 / sc) + 1), ie = 2 - is;
    std::vector<double> cs;
    double sum = 0;
    for (int64_t i = is; i < ie; ++i) {
      cs.push_back(cc(sc * (i - ratio)));
      sum += cs.back();
    }
    for (double &v : cs)
      v /= sum;
    return cs;
  };
  for (int64_t y = 0; y < outW; ++y) {
    double x;
    bool ex = false;
    if (ctm == "align_corners")
      x = outWf == 1 ? 0 : y * (double)(inW - 1) / (outWf - 1);
    else if (ctm == "asymmetric")
      x = y / scale;
    else if (ctm == "tf_crop_and_resize") {
      x = outWf == 1 ? (roiHi - roiLo) * (inW - 1) / 2
                     : y * (roiHi - roiLo) * (inW - 1) / (outWf - 1);
      x += roiLo * (inW - 1);
      ex = x < 0 || x > inW - 1;
    } else if (ctm == "pytorch_half_pixel")
      x = outWf == 1 ? -0.5 : (y + 0.5) / scale - 0.5;
    else if (ctm == "half_pixel_symmetric") {
      double adj = outW / outWf, center = inW / 2.0;
      x = center * (1 - adj) + (y + 0.5) / scale - 0.5;
    } else
      x = (y + 0.5) / scale - 0.5;
    double xi = std::floor(x);
    double ratio = x == xi ? 1.0 : x - xi;
    std::vector<double> cs = coeffs(ratio);
    int64_t n = cs.size();
    if (!t.taps)
      t.taps = n;
    int64_t pad = (n + 1) / 2;
    double xp = x + pad;
    int64_t pp = (int64_t)std::floor(xp);
    double frac = xp - pp;
    int64_t off;
    if (n % 2 == 0)
      off = frac == 0 ? -(n / 2) : -(n / 2) + 1;
    else
      off = frac <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1;
    int64_t start = pp + off;
    std::vector<int64_t> ids(n);
    for (int64_t k = 0; k < n; ++k)
      ids[k] = start + k - pad;
    if (excludeOutside) {
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        if (ids[k] < 0 || ids[k] >= inW)
          cs[k] = 0;
        sum += cs[k];
      }
      if (sum == 0)
        sum = 1;
      for (double &v : cs)
        v /= sum;
    }
    for (int64_t k = 0; k < n; ++k) {
      t.idx.push_back(std::clamp<int64_t>(ids[k], 0, inW - 1));
      t.weight.push_back(ex ? 0.0 : cs[k]);
    }
    t.extrap.push_back(ex);
  }
  return t;
}

LogicalResult handleResize(NodeContext &c) {
  int32_t dt = c.dtype(0);
  int64_t r = c.rank(0);
  const auto &xs = c.shape(0);
  std::string mode = c.attrString("mode", "nearest");
  std::string ctm = c.attrString("coordinate_transformation_mode",
                                 c.opset < 11 ? "asymmetric" : "half_pixel");
  std::string nearestMode = c.attrString(
      "nearest_mode", c.opset < 11 ? "floor" : "round_prefer_floor");
  bool antialias = c.attrInt("antialias", 0);
  bool exclude = c.attrInt("exclude_outside", 0);
  double cubicA = c.attrFloat("cubic_coeff_a", -0.75f);
  double extrapValue = c.attrFloat("extrapolation_value", 0.0f);
  std::string policy = c.attrString("keep_aspect_ratio_policy", "stretch");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return c.unsupportedAttr("mode=" + mode);
  if (mode == "nearest" && antialias)
    return c.unsupportedAttr("antialias=1");
  if (mode != "nearest" && !isFloatDType(dt))
    return c.fail("linear and cubic modes need a floating-point input");
  static const char *ctms[] = {"half_pixel",         "half_pixel_symmetric",
                               "pytorch_half_pixel", "align_corners",
                               "asymmetric",         "tf_crop_and_resize"};
  if (!llvm::is_contained(ctms, ctm))
    return c.unsupportedAttr("coordinate_transformation_mode=" + ctm);
  static const char *nms[] = {"round_prefer_floor", "round_prefer_ceil",
                              "floor", "ceil"};
  if (!llvm::is_contained(nms, nearestMode))
    return c.unsupportedAttr("nearest_mode=" + nearestMode);
  std::vector<int64_t> axes = c.attrInts("axes");
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i)
      axes.push_back(i);
  for (int64_t &a : axes) {
    auto n = c.normAxis(a, r);
    if (failed(n))
      return failure();
    a = *n;
  }
  size_t na = axes.size();
  std::vector<double> scales(r, 1.0), roiLo(r, 0.0), roiHi(r, 1.0);
  std::vector<int64_t> out(xs);
  size_t scalesIdx = c.opset < 11 ? 1 : 2;
  bool haveScales = false;
  if (c.hasInput(scalesIdx)) {
    auto s = c.constFloats(scalesIdx, "scales");
    if (failed(s))
      return failure();
    if (!s->empty()) {
      if (s->size() != na)
        return c.fail("scales must have one entry per axis");
      for (size_t i = 0; i < na; ++i) {
        if (!((*s)[i] > 0) || (*s)[i] * xs[axes[i]] > 1e12)
          return c.fail("scales must be positive and finite");
        scales[axes[i]] = (*s)[i];
        out[axes[i]] = (int64_t)((double)(float)(*s)[i] * xs[axes[i]]);
      }
      haveScales = true;
    }
  }
  if (!haveScales) {
    if (c.opset < 11 || !c.hasInput(3))
      return c.fail("needs scales or sizes");
    auto sz = c.constInts(3, "sizes");
    if (failed(sz))
      return failure();
    if (sz->size() != na)
      return c.fail("sizes must have one entry per axis");
    for (size_t i = 0; i < na; ++i) {
      out[axes[i]] = (*sz)[i];
      scales[axes[i]] = (double)(*sz)[i] / xs[axes[i]];
    }
    if (policy != "stretch") {
      if (policy != "not_larger" && policy != "not_smaller")
        return c.unsupportedAttr("keep_aspect_ratio_policy=" + policy);
      double sc = scales[axes[0]];
      for (int64_t a : axes)
        sc = policy == "not_larger" ? std::min(sc, scales[a])
                                    : std::max(sc, scales[a]);
      for (int64_t a : axes) {
        scales[a] = sc;
        out[a] = (int64_t)(sc * xs[a] + 0.5);
      }
    }
  }
  std::string why;
  if (failed(checkShapeSize(out, why)))
    return c.fail("output would have shape " + shapeStr(out) + " with " + why);
  if (ctm == "tf_crop_and_resize") {
    auto roi = c.constFloats(1, "roi");
    if (failed(roi))
      return failure();
    if (roi->size() != 2 * na)
      return c.fail("roi must have 2 entries per axis");
    for (size_t i = 0; i < na; ++i) {
      roiLo[axes[i]] = (*roi)[i];
      roiHi[axes[i]] = (*roi)[na + i];
    }
  }
  for (int64_t d = 0; d < r; ++d)
    if (out[d] < 0 || (xs[d] == 0 && out[d] != 0))
      return c.fail("invalid output size");
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Type et = c.elemType(dt);
  Value v = c.value(0);
  std::vector<int64_t> cur(xs);
  for (int64_t a = 0; a < r; ++a) {
    bool identity = std::fabs(scales[a] - 1.0) < 1e-9 && out[a] == cur[a] &&
                    std::fabs(roiLo[a]) < 1e-9 &&
                    std::fabs(roiHi[a] - 1.0) < 1e-9;
    if (identity)
      continue;
    if (out[a] == 0 || cur[a] == 0) {
      cur[a] = out[a];
      v = emptyTensor(b, loc, cur, et);
      continue;
    }
    AxisTaps t = computeTaps(mode, ctm, nearestMode, cubicA, antialias, exclude,
                             scales[a], cur[a], out[a], roiLo[a], roiHi[a]);
    std::vector<int64_t> next(cur);
    next[a] = out[a];
    int64_t o = out[a], n = t.taps;
    bool nearest = mode == "nearest";
    bool anyExtrap = llvm::is_contained(t.extrap, true);
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    AffineMap am =
        AffineMap::get(r, 0, {getAffineDimExpr(a, c.ctx())}, c.ctx());
    // One index table per tap (nearest: the tap whose weight is 1).
    int64_t usedTaps = nearest ? 1 : n;
    for (int64_t k = 0; k < usedTaps; ++k) {
      HostTensor it(kInt64, {o});
      for (int64_t y = 0; y < o; ++y) {
        int64_t pick = k;
        if (nearest)
          pick = t.weight[y * n] >= 0.5 ? 0 : 1;
        it.ints[y] = t.idx[y * n + pick];
      }
      ins.push_back(hostConstant(b, loc, it, c.resourceThreshold()));
      maps.push_back(am);
    }
    if (!nearest)
      for (int64_t k = 0; k < n; ++k) {
        HostTensor wt(dt, {o});
        for (int64_t y = 0; y < o; ++y)
          wt.floats[y] = t.weight[y * n + k];
        ins.push_back(hostConstant(b, loc, wt, c.resourceThreshold()));
        maps.push_back(am);
      }
    if (anyExtrap) {
      HostTensor m(kBool, {o});
      for (int64_t y = 0; y < o; ++y)
        m.ints[y] = t.extrap[y];
      ins.push_back(hostConstant(b, loc, m, c.resourceThreshold()));
      maps.push_back(am);
    }
    Value src = v;
    v = buildGeneric(
        b, loc, ins, maps, next, et,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < r; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          Value acc;
          for (int64_t k = 0; k < usedTaps; ++k) {
            coords[a] =
                arith::IndexCastOp::create(b, l, b.getIndexType(), args[k]);
            Value e = tensor::ExtractOp::create(b, l, src, coords);
            if (nearest) {
              acc = e;
              break;
            }
            Value p = arith::MulFOp::create(b, l, e, args[usedTaps + k]);
            acc = acc ? (Value)arith::AddFOp::create(b, l, acc, p) : p;
          }
          if (anyExtrap)
            acc = arith::SelectOp::create(
                b, l, args[args.size() - 2],
                nearest && !isFloatDType(dt)
                    ? intConst(b, l, et, (int64_t)extrapValue)
                    : scalarConst(b, l, et, extrapValue),
                acc);
          return acc;
        });
    cur = next;
  }
  c.setOutput(0, v, dt);
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
  t["Resize"] = handleResize;
}

} // namespace onnximport
} // namespace qcc
