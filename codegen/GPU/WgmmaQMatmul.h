//===- WgmmaQMatmul.h - W8A8 GEMM main loop on wgmma (sm_90a) ---*- C++ -*-===//
//
// Private to codegen/GPU: the K loop of qcc-gpu-mma-qmatmul's GEMM when it
// runs on Hopper's warpgroup MMA (option `wgmma`, target sm_90a). The pass
// keeps the quantization kernel (which writes the activations in the ring's
// tile layout), the weight packing, the bulk stage copies and the epilogue;
// this part runs the ring, issues the wgmma.mma_async instructions and,
// with split-K, reduces the blocks' int32 sums.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_GPU_WGMMAQMATMUL_H
#define QCC_CODEGEN_GPU_WGMMAQMATMUL_H

#include "mlir/IR/Builders.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>
#include "llvm/ADT/SmallVector.h"

namespace qcc::gpu {

/// K bytes per stage: one 64-byte swizzle row per A row and per B column.
constexpr int64_t kWgmmaStageK = 64;

/// A block tile of the wgmma GEMM: `bm` rows (64 per warpgroup of 128
/// threads), `bn` columns (the N of m64nNk32), `stages` in the ring. The
/// stages come by bulk copies: the quantization kernel writes A in the
/// ring's tile layout.
struct WgmmaTile {
  int64_t bm = 0, bn = 0, stages = 0;
  /// Whether a producer warp of its own (after the consumer warpgroups)
  /// issues every bulk copy, and the consumers release ring slots through
  /// `empty` mbarriers instead of a block barrier per K tile.
  bool producer = false;
  /// Blocks per output tile, each over 1 / splitK of the K tiles (grid z);
  /// the last of them to finish adds the others' int32 sums and runs the
  /// epilogue (emitSplitKReduce).
  int64_t splitK = 1;
  int64_t threads() const { return 2 * bm + (producer ? 32 : 0); }
  int64_t stageBytes() const { return (bm + bn) * kWgmmaStageK; }
  /// Bytes of the `full` (and with a producer warp `empty`) mbarriers.
  int64_t mbarrierBytes() const { return stages * (producer ? 16 : 8); }
  /// The ring, one 8-byte `full` mbarrier per stage after it (and with a
  /// producer warp one `empty` mbarrier per stage), with split-K a 16-byte
  /// word after them (the "last block" flag), and the slack that aligns the
  /// ring to 1024 bytes.
  int64_t sharedBytes() const {
    return stages * stageBytes() + mbarrierBytes() + (splitK > 1 ? 16 : 0) +
           1024;
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
/// such GEMMs stay on mma.sync. `forceBn` (64, 128 or 256) and `forceSplitK`
/// (>= 1, dividing `kTiles`), when not 0, replace the choice of columns and
/// of K splits (for tuning; the caller checks the values).
std::optional<WgmmaTile> chooseWgmmaTile(int64_t m, int64_t n, int64_t kTiles,
                                         int64_t forceBn = 0,
                                         int64_t forceSplitK = 0);

/// Checks the tuning options of qcc-gpu-mma-qmatmul: `tileN` 0, 64, 128
/// or 256, `splitK` 0 to 16 (0: automatic); reports on `module`.
mlir::LogicalResult checkWgmmaOptions(mlir::Operation *module, int64_t tileN,
                                      int64_t splitK);

/// The cp.async ring of the mma.sync GEMM's K loop. Before the
/// loop: K tiles 0 .. ahead - 1 in flight, one commit group each (empty
/// past `kTiles`); `loadStage(kt, slot)` issues the copies of one K tile.
void emitRingPrologue(mlir::OpBuilder &b, mlir::Location loc, int64_t ahead,
                      int64_t kTiles,
                      llvm::function_ref<void(mlir::Value, mlir::Value)>
                          loadStage);
/// At the top of iteration `kt`: waits for K tile kt (ahead - 1 groups may
/// stay pending), makes it visible to the block, then copies K tile
/// kt + ahead into slot (kt + ahead) % stages and commits.
void emitRingStep(mlir::OpBuilder &b, mlir::Location loc, mlir::Value kt,
                  int64_t stages, int64_t ahead, int64_t kTiles,
                  llvm::function_ref<void(mlir::Value, mlir::Value)>
                      loadStage);

/// Emits, inside the GEMM's launch at `b`'s insertion point, the ring
/// prologue and the K loop over `kTiles` K tiles: per stage each warpgroup
/// issues two wgmma.mma_async.m64nNk32.s32.s8.s8 on its 64 rows of the A
/// stage and the whole B stage, both read through 64-byte-swizzle matrix
/// descriptors. `aShared` and `bShared` (LLVM pointers in address space 3)
/// are the rings, 1024-byte aligned, each stage [rows][64 bytes] with
/// 16-byte chunk c of row r at c ^ ((r >> 1) & 3); one `full` mbarrier per
/// stage follows the B ring (then, with a producer warp, one `empty` per
/// stage). `bulkStage(kt, stage, mbar)` must arm `mbar` (address space 3)
/// for the stage's (bm + bn) * 64 bytes and issue the cp.async.bulk copies
/// of the loop's K tile `kt` completing on it; thread `tid` 0 calls it, or
/// with `tile.producer` lane 0 of warp 2 bm / 32 (the producer warp), which
/// waits on the slot's `empty` mbarrier before a refill while the consumer
/// warps release a slot once the wgmma that read it completed; the builder
/// is then left inside the consumers' branch (the epilogue goes there, the
/// producer warp skips it). `warpGroup` is the thread's warpgroup (i64).
/// Returns the thread's bn / 2 int32 accumulators in
/// mma.sync's m16n8 C-fragment order: value 4 j + r holds row 16 warp +
/// lane / 4 + 8 (r / 2), column 8 j + 2 (lane % 4) + r % 2 of the block tile.
llvm::SmallVector<mlir::Value> emitWgmmaMainLoop(
    mlir::OpBuilder &b, mlir::Location loc, const WgmmaTile &tile,
    int64_t kTiles, mlir::Value aShared, mlir::Value bShared,
    mlir::Value tid, mlir::Value warpGroup,
    llvm::function_ref<void(mlir::Value, mlir::Value, mlir::Value)>
        bulkStage);

/// Split-K (tile.splitK > 1), after the K loop in the consumers' code:
/// every consumer thread stores its int32 accumulators `acc` into its
/// block's slot `split` of output tile `tileIndex` in `partials` (global
/// i32, splitK slots of bm x bn values per tile, in 16-byte vectors ordered
/// so that a warp's stores are contiguous) and fences them; thread 0 then
/// counts the block in `counters[tileIndex]` (global i32, zeroed before the
/// launch), and the block that brings the count to splitK (the last one)
/// resets it to 0, loads the other splitK - 1 slots and adds them to its
/// own sums. int32 additions in any order give the same sums as one K loop.
/// A shared word after the mbarriers that follow the B ring `bShared`
/// passes the count to the block. Leaves `b` inside the last block's branch
/// and returns the summed accumulators there.
llvm::SmallVector<mlir::Value>
emitSplitKReduce(mlir::OpBuilder &b, mlir::Location loc, const WgmmaTile &tile,
                 llvm::ArrayRef<mlir::Value> acc, mlir::Value partials,
                 mlir::Value counters, mlir::Value tileIndex,
                 mlir::Value split, mlir::Value tid, mlir::Value bShared);

} // namespace qcc::gpu

#endif // QCC_CODEGEN_GPU_WGMMAQMATMUL_H
