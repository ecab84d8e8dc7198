//===- QTypes.h - q dialect types -------------------------------*- C++ -*-===//

#ifndef QCC_DIALECT_Q_IR_QTYPES_H
#define QCC_DIALECT_Q_IR_QTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"
#include "qcc/Dialect/Q/IR/QAttrs.h"

#define GET_TYPEDEF_CLASSES
#include "qcc/Dialect/Q/IR/QOpsTypes.h.inc"

#endif // QCC_DIALECT_Q_IR_QTYPES_H
