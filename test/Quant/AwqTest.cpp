//===- AwqTest.cpp - AWQ scale search against direct output errors --------===//

#include "qcc/Quant/Awq.h"
#include "qcc/Quant/Gptq.h"

#include "ActivationReference.h"
#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <vector>

using namespace qcc::quant;
using qcc::quant::test::gaussian;
using qcc::quant::test::gram;
using qcc::quant::test::outputError;

namespace {

/// [rows, k] activations whose channels differ in size by up to `spread`x:
/// every 8th channel is an outlier channel, the others spread smoothly.
std::vector<float> skewedX(int64_t rows, int64_t k, uint32_t seed,
                           double spread = 50) {
  std::vector<float> x = gaussian(rows * k, seed);
  for (int64_t c = 0; c < k; ++c) {
    double scale = c % 8 == 3 ? spread : 1.0 + double((c * 5) % k) / double(k);
    for (int64_t r = 0; r < rows; ++r)
      x[r * k + c] = float(x[r * k + c] * scale);
  }
  return x;
}

std::vector<double> meanAbs(const std::vector<float> &x, int64_t rows,
                            int64_t k) {
  std::vector<double> m(size_t(k), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c)
      m[size_t(c)] += std::fabs(double(x[r * k + c])) / double(rows);
  return m;
}

/// int4 groups of 32 along K, qcc's default RTN, dequantized.
AwqRounder int4Rounder() {
  return [](const float *w, int64_t k, int64_t n, const double *,
            float *restored) {
    Scheme scheme = Scheme::perGroup(4, 32);
    QuantParams params;
    std::vector<int32_t> codes;
    if (Status st = quantizeWeightRtn(w, k, n, scheme, params, codes); !st)
      return st;
    return dequantize(codes.data(), k, n, scheme, params, restored);
  };
}

/// W^ = diag(1/s) deq(round(diag(s) W)) for the whole [k, n] matrix.
std::vector<float> restoreWith(const std::vector<float> &w, int64_t k,
                               int64_t n, const std::vector<float> &s) {
  std::vector<float> scaled(w.size()), out(w.size());
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      scaled[r * n + c] = w[r * n + c] * s[size_t(r)];
  EXPECT_TRUE(int4Rounder()(scaled.data(), k, n, nullptr, out.data()).ok);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      out[r * n + c] /= s[size_t(r)];
  return out;
}

TEST(AwqScales, AlphaZeroIsIdentityAndOneFollowsMeanAbs) {
  std::vector<double> m = {0.5, 2.0, 0.0, 8.0};
  std::vector<float> s;
  computeAwqScales(m.data(), 4, 0.0, s);
  EXPECT_EQ(s, std::vector<float>(4, 1.0f));
  computeAwqScales(m.data(), 4, 1.0, s);
  // Normalised by sqrt(0.5 * 8) = 2; the dead channel keeps 1.
  EXPECT_FLOAT_EQ(s[0], 0.25f);
  EXPECT_FLOAT_EQ(s[1], 1.0f);
  EXPECT_FLOAT_EQ(s[2], 1.0f);
  EXPECT_FLOAT_EQ(s[3], 4.0f);
  computeAwqScales(m.data(), 4, 0.5, s);
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_FLOAT_EQ(s[3], 2.0f);
}

TEST(AwqScales, NearlyDeadChannelIsFloored) {
  std::vector<double> m = {1e-12, 1.0};
  std::vector<float> s;
  computeAwqScales(m.data(), 2, 1.0, s);
  // 1e-12 is floored at 1e-5 of the top: the ratio stays 1e5.
  EXPECT_NEAR(double(s[1]) / double(s[0]), 1e5, 1.0);
}

// The search's errors are the output errors ||X (W - W^)||^2 computed
// from the activations, AWQ beats RTN by a wide margin on outlier channels,
// and the chosen alpha is the grid's argmin.
TEST(AwqSearch, MatchesDirectOutputErrorAndBeatsRtn) {
  const int64_t rows = 512, k = 128, n = 48;
  std::vector<float> x = skewedX(rows, k, 11);
  std::vector<float> w = gaussian(k * n, 12, 0.05);
  std::vector<double> h = gram(x, rows, k), mean = meanAbs(x, rows, k);
  AwqOptions options;
  options.searchColumns = 0;
  options.numThreads = 2;
  AwqResult result;
  ASSERT_TRUE(searchAwqScales({{w.data(), n}}, k, h.data(), mean.data(),
                              int4Rounder(), options, result)
                  .ok);
  ASSERT_EQ(result.errors.size(), 21u);
  std::vector<float> ones(size_t(k), 1.0f);
  double rtn = outputError(x, rows, k, w, restoreWith(w, k, n, ones), n);
  double awq = outputError(x, rows, k, w, restoreWith(w, k, n, result.scale), n);
  EXPECT_NEAR(result.errorBefore, rtn, 1e-3 * rtn);
  EXPECT_NEAR(result.errorAfter, awq, 1e-3 * awq);
  EXPECT_NEAR(result.reference, outputError(x, rows, k, w,
                                            std::vector<float>(w.size(), 0.0f), n),
              1e-3 * result.reference);
  EXPECT_GT(result.alpha, 0.0);
  EXPECT_LT(awq, 0.6 * rtn) << "alpha " << result.alpha;
  for (double e : result.errors)
    EXPECT_GE(e, result.errorAfter);
}

// Without outlier channels nothing is gained: the error never gets worse
// than plain rounding (alpha = 0 is a candidate).
TEST(AwqSearch, NeverWorseThanRtn) {
  const int64_t rows = 256, k = 64, n = 32;
  std::vector<float> x = gaussian(rows * k, 21);
  std::vector<float> w = gaussian(k * n, 22);
  std::vector<double> h = gram(x, rows, k), mean = meanAbs(x, rows, k);
  AwqResult result;
  ASSERT_TRUE(searchAwqScales({{w.data(), n}}, k, h.data(), mean.data(),
                              int4Rounder(), AwqOptions(), result)
                  .ok);
  EXPECT_LE(result.errorAfter, result.errorBefore);
}

// Matrices sharing the activations add their errors; a column subset
// estimates the full sum.
TEST(AwqSearch, SharedMatricesAndColumnSubset) {
  const int64_t rows = 384, k = 64, n1 = 256, n2 = 96;
  std::vector<float> x = skewedX(rows, k, 31);
  std::vector<float> w1 = gaussian(k * n1, 32, 0.1), w2 = gaussian(k * n2, 33);
  std::vector<double> h = gram(x, rows, k), mean = meanAbs(x, rows, k);
  AwqOptions all;
  all.searchColumns = 0;
  AwqResult both, first, second, subset;
  ASSERT_TRUE(searchAwqScales({{w1.data(), n1}, {w2.data(), n2}}, k, h.data(),
                              mean.data(), int4Rounder(), all, both)
                  .ok);
  ASSERT_TRUE(searchAwqScales({{w1.data(), n1}}, k, h.data(), mean.data(),
                              int4Rounder(), all, first)
                  .ok);
  ASSERT_TRUE(searchAwqScales({{w2.data(), n2}}, k, h.data(), mean.data(),
                              int4Rounder(), all, second)
                  .ok);
  for (size_t i = 0; i < both.errors.size(); ++i)
    EXPECT_NEAR(both.errors[i], first.errors[i] + second.errors[i],
                1e-9 * both.errors[i]);
  AwqOptions some;
  some.searchColumns = 64;
  ASSERT_TRUE(searchAwqScales({{w1.data(), n1}}, k, h.data(), mean.data(),
                              int4Rounder(), some, subset)
                  .ok);
  EXPECT_NEAR(subset.errorBefore, first.errorBefore, 0.25 * first.errorBefore);
  EXPECT_NEAR(subset.reference, first.reference, 0.25 * first.reference);
  EXPECT_LT(subset.errorAfter, subset.errorBefore);
}

TEST(AwqSearch, RejectsBadInput) {
  const int64_t k = 32, n = 8;
  std::vector<float> w = gaussian(k * n, 41);
  std::vector<double> h(size_t(k * k), 0.0), mean(size_t(k), 1.0);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] = 1.0;
  AwqResult result;
  AwqOptions bad;
  bad.gridSize = 0;
  Status st = searchAwqScales({{w.data(), n}}, k, h.data(), mean.data(),
                              int4Rounder(), bad, result);
  EXPECT_FALSE(st.ok);
  EXPECT_NE(st.message.find("grid"), std::string::npos);
  h[5] = NAN;
  st = searchAwqScales({{w.data(), n}}, k, h.data(), mean.data(),
                       int4Rounder(), AwqOptions(), result);
  EXPECT_FALSE(st.ok);
  h[5] = 0;
  mean[3] = -1;
  st = searchAwqScales({{w.data(), n}}, k, h.data(), mean.data(),
                       int4Rounder(), AwqOptions(), result);
  EXPECT_FALSE(st.ok);
  mean[3] = 1;
  EXPECT_FALSE(searchAwqScales({}, k, h.data(), mean.data(), int4Rounder(),
                               AwqOptions(), result)
                   .ok);
}

} // namespace
