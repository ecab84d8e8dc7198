//===- Histogram.h - Histogram calibration observer -------------*- C++ -*-===//
//
// A streaming histogram of activations with a fixed number of bins, and the
// range choices calibrators make from it: percentile (ORT "percentile"),
// entropy / KL divergence (TensorRT, ORT "entropy"), and MSE-optimal
// clipping (PyTorch HistogramObserver's search, NVIDIA "mse").
//
// Bins are uniform over [-R, R], N = getNumBins() a power of two, so 0 is a
// bin edge and bin b covers [-R + b w, -R + (b + 1) w), w = 2R / N (the last
// bin includes R). R is a power of two: the first non-zero data set it to
// the power of two at or above max|x|, and data beyond it double it as many
// times as needed, each new bin being the exact sum of 2^m old ones. Binning
// divides by a power of two, so counts are exact and do not depend on how
// the data were split into batches or observers: observing in pieces,
// merging per-thread observers, and observing everything at once give the
// same histogram. The price is at most a factor 2 of resolution, which the
// default of 4096 bins (at least 1024 over [0, max|x|]) absorbs.
//
// The two halves fold into a histogram of |x| with N / 2 bins of width w
// over [0, R] (symmetric ranges, KL).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_HISTOGRAM_H
#define QCC_QUANT_HISTOGRAM_H

#include "qcc/Quant/Rtn.h"
#include "qcc/Quant/Scheme.h"

#include <cstdint>
#include <vector>

namespace qcc {
namespace quant {

/// A real range [lo, hi].
struct Range {
  float lo = 0.0f;
  float hi = 0.0f;
};

class HistogramObserver {
public:
  /// `numBins` is rounded up to a power of two, at least 16.
  explicit HistogramObserver(int64_t numBins = 4096);

  /// Folds in a row-major [rows, cols] block (any shape: only the values
  /// matter). Non-finite values are skipped and counted.
  Status observe(const float *data, int64_t rows, int64_t cols);
  /// Folds in another observer with the same number of bins.
  Status merge(const HistogramObserver &other);

  int64_t getNumBins() const { return int64_t(counts.size()); }
  /// R, the half-width of the histogram (0 while only zeros were seen).
  double getRange() const { return range; }
  double getBinWidth() const { return 2 * range / double(counts.size()); }
  /// Counts per bin (zeros seen while R was 0 are in bin N / 2 only once R
  /// is set; getTotal() counts them all along).
  const std::vector<uint64_t> &getCounts() const { return counts; }
  /// Counts of |x| in N / 2 bins of width w over [0, R].
  std::vector<uint64_t> getAbsCounts() const;
  uint64_t getTotal() const { return total; }
  uint64_t getNumNonFinite() const { return numNonFinite; }
  /// Exact minimum / maximum of the finite data (0 when none).
  float getMin() const { return total ? minVal : 0.0f; }
  float getMax() const { return total ? maxVal : 0.0f; }
  float getMaxAbs() const;

  /// The value below which q percent (0..100) of the data lie, interpolated
  /// linearly inside its bin and clamped to [getMin(), getMax()]; within
  /// one bin width of numpy.percentile on the raw data.
  double getPercentile(double q) const;
  /// The same for |x|, clamped to [0, getMaxAbs()].
  double getAbsPercentile(double q) const;
  /// Range keeping `pct` percent (e.g. 99.99): symmetric, [-t, t] with t the
  /// pct-th percentile of |x|; otherwise [p(100 - pct), p(pct)] (ORT).
  Range getPercentileRange(double pct, bool symmetric) const;

  /// TensorRT's entropy calibration on |x|: the threshold T (a bin edge, at
  /// most max|x|) minimizing KL(P || Q), where P is the |x| histogram cut at
  /// T with the clipped mass added to its last bin, and Q is the histogram
  /// below T merged into `numQuantBins` levels (128 for int8 symmetric, 255
  /// for uint8 after ReLU) and expanded back over P's non-empty bins
  /// (MXNet's and ORT's construction; see klDivergence in Histogram.cpp for
  /// how empty bins of Q are handled). Ties go to the smaller threshold.
  double getEntropyThreshold(int64_t numQuantBins = 128) const;
  /// [-T, T] with T = getEntropyThreshold(numQuantBins).
  Range getEntropyRange(int64_t numQuantBins = 128) const;

  /// Expected squared error per value of quantizing the observed data with
  /// (scale, zero point) under `scheme`, data taken uniform inside each bin:
  /// rounding error on the grid scale * Z inside the representable range,
  /// clipping error outside it, integrated exactly per bin.
  double estimateMse(ScaleZeroPoint params, const Scheme &scheme) const;
  /// The range whose chooseScaleZeroPoint() minimizes estimateMse():
  /// symmetric schemes try every threshold t = j w (and max|x|) as [-t, t];
  /// asymmetric ones start at [min, max] and move, one bin at a time, the
  /// end whose outer bin holds fewer values (PyTorch's search).
  Range getMseRange(const Scheme &scheme) const;

private:
  /// Re-bins to half-width `newRange`, a power of two >= range.
  void grow(double newRange);
  int64_t binOf(double x) const;

  std::vector<uint64_t> counts;
  double range = 0;
  uint64_t pendingZeros = 0;
  uint64_t total = 0;
  uint64_t numNonFinite = 0;
  float minVal, maxVal;
};

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_HISTOGRAM_H
