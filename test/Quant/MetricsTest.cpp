//===- MetricsTest.cpp - Error metrics against direct formulas ------------===//

#include "qcc/Quant/Metrics.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <vector>

using namespace qcc::quant;

TEST(Metrics, MatchesDirectFloat64Formulas) {
  std::mt19937 rng(1);
  std::normal_distribution<double> dist(0, 1);
  const int64_t count = 1000;
  std::vector<float> ref(count), app(count);
  for (int64_t i = 0; i < count; ++i) {
    ref[i] = float(dist(rng));
    app[i] = float(ref[i] + 0.05 * dist(rng));
  }
  double rr = 0, aa = 0, ra = 0, ee = 0, mx = 0;
  for (int64_t i = 0; i < count; ++i) {
    double r = ref[i], a = app[i];
    rr += r * r;
    aa += a * a;
    ra += r * a;
    ee += (a - r) * (a - r);
    mx = std::max(mx, std::fabs(a - r));
  }
  ErrorMetrics m = compareTensors(ref.data(), app.data(), count);
  EXPECT_NEAR(m.relL2, std::sqrt(ee / rr), 1e-12);
  EXPECT_DOUBLE_EQ(m.maxAbs, mx);
  EXPECT_NEAR(m.mse, ee / count, 1e-15);
  EXPECT_NEAR(m.cosine, ra / std::sqrt(rr * aa), 1e-12);
  EXPECT_NEAR(m.sqnrDb, 10 * std::log10(rr / ee), 1e-9);
  EXPECT_GT(m.sqnrDb, 20);
}

TEST(Metrics, EdgeCases) {
  std::vector<float> a = {1, -2, 3}, zero = {0, 0, 0};
  ErrorMetrics same = compareTensors(a.data(), a.data(), 3);
  EXPECT_EQ(same.relL2, 0);
  EXPECT_EQ(same.maxAbs, 0);
  EXPECT_DOUBLE_EQ(same.cosine, 1);
  EXPECT_TRUE(std::isinf(same.sqnrDb) && same.sqnrDb > 0);

  std::vector<float> twice = {2, -4, 6}, neg = {-1, 2, -3};
  EXPECT_DOUBLE_EQ(compareTensors(a.data(), twice.data(), 3).relL2, 1);
  EXPECT_DOUBLE_EQ(compareTensors(a.data(), twice.data(), 3).cosine, 1);
  EXPECT_DOUBLE_EQ(compareTensors(a.data(), neg.data(), 3).cosine, -1);
  std::vector<float> x = {1, 0}, y = {0, 1};
  EXPECT_NEAR(compareTensors(x.data(), y.data(), 2).cosine, 0, 1e-15);

  ErrorMetrics zz = compareTensors(zero.data(), zero.data(), 3);
  EXPECT_EQ(zz.relL2, 0);
  EXPECT_EQ(zz.cosine, 1);
  ErrorMetrics za = compareTensors(zero.data(), a.data(), 3);
  EXPECT_TRUE(std::isinf(za.relL2));
  EXPECT_EQ(za.cosine, 0);

  std::vector<float> withNaN = {1, NAN, 3};
  EXPECT_TRUE(std::isnan(compareTensors(a.data(), withNaN.data(), 3).relL2));
}

TEST(Metrics, Top1Agreement) {
  // 4 rows of 3 classes; rows 0 and 2 agree, row 1 differs, row 3 ties
  // resolve to the first maximum in both.
  std::vector<float> a = {0.1f, 0.9f, 0.0f, //
                          1.0f, 0.0f, 0.5f, //
                          -3.f, -2.f, -1.f, //
                          2.0f, 2.0f, 1.0f};
  std::vector<float> b = {0.0f, 5.0f, 1.0f, //
                          0.0f, 0.0f, 0.5f, //
                          -9.f, -8.f, -7.f, //
                          0.0f, 0.0f, -1.f};
  EXPECT_DOUBLE_EQ(top1Agreement(a.data(), b.data(), 4, 3), 0.75);
  EXPECT_EQ(argmax(a.data() + 9, 3), 0);
  EXPECT_DOUBLE_EQ(top1Agreement(a.data(), a.data(), 4, 3), 1.0);
  EXPECT_DOUBLE_EQ(top1Agreement(a.data(), b.data(), 0, 3), 1.0);
}
