//===- W4A16Gemv.h - tensor-core W4A16 GEMV for 1-16 rows -------*- C++ -*-===//
//
// Private to codegen/GPU: the W4A16 GEMV kernel that qcc-gpu-lower-qmatmul
// emits for q.matmul with at most 16 rows, and the helpers that read the
// compile-time values of its weight operands and shape the buffers of the
// quantized matmul lowerings (also used by qcc-gpu-mma-qmatmul).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_GPU_W4A16GEMV_H
#define QCC_CODEGEN_GPU_W4A16GEMV_H

#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>
#include <vector>

namespace qcc::gpu {

/// Launch shape of the GEMV kernel; 0 picks the default.
struct GemvConfig {
  int64_t tiles = 0;  // 16-column tiles per warp (share activation loads)
  int64_t warps = 0;  // warps per block, each a slice of K (split-K)
  int64_t unroll = 0; // 128-bit code loads per tile per step (64 K each)
};

/// The constant value of a bufferized operand: a constant global, or an
/// entry argument that the weight externalization made of a constant.
mlir::ElementsAttr constantOperand(mlir::Value v, mlir::SymbolTable &symbols);
/// The elements of an int or f32 constant as doubles.
std::optional<std::vector<double>> constantNumbers(mlir::ElementsAttr attr);
/// The raw bytes of an i8 constant.
std::optional<std::vector<uint8_t>> constantBytes(mlir::ElementsAttr attr);

/// `value` itself when its memref layout is the identity, else a new
/// identity-layout buffer of its shape (filled from `value` if `copyIn`).
mlir::Value contiguousBuffer(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value value, bool copyIn);
/// A contiguous memref of rank >= 2 as [rows, last dim].
mlir::Value collapseToRows(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value value);
/// The GPU lowerings of q.matmul have no form for kept outlier channels
/// (`outliers(...)`, qcc-fuse-outliers; the GPU pipeline keeps the split
/// unfused): reports an error on each such op in `module` and fails.
mlir::LogicalResult rejectOutlierMatmuls(mlir::ModuleOp module);

/// Emits the W4A16 GEMV for `op` (int4 packed_k weights, groups along K,
/// act_quant none, constant scales and zero points, at most 16 rows) at
/// `b`'s insertion point: `x` is the contiguous [rows, K] input, `out` the
/// contiguous [rows, N] output. With a `residual` (contiguous [rows, N]),
/// the epilogue adds it to each output (a transformer block's residual add).
/// Returns failure, with no IR created, when the matmul does not fit the
/// kernel.
mlir::LogicalResult emitW4A16Gemv(mlir::OpBuilder &b, q::MatmulOp op,
                                  mlir::SymbolTable &symbols, mlir::Value x,
                                  mlir::Value out, const GemvConfig &config,
                                  mlir::Value residual = {});

} // namespace qcc::gpu

#endif // QCC_CODEGEN_GPU_W4A16GEMV_H
