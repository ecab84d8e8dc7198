//===- ChannelScaling.cpp - per-input-channel rescaling of matmuls --------===//

#include "qcc/Passes/ChannelScaling.h"

#include "qcc/Passes/QuantUtils.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

namespace {

/// Name of the blobs holding rescaled constants.
constexpr llvm::StringLiteral kBlobName = "qcc_smoothed";

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
      operand->set(qcc::makeF32Constant(b, gammaCst.getLoc(),
                                {static_cast<int64_t>(gamma->size())},
                                *gamma, kBlobName));
      if (gammaCst->use_empty())
        gammaCst->erase();
      return "folded into the producer's per-channel constant";
    }
  }

  // Otherwise one more per-channel operand: y * (1/s)[c].
  OpBuilder b(generic);
  Location loc = generic.getLoc();
  Value invS = qcc::makeF32Constant(
      b, loc, {static_cast<int64_t>(inverse.size())}, inverse, kBlobName);
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
std::string scaleInputs(ArrayRef<qcc::ScalableMatmul> members,
                        ArrayRef<float> inverse) {
  llvm::MapVector<Value, SmallVector<linalg::MatmulOp>> byInput;
  for (qcc::ScalableMatmul c : members)
    byInput[c.op.getInputs()[0]].push_back(c.op);
  for (auto &[input, ops] : byInput) {
    // Before the first reader, after the definition.
    Operation *first = ops.front();
    for (linalg::MatmulOp op : ops)
      if (op->isBeforeInBlock(first))
        first = op;
    OpBuilder b(first);
    Location loc = first->getLoc();
    Value invS = qcc::makeF32Constant(
        b, loc, {static_cast<int64_t>(inverse.size())}, inverse, kBlobName);
    Value scaled = qcc::scaleLastDim(b, loc, input, invS);
    for (linalg::MatmulOp op : ops)
      op->setOperand(0, scaled);
  }
  return "separate scale op (the producer is shared or not foldable)";
}
} // namespace

/// Follows channel-keeping reshapes up from `value`.
Value qcc::traceChannelRoot(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!keepsChannelAxis(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}


std::optional<qcc::ScalableMatmul>
qcc::matchScalableMatmul(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics() || op.getInputs().size() != 2)
    return std::nullopt;
  auto weight = op.getInputs()[1].getDefiningOp<arith::ConstantOp>();
  auto inputType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
  if (!weight || !inputType || !inputType.getElementType().isF32() ||
      !cast<ShapedType>(weight.getType()).getElementType().isF32())
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> expected = {AffineMap::get(3, 0, {m, k}, ctx),
                                     AffineMap::get(3, 0, {k, n}, ctx),
                                     AffineMap::get(3, 0, {m, n}, ctx)};
  if (op.getIndexingMapsArray() != ArrayRef<AffineMap>(expected))
    return std::nullopt;
  ScalableMatmul c;
  c.op = op;
  c.weight = weight;
  auto shape = cast<ShapedType>(weight.getType()).getShape();
  c.k = shape[0];
  c.n = shape[1];
  return c;
}

Value qcc::makeF32Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                           ArrayRef<float> values, StringRef blobName) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  if (values.size() <= 4096)
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  auto attr = DenseResourceElementsAttr::get(
      type, blobName, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
  return arith::ConstantOp::create(b, loc, attr);
}

std::string qcc::applyChannelScale(Value root, ArrayRef<ScalableMatmul> members,
                                   ArrayRef<float> scale,
                                   std::vector<std::vector<float>> &weights) {
  std::vector<float> inverse(scale.size());
  for (size_t j = 0; j < scale.size(); ++j)
    inverse[j] = 1.0f / scale[j];
  // Where 1/s goes.
  llvm::SmallPtrSet<Operation *, 4> memberOps;
  for (const ScalableMatmul &c : members)
    memberOps.insert(c.op);
  std::string placement;
  auto generic = root.getDefiningOp<linalg::GenericOp>();
  if (generic && onlyFeeds(root, memberOps))
    placement = foldIntoProducer(generic, cast<OpResult>(root), inverse);
  if (placement.empty())
    placement = scaleInputs(members, inverse);
  // W' = s W. (`root` may be gone: read nothing from it.)
  const int64_t numK = static_cast<int64_t>(scale.size());
  for (size_t i = 0; i < members.size(); ++i) {
    ScalableMatmul c = members[i];
    std::vector<float> &values = weights[i];
    for (int64_t j = 0; j < numK; ++j)
      for (int64_t col = 0; col < c.n; ++col)
        values[j * c.n + col] *= scale[j];
    OpBuilder b(c.op);
    Value w = makeF32Constant(b, c.weight.getLoc(), {c.k, c.n}, values,
                              kBlobName);
    c.op->setOperand(1, w);
    if (c.weight->use_empty())
      c.weight->erase();
  }
  return placement;
}

void qcc::appendSmoothReport(Operation *op, ArrayRef<NamedAttribute> fields) {
  appendReportEntry(op, "qcc.smooth_report", fields);
}
