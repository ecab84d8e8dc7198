//===- OutputInit.h - the write that initializes a matmul's output -*- C++ -*-===//
//
// After bufferization a matmul's output buffer is initialized right before
// the product: `linalg.fill` of the buffer itself, or, when CSE merged the
// fills of several products, `memref.copy` from one buffer filled once.
// Both are whole passes over the output that a kernel does not need: one
// that overwrites its output (q.matmul) makes them dead, and the f32
// microkernel can start its accumulators from the constant instead. These
// helpers find such a write and tidy up a filled buffer nothing reads any
// more.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_CPU_OUTPUTINIT_H
#define QCC_CODEGEN_CPU_OUTPUTINIT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SmallVector.h"

namespace qcc::cpu {

/// The operation that writes all of `buffer` right before `op`: a
/// `linalg.fill` of it or a `memref.copy` into it, with nothing in between
/// but operations without memory effects and allocations of other buffers.
/// Null otherwise.
inline mlir::Operation *outputInitWriter(mlir::Operation *op,
                                         mlir::Value buffer) {
  for (mlir::Operation *prev = op->getPrevNode(); prev;
       prev = prev->getPrevNode()) {
    if (auto fill = llvm::dyn_cast<mlir::linalg::FillOp>(prev))
      return fill.hasPureBufferSemantics() && fill.getOutputs()[0] == buffer
                 ? prev
                 : nullptr;
    if (auto copy = llvm::dyn_cast<mlir::memref::CopyOp>(prev))
      return copy.getTarget() == buffer ? prev : nullptr;
    if (mlir::isMemoryEffectFree(prev))
      continue;
    if (auto alloc = llvm::dyn_cast<mlir::memref::AllocOp>(prev))
      if (alloc.getResult() != buffer)
        continue;
    return nullptr;
  }
  return nullptr;
}

/// The constant of a `linalg.fill` from an `arith.constant` f32 scalar.
inline mlir::FloatAttr fillConstant(mlir::linalg::FillOp fill) {
  mlir::FloatAttr value;
  if (!mlir::matchPattern(fill.getInputs()[0], mlir::m_Constant(&value)) ||
      !value.getType().isF32())
    return {};
  return value;
}

/// The f32 constant that `writer` (from outputInitWriter) leaves in its
/// buffer: a fill's constant, or for a copy in a function's single-block
/// body, the constant of a source `memref.alloc` that one constant fill
/// earlier in that block writes and that nothing before the copy touches
/// but that fill and other copies reading it (what runs after the copy, such
/// as the last product writing the buffer in place, does not matter in
/// straight-line code). Null when it is not known.
inline mlir::FloatAttr writtenConstant(mlir::Operation *writer) {
  if (auto fill = llvm::dyn_cast<mlir::linalg::FillOp>(writer))
    return fillConstant(fill);
  auto copy = llvm::cast<mlir::memref::CopyOp>(writer);
  mlir::Value source = copy.getSource();
  mlir::Block *block = copy->getBlock();
  if (!source.getDefiningOp<mlir::memref::AllocOp>() ||
      !llvm::isa_and_nonnull<mlir::FunctionOpInterface>(copy->getParentOp()) ||
      !block->getParent()->hasOneBlock())
    return {};
  mlir::linalg::FillOp fill;
  for (mlir::Operation *user : source.getUsers()) {
    mlir::Operation *at = block->findAncestorOpInBlock(*user);
    if (!at)
      return {};
    if (at == copy.getOperation() || copy->isBeforeInBlock(at))
      continue;
    if (auto other = llvm::dyn_cast<mlir::linalg::FillOp>(user)) {
      if (fill || other.getOutputs()[0] != source)
        return {};
      fill = other;
      continue;
    }
    auto read = llvm::dyn_cast<mlir::memref::CopyOp>(user);
    if (!read || read.getSource() != source || read.getTarget() == source)
      return {};
  }
  if (!fill || fill->getBlock() != block)
    return {};
  return fillConstant(fill);
}

/// Erases `writer`; when it was a copy whose source is a `memref.alloc`
/// that is now only filled and deallocated, erases that buffer too.
inline void eraseOutputInit(mlir::Operation *writer) {
  mlir::Value source;
  if (auto copy = llvm::dyn_cast<mlir::memref::CopyOp>(writer))
    source = copy.getSource();
  writer->erase();
  if (!source || !source.getDefiningOp<mlir::memref::AllocOp>())
    return;
  llvm::SmallVector<mlir::Operation *> users(source.getUsers().begin(),
                                             source.getUsers().end());
  for (mlir::Operation *user : users) {
    auto fill = llvm::dyn_cast<mlir::linalg::FillOp>(user);
    if (!(fill && fill.getOutputs()[0] == source) &&
        !llvm::isa<mlir::memref::DeallocOp>(user))
      return;
  }
  for (mlir::Operation *user : users)
    user->erase();
  source.getDefiningOp()->erase();
}

} // namespace qcc::cpu

#endif // QCC_CODEGEN_CPU_OUTPUTINIT_H
