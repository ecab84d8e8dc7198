//===- WarpReductions.cpp - row reductions on a warp per row ---------------===//
//
// linalg reductions lower to an scf.parallel over the kept dimensions whose
// body is one sequential scf.for that loads the accumulator, combines and
// stores it back every step. qcc-gpu-map-to-launches then gives each row one
// thread: a LayerNorm row of 384 floats is 384 dependent load-add-store steps
// on one thread, with 128 threads in the whole launch. Here such a loop gets
// a 32-wide lane dimension appended to the parallel loop (the fastest-varying
// one, so the 32 lanes of a row are one warp): lane l folds elements l,
// l + 32, ... in a register starting from the combiner's identity, a
// butterfly of gpu.shuffle xor combines the 32 partial values, and lane 0
// combines the result with the accumulator's initial value and stores it
// once. The float sum is reassociated (as the CPU path's reductions are).
//
// Neighbours fold into the same launch (each saves a launch or a copy; the
// numbers stay the same): the accumulator's initial value, when a fill (a
// loop over the same rows storing a constant at the accumulator's indices)
// or a copy of a whole other buffer comes right before, is that constant or
// that buffer's element (the constant when that buffer is a fresh one only
// filled with a constant and copied from: the shared zero accumulator of
// Softmax, LayerNorm and RMSNorm; the fill goes with its last copy); loops
// right after over the same rows (unit dimensions aside) that write one
// element per row of the accumulator or of fresh buffers, and read what they
// wrote at that element (directly or through an expand_shape adding unit
// dimensions), e.g. ReduceMean's division by N and RMSNorm's
// 1 / sqrt(mean + eps) on the [.., 1] view, run in lane 0 after its store
// (fresh buffers and views allocated between them move before the
// reduction).
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallBitVector.h"

#include <limits>

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUWARPREDUCTIONS
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

constexpr int64_t kWarp = 32;

/// The identity of a supported combiner on a 32-bit type, else null.
TypedAttr identityOf(Operation *combiner) {
  Type type = combiner->getResult(0).getType();
  Builder b(combiner->getContext());
  if (type.isF32()) {
    float inf = std::numeric_limits<float>::infinity();
    if (isa<arith::AddFOp>(combiner))
      return b.getF32FloatAttr(0.0f);
    if (isa<arith::MulFOp>(combiner))
      return b.getF32FloatAttr(1.0f);
    if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner))
      return b.getF32FloatAttr(-inf);
    if (isa<arith::MinimumFOp, arith::MinNumFOp>(combiner))
      return b.getF32FloatAttr(inf);
    return {};
  }
  if (type.isInteger(32)) {
    if (isa<arith::AddIOp>(combiner))
      return b.getI32IntegerAttr(0);
    if (isa<arith::MaxSIOp>(combiner))
      return b.getI32IntegerAttr(std::numeric_limits<int32_t>::min());
    if (isa<arith::MinSIOp>(combiner))
      return b.getI32IntegerAttr(std::numeric_limits<int32_t>::max());
  }
  return {};
}

/// A reduction loop this pass rewrites: `loop` loads `load` (the
/// accumulator, at indices defined outside the loop), combines it with a
/// value computed from other reads in `combiner`, and stores the result to
/// the same place in `store`; nothing else in the body writes memory.
struct Reduction {
  scf::ForOp loop;
  memref::LoadOp load;
  Operation *combiner = nullptr;
  memref::StoreOp store;
  unsigned accOperand = 0; // which combiner operand is the accumulator
  int64_t trips = 0;
};

std::optional<Reduction> matchReduction(scf::ParallelOp par,
                                        int64_t minElements) {
  if (par.getNumReductions() != 0)
    return std::nullopt;
  scf::ForOp loop;
  for (Operation &op : par.getBody()->without_terminator()) {
    if (auto f = dyn_cast<scf::ForOp>(op)) {
      if (loop)
        return std::nullopt; // several loops
      loop = f;
      continue;
    }
    if (!isPure(&op))
      return std::nullopt;
  }
  if (!loop || loop.getNumResults() != 0)
    return std::nullopt;
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()),
                         ub = getConstantIntValue(loop.getUpperBound()),
                         step = getConstantIntValue(loop.getStep());
  if (!lb || !ub || !step || *step <= 0 || *ub <= *lb)
    return std::nullopt;
  Reduction r;
  r.loop = loop;
  r.trips = (*ub - *lb + *step - 1) / *step;
  if (r.trips < minElements)
    return std::nullopt;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      if (r.store)
        return std::nullopt;
      r.store = store;
      continue;
    }
    if (isa<memref::LoadOp>(op))
      continue;
    if (!isPure(&op))
      return std::nullopt;
  }
  if (!r.store)
    return std::nullopt;
  auto definedOutside = [&](Value v) {
    return !loop->isAncestor(v.getParentBlock()->getParentOp()) &&
           v.getParentBlock() != loop.getBody();
  };
  if (!llvm::all_of(r.store.getIndices(), definedOutside))
    return std::nullopt;
  Operation *combiner = r.store.getValueToStore().getDefiningOp();
  if (!combiner || combiner->getBlock() != loop.getBody() ||
      combiner->getNumOperands() != 2 || !combiner->hasOneUse() ||
      !identityOf(combiner))
    return std::nullopt;
  for (unsigned i = 0; i < 2; ++i) {
    auto load = combiner->getOperand(i).getDefiningOp<memref::LoadOp>();
    if (load && load->getBlock() == loop.getBody() &&
        load.getMemRef() == r.store.getMemRef() &&
        llvm::equal(load.getIndices(), r.store.getIndices()) && load->hasOneUse()) {
      r.load = load;
      r.accOperand = i;
    }
  }
  if (!r.load)
    return std::nullopt;
  // No other read of the accumulator's buffer: its partial values are no
  // longer in memory.
  for (Operation &op : loop.getBody()->without_terminator())
    if (auto load = dyn_cast<memref::LoadOp>(op))
      if (load != r.load && load.getMemRef() == r.store.getMemRef())
        return std::nullopt;
  r.combiner = combiner;
  return r;
}

/// The buffer a memref value is a view of.
Value rootOf(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether dimension `d` of `par` runs once (0 to 1 step 1).
bool isUnitDim(scf::ParallelOp par, unsigned d) {
  std::optional<int64_t> lb = getConstantIntValue(par.getLowerBound()[d]),
                         ub = getConstantIntValue(par.getUpperBound()[d]),
                         st = getConstantIntValue(par.getStep()[d]);
  return lb && ub && st && *lb == 0 && *ub == 1 && *st == 1;
}

/// The dimensions of `par` that run more than once ("rows"), in order.
SmallVector<unsigned> rowDims(scf::ParallelOp par) {
  SmallVector<unsigned> dims;
  for (unsigned d = 0; d < par.getNumLoops(); ++d)
    if (!isUnitDim(par, d))
      dims.push_back(d);
  return dims;
}

/// Whether two scf.parallel loops run over the same points once their unit
/// dimensions are left out: same bounds and steps of the other dimensions,
/// in order.
bool sameRows(scf::ParallelOp a, scf::ParallelOp b) {
  SmallVector<unsigned> da = rowDims(a), db = rowDims(b);
  if (da.size() != db.size())
    return false;
  auto same = [](Value x, Value y) {
    if (x == y)
      return true;
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    return cx && cy && *cx == *cy;
  };
  for (auto [x, y] : llvm::zip(da, db))
    if (!same(a.getLowerBound()[x], b.getLowerBound()[y]) ||
        !same(a.getUpperBound()[x], b.getUpperBound()[y]) ||
        !same(a.getStep()[x], b.getStep()[y]))
      return false;
  return true;
}

/// An index of a load or store in a loop, in terms every loop over the same
/// rows shares: the induction variable of the loop's `row`-th row dimension
/// (row >= 0), or the constant `value` (a unit dimension's variable is 0).
struct RowIndex {
  int64_t row = -1;
  int64_t value = 0;
  bool operator==(const RowIndex &o) const {
    return row == o.row && (row >= 0 || value == o.value);
  }
};
using RowIndices = SmallVector<RowIndex, 4>;

std::optional<RowIndices> rowIndices(ValueRange indices, scf::ParallelOp loop) {
  SmallVector<unsigned> rows = rowDims(loop);
  RowIndices out;
  for (Value v : indices) {
    auto ivs = loop.getInductionVars();
    auto it = llvm::find(ivs, v);
    if (it != ivs.end()) {
      unsigned d = it - ivs.begin();
      auto r = llvm::find(rows, d);
      out.push_back(r == rows.end() ? RowIndex{-1, 0}
                                    : RowIndex{r - rows.begin(), 0});
      continue;
    }
    std::optional<int64_t> c = getConstantIntValue(v);
    if (!c)
      return std::nullopt;
    out.push_back(RowIndex{-1, *c});
  }
  return out;
}

/// Whether `indices`, used in loop `other` (over the same rows as `par`),
/// name the same element as `accIndices` in `par`.
bool sameIndices(ValueRange indices, scf::ParallelOp other,
                 ValueRange accIndices, scf::ParallelOp par) {
  std::optional<RowIndices> x = rowIndices(indices, other),
                            y = rowIndices(accIndices, par);
  return x && y && *x == *y;
}

/// The indices into the source of `view` (an expand_shape) that a load of
/// `view` at `indices` in `loop` reads, when each reassociation group has at
/// most one dimension longer than 1 (the others are indexed at 0).
std::optional<RowIndices> collapsedRowIndices(memref::ExpandShapeOp view,
                                              ValueRange indices,
                                              scf::ParallelOp loop) {
  std::optional<RowIndices> idx = rowIndices(indices, loop);
  ArrayRef<int64_t> shape = view.getResultType().getShape();
  if (!idx)
    return std::nullopt;
  RowIndices out;
  for (const ReassociationIndices &group : view.getReassociationIndices()) {
    std::optional<RowIndex> kept;
    for (int64_t d : group) {
      if (shape[d] == 1) {
        if (!((*idx)[d] == RowIndex{-1, 0}))
          return std::nullopt;
        continue;
      }
      if (kept || ShapedType::isDynamic(shape[d]))
        return std::nullopt;
      kept = (*idx)[d];
    }
    out.push_back(kept ? *kept : RowIndex{-1, 0});
  }
  return out;
}

/// Whether the reduction stores every element of its accumulator: indices
/// = the loop's induction variables in order, over the whole shape.
bool coversAccumulator(scf::ParallelOp par, Reduction r) {
  auto type = dyn_cast<MemRefType>(r.store.getMemRef().getType());
  SmallVector<Value> ivs = llvm::to_vector(par.getInductionVars());
  if (!type || !type.hasStaticShape() || type.getRank() != int64_t(ivs.size()))
    return false;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    std::optional<int64_t> lb = getConstantIntValue(par.getLowerBound()[d]),
                           ub = getConstantIntValue(par.getUpperBound()[d]),
                           st = getConstantIntValue(par.getStep()[d]);
    if (r.store.getIndices()[d] != ivs[d] || !lb || !ub || !st || *lb != 0 ||
        *st != 1 || *ub != type.getDimSize(d))
      return false;
  }
  return true;
}

/// The constant every element of `buffer` holds at `copy`, when `buffer`
/// is a fresh allocation whose only writer is `fill` (a loop before `copy`
/// storing one constant at its induction variables over its whole static
/// shape) and whose other users are copies out of it.
Value filledConstant(Value buffer, memref::CopyOp copy,
                     scf::ParallelOp &fill) {
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().hasStaticShape())
    return {};
  memref::StoreOp store;
  for (Operation *user : buffer.getUsers()) {
    if (auto c = dyn_cast<memref::CopyOp>(user)) {
      if (c.getSource() != buffer)
        return {};
      continue;
    }
    auto s = dyn_cast<memref::StoreOp>(user);
    if (!s || store)
      return {};
    store = s;
  }
  if (!store || store.getMemRef() != buffer ||
      !matchPattern(store.getValueToStore(), m_Constant()))
    return {};
  fill = dyn_cast<scf::ParallelOp>(store->getParentOp());
  if (!fill || fill.getNumReductions() != 0 ||
      fill->getBlock() != copy->getBlock() || !fill->isBeforeInBlock(copy) ||
      &fill.getBody()->front() != store.getOperation() ||
      store->getNextNode() != fill.getBody()->getTerminator())
    return {};
  ArrayRef<int64_t> shape = alloc.getType().getShape();
  if (fill.getNumLoops() != shape.size())
    return {};
  for (unsigned d = 0; d < shape.size(); ++d) {
    std::optional<int64_t> lb = getConstantIntValue(fill.getLowerBound()[d]),
                           ub = getConstantIntValue(fill.getUpperBound()[d]),
                           st = getConstantIntValue(fill.getStep()[d]);
    if (store.getIndices()[d] != fill.getInductionVars()[d] || !lb || !ub ||
        !st || *lb != 0 || *st != 1 || *ub != shape[d])
      return {};
  }
  return store.getValueToStore();
}

/// What the accumulator holds before the reduction, when the op right
/// before `par` sets it: a fill over the same rows storing a constant at its
/// indices (returns the constant), or a copy of a whole distinct buffer the
/// reduction then overwrites entirely (returns the buffer, or the constant
/// the buffer was filled with: `sharedFill` is then that buffer's fill,
/// which goes with its last copy). `setter` is the op the fold erases.
Value initBefore(scf::ParallelOp par, Reduction r, Operation *&setter,
                 scf::ParallelOp &sharedFill) {
  Operation *prev = par->getPrevNode();
  Value acc = r.store.getMemRef();
  if (auto copy = dyn_cast_or_null<memref::CopyOp>(prev)) {
    if (copy.getTarget() != acc || copy.getSource().getType() != acc.getType() ||
        rootOf(copy.getSource()) == rootOf(acc) || !coversAccumulator(par, r))
      return {};
    setter = copy;
    if (Value c = filledConstant(copy.getSource(), copy, sharedFill))
      return c;
    return copy.getSource();
  }
  auto fill = dyn_cast_or_null<scf::ParallelOp>(prev);
  if (!fill || fill.getNumReductions() != 0 || !sameRows(fill, par))
    return {};
  Block *body = fill.getBody();
  auto store = dyn_cast<memref::StoreOp>(body->front());
  if (!store || &body->front() != body->getTerminator()->getPrevNode() ||
      store.getMemRef() != acc ||
      !sameIndices(store.getIndices(), fill, r.store.getIndices(), par) ||
      !matchPattern(store.getValueToStore(), m_Constant()))
    return {};
  setter = fill;
  return store.getValueToStore();
}

/// Ops between folded loops that move before the reduction: allocations of
/// a static shape and views (their operands come from before the reduction
/// or from ops moved with them).
bool canHoist(Operation *op, scf::ParallelOp par,
              const llvm::SmallPtrSetImpl<Operation *> &moved) {
  if (auto alloc = dyn_cast<memref::AllocOp>(op))
    return op->getNumOperands() == 0 && alloc.getType().hasStaticShape();
  if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp, arith::ConstantOp>(
          op))
    return false;
  for (Value v : op->getOperands()) {
    Operation *def = v.getDefiningOp();
    if (def && def->getBlock() == par->getBlock() &&
        par->isBeforeInBlock(def) && !moved.contains(def))
      return false;
  }
  return true;
}

/// Parallel loops right after `par` over the same rows that run in lane 0
/// after the reduction's store: each stores once per row, to the
/// accumulator at its indices or to a fresh buffer the reduction does not
/// read, at indices that name one element per row; reads of any buffer
/// written here are of the element this row wrote (directly or through an
/// expand_shape); other reads are of buffers or arguments that are not
/// views of one written here. `hoist` receives the allocations and views
/// between them, which move before the reduction.
SmallVector<scf::ParallelOp> epilogueAfter(scf::ParallelOp par, Reduction r,
                                           SmallVector<Operation *> &hoist) {
  SmallVector<scf::ParallelOp> loops;
  llvm::SmallPtrSet<Value, 4> read;  // roots the reduction loop reads
  r.loop.walk([&](memref::LoadOp load) {
    read.insert(rootOf(load.getMemRef()));
  });
  // Written buffers and the element of each that a row writes.
  std::optional<RowIndices> accAt = rowIndices(r.store.getIndices(), par);
  if (!accAt)
    return loops;
  llvm::DenseMap<Value, RowIndices> written;
  written[r.store.getMemRef()] = *accAt;
  llvm::SmallPtrSet<Value, 4> writtenRoots{rootOf(r.store.getMemRef())};
  SmallVector<Operation *> pending;
  llvm::SmallPtrSet<Operation *, 8> moved;
  unsigned numRows = rowDims(par).size();
  for (Operation *next = par->getNextNode(); next;
       next = next->getNextNode()) {
    if (canHoist(next, par, moved)) {
      pending.push_back(next);
      moved.insert(next);
      continue;
    }
    auto loop = dyn_cast<scf::ParallelOp>(next);
    if (!loop || loop.getNumReductions() != 0 || !sameRows(loop, par))
      break;
    memref::StoreOp store;
    bool ok = true;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        Value m = load.getMemRef();
        auto view = m.getDefiningOp<memref::ExpandShapeOp>();
        if (written.count(m)) {
          std::optional<RowIndices> at = rowIndices(load.getIndices(), loop);
          ok &= at && *at == written[m];
        } else if (view && written.count(view.getSrc())) {
          std::optional<RowIndices> at =
              collapsedRowIndices(view, load.getIndices(), loop);
          ok &= at && *at == written[view.getSrc()];
        } else {
          ok &= !writtenRoots.contains(rootOf(m)) &&
                (m.getDefiningOp<memref::AllocOp>() || isa<BlockArgument>(m));
        }
        continue;
      }
      if (auto st = dyn_cast<memref::StoreOp>(op)) {
        ok &= !store;
        store = st;
        continue;
      }
      ok &= isPure(&op) && op.getNumRegions() == 0;
    }
    if (!ok || !store)
      break;
    std::optional<RowIndices> at = rowIndices(store.getIndices(), loop);
    if (!at)
      break;
    Value target = store.getMemRef();
    if (written.count(target)) {
      if (!(*at == written[target]))
        break;
    } else {
      // A fresh buffer: one element per row (every row dimension once).
      if (!target.getDefiningOp<memref::AllocOp>() || read.contains(target) ||
          writtenRoots.contains(target))
        break;
      llvm::SmallBitVector seen(numRows);
      for (const RowIndex &i : *at)
        if (i.row >= 0) {
          if (seen.test(i.row))
            ok = false;
          seen.set(i.row);
        }
      if (!ok || !seen.all())
        break;
      written[target] = *at;
      writtenRoots.insert(target);
    }
    hoist.append(pending.begin(), pending.end());
    pending.clear();
    loops.push_back(loop);
  }
  return loops;
}

/// `combiner` re-created on (acc, value) in its original operand order.
Value combine(OpBuilder &b, Operation *combiner, unsigned accOperand,
              Value acc, Value value) {
  IRMapping map;
  map.map(combiner->getOperand(accOperand), acc);
  map.map(combiner->getOperand(1 - accOperand), value);
  return b.clone(*combiner, map)->getResult(0);
}

void rewrite(scf::ParallelOp par, Reduction r, Value init,
             ArrayRef<scf::ParallelOp> epilogue, ArrayRef<Operation *> hoist) {
  Location loc = par.getLoc();
  for (Operation *op : hoist)
    op->moveBefore(par);
  OpBuilder b(par);
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  SmallVector<Value> lbs(par.getLowerBound()), ubs(par.getUpperBound()),
      steps(par.getStep());
  lbs.push_back(cst(0));
  ubs.push_back(cst(kWarp));
  steps.push_back(cst(1));
  auto wide = scf::ParallelOp::create(b, loc, lbs, ubs, steps);
  Block *body = wide.getBody();
  Value lane = body->getArgument(body->getNumArguments() - 1);

  // The old body moves over; its induction variables become the new ones.
  Block *old = par.getBody();
  for (auto [from, to] :
       llvm::zip(old->getArguments(), body->getArguments().drop_back()))
    from.replaceAllUsesWith(to);
  body->getOperations().splice(body->getTerminator()->getIterator(),
                               old->getOperations(), old->begin(),
                               old->getTerminator()->getIterator());
  par.erase();

  // lane l: elements lb + l*step, lb + (l+32)*step, ... into a register.
  scf::ForOp loop = r.loop;
  b.setInsertionPoint(loop);
  Value step = loop.getStep();
  Value start = arith::AddIOp::create(
      b, loc, loop.getLowerBound(), arith::MulIOp::create(b, loc, lane, step));
  Value wideStep = arith::MulIOp::create(b, loc, step, cst(kWarp));
  Value identity = arith::ConstantOp::create(b, loc, identityOf(r.combiner));
  auto lanes = scf::ForOp::create(b, loc, start, loop.getUpperBound(),
                                  wideStep, ValueRange{identity});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(lanes.getBody());
    IRMapping map;
    map.map(loop.getInductionVar(), lanes.getInductionVar());
    map.map(r.load.getResult(), lanes.getRegionIterArgs()[0]);
    for (Operation &op : loop.getBody()->without_terminator())
      if (&op != r.load.getOperation() && &op != r.store.getOperation())
        b.clone(op, map);
    // (scf::ForOp::create with iter_args and no body builder leaves the
    // block without a terminator.)
    scf::YieldOp::create(b, loc, map.lookup(r.combiner->getResult(0)));
  }

  // Butterfly across the warp: every lane ends with the whole row's value.
  Value partial = lanes.getResult(0);
  auto i32 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, v, 32);
  };
  for (int64_t offset = kWarp / 2; offset > 0; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, loc, partial, i32(offset),
                                          i32(kWarp), gpu::ShuffleMode::XOR);
    partial = combine(b, r.combiner, r.accOperand, partial,
                      shuffle.getShuffleResult());
  }
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                      cst(0));
  auto only = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  b.setInsertionPointToStart(only.thenBlock());
  // The initial value: the accumulator's, or what set it right before.
  Value source = init && isa<MemRefType>(init.getType()) ? init
                                                         : r.store.getMemRef();
  if (!init || source == init)
    init = memref::LoadOp::create(b, loc, source, r.store.getIndices());
  else if (Operation *def = init.getDefiningOp();
           def && isa_and_nonnull<scf::ParallelOp>(def->getParentOp()))
    init = b.clone(*def)->getResult(0); // defined in a fill that goes
  Value total = combine(b, r.combiner, r.accOperand, init, partial);
  memref::StoreOp::create(b, loc, total, r.store.getMemRef(),
                          r.store.getIndices());
  // The loops folded after it, on this row, in lane 0.
  SmallVector<Value> rows;
  for (unsigned d : rowDims(wide))
    if (d + 1 < wide.getNumLoops())
      rows.push_back(body->getArgument(d));
  Value zero;
  for (scf::ParallelOp next : epilogue) {
    IRMapping map;
    SmallVector<unsigned> nextRows = rowDims(next);
    for (unsigned d = 0; d < next.getNumLoops(); ++d) {
      auto it = llvm::find(nextRows, d);
      if (it != nextRows.end()) {
        map.map(next.getInductionVars()[d], rows[it - nextRows.begin()]);
        continue;
      }
      if (!zero)
        zero = cst(0);
      map.map(next.getInductionVars()[d], zero);
    }
    for (Operation &op : next.getBody()->without_terminator())
      b.clone(op, map);
    next.erase();
  }
  loop.erase();
}

struct GpuWarpReductionsPass
    : public qcc::gpu::impl::GpuWarpReductionsBase<GpuWarpReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (blockSize <= 0 || blockSize % kWarp != 0) {
      func.emitError("qcc-gpu-warp-reductions: block-size must be a positive "
                     "multiple of 32 (a warp must not span two rows), got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    if (minElements < 1) {
      func.emitError("qcc-gpu-warp-reductions: min-elements must be at "
                     "least 1, got ")
          << static_cast<int64_t>(minElements);
      return signalPassFailure();
    }
    if (func.isExternal())
      return;
    struct Work {
      scf::ParallelOp par;
      Reduction r;
      Value init;
      Operation *setter = nullptr;
      SmallVector<scf::ParallelOp> epilogue;
      SmallVector<Operation *> hoist;
    };
    SmallVector<Work> work;
    llvm::SmallPtrSet<Operation *, 8> taken;
    llvm::SetVector<Operation *> sharedFills;
    for (auto par : func.getBody().getOps<scf::ParallelOp>()) {
      std::optional<Reduction> r = matchReduction(par, minElements);
      if (!r)
        continue;
      Work w{par, *r, {}, nullptr, {}, {}};
      scf::ParallelOp fill;
      w.init = initBefore(par, *r, w.setter, fill);
      // A loop folded after one reduction is not the next one's fill.
      if ((w.setter && taken.contains(w.setter)) ||
          (fill && taken.contains(fill))) {
        w.init = {};
        w.setter = nullptr;
      } else if (fill) {
        sharedFills.insert(fill);
      }
      w.epilogue = epilogueAfter(par, *r, w.hoist);
      for (scf::ParallelOp e : w.epilogue)
        taken.insert(e);
      work.push_back(std::move(w));
    }
    for (Work &w : work) {
      rewrite(w.par, w.r, w.init, w.epilogue, w.hoist);
      if (w.setter)
        w.setter->erase();
    }
    // A fill whose buffer no copy reads any more goes with it.
    for (Operation *fill : sharedFills) {
      auto store = cast<memref::StoreOp>(
          cast<scf::ParallelOp>(fill).getBody()->front());
      Value buffer = store.getMemRef();
      if (!llvm::hasSingleElement(buffer.getUsers()))
        continue;
      Operation *alloc = buffer.getDefiningOp();
      fill->erase();
      alloc->erase();
    }
  }
};

} // namespace
