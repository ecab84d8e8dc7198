//===- Fills.cpp - initial fills a GPU lowering makes redundant -----------===//

#include "Fills.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace qcc::gpu {

namespace {

/// The memref.alloc that `v` is all of (through reshapes and casts), or
/// null.
Value wholeAllocation(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<memref::AllocOp>(def))
      return v;
    if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp>(
            def))
      return {};
    v = def->getOperand(0);
  }
  return {};
}

/// `root` and every view derived from it.
llvm::DenseSet<Value> viewsOf(Value root) {
  llvm::DenseSet<Value> views{root};
  SmallVector<Value> work{root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers())
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == v)
          for (Value r : user->getResults())
            if (views.insert(r).second)
              work.push_back(r);
  }
  return views;
}

/// Whether `op` or an op nested in it has one of `views` as an operand.
bool touches(Operation *op, const llvm::DenseSet<Value> &views) {
  return op
      ->walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          if (views.contains(v))
            return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

} // namespace

linalg::FillOp fillBefore(Operation *op, Value buffer) {
  Value root = wholeAllocation(buffer);
  llvm::DenseSet<Value> views;
  if (root)
    views = viewsOf(root);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
      if (fill->getNumResults() == 0 && fill.getOutputs().size() == 1) {
        Value target = fill.getOutputs()[0];
        if (target == buffer || (root && wholeAllocation(target) == root))
          return fill;
      }
    }
    if (isPure(prev))
      continue;
    if (!root || touches(prev, views))
      return {};
  }
  return {};
}

void eraseDeadFill(Operation *op, Value init) {
  if (linalg::FillOp fill = fillBefore(op, init))
    fill->erase();
}

} // namespace qcc::gpu
