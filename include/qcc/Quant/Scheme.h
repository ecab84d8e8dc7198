//===- Scheme.h - Quantization schemes and status ---------------*- C++ -*-===//
//
// The plain-C++ mirror of `#q.scheme`: how integer codes of 2 to 8 bits map
// to real values, `real = scale * (code - zeroPoint)`, and how scales are
// shared across a [K, N] weight matrix. lib/Quant depends on nothing from
// MLIR, so passes translate between this struct and the attribute.
//
// Matrices are row-major [K, N] (K = reduction axis 0, N = output axis 1).
// Parameters (scales, zero points) are laid out row-major in the shape
// getParamShape() returns:
//   per_tensor                 [1, 1]
//   per_channel, axis 1        [1, N]      (one per output column)
//   per_channel, axis 0        [K, 1]      (one per row)
//   per_group, axis 0, size g  [K / g, N]  (g consecutive rows of a column)
//   per_group, axis 1, size g  [K, N / g]  (g consecutive columns of a row)
// which is the operand shape q.matmul expects for its scales.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_SCHEME_H
#define QCC_QUANT_SCHEME_H

#include <cstdint>
#include <string>
#include <utility>

namespace qcc {
namespace quant {

/// Success, or failure with a lowercase message (no exceptions in qcc).
struct Status {
  bool ok = true;
  std::string message;

  static Status success() { return Status(); }
  static Status error(std::string msg) {
    Status s;
    s.ok = false;
    s.message = std::move(msg);
    return s;
  }
  explicit operator bool() const { return ok; }
};

/// How scales are shared, as in `#q.granularity`.
enum class Granularity { PerTensor, PerChannel, PerGroup };

/// A quantization scheme, field for field `#q.scheme`.
struct Scheme {
  unsigned bits = 8;
  bool isSigned = true;
  Granularity granularity = Granularity::PerTensor;
  /// Per channel: the axis whose indices each own a parameter. Per group: the
  /// axis along which groups of `groupSize` consecutive elements are formed.
  int64_t axis = 1;
  /// Positive for per_group, 0 otherwise.
  int64_t groupSize = 0;
  /// Symmetric schemes have zero point 0 (and no zero-point operand).
  bool symmetric = true;

  /// Signed per-tensor / per-channel / per-group conveniences.
  static Scheme perTensor(unsigned bits, bool symmetric = true);
  static Scheme perChannel(unsigned bits, bool symmetric = true,
                           int64_t axis = 1);
  static Scheme perGroup(unsigned bits, int64_t groupSize,
                         bool symmetric = true, int64_t axis = 0);

  /// Smallest code: -2^(bits-1) when signed, else 0 (as SchemeAttr).
  int64_t getMinCode() const;
  /// Largest code: 2^(bits-1) - 1 when signed, else 2^bits - 1.
  int64_t getMaxCode() const;
  /// Number of codes, 2^bits.
  int64_t getNumCodes() const { return int64_t(1) << bits; }

  /// Checks the fields as SchemeAttr::verify does.
  Status verify() const;
  /// Checks the fields and that the scheme fits a [k, n] matrix (axis < 2,
  /// group size divides the grouped dimension).
  Status verifyShape(int64_t k, int64_t n) const;

  /// Shape [rows, cols] of the scale / zero-point arrays for a [k, n] matrix
  /// (see the file comment). Assumes verifyShape(k, n) succeeded.
  std::pair<int64_t, int64_t> getParamShape(int64_t k, int64_t n) const;
  /// Number of parameters for a [k, n] matrix.
  int64_t getNumParams(int64_t k, int64_t n) const;
  /// Index of the parameter that element (row, col) of a [k, n] matrix uses.
  int64_t getParamIndex(int64_t row, int64_t col, int64_t k, int64_t n) const;
};

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_SCHEME_H
