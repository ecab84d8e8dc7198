//===- PackMatmulWeights.cpp - panel-major f32 matmul weights -------------===//
//
// The register-blocked microkernel (qcc-cpu-matmul-microkernel) reads, for
// each block of C columns, `panel` floats of every row of B: with a row-major
// K x N weight that is a run of a few cache lines every 4 N bytes, so each K
// step touches a new page and the prefetchers see hundreds of short streams.
// A weight known at compile time can be stored the way the kernel reads it
// instead: B[k, n] moves to Bp[n floordiv panel, k, n mod panel], so that the
// panel the kernel walks down is one contiguous block (the last panel padded
// with zeros). The matmul becomes a linalg.generic over the packed operand
// (indexing map (m, n, k) -> (n floordiv panel, k, n mod panel)), which the
// microkernel pass recognizes and which the generic lowering also runs
// correctly.
//
// The panel is the width of the block the microkernel picks for the
// product's rows (qcc::cpu::chooseBlock: 3 vectors from 8 rows with AVX-512,
// 6 with 4 rows, ...). Products of fewer than `min-rows` rows (GEMVs, which
// stream B row by row) keep the row-major layout, and only weights used by
// nothing else are packed, so that no weight is stored twice.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Passes/QuantUtils.h"

#include "PackedMatmul.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUPACKMATMULWEIGHTS
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

struct CpuPackMatmulWeightsPass
    : public qcc::cpu::impl::CpuPackMatmulWeightsBase<
          CpuPackMatmulWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth <= 0 || panel < 0 || minRows <= 0 ||
        panel % vectorWidth != 0) {
      getOperation().emitError(
          "qcc-cpu-pack-matmul-weights: vector-width and min-rows must be "
          "positive, panel 0 or a multiple of vector-width");
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> work;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (isPackable(op))
        work.push_back(op);
    });
    for (linalg::MatmulOp op : work)
      pack(op);
  }

  /// f32 [M, K] x constant [K, N] -> [M, N] on static tensors, the plain
  /// multiply-add, with M >= min-rows and B used only here.
  bool isPackable(linalg::MatmulOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1)
      return false;
    // The default maps (no transposes or broadcasts folded in).
    if (op.getIndexingMapsArray() !=
        ArrayRef<AffineMap>(linalg::MatmulOp::getDefaultIndexingMaps(
            op.getContext())))
      return false;
    Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    for (Value v : {lhs, rhs, init}) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
          !type.getElementType().isF32())
        return false;
    }
    if (op->getRegion(0).front().getOperations().size() != 3)
      return false;
    auto cst = rhs.getDefiningOp<arith::ConstantOp>();
    if (!cst || !rhs.hasOneUse() || !isa<ElementsAttr>(cst.getValue()))
      return false;
    ArrayRef<int64_t> lhsShape = cast<ShapedType>(lhs.getType()).getShape();
    ArrayRef<int64_t> rhsShape = cast<ShapedType>(rhs.getType()).getShape();
    return lhsShape[0] >= minRows && rhsShape[0] > 0 &&
           rhsShape[1] >= panelFor(lhsShape[0], rhsShape[1]);
  }

  /// Columns per panel for an m x n product: the option, or the width of
  /// the microkernel's block for m rows.
  int64_t panelFor(int64_t m, int64_t n) {
    if (panel > 0)
      return panel;
    return vectorWidth * qcc::cpu::chooseBlock(m, n, vectorWidth).second;
  }

  void pack(linalg::MatmulOp op) {
    Value rhs = op.getDpsInputs()[1];
    auto cst = rhs.getDefiningOp<arith::ConstantOp>();
    std::optional<std::vector<float>> values =
        qcc::getFloatValues(cast<ElementsAttr>(cst.getValue()));
    if (!values)
      return;
    ArrayRef<int64_t> shape = cast<ShapedType>(rhs.getType()).getShape();
    int64_t k = shape[0], n = shape[1];
    int64_t cols = panelFor(
        cast<ShapedType>(op.getDpsInputs()[0].getType()).getShape()[0], n);
    int64_t panels = (n + cols - 1) / cols;
    std::vector<float> packed(static_cast<size_t>(panels * k * cols), 0.0f);
    for (int64_t row = 0; row < k; ++row)
      for (int64_t col = 0; col < n; ++col)
        packed[(col / cols * k + row) * cols + col % cols] =
            (*values)[row * n + col];

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto packedType =
        RankedTensorType::get({panels, k, cols}, b.getF32Type());
    auto attr = DenseResourceElementsAttr::get(
        packedType, "qcc_packed_weight",
        HeapAsmResourceBlob::allocateAndCopyInferAlign(
            ArrayRef<float>(packed)));
    Value packedValue = arith::ConstantOp::create(b, loc, packedType, attr);

    SmallVector<AffineMap, 3> maps =
        qcc::cpu::packedMatmulMaps(op.getContext(), cols);
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    Value init = op.getDpsInits()[0];
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()},
        ValueRange{op.getDpsInputs()[0], packedValue}, ValueRange{init}, maps,
        iterators, [](OpBuilder &nb, Location nl, ValueRange args) {
          Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
          Value sum = arith::AddFOp::create(nb, nl, args[2], product);
          linalg::YieldOp::create(nb, nl, sum);
        });
    op->replaceAllUsesWith(generic->getResults());
    op->erase();
    if (cst->use_empty())
      cst->erase();
  }
};

} // namespace
