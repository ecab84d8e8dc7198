//===- W4A16GemmTiling.cpp - tiles and split-K of the W4A16 GEMM ----------===//

#include "W4A16GemmTiling.h"

#include <algorithm>

using namespace mlir;

namespace qcc::gpu {

bool shapeFits(int64_t m, int64_t k, int64_t n, int64_t group) {
  return m >= 1 && n >= 1 && k % kStageK == 0 && group > 0 &&
         group % 16 == 0 && k % group == 0 &&
         (group % kStageK == 0 || kStageK % group == 0);
}

FailureOr<Tiling> chooseTiling(int64_t m, int64_t k, int64_t n, int64_t group,
                               int64_t splits, int64_t stages,
                               std::string &why) {
  Tiling t{};
  t.m = m, t.k = k, t.n = n, t.group = group;
  int64_t rows16 = (m + 15) / 16 * 16;
  // Few rows: wide blocks (the activation tile is re-read per block);
  // more rows: 64-row blocks with 2 tiles per warp (64 accumulators each).
  if (rows16 <= 32) {
    t.bm = rows16;
    t.tiles = 4;
  } else {
    t.bm = 64;
    t.tiles = 2;
  }
  t.bn = kWarps * 16 * t.tiles;
  t.kSteps = k / kStageK;
  t.groups = k / group;
  t.groupsPerStage = group >= kStageK ? 1 : kStageK / group;
  t.mBlocks = (m + t.bm - 1) / t.bm;
  t.nBlocks = (n + t.bn - 1) / t.bn;
  t.codeBytes = t.bn * kStageK / 2;
  t.xBytes = t.bm * kStageK * 2;
  t.paramBytes = t.groupsPerStage * t.blockTiles() * 64;
  t.stages = stages > 0 ? stages
                        : std::min<int64_t>(4, kSharedBytes / t.stageBytes());
  if (t.stages < 2 || t.stages * t.stageBytes() > kSharedBytes) {
    why = "stages=" + std::to_string(t.stages) + " need " +
          std::to_string(t.stages * t.stageBytes()) +
          " bytes of shared memory (at least 2 stages, at most " +
          std::to_string(kSharedBytes) + " bytes)";
    return failure();
  }
  // Split K across blocks so that the work units (tiles x splits) fill the
  // SMs evenly: the busiest SM runs ceil(units / SMs) units, so units / SMs
  // over that is the fraction of the machine used (172 units on 132 SMs:
  // 65%, 258: 98%). A larger split is taken only when it uses the machine
  // more than 3% better (relative), with at least 4 stages per split and
  // partials (splits x M x N f32, written and read once) of at most half
  // the code bytes.
  int64_t blocks = t.mBlocks * t.nBlocks;
  if (splits > 0) {
    t.splits = std::min(splits, t.kSteps);
  } else {
    int64_t cap = std::max<int64_t>(1, std::min(t.kSteps / 4, k / (16 * m)));
    double best = 0;
    t.splits = 1;
    for (int64_t s = 1; s <= cap; ++s) {
      int64_t units = blocks * s;
      int64_t perSM = (units + kTargetBlocks - 1) / kTargetBlocks;
      double used = double(units) / double(perSM * kTargetBlocks);
      if (used > best * 1.03) {
        best = used;
        t.splits = s;
      }
    }
  }
  return t;
}

} // namespace qcc::gpu
