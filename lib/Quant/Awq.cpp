//===- Awq.cpp - Activation-aware weight quantization (AWQ) ---------------===//

#include "qcc/Quant/Awq.h"

#include "qcc/Quant/Gptq.h"

#include <algorithm>
#include <cmath>
#include <string>

using namespace qcc::quant;

namespace {

/// Relative floor of mean|x| before the power (see computeAwqScales).
constexpr double kMeanFloor = 1e-5;

/// The evenly spaced columns of an n-column matrix the search looks at.
std::vector<int64_t> pickColumns(int64_t n, int64_t limit) {
  std::vector<int64_t> cols;
  if (limit <= 0 || limit >= n) {
    cols.resize(size_t(n));
    for (int64_t c = 0; c < n; ++c)
      cols[size_t(c)] = c;
    return cols;
  }
  cols.reserve(size_t(limit));
  for (int64_t i = 0; i < limit; ++i)
    cols.push_back(i * n / limit);
  return cols;
}

} // namespace

void qcc::quant::computeAwqScales(const double *meanAbs, int64_t k,
                                  double alpha, std::vector<float> &scale) {
  scale.assign(size_t(k), 1.0f);
  double top = 0;
  for (int64_t j = 0; j < k; ++j)
    if (std::isfinite(meanAbs[j]))
      top = std::max(top, meanAbs[j]);
  if (!(top > 0) || alpha == 0)
    return;
  std::vector<double> s(size_t(k), 0.0);
  double lo = INFINITY, hi = 0;
  for (int64_t j = 0; j < k; ++j) {
    if (!(meanAbs[j] > 0) || !std::isfinite(meanAbs[j]))
      continue;
    s[size_t(j)] = std::pow(std::max(meanAbs[j], kMeanFloor * top), alpha);
    lo = std::min(lo, s[size_t(j)]);
    hi = std::max(hi, s[size_t(j)]);
  }
  double norm = std::sqrt(lo * hi);
  for (int64_t j = 0; j < k; ++j)
    if (s[size_t(j)] > 0)
      scale[size_t(j)] = float(s[size_t(j)] / norm);
}

Status qcc::quant::searchAwqScales(const std::vector<AwqMatrix> &matrices,
                                   int64_t k, const double *h,
                                   const double *meanAbs,
                                   const AwqRounder &round,
                                   const AwqOptions &options,
                                   AwqResult &result) {
  if (options.gridSize < 1)
    return Status::error("awq: the alpha grid needs at least one step, got " +
                         std::to_string(options.gridSize));
  if (options.searchColumns < 0)
    return Status::error("awq: search columns must be >= 0, got " +
                         std::to_string(options.searchColumns));
  if (k <= 0 || matrices.empty())
    return Status::error("awq: nothing to search (no matrix or k = 0)");
  for (int64_t i = 0; i < k * k; ++i)
    if (!std::isfinite(h[i]))
      return Status::error("awq: X^T X is not finite");
  for (int64_t j = 0; j < k; ++j)
    if (!std::isfinite(meanAbs[j]) || meanAbs[j] < 0)
      return Status::error("awq: mean |x| must be finite and >= 0");
  for (const AwqMatrix &m : matrices)
    if (!m.w || m.n <= 0)
      return Status::error("awq: empty weight matrix");

  const int64_t steps = options.gridSize + 1;
  result = AwqResult();
  result.errors.assign(size_t(steps), 0.0);
  std::vector<std::vector<float>> scales(static_cast<size_t>(steps));
  for (int64_t i = 0; i < steps; ++i)
    computeAwqScales(meanAbs, k, double(i) / double(options.gridSize),
                     scales[size_t(i)]);
  std::vector<double> rowWeight(static_cast<size_t>(k));
  for (const AwqMatrix &m : matrices) {
    std::vector<int64_t> cols = pickColumns(m.n, options.searchColumns);
    const int64_t c = int64_t(cols.size());
    // Errors of the columns looked at, scaled to all n columns.
    const double share = double(m.n) / double(c);
    std::vector<float> sub(size_t(k * c)), scaled(size_t(k * c));
    for (int64_t r = 0; r < k; ++r)
      for (int64_t i = 0; i < c; ++i)
        sub[size_t(r * c + i)] = m.w[r * m.n + cols[size_t(i)]];
    for (float v : sub)
      if (!std::isfinite(v))
        return Status::error("awq: the weight is not finite");
    std::vector<std::vector<float>> restored(size_t(steps),
                                             std::vector<float>(size_t(k * c)));
    for (int64_t step = 0; step < steps; ++step) {
      const std::vector<float> &s = scales[size_t(step)];
      for (int64_t r = 0; r < k; ++r) {
        rowWeight[size_t(r)] = h[r * k + r] / (double(s[size_t(r)]) * s[size_t(r)]);
        for (int64_t i = 0; i < c; ++i)
          scaled[size_t(r * c + i)] = sub[size_t(r * c + i)] * s[size_t(r)];
      }
      float *out = restored[size_t(step)].data();
      if (Status st = round(scaled.data(), k, c, rowWeight.data(), out); !st)
        return st;
      // Back to the original activations: W^ = diag(1/s) deq(round(s W)).
      for (int64_t r = 0; r < k; ++r)
        for (int64_t i = 0; i < c; ++i)
          out[r * c + i] /= s[size_t(r)];
    }
    std::vector<const float *> candidates = {nullptr};
    for (const std::vector<float> &r : restored)
      candidates.push_back(r.data());
    std::vector<double> forms = hessianQuadraticErrors(
        sub.data(), candidates, k, c, h, options.numThreads);
    result.reference += share * forms[0];
    for (int64_t step = 0; step < steps; ++step)
      result.errors[size_t(step)] += share * forms[size_t(step + 1)];
  }
  // The first smallest error: ties keep the smaller alpha (plain rounding
  // unless scaling helps).
  int64_t best = 0;
  for (int64_t step = 1; step < steps; ++step)
    if (result.errors[size_t(step)] < result.errors[size_t(best)])
      best = step;
  result.alpha = double(best) / double(options.gridSize);
  result.scale = std::move(scales[size_t(best)]);
  result.errorBefore = result.errors[0];
  result.errorAfter = result.errors[size_t(best)];
  return Status::success();
}
