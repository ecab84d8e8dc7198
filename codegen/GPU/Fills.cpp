//===- Fills.cpp - initial fills a GPU lowering makes redundant -----------===//

#include "Fills.h"

#include "qcc/Dialect/Q/IR/QOps.h"

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

/// Whether `v` is available at `op` once `hoist` moved its definition
/// there: a value defined before, or an operand-free memref.alloc or a view
/// of such a value defined between (`hoist` moves those before `op`).
bool availableAt(Value v, Operation *op, bool hoist) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != op->getBlock() || def->isBeforeInBlock(op))
    return true;
  bool movable = (isa<memref::AllocOp>(def) && def->getNumOperands() == 0) ||
                 (isa<ViewLikeOpInterface>(def) && isPure(def) &&
                  llvm::all_of(def->getOperands(), [&](Value operand) {
                    return availableAt(operand, op, hoist);
                  }));
  if (movable && hoist)
    def->moveBefore(op);
  return movable;
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

bool untouchedBetween(Operation *from, Operation *to,
                      ArrayRef<Value> buffers) {
  if (from->getBlock() != to->getBlock() || !from->isBeforeInBlock(to))
    return false;
  llvm::DenseSet<Value> views;
  for (Value buffer : buffers) {
    Value root = wholeAllocation(buffer);
    if (!root)
      return false;
    for (Value view : viewsOf(root))
      views.insert(view);
  }
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

std::optional<ResidualAdd> residualAfter(q::MatmulOp op) {
  Value output = wholeAllocation(op.getInit());
  if (!output)
    return std::nullopt;
  auto ofOutput = [&](Value v) { return wholeAllocation(v) == output; };
  linalg::GenericOp add;
  for (Operation *next = op->getNextNode(); next && !add;
       next = next->getNextNode())
    if (auto generic = dyn_cast<linalg::GenericOp>(next))
      if (llvm::any_of(generic->getOperands(), ofOutput))
        add = generic;
  if (!add || add.getNumDpsInputs() != 2 || add.getNumDpsInits() != 1 ||
      !add.hasPureBufferSemantics() ||
      add.getNumParallelLoops() != add.getNumLoops() ||
      !llvm::all_of(add.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return std::nullopt;
  Block &body = add.getRegion().front();
  auto sum = dyn_cast<arith::AddFOp>(body.front());
  if (!sum || !sum.getType().isF32() ||
      body.getTerminator()->getOperand(0) != sum.getResult() ||
      &body.front() != body.getTerminator()->getPrevNode())
    return std::nullopt;
  SmallVector<Value> args = {sum.getLhs(), sum.getRhs()};
  if (!llvm::is_contained(args, body.getArgument(0)) ||
      !llvm::is_contained(args, body.getArgument(1)) ||
      args[0] == args[1])
    return std::nullopt;
  Value a = add.getDpsInputs()[0], c = add.getDpsInputs()[1];
  Value result = add.getDpsInits()[0];
  if (!ofOutput(a) && !ofOutput(c))
    return std::nullopt;
  Value residual = ofOutput(a) ? c : a;
  Value residualAlloc = wholeAllocation(residual),
        resultAlloc = wholeAllocation(result);
  auto count = [](Value v) {
    return cast<MemRefType>(v.getType()).getNumElements();
  };
  if (!residualAlloc || !resultAlloc || residualAlloc == output ||
      resultAlloc == output || count(residual) != count(op.getInit()) ||
      count(result) != count(op.getInit()) ||
      !untouchedBetween(op, add, {output, residualAlloc, resultAlloc}))
    return std::nullopt;
  // Nothing reads the output after the add: the next op to touch it, if
  // any, overwrites all of it (bufferization gives several matmuls one
  // output buffer).
  if (Operation *next = nextToucher(add, output)) {
    Value target;
    if (auto matmul = dyn_cast<q::MatmulOp>(next))
      target = matmul.getInit();
    else if (auto fill = dyn_cast<linalg::FillOp>(next))
      target = fill.getOutputs()[0];
    if (!target || wholeAllocation(target) != output)
      return std::nullopt;
  }
  if (!availableAt(residual, op, false) || !availableAt(result, op, false))
    return std::nullopt;
  return ResidualAdd{add, residual, result};
}

void hoistResidualBuffers(const ResidualAdd &add, Operation *op) {
  availableAt(add.residual, op, true);
  availableAt(add.result, op, true);
}

} // namespace qcc::gpu
