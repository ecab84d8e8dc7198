//===- WgmmaQMatmul.cpp - W8A8 GEMM main loop on wgmma (sm_90a) -----------===//
//
// The ring holds, per stage, the A tile [bm][64] and the B tile [bn][64]
// (K-major, one 64-byte row per A row and per weight column) in the layout of
// the 64-byte swizzle mode: in each 512-byte atom of 8 rows, 16-byte chunk c
// of row r sits at chunk c ^ ((r >> 1) & 3), which is address bits [4, 6)
// XORed with bits [7, 9) once the stage is 512-byte aligned. A matrix
// descriptor for such an operand holds the start address >> 4 (bits 0-13),
// the stride between 8-row atoms (512 bytes >> 4, bits 32-45) and the
// swizzle mode (2 = 64 bytes, bits 62-63); the leading offset is unused in
// swizzled K-major layouts. The second k32 step of a stage starts 32 bytes
// into the rows, inside the swizzle atom.
//
// Pipeline: the quantization kernel writes A in the ring's tile layout, so
// each stage is one cp.async.bulk of the A tile and one of the B tile,
// completing on the stage's `full` mbarrier (armed with the stage's byte
// count); every consumer thread waits on the mbarrier phase. Bulk copies and
// wgmma both run in the async proxy, so no proxy fence is needed.
// - 128x256: thread 0 issues the copies; the block barrier at the top of
//   each iteration shows every warpgroup past its wait_group 1.
// - 128x64 / 128x128 (`producer`): lane 0 of a ninth warp issues them, up
//   to `stages` K tiles ahead; after its wait_group 1 each consumer warp
//   arrives on the previous slot's `empty` mbarrier (count: the consumer
//   warps), which the producer waits on before refilling the slot. No block
//   barrier runs in the K loop.
// One wgmma group per stage stays in flight, so a slot is refilled after
// the wgmma that read it completed (the previous iteration's wait_group 1).
// (A cp.async ring of 12 stages for 128x128, chosen by no tile since
// session 9, raced on the 512x1024x4096 check: removed.)
//
// Split-K (`splitK` > 1): the blocks of one output tile (grid z) each run
// 1 / splitK of the K loop, store their int32 sums in a global slot and
// count themselves on the tile's counter; the last one adds the other
// slots and runs the epilogue (emitSplitKReduce).
//===----------------------------------------------------------------------===//

#include "WgmmaQMatmul.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>

using namespace mlir;

namespace {

/// Integer constants and arithmetic at `b`'s insertion point.
struct IntBuilder {
  OpBuilder &b;
  Location loc;
  Value c64(int64_t v) const {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value c32(int32_t v) const {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value add(Value x, Value y) const {
    return arith::AddIOp::create(b, loc, x, y);
  }
  Value mulc(Value x, int64_t y) const {
    return arith::MulIOp::create(b, loc, x, c64(y));
  }
};

} // namespace

namespace qcc::gpu {

std::optional<WgmmaTile> chooseWgmmaTile(int64_t m, int64_t n, int64_t kTiles,
                                         int64_t forceBn,
                                         int64_t forceSplitK) {
  // Short K loops stay on mma.sync too: SmolLM2's LM head at sequence 128
  // (128 x 576 x 49152, 9 K tiles, 192 blocks of 128x256) took 0.0389 ms on
  // wgmma against 0.0296 on mma.sync (H100, same run, 3 rounds of 50 calls).
  constexpr int64_t kMinKTiles = 16;
  if (kTiles < kMinKTiles)
    return std::nullopt;
  // Measured on the H100 (BENCHMARKS.md, "GPU kernels: wgmma GEMM"), GEMM
  // kernel TOP/s with each tile forced, 6 stages:
  //   M x K=N       64x128  128x64  128x128  128x256  (chosen)
  //   256 x 4096      399     439     389      257     128x64
  //   512 x 4096      544     555     699      513     128x128
  //   1024 x 4096     524     526     804      940     128x256
  //   256 x 8192      637     628     793      614     128x128
  //   1024 x 8192     614     674     929     1140     128x256
  // Two warpgroups per block beat one, and the largest tile that still
  // fills about one wave wins; 4 stages instead of 6 helped 128x128 at
  // M >= 1024 (804 -> 859) but lost at M = 256-512 (389 -> 281). Smaller
  // GEMMs lost on wgmma: MiniLM int8 (seq 128: 128 x 384..1536) took 0.749
  // ms per forward against 0.648 with every GEMM on mma.sync.
  const WgmmaTile candidates[] = {{128, 256}, {128, 128}, {128, 64}};
  WgmmaTile chosen = firstFillingTile<WgmmaTile>(candidates, m, n);
  if (!fillsGpu(chosen, m, n))
    return std::nullopt;
  if (forceBn)
    chosen.bn = forceBn;
  if (forceSplitK)
    chosen.splitK = forceSplitK;
  // Up to 192 KB of ring (the H100 gives a block 227 KB). The 128x64 and
  // 128x128 tiles serve the short GEMMs (one wave, M = 256-512), which wait
  // on their copies: more stages in flight (16 / 12 instead of 6) took the
  // kernel at 256x4096x4096 from 0.0203 to 0.0194 ms and at 256x8192x8192
  // from 0.0434 to 0.0413 (H100, same run; 512x4096x4096 0.0248 ->
  // 0.0250, flat). The 128x256 tile keeps 6: 8 lost 3% at M >= 1024.
  const int64_t maxStages = chosen.bn <= 128 ? 16 : 6;
  chosen.stages =
      std::clamp<int64_t>(192 * 1024 / chosen.stageBytes(), 3, maxStages);
  // Every tile's stages come by bulk copies (the quantization kernel writes
  // A in the ring's tile layout). The 128x256 tile's 24 KB stages, issued by
  // thread 0, made the GEMM kernel 6-8% faster than 6 cp.async per thread at
  // every M >= 1024 and at 512x8192x8192 (e.g. 1024x4096x4096 0.0374 ->
  // 0.0345 ms; H100, 3 alternating rounds of 30 calls, BENCHMARKS.md "wgmma
  // GEMM", session 8); a producer warp of its own lost 5-7% there
  // (1024x4096x4096 0.0344 -> 0.0368 ms, session 9).
  // The one-wave 128x64 / 128x128 tiles run warp-specialized (`producer`):
  // a ninth warp issues the copies up to `stages` K tiles ahead and the
  // consumers release slots through `empty` mbarriers, no block barrier per
  // K tile. Against their cp.async ring (session 9, H100, medians of 6
  // rounds of 30 calls in two device calls): 256x4096x4096 (128x64) 0.0197
  // -> 0.0193 ms; 512x4096x4096 (128x128) 0.0253 -> 0.0259 and
  // 256x8192x8192 0.0425 -> 0.0428, but the cp.async ring of 12 stages on
  // 128x128 gave wrong sums on the 512x1024x4096 check (rel-L2 0.13 vs the
  // CPU, unlike mma.sync), which the producer ring passes bit-identically.
  // A multicast in clusters of 2 / 4 along N on top was slower (256x4096x4096
  // 0.0201 / 0.0371 ms).
  // Split-K (forceSplitK; the last block of a tile adds the others' int32
  // sums) was slower on every one-wave case (session 10, H100, 3 rounds):
  // 256x4096x4096 128x64 0.0187-0.0192 ms against 128x128 split 2
  // 0.0226-0.0229 and 128x256 split 4 0.0314-0.0316; 512x4096x4096 128x128
  // 0.0257-0.0260 against 128x256 split 2 0.0314-0.0321: the last block's
  // serial tail (fence, atomic, loads of the other slots) outweighs the L2
  // bytes saved. No tile splits unless asked to.
  chosen.producer = chosen.bn <= 128;
  return chosen;
}

LogicalResult checkWgmmaOptions(Operation *module, int64_t tileN,
                                int64_t splitK) {
  if (tileN != 0 && tileN != 64 && tileN != 128 && tileN != 256)
    return module->emitError("wgmma-tile-n must be 0, 64, 128 or 256, not ")
           << tileN;
  if (splitK < 0 || splitK > 16)
    return module->emitError("wgmma-split-k must be 0 (automatic) to 16, "
                             "not ")
           << splitK;
  return success();
}

void emitRingPrologue(OpBuilder &b, Location loc, int64_t ahead,
                      int64_t kTiles,
                      llvm::function_ref<void(Value, Value)> loadStage) {
  for (int64_t s = 0; s < ahead; ++s) {
    if (s < kTiles) {
      Value c = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(s));
      loadStage(c, c);
    }
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }
}

void emitRingStep(OpBuilder &b, Location loc, Value kt, int64_t stages,
                  int64_t ahead, int64_t kTiles,
                  llvm::function_ref<void(Value, Value)> loadStage) {
  const IntBuilder ib{b, loc};
  NVVM::CpAsyncWaitGroupOp::create(b, loc, ahead - 1);
  mlir::gpu::BarrierOp::create(b, loc);
  Value next = arith::AddIOp::create(b, loc, kt, ib.c64(ahead));
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        next, ib.c64(kTiles));
  {
    OpBuilder::InsertionGuard guard(b);
    auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    loadStage(next, arith::RemUIOp::create(b, loc, next, ib.c64(stages)));
  }
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}

llvm::SmallVector<Value>
emitWgmmaMainLoop(OpBuilder &b, Location loc, const WgmmaTile &tile,
                  int64_t kTiles, Value aShared, Value bShared, Value tid,
                  Value warpGroup,
                  llvm::function_ref<void(Value, Value, Value)> bulkStage) {
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), i64 = b.getI64Type();
  const int64_t S = tile.stages, BM = tile.bm, BN = tile.bn;
  // wgmma groups left in flight at each iteration's end.
  constexpr int64_t kInFlight = 1;
  const IntBuilder ib{b, loc};
  auto when = [&](Value cond, llvm::function_ref<void()> body) {
    OpBuilder::InsertionGuard guard(b);
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    body();
  };
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                      ib.c64(0));

  // Descriptors of the warpgroup's A rows and of B in ring slot 0, k step 0;
  // a slot and a k step add (offset >> 4) to the address field.
  auto descriptor = [&](Value ptr) -> Value {
    Value addr = LLVM::PtrToIntOp::create(b, loc, i64, ptr);
    Value field = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, addr, ib.c64(4)), ib.c64(0x3FFF));
    const uint64_t fixed = (uint64_t(1) << 16) |              // leading (unused)
                           (uint64_t(512 >> 4) << 32) |        // 8-row stride
                           (uint64_t(2) << 62);                // 64-byte swizzle
    return arith::OrIOp::create(b, loc, field, ib.c64(int64_t(fixed)));
  };
  Value aRows = LLVM::GEPOp::create(b, loc, aShared.getType(), i8, aShared,
                                    ValueRange{ib.mulc(warpGroup, 64 * 64)});
  Value aDesc0 = descriptor(aRows), bDesc0 = descriptor(bShared);

  // Bulk copies: one mbarrier per stage after the B ring, set up by thread 0.
  Value mbars = LLVM::GEPOp::create(b, loc, bShared.getType(), i8, bShared,
                                    ValueRange{ib.c64(S * BN * kWgmmaStageK)});
  auto mbarOf = [&](Value slot) -> Value {
    return LLVM::GEPOp::create(b, loc, mbars.getType(), i8, mbars,
                               ValueRange{ib.mulc(slot, 8)});
  };
  // With a producer warp, the `empty` mbarriers follow the `full` ones.
  auto emptyOf = [&](Value slot) -> Value {
    return LLVM::GEPOp::create(b, loc, mbars.getType(), i8, mbars,
                               ValueRange{ib.add(ib.mulc(slot, 8), ib.c64(S * 8))});
  };
  // The consumer warps: one arrival each releases a slot.
  const int64_t consumerWarps = BM / 16;
  when(first, [&] {
    for (int64_t s = 0; s < S; ++s) {
      NVVM::MBarrierInitOp::create(b, loc, mbarOf(ib.c64(s)), ib.c32(1), Value());
      if (tile.producer)
        NVVM::MBarrierInitOp::create(b, loc, emptyOf(ib.c64(s)),
                                     ib.c32(int32_t(consumerWarps)), Value());
    }
    NVVM::FenceMbarrierInitOp::create(b, loc);
  });
  mlir::gpu::BarrierOp::create(b, loc);
  auto parityOf = [&](Value fill) -> Value {
    return arith::TruncIOp::create(b, loc, i32,
                                   arith::AndIOp::create(b, loc, fill, ib.c64(1)));
  };
  const int64_t accCount = BN / 2;
  SmallVector<Type> accTypes(accCount, i32);
  auto accType = LLVM::LLVMStructType::getLiteral(ctx, accTypes);
  // Issues the two wgmma of ring slot `slot` on `accIn` and leaves
  // kInFlight groups in flight; returns the accumulators.
  auto mmaStage = [&](Value slot, ValueRange accIn) {
    Value d = LLVM::UndefOp::create(b, loc, accType);
    for (int64_t r = 0; r < accCount; ++r)
      d = LLVM::InsertValueOp::create(b, loc, d, accIn[r], r);
    NVVM::WgmmaFenceAlignedOp::create(b, loc);
    for (int64_t ks = 0; ks < 2; ++ks) {
      Value aOff = ib.add(ib.mulc(slot, BM * kWgmmaStageK >> 4), ib.c64(ks * 2));
      Value bOff = ib.add(ib.mulc(slot, BN * kWgmmaStageK >> 4), ib.c64(ks * 2));
      d = NVVM::WgmmaMmaAsyncOp::create(
          b, loc, accType, d, ib.add(aDesc0, aOff), ib.add(bDesc0, bOff),
          NVVM::MMAShapeAttr::get(ctx, 64, BN, 32), NVVM::WGMMATypes::s8,
          NVVM::WGMMATypes::s8, NVVM::WGMMATypes::s32,
          NVVM::WGMMAScaleOut::one, NVVM::WGMMAScaleIn::one,
          NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
          NVVM::MMALayout::col, /*satfinite=*/nullptr);
    }
    NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, kInFlight);
    SmallVector<Value> acc;
    for (int64_t r = 0; r < accCount; ++r)
      acc.push_back(LLVM::ExtractValueOp::create(b, loc, d, r));
    return acc;
  };
  SmallVector<Value> init(accCount,
                          arith::ConstantOp::create(b, loc,
                                                    b.getI32IntegerAttr(0)));

  if (tile.producer) {
    // Warp 2 BM / 32 produces, warps 0 .. BM / 16 - 1 consume; neither
    // side uses a block barrier from here on.
    Value isProducer = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::uge, tid, ib.c64(2 * BM));
    auto roles = scf::IfOp::create(b, loc, isProducer, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(roles.thenBlock());
      // Lane 0 fills K tile kt into slot kt % S once the consumers released
      // the slot's previous fill (kt - S).
      when(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                 ib.c64(2 * BM)),
           [&] {
             auto fillLoop =
                 scf::ForOp::create(b, loc, ib.c64(0), ib.c64(kTiles), ib.c64(1));
             b.setInsertionPointToStart(fillLoop.getBody());
             Value kt = fillLoop.getInductionVar();
             Value slot = arith::RemUIOp::create(b, loc, kt, ib.c64(S));
             when(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, kt,
                                        ib.c64(S)),
                  [&] {
                    Value fill = arith::DivUIOp::create(b, loc, kt, ib.c64(S));
                    NVVM::MBarrierTryWaitParityOp::create(
                        b, loc, emptyOf(slot),
                        parityOf(arith::SubIOp::create(b, loc, fill, ib.c64(1))),
                        ib.c32(0x989680));
                  });
             bulkStage(kt, slot, mbarOf(slot));
           });
    }
    // The consumers; the caller's epilogue follows in this branch.
    b.setInsertionPointToStart(roles.elseBlock());
    Value laneZero = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::AndIOp::create(b, loc, tid, ib.c64(31)), ib.c64(0));
    auto loop = scf::ForOp::create(b, loc, ib.c64(0), ib.c64(kTiles), ib.c64(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kt = loop.getInductionVar();
      Value slot = arith::RemUIOp::create(b, loc, kt, ib.c64(S));
      NVVM::MBarrierTryWaitParityOp::create(
          b, loc, mbarOf(slot),
          parityOf(arith::DivUIOp::create(b, loc, kt, ib.c64(S))),
          ib.c32(0x989680));
      SmallVector<Value> acc = mmaStage(slot, loop.getRegionIterArgs());
      // K tile kt - 1's wgmma completed (wait_group 1): each warp releases
      // its slot.
      when(arith::AndIOp::create(
               b, loc, laneZero,
               arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, kt,
                                     ib.c64(1))),
           [&] {
             Value prev = arith::RemUIOp::create(
                 b, loc, arith::SubIOp::create(b, loc, kt, ib.c64(1)), ib.c64(S));
             NVVM::MBarrierArriveOp::create(
                 b, loc, Type(), emptyOf(prev), Value(),
                 NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::CTA));
           });
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    return llvm::to_vector_of<Value>(loop.getResults());
  }

  // K tiles in flight ahead of the one computed on.
  const int64_t ahead = S - 1 - kInFlight;
  when(first, [&] {
    for (int64_t s = 0; s < std::min(ahead, kTiles); ++s)
      bulkStage(ib.c64(s), ib.c64(s), mbarOf(ib.c64(s)));
  });

  auto loop =
      scf::ForOp::create(b, loc, ib.c64(0), ib.c64(kTiles), ib.c64(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    Value slot = arith::RemUIOp::create(b, loc, kt, ib.c64(S));
    // Every warpgroup is past iteration kt - 1, so the wgmma of K tile
    // kt - 2 completed: thread 0 refills its slot with K tile kt + ahead.
    mlir::gpu::BarrierOp::create(b, loc);
    Value next = ib.add(kt, ib.c64(ahead));
    when(arith::AndIOp::create(
             b, loc, first,
             arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                   ib.c64(kTiles))),
         [&] {
           Value nextSlot = arith::RemUIOp::create(b, loc, next, ib.c64(S));
           bulkStage(next, nextSlot, mbarOf(nextSlot));
         });
    // The slot's fill number kt / S gives the mbarrier phase to wait for.
    NVVM::MBarrierTryWaitParityOp::create(
        b, loc, mbarOf(slot),
        parityOf(arith::DivUIOp::create(b, loc, kt, ib.c64(S))),
        ib.c32(0x989680));

    SmallVector<Value> acc = mmaStage(slot, loop.getRegionIterArgs());
    scf::YieldOp::create(b, loc, acc);
  }
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
  return llvm::to_vector_of<Value>(loop.getResults());
}

llvm::SmallVector<Value>
emitSplitKReduce(OpBuilder &b, Location loc, const WgmmaTile &tile,
                 ArrayRef<Value> acc, Value partials, Value counters,
                 Value tileIndex, Value split, Value tid, Value bShared) {
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto v4i32 = VectorType::get({4}, i32);
  const int64_t S = tile.splitK, T = 2 * tile.bm;
  const int64_t vectors = int64_t(acc.size()) / 4;
  const IntBuilder ib{b, loc};
  auto gep = [&](Value base, Type element, Value index) -> Value {
    return LLVM::GEPOp::create(b, loc, base.getType(), element, base,
                               ValueRange{index});
  };
  Value flag = gep(bShared, i8,
                   ib.c64(tile.stages * tile.bn * kWgmmaStageK +
                       tile.mbarrierBytes()));
  // The consumer threads only (a producer warp has left): named barrier 1.
  auto consumerBarrier = [&] {
    NVVM::BarrierOp::create(b, loc, TypeRange{}, ib.c32(1), ib.c32(int32_t(T)),
                            NVVM::BarrierReductionAttr(), Value());
  };
  auto fenceGpu = [&] {
    NVVM::MembarOp::create(b, loc, NVVM::MemScopeKind::GPU);
  };
  // Vector q of this thread in slot s of the tile: [tile][s][q][thread].
  auto slotVector = [&](Value s, int64_t q) -> Value {
    Value slotIndex = ib.add(ib.mulc(tileIndex, S), s);
    return gep(partials, v4i32,
               ib.add(ib.mulc(ib.add(ib.mulc(slotIndex, vectors), ib.c64(q)), T), tid));
  };

  for (int64_t q = 0; q < vectors; ++q) {
    Value v = LLVM::UndefOp::create(b, loc, v4i32);
    for (int64_t e = 0; e < 4; ++e)
      v = LLVM::InsertElementOp::create(b, loc, v, acc[4 * q + e],
                                        ib.c32(int32_t(e)));
    LLVM::StoreOp::create(b, loc, v, slotVector(split, q), /*alignment=*/16);
  }
  fenceGpu();
  consumerBarrier();
  Value counter = gep(counters, i32, tileIndex);
  {
    OpBuilder::InsertionGuard guard(b);
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                        ib.c64(0));
    auto ifOp = scf::IfOp::create(b, loc, first, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value before = LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add,
                                             counter, ib.c32(1),
                                             LLVM::AtomicOrdering::monotonic);
    LLVM::StoreOp::create(b, loc, before, flag, /*alignment=*/4);
  }
  consumerBarrier();
  Value before = LLVM::LoadOp::create(b, loc, i32, flag, /*alignment=*/4);
  Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, before,
                                     ib.c32(int32_t(S - 1)));
  auto lastIf = scf::IfOp::create(b, loc, last, /*withElse=*/false);
  b.setInsertionPointToStart(lastIf.thenBlock());
  // Every block of the tile has counted itself: reset the counter for the
  // next launch (the GEMM kernel may run again without the quantization).
  {
    OpBuilder::InsertionGuard guard(b);
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                        ib.c64(0));
    auto ifOp = scf::IfOp::create(b, loc, first, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    LLVM::StoreOp::create(b, loc, ib.c32(0), counter, /*alignment=*/4);
  }
  fenceGpu();
  SmallVector<Value> sum(acc.begin(), acc.end());
  for (int64_t other = 1; other < S; ++other) {
    Value s = arith::RemUIOp::create(b, loc, ib.add(split, ib.c64(other)), ib.c64(S));
    for (int64_t q = 0; q < vectors; ++q) {
      Value v = LLVM::LoadOp::create(b, loc, v4i32, slotVector(s, q),
                                     /*alignment=*/16);
      for (int64_t e = 0; e < 4; ++e)
        sum[4 * q + e] = ib.add(sum[4 * q + e],
                             LLVM::ExtractElementOp::create(
                                 b, loc, v, ib.c32(int32_t(e))));
    }
  }
  return sum;
}

} // namespace qcc::gpu
