//===- QuantizeWeights.cpp - RTN quantization of matmul weights -----------===//

#include "qcc/Passes/Passes.h"

#include "qcc/Passes/CalibrationStats.h"
#include "qcc/Passes/QuantUtils.h"

#include "qcc/Dialect/Q/IR/QOps.h"
#include "qcc/Quant/Gptq.h"
#include "qcc/Quant/Metrics.h"
#include "qcc/Quant/Packing.h"
#include "qcc/Quant/Rtn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <deque>

namespace qcc {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;
namespace q = qcc::q;
namespace qnum = qcc::quant;

namespace {

using qcc::getFloatValues;
using qcc::getNodeName;

static bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto value = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return value && value.getValue().isZero();
}

/// What calibration measured of one activation: X^T X and, once GPTQ needed
/// it, the factor of its damped inverse. Layers reading the same activation
/// (q/k/v, gate/up) share one.
struct ActivationStats {
  std::string prefix;
  std::vector<double> gram;
  std::optional<qnum::GptqHessian> gptq;
};

struct QuantizeWeightsPass
    : public qcc::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using Base::Base;

  std::shared_ptr<qcc::CalibrationStats> stats;
  /// The last few activations' statistics, most recent last: consecutive
  /// matmuls often read the same activation.
  std::deque<std::shared_ptr<ActivationStats>> recentStats;
  qnum::GptqOptions gptqOptions;

  /// The statistics of the activation feeding the matmul named `name`, with
  /// K input channels.
  FailureOr<std::shared_ptr<ActivationStats>>
  getActivationStats(Operation *op, StringRef name, int64_t k) {
    std::string error;
    std::string prefix = stats->lookup(name, error);
    if (!error.empty())
      return op->emitOpError(error);
    for (const std::shared_ptr<ActivationStats> &entry : recentStats)
      if (entry->prefix == prefix)
        return entry;
    auto entry = std::make_shared<ActivationStats>();
    entry->prefix = prefix;
    if (!stats->loadGram(prefix, k, entry->gram, error))
      return op->emitOpError("calibration statistics of '")
             << name << "': " << error;
    recentStats.push_back(entry);
    if (recentStats.size() > 2)
      recentStats.pop_front();
    return entry;
  }

  /// Scale choice of `clip` for `bits`-bit weights; nullopt for "auto" with
  /// RTN (quantizeWeightRtn's own choice).
  std::optional<qnum::ClipMode> getClipMode() const {
    if (clip == "none")
      return qnum::ClipMode::None;
    if (clip == "mse")
      return qnum::ClipMode::Mse;
    if (clip == "act")
      return qnum::ClipMode::Activation;
    if (weightAlgo == "gptq")
      return qnum::ClipMode::None;
    return std::nullopt;
  }

  /// Appends one layer to the `qcc.quant_report` attribute of the module:
  /// what happened to the matmul named `name` and why.
  void report(Operation *op, StringRef name, StringRef format, int64_t k,
              int64_t n, int64_t bytesAfter, double relError, StringRef note,
              ArrayRef<NamedAttribute> extra = {}) {
    Builder b(op->getContext());
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("name", b.getStringAttr(name)),
        b.getNamedAttr("format", b.getStringAttr(format)),
        b.getNamedAttr("k", b.getI64IntegerAttr(k)),
        b.getNamedAttr("n", b.getI64IntegerAttr(n)),
        b.getNamedAttr("bytes_before", b.getI64IntegerAttr(k * n * 4)),
        b.getNamedAttr("bytes_after", b.getI64IntegerAttr(bytesAfter)),
        b.getNamedAttr("weight_rel_error", b.getF64FloatAttr(relError)),
        b.getNamedAttr("activations", b.getStringAttr(activations(op, format))),
        b.getNamedAttr("note", b.getStringAttr(note))};
    fields.append(extra.begin(), extra.end());
    qcc::appendQuantReport(op, fields);
  }

  /// Calibration found that one scale for the whole tensor loses too much
  /// here: quantize the activations per token at run time instead.
  static bool usesDynamicFallback(Operation *op) {
    auto fallback = op->getAttrOfType<StringAttr>("qcc.act_fallback");
    return fallback && fallback.getValue() == "dynamic";
  }

  /// What the report says about the activations of `op`.
  std::string activations(Operation *op, StringRef format) {
    if (format == "f32")
      return "float";
    if (actQuant == "dynamic")
      return "int8 per token (run time)";
    if (actQuant == "none")
      return "float (weight-only)";
    auto sqnr = op->getAttrOfType<FloatAttr>("qcc.act_sqnr_db");
    std::string sqnrText =
        sqnr ? llvm::formatv("{0:F1} dB", sqnr.getValueAsDouble()).str() : "";
    if (usesDynamicFallback(op))
      return "int8 per token (run time): static per-tensor SQNR would be " +
             (sqnrText.empty() ? std::string("too low") : sqnrText);
    std::string text = "int8 per tensor, static";
    if (auto source = op->getAttrOfType<StringAttr>("qcc.act_source"))
      text += " (" + source.getValue().str() +
              (sqnrText.empty() ? "" : ", SQNR " + sqnrText) + ")";
    return text;
  }

  void runOnOperation() override {
    if (bits != 8 && bits != 4) {
      getOperation().emitError("qcc-quantize-weights supports 8 or 4 bits, got ")
          << static_cast<unsigned>(bits);
      return signalPassFailure();
    }
    if (actQuant != "none" && actQuant != "dynamic" && actQuant != "static") {
      getOperation().emitError("unsupported activation mode '")
          << actQuant << "' (none, dynamic or static)";
      return signalPassFailure();
    }
    if (bits == 4 && groupSize <= 0) {
      getOperation().emitError("group size must be positive, got ")
          << static_cast<int64_t>(groupSize);
      return signalPassFailure();
    }
    if (weightAlgo != "rtn" && weightAlgo != "gptq") {
      getOperation().emitError("unsupported weight algorithm '")
          << weightAlgo << "' (rtn or gptq)";
      return signalPassFailure();
    }
    if (clip != "auto" && clip != "none" && clip != "mse" && clip != "act") {
      getOperation().emitError("unsupported clip '")
          << clip << "' (auto, none, mse or act)";
      return signalPassFailure();
    }
    if (statsDir.empty() && (weightAlgo == "gptq" || clip == "act")) {
      getOperation().emitError(weightAlgo == "gptq" ? "weight-algo=gptq"
                                                    : "clip=act")
          << " needs calibration statistics (stats=DIR, as written by qcc "
             "--calib-stats)";
      return signalPassFailure();
    }
    if (!(dampening > 0.0) || !std::isfinite(dampening)) {
      getOperation().emitError("dampening must be positive, got ")
          << static_cast<double>(dampening);
      return signalPassFailure();
    }
    if (!statsDir.empty()) {
      std::string error;
      stats = qcc::CalibrationStats::open(statsDir, error);
      if (!stats) {
        getOperation().emitError(error);
        return signalPassFailure();
      }
    }
    gptqOptions.dampening = dampening;
    gptqOptions.actOrder = actOrder;
    if (std::optional<qnum::ClipMode> mode = getClipMode())
      gptqOptions.clip = *mode;
    SmallVector<linalg::MatmulOp> candidates;
    getOperation().walk([&](linalg::MatmulOp op) { candidates.push_back(op); });
    for (linalg::MatmulOp op : candidates)
      if (failed(quantize(op)))
        return signalPassFailure();
  }

  /// Rounds the [k, n] weight `w` with the pass's algorithm and clip choice
  /// into `params` / `codes`. With calibration statistics, the report gets
  /// the relative output error sqrt(tr(dW^T H dW) / tr(W^T H W)) of the
  /// result and, for GPTQ, of plain RTN.
  LogicalResult round(Operation *op, const std::vector<float> &w, int64_t k,
                      int64_t n, const qnum::Scheme &scheme,
                      ActivationStats *act, qnum::QuantParams &params,
                      std::vector<int32_t> &codes,
                      SmallVectorImpl<NamedAttribute> &extraFields,
                      std::string &note) {
    std::optional<qnum::ClipMode> mode = getClipMode();
    std::vector<double> diagonal;
    if (act) {
      diagonal.resize(k);
      for (int64_t i = 0; i < k; ++i)
        diagonal[i] = act->gram[i * k + i];
    }
    auto rtn = [&](qnum::QuantParams &p, std::vector<int32_t> &c) {
      if (mode && weightAlgo == "rtn")
        return qnum::quantizeWeightRtnClip(w.data(), k, n, scheme, *mode,
                                           diagonal.data(), p, c);
      return qnum::quantizeWeightRtn(w.data(), k, n, scheme, p, c);
    };
    double gptqError = 0;
    if (weightAlgo == "gptq") {
      if (!act->gptq) {
        qnum::GptqHessian factor;
        if (qnum::Status st = qnum::prepareGptqHessian(act->gram.data(), k,
                                                       gptqOptions, factor);
            !st)
          return op->emitOpError("gptq: ") << st.message;
        act->gptq = std::move(factor);
      }
      if (qnum::Status st =
              qnum::quantizeWeightGptq(w.data(), k, n, scheme, *act->gptq,
                                       gptqOptions, params, codes, &gptqError);
          !st)
        return op->emitOpError("gptq: ") << st.message;
    } else if (qnum::Status st = rtn(params, codes); !st) {
      return op->emitOpError("quantization failed: ") << st.message;
    }
    Builder b(op->getContext());
    extraFields.push_back(
        b.getNamedAttr("weight_algo", b.getStringAttr(weightAlgo)));
    if (!act)
      return success();
    // Output error proxies from X^T X: GPTQ's comes with its result; RTN's
    // and the reference tr(W^T H W) take one pass over H.
    qnum::QuantParams rtnParams;
    std::vector<int32_t> rtnCodes;
    const qnum::QuantParams &shownParams =
        weightAlgo == "gptq" ? rtnParams : params;
    const std::vector<int32_t> &shownCodes =
        weightAlgo == "gptq" ? rtnCodes : codes;
    if (weightAlgo == "gptq")
      if (qnum::Status st = rtn(rtnParams, rtnCodes); !st)
        return op->emitOpError("quantization failed: ") << st.message;
    std::vector<float> deq(w.size());
    if (!qnum::dequantize(shownCodes.data(), k, n, scheme, shownParams,
                          deq.data()))
      return op->emitOpError("dequantization failed");
    std::vector<double> forms = qnum::hessianQuadraticErrors(
        w.data(), {nullptr, deq.data()}, k, n, act->gram.data());
    auto relative = [&](double err) {
      return forms[0] > 0 ? std::sqrt(std::max(err, 0.0) / forms[0]) : 0.0;
    };
    double mine = relative(weightAlgo == "gptq" ? gptqError : forms[1]);
    extraFields.push_back(
        b.getNamedAttr("output_rel_error", b.getF64FloatAttr(mine)));
    note = llvm::formatv("{0}: output error {1:F4}", weightAlgo, mine).str();
    if (weightAlgo == "gptq") {
      double base = relative(forms[1]);
      extraFields.push_back(
          b.getNamedAttr("output_rel_error_rtn", b.getF64FloatAttr(base)));
      note += llvm::formatv(" (rtn {0:F4})", base).str();
    }
    note += "; ";
    return success();
  }

  LogicalResult quantize(linalg::MatmulOp op) {
    if (!op.hasPureTensorSemantics() || op.getInputs().size() != 2)
      return success();
    auto weightCst = op.getInputs()[1].getDefiningOp<arith::ConstantOp>();
    auto inputType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    if (!weightCst || !inputType || !inputType.getElementType().isF32())
      return success();
    // Only the canonical maps (no transposed operands).
    MLIRContext *ctx = op.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> expected = {AffineMap::get(3, 0, {m, k}, ctx),
                                       AffineMap::get(3, 0, {k, n}, ctx),
                                       AffineMap::get(3, 0, {m, n}, ctx)};
    if (op.getIndexingMapsArray() != ArrayRef<AffineMap>(expected))
      return success();
    auto weightType = cast<RankedTensorType>(weightCst.getType());
    int64_t numK = weightType.getShape()[0], numN = weightType.getShape()[1];
    std::string name = getNodeName(op.getLoc());
    auto keep = [&](StringRef why) {
      report(op, name, "f32", numK, numN, numK * numN * 4, 0.0, why);
      return success();
    };
    if (numK * numN < minElements)
      return keep("too small to pay (K*N < " + std::to_string(minElements) +
                  ")");
    // qcc-retain-outliers' float side products (and anything else marked).
    if (auto why = op->getAttrOfType<StringAttr>("qcc.keep_float"))
      return keep(why.getValue());
    for (const std::string &pattern : keepFloat)
      if (!pattern.empty() && name.find(pattern) != std::string::npos)
        return keep("--keep-float=" + pattern);
    std::optional<std::vector<float>> values =
        getFloatValues(cast<ElementsAttr>(weightCst.getValue()));
    if (!values)
      return success();
    // Static activation scales come from calibration, which records the
    // range it chose on the matmul.
    float actScale = 0.0f;
    bool dynamicFallback = actQuant == "static" && usesDynamicFallback(op);
    if (actQuant == "static" && !dynamicFallback) {
      auto absMax = op->getAttrOfType<FloatAttr>("qcc.act_absmax");
      if (!absMax)
        return op.emitOpError(
            "static activation quantization needs a calibrated range "
            "(qcc.act_absmax); calibrate with qcc --calib");
      double range = absMax.getValueAsDouble();
      if (!std::isfinite(range) || range < 0.0)
        return op.emitOpError("qcc.act_absmax must be finite and >= 0, got ")
               << range;
      actScale = range > 0.0 ? static_cast<float>(range / 127.0) : 1.0f;
    }

    qnum::Scheme scheme;
    q::Layout layout;
    std::string groupNote;
    if (bits == 8) {
      scheme = qnum::Scheme::perChannel(8, /*symmetric=*/true, /*axis=*/1);
      layout = vnni && numK % 4 == 0 && numN % 16 == 0 ? q::Layout::VnniK4N16
                                                       : q::Layout::RowMajor;
    } else {
      // A K that the group size does not divide (SmolLM2's 576 with 128)
      // takes the largest smaller power-of-two group (>= 8) that divides it,
      // rather than leaving the layer in float; the report says so.
      int64_t group = qcc::fitGroupSize(numK, groupSize);
      if (group == 0)
        return keep("K = " + std::to_string(numK) +
                    " is not a multiple of the group size " +
                    std::to_string(static_cast<int64_t>(groupSize)) +
                    " or of a smaller power of two >= 8");
      if (group != groupSize)
        groupNote = "group size " + std::to_string(group) + ": K = " +
                    std::to_string(numK) + " is not a multiple of " +
                    std::to_string(static_cast<int64_t>(groupSize)) + "; ";
      scheme = qnum::Scheme::perGroup(4, group, symmetric, /*axis=*/0);
      if (!symmetric)
        scheme.isSigned = false;
      layout = vnni && symmetric && numK % 8 == 0 && numN % 16 == 0 &&
                       group % 8 == 0
                   ? q::Layout::VnniK8N16
                   : q::Layout::PackedK;
    }
    std::shared_ptr<ActivationStats> actStats;
    if (stats) {
      FailureOr<std::shared_ptr<ActivationStats>> found =
          getActivationStats(op, name, numK);
      if (failed(found))
        return failure();
      actStats = *found;
    }
    qnum::QuantParams params;
    std::vector<int32_t> codes;
    SmallVector<NamedAttribute> extraFields;
    std::string algoNote;
    if (failed(round(op, *values, numK, numN, scheme, actStats.get(), params,
                     codes, extraFields, algoNote)))
      return failure();
    std::vector<uint8_t> bytes;
    if (qnum::Status st = qnum::packCodes(
            codes.data(), numK, numN, scheme,
            static_cast<qnum::Layout>(static_cast<int>(layout)), bytes);
        !st)
      return op.emitOpError("packing failed: ") << st.message;

    // Relative error of the dequantized weight, for the report.
    std::vector<float> restored(values->size());
    double relError = 0.0;
    if (qnum::dequantize(codes.data(), numK, numN, scheme, params,
                         restored.data()))
      relError = qnum::compareTensors(values->data(), restored.data(),
                                      values->size())
                     .relL2;
    int64_t scaleBytes = static_cast<int64_t>(params.scales.size()) * 4 *
                         (scheme.symmetric ? 1 : 2);
    std::string format = bits == 8 ? "int8 per-channel" : "int4 g" + std::to_string(scheme.groupSize) + (scheme.symmetric ? " sym" : " asym");
    // Which kernel codegen/CPU picks (QMatmulLowering::selectKernel).
    bool weightOnly = actQuant == "none";
    std::string kernel =
        "portable path (decodes to f32 at run time; not fast on this "
        "target/recipe)";
    if (vnni && numN % 16 == 0) {
      if (bits == 8 && layout == q::Layout::VnniK4N16 && !weightOnly)
        kernel = "vpdpbusd kernel";
      else if (bits == 4 && scheme.groupSize % 8 == 0)
        kernel = weightOnly ? "AVX-512 kernel (int4 decoded in registers, FMA)"
                            : "vpdpbusd kernel";
    }
    // Without VNNI: the kernels' AVX2 forms.
    if (!vnni && numN % 8 == 0) {
      if (bits == 8 && !weightOnly)
        kernel = "AVX2 vpmaddwd kernel";
      else if (bits == 4 && scheme.groupSize % 8 == 0)
        kernel = weightOnly ? "AVX2 kernel (int4 decoded in registers, FMA)"
                            : "AVX2 vpmaddwd kernel";
    }
    if (!cpuKernelNotes)
      kernel = "kernel chosen by the GPU lowering (see the plan)";
    report(op, name, format, numK, numN,
           static_cast<int64_t>(bytes.size()) + scaleBytes, relError,
           algoNote + groupNote + kernel, extraFields);

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto schemeAttr = q::SchemeAttr::get(
        ctx, scheme.bits, scheme.isSigned,
        bits == 8 ? q::Granularity::PerChannel : q::Granularity::PerGroup,
        scheme.axis, bits == 8 ? 0 : scheme.groupSize, scheme.symmetric);
    auto qType = q::WeightType::get(
        ctx, {numK, numN}, IntegerType::get(ctx, scheme.bits), schemeAttr,
        layout);
    auto storageType = qType.getStorageType();
    auto storage = DenseResourceElementsAttr::get(
        storageType, "qcc_qweight",
        HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<char>(
            reinterpret_cast<const char *>(bytes.data()), bytes.size())));
    Value weight = q::WeightConstantOp::create(b, loc, qType, storage);

    SmallVector<int64_t> paramShape;
    if (bits == 8)
      paramShape = {numN};
    else
      paramShape = {params.rows, params.cols};
    auto scaleType = RankedTensorType::get(paramShape, b.getF32Type());
    Value scales = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(scaleType, ArrayRef<float>(params.scales)));
    Value zeroPoints;
    if (!scheme.symmetric) {
      auto zpType = RankedTensorType::get(paramShape, b.getI32Type());
      zeroPoints = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(zpType, ArrayRef<int32_t>(params.zeroPoints)));
    }
    Value init = op.getOutputs()[0];
    bool zeroInit = isZeroFill(init);
    Value dest = init;
    if (!zeroInit)
      dest = tensor::EmptyOp::create(b, loc, cast<RankedTensorType>(init.getType()).getShape(),
                                     b.getF32Type());
    auto actMode = actQuant == "dynamic" || dynamicFallback
                       ? q::ActQuant::DynamicPerToken
                   : actQuant == "static" ? q::ActQuant::StaticPerTensor
                                          : q::ActQuant::None;
    Value actScaleValue;
    if (actMode == q::ActQuant::StaticPerTensor)
      actScaleValue = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                 ArrayRef<float>(actScale)));
    auto qmatmul = q::MatmulOp::create(
        b, loc, TypeRange{init.getType()}, op.getInputs()[0], weight, scales,
        zeroPoints, /*bias=*/Value(), actScaleValue, /*outlierWeight=*/Value(),
        dest, q::ActQuantAttr::get(ctx, actMode),
        /*outlierChannels=*/DenseI64ArrayAttr());
    Value result = qmatmul.getResult()[0];
    if (!zeroInit) {
      // The matmul accumulated into a non-zero init: add it back.
      result = qcc::addTensors(b, loc, result, init);
    }
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    return success();
  }
};

} // namespace
