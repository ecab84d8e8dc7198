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
// Pipeline: the stages are filled with cp.async (one commit group per
// stage), awaited, then made visible to the tensor cores' async proxy with
// fence.proxy.async before the block barrier. One wgmma group per stage
// stays in flight while the next stage is awaited, so a slot is refilled
// two iterations after its wgmma was issued (its group completed at the
// previous iteration's wait_group 1, in every warpgroup by the barrier).
//
//===----------------------------------------------------------------------===//

#include "WgmmaQMatmul.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>

using namespace mlir;

namespace qcc::gpu {

WgmmaTile chooseWgmmaTile(int64_t m, int64_t n) {
  const WgmmaTile candidates[] = {{128, 256}, {128, 128}, {64, 128}};
  WgmmaTile chosen = candidates[2];
  for (const WgmmaTile &c : candidates) {
    int64_t blocks = ((m + c.bm - 1) / c.bm) * ((n + c.bn - 1) / c.bn);
    if (blocks >= 128) {
      chosen = c;
      break;
    }
  }
  // Up to 192 KB of ring (the H100 gives a block 227 KB).
  chosen.stages =
      std::clamp<int64_t>(192 * 1024 / chosen.stageBytes(), 3, 6);
  return chosen;
}

llvm::SmallVector<Value>
emitWgmmaMainLoop(OpBuilder &b, Location loc, const WgmmaTile &tile,
                  int64_t kTiles, Value aShared, Value bShared,
                  Value warpGroup,
                  llvm::function_ref<void(Value, Value)> loadStage) {
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), i64 = b.getI64Type();
  const int64_t S = tile.stages, BM = tile.bm, BN = tile.bn;
  // wgmma groups left in flight at each iteration's end.
  constexpr int64_t kInFlight = 1;
  auto c64 = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  };
  auto add = [&](Value x, Value y) -> Value {
    return arith::AddIOp::create(b, loc, x, y);
  };
  auto mulc = [&](Value x, int64_t y) -> Value {
    return arith::MulIOp::create(b, loc, x, c64(y));
  };

  // Descriptors of the warpgroup's A rows and of B in ring slot 0, k step 0;
  // a slot and a k step add (offset >> 4) to the address field.
  auto descriptor = [&](Value ptr) -> Value {
    Value addr = LLVM::PtrToIntOp::create(b, loc, i64, ptr);
    Value field = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, addr, c64(4)), c64(0x3FFF));
    const uint64_t fixed = (uint64_t(1) << 16) |              // leading (unused)
                           (uint64_t(512 >> 4) << 32) |        // 8-row stride
                           (uint64_t(2) << 62);                // 64-byte swizzle
    return arith::OrIOp::create(b, loc, field, c64(int64_t(fixed)));
  };
  Value aRows = LLVM::GEPOp::create(b, loc, aShared.getType(), i8, aShared,
                                    ValueRange{mulc(warpGroup, 64 * 64)});
  Value aDesc0 = descriptor(aRows), bDesc0 = descriptor(bShared);

  // Prologue: K tiles 0 .. S - 2 - kInFlight in flight.
  for (int64_t s = 0; s + 1 + kInFlight < S; ++s) {
    if (s < kTiles)
      loadStage(c64(s), c64(s));
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  }

  const int64_t accCount = BN / 2;
  SmallVector<Type> accTypes(accCount, i32);
  auto accType = LLVM::LLVMStructType::getLiteral(ctx, accTypes);
  SmallVector<Value> init(accCount,
                          arith::ConstantOp::create(b, loc,
                                                    b.getI32IntegerAttr(0)));
  auto loop =
      scf::ForOp::create(b, loc, c64(0), c64(kTiles), c64(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    NVVM::CpAsyncWaitGroupOp::create(b, loc, S - 2 - kInFlight);
    NVVM::FenceProxyOp::create(
        b, loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
    mlir::gpu::BarrierOp::create(b, loc);
    Value next = add(kt, c64(S - 1 - kInFlight));
    Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          next, c64(kTiles));
    {
      OpBuilder::InsertionGuard ifGuard(b);
      auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
      loadStage(next, arith::RemUIOp::create(b, loc, next, c64(S)));
    }
    NVVM::CpAsyncCommitGroupOp::create(b, loc);

    Value slot = arith::RemUIOp::create(b, loc, kt, c64(S));
    Value d = LLVM::UndefOp::create(b, loc, accType);
    for (int64_t r = 0; r < accCount; ++r)
      d = LLVM::InsertValueOp::create(b, loc, d, loop.getRegionIterArgs()[r],
                                      r);
    NVVM::WgmmaFenceAlignedOp::create(b, loc);
    for (int64_t ks = 0; ks < 2; ++ks) {
      Value aOff = add(mulc(slot, BM * kWgmmaStageK >> 4), c64(ks * 2));
      Value bOff = add(mulc(slot, BN * kWgmmaStageK >> 4), c64(ks * 2));
      d = NVVM::WgmmaMmaAsyncOp::create(
          b, loc, accType, d, add(aDesc0, aOff), add(bDesc0, bOff),
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
    scf::YieldOp::create(b, loc, acc);
  }
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  return llvm::to_vector_of<Value>(loop.getResults());
}

} // namespace qcc::gpu
