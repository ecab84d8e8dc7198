//===- W4A16GemmTiling.h - tiles and split-K of the W4A16 GEMM --*- C++ -*-===//
//
// Private to codegen/GPU: how qcc-gpu-w4a16-gemm (W4A16Gemm.cpp) tiles a
// matmul: block rows and columns, pipeline stages in shared memory, and the
// split of K across blocks.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_GPU_W4A16GEMMTILING_H
#define QCC_CODEGEN_GPU_W4A16GEMMTILING_H

#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>

namespace qcc::gpu {

constexpr int64_t kStageK = 64;             // K per pipeline stage
constexpr int64_t kSharedBytes = 48 * 1024; // static shared memory limit
constexpr int64_t kWarps = 4;               // warps per GEMM block
constexpr int64_t kTargetBlocks = 132;      // SMs of an H100

/// The GEMM's tiling for one matmul.
struct Tiling {
  int64_t m, k, n, group;
  int64_t bm, tiles, bn; // block rows, 16-column tiles per warp, cols
  int64_t stages, splits;
  int64_t kSteps, groups, groupsPerStage;
  int64_t mBlocks, nBlocks;
  int64_t codeBytes, xBytes, paramBytes;
  int64_t stageBytes() const { return codeBytes + xBytes + paramBytes; }
  int64_t blockTiles() const { return bn / 16; }
};

/// Whether the kernel takes a [m, k] x [k, n] matmul in groups of `group`.
bool shapeFits(int64_t m, int64_t k, int64_t n, int64_t group);

/// The tiling of a matmul that fits (shapeFits); fails with `why` when the
/// requested stages do not fit in shared memory. `splits` / `stages` of 0
/// choose them.
mlir::FailureOr<Tiling> chooseTiling(int64_t m, int64_t k, int64_t n,
                                     int64_t group, int64_t splits,
                                     int64_t stages, std::string &why);

} // namespace qcc::gpu

#endif // QCC_CODEGEN_GPU_W4A16GEMMTILING_H
