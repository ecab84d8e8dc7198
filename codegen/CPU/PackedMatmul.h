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

namespace qcc::cpu {

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
