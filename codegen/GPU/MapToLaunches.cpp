//===- MapToLaunches.cpp - loops of the entry function -> gpu.launch ------===//
//
// After linalg is lowered to loops, every computation of the entry function
// is a top-level scf.parallel (one per linalg op with parallel dimensions)
// or a run of sequential ops (reductions without parallel dimensions, 0-d
// loads and stores). Each becomes one gpu.launch; the host keeps only
// buffers, views, contiguous copies and the launches.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/Utils/GPUUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUMAPTOLAUNCHES
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

/// Ops that stay on the host: they allocate, describe or copy buffers.
bool isHostOp(Operation *op) {
  return isa<memref::AllocOp, memref::DeallocOp, memref::CopyOp,
             arith::ConstantOp, func::ReturnOp, gpu::LaunchOp,
             memref::CastOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::ReinterpretCastOp, memref::SubViewOp,
             ViewLikeOpInterface>(op);
}

/// What may be cloned into a launch instead of being passed to it.
bool isSinkable(Operation *op) {
  return op->getNumRegions() == 0 &&
         (isPure(op) || isa<ViewLikeOpInterface>(op)) &&
         !op->hasTrait<OpTrait::IsTerminator>() &&
         !isa<memref::AllocOp, memref::GetGlobalOp>(op);
}

/// A short identifier from the op's location (the ONNX node name).
std::string nameFromLoc(Location loc) {
  std::string name;
  loc->walk([&](Location inner) {
    if (auto named = dyn_cast<NameLoc>(inner)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  std::string id;
  for (char c : name) {
    if (id.size() >= 40)
      break;
    id.push_back(llvm::isAlnum(c) ? c : '_');
  }
  return id;
}

struct GpuMapToLaunchesPass
    : public qcc::gpu::impl::GpuMapToLaunchesBase<GpuMapToLaunchesPass> {
  using Base::Base;

  gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, int64_t grid,
                             int64_t block) {
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value one = cst(1);
    auto launch =
        gpu::LaunchOp::create(b, loc, cst(grid), one, one, cst(block), one, one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
    return launch;
  }

  /// One thread per point of the parallel iteration space.
  LogicalResult mapParallel(scf::ParallelOp par) {
    if (par.getNumReductions() != 0)
      return par.emitError("parallel loop with reductions cannot be mapped "
                           "to a GPU launch");
    SmallVector<int64_t> lbs, steps, counts;
    int64_t total = 1;
    for (auto [lb, ub, step] : llvm::zip(par.getLowerBound(),
                                         par.getUpperBound(), par.getStep())) {
      std::optional<int64_t> l = getConstantIntValue(lb),
                             u = getConstantIntValue(ub),
                             s = getConstantIntValue(step);
      if (!l || !u || !s || *s <= 0)
        return par.emitError("parallel loop without constant bounds cannot "
                             "be mapped to a GPU launch");
      lbs.push_back(*l);
      steps.push_back(*s);
      counts.push_back(*u > *l ? (*u - *l + *s - 1) / *s : 0);
      total *= counts.back();
    }
    if (total == 0) {
      par.erase();
      return success();
    }
    Location loc = par.getLoc();
    int64_t block = std::min<int64_t>(blockSize, total);
    int64_t grid = (total + block - 1) / block;
    OpBuilder b(par);
    gpu::LaunchOp launch = createLaunch(b, loc, grid, block);
    b.setInsertionPointToStart(&launch.getBody().front());
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value id = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(block)),
        launch.getThreadIds().x);
    if (total % block != 0) {
      Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            id, cst(total));
      auto guard = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
      b.setInsertionPointToStart(guard.thenBlock());
    }
    IRMapping map;
    Value rest = id;
    for (int64_t d = counts.size() - 1; d >= 0; --d) {
      Value index = rest;
      if (d > 0) {
        index = arith::RemUIOp::create(b, loc, rest, cst(counts[d]));
        rest = arith::DivUIOp::create(b, loc, rest, cst(counts[d]));
      }
      if (steps[d] != 1)
        index = arith::MulIOp::create(b, loc, index, cst(steps[d]));
      if (lbs[d] != 0)
        index = arith::AddIOp::create(b, loc, index, cst(lbs[d]));
      map.map(par.getInductionVars()[d], index);
    }
    for (Operation &op : par.getBody()->without_terminator())
      b.clone(op, map);
    par.erase();
    return success();
  }

  /// A run of sequential top-level ops on a single thread.
  LogicalResult mapSerial(ArrayRef<Operation *> ops) {
    llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
    for (Operation *op : ops)
      for (Operation *user : op->getUsers())
        if (!inGroup.contains(op->getBlock()->findAncestorOpInBlock(*user)))
          return op->emitError("'")
                 << op->getName()
                 << "' computes a value the host would need; only buffers "
                    "can pass between GPU launches";
    OpBuilder b(ops.front());
    gpu::LaunchOp launch = createLaunch(b, ops.front()->getLoc(), 1, 1);
    Operation *terminator = launch.getBody().front().getTerminator();
    for (Operation *op : ops)
      op->moveBefore(terminator);
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitError("entry function with several blocks cannot be mapped "
                     "to GPU launches");
      return signalPassFailure();
    }
    Block &body = func.getBody().front();

    // Split the top level into parallel loops and runs of serial ops. Pure
    // ops that depend on nothing computed on the device stay on the host
    // (they are sunk into the launches that use them).
    SmallVector<SmallVector<Operation *>> serialRuns;
    SmallVector<scf::ParallelOp> parallels;
    SmallVector<Operation *> current;
    llvm::SmallPtrSet<Operation *, 16> deviceOps;
    auto close = [&] {
      if (!current.empty())
        serialRuns.push_back(std::move(current));
      current.clear();
    };
    for (Operation &op : body) {
      if (auto par = dyn_cast<scf::ParallelOp>(op)) {
        close();
        parallels.push_back(par);
        continue;
      }
      bool dependsOnDevice = llvm::any_of(op.getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def && deviceOps.contains(def);
      });
      if (isHostOp(&op) && !dependsOnDevice) {
        close();
        continue;
      }
      if (isSinkable(&op) && !dependsOnDevice)
        continue;
      current.push_back(&op);
      deviceOps.insert(&op);
    }
    close();

    for (scf::ParallelOp par : parallels)
      if (failed(mapParallel(par)))
        return signalPassFailure();
    for (ArrayRef<Operation *> run : serialRuns)
      if (failed(mapSerial(run)))
        return signalPassFailure();

    // Name every launch (also those created by earlier passes) in program
    // order, sink what it uses, and drop host ops nothing uses any more.
    MLIRContext *ctx = &getContext();
    int64_t index = 0;
    for (auto launch : llvm::to_vector(body.getOps<gpu::LaunchOp>())) {
      if (failed(sinkOperationsIntoLaunchOp(launch, isSinkable))) {
        launch.emitError("could not sink values into the launch");
        return signalPassFailure();
      }
      std::string name = "k" + std::to_string(index++);
      std::string suffix = nameFromLoc(launch.getLoc());
      if (!suffix.empty())
        name += "_" + suffix;
      launch.setModuleAttr(
          FlatSymbolRefAttr::get(ctx, qcc::gpu::kKernelModuleName));
      launch.setFunctionAttr(FlatSymbolRefAttr::get(ctx, name));
    }
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (op.use_empty() && isSinkable(&op))
        op.erase();
  }
};

} // namespace
