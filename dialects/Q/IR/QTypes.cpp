//===- QTypes.cpp - q dialect types ---------------------------------------===//

#include "qcc/Dialect/Q/IR/QTypes.h"

#include "qcc/Dialect/Q/IR/QDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qcc::q;

#define GET_TYPEDEF_CLASSES
#include "qcc/Dialect/Q/IR/QOpsTypes.cpp.inc"

void QDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "qcc/Dialect/Q/IR/QOpsTypes.cpp.inc"
      >();
}

/// `!q.weight<KxNxi4, #q.scheme<...>, layout>`.
Type WeightType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type codeType;
  SchemeAttr scheme;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(codeType) || parser.parseComma() ||
      parser.parseAttribute(scheme) || parser.parseComma())
    return {};
  StringRef layoutName;
  SMLoc layoutLoc = parser.getCurrentLocation();
  if (parser.parseKeyword(&layoutName) || parser.parseGreater())
    return {};
  std::optional<Layout> layout = symbolizeLayout(layoutName);
  if (!layout) {
    parser.emitError(layoutLoc, "unknown weight layout '") << layoutName << "'";
    return {};
  }
  auto intType = dyn_cast<IntegerType>(codeType);
  if (!intType) {
    parser.emitError(parser.getNameLoc(), "weight codes must be integers");
    return {};
  }
  return parser.getChecked<WeightType>(parser.getContext(), shape, intType,
                                       scheme, *layout);
}

void WeightType::print(AsmPrinter &printer) const {
  printer << "<";
  for (int64_t dim : getShape())
    printer << dim << "x";
  printer << getCodeType() << ", " << getScheme() << ", "
          << stringifyLayout(getLayout()) << ">";
}

LogicalResult WeightType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, IntegerType codeType,
                                 SchemeAttr scheme, Layout layout) {
  if (shape.size() != 2)
    return emitError() << "quantized weights are matrices, got rank "
                       << shape.size();
  if (llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return emitError() << "weight dimensions must be static and positive";
  if (codeType.getWidth() != scheme.getBits())
    return emitError() << "code type " << codeType
                       << " does not match the scheme's " << scheme.getBits()
                       << " bits";
  if (scheme.getGranularity() != Granularity::PerTensor &&
      scheme.getAxis() >= 2)
    return emitError() << "scheme axis " << scheme.getAxis()
                       << " is out of range for a matrix";
  if (scheme.getGranularity() == Granularity::PerGroup &&
      shape[scheme.getAxis()] % scheme.getGroupSize() != 0)
    return emitError() << "dimension " << shape[scheme.getAxis()]
                       << " is not a multiple of the group size "
                       << scheme.getGroupSize();
  if (layout == Layout::VnniK4N16 && (shape[0] % 4 != 0 || shape[1] % 16 != 0))
    return emitError() << "vnni_k4n16 needs K % 4 == 0 and N % 16 == 0";
  if (layout == Layout::VnniK4N16 && scheme.getBits() != 8)
    return emitError() << "vnni_k4n16 holds 8-bit codes";
  if (layout == Layout::VnniK8N16 && (shape[0] % 8 != 0 || shape[1] % 16 != 0))
    return emitError() << "vnni_k8n16 needs K % 8 == 0 and N % 16 == 0";
  if (layout == Layout::VnniK8N16 && scheme.getBits() != 4)
    return emitError() << "vnni_k8n16 holds 4-bit codes";
  return success();
}

int64_t WeightType::getStorageBytes() const {
  int64_t elements = getShape()[0] * getShape()[1];
  if (getLayout() == Layout::VnniK8N16)
    return elements / 2;
  if (getLayout() == Layout::PackedK) {
    int64_t perByte = 8 / getScheme().getBits();
    if (8 % getScheme().getBits() != 0)
      perByte = 1;
    return (elements + perByte - 1) / perByte;
  }
  return elements;
}

RankedTensorType WeightType::getStorageType() const {
  return RankedTensorType::get({getStorageBytes()},
                               IntegerType::get(getContext(), 8));
}

RankedTensorType WeightType::getCodesType() const {
  return RankedTensorType::get(getShape(), IntegerType::get(getContext(), 8));
}
