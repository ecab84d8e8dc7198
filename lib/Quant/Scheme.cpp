//===- Scheme.cpp - Quantization schemes ----------------------------------===//

#include "qcc/Quant/Scheme.h"

using namespace qcc::quant;

Scheme Scheme::perTensor(unsigned bits, bool symmetric) {
  Scheme s;
  s.bits = bits;
  s.granularity = Granularity::PerTensor;
  s.axis = 0;
  s.symmetric = symmetric;
  return s;
}

Scheme Scheme::perChannel(unsigned bits, bool symmetric, int64_t axis) {
  Scheme s;
  s.bits = bits;
  s.granularity = Granularity::PerChannel;
  s.axis = axis;
  s.symmetric = symmetric;
  return s;
}

Scheme Scheme::perGroup(unsigned bits, int64_t groupSize, bool symmetric,
                        int64_t axis) {
  Scheme s;
  s.bits = bits;
  s.granularity = Granularity::PerGroup;
  s.axis = axis;
  s.groupSize = groupSize;
  s.symmetric = symmetric;
  return s;
}

int64_t Scheme::getMinCode() const {
  return isSigned ? -(int64_t(1) << (bits - 1)) : 0;
}

int64_t Scheme::getMaxCode() const {
  return isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
}

Status Scheme::verify() const {
  if (bits < 2 || bits > 8)
    return Status::error("bit width must be in [2, 8], got " +
                         std::to_string(bits));
  if (axis < 0)
    return Status::error("axis must be non-negative, got " +
                         std::to_string(axis));
  if (granularity == Granularity::PerGroup && groupSize <= 0)
    return Status::error("per_group scheme needs a positive group_size");
  if (granularity != Granularity::PerGroup && groupSize != 0)
    return Status::error("group_size is only meaningful for per_group");
  return Status::success();
}

Status Scheme::verifyShape(int64_t k, int64_t n) const {
  if (Status s = verify(); !s)
    return s;
  if (k <= 0 || n <= 0)
    return Status::error("matrix dimensions must be positive, got " +
                         std::to_string(k) + "x" + std::to_string(n));
  if (granularity != Granularity::PerTensor && axis >= 2)
    return Status::error("scheme axis " + std::to_string(axis) +
                         " is out of range for a matrix");
  if (granularity == Granularity::PerGroup) {
    int64_t dim = axis == 0 ? k : n;
    if (dim % groupSize != 0)
      return Status::error("dimension " + std::to_string(dim) +
                           " is not a multiple of the group size " +
                           std::to_string(groupSize));
  }
  return Status::success();
}

std::pair<int64_t, int64_t> Scheme::getParamShape(int64_t k, int64_t n) const {
  switch (granularity) {
  case Granularity::PerTensor:
    return {1, 1};
  case Granularity::PerChannel:
    return axis == 0 ? std::make_pair(k, int64_t(1))
                     : std::make_pair(int64_t(1), n);
  case Granularity::PerGroup:
    return axis == 0 ? std::make_pair(k / groupSize, n)
                     : std::make_pair(k, n / groupSize);
  }
  return {1, 1};
}

int64_t Scheme::getNumParams(int64_t k, int64_t n) const {
  auto [rows, cols] = getParamShape(k, n);
  return rows * cols;
}

int64_t Scheme::getParamIndex(int64_t row, int64_t col, int64_t /*k*/,
                              int64_t n) const {
  switch (granularity) {
  case Granularity::PerTensor:
    return 0;
  case Granularity::PerChannel:
    return axis == 0 ? row : col;
  case Granularity::PerGroup:
    return axis == 0 ? (row / groupSize) * n + col
                     : row * (n / groupSize) + col / groupSize;
  }
  return 0;
}
