//===- BufferizableOpInterfaceImpl.h - bufferization of q ops ---*- C++ -*-===//

#ifndef QCC_DIALECT_Q_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define QCC_DIALECT_Q_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

#include "mlir/IR/DialectRegistry.h"

namespace qcc::q {

/// Lets one-shot bufferization turn `q.matmul` on tensors into `q.matmul` on
/// memrefs writing its init buffer. `!q.weight` values are not tensors and
/// pass through unchanged.
void registerBufferizableOpInterfaceExternalModels(
    mlir::DialectRegistry &registry);

} // namespace qcc::q

#endif // QCC_DIALECT_Q_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
