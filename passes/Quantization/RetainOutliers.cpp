//===- RetainOutliers.cpp - keep activation outlier channels in float -----===//
//
// A few input channels of a transformer's matmuls carry activations 10-100x
// larger than the rest (LLM.int8(), Dettmers et al., 2022). One int8 scale
// per token has to cover them, so every other channel loses resolution.
// This pass takes those channels out of the quantized product:
//
//   Y = X W  ->  Y = (X * mask) W' + X[:, idx] W[idx, :]
//
// `idx` are the outlier channels (from the calibrated per-channel max |x|,
// `qcc.act_channel_absmax`), `mask` is 0 on them and 1 elsewhere, W' is W
// with the rows `idx` zeroed. The first product is what
// qcc-quantize-weights turns into a q.matmul (its activations no longer see
// the outliers, its weight no longer holds their rows); the second is a
// small float matmul (K = #idx) marked `qcc.keep_float`, whose result is the
// first one's init, so the float part is added in the quantized matmul's
// epilogue. For weight-only quantization (`mask-activations=false`) X is
// left unmasked: the zeroed rows already drop the channels from the
// quantized product, and the kept rows are what AWQ calls salient channels.
//
// The mask is a small elementwise op and the gather of the kept columns a
// `linalg.generic` reading X through `tensor.extract`; both are shared by
// every matmul reading the same activations (q/k/v, gate/up).
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "qcc/Passes/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qcc {
#define GEN_PASS_DEF_RETAINOUTLIERS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kChannelAbsMax = "qcc.act_channel_absmax";
constexpr llvm::StringLiteral kActAbsMax = "qcc.act_absmax";
constexpr llvm::StringLiteral kKept = "qcc.outliers_kept";
constexpr llvm::StringLiteral kKeepFloat = "qcc.keep_float";
constexpr llvm::StringLiteral kGatherTag = "qcc.outlier_gather";
constexpr llvm::StringLiteral kMaskTag = "qcc.outlier_mask";
constexpr llvm::StringLiteral kSideTag = "qcc.outlier_side";
constexpr llvm::StringLiteral kBiasTag = "qcc.outlier_bias";

struct Candidate {
  linalg::MatmulOp op;
  arith::ConstantOp weight;
  int64_t k = 0, n = 0;
  std::vector<float> channelAbsMax;
};

/// Whether `init` is a linalg.fill of 0.
bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  auto cst = fill ? fill.getInputs()[0].getDefiningOp<arith::ConstantOp>()
                  : arith::ConstantOp();
  auto value = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return value && value.getValue().isZero();
}

/// A constant f32 tensor holding `values`: dense when small (readable in
/// tests), a resource blob when large.
Value makeConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  if (values.size() <= 4096)
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  auto attr = DenseResourceElementsAttr::get(
      type, "qcc_outliers",
      HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
  return arith::ConstantOp::create(b, loc, attr);
}

struct RetainOutliersPass
    : public qcc::impl::RetainOutliersBase<RetainOutliersPass> {
  using Base::Base;

  void runOnOperation() override {
    if (count < 0 || !(ratio >= 0.0) || !std::isfinite(ratio)) {
      getOperation().emitError("qcc-retain-outliers: count must be >= 0 and "
                               "ratio a finite number >= 0, got count ")
          << static_cast<int64_t>(count) << ", ratio "
          << static_cast<double>(ratio);
      return signalPassFailure();
    }
    if (count == 0 && ratio == 0.0) {
      getOperation().emitError("qcc-retain-outliers: set count, ratio or "
                               "both (with neither every channel would be "
                               "an outlier)");
      return signalPassFailure();
    }
    llvm::MapVector<Value, SmallVector<Candidate>> groups;
    bool failedAny = false;
    getOperation().walk([&](linalg::MatmulOp op) {
      FailureOr<std::optional<Candidate>> c = getCandidate(op);
      if (failed(c)) {
        failedAny = true;
        return;
      }
      if (*c)
        groups[op.getInputs()[0]].push_back(std::move(**c));
    });
    if (failedAny)
      return signalPassFailure();
    for (auto &[input, members] : groups)
      if (failed(retain(input, members)))
        return signalPassFailure();
  }

  /// nullopt for matmuls the pass leaves alone; failure for malformed
  /// calibration attributes.
  FailureOr<std::optional<Candidate>> getCandidate(linalg::MatmulOp op) {
    if (op->hasAttr(kKept) || op->hasAttr(kKeepFloat))
      return std::optional<Candidate>();
    auto absMax = op->getAttrOfType<DenseElementsAttr>(kChannelAbsMax);
    if (!absMax || !op.hasPureTensorSemantics() || op.getInputs().size() != 2)
      return std::optional<Candidate>();
    auto weight = op.getInputs()[1].getDefiningOp<arith::ConstantOp>();
    auto inputType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    if (!weight || !inputType || !inputType.hasStaticShape() ||
        !inputType.getElementType().isF32() ||
        !cast<ShapedType>(weight.getType()).getElementType().isF32())
      return std::optional<Candidate>();
    MLIRContext *ctx = op.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    SmallVector<AffineMap> expected = {AffineMap::get(3, 0, {m, k}, ctx),
                                       AffineMap::get(3, 0, {k, n}, ctx),
                                       AffineMap::get(3, 0, {m, n}, ctx)};
    if (op.getIndexingMapsArray() != ArrayRef<AffineMap>(expected))
      return std::optional<Candidate>();
    Candidate c;
    c.op = op;
    c.weight = weight;
    auto shape = cast<ShapedType>(weight.getType()).getShape();
    c.k = shape[0];
    c.n = shape[1];
    if (c.k * c.n < minElements)
      return std::optional<Candidate>();
    FailureOr<std::vector<float>> channels =
        qcc::readChannelAbsMax(op, absMax, c.k);
    if (failed(channels))
      return failure();
    c.channelAbsMax = std::move(*channels);
    return std::optional<Candidate>(std::move(c));
  }

  /// The outlier channels of `absMax`, ascending; `capped` says whether the
  /// K / 2 limit cut the selection.
  SmallVector<int64_t> select(ArrayRef<float> absMax, bool &capped) {
    int64_t numK = absMax.size();
    std::vector<float> sorted(absMax.begin(), absMax.end());
    std::nth_element(sorted.begin(), sorted.begin() + numK / 2, sorted.end());
    double median = sorted[numK / 2];
    SmallVector<int64_t> order(numK);
    std::iota(order.begin(), order.end(), 0);
    llvm::sort(order, [&](int64_t a, int64_t b) {
      return absMax[a] != absMax[b] ? absMax[a] > absMax[b] : a < b;
    });
    SmallVector<int64_t> picked;
    int64_t limit = numK / 2;
    capped = false;
    for (int64_t j : order) {
      if (count > 0 && static_cast<int64_t>(picked.size()) >= count)
        break;
      if (ratio > 0.0 && !(absMax[j] > ratio * median))
        break;
      if (static_cast<int64_t>(picked.size()) >= limit) {
        capped = true;
        break;
      }
      picked.push_back(j);
    }
    llvm::sort(picked);
    return picked;
  }

  LogicalResult retain(Value input, MutableArrayRef<Candidate> members) {
    int64_t numK = members.front().k;
    std::vector<float> absMax(numK, 0.0f);
    for (Candidate &c : members) {
      if (c.k != numK)
        return c.op.emitOpError("reads the same activations as another "
                                "matmul with a different K");
      for (int64_t j = 0; j < numK; ++j)
        absMax[j] = std::max(absMax[j], c.channelAbsMax[j]);
    }
    bool capped = false;
    SmallVector<int64_t> idx = select(absMax, capped);
    int64_t numKept = idx.size();
    double before = 0.0, after = 0.0;
    std::vector<float> maskValues(numK, 1.0f);
    for (int64_t j : idx)
      maskValues[j] = 0.0f;
    for (int64_t j = 0; j < numK; ++j) {
      before = std::max(before, static_cast<double>(absMax[j]));
      if (maskValues[j] != 0.0f)
        after = std::max(after, static_cast<double>(absMax[j]));
    }

    Builder attrs(input.getContext());
    auto reportFields = [&](Candidate &c) {
      SmallVector<Attribute> channels;
      for (int64_t j : idx)
        channels.push_back(attrs.getI64IntegerAttr(j));
      return SmallVector<NamedAttribute>{
          attrs.getNamedAttr(
              "name", attrs.getStringAttr(qcc::getNodeName(c.op.getLoc()))),
          attrs.getNamedAttr("k", attrs.getI64IntegerAttr(numK)),
          attrs.getNamedAttr("n", attrs.getI64IntegerAttr(c.n)),
          attrs.getNamedAttr("kept", attrs.getI64IntegerAttr(numKept)),
          attrs.getNamedAttr("channels", attrs.getArrayAttr(channels)),
          attrs.getNamedAttr("float_bytes",
                             attrs.getI64IntegerAttr(numKept * c.n * 4)),
          attrs.getNamedAttr("act_absmax_before", attrs.getF64FloatAttr(before)),
          attrs.getNamedAttr("act_absmax_after",
                             attrs.getF64FloatAttr(numKept ? after : before)),
          attrs.getNamedAttr("masked", attrs.getBoolAttr(maskActivations &&
                                                         numKept > 0)),
          attrs.getNamedAttr("capped", attrs.getBoolAttr(capped))};
    };
    if (numKept == 0) {
      for (Candidate &c : members) {
        c.op->setAttr(kKept, attrs.getI64IntegerAttr(0));
        appendReport(c.op, reportFields(c));
      }
      return success();
    }

    // Shared by the members: placed before the first of them (the input is
    // defined before all of them).
    Operation *first = members.front().op;
    for (Candidate &c : members)
      if (c.op->isBeforeInBlock(first))
        first = c.op;
    OpBuilder b(first);
    Location loc = first->getLoc();
    MLIRContext *ctx = b.getContext();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t numM = inputType.getShape()[0];
    AffineMap id = b.getMultiDimIdentityMap(2);
    AffineMap channel = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
    SmallVector<utils::IteratorType> parallel2(2, utils::IteratorType::parallel);

    // X[:, idx]: channel i of the result is channel idx[i] of X.
    SmallVector<int32_t> idx32(idx.begin(), idx.end());
    Value idxCst = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({numKept}, b.getI32Type()),
            ArrayRef<int32_t>(idx32)));
    Value gatherInit =
        tensor::EmptyOp::create(b, loc, {numM, numKept}, b.getF32Type());
    Value gathered =
        linalg::GenericOp::create(
            b, loc, TypeRange{gatherInit.getType()}, ValueRange{idxCst},
            ValueRange{gatherInit}, ArrayRef<AffineMap>{channel, id},
            parallel2,
            [&](OpBuilder &nb, Location nloc, ValueRange args) {
              Value row = linalg::IndexOp::create(nb, nloc, 0);
              Value col = arith::IndexCastOp::create(
                  nb, nloc, nb.getIndexType(), args[0]);
              Value v = tensor::ExtractOp::create(nb, nloc, input,
                                                  ValueRange{row, col});
              linalg::YieldOp::create(nb, nloc, v);
            })
            .getResult(0);
    // The tags qcc-fuse-outliers matches (with the side product and its
    // bias add below) to fold the split into the quantized matmul.
    gathered.getDefiningOp()->setAttr(kGatherTag, b.getUnitAttr());

    // X * mask: the quantized product's activations without the outliers.
    Value masked = input;
    if (maskActivations) {
      Value maskCst = makeConstant(b, loc, {numK}, maskValues);
      masked = qcc::scaleLastDim(b, loc, input, maskCst);
      masked.getDefiningOp()->setAttr(kMaskTag, b.getUnitAttr());
    }

    for (Candidate &c : members) {
      std::optional<std::vector<float>> values =
          qcc::getFloatValues(cast<ElementsAttr>(c.weight.getValue()));
      if (!values)
        return c.op.emitOpError("cannot read the weight constant");
      std::vector<float> keptRows(numKept * c.n);
      for (int64_t i = 0; i < numKept; ++i) {
        float *row = values->data() + idx[i] * c.n;
        std::copy(row, row + c.n, keptRows.data() + i * c.n);
        std::fill(row, row + c.n, 0.0f);
      }
      OpBuilder mb(c.op);
      Location mloc = c.op.getLoc();
      std::string name = qcc::getNodeName(mloc);
      // The float product goes first and becomes the init of the main one,
      // which then adds its own product to it.
      Location sideLoc = NameLoc::get(
          StringAttr::get(ctx, name.empty() ? "outliers" : name + "/outliers"),
          mloc);
      Value keptW = makeConstant(mb, sideLoc, {numKept, c.n}, keptRows);
      // The side product starts from zero (the float microkernel's fast
      // form); a non-zero init of the original (a bias) is added to it.
      Value init = c.op.getOutputs()[0];
      auto initType = cast<RankedTensorType>(init.getType());
      Value zero = arith::ConstantOp::create(mb, sideLoc, mb.getF32FloatAttr(0));
      Value sideInit = linalg::FillOp::create(
                           mb, sideLoc, ValueRange{zero},
                           ValueRange{tensor::EmptyOp::create(
                               mb, sideLoc, initType.getShape(),
                               mb.getF32Type())})
                           .getResult(0);
      auto side = linalg::MatmulOp::create(mb, sideLoc, TypeRange{initType},
                                           ValueRange{gathered, keptW},
                                           ValueRange{sideInit});
      Value mainInit = side->getResult(0);
      if (!isZeroFill(init)) {
        mainInit = qcc::addTensors(mb, sideLoc, init, mainInit);
        mainInit.getDefiningOp()->setAttr(kBiasTag, mb.getUnitAttr());
      }
      side->setAttr(kSideTag, mb.getUnitAttr());
      side->setAttr(kKeepFloat,
                    attrs.getStringAttr(
                        "outlier channels (" + std::to_string(numKept) +
                        " of " + std::to_string(numK) +
                        ", qcc-retain-outliers)"));
      Value mainW = makeConstant(mb, c.weight.getLoc(), {c.k, c.n}, *values);
      c.op->setOperand(0, masked);
      c.op->setOperand(1, mainW);
      c.op.getOutputsMutable()[0].set(mainInit);
      if (c.weight->use_empty())
        c.weight->erase();
      c.op->setAttr(kKept, attrs.getI64IntegerAttr(numKept));
      if (maskActivations) {
        // What calibration would now see: the kept channels are zero.
        std::vector<float> remaining = c.channelAbsMax;
        std::vector<float> mask(remaining.size(), 1.0f);
        for (int64_t j : idx)
          remaining[j] = mask[j] = 0.0f;
        qcc::composeCalibChannelFactor(c.op, mask);
        c.op->setAttr(kChannelAbsMax,
                      DenseElementsAttr::get(
                          RankedTensorType::get({numK}, b.getF32Type()),
                          ArrayRef<float>(remaining)));
        // The per-tensor range and the fallback decision of the first
        // calibration no longer hold; calibrating again decides anew.
        c.op->removeAttr("qcc.act_fallback");
        c.op->removeAttr("qcc.act_sqnr_db");
        if (auto range = c.op->getAttrOfType<FloatAttr>(kActAbsMax))
          c.op->setAttr(kActAbsMax,
                        attrs.getF32FloatAttr(static_cast<float>(std::min(
                            range.getValueAsDouble(), after))));
      }
      appendReport(c.op, reportFields(c));
    }
    return success();
  }

  static void appendReport(Operation *op, ArrayRef<NamedAttribute> fields) {
    qcc::appendReportEntry(op, "qcc.outlier_report", fields);
  }
};

} // namespace
