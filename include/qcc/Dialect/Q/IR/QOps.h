//===- QOps.h - q dialect ops -----------------------------------*- C++ -*-===//

#ifndef QCC_DIALECT_Q_IR_QOPS_H
#define QCC_DIALECT_Q_IR_QOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qcc/Dialect/Q/IR/QAttrs.h"
#include "qcc/Dialect/Q/IR/QDialect.h"
#include "qcc/Dialect/Q/IR/QTypes.h"

#define GET_OP_CLASSES
#include "qcc/Dialect/Q/IR/QOps.h.inc"

#endif // QCC_DIALECT_Q_IR_QOPS_H
