//===- Passes.h - GPU codegen passes ----------------------------*- C++ -*-===//

#ifndef QCC_CODEGEN_GPU_PASSES_H
#define QCC_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace qcc::gpu {

/// The gpu.module every kernel is outlined into.
inline constexpr llvm::StringLiteral kKernelModuleName = "qcc_kernels";
/// Byte offset of a memref.alloc in the device arena (qcc-gpu-plan-memory).
inline constexpr llvm::StringLiteral kArenaOffsetAttrName = "qcc.arena_offset";
/// Module attribute: bytes of the device arena.
inline constexpr llvm::StringLiteral kArenaBytesAttrName = "qcc.arena_bytes";
/// Alignment of arena offsets (docs/ARTIFACT.md).
inline constexpr int64_t kArenaAlignment = 256;
/// Discardable gpu.launch attribute: NVVM kernel attributes (nvvm.maxnreg,
/// nvvm.minctasm) that qcc-gpu-outline-kernels puts on the outlined kernel.
inline constexpr llvm::StringLiteral kKernelAttrsName = "qcc.kernel_attrs";

#define GEN_PASS_DECL
#include "qcc/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qcc/Codegen/GPU/Passes.h.inc"

} // namespace qcc::gpu

#endif // QCC_CODEGEN_GPU_PASSES_H
