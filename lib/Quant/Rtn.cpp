//===- Rtn.cpp - Round-to-nearest quantization of matrices ----------------===//

#include "qcc/Quant/Rtn.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qcc::quant;

ScaleZeroPoint qcc::quant::chooseScaleZeroPoint(double minVal, double maxVal,
                                                const Scheme &scheme) {
  const double qmin = double(scheme.getMinCode());
  const double qmax = double(scheme.getMaxCode());
  // NaN bounds (e.g. from an empty range) count as 0.
  if (!(minVal == minVal))
    minVal = 0;
  if (!(maxVal == maxVal))
    maxVal = 0;
  double scale;
  int32_t zeroPoint = 0;
  if (scheme.symmetric) {
    double amax = scheme.isSigned
                      ? std::max(std::fabs(minVal), std::fabs(maxVal))
                      : std::max(maxVal, 0.0);
    scale = amax / qmax;
  } else {
    double lo = std::min(minVal, 0.0), hi = std::max(maxVal, 0.0);
    scale = (hi - lo) / (qmax - qmin);
  }
  if (!(scale > 0) || !std::isfinite(scale))
    scale = scale > 0 ? double(std::numeric_limits<float>::max()) : 1.0;
  float fscale = float(scale);
  fscale = std::max(fscale, std::numeric_limits<float>::min());
  if (!scheme.symmetric) {
    double lo = std::min(minVal, 0.0);
    double zp = std::nearbyint(qmin - lo / double(fscale));
    zeroPoint = int32_t(std::clamp(zp, qmin, qmax));
  }
  return {fscale, zeroPoint};
}

ScaleZeroPoint qcc::quant::chooseFullRangeScale(double minVal, double maxVal,
                                                const Scheme &scheme) {
  if (!scheme.symmetric || !scheme.isSigned)
    return chooseScaleZeroPoint(minVal, maxVal, scheme);
  if (!(minVal == minVal))
    minVal = 0;
  if (!(maxVal == maxVal))
    maxVal = 0;
  double end = std::fabs(minVal) >= std::fabs(maxVal) ? minVal : maxVal;
  double scale = end / double(scheme.getMinCode());
  if (scale == 0 || !std::isfinite(scale))
    return chooseScaleZeroPoint(minVal, maxVal, scheme);
  float fscale = float(scale);
  float tiny = std::numeric_limits<float>::min();
  if (std::fabs(fscale) < tiny)
    fscale = std::copysign(tiny, fscale);
  return {fscale, 0};
}

int32_t qcc::quant::quantizeValue(float x, ScaleZeroPoint p,
                                  const Scheme &scheme) {
  const double qmin = double(scheme.getMinCode());
  const double qmax = double(scheme.getMaxCode());
  double v = double(x) / double(p.scale);
  if (v != v)
    return p.zeroPoint;
  // Clamping before the shift keeps the integer conversion in range; the
  // margin of 1 leaves rounding at the ends to the final clamp.
  v = std::clamp(v, qmin - p.zeroPoint - 1, qmax - p.zeroPoint + 1);
  double code = std::nearbyint(v) + p.zeroPoint;
  return int32_t(std::clamp(code, qmin, qmax));
}

static Status checkParams(int64_t k, int64_t n, const Scheme &scheme,
                          const QuantParams &params) {
  if (Status s = scheme.verifyShape(k, n); !s)
    return s;
  auto [rows, cols] = scheme.getParamShape(k, n);
  size_t count = size_t(rows * cols);
  if (params.rows != rows || params.cols != cols ||
      params.scales.size() != count || params.zeroPoints.size() != count)
    return Status::error("quantization parameters have shape " +
                         std::to_string(params.rows) + "x" +
                         std::to_string(params.cols) + ", the scheme needs " +
                         std::to_string(rows) + "x" + std::to_string(cols));
  return Status::success();
}

Status qcc::quant::computeRanges(const float *x, int64_t k, int64_t n,
                                 const Scheme &scheme, std::vector<float> &lo,
                                 std::vector<float> &hi) {
  if (Status s = scheme.verifyShape(k, n); !s)
    return s;
  int64_t count = scheme.getNumParams(k, n);
  const float inf = std::numeric_limits<float>::infinity();
  lo.assign(size_t(count), inf);
  hi.assign(size_t(count), -inf);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      float v = x[r * n + c];
      if (!std::isfinite(v))
        continue;
      int64_t p = scheme.getParamIndex(r, c, k, n);
      lo[p] = std::min(lo[p], v);
      hi[p] = std::max(hi[p], v);
    }
  for (int64_t p = 0; p < count; ++p)
    if (lo[p] > hi[p])
      lo[p] = hi[p] = 0;
  return Status::success();
}

static void resizeParams(int64_t k, int64_t n, const Scheme &scheme,
                         QuantParams &params) {
  auto [rows, cols] = scheme.getParamShape(k, n);
  params.rows = rows;
  params.cols = cols;
  params.scales.assign(size_t(rows * cols), 1.0f);
  params.zeroPoints.assign(size_t(rows * cols), 0);
}

Status qcc::quant::computeParams(const float *x, int64_t k, int64_t n,
                                 const Scheme &scheme, QuantParams &params) {
  std::vector<float> lo, hi;
  if (Status s = computeRanges(x, k, n, scheme, lo, hi); !s)
    return s;
  resizeParams(k, n, scheme, params);
  for (size_t p = 0; p < lo.size(); ++p) {
    ScaleZeroPoint szp = chooseScaleZeroPoint(lo[p], hi[p], scheme);
    params.scales[p] = szp.scale;
    params.zeroPoints[p] = szp.zeroPoint;
  }
  return Status::success();
}

Status qcc::quant::quantize(const float *x, int64_t k, int64_t n,
                            const Scheme &scheme, const QuantParams &params,
                            int32_t *codes) {
  if (Status s = checkParams(k, n, scheme, params); !s)
    return s;
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int64_t p = scheme.getParamIndex(r, c, k, n);
      codes[r * n + c] = quantizeValue(
          x[r * n + c], {params.scales[p], params.zeroPoints[p]}, scheme);
    }
  return Status::success();
}

Status qcc::quant::dequantize(const int32_t *codes, int64_t k, int64_t n,
                              const Scheme &scheme, const QuantParams &params,
                              float *out) {
  if (Status s = checkParams(k, n, scheme, params); !s)
    return s;
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int64_t p = scheme.getParamIndex(r, c, k, n);
      out[r * n + c] = dequantizeValue(
          codes[r * n + c], {params.scales[p], params.zeroPoints[p]});
    }
  return Status::success();
}

Status qcc::quant::quantizeRtn(const float *x, int64_t k, int64_t n,
                               const Scheme &scheme, QuantParams &params,
                               std::vector<int32_t> &codes) {
  if (Status s = computeParams(x, k, n, scheme, params); !s)
    return s;
  codes.resize(size_t(k * n));
  return quantize(x, k, n, scheme, params, codes.data());
}

Status qcc::quant::fakeQuantize(const float *x, int64_t k, int64_t n,
                                const Scheme &scheme, const QuantParams &params,
                                float *out) {
  if (Status s = checkParams(k, n, scheme, params); !s)
    return s;
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int64_t p = scheme.getParamIndex(r, c, k, n);
      ScaleZeroPoint szp{params.scales[p], params.zeroPoints[p]};
      out[r * n + c] =
          dequantizeValue(quantizeValue(x[r * n + c], szp, scheme), szp);
    }
  return Status::success();
}

Status qcc::quant::searchClip(const float *x, int64_t k, int64_t n,
                              const Scheme &scheme,
                              const ClipSearchOptions &options,
                              QuantParams &params, std::vector<float> *ratios) {
  if (options.gridSize <= 0 || !(options.maxShrink >= 0) ||
      options.maxShrink >= 1)
    return Status::error("clip search needs gridSize > 0 and maxShrink in "
                         "[0, 1)");
  std::vector<float> lo, hi;
  if (Status s = computeRanges(x, k, n, scheme, lo, hi); !s)
    return s;
  resizeParams(k, n, scheme, params);
  const size_t count = lo.size();
  std::vector<double> bestErr(count, std::numeric_limits<double>::infinity());
  std::vector<float> bestRatio(count, 1.0f);
  std::vector<ScaleZeroPoint> cand(count);
  std::vector<double> err(count);
  int64_t steps = std::max<int64_t>(
      1, int64_t(std::ceil(options.maxShrink * double(options.gridSize))));
  for (int64_t i = 0; i < steps; ++i) {
    double ratio = 1.0 - double(i) / double(options.gridSize);
    for (size_t p = 0; p < count; ++p)
      cand[p] = options.fullRange
                    ? chooseFullRangeScale(double(lo[p]) * ratio,
                                           double(hi[p]) * ratio, scheme)
                    : chooseScaleZeroPoint(double(lo[p]) * ratio,
                                           double(hi[p]) * ratio, scheme);
    std::fill(err.begin(), err.end(), 0.0);
    for (int64_t r = 0; r < k; ++r) {
      double w = options.rowImportance ? double(options.rowImportance[r]) : 1;
      for (int64_t c = 0; c < n; ++c) {
        float v = x[r * n + c];
        if (!std::isfinite(v))
          continue;
        int64_t p = scheme.getParamIndex(r, c, k, n);
        double d =
            double(v) -
            double(dequantizeValue(quantizeValue(v, cand[p], scheme), cand[p]));
        err[p] += w * d * d;
      }
    }
    for (size_t p = 0; p < count; ++p)
      if (err[p] < bestErr[p]) {
        bestErr[p] = err[p];
        bestRatio[p] = float(ratio);
        params.scales[p] = cand[p].scale;
        params.zeroPoints[p] = cand[p].zeroPoint;
      }
  }
  if (ratios)
    *ratios = std::move(bestRatio);
  return Status::success();
}

Status qcc::quant::quantizeWeightRtn(const float *x, int64_t k, int64_t n,
                                     const Scheme &scheme, QuantParams &params,
                                     std::vector<int32_t> &codes) {
  if (scheme.bits > 4)
    return quantizeRtn(x, k, n, scheme, params, codes);
  ClipSearchOptions options;
  options.gridSize = 50;
  options.maxShrink = 0.2;
  options.fullRange = true;
  if (Status s = searchClip(x, k, n, scheme, options, params); !s)
    return s;
  codes.resize(size_t(k * n));
  return quantize(x, k, n, scheme, params, codes.data());
}
