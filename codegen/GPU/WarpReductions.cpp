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

/// `combiner` re-created on (acc, value) in its original operand order.
Value combine(OpBuilder &b, Operation *combiner, unsigned accOperand,
              Value acc, Value value) {
  IRMapping map;
  map.map(combiner->getOperand(accOperand), acc);
  map.map(combiner->getOperand(1 - accOperand), value);
  return b.clone(*combiner, map)->getResult(0);
}

void rewrite(scf::ParallelOp par, Reduction r) {
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
  Value init = memref::LoadOp::create(b, loc, r.store.getMemRef(),
                                      r.store.getIndices());
  Value total = combine(b, r.combiner, r.accOperand, init, partial);
  memref::StoreOp::create(b, loc, total, r.store.getMemRef(),
                          r.store.getIndices());
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
    SmallVector<std::pair<scf::ParallelOp, Reduction>> work;
    for (auto par : func.getBody().getOps<scf::ParallelOp>())
      if (std::optional<Reduction> r = matchReduction(par, minElements))
        work.emplace_back(par, *r);
    for (auto &[par, r] : work)
      rewrite(par, r);
  }
};

} // namespace
