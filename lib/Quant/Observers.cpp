//===- Observers.cpp - Streaming calibration statistics -------------------===//

#include "qcc/Quant/Observers.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qcc::quant;

static Status checkBlock(const float *data, int64_t rows, int64_t cols,
                         int64_t expectedCols) {
  if (rows < 0 || cols < 0)
    return Status::error("negative block shape " + std::to_string(rows) + "x" +
                         std::to_string(cols));
  if (expectedCols > 0 && cols != expectedCols)
    return Status::error("block has " + std::to_string(cols) +
                         " columns, the observer has " +
                         std::to_string(expectedCols) + " channels");
  if (!data && rows * cols > 0)
    return Status::error("null data for a non-empty block");
  return Status::success();
}

//===----------------------------------------------------------------------===//
// MinMaxObserver
//===----------------------------------------------------------------------===//

MinMaxObserver::MinMaxObserver(int64_t channels)
    : channels(std::max<int64_t>(channels, 0)),
      minVal(std::numeric_limits<float>::infinity()),
      maxVal(-std::numeric_limits<float>::infinity()),
      channelMin(size_t(this->channels), minVal),
      channelMax(size_t(this->channels), maxVal) {}

Status MinMaxObserver::observe(const float *data, int64_t rows, int64_t cols) {
  if (Status s = checkBlock(data, rows, cols, channels); !s)
    return s;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float v = data[r * cols + c];
      if (!std::isfinite(v)) {
        ++numNonFinite;
        continue;
      }
      ++numFinite;
      minVal = std::min(minVal, v);
      maxVal = std::max(maxVal, v);
      if (channels) {
        channelMin[c] = std::min(channelMin[c], v);
        channelMax[c] = std::max(channelMax[c], v);
      }
    }
  return Status::success();
}

Status MinMaxObserver::merge(const MinMaxObserver &other) {
  if (other.channels != channels)
    return Status::error("cannot merge min/max observers of " +
                         std::to_string(channels) + " and " +
                         std::to_string(other.channels) + " channels");
  minVal = std::min(minVal, other.minVal);
  maxVal = std::max(maxVal, other.maxVal);
  for (int64_t c = 0; c < channels; ++c) {
    channelMin[c] = std::min(channelMin[c], other.channelMin[c]);
    channelMax[c] = std::max(channelMax[c], other.channelMax[c]);
  }
  numFinite += other.numFinite;
  numNonFinite += other.numNonFinite;
  return Status::success();
}

std::vector<float> MinMaxObserver::getChannelMin() const {
  std::vector<float> out(channelMin);
  for (int64_t c = 0; c < channels; ++c)
    if (out[c] > channelMax[c])
      out[c] = 0;
  return out;
}

std::vector<float> MinMaxObserver::getChannelMax() const {
  std::vector<float> out(channelMax);
  for (int64_t c = 0; c < channels; ++c)
    if (channelMin[c] > out[c])
      out[c] = 0;
  return out;
}

ScaleZeroPoint MinMaxObserver::getScaleZeroPoint(const Scheme &scheme) const {
  return chooseScaleZeroPoint(getMin(), getMax(), scheme);
}

//===----------------------------------------------------------------------===//
// ChannelAbsObserver
//===----------------------------------------------------------------------===//

ChannelAbsObserver::ChannelAbsObserver(int64_t channels)
    : channels(std::max<int64_t>(channels, 0)),
      sumAbs(size_t(this->channels), 0.0), sumSq(size_t(this->channels), 0.0),
      maxAbs(size_t(this->channels), 0.0f), counts(size_t(this->channels), 0) {}

Status ChannelAbsObserver::observe(const float *data, int64_t rows,
                                   int64_t cols) {
  if (channels == 0)
    return Status::error("channel observer has no channels");
  if (Status s = checkBlock(data, rows, cols, channels); !s)
    return s;
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = data + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      float v = row[c];
      if (!std::isfinite(v)) {
        ++numNonFinite;
        continue;
      }
      double a = std::fabs(double(v));
      sumAbs[c] += a;
      sumSq[c] += a * a;
      maxAbs[c] = std::max(maxAbs[c], std::fabs(v));
      ++counts[c];
    }
  }
  numRows += rows;
  return Status::success();
}

Status ChannelAbsObserver::merge(const ChannelAbsObserver &other) {
  if (other.channels != channels)
    return Status::error("cannot merge channel observers of " +
                         std::to_string(channels) + " and " +
                         std::to_string(other.channels) + " channels");
  for (int64_t c = 0; c < channels; ++c) {
    sumAbs[c] += other.sumAbs[c];
    sumSq[c] += other.sumSq[c];
    maxAbs[c] = std::max(maxAbs[c], other.maxAbs[c]);
    counts[c] += other.counts[c];
  }
  numRows += other.numRows;
  numNonFinite += other.numNonFinite;
  return Status::success();
}

std::vector<double> ChannelAbsObserver::getMeanAbs() const {
  std::vector<double> out(size_t(channels), 0.0);
  for (int64_t c = 0; c < channels; ++c)
    if (counts[c])
      out[c] = sumAbs[c] / double(counts[c]);
  return out;
}

std::vector<float> ChannelAbsObserver::getMaxAbs() const { return maxAbs; }

std::vector<double> ChannelAbsObserver::getMeanSquare() const {
  std::vector<double> out(size_t(channels), 0.0);
  for (int64_t c = 0; c < channels; ++c)
    if (counts[c])
      out[c] = sumSq[c] / double(counts[c]);
  return out;
}

//===----------------------------------------------------------------------===//
// GramObserver
//===----------------------------------------------------------------------===//

/// Rows converted to double and accumulated together; columns of H updated
/// per tile so that a tile of H rows and the block's slice stay in cache.
static constexpr int64_t kGramBlockRows = 32;
static constexpr int64_t kGramTileCols = 256;

GramObserver::GramObserver(int64_t k)
    : k(std::max<int64_t>(k, 0)), upper(size_t(this->k * this->k), 0.0) {}

Status GramObserver::observe(const float *data, int64_t rows, int64_t cols) {
  if (k == 0)
    return Status::error("gram observer has K = 0");
  if (Status s = checkBlock(data, rows, cols, k); !s)
    return s;
  block.resize(size_t(kGramBlockRows * k));
  int64_t r = 0;
  while (r < rows) {
    // Gather up to kGramBlockRows finite rows, in order.
    int64_t filled = 0;
    for (; r < rows && filled < kGramBlockRows; ++r) {
      const float *row = data + r * cols;
      bool finite = true;
      for (int64_t c = 0; c < k && finite; ++c)
        finite = std::isfinite(row[c]);
      if (!finite) {
        ++numSkipped;
        continue;
      }
      double *dst = block.data() + filled * k;
      for (int64_t c = 0; c < k; ++c)
        dst[c] = double(row[c]);
      ++filled;
    }
    // upper[i][j] += sum_b x_b[i] * x_b[j] for j >= i, rows b in order.
    for (int64_t j0 = 0; j0 < k; j0 += kGramTileCols) {
      int64_t j1 = std::min(k, j0 + kGramTileCols);
      for (int64_t i = 0; i < j1; ++i) {
        double *h = upper.data() + i * k;
        int64_t jStart = std::max(i, j0);
        for (int64_t b = 0; b < filled; ++b) {
          const double *x = block.data() + b * k;
          double xi = x[i];
          for (int64_t j = jStart; j < j1; ++j)
            h[j] += xi * x[j];
        }
      }
    }
    numRows += filled;
  }
  return Status::success();
}

Status GramObserver::merge(const GramObserver &other) {
  if (other.k != k)
    return Status::error("cannot merge gram observers of K = " +
                         std::to_string(k) + " and " + std::to_string(other.k));
  for (size_t i = 0; i < upper.size(); ++i)
    upper[i] += other.upper[i];
  numRows += other.numRows;
  numSkipped += other.numSkipped;
  return Status::success();
}

std::vector<double> GramObserver::getMatrix(bool mean) const {
  std::vector<double> out(size_t(k * k), 0.0);
  double factor = mean ? (numRows ? 1.0 / double(numRows) : 0.0) : 1.0;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = i; j < k; ++j) {
      double v = upper[i * k + j] * factor;
      out[i * k + j] = v;
      out[j * k + i] = v;
    }
  return out;
}
