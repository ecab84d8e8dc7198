//===- ActivationReference.h - float64 references for output-aware tests ===//
//
// Shared by the GPTQ and AWQ tests: random activations, and the quantities
// their algorithms estimate from calibration statistics, computed directly
// from the activations.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_TEST_QUANT_ACTIVATIONREFERENCE_H
#define QCC_TEST_QUANT_ACTIVATIONREFERENCE_H

#include <cstdint>
#include <random>
#include <vector>

namespace qcc::quant::test {

/// `count` draws of N(0, sigma^2) from a generator seeded with `seed`.
inline std::vector<float> gaussian(int64_t count, uint32_t seed,
                                   double sigma = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0, sigma);
  std::vector<float> v(static_cast<size_t>(count));
  for (float &x : v)
    x = float(dist(rng));
  return v;
}

/// X^T X in double, [k, k], of row-major activations x [rows, k].
inline std::vector<double> gram(const std::vector<float> &x, int64_t rows,
                                int64_t k) {
  std::vector<double> h(size_t(k * k), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] += double(x[r * k + i]) * double(x[r * k + j]);
  return h;
}

/// ||X (a - b)||^2 in double, straight from the activations (a, b: [k, n]).
inline double outputError(const std::vector<float> &x, int64_t rows,
                          int64_t k, const std::vector<float> &a,
                          const std::vector<float> &b, int64_t n) {
  double sum = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double y = 0;
      for (int64_t i = 0; i < k; ++i)
        y += double(x[r * k + i]) * (double(a[i * n + c]) - b[i * n + c]);
      sum += y * y;
    }
  return sum;
}

} // namespace qcc::quant::test

#endif // QCC_TEST_QUANT_ACTIVATIONREFERENCE_H
