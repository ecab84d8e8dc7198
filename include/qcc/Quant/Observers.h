//===- Observers.h - Streaming calibration statistics -----------*- C++ -*-===//
//
// Observers that see activations batch by batch and keep only statistics of
// a size fixed at construction, whatever the number of samples: min/max,
// per-input-channel |x| moments, and X^T X for a matmul input (GPTQ and AWQ
// need it). Data come as row-major [rows, cols] blocks; for a matmul input
// [..., K] the rows are the flattened leading dimensions and cols = K.
// Observers are not thread-safe: give each thread its own and merge().
// Non-finite values are skipped and counted.
//
// HistogramObserver lives in Histogram.h.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_OBSERVERS_H
#define QCC_QUANT_OBSERVERS_H

#include "qcc/Quant/Rtn.h"
#include "qcc/Quant/Scheme.h"

#include <cstdint>
#include <vector>

namespace qcc {
namespace quant {

/// Running minimum and maximum, over the whole tensor and, when constructed
/// with channels > 0, per column.
class MinMaxObserver {
public:
  /// `channels` = 0 tracks the tensor only; otherwise cols must equal it.
  explicit MinMaxObserver(int64_t channels = 0);

  /// Folds in a row-major [rows, cols] block.
  Status observe(const float *data, int64_t rows, int64_t cols);
  /// Folds in another observer of the same number of channels.
  Status merge(const MinMaxObserver &other);

  /// True once a finite value was seen.
  bool hasData() const { return numFinite > 0; }
  /// Tensor minimum / maximum (0 before any finite value).
  float getMin() const { return hasData() ? minVal : 0.0f; }
  float getMax() const { return hasData() ? maxVal : 0.0f; }
  /// Per-channel minimum / maximum (0 for channels with no finite value).
  std::vector<float> getChannelMin() const;
  std::vector<float> getChannelMax() const;
  int64_t getNumChannels() const { return channels; }
  /// Finite values seen, and non-finite values skipped.
  int64_t getNumFinite() const { return numFinite; }
  int64_t getNumNonFinite() const { return numNonFinite; }

  /// Scale and zero point of [getMin(), getMax()] under `scheme`.
  ScaleZeroPoint getScaleZeroPoint(const Scheme &scheme) const;

private:
  int64_t channels;
  float minVal, maxVal;
  std::vector<float> channelMin, channelMax;
  int64_t numFinite = 0, numNonFinite = 0;
};

/// Per-column |x| statistics of a matmul input: mean |x| (AWQ's activation
/// scale), max |x| (SmoothQuant), mean x^2 (importance for clipping).
class ChannelAbsObserver {
public:
  explicit ChannelAbsObserver(int64_t channels);

  Status observe(const float *data, int64_t rows, int64_t cols);
  Status merge(const ChannelAbsObserver &other);

  int64_t getNumChannels() const { return channels; }
  /// Rows observed (including rows with skipped non-finite values).
  int64_t getNumRows() const { return numRows; }
  int64_t getNumNonFinite() const { return numNonFinite; }
  /// Per channel, over its finite values (0 for a channel that has none).
  std::vector<double> getMeanAbs() const;
  std::vector<float> getMaxAbs() const;
  std::vector<double> getMeanSquare() const;

private:
  int64_t channels;
  std::vector<double> sumAbs, sumSq;
  std::vector<float> maxAbs;
  std::vector<int64_t> counts;
  int64_t numRows = 0, numNonFinite = 0;
};

/// H = sum over rows x of x^T x, a [K, K] matrix accumulated in double
/// (products of floats are exact in double; sums are added in row order, so
/// any split of the rows into batches gives the same bits). Rows holding a
/// non-finite value are skipped whole, which keeps H positive semidefinite.
class GramObserver {
public:
  explicit GramObserver(int64_t k);

  Status observe(const float *data, int64_t rows, int64_t cols);
  Status merge(const GramObserver &other);

  int64_t getK() const { return k; }
  /// Rows accumulated (skipped rows excluded).
  int64_t getNumRows() const { return numRows; }
  int64_t getNumSkippedRows() const { return numSkipped; }
  /// The full symmetric [K, K] matrix, row-major; divided by the number of
  /// rows when `mean` is set (0 when no rows were seen). GPTQ's Hessian is
  /// 2 * getMatrix(true).
  std::vector<double> getMatrix(bool mean = false) const;

private:
  int64_t k;
  /// Upper triangle in full [K, K] storage (the lower part stays 0).
  std::vector<double> upper;
  /// Rows of the current block as doubles, reused across calls.
  std::vector<double> block;
  int64_t numRows = 0, numSkipped = 0;
};

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_OBSERVERS_H
