//===- GptqTest.cpp - GPTQ against RTN and float64 references -------------===//

#include "qcc/Quant/Gptq.h"
#include "qcc/Quant/Packing.h"

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

/// Rows of correlated activations, [rows, k]: a few shared latent factors,
/// channel scales spread over 30x (outlier-like channels) and noise.
std::vector<float> correlatedX(int64_t rows, int64_t k, uint32_t seed) {
  const int64_t factors = 8;
  std::vector<float> z = gaussian(rows * factors, seed);
  std::vector<float> mix = gaussian(factors * k, seed + 1);
  std::vector<float> noise = gaussian(rows * k, seed + 2, 0.3);
  std::vector<float> x(size_t(rows * k));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c) {
      double v = noise[r * k + c];
      for (int64_t f = 0; f < factors; ++f)
        v += double(z[r * factors + f]) * double(mix[f * k + c]);
      double scale = 1.0 + 29.0 * double((c * 7) % k) / double(k);
      x[r * k + c] = float(v * scale);
    }
  return x;
}

std::vector<float> decode(const std::vector<int32_t> &codes, int64_t k,
                          int64_t n, const Scheme &s, const QuantParams &p) {
  std::vector<float> out(size_t(k * n));
  EXPECT_TRUE(dequantize(codes.data(), k, n, s, p, out.data()).ok);
  return out;
}

Scheme int4Group(int64_t group, bool symmetric) {
  Scheme s = Scheme::perGroup(4, group, symmetric, /*axis=*/0);
  if (!symmetric)
    s.isSigned = false;
  return s;
}

struct Case {
  const char *name;
  Scheme scheme;
};

std::vector<Case> schemes() {
  return {{"int4 g32 sym", int4Group(32, true)},
          {"int4 g32 asym", int4Group(32, false)},
          {"int4 g128 sym", int4Group(128, true)},
          {"int8 per-channel", Scheme::perChannel(8, true, /*axis=*/1)}};
}

TEST(Gptq, OutputErrorBelowRtnOnCorrelatedActivations) {
  const int64_t rows = 512, k = 256, n = 96;
  std::vector<float> x = correlatedX(rows, k, 11);
  std::vector<float> w = gaussian(k * n, 12, 0.05);
  std::vector<double> h = gram(x, rows, k);
  for (bool actOrder : {false, true}) {
    GptqOptions options;
    options.actOrder = actOrder;
    GptqHessian hessian;
    ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
    for (const Case &c : schemes()) {
      SCOPED_TRACE(std::string(c.name) + (actOrder ? " act-order" : ""));
      QuantParams gp, rp;
      std::vector<int32_t> gc, rc;
      ASSERT_TRUE(quantizeWeightGptq(w.data(), k, n, c.scheme, hessian,
                                     options, gp, gc)
                      .ok);
      ASSERT_TRUE(quantizeWeightRtnClip(w.data(), k, n, c.scheme,
                                        ClipMode::None, nullptr, rp, rc)
                      .ok);
      double gptq = outputError(x, rows, k, w, decode(gc, k, n, c.scheme, gp), n);
      double rtn = outputError(x, rows, k, w, decode(rc, k, n, c.scheme, rp), n);
      // X has 8 strong latent factors, so most of RTN's output error can be
      // compensated: measured ratios 0.05 (0.01 with act-order).
      EXPECT_LT(gptq, 0.2 * rtn) << "gptq " << gptq << " rtn " << rtn;
      // The fast quadratic form agrees with the activations.
      std::vector<float> deq = decode(gc, k, n, c.scheme, gp);
      EXPECT_NEAR(hessianQuadraticError(w.data(), deq.data(), k, n, h.data()),
                  gptq, 1e-3 * gptq);
    }
  }
}

TEST(Gptq, ObjectiveIsTheOutputError) {
  const int64_t rows = 300, k = 64, n = 40;
  std::vector<float> x = correlatedX(rows, k, 21);
  for (int64_t r = 0; r < rows; ++r)
    x[r * k + 9] = 0.0f; // A dead channel.
  std::vector<float> w = gaussian(k * n, 22);
  std::vector<double> h = gram(x, rows, k);
  GptqOptions options;
  options.blockSize = 16; // Several lazy-update blocks.
  GptqHessian hessian;
  ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
  EXPECT_GT(hessian.damping, 0);
  for (const Case &c : schemes()) {
    if (k % std::max<int64_t>(c.scheme.groupSize, 1) != 0)
      continue;
    SCOPED_TRACE(c.name);
    QuantParams p;
    std::vector<int32_t> codes;
    double loss = -1;
    ASSERT_TRUE(quantizeWeightGptq(w.data(), k, n, c.scheme, hessian, options,
                                   p, codes, &loss)
                    .ok);
    std::vector<float> deq = decode(codes, k, n, c.scheme, p);
    double direct = outputError(x, rows, k, w, deq, n);
    EXPECT_NEAR(loss, direct, 1e-3 * direct);
    std::vector<double> both = hessianQuadraticErrors(
        w.data(), {nullptr, deq.data()}, k, n, h.data());
    EXPECT_NEAR(both[1], direct, 1e-4 * direct);
    EXPECT_NEAR(both[0], outputError(x, rows, k, w, std::vector<float>(w.size()), n),
                1e-4 * both[0]);
  }
}

TEST(Gptq, DiagonalHessianIsRtn) {
  // Uncorrelated inputs: nothing to compensate, GPTQ is RTN bit for bit.
  const int64_t k = 64, n = 48;
  std::vector<float> w = gaussian(k * n, 31);
  std::vector<double> h(size_t(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] = 1.0 + double(i);
  GptqOptions options;
  GptqHessian hessian;
  ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
  for (Case c : schemes()) {
    if (c.scheme.groupSize > k)
      c.scheme.groupSize = 32;
    SCOPED_TRACE(c.name);
    QuantParams gp, rp;
    std::vector<int32_t> gc, rc;
    ASSERT_TRUE(quantizeWeightGptq(w.data(), k, n, c.scheme, hessian, options,
                                   gp, gc)
                    .ok);
    ASSERT_TRUE(quantizeWeightRtnClip(w.data(), k, n, c.scheme,
                                      ClipMode::None, nullptr, rp, rc)
                    .ok);
    EXPECT_EQ(gc, rc);
    EXPECT_EQ(gp.scales, rp.scales);
    EXPECT_EQ(gp.zeroPoints, rp.zeroPoints);
  }
}

TEST(Gptq, RepresentableWeightsAreExact) {
  // Every group column holds -8 * s and codes in [-8, 7]: full-range scales
  // represent it exactly, so no error exists to propagate.
  const int64_t k = 64, n = 32, group = 32;
  std::mt19937 rng(41);
  std::uniform_int_distribution<int> code(-8, 7);
  std::vector<float> w(size_t(k * n));
  std::vector<float> scale = {0.5f, 0.25f, 0.125f, 2.0f};
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int q = r % group == 5 ? -8 : code(rng);
      w[r * n + c] = float(q) * scale[c % scale.size()];
    }
  std::vector<float> x = correlatedX(200, k, 42);
  std::vector<double> h = gram(x, 200, k);
  GptqOptions options;
  GptqHessian hessian;
  ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
  Scheme s = int4Group(group, true);
  QuantParams p;
  std::vector<int32_t> codes;
  double loss = -1;
  ASSERT_TRUE(
      quantizeWeightGptq(w.data(), k, n, s, hessian, options, p, codes, &loss)
          .ok);
  EXPECT_EQ(loss, 0.0);
  EXPECT_EQ(decode(codes, k, n, s, p), w);
}

TEST(Gptq, LayoutsDecodeAndPack) {
  const int64_t rows = 256, k = 128, n = 64;
  std::vector<float> x = correlatedX(rows, k, 51);
  std::vector<float> w = gaussian(k * n, 52, 0.1);
  std::vector<double> h = gram(x, rows, k);
  GptqOptions options;
  GptqHessian hessian;
  ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
  for (const Case &c : schemes()) {
    SCOPED_TRACE(c.name);
    QuantParams p;
    std::vector<int32_t> codes;
    ASSERT_TRUE(
        quantizeWeightGptq(w.data(), k, n, c.scheme, hessian, options, p, codes)
            .ok);
    auto [pr, pcols] = c.scheme.getParamShape(k, n);
    EXPECT_EQ(p.rows, pr);
    EXPECT_EQ(p.cols, pcols);
    ASSERT_EQ(codes.size(), size_t(k * n));
    for (int32_t q : codes) {
      ASSERT_GE(q, c.scheme.getMinCode());
      ASSERT_LE(q, c.scheme.getMaxCode());
    }
    if (!c.scheme.symmetric)
      for (int32_t z : p.zeroPoints) {
        EXPECT_GE(z, c.scheme.getMinCode());
        EXPECT_LE(z, c.scheme.getMaxCode());
      }
    // Codes survive the kernels' packed layouts.
    for (Layout layout : {Layout::RowMajor, Layout::PackedK, Layout::VnniK8N16,
                          Layout::VnniK4N16}) {
      if (!verifyLayout(k, n, c.scheme.bits, layout).ok)
        continue;
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(packCodes(codes.data(), k, n, c.scheme, layout, bytes).ok);
      std::vector<int32_t> back(codes.size());
      ASSERT_TRUE(unpackCodes(bytes.data(), int64_t(bytes.size()), k, n, c.scheme,
                              layout, back.data())
                      .ok);
      EXPECT_EQ(back, codes);
    }
    // Decoded weights stay close to the originals (relative L2 of int4 with
    // error feedback is larger than RTN's, but bounded).
    std::vector<float> deq = decode(codes, k, n, c.scheme, p);
    double num = 0, den = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      num += (double(w[i]) - deq[i]) * (double(w[i]) - deq[i]);
      den += double(w[i]) * w[i];
    }
    EXPECT_LT(std::sqrt(num / den), c.scheme.bits == 8 ? 0.02 : 0.3);
  }
}

TEST(Gptq, DeadChannelsAndThreads) {
  const int64_t rows = 200, k = 64, n = 300; // Several column chunks.
  std::vector<float> x = correlatedX(rows, k, 61);
  for (int64_t r = 0; r < rows; ++r)
    x[r * k + 3] = x[r * k + 40] = 0.0f; // Never active.
  std::vector<float> w = gaussian(k * n, 62);
  std::vector<double> h = gram(x, rows, k);
  GptqOptions options;
  GptqHessian hessian;
  ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
  EXPECT_EQ(hessian.deadChannels, 2);
  Scheme s = int4Group(32, true);
  QuantParams p1, p4;
  std::vector<int32_t> c1, c4;
  double l1 = 0, l4 = 0;
  options.numThreads = 1;
  ASSERT_TRUE(
      quantizeWeightGptq(w.data(), k, n, s, hessian, options, p1, c1, &l1).ok);
  options.numThreads = 4;
  ASSERT_TRUE(
      quantizeWeightGptq(w.data(), k, n, s, hessian, options, p4, c4, &l4).ok);
  EXPECT_EQ(c1, c4);
  EXPECT_EQ(p1.scales, p4.scales);
  EXPECT_EQ(l1, l4);
  EXPECT_TRUE(std::isfinite(l1));
}

TEST(Gptq, ClipModesNeverHurtTheirOwnObjective) {
  // The clip searches keep ratio 1 as a candidate: per group, the weighted
  // weight error of Mse / Activation is at most that of None.
  const int64_t k = 64, n = 32;
  std::vector<float> w = gaussian(k * n, 71);
  std::vector<double> diag(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i)
    diag[i] = 1.0 + double((i * 13) % 17);
  Scheme s = int4Group(32, true);
  auto weighted = [&](ClipMode mode) {
    QuantParams p;
    std::vector<int32_t> codes;
    EXPECT_TRUE(
        quantizeWeightRtnClip(w.data(), k, n, s, mode, diag.data(), p, codes)
            .ok);
    std::vector<float> deq = decode(codes, k, n, s, p);
    double err = 0;
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double d = double(w[r * n + c]) - deq[r * n + c];
        err += diag[r] * d * d;
      }
    return err;
  };
  EXPECT_LE(weighted(ClipMode::Activation), weighted(ClipMode::None));
  EXPECT_LE(weighted(ClipMode::Activation), weighted(ClipMode::Mse) + 1e-12);
}

TEST(Gptq, Errors) {
  const int64_t k = 32, n = 16;
  std::vector<double> h(size_t(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] = 1;
  GptqOptions options;
  GptqHessian hessian;
  ASSERT_TRUE(prepareGptqHessian(h.data(), k, options, hessian).ok);
  std::vector<float> w = gaussian(k * n, 81);
  QuantParams p;
  std::vector<int32_t> codes;
  Status st = quantizeWeightGptq(w.data(), 2 * k, n / 2, Scheme::perChannel(8),
                                 hessian, options, p, codes);
  EXPECT_FALSE(st.ok);
  EXPECT_NE(st.message.find("K = 64"), std::string::npos) << st.message;
  st = quantizeWeightGptq(w.data(), k, n, Scheme::perTensor(8), hessian,
                          options, p, codes);
  EXPECT_FALSE(st.ok);
  std::vector<double> bad = h;
  bad[5] = std::nan("");
  EXPECT_FALSE(prepareGptqHessian(bad.data(), k, options, hessian).ok);
  options.dampening = 0;
  EXPECT_FALSE(prepareGptqHessian(h.data(), k, options, hessian).ok);
}

} // namespace
