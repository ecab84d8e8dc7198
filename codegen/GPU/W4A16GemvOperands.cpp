//===- W4A16GemvOperands.cpp - operands of the GPU q.matmul lowerings ------===//
//
// The helpers of W4A16Gemv.h that read the compile-time values of a
// q.matmul's weight operands (constant globals, or entry arguments the
// weight externalization made of constants) and shape the buffers of the
// quantized matmul lowerings (qcc-gpu-lower-qmatmul, qcc-gpu-w4a16-gemm,
// qcc-gpu-mma-qmatmul).
//
//===----------------------------------------------------------------------===//

#include "W4A16Gemv.h"

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace qcc::gpu {

ElementsAttr constantOperand(Value v, SymbolTable &symbols) {
  if (auto get = v.getDefiningOp<memref::GetGlobalOp>()) {
    auto global = symbols.lookup<memref::GlobalOp>(get.getName());
    if (global && global.getConstant())
      return dyn_cast_or_null<ElementsAttr>(global.getInitialValueAttr());
    return {};
  }
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg)
    return {};
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!func || !func.getArgAttr(arg.getArgNumber(), "qcc.weight"))
    return {};
  auto records = symbols.getOp()->getAttrOfType<ArrayAttr>(kWeightsAttrName);
  if (!records || arg.getArgNumber() >= records.size())
    return {};
  return cast<DictionaryAttr>(records[arg.getArgNumber()])
      .getAs<ElementsAttr>("value");
}

std::optional<std::vector<double>> constantNumbers(ElementsAttr attr) {
  std::vector<double> values;
  Type element = attr.getElementType();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (element.isF32())
      for (float v : dense.getValues<float>())
        values.push_back(v);
    else if (element.isInteger())
      for (const APInt &v : dense.getValues<APInt>())
        values.push_back(double(v.getSExtValue()));
    else
      return std::nullopt;
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob)
    return std::nullopt;
  ArrayRef<char> raw = blob->getData();
  int64_t n = attr.getNumElements();
  if (element.isF32() && int64_t(raw.size()) == 4 * n) {
    const float *p = reinterpret_cast<const float *>(raw.data());
    values.assign(p, p + n);
  } else if (element.isInteger(32) && int64_t(raw.size()) == 4 * n) {
    const int32_t *p = reinterpret_cast<const int32_t *>(raw.data());
    values.assign(p, p + n);
  } else if (element.isInteger(8) && int64_t(raw.size()) == n) {
    const int8_t *p = reinterpret_cast<const int8_t *>(raw.data());
    values.assign(p, p + n);
  } else {
    return std::nullopt;
  }
  return values;
}

std::optional<std::vector<uint8_t>> constantBytes(ElementsAttr attr) {
  if (!attr.getElementType().isInteger(8))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    std::vector<uint8_t> bytes;
    bytes.reserve(attr.getNumElements());
    for (int8_t v : dense.getValues<int8_t>())
      bytes.push_back(uint8_t(v));
    return bytes;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || int64_t(blob->getData().size()) != attr.getNumElements())
    return std::nullopt;
  ArrayRef<char> raw = blob->getData();
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

Value contiguousBuffer(OpBuilder &b, Location loc, Value value, bool copyIn) {
  auto type = cast<MemRefType>(value.getType());
  if (type.getLayout().isIdentity())
    return value;
  Value buffer = memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()));
  if (copyIn)
    memref::CopyOp::create(b, loc, value, buffer);
  return buffer;
}

Value collapseToRows(OpBuilder &b, Location loc, Value value) {
  auto type = cast<MemRefType>(value.getType());
  if (type.getRank() == 2)
    return value;
  ReassociationIndices leading;
  int64_t rows = 1;
  for (int64_t i = 0; i + 1 < type.getRank(); ++i) {
    leading.push_back(i);
    rows *= type.getDimSize(i);
  }
  return memref::CollapseShapeOp::create(
      b, loc,
      MemRefType::get({rows, type.getShape().back()}, type.getElementType()),
      value, ArrayRef<ReassociationIndices>{leading, {type.getRank() - 1}});
}

LogicalResult rejectOutlierMatmuls(ModuleOp module) {
  bool found = false;
  module.walk([&](q::MatmulOp op) {
    if (!op.getOutlierWeight())
      return;
    op.emitOpError("with outlier channels has no GPU lowering (keep the "
                   "qcc-retain-outliers split unfused for GPU targets)");
    found = true;
  });
  return failure(found);
}

} // namespace qcc::gpu
