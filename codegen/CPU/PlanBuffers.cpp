//===- PlanBuffers.cpp - one arena for the entry function's buffers -------===//
//
// After bufferization every intermediate tensor of a model is a
// memref.alloc / memref.dealloc pair in the entry function: a few hundred
// malloc calls per inference. Buffers above glibc's mmap threshold come from
// fresh mmaps and are returned at free, so every call pays a page fault per
// 4 KiB touched (MiniLM: ~2800 faults, several ms per call). This pass
// places every statically shaped top-level buffer at an offset of one arena
// allocation; buffers whose lifetimes (alloc to dealloc) overlap get
// disjoint bytes, the others share them.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"

#include "mlir/IR/Builders.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUPLANBUFFERS
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

/// One planned buffer: its allocation, its dealloc, the positions of both in
/// the entry block, its size in bytes and the offset it gets.
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t begin = 0, end = 0;
  int64_t bytes = 0;
  int64_t offset = 0;
};

static int64_t alignTo(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

/// Bytes of a static identity-layout memref of int or float elements whose
/// width is a whole number of bytes; -1 otherwise.
static int64_t staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace())
    return -1;
  Type element = type.getElementType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0)
    return -1;
  return type.getNumElements() * (element.getIntOrFloatBitWidth() / 8);
}

struct CpuPlanBuffersPass
    : public qcc::cpu::impl::CpuPlanBuffersBase<CpuPlanBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entryFn = module.lookupSymbol<func::FuncOp>(entry);
    if (!entryFn || entryFn.isExternal()) {
      module.emitError("entry function '") << entry << "' not found";
      return signalPassFailure();
    }
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
      module.emitError("qcc-cpu-plan-buffers option alignment must be a "
                       "power of two");
      return signalPassFailure();
    }
    if (!entryFn.getBody().hasOneBlock())
      return;
    Block &block = entryFn.getBody().front();

    // Positions of the top-level operations, and each allocation's dealloc.
    DenseMap<Operation *, int64_t> position;
    int64_t next = 0;
    for (Operation &op : block)
      position[&op] = next++;
    SmallVector<Buffer> buffers;
    for (Operation &op : block) {
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (!alloc || !alloc.getDynamicSizes().empty() ||
          !alloc.getSymbolOperands().empty())
        continue;
      int64_t bytes = staticBytes(alloc.getType());
      if (bytes < 0)
        continue;
      // Exactly one dealloc, in the entry block: the buffer's last use is
      // before it (the deallocation pipeline placed it).
      memref::DeallocOp dealloc;
      bool plannable = true;
      for (Operation *user : alloc->getUsers()) {
        auto d = dyn_cast<memref::DeallocOp>(user);
        if (!d)
          continue;
        if (dealloc || d->getBlock() != &block)
          plannable = false;
        dealloc = d;
      }
      if (!plannable || !dealloc)
        continue;
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.dealloc = dealloc;
      buffer.begin = position[alloc];
      buffer.end = position[dealloc];
      buffer.bytes = alignTo(std::max<int64_t>(bytes, 1), alignment);
      buffers.push_back(buffer);
    }
    if (buffers.size() < 2)
      return;

    // Largest first, each at the lowest offset free of the buffers already
    // placed whose lifetimes overlap its own.
    SmallVector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    llvm::sort(order, [](const Buffer *a, const Buffer *b) {
      return a->bytes != b->bytes ? a->bytes > b->bytes : a->begin < b->begin;
    });
    int64_t arenaBytes = 0;
    SmallVector<Buffer *> placed;
    for (Buffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Buffer *p : placed)
        if (p->begin < b->end && b->begin < p->end)
          busy.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + b->bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      b->offset = offset;
      arenaBytes = std::max(arenaBytes, offset + b->bytes);
      placed.push_back(b);
    }

    // One allocation at the top of the entry block, freed before it returns,
    // or the runtime's arena as a trailing parameter.
    OpBuilder builder(&block, block.begin());
    Location loc = entryFn.getLoc();
    auto arenaType = MemRefType::get({arenaBytes}, builder.getI8Type());
    Value arena;
    if (arenaArgument) {
      unsigned index = entryFn.getNumArguments();
      if (failed(entryFn.insertArgument(index, arenaType, {}, loc)))
        return signalPassFailure();
      arena = entryFn.getArgument(index);
      module->setAttr(qcc::cpu::kArenaBytesAttrName,
                      builder.getI64IntegerAttr(arenaBytes));
    } else {
      arena = memref::AllocOp::create(builder, loc, arenaType,
                                      builder.getI64IntegerAttr(alignment));
    }
    // The offsets, once each, right after it.
    DenseMap<int64_t, Value> offsets;
    for (Buffer &b : buffers)
      if (!offsets.count(b.offset))
        offsets[b.offset] = arith::ConstantIndexOp::create(builder, loc,
                                                           b.offset);
    if (!arenaArgument) {
      builder.setInsertionPoint(block.getTerminator());
      memref::DeallocOp::create(builder, loc, arena);
    }
    for (Buffer &b : buffers) {
      builder.setInsertionPoint(b.alloc);
      Value offset = offsets[b.offset];
      Value view = memref::ViewOp::create(builder, b.alloc.getLoc(),
                                          b.alloc.getType(), arena, offset,
                                          ValueRange{});
      b.dealloc.erase();
      b.alloc.getResult().replaceAllUsesWith(view);
      b.alloc.erase();
    }
    numPlanned += buffers.size();
    arenaSize = arenaBytes;
  }
};

} // namespace
