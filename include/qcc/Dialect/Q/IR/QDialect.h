//===- QDialect.h - q dialect -----------------------------------*- C++ -*-===//

#ifndef QCC_DIALECT_Q_IR_QDIALECT_H
#define QCC_DIALECT_Q_IR_QDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "qcc/Dialect/Q/IR/QOpsDialect.h.inc"

#endif // QCC_DIALECT_Q_IR_QDIALECT_H
