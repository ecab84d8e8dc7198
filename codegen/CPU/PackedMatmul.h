//===- PackedMatmul.h - the packed-weight matmul form -----------*- C++ -*-===//
//
// The linalg.generic that qcc-cpu-pack-matmul-weights creates and
// qcc-cpu-matmul-microkernel recognizes: C[m, n] += A[m, k] * Bp[n floordiv
// panel, k, n mod panel] over the loops (m, n, k).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_CPU_PACKEDMATMUL_H
#define QCC_CODEGEN_CPU_PACKEDMATMUL_H

#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace qcc::cpu {

/// The microkernel's register block {rows, vectors} for an m x n product
/// (`rows` / `vectors` > 0 fix that part): with 32 vector registers
/// (`width` >= 16 lanes, AVX-512) 24 accumulators, 8 rows x 3 vectors; with
/// 16 (AVX2) 12, as 6 x 2. Fewer rows take all rows and spend the budget on
/// columns (up to 16 or 8 vectors), at most the vectors that fit in n.
inline std::pair<int64_t, int64_t> chooseBlock(int64_t m, int64_t n,
                                               int64_t width, int64_t rows = 0,
                                               int64_t vectors = 0) {
  bool wide = width >= 16;
  int64_t budget = wide ? 24 : 12;
  int64_t fullRows = wide ? 8 : 6;
  if (rows <= 0)
    rows = std::min(fullRows, std::max<int64_t>(m, 1));
  if (vectors <= 0) {
    vectors = rows >= fullRows ? budget / fullRows
                               : std::min<int64_t>(budget / rows, wide ? 16 : 8);
    vectors = std::max<int64_t>(1, std::min(vectors, n / width));
  }
  return {rows, vectors};
}

/// Indexing maps of A, the packed B and C.
inline llvm::SmallVector<mlir::AffineMap, 3>
packedMatmulMaps(mlir::MLIRContext *ctx, int64_t panel) {
  mlir::AffineExpr m = mlir::getAffineDimExpr(0, ctx),
                   n = mlir::getAffineDimExpr(1, ctx),
                   k = mlir::getAffineDimExpr(2, ctx);
  return {mlir::AffineMap::get(3, 0, {m, k}, ctx),
          mlir::AffineMap::get(3, 0, {n.floorDiv(panel), k, n % panel}, ctx),
          mlir::AffineMap::get(3, 0, {m, n}, ctx)};
}

} // namespace qcc::cpu

#endif // QCC_CODEGEN_CPU_PACKEDMATMUL_H
