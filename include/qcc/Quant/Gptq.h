//===- Gptq.h - Output-aware weight quantization (GPTQ) ---------*- C++ -*-===//
//
// GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", 2022) quantizes a [K, N] weight so
// that the layer's outputs X W, not the weights, stay close: it minimizes
// tr(dW^T H dW) with H = X^T X from calibration. Rows of W (input channels,
// the reduction axis K) are quantized one after the other; each row's
// rounding error is spread over the rows not yet quantized through the upper
// Cholesky factor U of H^-1 (H^-1 = U^T U), in blocks of rows with lazy
// updates of the rest. Output columns are independent given U, so the work
// splits over column chunks and threads.
//
// Scales follow the scheme's layout (Scheme.h), so the result packs like an
// RTN result: a group's scales (int4 groups along K, symmetric or
// asymmetric) are chosen when GPTQ reaches the group's first row, from the
// rows as GPTQ has updated them by then; per-channel scales (int8) come from
// the original weights.
//
// With U from a damped H (H + lambda I), the final objective on the damped
// H is exactly the sum of the squared scaled errors (err_k / U_kk)^2 GPTQ
// computes on the way, since dW = U^T E and U H U^T = I. (U itself is never
// formed: see GptqHessian.)
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_GPTQ_H
#define QCC_QUANT_GPTQ_H

#include "qcc/Quant/Rtn.h"

#include <cstdint>
#include <vector>

namespace qcc {
namespace quant {

/// How a group's (or channel's) scale is chosen from the values it covers.
enum class ClipMode {
  /// The full range: the largest magnitude maps to -2^(bits-1) for signed
  /// symmetric schemes (as onnxruntime's MatMulNBits RTN), min/max
  /// otherwise.
  None,
  /// The shrink ratio (1, 0.98, ..., 0.82) with the smallest squared
  /// weight error (quantizeWeightRtn's search).
  Mse,
  /// As Mse, with each row's error weighted by the mean square of the
  /// activation channel it multiplies (the diagonal of X^T X): an
  /// output-aware clip.
  Activation,
};

/// What GPTQ needs from a Hessian, for one row order: with U the upper
/// Cholesky factor of the damped inverse, (P (H + lambda I) P^T)^-1 = U^T U,
/// the coefficients U_ij / U_ii and 1 / U_ii. Both come from the Cholesky
/// factor of the (reversed) Hessian itself, without an inverse.
struct GptqHessian {
  int64_t k = 0;
  /// Row order: `order[i]` is the weight row quantized at step i (the
  /// identity unless act-order).
  std::vector<int64_t> order;
  /// [k, k], row-major, in the permuted order: U_ij / U_ii above the
  /// diagonal (what row i's rounding error, times this, takes off row j),
  /// 0 elsewhere.
  std::vector<double> coef;
  /// 1 / U_ii: row i's rounding error times this is its share of the
  /// damped objective's square root.
  std::vector<double> errorScale;
  /// The undamped diagonal of H, in the original order (for
  /// ClipMode::Activation and reports).
  std::vector<double> diagonal;
  /// The damping lambda that was added (a fraction of the mean diagonal,
  /// raised until the Cholesky factorization succeeds).
  double damping = 0;
  /// Input channels that calibration never saw non-zero (H_ii = 0).
  int64_t deadChannels = 0;
};

struct GptqOptions {
  /// Damping as a fraction of the mean of H's diagonal.
  double dampening = 0.01;
  /// Rows per lazy-update block; a group never straddles two blocks (the
  /// block is rounded up to a multiple of the group size).
  int64_t blockSize = 128;
  /// Quantize rows by decreasing H_ii ("act-order"). Group scales are then
  /// fixed up front from the original weights ("static groups") so the
  /// layout stays that of the scheme.
  bool actOrder = false;
  /// How each group's / channel's scale is chosen.
  ClipMode clip = ClipMode::None;
  /// Worker threads over column chunks (0 = all hardware threads).
  unsigned numThreads = 0;
};

/// Factors the symmetric [k, k] Hessian `h` (row-major; any positive
/// multiple of X^T X): dead channels (H_ii <= 0) get H_ii = 1, lambda =
/// dampening * mean(diag) is added to the diagonal (multiplied by 10 up to
/// 6 times while the factorization fails), and U is the upper Cholesky
/// factor of the inverse in the row order `actOrder` asks for. Fails on a
/// non-finite H.
Status prepareGptqHessian(const double *h, int64_t k,
                          const GptqOptions &options, GptqHessian &out);

/// GPTQ of the row-major [k, n] weight `w` with `hessian` (from
/// prepareGptqHessian with the same actOrder). Supports the schemes the
/// weight kernels read: per-channel along axis 1 and per-group along
/// axis 0, symmetric (signed) or asymmetric (unsigned); `params` and `codes`
/// (k * n entries) are as quantizeRtn's. `objective`, when not null,
/// receives tr(dW^T H dW) for the undamped H (dead channels at 0), from
/// what GPTQ accumulated on the way (no extra pass over H).
Status quantizeWeightGptq(const float *w, int64_t k, int64_t n,
                          const Scheme &scheme, const GptqHessian &hessian,
                          const GptqOptions &options, QuantParams &params,
                          std::vector<int32_t> &codes,
                          double *objective = nullptr);

/// RTN with the scale choice `clip` (ClipMode::Activation needs `rowWeight`,
/// k entries, e.g. the diagonal of X^T X; the others ignore it).
Status quantizeWeightRtnClip(const float *w, int64_t k, int64_t n,
                             const Scheme &scheme, ClipMode clip,
                             const double *rowWeight, QuantParams &params,
                             std::vector<int32_t> &codes);

/// tr(D^T H D) for the row-major [k, n] matrix D = `a - b` (`a` when `b` is
/// null) and the
/// symmetric [k, k] `h`: the squared output error ||X (a - b)||^2 when
/// H = X^T X. `numThreads` as GptqOptions.
double hessianQuadraticError(const float *a, const float *b, int64_t k,
                             int64_t n, const double *h,
                             unsigned numThreads = 0);

/// hessianQuadraticError for several `b` (null: D = a) in one pass.
std::vector<double> hessianQuadraticErrors(const float *a,
                                           const std::vector<const float *> &bs,
                                           int64_t k, int64_t n,
                                           const double *h,
                                           unsigned numThreads = 0);

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_GPTQ_H
