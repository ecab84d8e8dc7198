//===- QOps.cpp - q dialect ops -------------------------------------------===//

#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qcc::q;

/// Shape that scale and zero-point operands must have for a tensor of
/// `shape` quantized with `scheme`.
static SmallVector<int64_t> expectedScaleShape(ArrayRef<int64_t> shape,
                                               SchemeAttr scheme) {
  switch (scheme.getGranularity()) {
  case Granularity::PerTensor:
    return {};
  case Granularity::PerChannel:
    return {shape[scheme.getAxis()]};
  case Granularity::PerGroup: {
    SmallVector<int64_t> result(shape.begin(), shape.end());
    result[scheme.getAxis()] /= scheme.getGroupSize();
    return result;
  }
  }
  return {};
}

static std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(shape, os, "x");
  return text;
}

/// Checks the scale/zero-point operands of an op that maps between codes of
/// shape `shape` and real values under `scheme`.
static LogicalResult verifyScaleOperands(Operation *op, ArrayRef<int64_t> shape,
                                         SchemeAttr scheme, Value scales,
                                         Value zeroPoints) {
  if (scheme.getGranularity() != Granularity::PerTensor &&
      scheme.getAxis() >= static_cast<int64_t>(shape.size()))
    return op->emitOpError("scheme axis ")
           << scheme.getAxis() << " is out of range for rank " << shape.size();
  if (scheme.getGranularity() == Granularity::PerGroup &&
      shape[scheme.getAxis()] % scheme.getGroupSize() != 0)
    return op->emitOpError("dimension ")
           << shape[scheme.getAxis()] << " is not a multiple of group size "
           << scheme.getGroupSize();
  SmallVector<int64_t> expected = expectedScaleShape(shape, scheme);
  auto scaleType = cast<ShapedType>(scales.getType());
  if (scaleType.getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError("scales must have shape ")
           << formatShape(expected) << " for this scheme, got "
           << formatShape(scaleType.getShape());
  if (scheme.getSymmetric() && zeroPoints)
    return op->emitOpError("symmetric schemes take no zero points");
  if (!scheme.getSymmetric() && !zeroPoints)
    return op->emitOpError("asymmetric schemes need zero points");
  if (zeroPoints &&
      cast<ShapedType>(zeroPoints.getType()).getShape() !=
          scaleType.getShape())
    return op->emitOpError("zero points must have the shape of the scales");
  return success();
}

/// Shared by quantize and dequantize: `codes` is the integer side.
static LogicalResult verifyQuantizeLike(Operation *op, RankedTensorType floats,
                                        RankedTensorType codes, Value scales,
                                        Value zeroPoints,
                                        std::optional<SchemeAttr> scheme) {
  if (floats.getShape() != codes.getShape())
    return op->emitOpError("input and result shapes differ");
  Type codeElement = codes.getElementType();
  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(codeElement)) {
    if (scales || zeroPoints || scheme)
      return op->emitOpError(
          "a !quant.uniform type carries its scale; no scales, zero points "
          "or scheme may be given");
    if (uniform.getExpressedType() != floats.getElementType())
      return op->emitOpError("expressed type ")
             << uniform.getExpressedType() << " does not match "
             << floats.getElementType();
    return success();
  }
  if (isa<quant::QuantizedType>(codeElement))
    return op->emitOpError("only !quant.uniform quantized types are supported");
  if (!scheme || !scales)
    return op->emitOpError("integer codes need a scheme and scales");
  if (cast<IntegerType>(codeElement).getWidth() < scheme->getBits())
    return op->emitOpError("code type ")
           << codeElement << " cannot hold " << scheme->getBits()
           << "-bit codes";
  return verifyScaleOperands(op, codes.getShape(), *scheme, scales, zeroPoints);
}

LogicalResult QuantizeOp::verify() {
  return verifyQuantizeLike(*this, getInput().getType(), getResult().getType(),
                            getScales(), getZeroPoints(), getScheme());
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantizeLike(*this, getResult().getType(), getInput().getType(),
                            getScales(), getZeroPoints(), getScheme());
}

LogicalResult WeightConstantOp::verify() {
  auto storageType = dyn_cast<RankedTensorType>(getStorage().getType());
  WeightType weightType = getResult().getType();
  if (!storageType || storageType != weightType.getStorageType())
    return emitOpError("storage must be ")
           << weightType.getStorageType() << " for " << weightType << ", got "
           << getStorage().getType();
  return success();
}

OpFoldResult WeightConstantOp::fold(FoldAdaptor) { return getStorage(); }

LogicalResult PackOp::verify() {
  WeightType weightType = getResult().getType();
  if (getCodes().getType().getShape() != weightType.getShape())
    return emitOpError("codes shape does not match the weight shape");
  return success();
}

LogicalResult UnpackOp::verify() {
  WeightType weightType = getWeight().getType();
  if (getCodes().getType().getShape() != weightType.getShape())
    return emitOpError("codes shape does not match the weight shape");
  return success();
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

LogicalResult MatmulOp::verify() {
  auto inputType = cast<ShapedType>(getInput().getType());
  auto initType = cast<ShapedType>(getInit().getType());
  WeightType weightType = getWeight().getType();
  int64_t k = weightType.getShape()[0];
  int64_t n = weightType.getShape()[1];
  bool tensors = isa<RankedTensorType>(initType);
  for (Value operand : getOperands())
    if (isa<ShapedType>(operand.getType()) &&
        isa<RankedTensorType>(operand.getType()) != tensors)
      return emitOpError("operands must be all tensors or all memrefs");
  if (tensors != (getNumResults() == 1))
    return emitOpError(tensors ? "on tensors the op returns the updated init"
                               : "on memrefs the op has no result");
  if (tensors && getResult()[0].getType() != initType)
    return emitOpError("result type must be the init type");
  if (inputType.getRank() < 2 || initType.getRank() != inputType.getRank())
    return emitOpError("input and init must have the same rank >= 2");
  if (inputType.getShape().back() != k)
    return emitOpError("input reduction dimension ")
           << inputType.getShape().back() << " does not match weight K " << k;
  if (initType.getShape().back() != n ||
      initType.getShape().drop_back() != inputType.getShape().drop_back())
    return emitOpError("init shape must be the input shape with the last "
                       "dimension replaced by N = ")
           << n;
  if (failed(verifyScaleOperands(*this, weightType.getShape(),
                                 weightType.getScheme(), getScales(),
                                 getZeroPoints())))
    return failure();
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{n})
    return emitOpError("bias must have shape ") << n;
  bool needsActScale = getActQuant() == ActQuant::StaticPerTensor;
  if (needsActScale != static_cast<bool>(getActScale()))
    return emitOpError(needsActScale
                           ? "static activation quantization needs act_scale"
                           : "act_scale is only used with static_per_tensor");
  if (getActScale() && !shapeOf(getActScale()).empty())
    return emitOpError("act_scale must have rank 0");
  std::optional<ArrayRef<int64_t>> channels = getOutlierChannels();
  if (static_cast<bool>(channels) != static_cast<bool>(getOutlierWeight()))
    return emitOpError("outlier_channels and an outliers weight go together");
  if (channels) {
    if (channels->empty())
      return emitOpError("outlier_channels must not be empty");
    for (size_t i = 0; i < channels->size(); ++i) {
      int64_t c = (*channels)[i];
      if (c < 0 || c >= k)
        return emitOpError("outlier channel ")
               << c << " is out of range for K = " << k;
      if (i > 0 && c <= (*channels)[i - 1])
        return emitOpError("outlier_channels must be strictly increasing");
    }
    auto outlierType = cast<ShapedType>(getOutlierWeight().getType());
    int64_t kept = static_cast<int64_t>(channels->size());
    if (outlierType.getShape() != ArrayRef<int64_t>{kept, n} ||
        !outlierType.getElementType().isF32())
      return emitOpError("outliers weight must be ")
             << kept << "x" << n << " f32 (#outlier_channels x N), got "
             << outlierType;
  }
  return success();
}

void MatmulOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (hasPureTensorSemantics())
    return;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (&operand == &getInitMutable())
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

#define GET_OP_CLASSES
#include "qcc/Dialect/Q/IR/QOps.cpp.inc"
