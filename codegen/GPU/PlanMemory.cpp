//===- PlanMemory.cpp - host side check and device arena placement --------===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseMap.h"

#include <map>

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUPLANMEMORY
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;
using qcc::gpu::kArenaAlignment;

namespace {

int64_t alignUp(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

struct Interval {
  int64_t offset, size, end;
};

struct GpuPlanMemoryPass
    : public qcc::gpu::impl::GpuPlanMemoryBase<GpuPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      module.emitError("entry function '") << entry << "' not found";
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError("entry function with several blocks has no launch plan");
      return signalPassFailure();
    }
    Block &body = func.getBody().front();

    // Program position of every top-level op; the root buffer of every
    // memref value defined at the top level.
    llvm::DenseMap<Operation *, int64_t> position;
    llvm::DenseMap<Value, Value> rootOf;
    SmallVector<memref::AllocOp> allocs;
    int64_t pos = 0;
    for (Operation &op : body) {
      position[&op] = pos++;
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto type = alloc.getType();
        if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
            !alloc.getDynamicSizes().empty()) {
          alloc.emitError("device buffers need a static shape and identity "
                          "layout");
          return signalPassFailure();
        }
        rootOf[alloc.getResult()] = alloc.getResult();
        allocs.push_back(alloc);
        continue;
      }
      if (auto view = dyn_cast<ViewLikeOpInterface>(op)) {
        Value source = view.getViewSource();
        Value root = rootOf.lookup(source);
        rootOf[view->getResult(0)] = root ? root : source;
        continue;
      }
      if (isa<memref::CopyOp, gpu::LaunchFuncOp, arith::ConstantOp,
              func::ReturnOp, memref::DeallocOp>(op))
        continue;
      op.emitError("'") << op.getName()
                        << "' cannot run on the host of a GPU artifact (only "
                           "kernel launches, contiguous copies and buffers "
                           "remain there)";
      return signalPassFailure();
    }

    // Last use of each allocation, through its views.
    llvm::DenseMap<Value, int64_t> lastUse;
    for (Operation &op : body)
      for (Value operand : op.getOperands())
        if (Value root = rootOf.lookup(operand))
          lastUse[root] = std::max(lastUse.lookup(root), position[&op]);

    // First fit in program order; an interval is free once the program is
    // past its last use.
    std::map<int64_t, Interval> live; // by offset
    int64_t arenaBytes = 0;
    Builder builder(module.getContext());
    for (memref::AllocOp alloc : allocs) {
      int64_t start = position[alloc];
      for (auto it = live.begin(); it != live.end();)
        it = it->second.end < start ? live.erase(it) : std::next(it);
      MemRefType type = alloc.getType();
      int64_t bits = type.getElementTypeBitWidth();
      int64_t bytes = type.getNumElements() * (bits == 1 ? 1 : (bits + 7) / 8);
      int64_t size = alignUp(std::max<int64_t>(bytes, 1), kArenaAlignment);
      int64_t offset = 0;
      for (auto &[at, interval] : live) {
        if (at - offset >= size)
          break;
        offset = std::max(offset, at + interval.size);
      }
      int64_t end = std::max(lastUse.lookup(alloc.getResult()), start);
      live[offset] = {offset, size, end};
      arenaBytes = std::max(arenaBytes, offset + size);
      alloc->setAttr(qcc::gpu::kArenaOffsetAttrName,
                     builder.getI64IntegerAttr(offset));
    }
    module->setAttr(qcc::gpu::kArenaBytesAttrName,
                    builder.getI64IntegerAttr(arenaBytes));
  }
};

} // namespace
