//===- Awq.h - Activation-aware weight quantization (AWQ) -------*- C++ -*-===//
//
// AWQ (Lin et al., "AWQ: Activation-aware Weight Quantization for LLM
// Compression and Acceleration", 2023) protects the input channels that
// carry large activations: for a matmul Y = X W with W [K, N], each input
// channel j gets a factor s_j > 0, the weight rows become s_j W_j before
// rounding and the activations X_j / s_j (folded into their producer), so
// the product is unchanged in exact arithmetic while the rounding error of
// a row, seen at the output, shrinks by 1 / s_j for large s_j.
//
//   s_j = mean|x_j|^alpha, normalised to a geometric mean of 1 over the
//   extreme channels (s / sqrt(max s * min s)),
//
// with alpha chosen on a grid (0 = plain rounding, always a candidate) to
// minimise the layer's output error. With H = X^T X from calibration, the
// squared output error of a rounded weight W^ is exactly
// tr((W - W^)^T H (W - W^)) (hessianQuadraticErrors), so the search needs
// no model run: W^ = diag(1/s) deq(round(diag(s) W)), with the same
// rounding the weight quantizer applies afterwards. Matmuls reading the same
// activations share one s and their errors add up.
//
// Rounding is independent per output column for every scheme the weight
// kernels read (per-channel along axis 1, groups along axis 0), so the
// search may run on a subset of columns (evenly spaced) and scale the
// error up: cost K^2 * columns per candidate instead of K^2 * N.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_AWQ_H
#define QCC_QUANT_AWQ_H

#include "qcc/Quant/Rtn.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace qcc {
namespace quant {

/// Rounds the row-major [k, n] weight `w` (already multiplied by s) as the
/// weight quantizer will and writes the dequantized values (k * n floats)
/// to `restored`. `rowWeight` (k entries) is the diagonal of the Hessian of
/// the scaled activations, H_jj / s_j^2, for rounders that weight rows by it.
using AwqRounder =
    std::function<Status(const float *w, int64_t k, int64_t n,
                         const double *rowWeight, float *restored)>;

struct AwqOptions {
  /// alpha takes the values i / gridSize for i in [0, gridSize].
  int64_t gridSize = 20;
  /// Columns of each matrix the search rounds and measures (evenly spaced);
  /// 0 or >= N: all.
  int64_t searchColumns = 256;
  /// Threads for the error evaluation (0 = all hardware threads).
  unsigned numThreads = 0;
};

/// One weight that reads the shared activations: row-major [k, n].
struct AwqMatrix {
  const float *w = nullptr;
  int64_t n = 0;
};

struct AwqResult {
  /// The chosen exponent.
  double alpha = 0;
  /// s_j, k entries: the weight rows are multiplied by s, the activations
  /// divided by it.
  std::vector<float> scale;
  /// Estimated squared output error tr(dW^T H dW), summed over the
  /// matrices, per grid point (gridSize + 1 entries; index i is alpha =
  /// i / gridSize).
  std::vector<double> errors;
  /// tr(W^T H W) summed over the matrices (same estimate): the reference
  /// for relative errors.
  double reference = 0;
  /// errors[0] (plain rounding) and errors at the chosen alpha.
  double errorBefore = 0, errorAfter = 0;
};

/// The normalised scales mean|x|^alpha for `meanAbs` (k entries, >= 0).
/// Channels with mean|x| = 0 keep s = 1; others are floored at 1e-5 of the
/// largest mean|x| before the power, so a nearly dead channel cannot get an
/// extreme factor. Writes k entries to `scale`.
void computeAwqScales(const double *meanAbs, int64_t k, double alpha,
                      std::vector<float> &scale);

/// Searches alpha for the matrices `matrices` that read activations with
/// K = `k` channels, `h` their [k, k] X^T X (row-major; any positive
/// multiple) and `meanAbs` their mean |x| per channel. Fails on a bad
/// option, an empty or non-finite input, or when `round` fails.
Status searchAwqScales(const std::vector<AwqMatrix> &matrices, int64_t k,
                       const double *h, const double *meanAbs,
                       const AwqRounder &round, const AwqOptions &options,
                       AwqResult &result);

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_AWQ_H
