//===- ResizeOps.cpp - ONNX Resize ----------------------------------------===//
//
// Resize precomputes, per resized axis, the source indices and weights of
// every output position on the host and gathers with tensor.extract.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

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

void registerResizeOps(OpTable &t) { t["Resize"] = handleResize; }

} // namespace onnximport
} // namespace qcc
