//===- QDialect.cpp - q dialect registration ------------------------------===//

#include "qcc/Dialect/Q/IR/QDialect.h"

#include "qcc/Dialect/Q/IR/QAttrs.h"
#include "qcc/Dialect/Q/IR/QOps.h"
#include "qcc/Dialect/Q/IR/QTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qcc::q;

#include "qcc/Dialect/Q/IR/QOpsDialect.cpp.inc"
#include "qcc/Dialect/Q/IR/QEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qcc/Dialect/Q/IR/QAttrs.cpp.inc"

void QDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qcc/Dialect/Q/IR/QOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qcc/Dialect/Q/IR/QAttrs.cpp.inc"
      >();
  registerTypes();
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

LogicalResult
SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned bits,
                   bool isSigned, Granularity granularity, int64_t axis,
                   int64_t groupSize, bool symmetric) {
  if (bits < 2 || bits > 8)
    return emitError() << "bit width must be in [2, 8], got " << bits;
  if (axis < 0)
    return emitError() << "axis must be non-negative, got " << axis;
  if (granularity == Granularity::PerGroup && groupSize <= 0)
    return emitError() << "per_group scheme needs a positive group_size";
  if (granularity != Granularity::PerGroup && groupSize != 0)
    return emitError() << "group_size is only meaningful for per_group";
  return success();
}

int64_t SchemeAttr::getMinCode() const {
  return getIsSigned() ? -(int64_t(1) << (getBits() - 1)) : 0;
}

int64_t SchemeAttr::getMaxCode() const {
  return getIsSigned() ? (int64_t(1) << (getBits() - 1)) - 1
                     : (int64_t(1) << getBits()) - 1;
}
