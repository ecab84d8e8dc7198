//===- InterchangeReductions.cpp - parallel loops of reductions outermost --===//
//
// convert-linalg-to-parallel-loops turns only the parallel loops in front of
// the first reduction loop into scf.parallel; later parallel loops become
// sequential scf.for loops inside it. A sum over the middle dimension (the
// mean pooling of a sentence embedding: [1, 128, 384] -> [1, 384]) thus ran
// as one GPU thread for 49152 elements. Here every linalg.generic whose
// reduction loops are not all innermost is interchanged (in place, the
// indexing maps and linalg.index ops adapted) so that its parallel loops come
// first, in their order, then its reduction loops: one thread per output
// element (and qcc-gpu-warp-reductions then a warp).
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUINTERCHANGEREDUCTIONS
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

struct GpuInterchangeReductionsPass
    : public qcc::gpu::impl::GpuInterchangeReductionsBase<
          GpuInterchangeReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : generics) {
      SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
      SmallVector<unsigned> order;
      for (unsigned i = 0; i < iterators.size(); ++i)
        if (iterators[i] == utils::IteratorType::parallel)
          order.push_back(i);
      for (unsigned i = 0; i < iterators.size(); ++i)
        if (iterators[i] != utils::IteratorType::parallel)
          order.push_back(i);
      bool identity = true;
      for (unsigned i = 0; i < order.size(); ++i)
        identity &= order[i] == i;
      if (identity)
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, order))) {
        op.emitError("qcc-gpu-interchange-reductions: could not move the "
                     "parallel loops outermost");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
