//===- RtnTest.cpp - RTN quantization against float64 references ---------===//

#include "qcc/Quant/Rtn.h"

#include "ActivationReference.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace qcc::quant;

namespace {

using qcc::quant::test::gaussian;

/// Every scheme shape the tests sweep for a [64, 48] matrix.
std::vector<Scheme> schemes(bool symmetric, bool isSigned) {
  std::vector<Scheme> out;
  for (unsigned bits = 2; bits <= 8; ++bits) {
    Scheme t = Scheme::perTensor(bits, symmetric);
    Scheme c1 = Scheme::perChannel(bits, symmetric, 1);
    Scheme c0 = Scheme::perChannel(bits, symmetric, 0);
    Scheme g0 = Scheme::perGroup(bits, 16, symmetric, 0);
    Scheme g1 = Scheme::perGroup(bits, 8, symmetric, 1);
    for (Scheme s : {t, c1, c0, g0, g1}) {
      s.isSigned = isSigned;
      out.push_back(s);
    }
  }
  return out;
}

/// Range of each parameter's elements, computed independently in double.
void referenceRanges(const std::vector<float> &x, int64_t k, int64_t n,
                     const Scheme &s, std::vector<double> &lo,
                     std::vector<double> &hi) {
  auto [pr, pc] = s.getParamShape(k, n);
  lo.assign(size_t(pr * pc), 1e300);
  hi.assign(size_t(pr * pc), -1e300);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int64_t p;
      if (s.granularity == Granularity::PerTensor)
        p = 0;
      else if (s.granularity == Granularity::PerChannel)
        p = s.axis == 0 ? r : c;
      else if (s.axis == 0)
        p = (r / s.groupSize) * n + c;
      else
        p = r * (n / s.groupSize) + c / s.groupSize;
      lo[p] = std::min(lo[p], double(x[r * n + c]));
      hi[p] = std::max(hi[p], double(x[r * n + c]));
    }
}

} // namespace

TEST(Scheme, CodeRanges) {
  for (unsigned bits = 2; bits <= 8; ++bits) {
    Scheme s = Scheme::perTensor(bits);
    EXPECT_EQ(s.getMinCode(), -(1 << (bits - 1)));
    EXPECT_EQ(s.getMaxCode(), (1 << (bits - 1)) - 1);
    s.isSigned = false;
    EXPECT_EQ(s.getMinCode(), 0);
    EXPECT_EQ(s.getMaxCode(), (1 << bits) - 1);
    EXPECT_EQ(s.getNumCodes(), 1 << bits);
  }
}

TEST(Scheme, Verify) {
  EXPECT_TRUE(Scheme::perTensor(4).verify());
  EXPECT_FALSE(Scheme::perTensor(1).verify());
  EXPECT_FALSE(Scheme::perTensor(9).verify());
  Scheme g = Scheme::perGroup(4, 0);
  EXPECT_FALSE(g.verify());
  Scheme c = Scheme::perChannel(8);
  c.groupSize = 4;
  Status st = c.verify();
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "group_size is only meaningful for per_group");
  EXPECT_TRUE(Scheme::perGroup(4, 32).verifyShape(128, 3));
  st = Scheme::perGroup(4, 32).verifyShape(100, 3);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "dimension 100 is not a multiple of the group size 32");
  EXPECT_FALSE(Scheme::perChannel(8, true, 2).verifyShape(4, 4));
}

TEST(Scheme, ParamShapesAndIndices) {
  const int64_t k = 8, n = 6;
  using P = std::pair<int64_t, int64_t>;
  EXPECT_EQ(Scheme::perTensor(8).getParamShape(k, n), P(1, 1));
  EXPECT_EQ(Scheme::perChannel(8, true, 1).getParamShape(k, n), P(1, 6));
  EXPECT_EQ(Scheme::perChannel(8, true, 0).getParamShape(k, n), P(8, 1));
  EXPECT_EQ(Scheme::perGroup(4, 4, true, 0).getParamShape(k, n), P(2, 6));
  EXPECT_EQ(Scheme::perGroup(4, 3, true, 1).getParamShape(k, n), P(8, 2));
  EXPECT_EQ(Scheme::perGroup(4, 4, true, 0).getParamIndex(5, 3, k, n),
            1 * 6 + 3);
  EXPECT_EQ(Scheme::perGroup(4, 3, true, 1).getParamIndex(5, 4, k, n),
            5 * 2 + 1);
}

TEST(Rtn, RoundHalfToEvenAndClamping) {
  Scheme s = Scheme::perTensor(8);
  ScaleZeroPoint p{1.0f, 0};
  EXPECT_EQ(quantizeValue(2.5f, p, s), 2);
  EXPECT_EQ(quantizeValue(3.5f, p, s), 4);
  EXPECT_EQ(quantizeValue(-2.5f, p, s), -2);
  EXPECT_EQ(quantizeValue(0.5f, p, s), 0);
  EXPECT_EQ(quantizeValue(-0.5f, p, s), 0);
  EXPECT_EQ(quantizeValue(1000.0f, p, s), 127);
  EXPECT_EQ(quantizeValue(-1000.0f, p, s), -128);
  EXPECT_EQ(quantizeValue(INFINITY, p, s), 127);
  EXPECT_EQ(quantizeValue(-INFINITY, p, s), -128);
  EXPECT_EQ(quantizeValue(NAN, {0.5f, 3}, s), 3);
  EXPECT_EQ(quantizeValue(1e30f, {1e-30f, 0}, s), 127);
  Scheme u = Scheme::perTensor(4, false);
  u.isSigned = false;
  EXPECT_EQ(quantizeValue(-3.0f, {1.0f, 5}, u), 2);
  EXPECT_EQ(quantizeValue(100.0f, {1.0f, 5}, u), 15);
}

TEST(Rtn, ChooseScaleZeroPoint) {
  Scheme sym = Scheme::perTensor(8);
  ScaleZeroPoint p = chooseScaleZeroPoint(-2.0, 1.0, sym);
  EXPECT_FLOAT_EQ(p.scale, float(2.0 / 127));
  EXPECT_EQ(p.zeroPoint, 0);
  Scheme asym = Scheme::perTensor(8, false);
  asym.isSigned = false;
  p = chooseScaleZeroPoint(-1.0, 3.0, asym);
  EXPECT_FLOAT_EQ(p.scale, float(4.0 / 255));
  EXPECT_EQ(p.zeroPoint, int32_t(std::nearbyint(1.0 / double(p.scale))));
  // Ranges are widened to contain 0.
  p = chooseScaleZeroPoint(2.0, 3.0, asym);
  EXPECT_FLOAT_EQ(p.scale, float(3.0 / 255));
  EXPECT_EQ(p.zeroPoint, 0);
  p = chooseScaleZeroPoint(-3.0, -2.0, asym);
  EXPECT_EQ(p.zeroPoint, 255);
  // Empty and all-zero ranges.
  p = chooseScaleZeroPoint(0.0, 0.0, sym);
  EXPECT_EQ(p.scale, 1.0f);
  p = chooseScaleZeroPoint(0.0, 0.0, asym);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(dequantizeValue(quantizeValue(0.0f, p, asym), p), 0.0f);
  // Unsigned symmetric: [0, max] only.
  Scheme usym = Scheme::perTensor(8);
  usym.isSigned = false;
  p = chooseScaleZeroPoint(-5.0, 2.55, usym);
  EXPECT_FLOAT_EQ(p.scale, float(2.55 / 255));
  EXPECT_EQ(quantizeValue(-5.0f, p, usym), 0);
}

/// |x - deq(q(x))| <= scale / 2 for every element inside its range, codes in
/// range, scales as the float64 reference, for every shape of scheme.
TEST(Rtn, ErrorBoundEverySchemeShape) {
  const int64_t k = 64, n = 48;
  std::vector<float> x = gaussian(k * n, 1);
  for (bool symmetric : {true, false})
    for (bool isSigned : {true, false}) {
      if (symmetric && !isSigned)
        continue; // negative values clamp to 0; covered in ChooseScale...
      for (const Scheme &s : schemes(symmetric, isSigned)) {
        SCOPED_TRACE(::testing::Message()
                     << "bits " << s.bits << " sym " << symmetric << " signed "
                     << isSigned << " gran " << int(s.granularity) << " axis "
                     << s.axis);
        QuantParams params;
        std::vector<int32_t> codes;
        ASSERT_TRUE(quantizeRtn(x.data(), k, n, s, params, codes));
        std::vector<double> lo, hi;
        referenceRanges(x, k, n, s, lo, hi);
        const double qmin = double(s.getMinCode());
        const double qmax = double(s.getMaxCode());
        for (size_t p = 0; p < lo.size(); ++p) {
          double ref = symmetric
                           ? std::max(-lo[p], hi[p]) / qmax
                           : (std::max(hi[p], 0.0) - std::min(lo[p], 0.0)) /
                                 (qmax - qmin);
          EXPECT_EQ(params.scales[p], float(ref));
          EXPECT_GE(params.zeroPoints[p], qmin);
          EXPECT_LE(params.zeroPoints[p], qmax);
          if (symmetric)
            EXPECT_EQ(params.zeroPoints[p], 0);
        }
        std::vector<float> deq(x.size());
        ASSERT_TRUE(dequantize(codes.data(), k, n, s, params, deq.data()));
        for (int64_t r = 0; r < k; ++r)
          for (int64_t c = 0; c < n; ++c) {
            int64_t i = r * n + c;
            int64_t p = s.getParamIndex(r, c, k, n);
            double scale = params.scales[p];
            // Float64 reference of the code.
            double ref = std::clamp(std::nearbyint(double(x[i]) / scale) +
                                        params.zeroPoints[p],
                                    qmin, qmax);
            ASSERT_EQ(codes[i], int32_t(ref));
            if (symmetric)
              ASSERT_LE(std::abs(codes[i]), qmax);
            ASSERT_LE(std::fabs(double(deq[i]) - double(x[i])),
                      scale / 2 * (1 + 1e-6) + 1e-7 * std::fabs(x[i]));
          }
      }
    }
}

TEST(Rtn, ExactOnRepresentableValues) {
  const int64_t k = 32, n = 16;
  std::mt19937 rng(7);
  for (unsigned bits = 2; bits <= 8; ++bits)
    for (bool symmetric : {true, false}) {
      Scheme s = Scheme::perGroup(bits, 8, symmetric, 0);
      const int64_t qmin = s.getMinCode(), qmax = s.getMaxCode();
      // A power-of-two scale, each group spanning the full code range so
      // computeParams finds the same scale and zero point.
      const float scale = 0.125f;
      const int32_t zp = symmetric ? 0 : int32_t(qmin + (qmax - qmin) / 3);
      const int64_t lowCode = symmetric ? -qmax : qmin;
      std::uniform_int_distribution<int64_t> dist(lowCode, qmax);
      std::vector<int32_t> codes(static_cast<size_t>(k * n));
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < n; ++c)
          codes[r * n + c] =
              int32_t(r % 8 == 0 ? qmax : (r % 8 == 1 ? lowCode : dist(rng)));
      std::vector<float> x(codes.size());
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = scale * float(codes[i] - zp);
      QuantParams params;
      std::vector<int32_t> got;
      ASSERT_TRUE(quantizeRtn(x.data(), k, n, s, params, got));
      for (size_t p = 0; p < params.scales.size(); ++p) {
        ASSERT_EQ(params.scales[p], scale);
        ASSERT_EQ(params.zeroPoints[p], zp);
      }
      EXPECT_EQ(got, codes);
      std::vector<float> deq(x.size());
      ASSERT_TRUE(dequantize(got.data(), k, n, s, params, deq.data()));
      EXPECT_EQ(deq, x);
    }
}

TEST(Rtn, AsymmetricAllPositiveAndAllNegativeRows) {
  // Per-row (axis 0) uint4 and int8 asymmetric: row 0 positive, row 1
  // negative, row 2 mixed, row 3 zeros.
  const int64_t k = 4, n = 5;
  std::vector<float> x = {0.5f, 1.0f, 2.0f, 3.0f,  4.0f,  //
                          -4.f, -3.f, -2.f, -1.0f, -0.5f, //
                          -1.f, 0.0f, 1.0f, 2.0f,  3.0f,  //
                          0.0f, 0.0f, 0.0f, 0.0f,  0.0f};
  for (bool isSigned : {false, true}) {
    Scheme s = Scheme::perChannel(isSigned ? 8 : 4, false, 0);
    s.isSigned = isSigned;
    QuantParams params;
    std::vector<int32_t> codes;
    ASSERT_TRUE(quantizeRtn(x.data(), k, n, s, params, codes));
    const int32_t qmin = int32_t(s.getMinCode()),
                  qmax = int32_t(s.getMaxCode());
    EXPECT_EQ(params.zeroPoints[0], qmin);
    EXPECT_EQ(params.zeroPoints[1], qmax);
    EXPECT_EQ(params.zeroPoints[3], qmin);
    EXPECT_EQ(params.scales[3], 1.0f);
    EXPECT_FLOAT_EQ(params.scales[0], float(4.0 / (qmax - qmin)));
    EXPECT_FLOAT_EQ(params.scales[1], float(4.0 / (qmax - qmin)));
    EXPECT_EQ(codes[4], qmax);                  // the positive row's max
    EXPECT_EQ(codes[5], qmin);                  // the negative row's min
    EXPECT_EQ(codes[11], params.zeroPoints[2]); // 0 is the zero point
    std::vector<float> deq(x.size());
    ASSERT_TRUE(dequantize(codes.data(), k, n, s, params, deq.data()));
    EXPECT_EQ(deq[11], 0.0f);
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 5; ++c)
        EXPECT_LE(std::fabs(deq[r * n + c] - x[r * n + c]),
                  params.scales[r] / 2 * (1 + 1e-6));
    // A zero is exact in every row.
    for (int r = 0; r < 4; ++r) {
      ScaleZeroPoint p{params.scales[r], params.zeroPoints[r]};
      EXPECT_EQ(dequantizeValue(quantizeValue(0.0f, p, s), p), 0.0f);
    }
  }
}

TEST(Rtn, GroupWiseShapesMatchBruteForce) {
  const int64_t k = 96, n = 5, g = 32;
  std::vector<float> x = gaussian(k * n, 3, 0.02);
  Scheme s = Scheme::perGroup(4, g, true, 0);
  QuantParams params;
  ASSERT_TRUE(computeParams(x.data(), k, n, s, params));
  EXPECT_EQ(params.rows, 3);
  EXPECT_EQ(params.cols, 5);
  for (int64_t gi = 0; gi < k / g; ++gi)
    for (int64_t c = 0; c < n; ++c) {
      double amax = 0;
      for (int64_t r = gi * g; r < (gi + 1) * g; ++r)
        amax = std::max(amax, std::fabs(double(x[r * n + c])));
      EXPECT_EQ(params.scales[gi * n + c], float(amax / 7));
    }
}

TEST(Rtn, RejectsBadShapes) {
  std::vector<float> x(12, 1.0f);
  QuantParams params;
  Status st =
      computeParams(x.data(), 4, 3, Scheme::perGroup(4, 3, true, 0), params);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "dimension 4 is not a multiple of the group size 3");
  ASSERT_TRUE(computeParams(x.data(), 4, 3, Scheme::perChannel(8), params));
  std::vector<int32_t> codes(12);
  st = quantize(x.data(), 4, 3, Scheme::perChannel(8, true, 0), params,
                codes.data());
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message,
            "quantization parameters have shape 1x3, the scheme needs 4x1");
}

namespace {
double sqError(const std::vector<float> &x, int64_t k, int64_t n,
               const Scheme &s, const QuantParams &params,
               const float *importance = nullptr) {
  std::vector<float> deq(x.size());
  EXPECT_TRUE(fakeQuantize(x.data(), k, n, s, params, deq.data()));
  double e = 0;
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double d = double(deq[r * n + c]) - double(x[r * n + c]);
      e += (importance ? importance[r] : 1.0) * d * d;
    }
  return e;
}
} // namespace

TEST(ClipSearch, BeatsPlainRtnOnHeavyTails) {
  // Student-t with 2 degrees of freedom: a few huge values per group.
  const int64_t k = 256, n = 32;
  std::mt19937 rng(11);
  std::student_t_distribution<double> dist(2.0);
  std::vector<float> x(static_cast<size_t>(k * n));
  for (float &v : x)
    v = float(0.01 * dist(rng));
  for (bool symmetric : {true, false}) {
    Scheme s = Scheme::perGroup(4, 64, symmetric, 0);
    QuantParams rtn, clipped;
    ASSERT_TRUE(computeParams(x.data(), k, n, s, rtn));
    std::vector<float> ratios;
    ASSERT_TRUE(
        searchClip(x.data(), k, n, s, ClipSearchOptions(), clipped, &ratios));
    double eRtn = sqError(x, k, n, s, rtn),
           eClip = sqError(x, k, n, s, clipped);
    // Ratio 1 is a candidate, so never worse; on these tails clearly better.
    EXPECT_LT(eClip, (symmetric ? 0.92 : 0.99) * eRtn)
        << "symmetric " << symmetric;
    ASSERT_EQ(ratios.size(), size_t(4 * 32));
    int shrunk = 0;
    for (float r : ratios) {
      EXPECT_GT(r, 0.5f);
      EXPECT_LE(r, 1.0f);
      shrunk += r < 1.0f;
    }
    EXPECT_GT(shrunk, 32);
  }
}

TEST(ClipSearch, PerGroupOptimumMatchesBruteForce) {
  const int64_t k = 16, n = 3;
  std::vector<float> x = gaussian(k * n, 5);
  x[7 * n + 1] = 9.0f; // an outlier in column 1
  Scheme s = Scheme::perChannel(3, false, 1);
  ClipSearchOptions opts;
  opts.gridSize = 10;
  opts.maxShrink = 0.6;
  QuantParams params;
  std::vector<float> ratios;
  ASSERT_TRUE(searchClip(x.data(), k, n, s, opts, params, &ratios));
  for (int64_t c = 0; c < n; ++c) {
    double lo = 0, hi = 0;
    for (int64_t r = 0; r < k; ++r) {
      lo = std::min(lo, double(x[r * n + c]));
      hi = std::max(hi, double(x[r * n + c]));
    }
    double best = 1e300, bestRatio = 0;
    for (int i = 0; i < 6; ++i) {
      double ratio = 1 - i / 10.0;
      ScaleZeroPoint p = chooseScaleZeroPoint(lo * ratio, hi * ratio, s);
      double e = 0;
      for (int64_t r = 0; r < k; ++r) {
        double d =
            double(dequantizeValue(quantizeValue(x[r * n + c], p, s), p)) -
            double(x[r * n + c]);
        e += d * d;
      }
      if (e < best) {
        best = e;
        bestRatio = ratio;
      }
    }
    EXPECT_FLOAT_EQ(ratios[c], float(bestRatio)) << "column " << c;
  }
}

TEST(ClipSearch, ImportanceWeightsTheObjective) {
  const int64_t k = 64, n = 8;
  std::mt19937 rng(2);
  std::student_t_distribution<double> dist(2.0);
  std::vector<float> x(static_cast<size_t>(k * n)),
      importance(static_cast<size_t>(k));
  for (float &v : x)
    v = float(dist(rng));
  for (int64_t r = 0; r < k; ++r)
    importance[r] = r < 8 ? 100.0f : 0.01f;
  Scheme s = Scheme::perChannel(4, true, 1);
  ClipSearchOptions weighted;
  weighted.rowImportance = importance.data();
  QuantParams plain, imp;
  ASSERT_TRUE(searchClip(x.data(), k, n, s, ClipSearchOptions(), plain));
  ASSERT_TRUE(searchClip(x.data(), k, n, s, weighted, imp));
  EXPECT_LE(sqError(x, k, n, s, imp, importance.data()),
            sqError(x, k, n, s, plain, importance.data()));
  EXPECT_LE(sqError(x, k, n, s, plain), sqError(x, k, n, s, imp));
  ClipSearchOptions bad;
  bad.maxShrink = 1.0;
  EXPECT_FALSE(searchClip(x.data(), k, n, s, bad, plain));
}

TEST(FullRange, LargerEndMapsToMinCode) {
  Scheme s4 = Scheme::perTensor(4);
  // Negative end larger: positive scale, -2 -> -8 exactly, +1 -> 4.
  ScaleZeroPoint p = chooseFullRangeScale(-2.0, 1.0, s4);
  EXPECT_EQ(p.scale, 0.25f);
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_EQ(quantizeValue(-2.0f, p, s4), -8);
  EXPECT_EQ(quantizeValue(1.0f, p, s4), 4);
  // Positive end larger: negative scale, +2 -> -8, and the negative end
  // -1.9 -> 7.6 -> 8 -> clamped to 7.
  p = chooseFullRangeScale(-1.9, 2.0, s4);
  EXPECT_EQ(p.scale, -0.25f);
  EXPECT_EQ(quantizeValue(2.0f, p, s4), -8);
  EXPECT_EQ(dequantizeValue(quantizeValue(2.0f, p, s4), p), 2.0f);
  EXPECT_EQ(quantizeValue(-1.9f, p, s4), 7);
  // Zero and NaN ranges keep scale 1; unsigned or asymmetric schemes are
  // chooseScaleZeroPoint's.
  EXPECT_EQ(chooseFullRangeScale(0.0, 0.0, s4).scale, 1.0f);
  EXPECT_EQ(chooseFullRangeScale(NAN, NAN, s4).scale, 1.0f);
  Scheme a4 = Scheme::perTensor(4, false);
  a4.isSigned = false;
  ScaleZeroPoint fa = chooseFullRangeScale(-1.0, 3.0, a4);
  ScaleZeroPoint ra = chooseScaleZeroPoint(-1.0, 3.0, a4);
  EXPECT_EQ(fa.scale, ra.scale);
  EXPECT_EQ(fa.zeroPoint, ra.zeroPoint);
}

TEST(WeightRtn, FourBitsBeatsMaxOverQmaxAndWiderSchemesAreRtn) {
  const int64_t k = 256, n = 48;
  std::vector<float> x = gaussian(k * n, 21);
  for (bool symmetric : {true, false}) {
    Scheme s = Scheme::perGroup(4, 64, symmetric, 0);
    if (!symmetric)
      s.isSigned = false;
    QuantParams plain, chosen;
    std::vector<int32_t> codes;
    ASSERT_TRUE(computeParams(x.data(), k, n, s, plain));
    ASSERT_TRUE(quantizeWeightRtn(x.data(), k, n, s, chosen, codes));
    // Gaussian groups: the full range and the clip search cut the squared
    // error clearly, per group never worse (ratio 1 of the full range
    // included) for symmetric and asymmetric schemes alike.
    double ePlain = sqError(x, k, n, s, plain),
           eChosen = sqError(x, k, n, s, chosen);
    EXPECT_LT(eChosen, (symmetric ? 0.8 : 0.95) * ePlain)
        << "symmetric " << symmetric;
    // The codes are those of `quantize` with the chosen parameters, in
    // range.
    std::vector<int32_t> again(codes.size());
    ASSERT_TRUE(quantize(x.data(), k, n, s, chosen, again.data()));
    EXPECT_EQ(codes, again);
    for (int32_t c : codes) {
      ASSERT_GE(c, s.getMinCode());
      ASSERT_LE(c, s.getMaxCode());
    }
  }
  // Some groups of a symmetric scheme get negative scales (their largest
  // magnitude is positive) and reach code -8.
  Scheme s = Scheme::perGroup(4, 64, true, 0);
  QuantParams params;
  std::vector<int32_t> codes;
  ASSERT_TRUE(quantizeWeightRtn(x.data(), k, n, s, params, codes));
  EXPECT_TRUE(std::any_of(params.scales.begin(), params.scales.end(),
                          [](float v) { return v < 0; }));
  EXPECT_TRUE(std::count(codes.begin(), codes.end(), -8) > 0);
  // 8 bits: plain RTN, bit for bit.
  Scheme s8 = Scheme::perChannel(8, true, 1);
  QuantParams p8, r8;
  std::vector<int32_t> c8, rc8;
  ASSERT_TRUE(quantizeWeightRtn(x.data(), k, n, s8, p8, c8));
  ASSERT_TRUE(quantizeRtn(x.data(), k, n, s8, r8, rc8));
  EXPECT_EQ(p8.scales, r8.scales);
  EXPECT_EQ(c8, rc8);
}
