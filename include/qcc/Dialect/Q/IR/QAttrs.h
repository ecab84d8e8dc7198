//===- QAttrs.h - q dialect attributes --------------------------*- C++ -*-===//

#ifndef QCC_DIALECT_Q_IR_QATTRS_H
#define QCC_DIALECT_Q_IR_QATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "qcc/Dialect/Q/IR/QEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qcc/Dialect/Q/IR/QAttrs.h.inc"

#endif // QCC_DIALECT_Q_IR_QATTRS_H
