//===- PadInPlace.cpp - producers write padded tensors' interiors ---------===//
//
// One-shot bufferization lowers a constant tensor.pad to a fill of a new
// buffer and a copy of the source into its interior. When the source is the
// fresh result of a destination-style op (the transpose at a convolution
// chain's input, the bias + Relu generic between two convolutions), this
// pass has that op write the interior directly; the pad becomes the matching
// insert_slice, which bufferizes to nothing.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace qcc {
#define GEN_PASS_DEF_PADINPLACE
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

/// A constant `tensor.pad` of a value that a destination-style op (a
/// transpose, an element-wise generic) writes into a fresh `tensor.empty`:
/// that op writes the padded tensor's interior instead, so the padding costs
/// one fill and no copy:
///   fill(pad value) -> extract_slice (interior) -> the op -> insert_slice
/// (bufferized in place: the slices match).
static void padInPlace(tensor::PadOp pad) {
  Value source = pad.getSource();
  Value padValue = pad.getConstantPaddingValue();
  auto producer = source.getDefiningOp<DestinationStyleOpInterface>();
  auto padType = dyn_cast<RankedTensorType>(pad.getResult().getType());
  if (!padValue || !producer || !source.hasOneUse() || !padType ||
      !padType.hasStaticShape() || producer->getNumResults() != 1 ||
      producer.getNumDpsInits() != 1 || !pad.getLow().empty() ||
      !pad.getHigh().empty() ||
      !producer.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
    return;
  // The producer must not read what its init held.
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(producer.getOperation());
      linalgOp &&
      linalgOp.payloadUsesValueFromOperand(&linalgOp.getDpsInitsMutable()[0]))
    return;
  auto sourceType = cast<RankedTensorType>(source.getType());
  OpBuilder b(pad);
  Location loc = pad.getLoc();
  TypedAttr padAttr;
  if (!matchPattern(padValue, m_Constant(&padAttr)))
    return;
  // The fill is built before the producer, whose init becomes its slice.
  b.setInsertionPoint(producer);
  padValue = arith::ConstantOp::create(b, loc, padAttr);
  Value empty = tensor::EmptyOp::create(b, loc, padType.getShape(),
                                        padType.getElementType());
  Value filled =
      linalg::FillOp::create(b, loc, padValue, empty).getResult(0);
  SmallVector<OpFoldResult> offsets, sizes, strides;
  for (auto [i, low] : llvm::enumerate(pad.getStaticLow())) {
    offsets.push_back(b.getIndexAttr(low));
    sizes.push_back(b.getIndexAttr(sourceType.getDimSize(i)));
    strides.push_back(b.getIndexAttr(1));
  }
  Value interior = tensor::ExtractSliceOp::create(b, loc, sourceType, filled,
                                                  offsets, sizes, strides);
  producer.getDpsInitsMutable()[0].set(interior);
  b.setInsertionPoint(pad);
  Value padded = tensor::InsertSliceOp::create(b, loc, source, filled,
                                               offsets, sizes, strides);
  pad.getResult().replaceAllUsesWith(padded);
  pad.erase();
}

struct PadInPlacePass : qcc::impl::PadInPlaceBase<PadInPlacePass> {
  void runOnOperation() override {
    SmallVector<tensor::PadOp> pads;
    getOperation().walk([&](tensor::PadOp pad) { pads.push_back(pad); });
    for (tensor::PadOp pad : pads)
      padInPlace(pad);
  }
};

} // namespace
