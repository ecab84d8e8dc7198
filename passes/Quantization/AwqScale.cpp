//===- AwqScale.cpp - AWQ per-input-channel weight scales -----------------===//
//
// Activation-aware weight quantization (lib/Quant/Awq.h for the search):
// the input channels that carry large activations matter most at the
// output, so their weight rows are scaled up before rounding (losing less
// to it) and the activations down by the same factor, folded into their
// producer (qcc/Passes/ChannelScaling.h, shared with SmoothQuant). The
// factor s_j = mean|x_j|^alpha has its alpha searched per activation on the
// exact output error tr(dW^T H dW) of the rounding qcc-quantize-weights will
// do, from the calibrated X^T X.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "qcc/Passes/CalibrationStats.h"
#include "qcc/Passes/ChannelScaling.h"
#include "qcc/Passes/QuantUtils.h"

#include "qcc/Quant/Awq.h"
#include "qcc/Quant/Gptq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

#include <algorithm>
#include <cmath>

namespace qcc {
#define GEN_PASS_DEF_AWQSCALE
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;
namespace qnum = qcc::quant;

namespace {

constexpr llvm::StringLiteral kAwqAlpha = "qcc.awq_alpha";

struct Member : qcc::ScalableMatmul {
  std::string name;
  /// The scheme qcc-quantize-weights will use for this weight.
  qnum::Scheme scheme;
};

struct AwqScalePass : public qcc::impl::AwqScaleBase<AwqScalePass> {
  using Base::Base;

  std::shared_ptr<qcc::CalibrationStats> stats;

  LogicalResult checkOptions() {
    Operation *op = getOperation();
    if (statsDir.empty())
      return op->emitError("qcc-awq-scale needs calibration statistics "
                           "(stats=DIR, as written by qcc --calib-stats)");
    if (bits != 8 && bits != 4)
      return op->emitError("qcc-awq-scale supports 8 or 4 bits, got ")
             << static_cast<unsigned>(bits);
    if (bits == 4 && groupSize <= 0)
      return op->emitError("qcc-awq-scale: group size must be positive, got ")
             << static_cast<int64_t>(groupSize);
    if (clip != "auto" && clip != "none" && clip != "mse" && clip != "act")
      return op->emitError("qcc-awq-scale: unsupported clip '")
             << clip << "' (auto, none, mse or act)";
    if (grid < 1)
      return op->emitError("qcc-awq-scale: grid must be >= 1, got ")
             << static_cast<int64_t>(grid);
    if (searchColumns < 0)
      return op->emitError("qcc-awq-scale: search-columns must be >= 0, got ")
             << static_cast<int64_t>(searchColumns);
    std::string error;
    stats = qcc::CalibrationStats::open(statsDir, error);
    if (!stats)
      return op->emitError(error);
    return success();
  }

  void runOnOperation() override {
    if (failed(checkOptions()))
      return signalPassFailure();
    // The matmuls qcc-quantize-weights will quantize, grouped by the value
    // their activations come from.
    llvm::MapVector<Value, SmallVector<Member>> groups;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (std::optional<Member> m = getMember(op))
        groups[qcc::traceChannelRoot(op.getInputs()[0])].push_back(*m);
    });
    for (auto &[root, members] : groups)
      if (failed(scaleGroup(root, members)))
        return signalPassFailure();
  }

  std::optional<Member> getMember(linalg::MatmulOp op) {
    if (op->hasAttr(kAwqAlpha))
      return std::nullopt;
    std::optional<qcc::ScalableMatmul> matched = qcc::matchScalableMatmul(op);
    if (!matched || matched->k * matched->n < minElements)
      return std::nullopt;
    Member m;
    static_cast<qcc::ScalableMatmul &>(m) = *matched;
    m.name = qcc::getNodeName(op.getLoc());
    for (const std::string &pattern : keepFloat)
      if (!pattern.empty() && m.name.find(pattern) != std::string::npos)
        return std::nullopt;
    if (bits == 8) {
      m.scheme = qnum::Scheme::perChannel(8, /*symmetric=*/true, /*axis=*/1);
    } else {
      int64_t group = qcc::fitGroupSize(m.k, groupSize);
      if (group == 0)
        return std::nullopt;
      m.scheme = qnum::Scheme::perGroup(4, group, symmetric, /*axis=*/0);
      if (!symmetric)
        m.scheme.isSigned = false;
    }
    return m;
  }

  /// Rounds as qcc-quantize-weights does with weight-algo=rtn and `clip`
  /// (GPTQ's own rounding is not searched; the driver passes the clip GPTQ
  /// uses).
  qnum::AwqRounder rounder(const qnum::Scheme &scheme) const {
    std::optional<qnum::ClipMode> mode;
    if (clip == "none")
      mode = qnum::ClipMode::None;
    else if (clip == "mse")
      mode = qnum::ClipMode::Mse;
    else if (clip == "act")
      mode = qnum::ClipMode::Activation;
    return [scheme, mode](const float *w, int64_t k, int64_t n,
                          const double *rowWeight, float *restored) {
      qnum::QuantParams params;
      std::vector<int32_t> codes;
      qnum::Status st =
          mode ? qnum::quantizeWeightRtnClip(w, k, n, scheme, *mode, rowWeight,
                                             params, codes)
               : qnum::quantizeWeightRtn(w, k, n, scheme, params, codes);
      if (!st)
        return st;
      return qnum::dequantize(codes.data(), k, n, scheme, params, restored);
    };
  }

  LogicalResult scaleGroup(Value root, MutableArrayRef<Member> members) {
    Member &first = members.front();
    const int64_t k = first.k;
    std::string error;
    std::string prefix = stats->lookup(first.name, error);
    if (!error.empty())
      return first.op.emitOpError(error);
    for (Member &m : members) {
      if (m.k != k)
        return m.op.emitOpError("reads the same activations as another "
                                "matmul with a different K");
      if (m.scheme.groupSize != first.scheme.groupSize)
        return m.op.emitOpError("reads the same activations as another "
                                "matmul but gets a different group size");
      std::string other = stats->lookup(m.name, error);
      if (!error.empty())
        return m.op.emitOpError(error);
      if (other != prefix)
        return m.op.emitOpError("reads the same activations as '")
               << first.name << "' but the calibration statistics describe "
               << "them separately";
    }
    std::vector<double> gram, meanAbs;
    if (!stats->loadGram(prefix, k, gram, error) ||
        !stats->loadMeanAbs(prefix, k, meanAbs, error))
      return first.op.emitOpError("calibration statistics of '")
             << first.name << "': " << error;
    std::vector<std::vector<float>> weights;
    std::vector<qnum::AwqMatrix> matrices;
    for (Member &m : members) {
      std::optional<std::vector<float>> values =
          qcc::getFloatValues(cast<ElementsAttr>(m.weight.getValue()));
      if (!values)
        return m.op.emitOpError("cannot read the weight constant");
      weights.push_back(std::move(*values));
    }
    for (auto [m, values] : llvm::zip(members, weights))
      matrices.push_back({values.data(), m.n});
    qnum::AwqOptions options;
    options.gridSize = grid;
    options.searchColumns = searchColumns;
    qnum::AwqResult result;
    if (qnum::Status st =
            qnum::searchAwqScales(matrices, k, gram.data(), meanAbs.data(),
                                  rounder(first.scheme), options, result);
        !st)
      return first.op.emitOpError(st.message);

    // alpha = 0 is plain rounding: nothing to change.
    std::string placement = "none (alpha = 0: plain rounding is best)";
    if (result.alpha > 0) {
      SmallVector<qcc::ScalableMatmul> scalable(members.begin(), members.end());
      placement = qcc::applyChannelScale(root, scalable, result.scale, weights);
    }
    // The report. (`root` may be gone: read nothing from it.)
    auto [lo, hi] = std::minmax_element(result.scale.begin(), result.scale.end());
    auto relative = [&](double err) {
      return result.reference > 0
                 ? std::sqrt(std::max(err, 0.0) / result.reference)
                 : 0.0;
    };
    Builder attrs(first.op.getContext());
    for (Member &m : members) {
      m.op->setAttr(kAwqAlpha, attrs.getF64FloatAttr(result.alpha));
      SmallVector<NamedAttribute> fields = {
          attrs.getNamedAttr("name", attrs.getStringAttr(m.name)),
          attrs.getNamedAttr("kind", attrs.getStringAttr("awq")),
          attrs.getNamedAttr("alpha", attrs.getF64FloatAttr(result.alpha)),
          attrs.getNamedAttr("k", attrs.getI64IntegerAttr(k)),
          attrs.getNamedAttr("shared_with",
                             attrs.getI64IntegerAttr(members.size() - 1)),
          attrs.getNamedAttr("scale_min", attrs.getF64FloatAttr(*lo)),
          attrs.getNamedAttr("scale_max", attrs.getF64FloatAttr(*hi)),
          attrs.getNamedAttr("output_error_rtn",
                             attrs.getF64FloatAttr(relative(result.errorBefore))),
          attrs.getNamedAttr("output_error_awq",
                             attrs.getF64FloatAttr(relative(result.errorAfter))),
          attrs.getNamedAttr("placement", attrs.getStringAttr(placement))};
      qcc::appendSmoothReport(m.op, fields);
    }
    return success();
  }
};

} // namespace
