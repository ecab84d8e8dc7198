//===- Metrics.h - Quantization error metrics -------------------*- C++ -*-===//
//
// How far an approximation (dequantized weights, a quantized model's outputs)
// is from its reference, accumulated in double.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_METRICS_H
#define QCC_QUANT_METRICS_H

#include <cstdint>

namespace qcc {
namespace quant {

/// Error of `approx` against `reference`. Conventions when a norm is zero:
/// relL2 is 0 if the error is 0 too, else +inf; cosine is 1 when both vectors
/// are zero, 0 when only one is; sqnrDb is +inf for a zero error.
struct ErrorMetrics {
  /// ||approx - reference||_2 / ||reference||_2.
  double relL2 = 0;
  /// max |approx - reference|.
  double maxAbs = 0;
  /// Mean squared error.
  double mse = 0;
  /// <approx, reference> / (||approx|| ||reference||).
  double cosine = 1;
  /// 10 log10(||reference||^2 / ||approx - reference||^2).
  double sqnrDb = 0;
};

/// Metrics over `count` elements. NaN anywhere makes the metrics NaN.
ErrorMetrics compareTensors(const float *reference, const float *approx,
                            int64_t count);

/// Index of the largest of `count` values; the first one on ties (as
/// numpy.argmax).
int64_t argmax(const float *values, int64_t count);

/// Fraction of the `rows` rows of two [rows, classes] logit matrices whose
/// argmax agrees; 1 when rows is 0.
double top1Agreement(const float *logitsA, const float *logitsB, int64_t rows,
                     int64_t classes);

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_METRICS_H
