//===- SmoothActivations.cpp - SmoothQuant channel smoothing --------------===//
//
// Outlier input channels make int8 activations lose resolution: one scale
// (per tensor, or per token) has to cover a few channels that are 10-100x
// larger than the rest. SmoothQuant (Xiao et al., 2022) moves that range
// from the activations into the weights, which quantize per output channel
// and do not mind: for a matmul Y = X W with X [M, K] and W [K, N],
//
//   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha),   X' = X / s,   W' = s W
//
// leaves Y unchanged in exact arithmetic. max|X_j| is the calibrated
// per-channel bound `qcc.act_channel_absmax` the calibrator attaches;
// max|W_j| is the largest |W[j, n]| over the row (over all the matmuls that
// read the same activations, so they share one s).
//
// The division by s is folded into the producer of the activations where
// it can (qcc/Passes/ChannelScaling.h, shared with AWQ).
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "qcc/Passes/ChannelScaling.h"
#include "qcc/Passes/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

namespace qcc {
#define GEN_PASS_DEF_SMOOTHACTIVATIONS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kChannelAbsMax = "qcc.act_channel_absmax";
constexpr llvm::StringLiteral kSmoothed = "qcc.smoothed";
/// Bounds of s: a dead channel (all zero) or a degenerate weight row must
/// not turn into an infinite or denormal factor.
constexpr double kMinScale = 1e-5, kMaxScale = 1e5;

/// A matmul the pass can smooth, with its calibrated channel bounds.
struct Candidate : qcc::ScalableMatmul {
  std::vector<float> channelAbsMax;
};

struct SmoothActivationsPass
    : public qcc::impl::SmoothActivationsBase<SmoothActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      getOperation().emitError("qcc-smooth-activations: alpha must be in "
                               "[0, 1], got ")
          << static_cast<double>(alpha);
      return signalPassFailure();
    }
    // Candidates grouped by the value their activations come from.
    llvm::MapVector<Value, SmallVector<Candidate>> groups;
    bool failedAny = false;
    getOperation().walk([&](linalg::MatmulOp op) {
      FailureOr<std::optional<Candidate>> c = getCandidate(op);
      if (failed(c)) {
        failedAny = true;
        return;
      }
      if (*c)
        groups[qcc::traceChannelRoot(op.getInputs()[0])].push_back(std::move(**c));
    });
    if (failedAny)
      return signalPassFailure();
    for (auto &[root, members] : groups)
      if (failed(smooth(root, members)))
        return signalPassFailure();
  }

  /// nullopt for matmuls the pass leaves alone; failure for malformed
  /// calibration attributes.
  FailureOr<std::optional<Candidate>> getCandidate(linalg::MatmulOp op) {
    if (op->hasAttr(kSmoothed))
      return std::optional<Candidate>();
    auto absMax = op->getAttrOfType<DenseElementsAttr>(kChannelAbsMax);
    if (!absMax)
      return std::optional<Candidate>();
    std::optional<qcc::ScalableMatmul> matched = qcc::matchScalableMatmul(op);
    if (!matched)
      return std::optional<Candidate>();
    Candidate c;
    static_cast<qcc::ScalableMatmul &>(c) = *matched;
    FailureOr<std::vector<float>> channels =
        qcc::readChannelAbsMax(op, absMax, c.k);
    if (failed(channels))
      return failure();
    c.channelAbsMax = std::move(*channels);
    return std::optional<Candidate>(std::move(c));
  }

  /// Smooths the matmuls in `members`, which all read `root` (through
  /// reshapes), with one shared s.
  LogicalResult smooth(Value root, MutableArrayRef<Candidate> members) {
    int64_t numK = members.front().k;
    // max|X_j|: the members read the same values, so their bounds agree;
    // take the largest anyway.
    std::vector<double> xMax(numK, 0.0), wMax(numK, 0.0);
    std::vector<std::vector<float>> weights;
    for (Candidate &c : members) {
      if (c.k != numK)
        return c.op.emitOpError("reads the same activations as another "
                                "matmul with a different K");
      std::optional<std::vector<float>> values =
          qcc::getFloatValues(cast<ElementsAttr>(c.weight.getValue()));
      if (!values)
        return c.op.emitOpError("cannot read the weight constant");
      for (int64_t j = 0; j < numK; ++j) {
        xMax[j] = std::max(xMax[j], static_cast<double>(c.channelAbsMax[j]));
        const float *row = values->data() + j * c.n;
        for (int64_t col = 0; col < c.n; ++col)
          wMax[j] = std::max(wMax[j], static_cast<double>(std::fabs(row[col])));
      }
      weights.push_back(std::move(*values));
    }
    std::vector<float> scale(numK);
    double lo = INFINITY, hi = 0.0;
    for (int64_t j = 0; j < numK; ++j) {
      double s = 1.0;
      if (xMax[j] > 0.0 && wMax[j] > 0.0 && std::isfinite(wMax[j]))
        s = std::pow(xMax[j], alpha) / std::pow(wMax[j], 1.0 - alpha);
      if (!std::isfinite(s) || s <= 0.0)
        s = 1.0;
      s = std::clamp(s, kMinScale, kMaxScale);
      scale[j] = static_cast<float>(s);
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }

    SmallVector<qcc::ScalableMatmul> scalable(members.begin(), members.end());
    std::string placement =
        qcc::applyChannelScale(root, scalable, scale, weights);

    // The report. (`root` may be gone: read nothing from it.)
    Builder attrs(members.front().op.getContext());
    std::vector<float> inverse(numK);
    for (int64_t j = 0; j < numK; ++j)
      inverse[j] = 1.0f / scale[j];
    for (Candidate &c : members) {
      c.op->setAttr(kSmoothed, attrs.getF64FloatAttr(alpha));
      qcc::composeCalibChannelFactor(c.op, inverse);
      // The activations are now X / s: their per-channel bounds too (what
      // qcc-retain-outliers picks outlier channels from).
      std::vector<float> smoothedMax(numK);
      for (int64_t j = 0; j < numK; ++j)
        smoothedMax[j] = static_cast<float>(c.channelAbsMax[j] / scale[j]);
      c.op->setAttr(kChannelAbsMax,
                    DenseElementsAttr::get(
                        RankedTensorType::get({numK}, attrs.getF32Type()),
                        ArrayRef<float>(smoothedMax)));
      double before = 0.0, after = 0.0;
      for (int64_t j = 0; j < numK; ++j) {
        before = std::max(before, xMax[j]);
        after = std::max(after, xMax[j] / scale[j]);
      }
      SmallVector<NamedAttribute> fields = {
          attrs.getNamedAttr("name",
                             attrs.getStringAttr(qcc::getNodeName(c.op.getLoc()))),
          attrs.getNamedAttr("kind", attrs.getStringAttr("smooth")),
          attrs.getNamedAttr("alpha", attrs.getF64FloatAttr(alpha)),
          attrs.getNamedAttr("k", attrs.getI64IntegerAttr(numK)),
          attrs.getNamedAttr("shared_with",
                             attrs.getI64IntegerAttr(members.size() - 1)),
          attrs.getNamedAttr("scale_min", attrs.getF64FloatAttr(lo)),
          attrs.getNamedAttr("scale_max", attrs.getF64FloatAttr(hi)),
          attrs.getNamedAttr("act_absmax_before", attrs.getF64FloatAttr(before)),
          attrs.getNamedAttr("act_absmax_after", attrs.getF64FloatAttr(after)),
          attrs.getNamedAttr("placement", attrs.getStringAttr(placement))};
      qcc::appendSmoothReport(c.op, fields);
    }
    return success();
  }
};

} // namespace
