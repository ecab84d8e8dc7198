//===- Metrics.cpp - Quantization error metrics ---------------------------===//

#include "qcc/Quant/Metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qcc::quant;

ErrorMetrics qcc::quant::compareTensors(const float *reference,
                                        const float *approx, int64_t count) {
  double refSq = 0, appSq = 0, dot = 0, errSq = 0, maxAbs = 0;
  bool sawNaN = false;
  for (int64_t i = 0; i < count; ++i) {
    double r = reference[i], a = approx[i], d = a - r;
    refSq += r * r;
    appSq += a * a;
    dot += r * a;
    errSq += d * d;
    if (d != d)
      sawNaN = true;
    maxAbs = std::max(maxAbs, std::fabs(d));
  }
  ErrorMetrics m;
  const double inf = std::numeric_limits<double>::infinity();
  if (sawNaN) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m.relL2 = m.maxAbs = m.mse = m.cosine = m.sqnrDb = nan;
    return m;
  }
  m.maxAbs = maxAbs;
  m.mse = count > 0 ? errSq / double(count) : 0;
  if (refSq > 0)
    m.relL2 = std::sqrt(errSq / refSq);
  else
    m.relL2 = errSq > 0 ? inf : 0;
  if (refSq > 0 && appSq > 0)
    m.cosine =
        std::clamp(dot / (std::sqrt(refSq) * std::sqrt(appSq)), -1.0, 1.0);
  else
    m.cosine = (refSq == 0 && appSq == 0) ? 1 : 0;
  if (errSq == 0)
    m.sqnrDb = inf;
  else
    m.sqnrDb = refSq > 0 ? 10 * std::log10(refSq / errSq) : -inf;
  return m;
}

int64_t qcc::quant::argmax(const float *values, int64_t count) {
  int64_t best = 0;
  for (int64_t i = 1; i < count; ++i) {
    // A NaN wins and stays (numpy returns the first NaN).
    if (values[best] != values[best])
      break;
    if (values[i] > values[best] || values[i] != values[i])
      best = i;
  }
  return best;
}

double qcc::quant::top1Agreement(const float *logitsA, const float *logitsB,
                                 int64_t rows, int64_t classes) {
  if (rows <= 0)
    return 1;
  int64_t agree = 0;
  for (int64_t r = 0; r < rows; ++r)
    agree += argmax(logitsA + r * classes, classes) ==
             argmax(logitsB + r * classes, classes);
  return double(agree) / double(rows);
}
