//===- QuantUtils.cpp - helpers shared by the quantization passes ---------===//

#include "qcc/Passes/QuantUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <cmath>
#include <cstring>

using namespace mlir;

std::optional<std::vector<float>> qcc::getFloatValues(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isF32())
    return std::nullopt;
  std::vector<float> values(type.getNumElements());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != values.size() * sizeof(float))
      return std::nullopt;
    std::memcpy(values.data(), blob->getData().data(),
                values.size() * sizeof(float));
    return values;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  int64_t i = 0;
  for (float v : dense.getValues<float>())
    values[i++] = v;
  return values;
}

FailureOr<std::vector<float>> qcc::readChannelAbsMax(Operation *op,
                                                    ElementsAttr absMax,
                                                    int64_t k) {
  constexpr llvm::StringLiteral name = "qcc.act_channel_absmax";
  auto dense = dyn_cast<DenseElementsAttr>(absMax);
  if (!dense || !dense.getElementType().isF32() ||
      dense.getNumElements() != k)
    return op->emitOpError(name)
           << " must hold " << k << " f32 values (one per input channel), got "
           << absMax.getType();
  std::vector<float> values;
  values.reserve(k);
  for (float v : dense.getValues<float>()) {
    if (!std::isfinite(v) || v < 0.0f)
      return op->emitOpError(name) << " must be finite and >= 0, got " << v;
    values.push_back(v);
  }
  return values;
}

std::string qcc::getNodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(inner))
        return name.getName().str();
  return "";
}

/// `x + y` (`add`) or `x * y` element by element over `x`'s shape; `y` has
/// that shape, or only its last dimension (`yLastDimOnly`).
static Value elementwise(OpBuilder &b, Location loc, Value x, Value y,
                         bool yLastDimOnly, bool add) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap yMap =
      yLastDimOnly
          ? AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, b.getContext())},
                           b.getContext())
          : id;
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), b.getF32Type());
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{x, y}, ValueRange{empty},
             ArrayRef<AffineMap>{id, yMap, id}, parallel,
             [add](OpBuilder &nb, Location nloc, ValueRange args) {
               Value v = add ? Value(arith::AddFOp::create(nb, nloc, args[0],
                                                           args[1]))
                             : Value(arith::MulFOp::create(nb, nloc, args[0],
                                                           args[1]));
               linalg::YieldOp::create(nb, nloc, v);
             })
      .getResult(0);
}

Value qcc::scaleLastDim(OpBuilder &b, Location loc, Value x, Value s) {
  return elementwise(b, loc, x, s, /*yLastDimOnly=*/true, /*add=*/false);
}

Value qcc::addTensors(OpBuilder &b, Location loc, Value x, Value y) {
  return elementwise(b, loc, x, y, /*yLastDimOnly=*/false, /*add=*/true);
}

void qcc::appendReportEntry(Operation *op, StringRef attrName,
                            ArrayRef<NamedAttribute> fields) {
  Operation *holder = op->getParentOfType<FunctionOpInterface>();
  if (!holder)
    return;
  Builder b(op->getContext());
  SmallVector<Attribute> entries;
  if (auto existing = holder->getAttrOfType<ArrayAttr>(attrName))
    entries.assign(existing.begin(), existing.end());
  entries.push_back(b.getDictionaryAttr(fields));
  holder->setAttr(attrName, b.getArrayAttr(entries));
}

SmallVector<DictionaryAttr> qcc::collectReportEntries(ModuleOp module,
                                                      StringRef attrName) {
  SmallVector<DictionaryAttr> entries;
  auto take = [&](Operation *holder) {
    if (auto array = holder->getAttrOfType<ArrayAttr>(attrName))
      for (Attribute attr : array)
        if (auto d = dyn_cast<DictionaryAttr>(attr))
          entries.push_back(d);
  };
  take(module);
  for (Operation &op : module.getBody()->getOperations())
    if (isa<FunctionOpInterface>(op))
      take(&op);
  return entries;
}

int64_t qcc::fitGroupSize(int64_t k, int64_t groupSize) {
  int64_t group = groupSize;
  while (group > 8 && k % group != 0)
    group /= 2;
  return group > 0 && k % group == 0 ? group : 0;
}

void qcc::composeCalibChannelFactor(Operation *op, ArrayRef<float> factor) {
  std::vector<float> composed(factor.begin(), factor.end());
  if (auto old = op->getAttrOfType<DenseElementsAttr>(kCalibChannelFactor);
      old && old.getElementType().isF32() &&
      old.getNumElements() == static_cast<int64_t>(composed.size())) {
    size_t j = 0;
    for (float v : old.getValues<float>())
      composed[j++] *= v;
  }
  Builder b(op->getContext());
  op->setAttr(kCalibChannelFactor,
              DenseElementsAttr::get(
                  RankedTensorType::get(
                      {static_cast<int64_t>(composed.size())}, b.getF32Type()),
                  ArrayRef<float>(composed)));
}
