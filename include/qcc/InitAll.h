//===- InitAll.h - register every qcc dialect and pass ----------*- C++ -*-===//

#ifndef QCC_INITALL_H
#define QCC_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace qcc {

/// Adds every dialect qcc produces or consumes (its own and the upstream ones
/// its pipelines go through) to `registry`.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers every qcc pass and pipeline with the global pass registry, for
/// qcc-opt.
void registerAllPasses();

} // namespace qcc

#endif // QCC_INITALL_H
