//===- ReassociateReductions.cpp - let LLVM vectorize f32 reductions ------===//
//
// A row sum (LayerNorm's mean and variance, softmax's denominator) lowers to
// a loop that adds one element at a time into an accumulator. Without
// permission to reorder the additions LLVM keeps that chain scalar: one add
// per 4 cycles of latency. Marking the combining operation `reassoc` lets the
// loop vectorizer keep 16-lane partial sums and add them up at the end.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUREASSOCIATEREDUCTIONS
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

struct CpuReassociateReductionsPass
    : public qcc::cpu::impl::CpuReassociateReductionsBase<
          CpuReassociateReductionsPass> {
  void runOnOperation() override {
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      Block *body = op.getBlock();
      auto yield = cast<linalg::YieldOp>(body->getTerminator());
      for (OpOperand &init : op.getDpsInitsMutable()) {
        BlockArgument acc = op.getMatchingBlockArgument(&init);
        Value yielded = yield.getOperand(init.getOperandNumber() -
                                         op.getNumDpsInputs());
        Operation *combiner = yielded.getDefiningOp();
        // Only the combiner that takes the accumulator itself: the other
        // operand's computation keeps its own rounding.
        if (!combiner || combiner->getBlock() != body ||
            !isa<arith::AddFOp, arith::MulFOp>(combiner) ||
            !llvm::is_contained(combiner->getOperands(), Value(acc)))
          continue;
        auto fastmath = cast<arith::ArithFastMathInterface>(combiner);
        arith::FastMathFlags flags =
            fastmath.getFastMathFlagsAttr().getValue() |
            arith::FastMathFlags::reassoc;
        combiner->setAttr(fastmath.getFastMathAttrName(),
                          arith::FastMathFlagsAttr::get(&getContext(), flags));
        ++numReassociated;
      }
    });
  }
};

} // namespace
