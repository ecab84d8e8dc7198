//===- Evaluation.cpp - float vs quantized outputs on user data ------------===//

#include "qcc/Calibration/Calibration.h"

#include "qcc/Calibration/InputSets.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace qcc;

namespace {

struct Accumulator {
  double sumCosine = 0, minCosine = std::numeric_limits<double>::infinity();
  double sumRelL2 = 0, maxRelL2 = 0, maxAbs = 0;
  uint64_t rows = 0, agreeingRows = 0;
  bool hasArgmax = false;
};

/// Compares one float output of one sample.
void compare(const qcc_tensor &actual, const qcc_tensor &expected,
             Accumulator &acc) {
  size_t n = expected.byte_size / sizeof(float);
  const float *a = static_cast<const float *>(actual.data);
  const float *e = static_cast<const float *>(expected.data);
  double dot = 0, na = 0, ne = 0, diff = 0;
  for (size_t i = 0; i < n; ++i) {
    double x = a[i], y = e[i];
    dot += x * y;
    na += x * x;
    ne += y * y;
    diff += (x - y) * (x - y);
    acc.maxAbs = std::max(acc.maxAbs, std::fabs(x - y));
  }
  // Identical all-zero outputs agree perfectly.
  double cosine = na > 0 && ne > 0 ? dot / std::sqrt(na * ne)
                  : na == ne       ? 1.0
                                   : 0.0;
  double relL2 = ne > 0 ? std::sqrt(diff / ne) : std::sqrt(diff);
  if (!std::isfinite(cosine))
    cosine = 0.0;
  acc.sumCosine += cosine;
  acc.minCosine = std::min(acc.minCosine, cosine);
  acc.sumRelL2 += relL2;
  acc.maxRelL2 = std::max(acc.maxRelL2, relL2);

  int64_t last = expected.rank ? expected.dims[expected.rank - 1] : 1;
  if (last < 2)
    return;
  acc.hasArgmax = true;
  for (size_t row = 0; row + last <= n; row += last) {
    const float *ra = a + row, *re = e + row;
    acc.agreeingRows +=
        std::max_element(ra, ra + last) - ra == std::max_element(re, re + last) - re;
    ++acc.rows;
  }
}

} // namespace

LogicalResult qcc::evaluate(qcc_model_t *quantized, qcc_model_t *reference,
                            const InputSets &sets, bool progress,
                            EvaluationResult &result, std::string &error) {
  result = EvaluationResult();
  size_t numOutputs = qcc_model_num_outputs(quantized);
  if (qcc_model_num_outputs(reference) < numOutputs) {
    error = "evaluation: the float model has fewer outputs than the artifact";
    return failure();
  }
  std::vector<OwnedTensor> inputs, actual, expected;
  if (!allocateModelOutputs(quantized, actual, error) ||
      !allocateModelOutputs(reference, expected, error))
    return failure();
  std::vector<Accumulator> accs(numOutputs);
  for (size_t s = 0; s < sets.size(); ++s) {
    if (!sets.load(s, inputs, error))
      return failure();
    if (!runModel(quantized, inputs, actual, error) ||
        !runModel(reference, inputs, expected, error)) {
      error = "evaluation: running input set '" + sets.label(s) +
              "' failed: " + error;
      return failure();
    }
    for (size_t o = 0; o < numOutputs; ++o)
      if (actual[o].get().dtype == QCC_DTYPE_FLOAT32)
        compare(actual[o].get(), expected[o].get(), accs[o]);
    if (progress) {
      llvm::errs() << "\revaluating " << s + 1 << "/" << sets.size();
      if (s + 1 == sets.size())
        llvm::errs() << "\n";
    }
  }
  result.numSamples = sets.size();
  for (size_t o = 0; o < numOutputs; ++o) {
    if (actual[o].get().dtype != QCC_DTYPE_FLOAT32)
      continue;
    qcc_tensor_info info;
    if (qcc_status st = qcc_model_output_info(quantized, o, &info)) {
      error = qcc_status_message(st);
      qcc_status_free(st);
      return failure();
    }
    const Accumulator &acc = accs[o];
    OutputQuality q;
    q.name = info.name;
    double n = static_cast<double>(std::max<size_t>(result.numSamples, 1));
    q.meanCosine = acc.sumCosine / n;
    q.minCosine = result.numSamples ? acc.minCosine : 0.0;
    q.meanRelL2 = acc.sumRelL2 / n;
    q.maxRelL2 = acc.maxRelL2;
    q.maxAbsError = acc.maxAbs;
    if (acc.hasArgmax && acc.rows)
      q.top1Agreement = double(acc.agreeingRows) / double(acc.rows);
    result.outputs.push_back(q);
  }
  return success();
}
