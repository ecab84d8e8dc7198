//===- Passes.h - CPU codegen passes ----------------------------*- C++ -*-===//

#ifndef QCC_CODEGEN_CPU_PASSES_H
#define QCC_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "qcc/Dialect/Q/IR/QDialect.h"

namespace qcc::cpu {

/// Unit module attribute: the entry function's first parameter is the
/// `qcc_exec_context` pointer (set by qcc-cpu-outline-parallel, read by
/// qcc-cpu-emit-entry).
inline constexpr llvm::StringLiteral kExecContextAttrName = "qcc.exec_context";

/// Integer attribute of an scf.parallel: the chunks per thread that
/// qcc-cpu-outline-parallel cuts it into when several threads run, instead
/// of its `chunks-per-thread` option (set by kernels whose few, long units
/// need finer dynamic balancing).
inline constexpr llvm::StringLiteral kChunksPerThreadAttrName =
    "qcc.chunks_per_thread";

/// Integer module attribute: the entry function's last parameter is an
/// arena of this many bytes that the runtime passes in `ctx->arena` (set by
/// qcc-cpu-plan-buffers with arena-argument, read by qcc-cpu-emit-entry).
inline constexpr llvm::StringLiteral kArenaBytesAttrName = "qcc.arena_bytes";

#define GEN_PASS_DECL
#include "qcc/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qcc/Codegen/CPU/Passes.h.inc"

} // namespace qcc::cpu

#endif // QCC_CODEGEN_CPU_PASSES_H
