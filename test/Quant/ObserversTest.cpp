//===- ObserversTest.cpp - Streaming observers against one-shot ones ------===//

#include "qcc/Quant/Observers.h"

#include "ActivationReference.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <vector>

using namespace qcc::quant;

namespace {
using qcc::quant::test::gaussian;

/// Feeds rows [0, rows) of a [rows, cols] matrix in uneven batches.
template <typename Observer>
void observeInBatches(Observer &obs, const std::vector<float> &x, int64_t rows,
                      int64_t cols) {
  const int64_t sizes[] = {1, 7, 0, 33, 2, 64};
  int64_t r = 0, i = 0;
  while (r < rows) {
    int64_t take = std::min(rows - r, sizes[i++ % 6]);
    ASSERT_TRUE(obs.observe(x.data() + r * cols, take, cols));
    r += take;
  }
}
} // namespace

TEST(MinMaxObserver, TensorAndChannels) {
  const int64_t rows = 200, cols = 6;
  std::vector<float> x = gaussian(rows * cols, 1);
  x[17] = NAN;
  x[18] = INFINITY;
  MinMaxObserver oneShot(cols), streamed(cols), a(cols), b(cols);
  ASSERT_TRUE(oneShot.observe(x.data(), rows, cols));
  observeInBatches(streamed, x, rows, cols);
  ASSERT_TRUE(a.observe(x.data(), 120, cols));
  ASSERT_TRUE(b.observe(x.data() + 120 * cols, rows - 120, cols));
  ASSERT_TRUE(a.merge(b));
  float mn = INFINITY, mx = -INFINITY;
  std::vector<float> cmn(cols, INFINITY), cmx(cols, -INFINITY);
  for (int64_t i = 0; i < rows * cols; ++i) {
    if (!std::isfinite(x[i]))
      continue;
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
    cmn[i % cols] = std::min(cmn[i % cols], x[i]);
    cmx[i % cols] = std::max(cmx[i % cols], x[i]);
  }
  for (const MinMaxObserver *o : {&oneShot, &streamed, &a}) {
    EXPECT_EQ(o->getMin(), mn);
    EXPECT_EQ(o->getMax(), mx);
    EXPECT_EQ(o->getChannelMin(), cmn);
    EXPECT_EQ(o->getChannelMax(), cmx);
    EXPECT_EQ(o->getNumNonFinite(), 2);
    EXPECT_EQ(o->getNumFinite(), rows * cols - 2);
  }
  ScaleZeroPoint p = oneShot.getScaleZeroPoint(Scheme::perTensor(8));
  EXPECT_FLOAT_EQ(p.scale, std::max(-mn, mx) / 127.0f);
  Status st = oneShot.observe(x.data(), 1, 5);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "block has 5 columns, the observer has 6 channels");
  MinMaxObserver other(3);
  EXPECT_FALSE(oneShot.merge(other));
  MinMaxObserver empty;
  EXPECT_FALSE(empty.hasData());
  EXPECT_EQ(empty.getMin(), 0.0f);
}

TEST(ChannelAbsObserver, MatchesDirectComputation) {
  const int64_t rows = 300, cols = 5;
  std::vector<float> x = gaussian(rows * cols, 2);
  for (int64_t r = 0; r < rows; ++r)
    x[r * cols + 3] *= 10; // a loud channel
  ChannelAbsObserver oneShot(cols), streamed(cols), a(cols), b(cols);
  ASSERT_TRUE(oneShot.observe(x.data(), rows, cols));
  observeInBatches(streamed, x, rows, cols);
  ASSERT_TRUE(a.observe(x.data(), 10, cols));
  ASSERT_TRUE(b.observe(x.data() + 10 * cols, rows - 10, cols));
  ASSERT_TRUE(a.merge(b));
  for (const ChannelAbsObserver *o : {&oneShot, &streamed, &a}) {
    std::vector<double> mean = o->getMeanAbs(), sq = o->getMeanSquare();
    std::vector<float> mx = o->getMaxAbs();
    EXPECT_EQ(o->getNumRows(), rows);
    for (int64_t c = 0; c < cols; ++c) {
      double s = 0, s2 = 0;
      float m = 0;
      for (int64_t r = 0; r < rows; ++r) {
        double v = std::fabs(double(x[r * cols + c]));
        s += v;
        s2 += v * v;
        m = std::max(m, std::fabs(x[r * cols + c]));
      }
      EXPECT_NEAR(mean[c], s / rows, 1e-12 * s);
      EXPECT_NEAR(sq[c], s2 / rows, 1e-12 * s2);
      EXPECT_EQ(mx[c], m);
    }
    EXPECT_GT(mean[3], 5 * mean[0]);
  }
}

TEST(GramObserver, MatchesDirectDoubleComputation) {
  const int64_t rows = 257, k = 37;
  std::vector<float> x = gaussian(rows * k, 3);
  GramObserver oneShot(k), streamed(k);
  ASSERT_TRUE(oneShot.observe(x.data(), rows, k));
  observeInBatches(streamed, x, rows, k);
  std::vector<double> h = oneShot.getMatrix();
  std::vector<double> hs = streamed.getMatrix();
  // Any split of the rows gives the same bits.
  EXPECT_EQ(h, hs);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double ref = 0;
      for (int64_t r = 0; r < rows; ++r)
        ref += double(x[r * k + i]) * double(x[r * k + j]);
      ASSERT_NEAR(h[i * k + j], ref, 1e-12 * rows);
      ASSERT_EQ(h[i * k + j], h[j * k + i]);
    }
  std::vector<double> mean = oneShot.getMatrix(true);
  EXPECT_DOUBLE_EQ(mean[5], h[5] / rows);
  EXPECT_EQ(oneShot.getNumRows(), rows);
}

TEST(GramObserver, LargeKTilesAndMerge) {
  // K beyond one column tile, merged from two observers.
  const int64_t rows = 70, k = 300;
  std::vector<float> x = gaussian(rows * k, 4, 0.5);
  GramObserver a(k), b(k), whole(k);
  ASSERT_TRUE(whole.observe(x.data(), rows, k));
  ASSERT_TRUE(a.observe(x.data(), 31, k));
  ASSERT_TRUE(b.observe(x.data() + 31 * k, rows - 31, k));
  ASSERT_TRUE(a.merge(b));
  std::vector<double> ha = a.getMatrix(), hw = whole.getMatrix();
  for (int64_t i = 0; i < k; i += 7)
    for (int64_t j = 0; j < k; j += 3) {
      double ref = 0;
      for (int64_t r = 0; r < rows; ++r)
        ref += double(x[r * k + i]) * double(x[r * k + j]);
      ASSERT_NEAR(hw[i * k + j], ref, 1e-12 * rows);
      ASSERT_NEAR(ha[i * k + j], ref, 1e-12 * rows);
    }
  EXPECT_EQ(a.getNumRows(), rows);
}

TEST(GramObserver, SkipsNonFiniteRows) {
  const int64_t k = 4;
  std::vector<float> x = {1,  2,   3, 4, //
                          1,  NAN, 0, 0, //
                          -1, 0,   1, 2};
  GramObserver g(k);
  ASSERT_TRUE(g.observe(x.data(), 3, k));
  EXPECT_EQ(g.getNumRows(), 2);
  EXPECT_EQ(g.getNumSkippedRows(), 1);
  std::vector<double> h = g.getMatrix();
  EXPECT_EQ(h[0 * k + 0], 2.0);
  EXPECT_EQ(h[0 * k + 3], 4.0 - 2.0);
  EXPECT_EQ(h[3 * k + 3], 20.0);
  GramObserver other(5);
  Status st = g.merge(other);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "cannot merge gram observers of K = 4 and 5");
}
