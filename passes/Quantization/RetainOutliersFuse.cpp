//===- RetainOutliersFuse.cpp - kept outlier channels into q.matmul -------===//
//
// qcc-retain-outliers splits Y = X W into a quantized product of the masked
// activations and a small float product of the kept channels:
//
//   %g = gather X[:, idx]                       {qcc.outlier_gather}
//   %m = X * mask                               {qcc.outlier_mask}
//   %s = linalg.matmul(%g, Wk) outs(fill 0)     {qcc.outlier_side}
//  [%b = init + %s                              {qcc.outlier_bias}]
//   %q = q.matmul %m, W' ...                    (qcc-quantize-weights)
//   %y = %q + (%s | %b)                         (qcc-quantize-weights)
//
// Run separately, these cost a masked copy of X, a gathered copy, a float
// matmul and an add per layer. This pass folds each pair into one
//
//   %y = q.matmul %x, W' outliers(%Wk) {outlier_channels = idx}
//
// (plus `+ init` when there was a bias) whose CPU lowering leaves the kept
// channels out of the activation quantization and adds the side product in
// its epilogue. Anything that does not have exactly this shape is left as
// it is, which is still correct, only slower.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "qcc/Dialect/Q/IR/QOps.h"
#include "qcc/Passes/QuantUtils.h"

#include "mlir/IR/Dominance.h"
#include "llvm/ADT/SetVector.h"

namespace qcc {
#define GEN_PASS_DEF_FUSEOUTLIERS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kGather = "qcc.outlier_gather";
constexpr llvm::StringLiteral kMask = "qcc.outlier_mask";
constexpr llvm::StringLiteral kSide = "qcc.outlier_side";
constexpr llvm::StringLiteral kBias = "qcc.outlier_bias";

/// Whether `generic` computes `ins[0] + ins[1]` elementwise with identity
/// maps (the adds qcc-retain-outliers and qcc-quantize-weights create).
bool isIdentityAdd(linalg::GenericOp generic) {
  if (!generic || generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return false;
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add || body.getOperations().size() != 2)
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1);
  return (add.getLhs() == a && add.getRhs() == b) ||
         (add.getLhs() == b && add.getRhs() == a);
}

/// The channels a gather reads (its constant index operand), or nothing.
std::optional<SmallVector<int64_t>> gatheredChannels(linalg::GenericOp gather,
                                                     Value &source) {
  if (!gather || !gather->hasAttr(kGather) || gather.getNumDpsInputs() != 1)
    return std::nullopt;
  auto idx = gather.getDpsInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto values = idx ? dyn_cast<DenseIntElementsAttr>(idx.getValue())
                    : DenseIntElementsAttr();
  if (!values)
    return std::nullopt;
  auto extracts = gather.getRegion().front().getOps<tensor::ExtractOp>();
  if (std::distance(extracts.begin(), extracts.end()) != 1)
    return std::nullopt;
  source = (*extracts.begin()).getTensor();
  SmallVector<int64_t> channels;
  for (const APInt &v : values.getValues<APInt>())
    channels.push_back(v.getSExtValue());
  return channels;
}

/// Whether `mask` is X * m with m zero exactly on `channels`.
bool masksExactly(linalg::GenericOp mask, Value source,
                  ArrayRef<int64_t> channels) {
  if (!mask || !mask->hasAttr(kMask) || mask.getNumDpsInputs() != 2 ||
      mask.getDpsInputs()[0] != source)
    return false;
  auto cst = mask.getDpsInputs()[1].getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return false;
  std::optional<std::vector<float>> m =
      qcc::getFloatValues(cast<ElementsAttr>(cst.getValue()));
  if (!m)
    return false;
  size_t next = 0;
  for (size_t j = 0; j < m->size(); ++j) {
    bool kept = next < channels.size() && channels[next] == static_cast<int64_t>(j);
    if (kept)
      ++next;
    if ((*m)[j] != (kept ? 0.0f : 1.0f))
      return false;
  }
  return next == channels.size();
}

struct FuseOutliersPass : public qcc::impl::FuseOutliersBase<FuseOutliersPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> sides;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (op->hasAttr(kSide))
        sides.push_back(op);
    });
    DominanceInfo dominance(getOperation());
    llvm::SetVector<Operation *> maybeDead;
    for (linalg::MatmulOp side : sides)
      fuse(side, dominance, maybeDead);
    // Erase what the fused matmuls no longer read (masks and gathers are
    // shared by several matmuls: only once the last one is fused).
    bool changed = true;
    while (changed) {
      changed = false;
      for (Operation *op : maybeDead) {
        if (!op || !op->use_empty() || !isOpTriviallyDead(op))
          continue;
        for (Value operand : op->getOperands())
          if (Operation *def = operand.getDefiningOp())
            maybeDead.insert(def);
        op->erase();
        maybeDead.remove(op);
        changed = true;
        break;
      }
    }
  }

  void fuse(linalg::MatmulOp side, DominanceInfo &dominance,
            llvm::SetVector<Operation *> &maybeDead) {
    if (!side.hasPureTensorSemantics() || !side->getResult(0).hasOneUse())
      return;
    Value source;
    std::optional<SmallVector<int64_t>> channels = gatheredChannels(
        side.getInputs()[0].getDefiningOp<linalg::GenericOp>(), source);
    if (!channels || channels->empty())
      return;
    Value keptWeight = side.getInputs()[1];
    // The side product feeds the final add directly, or through the add of
    // the original matmul's non-zero init.
    Operation *user = *side->getResult(0).getUsers().begin();
    auto bias = dyn_cast<linalg::GenericOp>(user);
    Value init;
    linalg::GenericOp add;
    Value sideOrBias = side->getResult(0);
    if (bias && bias->hasAttr(kBias) && isIdentityAdd(bias) &&
        bias->getResult(0).hasOneUse()) {
      init = bias.getDpsInputs()[0] == side->getResult(0)
                 ? bias.getDpsInputs()[1]
                 : bias.getDpsInputs()[0];
      sideOrBias = bias->getResult(0);
      add = dyn_cast<linalg::GenericOp>(
          *bias->getResult(0).getUsers().begin());
    } else {
      add = bias;
      bias = linalg::GenericOp();
    }
    if (!add || add->hasAttr(kBias) || !isIdentityAdd(add))
      return;
    Value other = add.getDpsInputs()[0] == sideOrBias ? add.getDpsInputs()[1]
                                                      : add.getDpsInputs()[0];
    auto qmatmul = other.getDefiningOp<qcc::q::MatmulOp>();
    if (!qmatmul || !qmatmul.hasPureTensorSemantics() ||
        qmatmul.getOutlierWeight() || !qmatmul.getResult()[0].hasOneUse())
      return;
    if (!masksExactly(qmatmul.getInput().getDefiningOp<linalg::GenericOp>(),
                      source, *channels))
      return;
    int64_t numN = qmatmul.getWeight().getType().getShape()[1];
    auto keptType = dyn_cast<RankedTensorType>(keptWeight.getType());
    if (!keptType ||
        keptType.getShape() !=
            ArrayRef<int64_t>{static_cast<int64_t>(channels->size()), numN} ||
        !dominance.properlyDominates(keptWeight, qmatmul) ||
        !dominance.properlyDominates(source, qmatmul) ||
        (init && !dominance.properlyDominates(init, add)))
      return;

    OpBuilder b(qmatmul);
    auto fused = qcc::q::MatmulOp::create(
        b, qmatmul.getLoc(), qmatmul->getResultTypes(), source,
        qmatmul.getWeight(), qmatmul.getScales(), qmatmul.getZeroPoints(),
        qmatmul.getBias(), qmatmul.getActScale(), keptWeight,
        qmatmul.getInit(), qmatmul.getActQuantAttr(),
        b.getDenseI64ArrayAttr(*channels));
    for (NamedAttribute attr : qmatmul->getDiscardableAttrs())
      fused->setAttr(attr.getName(), attr.getValue());
    maybeDead.insert(qmatmul.getInput().getDefiningOp());
    maybeDead.insert(side.getInputs()[0].getDefiningOp());
    maybeDead.insert(side.getOutputs()[0].getDefiningOp());
    Value result = fused.getResult()[0];
    if (bias) {
      // y = fused + init: the add stays, reading the original init.
      add->setOperand(add.getDpsInputs()[0] == sideOrBias ? 0 : 1, init);
      add->setOperand(add.getDpsInputs()[0] == other ? 0 : 1, result);
      bias->erase();
    } else {
      add->getResult(0).replaceAllUsesWith(result);
      maybeDead.insert(add.getDpsInits()[0].getDefiningOp());
      add->erase();
    }
    maybeDead.insert(qmatmul.getInit().getDefiningOp());
    qmatmul->erase();
    side->erase();
  }
};

} // namespace
