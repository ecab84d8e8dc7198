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
// that buffer's element; loops right after over the same rows that write
// only at the accumulator's indices (of it or of other fresh buffers), e.g.
// ReduceMean's division by N, run in lane 0 after its store.
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

/// Whether two scf.parallel loops have the same bounds and steps.
bool sameDomain(scf::ParallelOp a, scf::ParallelOp b) {
  if (a.getNumLoops() != b.getNumLoops())
    return false;
  auto same = [](Value x, Value y) {
    if (x == y)
      return true;
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    return cx && cy && *cx == *cy;
  };
  for (unsigned i = 0; i < a.getNumLoops(); ++i)
    if (!same(a.getLowerBound()[i], b.getLowerBound()[i]) ||
        !same(a.getUpperBound()[i], b.getUpperBound()[i]) ||
        !same(a.getStep()[i], b.getStep()[i]))
      return false;
  return true;
}

/// Whether `indices`, used in loop `other` (same domain as `par`), are the
/// accumulator's indices in `par`: its induction variables in the same
/// positions, or equal constants.
bool sameIndices(ValueRange indices, scf::ParallelOp other,
                 ValueRange accIndices, scf::ParallelOp par) {
  if (indices.size() != accIndices.size())
    return false;
  SmallVector<Value> otherIvs = llvm::to_vector(other.getInductionVars());
  SmallVector<Value> parIvs = llvm::to_vector(par.getInductionVars());
  for (auto [x, y] : llvm::zip(indices, accIndices)) {
    auto xi = llvm::find(otherIvs, x);
    auto yi = llvm::find(parIvs, y);
    bool xIv = xi != otherIvs.end(), yIv = yi != parIvs.end();
    if (xIv != yIv)
      return false;
    if (xIv) {
      if (xi - otherIvs.begin() != yi - parIvs.begin())
        return false;
      continue;
    }
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    if (!cx || !cy || *cx != *cy)
      return false;
  }
  return true;
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

/// What the accumulator holds before the reduction, when the op right
/// before `par` sets it: a fill over the same rows storing a constant at its
/// indices (returns the constant), or a copy of a whole distinct buffer the
/// reduction then overwrites entirely (returns the buffer). `setter` is that
/// op, which the fold erases.
Value initBefore(scf::ParallelOp par, Reduction r,
                 Operation *&setter) {
  Operation *prev = par->getPrevNode();
  Value acc = r.store.getMemRef();
  if (auto copy = dyn_cast_or_null<memref::CopyOp>(prev)) {
    if (copy.getTarget() != acc || copy.getSource().getType() != acc.getType() ||
        rootOf(copy.getSource()) == rootOf(acc) || !coversAccumulator(par, r))
      return {};
    setter = copy;
    return copy.getSource();
  }
  auto fill = dyn_cast_or_null<scf::ParallelOp>(prev);
  if (!fill || fill.getNumReductions() != 0 || !sameDomain(fill, par))
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

/// Parallel loops right after `par` over the same rows that run in lane 0
/// after the reduction's store: each stores once, at the accumulator's
/// indices, to the accumulator or to a fresh buffer the reduction does not
/// read; reads of any buffer written here are at those indices; other reads
/// are of buffers or arguments that are not views of one written here.
SmallVector<scf::ParallelOp> epilogueAfter(scf::ParallelOp par,
                                           Reduction r) {
  SmallVector<scf::ParallelOp> loops;
  ValueRange accIndices = r.store.getIndices();
  llvm::SmallPtrSet<Value, 4> read;  // roots the reduction loop reads
  r.loop.walk([&](memref::LoadOp load) {
    read.insert(rootOf(load.getMemRef()));
  });
  llvm::SmallPtrSet<Value, 4> written{r.store.getMemRef()};
  llvm::SmallPtrSet<Value, 4> writtenRoots{rootOf(r.store.getMemRef())};
  for (Operation *next = par->getNextNode(); next;
       next = next->getNextNode()) {
    auto loop = dyn_cast<scf::ParallelOp>(next);
    if (!loop || loop.getNumReductions() != 0 || !sameDomain(loop, par))
      break;
    memref::StoreOp store;
    bool ok = true;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        Value m = load.getMemRef();
        if (written.contains(m))
          ok &= sameIndices(load.getIndices(), loop, accIndices, par);
        else
          ok &= !writtenRoots.contains(rootOf(m)) &&
                (m.getDefiningOp<memref::AllocOp>() || isa<BlockArgument>(m));
        continue;
      }
      if (auto st = dyn_cast<memref::StoreOp>(op)) {
        ok &= !store;
        store = st;
        continue;
      }
      ok &= isPure(&op) && op.getNumRegions() == 0;
    }
    if (!ok || !store ||
        !sameIndices(store.getIndices(), loop, accIndices, par))
      break;
    Value target = store.getMemRef();
    if (!written.contains(target) &&
        (!target.getDefiningOp<memref::AllocOp>() || read.contains(target) ||
         writtenRoots.contains(target)))
      break;
    written.insert(target);
    writtenRoots.insert(target);
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
             ArrayRef<scf::ParallelOp> epilogue) {
  Location loc = par.getLoc();
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
  Value total = combine(b, r.combiner, r.accOperand, init, partial);
  memref::StoreOp::create(b, loc, total, r.store.getMemRef(),
                          r.store.getIndices());
  // The loops folded after it, on this row, in lane 0.
  SmallVector<Value> rows(body->getArguments().drop_back());
  for (scf::ParallelOp next : epilogue) {
    IRMapping map;
    SmallVector<Value> ivs = llvm::to_vector(next.getInductionVars());
    for (auto [from, to] : llvm::zip(ivs, rows))
      map.map(from, to);
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
    };
    SmallVector<Work> work;
    llvm::SmallPtrSet<Operation *, 8> taken;
    for (auto par : func.getBody().getOps<scf::ParallelOp>()) {
      std::optional<Reduction> r = matchReduction(par, minElements);
      if (!r)
        continue;
      Work w{par, *r, {}, nullptr, {}};
      w.init = initBefore(par, *r, w.setter);
      // A loop folded after one reduction is not the next one's fill.
      if (w.setter && taken.contains(w.setter)) {
        w.init = {};
        w.setter = nullptr;
      }
      w.epilogue = epilogueAfter(par, *r);
      for (scf::ParallelOp e : w.epilogue)
        taken.insert(e);
      work.push_back(std::move(w));
    }
    for (Work &w : work) {
      rewrite(w.par, w.r, w.init, w.epilogue);
      if (w.setter)
        w.setter->erase();
    }
  }
};

} // namespace
