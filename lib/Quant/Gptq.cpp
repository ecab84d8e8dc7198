//===- Gptq.cpp - Output-aware weight quantization (GPTQ) -----------------===//

#include "qcc/Quant/Gptq.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <thread>

using namespace qcc::quant;

// The row updates are K^2 N multiply-adds per layer: worth the host's widest
// vectors, which the portable build does not assume.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define QCC_MULTIVERSION                                                       \
  __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QCC_MULTIVERSION
#endif

namespace {

/// Output columns per work item: a block of GPTQ's lazy-update errors
/// (block * kChunk floats) stays in L2.
constexpr int64_t kChunk = 128;

unsigned resolveThreads(unsigned requested) {
  if (requested)
    return requested;
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

/// Runs fn(i) for i in [0, count) on up to `threads` threads. Each index
/// runs exactly once; results that must be deterministic are written per
/// index by the caller and combined in index order.
void parallelFor(int64_t count, unsigned threads,
                 const std::function<void(int64_t)> &fn) {
  unsigned workers =
      unsigned(std::min<int64_t>(count, int64_t(resolveThreads(threads))));
  if (workers <= 1) {
    for (int64_t i = 0; i < count; ++i)
      fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < count; i = next++)
      fn(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < workers; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
}

/// y[0, n) -= a * x[0, n).
QCC_MULTIVERSION void axpyNeg(float *__restrict y, const float *__restrict x,
                              float a, int64_t n) {
  for (int64_t c = 0; c < n; ++c)
    y[c] -= a * x[c];
}

/// y[0, n) += a * x[0, n).
QCC_MULTIVERSION void axpy(float *__restrict y, const float *__restrict x,
                           float a, int64_t n) {
  for (int64_t c = 0; c < n; ++c)
    y[c] += a * x[c];
}

/// Independent partial sums, so the reduction vectorizes without
/// reassociation (a fixed order: the same bits on every run).
QCC_MULTIVERSION double dot(const double *__restrict a,
                            const double *__restrict b, int64_t n) {
  constexpr int64_t lanes = 16;
  double part[lanes] = {};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int64_t l = 0; l < lanes; ++l)
      part[l] += a[i + l] * b[i + l];
  double s = 0;
  for (; i < n; ++i)
    s += a[i] * b[i];
  for (int64_t l = 0; l < lanes; ++l)
    s += part[l];
  return s;
}

/// In-place lower Cholesky factor of the row-major [k, k] `a` (only the
/// lower triangle is read and written). False on a non-positive pivot.
bool choleskyLower(std::vector<double> &a, int64_t k) {
  for (int64_t i = 0; i < k; ++i) {
    double *ri = a.data() + i * k;
    for (int64_t j = 0; j < i; ++j) {
      const double *rj = a.data() + j * k;
      ri[j] = (ri[j] - dot(ri, rj, j)) / rj[j];
    }
    double d = ri[i] - dot(ri, ri, i);
    if (!(d > 0) || !std::isfinite(d))
      return false;
    ri[i] = std::sqrt(d);
  }
  return true;
}

/// The shrink ratios the clip search tries (as quantizeWeightRtn).
constexpr int64_t kClipGrid = 50;
constexpr double kClipMaxShrink = 0.2;

/// Full-range scales for narrow signed symmetric schemes (the RTN
/// convention of quantizeWeightRtn), plain RTN scales otherwise.
bool usesFullRange(const Scheme &scheme) {
  return scheme.bits <= 4 && scheme.symmetric && scheme.isSigned;
}

ScaleZeroPoint chooseFor(double lo, double hi, const Scheme &scheme) {
  return usesFullRange(scheme) ? chooseFullRangeScale(lo, hi, scheme)
                               : chooseScaleZeroPoint(lo, hi, scheme);
}

/// The scale and zero point of `count` values (stride `stride`), with the
/// scale choice `clip`; `rowWeight` (count entries, stride 1) weights each
/// value's error for ClipMode::Activation.
ScaleZeroPoint chooseParams(const float *values, int64_t stride, int64_t count,
                            const Scheme &scheme, ClipMode clip,
                            const double *rowWeight) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t i = 0; i < count; ++i) {
    float v = values[i * stride];
    if (!std::isfinite(v))
      continue;
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  if (lo > hi)
    lo = hi = 0;
  ScaleZeroPoint best = chooseFor(lo, hi, scheme);
  if (clip == ClipMode::None)
    return best;
  double bestErr = std::numeric_limits<double>::infinity();
  int64_t steps = int64_t(std::ceil(kClipMaxShrink * double(kClipGrid)));
  for (int64_t s = 0; s < steps; ++s) {
    double ratio = 1.0 - double(s) / double(kClipGrid);
    ScaleZeroPoint cand = chooseFor(lo * ratio, hi * ratio, scheme);
    double err = 0;
    for (int64_t i = 0; i < count; ++i) {
      float v = values[i * stride];
      if (!std::isfinite(v))
        continue;
      double d = double(v) - double(dequantizeValue(
                                 quantizeValue(v, cand, scheme), cand));
      double w = clip == ClipMode::Activation && rowWeight ? rowWeight[i] : 1;
      err += w * d * d;
    }
    if (err < bestErr) {
      bestErr = err;
      best = cand;
    }
  }
  return best;
}

Status checkGptqScheme(int64_t k, int64_t n, const Scheme &scheme) {
  if (Status s = scheme.verifyShape(k, n); !s)
    return s;
  bool perChannel =
      scheme.granularity == Granularity::PerChannel && scheme.axis == 1;
  bool perGroup =
      scheme.granularity == Granularity::PerGroup && scheme.axis == 0;
  if (!perChannel && !perGroup)
    return Status::error("gptq supports per-channel scales along the output "
                         "axis and groups along K only");
  return Status::success();
}

} // namespace

Status qcc::quant::prepareGptqHessian(const double *h, int64_t k,
                                      const GptqOptions &options,
                                      GptqHessian &out) {
  if (k <= 0)
    return Status::error("gptq needs a non-empty hessian");
  if (!(options.dampening > 0) || !std::isfinite(options.dampening))
    return Status::error("gptq dampening must be positive");
  out = GptqHessian();
  out.k = k;
  out.diagonal.resize(static_cast<size_t>(k));
  double diagSum = 0;
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < k; ++j)
      if (!std::isfinite(h[i * k + j]))
        return Status::error("the hessian has a non-finite entry at (" +
                             std::to_string(i) + ", " + std::to_string(j) +
                             ")");
    double d = h[i * k + i];
    out.diagonal[i] = std::max(d, 0.0);
    if (d <= 0)
      ++out.deadChannels;
    diagSum += d > 0 ? d : 1.0;
  }
  out.order.resize(static_cast<size_t>(k));
  std::iota(out.order.begin(), out.order.end(), int64_t(0));
  if (options.actOrder)
    std::sort(out.order.begin(), out.order.end(), [&](int64_t a, int64_t b) {
      return out.diagonal[a] != out.diagonal[b]
                 ? out.diagonal[a] > out.diagonal[b]
                 : a < b;
    });
  double lambda = options.dampening * diagSum / double(k);
  // B = J P H P^T J (J reverses the order): with B = L L^T,
  // (P H P^T)^-1 = U^T U for the upper U = J L^-1 J, so U^-T = J L^T J and
  // GPTQ's coefficients U_ij / U_ii = -L_{k-1-i, k-1-j} / L_{k-1-j, k-1-j}
  // and 1 / U_ii = L_{k-1-i, k-1-i} come from L alone: no inverse.
  std::vector<double> b(size_t(k * k));
  for (int attempt = 0; attempt < 7; ++attempt, lambda *= 10) {
    for (int64_t i = 0; i < k; ++i) {
      int64_t ri = out.order[k - 1 - i];
      for (int64_t j = 0; j <= i; ++j) {
        int64_t rj = out.order[k - 1 - j];
        double v = h[ri * k + rj];
        if (ri == rj)
          v = (v > 0 ? v : 1.0) + lambda;
        else if (h[ri * k + ri] <= 0 || h[rj * k + rj] <= 0)
          v = 0; // A dead channel correlates with nothing.
        b[i * k + j] = v;
      }
    }
    if (!choleskyLower(b, k))
      continue;
    out.coef.assign(static_cast<size_t>(k * k), 0.0);
    out.errorScale.resize(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) {
      const double *li = b.data() + (k - 1 - i) * k;
      out.errorScale[i] = li[k - 1 - i];
      for (int64_t j = i + 1; j < k; ++j)
        out.coef[i * k + j] = -li[k - 1 - j] / b[(k - 1 - j) * k + (k - 1 - j)];
    }
    out.damping = lambda;
    return Status::success();
  }
  return Status::error("the damped hessian is not positive definite");
}

Status qcc::quant::quantizeWeightGptq(const float *w, int64_t k, int64_t n,
                                      const Scheme &scheme,
                                      const GptqHessian &hessian,
                                      const GptqOptions &options,
                                      QuantParams &params,
                                      std::vector<int32_t> &codes,
                                      double *objective) {
  if (Status s = checkGptqScheme(k, n, scheme); !s)
    return s;
  if (hessian.k != k || hessian.coef.size() != size_t(k * k) ||
      hessian.errorScale.size() != size_t(k) ||
      hessian.order.size() != size_t(k))
    return Status::error("the hessian is " + std::to_string(hessian.k) + "x" +
                         std::to_string(hessian.k) + ", the weight has K = " +
                         std::to_string(k));
  bool identityOrder = true;
  for (int64_t i = 0; i < k; ++i)
    identityOrder &= hessian.order[i] == i;
  const bool grouped = scheme.granularity == Granularity::PerGroup;
  const int64_t group = grouped ? scheme.groupSize : k;
  int64_t block = std::max<int64_t>(options.blockSize, 1);
  if (grouped)
    block = (block + group - 1) / group * group;

  auto [pr, pc] = scheme.getParamShape(k, n);
  params.rows = pr;
  params.cols = pc;
  params.scales.assign(size_t(pr * pc), 1.0f);
  params.zeroPoints.assign(size_t(pr * pc), 0);
  codes.assign(size_t(k * n), 0);
  const std::vector<double> &diag = hessian.diagonal;
  const double *rowWeight = diag.size() == size_t(k) ? diag.data() : nullptr;
  if (options.clip == ClipMode::Activation && !rowWeight)
    return Status::error("activation-weighted clipping needs the hessian's "
                         "diagonal");

  // Parameters fixed before the sweep: per-channel scales, and the static
  // groups of act-order, from the original weights.
  const bool staticParams = !grouped || !identityOrder;
  if (staticParams)
    for (int64_t g0 = 0; g0 < k; g0 += group)
      for (int64_t c = 0; c < n; ++c) {
        ScaleZeroPoint p =
            chooseParams(w + g0 * n + c, n, group, scheme, options.clip,
                         rowWeight ? rowWeight + g0 : nullptr);
        int64_t idx = scheme.getParamIndex(g0, c, k, n);
        params.scales[idx] = p.scale;
        params.zeroPoints[idx] = p.zeroPoint;
      }

  const int64_t numChunks = (n + kChunk - 1) / kChunk;
  std::vector<double> chunkLoss(size_t(numChunks), 0.0);
  parallelFor(numChunks, options.numThreads, [&](int64_t chunk) {
    const int64_t n0 = chunk * kChunk, nc = std::min(kChunk, n - n0);
    // The chunk's columns, rows in GPTQ's order.
    std::vector<float> wc(size_t(k * nc));
    for (int64_t i = 0; i < k; ++i)
      std::copy_n(w + hessian.order[i] * n + n0, nc, wc.data() + i * nc);
    std::vector<float> err(size_t(block * nc));
    std::vector<ScaleZeroPoint> rowParams(static_cast<size_t>(nc));
    double loss = 0;
    for (int64_t b0 = 0; b0 < k; b0 += block) {
      const int64_t b1 = std::min(k, b0 + block);
      for (int64_t i = b0; i < b1; ++i) {
        const int64_t row = hessian.order[i];
        float *wi = wc.data() + i * nc;
        if (!staticParams && row % group == 0) {
          // The group's rows as GPTQ has updated them: i .. i + group - 1
          // (the identity order keeps a group contiguous and in one block).
          for (int64_t c = 0; c < nc; ++c) {
            ScaleZeroPoint p =
                chooseParams(wi + c, nc, group, scheme, options.clip,
                             rowWeight ? rowWeight + row : nullptr);
            int64_t idx = scheme.getParamIndex(row, n0 + c, k, n);
            params.scales[idx] = p.scale;
            params.zeroPoints[idx] = p.zeroPoint;
          }
        }
        for (int64_t c = 0; c < nc; ++c) {
          int64_t idx = scheme.getParamIndex(row, n0 + c, k, n);
          rowParams[c] = {params.scales[idx], params.zeroPoints[idx]};
        }
        const double scale = hessian.errorScale[i];
        float *e = err.data() + (i - b0) * nc;
        int32_t *out = codes.data() + row * n + n0;
        const float *original = w + row * n + n0;
        for (int64_t c = 0; c < nc; ++c) {
          float v = std::isfinite(wi[c]) ? wi[c] : 0.0f;
          int32_t q = quantizeValue(v, rowParams[c], scheme);
          out[c] = q;
          double deq = double(dequantizeValue(q, rowParams[c]));
          // The objective's share is this step's residual; what later rows
          // compensate is the residual against the original weight.
          double residual = (double(v) - deq) * scale;
          loss += residual * residual;
          e[c] = std::isfinite(original[c]) ? float(double(original[c]) - deq)
                                            : 0.0f;
        }
        // The damped objective counts lambda (and 1 for a dead channel) on
        // this row's diagonal; the output error does not.
        double extra = hessian.damping + (hessian.diagonal[row] > 0 ? 0.0 : 1.0);
        double rowSquares = 0;
        for (int64_t c = 0; c < nc; ++c)
          rowSquares += double(e[c]) * double(e[c]);
        loss -= extra * rowSquares;
        // Spread this row's error over the block's later rows.
        const double *ci = hessian.coef.data() + i * k;
        for (int64_t j = i + 1; j < b1; ++j)
          axpyNeg(wc.data() + j * nc, e, float(ci[j]), nc);
      }
      // Lazy update of the rows after the block.
      for (int64_t j = b1; j < k; ++j) {
        float *wj = wc.data() + j * nc;
        for (int64_t i = b0; i < b1; ++i)
          axpyNeg(wj, err.data() + (i - b0) * nc,
                  float(hessian.coef[i * k + j]), nc);
      }
    }
    chunkLoss[chunk] = loss;
  });
  if (objective)
    *objective = std::max(
        0.0, std::accumulate(chunkLoss.begin(), chunkLoss.end(), 0.0));
  return Status::success();
}

Status qcc::quant::quantizeWeightRtnClip(const float *w, int64_t k, int64_t n,
                                         const Scheme &scheme, ClipMode clip,
                                         const double *rowWeight,
                                         QuantParams &params,
                                         std::vector<int32_t> &codes) {
  if (clip == ClipMode::Activation && !rowWeight)
    return Status::error("activation-weighted clipping needs the activations' "
                         "mean squares");
  ClipSearchOptions options;
  options.fullRange = usesFullRange(scheme);
  std::vector<float> importance;
  if (clip == ClipMode::None) {
    options.gridSize = 1;
    options.maxShrink = 0;
  } else {
    options.gridSize = kClipGrid;
    options.maxShrink = kClipMaxShrink;
    if (clip == ClipMode::Activation) {
      importance.assign(rowWeight, rowWeight + k);
      options.rowImportance = importance.data();
    }
  }
  if (Status s = searchClip(w, k, n, scheme, options, params); !s)
    return s;
  codes.resize(size_t(k * n));
  return quantize(w, k, n, scheme, params, codes.data());
}

std::vector<double> qcc::quant::hessianQuadraticErrors(
    const float *a, const std::vector<const float *> &bs, int64_t k, int64_t n,
    const double *h, unsigned numThreads) {
  const size_t m = bs.size();
  if (k <= 0 || n <= 0 || m == 0)
    return std::vector<double>(m, 0.0);
  // Twice the strict upper triangle, so each row's sum runs over j > i only.
  std::vector<float> upper(static_cast<size_t>(k * k), 0.0f);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = i; j < k; ++j)
      upper[i * k + j] = float(j == i ? h[i * k + j] : 2.0 * h[i * k + j]);
  const int64_t numChunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(numChunks) * m, 0.0);
  parallelFor(numChunks, numThreads, [&](int64_t chunk) {
    const int64_t n0 = chunk * kChunk, nc = std::min(kChunk, n - n0);
    std::vector<float> d(static_cast<size_t>(k * nc)), y(static_cast<size_t>(nc));
    for (size_t mi = 0; mi < m; ++mi) {
      const float *b = bs[mi];
      for (int64_t i = 0; i < k; ++i)
        for (int64_t c = 0; c < nc; ++c)
          d[i * nc + c] = a[i * n + n0 + c] - (b ? b[i * n + n0 + c] : 0.0f);
      double sum = 0;
      for (int64_t i = 0; i < k; ++i) {
        std::fill(y.begin(), y.end(), 0.0f);
        const float *hi = upper.data() + i * k;
        for (int64_t j = i; j < k; ++j)
          if (hi[j] != 0)
            axpy(y.data(), d.data() + j * nc, hi[j], nc);
        const float *di = d.data() + i * nc;
        for (int64_t c = 0; c < nc; ++c)
          sum += double(di[c]) * double(y[c]);
      }
      partial[chunk * m + mi] = sum;
    }
  });
  std::vector<double> out(m, 0.0);
  for (int64_t chunk = 0; chunk < numChunks; ++chunk)
    for (size_t mi = 0; mi < m; ++mi)
      out[mi] += partial[chunk * m + mi];
  return out;
}

double qcc::quant::hessianQuadraticError(const float *a, const float *b,
                                         int64_t k, int64_t n, const double *h,
                                         unsigned numThreads) {
  return hessianQuadraticErrors(a, {b}, k, n, h, numThreads)[0];
}
