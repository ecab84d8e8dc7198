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
// The division by s must cost nothing at run time. It is folded into the
// producer of the activations when that is an all-parallel linalg.generic
// (after qcc-fuse-elementwise a RMSNorm / LayerNorm, a gated activation)
// whose value reaches only the smoothed matmuls (through reshapes that keep
// the channel axis last): into its per-channel constant multiply (the norm's
// gamma) when its result is `x * gamma[c]`, else as one more per-channel
// constant operand it multiplies by. Where the activations come from
// elsewhere or also feed other ops (a post-LN transformer's residual), a
// small elementwise op scales the matmul input (one pass over M x K values
// next to an M x K x N matmul).
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

/// A matmul the pass can smooth: canonical maps, f32 activations, constant
/// f32 [K, N] weight, calibrated channel bounds.
struct Candidate {
  linalg::MatmulOp op;
  arith::ConstantOp weight;
  int64_t k = 0, n = 0;
  std::vector<float> channelAbsMax;
};

/// Whether `op` only reshapes with the last (channel) axis kept as its own
/// dimension, so channel c of the result is channel c of the source.
bool keepsChannelAxis(Operation *op) {
  auto lastGroupIsOne = [](ArrayRef<ReassociationIndices> groups) {
    return !groups.empty() && groups.back().size() == 1;
  };
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return lastGroupIsOne(collapse.getReassociationIndices());
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return lastGroupIsOne(expand.getReassociationIndices());
  return false;
}

/// Follows channel-keeping reshapes up from `value`.
Value traceRoot(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!keepsChannelAxis(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// Whether every use of `root`, through channel-keeping reshapes, is the
/// activation operand of one of `matmuls`.
bool onlyFeeds(Value root, const llvm::SmallPtrSetImpl<Operation *> &matmuls) {
  for (OpOperand &use : root.getUses()) {
    Operation *user = use.getOwner();
    if (matmuls.contains(user)) {
      if (use.getOperandNumber() != 0)
        return false;
      continue;
    }
    if (!keepsChannelAxis(user) || !onlyFeeds(user->getResult(0), matmuls))
      return false;
  }
  return true;
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
      type, "qcc_smoothed",
      HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
  return arith::ConstantOp::create(b, loc, attr);
}

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
        groups[traceRoot(op.getInputs()[0])].push_back(std::move(**c));
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
    if (!op.hasPureTensorSemantics() || op.getInputs().size() != 2)
      return std::optional<Candidate>();
    auto weight = op.getInputs()[1].getDefiningOp<arith::ConstantOp>();
    auto inputType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    if (!weight || !inputType || !inputType.getElementType().isF32() ||
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
    if (!absMax.getElementType().isF32() || absMax.getNumElements() != c.k) {
      op.emitOpError(kChannelAbsMax)
          << " must hold " << c.k << " f32 values (one per input channel), got "
          << absMax.getType();
      return failure();
    }
    for (float v : absMax.getValues<float>()) {
      if (!std::isfinite(v) || v < 0.0f) {
        op.emitOpError(kChannelAbsMax)
            << " must be finite and >= 0, got " << v;
        return failure();
      }
      c.channelAbsMax.push_back(v);
    }
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
    std::vector<float> scale(numK), inverse(numK);
    double lo = INFINITY, hi = 0.0;
    for (int64_t j = 0; j < numK; ++j) {
      double s = 1.0;
      if (xMax[j] > 0.0 && wMax[j] > 0.0 && std::isfinite(wMax[j]))
        s = std::pow(xMax[j], alpha) / std::pow(wMax[j], 1.0 - alpha);
      if (!std::isfinite(s) || s <= 0.0)
        s = 1.0;
      s = std::clamp(s, kMinScale, kMaxScale);
      scale[j] = static_cast<float>(s);
      inverse[j] = static_cast<float>(1.0 / s);
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }

    // Where 1/s goes.
    llvm::SmallPtrSet<Operation *, 4> memberOps;
    for (Candidate &c : members)
      memberOps.insert(c.op);
    std::string placement;
    auto generic = root.getDefiningOp<linalg::GenericOp>();
    if (generic && onlyFeeds(root, memberOps))
      placement = foldIntoProducer(generic, cast<OpResult>(root), inverse);
    if (placement.empty())
      placement = scaleInputs(members, inverse);

    // W' = s W, and the report. (`root` may be gone: read nothing from it.)
    Builder attrs(members.front().op.getContext());
    for (auto [c, values] : llvm::zip(members, weights)) {
      for (int64_t j = 0; j < numK; ++j)
        for (int64_t col = 0; col < c.n; ++col)
          values[j * c.n + col] *= scale[j];
      OpBuilder b(c.op);
      Value w = makeConstant(b, c.weight.getLoc(), {c.k, c.n}, values);
      c.op->setOperand(1, w);
      c.op->setAttr(kSmoothed, attrs.getF64FloatAttr(alpha));
      // The activations are now X / s: their per-channel bounds too (what
      // qcc-retain-outliers picks outlier channels from).
      std::vector<float> smoothedMax(numK);
      for (int64_t j = 0; j < numK; ++j)
        smoothedMax[j] = static_cast<float>(c.channelAbsMax[j] / scale[j]);
      c.op->setAttr(kChannelAbsMax,
                    DenseElementsAttr::get(
                        RankedTensorType::get({numK}, attrs.getF32Type()),
                        ArrayRef<float>(smoothedMax)));
      if (c.weight->use_empty())
        c.weight->erase();
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
      appendSmoothReport(c.op, fields);
    }
    return success();
  }

  static void appendSmoothReport(Operation *op,
                                 ArrayRef<NamedAttribute> fields) {
    ModuleOp module = op->getParentOfType<ModuleOp>();
    if (!module)
      return;
    Builder b(op->getContext());
    SmallVector<Attribute> layers;
    if (auto existing = module->getAttrOfType<ArrayAttr>("qcc.smooth_report"))
      layers.assign(existing.begin(), existing.end());
    layers.push_back(b.getDictionaryAttr(fields));
    module->setAttr("qcc.smooth_report", b.getArrayAttr(layers));
  }

  /// Multiplies result `result` of `generic` by `inverse[c]` (c: the index of
  /// its last axis). Returns what it did, or "" when it cannot.
  std::string foldIntoProducer(linalg::GenericOp generic, OpResult result,
                               ArrayRef<float> inverse) {
    if (generic.getNumReductionLoops() != 0 || !generic.hasPureTensorSemantics())
      return "";
    unsigned r = result.getResultNumber();
    AffineMap outMap = generic.getIndexingMapMatchingResult(result);
    if (outMap.getNumResults() == 0)
      return "";
    auto channel = dyn_cast<AffineDimExpr>(outMap.getResults().back());
    auto resultType = cast<RankedTensorType>(result.getType());
    if (!channel || resultType.getShape().back() !=
                        static_cast<int64_t>(inverse.size()))
      return "";
    MLIRContext *ctx = generic.getContext();
    AffineMap channelMap =
        AffineMap::get(generic.getNumLoops(), 0, {channel}, ctx);
    Block *body = generic.getBody();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    Value yielded = yield.getOperand(r);

    // y = x * gamma[c] with gamma constant and used nowhere else: gamma / s.
    if (auto mul = yielded.getDefiningOp<arith::MulFOp>();
        mul && mul->hasOneUse() && mul->getBlock() == body) {
      for (Value factor : {mul.getRhs(), mul.getLhs()}) {
        auto arg = dyn_cast<BlockArgument>(factor);
        if (!arg || arg.getOwner() != body || !arg.hasOneUse() ||
            arg.getArgNumber() >= generic.getNumDpsInputs())
          continue;
        OpOperand *operand = generic.getDpsInputOperand(arg.getArgNumber());
        if (generic.getMatchingIndexingMap(operand) != channelMap)
          continue;
        auto gammaCst = operand->get().getDefiningOp<arith::ConstantOp>();
        if (!gammaCst)
          continue;
        std::optional<std::vector<float>> gamma =
            qcc::getFloatValues(cast<ElementsAttr>(gammaCst.getValue()));
        if (!gamma || gamma->size() != inverse.size())
          continue;
        for (size_t c = 0; c < gamma->size(); ++c)
          (*gamma)[c] *= inverse[c];
        OpBuilder b(generic);
        operand->set(makeConstant(b, gammaCst.getLoc(),
                                  {static_cast<int64_t>(gamma->size())},
                                  *gamma));
        if (gammaCst->use_empty())
          gammaCst->erase();
        return "folded into the producer's per-channel constant";
      }
    }

    // Otherwise one more per-channel operand: y * (1/s)[c].
    OpBuilder b(generic);
    Location loc = generic.getLoc();
    Value invS = makeConstant(b, loc, {static_cast<int64_t>(inverse.size())},
                              inverse);
    SmallVector<Value> inputs(generic.getDpsInputs());
    inputs.push_back(invS);
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    maps.insert(maps.begin() + generic.getNumDpsInputs(), channelMap);
    auto fused = linalg::GenericOp::create(
        b, loc, generic.getResultTypes(), inputs, generic.getDpsInits(), maps,
        generic.getIteratorTypesArray());
    fused->setDiscardableAttrs(generic->getDiscardableAttrDictionary());
    fused.getRegion().takeBody(generic.getRegion());
    Block *newBody = fused.getBody();
    BlockArgument factor =
        newBody->insertArgument(fused.getNumDpsInputs() - 1, b.getF32Type(), loc);
    auto newYield = cast<linalg::YieldOp>(newBody->getTerminator());
    OpBuilder inner(newYield);
    Value scaled = arith::MulFOp::create(inner, loc, newYield.getOperand(r),
                                         factor);
    newYield->setOperand(r, scaled);
    generic->replaceAllUsesWith(fused->getResults());
    generic->erase();
    return "folded into the producer (one multiply per element)";
  }

  /// Scales each distinct activation operand of `members` by 1/s with an
  /// elementwise op in front of the matmuls.
  std::string scaleInputs(MutableArrayRef<Candidate> members,
                          ArrayRef<float> inverse) {
    llvm::MapVector<Value, SmallVector<linalg::MatmulOp>> byInput;
    for (Candidate &c : members)
      byInput[c.op.getInputs()[0]].push_back(c.op);
    for (auto &[input, ops] : byInput) {
      // Before the first reader, after the definition.
      Operation *first = ops.front();
      for (linalg::MatmulOp op : ops)
        if (op->isBeforeInBlock(first))
          first = op;
      OpBuilder b(first);
      Location loc = first->getLoc();
      auto type = cast<RankedTensorType>(input.getType());
      Value invS = makeConstant(b, loc, {static_cast<int64_t>(inverse.size())},
                                inverse);
      Value empty =
          tensor::EmptyOp::create(b, loc, type.getShape(), b.getF32Type());
      MLIRContext *ctx = b.getContext();
      AffineMap id = b.getMultiDimIdentityMap(2);
      AffineMap channel = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
      Value scaled =
          linalg::GenericOp::create(
              b, loc, TypeRange{type}, ValueRange{input, invS},
              ValueRange{empty}, ArrayRef<AffineMap>{id, channel, id},
              ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                            utils::IteratorType::parallel},
              [](OpBuilder &nb, Location nloc, ValueRange args) {
                Value v = arith::MulFOp::create(nb, nloc, args[0], args[1]);
                linalg::YieldOp::create(nb, nloc, v);
              })
              .getResult(0);
      for (linalg::MatmulOp op : ops)
        op->setOperand(0, scaled);
    }
    return "separate scale op (the producer is shared or not foldable)";
  }
};

} // namespace
