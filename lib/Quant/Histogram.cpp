//===- Histogram.cpp - Histogram calibration observer ---------------------===//

#include "qcc/Quant/Histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qcc::quant;

/// Smallest power of two >= v, for finite v > 0.
static double powerOfTwoCeil(double v) {
  int e = 0;
  double f = std::frexp(v, &e); // v = f * 2^e, f in [0.5, 1)
  return f == 0.5 ? v : std::ldexp(1.0, e);
}

HistogramObserver::HistogramObserver(int64_t numBins)
    : minVal(std::numeric_limits<float>::infinity()),
      maxVal(-std::numeric_limits<float>::infinity()) {
  int64_t n = 16;
  while (n < numBins)
    n *= 2;
  counts.assign(size_t(n), 0);
}

float HistogramObserver::getMaxAbs() const {
  return std::max(std::fabs(getMin()), std::fabs(getMax()));
}

int64_t HistogramObserver::binOf(double x) const {
  const int64_t half = getNumBins() / 2;
  const double w = getBinWidth();
  // Division by the power of two w is exact, so floor and ceil are too.
  if (x >= 0) {
    double j = std::floor(x / w);
    return half + std::min<int64_t>(int64_t(j), half - 1);
  }
  double j = std::ceil(-x / w) - 1;
  return half - 1 - std::clamp<int64_t>(int64_t(j), 0, half - 1);
}

void HistogramObserver::grow(double newRange) {
  const int64_t half = getNumBins() / 2;
  if (range == 0) {
    range = newRange;
    counts[size_t(half)] += pendingZeros;
    pendingZeros = 0;
    return;
  }
  if (newRange <= range)
    return;
  const int64_t factor = int64_t(newRange / range);
  std::vector<uint64_t> grown(counts.size(), 0);
  for (int64_t b = 0; b < half; ++b) {
    // Positive bin half + b and its mirror half - 1 - b.
    grown[size_t(half + b / factor)] += counts[size_t(half + b)];
    grown[size_t(half - 1 - b / factor)] += counts[size_t(half - 1 - b)];
  }
  counts.swap(grown);
  range = newRange;
}

Status HistogramObserver::observe(const float *data, int64_t rows,
                                  int64_t cols) {
  if (rows < 0 || cols < 0)
    return Status::error("negative block shape " + std::to_string(rows) + "x" +
                         std::to_string(cols));
  const int64_t count = rows * cols;
  if (!data && count > 0)
    return Status::error("null data for a non-empty block");
  // One pass for the block's finite min / max (taken in order, as the
  // per-value updates would: the first of equal values wins, e.g. 0 / -0).
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  uint64_t blockNonFinite = 0;
  for (int64_t i = 0; i < count; ++i) {
    float v = data[i];
    if (!std::isfinite(v)) {
      ++blockNonFinite;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const uint64_t finite = uint64_t(count) - blockNonFinite;
  numNonFinite += blockNonFinite;
  if (finite == 0)
    return Status::success();
  total += finite;
  minVal = std::min(minVal, lo);
  maxVal = std::max(maxVal, hi);
  double batchMaxAbs = std::max(std::fabs(double(lo)), std::fabs(double(hi)));
  if (batchMaxAbs > range)
    grow(powerOfTwoCeil(batchMaxAbs));
  if (range == 0) {
    pendingZeros += finite;
    return Status::success();
  }
  // binOf() with the exact reciprocal of the power-of-two width: x * (1 / w)
  // is x / w exactly, and truncation is floor for x >= 0; for x < 0,
  // ceil(y) - 1 of y = -x / w is trunc(y) - 1 when y is whole, else trunc(y).
  const int64_t half = getNumBins() / 2;
  const double inverse = 1.0 / getBinWidth();
  uint64_t *bins = counts.data();
  for (int64_t i = 0; i < count; ++i) {
    float v = data[i];
    if (!std::isfinite(v))
      continue;
    double x = double(v);
    if (x >= 0) {
      int64_t j = int64_t(x * inverse);
      ++bins[half + std::min<int64_t>(j, half - 1)];
    } else {
      double y = -x * inverse;
      int64_t j = int64_t(y);
      if (double(j) == y)
        --j;
      ++bins[half - 1 - std::clamp<int64_t>(j, 0, half - 1)];
    }
  }
  return Status::success();
}

Status HistogramObserver::merge(const HistogramObserver &other) {
  if (other.getNumBins() != getNumBins())
    return Status::error("cannot merge histograms of " +
                         std::to_string(getNumBins()) + " and " +
                         std::to_string(other.getNumBins()) + " bins");
  HistogramObserver rhs = other;
  double common = std::max(range, rhs.range);
  if (common > 0) {
    grow(common);
    rhs.grow(common);
  }
  for (size_t b = 0; b < counts.size(); ++b)
    counts[b] += rhs.counts[b];
  pendingZeros += rhs.pendingZeros;
  total += rhs.total;
  numNonFinite += rhs.numNonFinite;
  minVal = std::min(minVal, rhs.minVal);
  maxVal = std::max(maxVal, rhs.maxVal);
  return Status::success();
}

std::vector<uint64_t> HistogramObserver::getAbsCounts() const {
  const int64_t half = getNumBins() / 2;
  std::vector<uint64_t> abs(size_t(half), 0);
  for (int64_t j = 0; j < half; ++j)
    abs[size_t(j)] = counts[size_t(half + j)] + counts[size_t(half - 1 - j)];
  abs[0] += pendingZeros;
  return abs;
}

/// The q-th percentile of a histogram whose bin j covers [low + j w,
/// low + (j + 1) w), values uniform inside a bin.
static double percentileOf(const std::vector<uint64_t> &hist, double low,
                           double w, double q) {
  uint64_t sum = 0;
  for (uint64_t c : hist)
    sum += c;
  if (sum == 0)
    return 0;
  double target = std::clamp(q, 0.0, 100.0) / 100.0 * double(sum);
  double cumulative = 0;
  for (size_t j = 0; j < hist.size(); ++j) {
    if (hist[j] == 0)
      continue;
    double next = cumulative + double(hist[j]);
    if (next >= target)
      return low + w * (double(j) + (target - cumulative) / double(hist[j]));
    cumulative = next;
  }
  return low + w * double(hist.size());
}

double HistogramObserver::getPercentile(double q) const {
  if (total == 0 || range == 0)
    return 0;
  std::vector<uint64_t> hist = counts;
  hist[hist.size() / 2] += pendingZeros;
  double v = percentileOf(hist, -range, getBinWidth(), q);
  return std::clamp(v, double(getMin()), double(getMax()));
}

double HistogramObserver::getAbsPercentile(double q) const {
  if (total == 0 || range == 0)
    return 0;
  double v = percentileOf(getAbsCounts(), 0, getBinWidth(), q);
  return std::clamp(v, 0.0, double(getMaxAbs()));
}

Range HistogramObserver::getPercentileRange(double pct, bool symmetric) const {
  if (symmetric) {
    float t = float(getAbsPercentile(pct));
    return {-t, t};
  }
  double lo = getPercentile(100 - pct), hi = getPercentile(pct);
  if (lo > hi)
    std::swap(lo, hi);
  return {float(lo), float(hi)};
}

/// KL(P || Q) of two unnormalized histograms where Q is zero wherever P is.
/// Q's empty bins under non-empty P bins get a floor of 1e-4 counts. (MXNet
/// and ORT instead smooth both P and Q by moving eps of mass onto every empty
/// bin; the mass moved grows with the number of empty bins, which makes KL
/// drift across candidates that quantize the data identically and picks the
/// widest of them.)
static double klDivergence(const std::vector<double> &p,
                           const std::vector<double> &q) {
  const double floor = 1e-4;
  double sp = 0, sq = 0, mass = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    sp += p[i];
    mass += q[i];
    sq += p[i] > 0 ? std::max(q[i], floor) : 0;
  }
  // All of P clipped into its last bin: nothing below the threshold to
  // compare with (MXNet's smoothing fails there too and scores infinity).
  if (mass == 0)
    return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0)
      kl += p[i] / sp * std::log((p[i] / sp) / (std::max(q[i], floor) / sq));
  return kl;
}

double HistogramObserver::getEntropyThreshold(int64_t numQuantBins) const {
  const double maxAbs = getMaxAbs();
  if (total == 0 || range == 0 || numQuantBins <= 0)
    return maxAbs;
  const std::vector<uint64_t> abs = getAbsCounts();
  const double w = getBinWidth();
  int64_t used = int64_t(abs.size());
  while (used > 0 && abs[size_t(used - 1)] == 0)
    --used;
  if (used <= numQuantBins)
    return maxAbs;

  std::vector<double> suffix(size_t(used) + 1, 0.0);
  for (int64_t j = used - 1; j >= 0; --j)
    suffix[size_t(j)] = suffix[size_t(j) + 1] + double(abs[size_t(j)]);

  double bestKl = std::numeric_limits<double>::infinity();
  int64_t bestI = used;
  std::vector<double> p, q;
  for (int64_t i = numQuantBins; i <= used; ++i) {
    p.assign(abs.begin(), abs.begin() + i);
    p[size_t(i - 1)] += suffix[size_t(i)];
    // Q: the unclipped histogram below i merged into numQuantBins levels,
    // each level spread evenly over the non-empty bins of P it covers.
    q.assign(size_t(i), 0.0);
    const int64_t merged = i / numQuantBins;
    for (int64_t j = 0; j < numQuantBins; ++j) {
      int64_t start = j * merged;
      int64_t stop = j == numQuantBins - 1 ? i : start + merged;
      double level = 0;
      int64_t nonEmpty = 0;
      for (int64_t b = start; b < stop; ++b) {
        level += double(abs[size_t(b)]);
        nonEmpty += p[size_t(b)] != 0;
      }
      if (nonEmpty == 0)
        continue;
      for (int64_t b = start; b < stop; ++b)
        if (p[size_t(b)] != 0)
          q[size_t(b)] = level / double(nonEmpty);
    }
    double kl = klDivergence(p, q);
    // Strictly smaller: among equal divergences the tightest range wins.
    if (kl < bestKl) {
      bestKl = kl;
      bestI = i;
    }
  }
  return std::min(double(bestI) * w, maxAbs);
}

Range HistogramObserver::getEntropyRange(int64_t numQuantBins) const {
  float t = float(getEntropyThreshold(numQuantBins));
  return {-t, t};
}

namespace {
/// Squared error of x -> clamp(s * rne(x / s), lo, hi), integrated.
struct ErrorIntegrator {
  double s, lo, hi;

  /// Integral of the rounding error squared from -s/2 to x; the error is a
  /// sawtooth of period s whose every period integrates to s^3 / 12.
  double sawtooth(double x) const {
    double m = std::floor(x / s + 0.5);
    double r = x - m * s;
    return m * s * s * s / 12 + (r * r * r + s * s * s / 8) / 3;
  }

  double pointError(double x) const {
    if (x <= lo)
      return (x - lo) * (x - lo);
    if (x >= hi)
      return (x - hi) * (x - hi);
    double d = x - s * std::nearbyint(x / s);
    return d * d;
  }

  /// Integral of the squared error over [a, b].
  double integrate(double a, double b) const {
    double sum = 0;
    if (a < lo) {
      double e = std::min(b, lo);
      sum +=
          ((e - lo) * (e - lo) * (e - lo) - (a - lo) * (a - lo) * (a - lo)) / 3;
    }
    if (b > hi) {
      double st = std::max(a, hi);
      sum +=
          ((b - hi) * (b - hi) * (b - hi) - (st - hi) * (st - hi) * (st - hi)) /
          3;
    }
    double ia = std::max(a, lo), ib = std::min(b, hi);
    if (ib > ia)
      sum += sawtooth(ib) - sawtooth(ia);
    return sum;
  }
};
} // namespace

double HistogramObserver::estimateMse(ScaleZeroPoint params,
                                      const Scheme &scheme) const {
  if (total == 0 || range == 0)
    return 0;
  ErrorIntegrator err;
  err.s = params.scale;
  err.lo =
      double(params.scale) * double(scheme.getMinCode() - params.zeroPoint);
  err.hi =
      double(params.scale) * double(scheme.getMaxCode() - params.zeroPoint);
  const double w = getBinWidth();
  double sum = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    uint64_t c = counts[b] + (b == counts.size() / 2 ? pendingZeros : 0);
    if (c == 0)
      continue;
    // The outermost bins hold data only up to the observed extremes.
    double a = std::max(-range + double(b) * w, double(minVal));
    double e = std::min(-range + double(b + 1) * w, double(maxVal));
    if (e <= a)
      sum += double(c) * err.pointError(a);
    else
      sum += double(c) * err.integrate(a, e) / (e - a);
  }
  return sum / double(total);
}

Range HistogramObserver::getMseRange(const Scheme &scheme) const {
  if (total == 0 || range == 0)
    return {0, 0};
  const double w = getBinWidth();
  double bestMse = std::numeric_limits<double>::infinity();
  Range best{getMin(), getMax()};
  auto consider = [&](double lo, double hi) {
    double mse = estimateMse(chooseScaleZeroPoint(lo, hi, scheme), scheme);
    if (mse < bestMse) {
      bestMse = mse;
      best = {float(lo), float(hi)};
    }
  };

  if (scheme.symmetric) {
    // Largest thresholds first, so ties keep the wider range.
    const double maxAbs = getMaxAbs();
    consider(scheme.isSigned ? -maxAbs : 0, maxAbs);
    for (int64_t j = int64_t(std::ceil(maxAbs / w)); j >= 1; --j) {
      double t = std::min(double(j) * w, maxAbs);
      consider(scheme.isSigned ? -t : 0, t);
    }
    return best;
  }

  int64_t low = binOf(getMin()), high = binOf(getMax()) + 1;
  double lo = getMin(), hi = getMax();
  consider(lo, hi);
  while (high - low > 1) {
    if (counts[size_t(low)] <= counts[size_t(high - 1)]) {
      ++low;
      lo = -range + double(low) * w;
    } else {
      --high;
      hi = -range + double(high) * w;
    }
    consider(lo, hi);
  }
  return best;
}
