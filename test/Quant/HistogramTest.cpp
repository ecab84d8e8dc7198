//===- HistogramTest.cpp - Histogram observer and range choices -----------===//

#include "qcc/Quant/Histogram.h"

#include "ActivationReference.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace qcc::quant;

namespace {

using qcc::quant::test::gaussian;

std::vector<float> studentT(int64_t count, uint32_t seed, double dof) {
  std::mt19937 rng(seed);
  std::student_t_distribution<double> dist(dof);
  std::vector<float> v(static_cast<size_t>(count));
  for (float &x : v)
    x = float(dist(rng));
  return v;
}

/// numpy.percentile(data, q) with the default linear interpolation.
double numpyPercentile(const std::vector<double> &sorted, double q) {
  double pos = (double(sorted.size()) - 1) * q / 100;
  size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
  return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}

/// Empirical MSE of fake-quantizing `x` with the range [lo, hi].
double empiricalMse(const std::vector<float> &x, Range r, const Scheme &s) {
  ScaleZeroPoint p = chooseScaleZeroPoint(r.lo, r.hi, s);
  double e = 0;
  for (float v : x) {
    double d = double(dequantizeValue(quantizeValue(v, p, s), p)) - double(v);
    e += d * d;
  }
  return e / double(x.size());
}

} // namespace

TEST(Histogram, BinsRangeAndGrowth) {
  HistogramObserver h(1000);
  EXPECT_EQ(h.getNumBins(), 1024);
  std::vector<float> a = {0.0f, 0.0f};
  ASSERT_TRUE(h.observe(a.data(), 1, 2));
  EXPECT_EQ(h.getRange(), 0.0);
  EXPECT_EQ(h.getTotal(), 2u);
  std::vector<float> b = {0.75f, -0.3f, 2.5f, NAN};
  ASSERT_TRUE(h.observe(b.data(), 2, 2));
  EXPECT_EQ(h.getRange(), 4.0); // power of two at or above 2.5
  EXPECT_EQ(h.getTotal(), 5u);
  EXPECT_EQ(h.getNumNonFinite(), 1u);
  EXPECT_EQ(h.getCounts()[512], 2u); // the zeros, in the bin [0, w)
  std::vector<float> c = {-9.0f};
  ASSERT_TRUE(h.observe(c.data(), 1, 1));
  EXPECT_EQ(h.getRange(), 16.0);
  EXPECT_EQ(h.getMin(), -9.0f);
  EXPECT_EQ(h.getMax(), 2.5f);
  uint64_t sum = 0;
  for (uint64_t v : h.getCounts())
    sum += v;
  EXPECT_EQ(sum, 6u);
  // A value on a power-of-two maximum goes to the last bin.
  HistogramObserver edge(16);
  std::vector<float> d = {2.0f, -2.0f};
  ASSERT_TRUE(edge.observe(d.data(), 1, 2));
  EXPECT_EQ(edge.getRange(), 2.0);
  EXPECT_EQ(edge.getCounts()[15], 1u);
  EXPECT_EQ(edge.getCounts()[0], 1u);
}

TEST(Histogram, StreamingAndMergeEqualOneShot) {
  // Batches of growing magnitude force several re-binnings.
  std::vector<float> all;
  std::vector<std::vector<float>> batches;
  for (int i = 0; i < 6; ++i) {
    std::vector<float> b = gaussian(5000 + 37 * i, 10 + i, 0.3 * (1 << i));
    batches.push_back(b);
    all.insert(all.end(), b.begin(), b.end());
  }
  HistogramObserver oneShot(2048), streamed(2048);
  ASSERT_TRUE(oneShot.observe(all.data(), int64_t(all.size()), 1));
  for (const auto &b : batches)
    ASSERT_TRUE(streamed.observe(b.data(), 1, int64_t(b.size())));
  // Per-thread observers, merged in a different order.
  HistogramObserver t0(2048), t1(2048), t2(2048);
  for (size_t i = 0; i < batches.size(); ++i) {
    HistogramObserver &t = i % 3 == 0 ? t0 : (i % 3 == 1 ? t1 : t2);
    ASSERT_TRUE(t.observe(batches[i].data(), int64_t(batches[i].size()), 1));
  }
  ASSERT_TRUE(t2.merge(t0));
  ASSERT_TRUE(t2.merge(t1));
  for (const HistogramObserver *h : {&streamed, &t2}) {
    EXPECT_EQ(h->getRange(), oneShot.getRange());
    EXPECT_EQ(h->getCounts(), oneShot.getCounts());
    EXPECT_EQ(h->getTotal(), oneShot.getTotal());
    EXPECT_EQ(h->getMin(), oneShot.getMin());
    EXPECT_EQ(h->getMax(), oneShot.getMax());
  }
  HistogramObserver other(1024);
  EXPECT_FALSE(t2.merge(other));
}

TEST(Histogram, PercentileMatchesSortedData) {
  std::vector<float> x = gaussian(200000, 3);
  for (size_t i = 0; i < x.size(); i += 3)
    x[i] = std::fabs(x[i]) * 2; // skewed to the right
  HistogramObserver h;
  ASSERT_TRUE(h.observe(x.data(), 100, 2000));
  std::vector<double> sorted(x.begin(), x.end()), sortedAbs;
  std::sort(sorted.begin(), sorted.end());
  for (float v : x)
    sortedAbs.push_back(std::fabs(double(v)));
  std::sort(sortedAbs.begin(), sortedAbs.end());
  const double w = h.getBinWidth();
  const double n = double(x.size());
  for (double q :
       {0.0, 0.01, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    for (bool absolute : {false, true}) {
      const std::vector<double> &s = absolute ? sortedAbs : sorted;
      double est = absolute ? h.getAbsPercentile(q) : h.getPercentile(q);
      double ref = numpyPercentile(s, q);
      // Within a bin width of the order statistics around the position
      // (where samples are sparser than bins, their spacing is the limit).
      double pos = (n - 1) * q / 100;
      size_t lo = size_t(std::max(0.0, std::floor(pos) - 1));
      size_t hi = size_t(std::min(n - 1, std::ceil(pos) + 1));
      EXPECT_GE(est, s[lo] - w) << "q " << q << " abs " << absolute;
      EXPECT_LE(est, s[hi] + w) << "q " << q << " abs " << absolute;
      if (q >= 1 && q <= 99)
        EXPECT_NEAR(est, ref, w) << "q " << q << " abs " << absolute;
    }
  }
  EXPECT_EQ(h.getPercentile(0), double(h.getMin()));
  EXPECT_EQ(h.getPercentile(100), double(h.getMax()));
  Range r = h.getPercentileRange(99.9, false);
  EXPECT_NEAR(r.lo, numpyPercentile(sorted, 0.1), 2 * w);
  EXPECT_NEAR(r.hi, numpyPercentile(sorted, 99.9), 2 * w);
  Range sym = h.getPercentileRange(99.9, true);
  EXPECT_EQ(sym.lo, -sym.hi);
  EXPECT_NEAR(sym.hi, numpyPercentile(sortedAbs, 99.9), 2 * w);
}

TEST(Histogram, EntropyThresholdIgnoresOutliers) {
  std::vector<float> x = gaussian(100000, 4);
  for (int i = 0; i < 10; ++i)
    x[size_t(i) * 997] = (i % 2 ? -50.0f : 50.0f);
  HistogramObserver h;
  ASSERT_TRUE(h.observe(x.data(), 1, int64_t(x.size())));
  for (int64_t levels : {128, 255}) {
    double t = h.getEntropyThreshold(levels);
    EXPECT_LT(t, 0.25 * h.getMaxAbs()) << levels;
    EXPECT_GT(t, 2.0) << levels;
    Range r = h.getEntropyRange(levels);
    EXPECT_EQ(r.hi, float(t));
    EXPECT_EQ(r.lo, -float(t));
  }
  // No more |x| bins than levels: nothing to gain, the threshold is max|x|.
  std::vector<float> small = {0.5f, -1.0f, 0.25f};
  HistogramObserver hs(256);
  ASSERT_TRUE(hs.observe(small.data(), 1, 3));
  EXPECT_EQ(hs.getEntropyThreshold(128), 1.0);
}

TEST(Histogram, EstimatedMseMatchesEmpirical) {
  std::vector<float> x = gaussian(200000, 5);
  HistogramObserver h;
  ASSERT_TRUE(h.observe(x.data(), 1, int64_t(x.size())));
  for (unsigned bits : {4u, 8u})
    for (double t : {1.5, 3.0, double(h.getMaxAbs())}) {
      Scheme s = Scheme::perTensor(bits);
      Range r{float(-t), float(t)};
      double est = h.estimateMse(chooseScaleZeroPoint(-t, t, s), s);
      double emp = empiricalMse(x, r, s);
      EXPECT_NEAR(est, emp, 0.03 * emp) << bits << " bits, t " << t;
    }
  Scheme asym = Scheme::perTensor(4, false);
  Range r{-1.0f, 2.5f};
  double est = h.estimateMse(chooseScaleZeroPoint(r.lo, r.hi, asym), asym);
  EXPECT_NEAR(est, empiricalMse(x, r, asym), 0.03 * empiricalMse(x, r, asym));
}

TEST(Histogram, MseRangeBeatsMinMaxOnHeavyTails) {
  // Student-t with 4 degrees of freedom: finite variance, max ~ 15 sigma.
  std::vector<float> x = studentT(100000, 6, 4.0);
  HistogramObserver h;
  ASSERT_TRUE(h.observe(x.data(), 1, int64_t(x.size())));
  Range full{h.getMin(), h.getMax()};
  for (unsigned bits : {4u, 8u}) {
    Scheme s = Scheme::perTensor(bits);
    Range r = h.getMseRange(s);
    double chosen = empiricalMse(x, r, s);
    EXPECT_LT(chosen, (bits == 4 ? 0.5 : 0.8) * empiricalMse(x, full, s))
        << bits;
    // Close to the best of a fine empirical sweep of thresholds.
    double best = 1e300;
    for (double t = 0.05; t <= h.getMaxAbs(); t *= 1.03)
      best = std::min(best, empiricalMse(x, {float(-t), float(t)}, s));
    EXPECT_LT(chosen, 1.05 * best) << bits;
  }
  for (unsigned bits : {4u, 8u}) {
    Scheme asym = Scheme::perTensor(bits, false);
    Range r = h.getMseRange(asym);
    EXPECT_LT(empiricalMse(x, r, asym),
              (bits == 4 ? 0.5 : 0.98) * empiricalMse(x, full, asym))
        << bits;
  }
}

TEST(Histogram, MseRangeOnPositiveData) {
  // Exponential data (post-ReLU-like) with uint8 asymmetric codes.
  std::mt19937 rng(8);
  std::exponential_distribution<double> dist(1.0);
  std::vector<float> x(100000);
  for (float &v : x)
    v = float(dist(rng));
  HistogramObserver h;
  ASSERT_TRUE(h.observe(x.data(), 1, int64_t(x.size())));
  Scheme s = Scheme::perTensor(8, false);
  s.isSigned = false;
  Range r = h.getMseRange(s);
  EXPECT_GE(r.lo, 0.0f);
  EXPECT_LT(r.hi, h.getMax());
  EXPECT_LE(empiricalMse(x, r, s),
            empiricalMse(x, {h.getMin(), h.getMax()}, s));
  // Unsigned symmetric ranges start at 0.
  Scheme us = Scheme::perTensor(8);
  us.isSigned = false;
  EXPECT_EQ(h.getMseRange(us).lo, 0.0f);
}

namespace {

/// Bin of x on N bins over [-R, R): [half + j) holds [j w, (j + 1) w) and
/// [half - 1 - j) holds [-(j + 1) w, -j w), values at R in the last bin.
int64_t referenceBin(double x, double range, int64_t numBins) {
  const int64_t half = numBins / 2;
  const double w = 2 * range / double(numBins);
  if (x >= 0)
    return half + std::min<int64_t>(int64_t(std::floor(x / w)), half - 1);
  return half - 1 -
         std::clamp<int64_t>(int64_t(std::ceil(-x / w)) - 1, 0, half - 1);
}

} // namespace

// Bin edges, signed zeros, the range itself and non-finite values land where
// the interval definition puts them, block after block (the range grows).
TEST(HistogramObserver, CountsFollowTheBinIntervals) {
  const int64_t numBins = 64;
  HistogramObserver h(numBins);
  std::vector<float> first = {0.0f, -0.0f, 0.0f};
  ASSERT_TRUE(h.observe(first.data(), 1, 3));
  EXPECT_EQ(h.getRange(), 0.0);
  std::vector<float> block = {1.0f,     -1.0f,   0.0625f, -0.0625f, 0.03125f,
                              -0.03125f, 0.99f,  -0.99f,  -0.0f,    0.0f,
                              NAN,      INFINITY, -INFINITY, 0.5f,   -0.5f};
  std::vector<float> noise = gaussian(997, 11, 0.3);
  block.insert(block.end(), noise.begin(), noise.end());
  ASSERT_TRUE(h.observe(block.data(), 1, int64_t(block.size())));
  EXPECT_EQ(h.getRange(), 2.0); // max |x| of the noise is in (1, 2]
  std::vector<float> wider = {-7.9f, 7.75f, -0.25f, 0.25f, -8.0f, 8.0f};
  ASSERT_TRUE(h.observe(wider.data(), 2, 3));
  ASSERT_EQ(h.getRange(), 8.0);
  // Earlier blocks were binned on the narrower range and merged by grow(),
  // whose power-of-two factor keeps bin boundaries: with no value at the old
  // range itself, binning every value directly on the final range gives the
  // same counts.
  std::vector<uint64_t> expected(size_t(numBins), 0);
  uint64_t finite = 0;
  for (const std::vector<float> *b : {&first, &block, &wider})
    for (float v : *b)
      if (std::isfinite(v)) {
        ++expected[size_t(referenceBin(v, 8.0, numBins))];
        ++finite;
      }
  EXPECT_EQ(h.getCounts(), expected);
  EXPECT_EQ(h.getTotal(), finite);
  EXPECT_EQ(h.getNumNonFinite(), 3u);
  EXPECT_EQ(h.getMin(), -8.0f);
  EXPECT_EQ(h.getMax(), 8.0f);
}
