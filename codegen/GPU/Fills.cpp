//===- Fills.cpp - initial fills a GPU lowering makes redundant -----------===//

#include "Fills.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace qcc::gpu {

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

namespace {

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

/// Whether `op` or an op nested in it has one of `views` as an operand
/// (making another view of one does not count).
bool touches(Operation *op, const llvm::DenseSet<Value> &views) {
  if (isa<ViewLikeOpInterface>(op) && isPure(op))
    return false;
  return op
      ->walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          if (views.contains(v))
            return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// The op before `op` that last wrote all of `buffer` (a linalg.fill or a
/// memref.copy) when every op in between is pure or touches no view of
/// `buffer`'s allocation; null when there is none.
Operation *setterBefore(Operation *op, Value buffer) {
  Value root = wholeAllocation(buffer);
  llvm::DenseSet<Value> views;
  if (root)
    views = viewsOf(root);
  auto covers = [&](Value target) {
    return target == buffer || (root && wholeAllocation(target) == root);
  };
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev))
      if (fill->getNumResults() == 0 && fill.getOutputs().size() == 1 &&
          covers(fill.getOutputs()[0]))
        return fill;
    if (auto copy = dyn_cast<memref::CopyOp>(prev))
      if (covers(copy.getTarget()))
        return copy;
    if (isPure(prev))
      continue;
    if (!root || touches(prev, views))
      return nullptr;
  }
  return nullptr;
}

/// The constant of the fill of `fill`, when it is an arith.constant.
Value fillConstant(linalg::FillOp fill) {
  Value v = fill.getInputs()[0];
  return v.getDefiningOp<arith::ConstantOp>() ? v : Value();
}

} // namespace

linalg::FillOp fillBefore(Operation *op, Value buffer) {
  return dyn_cast_or_null<linalg::FillOp>(setterBefore(op, buffer));
}

Value constantBefore(Operation *op, Value buffer,
                     SmallVectorImpl<Operation *> &setters) {
  Operation *setter = setterBefore(op, buffer);
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(setter)) {
    Value c = fillConstant(fill);
    if (c)
      setters.push_back(fill);
    return c;
  }
  auto copy = dyn_cast_or_null<memref::CopyOp>(setter);
  if (!copy)
    return {};
  // The source: a fresh allocation that one fill writes before the copy and
  // that, until the copy, only copies read (the last layer's matmul may
  // accumulate in the shared buffer itself, after every copy from it).
  Value source = copy.getSource();
  if (!source.getDefiningOp<memref::AllocOp>())
    return {};
  llvm::DenseSet<Value> views = viewsOf(source);
  linalg::FillOp fill;
  int64_t readers = 0, later = 0;
  for (Value view : views) {
    for (Operation *user : view.getUsers()) {
      auto viewOp = dyn_cast<ViewLikeOpInterface>(user);
      if (viewOp && viewOp.getViewSource() == view)
        continue; // its users are in `views` too
      if (auto f = dyn_cast<linalg::FillOp>(user)) {
        if (fill || view != source || f->getNumResults() != 0)
          return {};
        fill = f;
        continue;
      }
      if (auto c = dyn_cast<memref::CopyOp>(user);
          c && c.getSource() == source) {
        ++readers;
        continue;
      }
      Operation *inBlock = copy->getBlock()->findAncestorOpInBlock(*user);
      if (!inBlock || !copy->isBeforeInBlock(inBlock))
        return {};
      ++later;
    }
  }
  if (!fill || fill->getBlock() != copy->getBlock() ||
      !fill->isBeforeInBlock(copy))
    return {};
  Value c = fillConstant(fill);
  if (!c)
    return {};
  setters.push_back(copy);
  if (readers == 1 && later == 0)
    setters.push_back(fill);
  return c;
}

bool untouchedBetween(Operation *from, Operation *to, Value buffer) {
  Value root = wholeAllocation(buffer);
  if (!root || from->getBlock() != to->getBlock() ||
      !from->isBeforeInBlock(to))
    return false;
  llvm::DenseSet<Value> views = viewsOf(root);
  for (Operation *op = from->getNextNode(); op != to; op = op->getNextNode())
    if (touches(op, views))
      return false;
  return true;
}

Operation *nextToucher(Operation *after, Value buffer) {
  Value root = wholeAllocation(buffer);
  if (!root)
    return nullptr;
  llvm::DenseSet<Value> views = viewsOf(root);
  for (Operation *op = after->getNextNode(); op; op = op->getNextNode())
    if (touches(op, views))
      return op;
  return nullptr;
}

void eraseDeadFill(Operation *op, Value init) {
  if (linalg::FillOp fill = fillBefore(op, init))
    fill->erase();
}

} // namespace qcc::gpu
