//===- Rtn.h - Round-to-nearest quantization of matrices --------*- C++ -*-===//
//
// Scales and zero points from ranges, quantization with round-half-to-even
// and clamping, dequantization, and the MSE-optimal clipping search that
// llama.cpp and AWQ run per channel or group ("search clip").
//
// Conventions (see Scheme.h for the parameter layout):
//  - symmetric: zero point 0, scale = max|x| / qmax with qmax = getMaxCode()
//    (so signed codes stay in [-qmax, qmax]; -2^(bits-1) is only reached by
//    clamping). Unsigned symmetric schemes represent [0, qmax * scale] only:
//    negative values clamp to 0 (meant for post-ReLU data).
//  - asymmetric: the range is widened to contain 0 (so 0 is exact, which
//    padding needs), scale = (max - min) / (qmax - qmin), zero point =
//    round_half_even(qmin - min / scale) clamped to [qmin, qmax].
//  - an empty or all-zero range gets scale 1 (codes of 0 values are the zero
//    point); scales never go below FLT_MIN.
//  - quantize: clamp(round_half_even(x / scale) + zeroPoint, qmin, qmax),
//    x / scale computed in double; NaN maps to the zero point.
//  - dequantize: scale * float(code - zeroPoint), in float like the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_RTN_H
#define QCC_QUANT_RTN_H

#include "qcc/Quant/Scheme.h"

#include <cstdint>
#include <vector>

namespace qcc {
namespace quant {

/// One scale and zero point.
struct ScaleZeroPoint {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};

/// The scales and zero points of a matrix, row-major in `rows x cols`
/// (Scheme::getParamShape). Zero points are all 0 for symmetric schemes.
struct QuantParams {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
};

/// The scale and zero point the scheme gives the real range [minVal, maxVal]
/// (the conventions in the file comment). Ignores the granularity.
ScaleZeroPoint chooseScaleZeroPoint(double minVal, double maxVal,
                                    const Scheme &scheme);

/// The "full range" choice for signed symmetric schemes (onnxruntime's
/// MatMulNBits RTN does the same): the end of [minVal, maxVal] with the
/// larger magnitude maps exactly to qmin = -2^(bits-1), so the scale is
/// negative when that end is positive; all 2^bits codes are used, and the
/// other end (at most as large) reaches at most qmax + 1 before clamping.
/// Other schemes: chooseScaleZeroPoint.
ScaleZeroPoint chooseFullRangeScale(double minVal, double maxVal,
                                    const Scheme &scheme);

/// Quantizes one value: clamp(rne(x / scale) + zeroPoint, qmin, qmax).
int32_t quantizeValue(float x, ScaleZeroPoint p, const Scheme &scheme);

/// Dequantizes one code: scale * float(code - zeroPoint).
inline float dequantizeValue(int32_t code, ScaleZeroPoint p) {
  return p.scale * float(code - p.zeroPoint);
}

/// Minimum and maximum of the finite elements each parameter covers, in
/// `lo` / `hi` (getNumParams entries; 0 for parameters that see only NaN).
Status computeRanges(const float *x, int64_t k, int64_t n, const Scheme &scheme,
                     std::vector<float> &lo, std::vector<float> &hi);

/// RTN parameters of the row-major [k, n] matrix `x` from its ranges.
Status computeParams(const float *x, int64_t k, int64_t n, const Scheme &scheme,
                     QuantParams &params);

/// Quantizes [k, n] `x` into `codes` (k * n entries, row-major) with
/// `params`, which must have the scheme's shape.
Status quantize(const float *x, int64_t k, int64_t n, const Scheme &scheme,
                const QuantParams &params, int32_t *codes);

/// Dequantizes [k, n] `codes` into `out` (k * n floats).
Status dequantize(const int32_t *codes, int64_t k, int64_t n,
                  const Scheme &scheme, const QuantParams &params, float *out);

/// computeParams then quantize: `codes` is resized to k * n.
Status quantizeRtn(const float *x, int64_t k, int64_t n, const Scheme &scheme,
                   QuantParams &params, std::vector<int32_t> &codes);

/// Quantize then dequantize into `out` (k * n floats) with `params`.
Status fakeQuantize(const float *x, int64_t k, int64_t n, const Scheme &scheme,
                    const QuantParams &params, float *out);

/// Options of the clipping search.
struct ClipSearchOptions {
  /// Ratios tried: 1 - i / gridSize for i in [0, maxShrink * gridSize).
  int64_t gridSize = 20;
  double maxShrink = 0.5;
  /// Optional weight per row k (e.g. E[x_k^2] of the activations feeding
  /// input channel k, the diagonal of X^T X / rows): the error minimized is
  /// sum_k importance[k] * (w - deq(q(w)))^2. Null means all 1.
  const float *rowImportance = nullptr;
  /// Signed symmetric schemes: candidates from chooseFullRangeScale instead
  /// of chooseScaleZeroPoint.
  bool fullRange = false;
};

/// For each parameter (tensor, channel or group), tries ranges shrunk by the
/// ratios of `options` and keeps the one with the smallest (weighted)
/// squared reconstruction error; ratio 1 (plain RTN) is always a candidate,
/// so the result is never worse than computeParams on the same objective.
/// Writes the parameters and, when `ratios` is non-null, the chosen ratio per
/// parameter.
Status searchClip(const float *x, int64_t k, int64_t n, const Scheme &scheme,
                  const ClipSearchOptions &options, QuantParams &params,
                  std::vector<float> *ratios = nullptr);

/// qcc's weight quantizer. Schemes of <= 4 bits: searchClip with
/// full-range scales (signed symmetric schemes) over the ratios 1, 0.98, ...,
/// 0.82 per parameter, then quantize. Measured on all-MiniLM-L6-v2 (int4,
/// groups of 128 along K, every MatMul weight): weight relative L2 0.128
/// with max|w| / 7, 0.112 full range, 0.105 full range + search; float
/// activations, mean embedding cosine over 200 WikiText-2 sentences 0.936,
/// 0.948, 0.959. Wider schemes: quantizeRtn.
Status quantizeWeightRtn(const float *x, int64_t k, int64_t n,
                         const Scheme &scheme, QuantParams &params,
                         std::vector<int32_t> &codes);

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_RTN_H
