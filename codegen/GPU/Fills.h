//===- Fills.h - initial fills a GPU lowering makes redundant ---*- C++ -*-===//
//
// Private to codegen/GPU. A kernel that overwrites its output buffer, or
// starts its accumulators from a constant, makes the linalg.fill that last
// wrote that buffer redundant; on the GPU each such fill is a launch that
// writes the whole buffer. A kernel may also reuse what an earlier one
// computed from a buffer that nothing touched since, or do the residual add
// that follows it in its epilogue.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_GPU_FILLS_H
#define QCC_CODEGEN_GPU_FILLS_H

#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace qcc::gpu {

/// The memref.alloc that `v` is all of (through reshapes and casts), or
/// null.
mlir::Value wholeAllocation(mlir::Value v);

/// The linalg.fill of all of `buffer` (the buffer itself, or the allocation
/// it is a reshape of) before `op` in its block whose value `op` is the next
/// to see: every op in between is pure or, when `buffer` views a
/// memref.alloc, touches no view of that allocation. Null when there is none.
mlir::linalg::FillOp fillBefore(mlir::Operation *op, mlir::Value buffer);

/// The constant that all of `buffer` holds when `op` next sees it, with the
/// ops that only exist to put it there: the fillBefore(op, buffer), or a
/// memref.copy into `buffer` found the same way whose source is a fresh
/// allocation that only a fill of the constant writes (bufferization's
/// shared zero accumulator). `setters` gets the fill, or the copy and, when
/// no other op reads that source, its fill. Null when there is none.
mlir::Value constantBefore(mlir::Operation *op, mlir::Value buffer,
                           llvm::SmallVectorImpl<mlir::Operation *> &setters);

/// Whether `from` comes before `to` in one block, each of `buffers` is all
/// of a memref.alloc, and no op strictly between them touches a view of one
/// (so a value computed from them at `from` still holds at `to`).
bool untouchedBetween(mlir::Operation *from, mlir::Operation *to,
                      llvm::ArrayRef<mlir::Value> buffers);

/// The first op after `after` in its block that touches a view of the
/// allocation `buffer` is all of; null when none does (or `buffer` is not
/// all of an allocation, checked by the caller with wholeAllocation).
mlir::Operation *nextToucher(mlir::Operation *after, mlir::Value buffer);

/// A q.matmul `op` overwrites its `init`: erases the fillBefore(op, init),
/// which is dead.
void eraseDeadFill(mlir::Operation *op, mlir::Value init);

/// The residual add of a transformer block right after a matmul `op`:
/// `result = output + residual`, a linalg.generic (all-parallel, identity
/// maps, one f32 addf) over whole views of `op`'s output allocation and of
/// two other allocations, the first op after `op` to touch any of the
/// three; the next op to touch the output after it, if any, overwrites it
/// (a q.matmul or a fill). A GEMV or GEMM epilogue can then add `residual`
/// and write `result` itself, and the add goes.
struct ResidualAdd {
  mlir::linalg::GenericOp add;
  mlir::Value residual, result;
};
std::optional<ResidualAdd> residualAfter(q::MatmulOp op);
/// Moves the allocations (and views) of `add`'s buffers that come after `op`
/// before it, so that `op`'s lowering can use them.
void hoistResidualBuffers(const ResidualAdd &add, mlir::Operation *op);

} // namespace qcc::gpu

#endif // QCC_CODEGEN_GPU_FILLS_H
