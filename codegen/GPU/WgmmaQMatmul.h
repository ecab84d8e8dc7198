//===- WgmmaQMatmul.h - W8A8 GEMM main loop on wgmma (sm_90a) ---*- C++ -*-===//
//
// Private to codegen/GPU: the K loop of qcc-gpu-mma-qmatmul's GEMM when it
// runs on Hopper's warpgroup MMA (option `wgmma`, target sm_90a). The pass
// keeps the quantization kernel (which writes the activations in the ring's
// tile layout when the stages come by bulk copies), the weight packing, the
// cp.async stage copies and the epilogue; this part runs the ring and issues
// the wgmma.mma_async instructions.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_GPU_WGMMAQMATMUL_H
#define QCC_CODEGEN_GPU_WGMMAQMATMUL_H

#include "mlir/IR/Builders.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>
#include "llvm/ADT/SmallVector.h"

namespace qcc::gpu {

/// K bytes per stage: one 64-byte swizzle row per A row and per B column.
constexpr int64_t kWgmmaStageK = 64;

/// A block tile of the wgmma GEMM: `bm` rows (64 per warpgroup of 128
/// threads), `bn` columns (the N of m64nNk32), `stages` in the ring.
struct WgmmaTile {
  int64_t bm = 0, bn = 0, stages = 0;
  /// Whether the stages come by bulk copies (A written by the quantization
  /// kernel in the ring's tile layout) instead of cp.async.
  bool bulk = false;
  /// With `bulk`: whether a producer warp of its own (after the consumer
  /// warpgroups) issues every bulk copy, and the consumers release ring
  /// slots through `empty` mbarriers instead of a block barrier per K tile.
  bool producer = false;
  int64_t threads() const { return 2 * bm + (producer ? 32 : 0); }
  int64_t stageBytes() const { return (bm + bn) * kWgmmaStageK; }
  /// The ring, with bulk copies one 8-byte `full` mbarrier per stage after
  /// it (and with a producer warp one `empty` mbarrier per stage), and the
  /// slack that aligns the ring to 1024 bytes.
  int64_t sharedBytes() const {
    return stages * (stageBytes() + (bulk ? (producer ? 16 : 8) : 0)) + 1024;
  }
};

/// The first of `tiles` (largest first; each with `bm` and `bn`) whose grid
/// over m x n has at least 128 blocks, about one per SM of a big GPU (132
/// on the H100, 108 on the A100); the last when none has.
template <typename Tile>
bool fillsGpu(const Tile &t, int64_t m, int64_t n) {
  return ((m + t.bm - 1) / t.bm) * ((n + t.bn - 1) / t.bn) >= 128;
}
template <typename Tile>
Tile firstFillingTile(llvm::ArrayRef<Tile> tiles, int64_t m, int64_t n) {
  for (const Tile &t : tiles)
    if (fillsGpu(t, m, n))
      return t;
  return tiles.back();
}

/// The largest tile whose grid still has about one block per SM of an H100
/// (132 SMs): 128x256, 128x128 or 128x64; none (std::nullopt) when even
/// 128x64 gives fewer blocks or K has fewer than 16 `kTiles` of 64 bytes:
/// such GEMMs stay on mma.sync.
std::optional<WgmmaTile> chooseWgmmaTile(int64_t m, int64_t n, int64_t kTiles);

/// The cp.async ring of both GEMM K loops (mma.sync and wgmma). Before the
/// loop: K tiles 0 .. ahead - 1 in flight, one commit group each (empty
/// past `kTiles`); `loadStage(kt, slot)` issues the copies of one K tile.
void emitRingPrologue(mlir::OpBuilder &b, mlir::Location loc, int64_t ahead,
                      int64_t kTiles,
                      llvm::function_ref<void(mlir::Value, mlir::Value)>
                          loadStage);
/// At the top of iteration `kt`: waits for K tile kt (ahead - 1 groups may
/// stay pending), makes it visible to the block (`asyncProxy`: also to the
/// tensor cores' async proxy, for wgmma), then copies K tile kt + ahead
/// into slot (kt + ahead) % stages and commits.
void emitRingStep(mlir::OpBuilder &b, mlir::Location loc, mlir::Value kt,
                  int64_t stages, int64_t ahead, int64_t kTiles,
                  bool asyncProxy,
                  llvm::function_ref<void(mlir::Value, mlir::Value)>
                      loadStage);

/// Emits, inside the GEMM's launch at `b`'s insertion point, the ring
/// prologue and the K loop: per stage each warpgroup issues two
/// wgmma.mma_async.m64nNk32.s32.s8.s8 on its 64 rows of the A stage and the
/// whole B stage, both read through 64-byte-swizzle matrix descriptors.
/// `aShared` and `bShared` (LLVM pointers in address space 3) are the rings,
/// 1024-byte aligned, each stage [rows][64 bytes] with 16-byte chunk c of
/// row r at c ^ ((r >> 1) & 3). Without `tile.bulk`, `loadStage(kt, stage)`
/// issues the cp.async copies of K tile `kt` into ring slot `stage` (no
/// commit). With it, one mbarrier per stage follows the B ring and thread
/// `tid` 0 calls `bulkStage(kt, stage, mbar)`, which must arm `mbar`
/// (address space 3) for the stage's (bm + bn) * 64 bytes and issue the
/// cp.async.bulk copies completing on it. With `tile.producer`, lane 0 of
/// warp 2 bm / 32 (the producer warp) issues every `bulkStage`, waiting on
/// the slot's `empty` mbarrier before a refill, and the consumer warps
/// release a slot once the wgmma that read it completed; the builder is
/// then left inside the consumers' branch (the epilogue goes there, the
/// producer warp skips it). `warpGroup` is the thread's warpgroup (i64).
/// Returns the thread's bn / 2 int32 accumulators in
/// mma.sync's m16n8 C-fragment order: value 4 j + r holds row 16 warp +
/// lane / 4 + 8 (r / 2), column 8 j + 2 (lane % 4) + r % 2 of the block tile.
llvm::SmallVector<mlir::Value> emitWgmmaMainLoop(
    mlir::OpBuilder &b, mlir::Location loc, const WgmmaTile &tile,
    int64_t kTiles, mlir::Value aShared, mlir::Value bShared,
    mlir::Value tid, mlir::Value warpGroup,
    llvm::function_ref<void(mlir::Value, mlir::Value)> loadStage,
    llvm::function_ref<void(mlir::Value, mlir::Value, mlir::Value)>
        bulkStage);

} // namespace qcc::gpu

#endif // QCC_CODEGEN_GPU_WGMMAQMATMUL_H
