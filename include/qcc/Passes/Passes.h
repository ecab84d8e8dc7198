//===- Passes.h - target-independent qcc passes -----------------*- C++ -*-===//

#ifndef QCC_PASSES_PASSES_H
#define QCC_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "qcc/Dialect/Q/IR/QDialect.h"

namespace qcc {

#define GEN_PASS_DECL
#include "qcc/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qcc/Passes/Passes.h.inc"

/// Module attribute listing the externalized weights.
inline constexpr llvm::StringLiteral kWeightsAttrName = "qcc.weights";

} // namespace qcc

#endif // QCC_PASSES_PASSES_H
