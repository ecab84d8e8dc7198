//===- QMatmulLowering.cpp - q.matmul on memrefs to CPU code --------------===//
//
// Two lowerings of a bufferized `q.matmul`:
//
// * Register-tiled AVX-512 kernels (QMatmulKernels.cpp) for int8 weights x
//   int8 activations, int4 weights (symmetric or with zero points) x int8
//   activations, and int4 weights x f32 activations; without VNNI, their
//   AVX2 forms (QMatmulKernelsAvx2.cpp). The weight is repacked
//   at compile time into the kernel's own layout; int8 activations are
//   quantized per token at run time (or per tensor from calibration) once,
//   before the tiles run.
// * A portable path for every other case (other schemes): the
//   weight is decoded to f32 into a scratch buffer and multiplied by
//   linalg.matmul, which the f32 microkernel then handles. Quantized
//   activations are quantized and dequantized first, so every target
//   computes the same numbers.
//
// This file holds the driver, the activation quantization and the portable
// path.
//
//===----------------------------------------------------------------------===//

#include "QMatmulLowering.h"
#include "OutputInit.h"

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>
#include <type_traits>

namespace qcc::cpu {
#define GEN_PASS_DEF_CPULOWERQMATMUL
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;
using namespace qcc;
using namespace qcc::cpu::detail;

/// Raw bytes of a weight constant's storage.
static std::optional<std::vector<int8_t>> storageBytes(ElementsAttr storage) {
  std::vector<int8_t> bytes;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(storage)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    bytes.assign(data.begin(), data.end());
    return bytes;
  }
  auto dense = dyn_cast<DenseIntElementsAttr>(storage);
  if (!dense)
    return std::nullopt;
  for (APInt v : dense.getValues<APInt>())
    bytes.push_back(static_cast<int8_t>(v.getSExtValue()));
  return bytes;
}

int64_t qcc::cpu::detail::decodeCode(ArrayRef<int8_t> bytes,
                                     q::WeightType type, int64_t k,
                                     int64_t n) {
  int64_t numK = type.getShape()[0], numN = type.getShape()[1];
  unsigned bits = type.getScheme().getBits();
  bool isSigned = type.getScheme().getIsSigned();
  auto extend = [&](int64_t raw) {
    raw &= (int64_t(1) << bits) - 1;
    if (isSigned && raw >= (int64_t(1) << (bits - 1)))
      raw -= int64_t(1) << bits;
    return raw;
  };
  switch (type.getLayout()) {
  case q::Layout::RowMajor:
    return extend(bytes[k * numN + n]);
  case q::Layout::PackedK: {
    int64_t perByte = 8 % bits == 0 ? 8 / bits : 1;
    if (perByte == 1)
      return extend(bytes[k * numN + n]);
    // Full bytes along K: element (k, n) is in byte (k / perByte) * N + n;
    // the last K % perByte rows are packed row-major after them.
    int64_t fullK = numK / perByte * perByte;
    if (k < fullK) {
      int64_t byte = static_cast<uint8_t>(bytes[(k / perByte) * numN + n]);
      return extend(byte >> ((k % perByte) * bits));
    }
    int64_t t = (k - fullK) * numN + n;
    int64_t byte =
        static_cast<uint8_t>(bytes[(numK / perByte) * numN + t / perByte]);
    return extend(byte >> ((t % perByte) * bits));
  }
  case q::Layout::VnniK4N16: {
    int64_t index = ((n / 16) * (numK / 4) + k / 4) * 64 + (n % 16) * 4 + k % 4;
    return extend(bytes[index]);
  }
  case q::Layout::VnniK8N16: {
    int64_t index =
        ((n / 16) * (numK / 8) + k / 8) * 64 + (n % 16) * 4 + (k % 8) % 4;
    int64_t byte = static_cast<uint8_t>(bytes[index]);
    return extend(k % 8 < 4 ? byte : byte >> 4);
  }
  }
  return 0;
}

LogicalResult QMatmulLowering::run() {
  auto weightConst = op.getWeight().getDefiningOp<q::WeightConstantOp>();
  if (!weightConst)
    return op.emitOpError("weight must be a q.weight_constant when lowered "
                          "for the CPU");
  std::optional<std::vector<int8_t>> bytes =
      storageBytes(weightConst.getStorage());
  if (!bytes || static_cast<int64_t>(bytes->size()) != type.getStorageBytes())
    return op.emitOpError("cannot read the weight's storage bytes");
  weightBytes = std::move(*bytes);
  for (Value v : op->getOperands())
    if (auto memref = dyn_cast<MemRefType>(v.getType()))
      if (!memref.hasStaticShape())
        return op.emitOpError("operands must be statically shaped");
  if (!cast<MemRefType>(op.getInput().getType()).getElementType().isF32() ||
      !cast<MemRefType>(op.getInit().getType()).getElementType().isF32() ||
      !cast<MemRefType>(op.getScales().getType()).getElementType().isF32())
    return op.emitOpError("the CPU lowering supports f32 activations and "
                          "scales");
  numK = type.getShape()[0];
  numN = type.getShape()[1];
  // q.matmul overwrites its output: a fill of it, or a copy of a zero
  // buffer into it, right before is dead (a whole serial pass over it).
  Operation *deadInit = outputInitWriter(op, op.getInit());
  // Strided views (slices, transposes folded by bufferization) are copied
  // into contiguous buffers; the kernels index rows densely.
  x = collapseTo2D(contiguous(op.getInput()));
  Value init = op.getInit();
  Value denseInit = contiguous(init, /*copyIn=*/false);
  out = collapseTo2D(denseInit);
  numRows = cast<MemRefType>(x.getType()).getShape()[0];
  if (failed(prepareOutliers()))
    return failure();

  if (std::optional<KernelKind> kind = selectKernel())
    emitKernel(*kind);
  else
    emitPortable();
  emitOutlierEpilogue();
  if (denseInit != init) {
    memref::CopyOp::create(b, loc, denseInit, init);
    memref::DeallocOp::create(b, loc, denseInit);
  }
  op->erase();
  if (deadInit)
    eraseOutputInit(deadInit);
  return success();
}

std::optional<KernelKind> QMatmulLowering::selectKernel() {
  q::SchemeAttr s = type.getScheme();
  // Without VNNI the int8-activation kernels have AVX2 forms
  // (QMatmulKernelsAvx2.cpp) on 8-column blocks.
  bool avx2 = !hasVnni && hasAvx2;
  if (!(hasVnni || avx2) || numN % (hasVnni ? 16 : 8) != 0 || numRows == 0)
    return std::nullopt;
  Value zeros = op.getZeroPoints();
  if (s.getBits() == 8 && s.getIsSigned() && s.getSymmetric() && !zeros &&
      s.getGranularity() == q::Granularity::PerChannel && s.getAxis() == 1 &&
      (numK % 4 == 0 || avx2) && actQuantized())
    return KernelKind::W8A8;
  if (s.getBits() != 4 || s.getGranularity() != q::Granularity::PerGroup ||
      s.getAxis() != 0 || s.getGroupSize() % 8 != 0 ||
      numK % s.getGroupSize() != 0)
    return std::nullopt;
  // Symmetric: signed codes, no zero points; asymmetric: unsigned codes
  // with integer zero points per (group, column).
  bool sym = s.getSymmetric() && s.getIsSigned() && !zeros;
  bool asym = !s.getSymmetric() && !s.getIsSigned() && zeros;
  if (!sym && !asym)
    return std::nullopt;
  return actQuantized() ? KernelKind::W4A8 : KernelKind::W4F32;
}

Value QMatmulLowering::f32(float v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// `value` itself when it is an identity-layout memref, else a fresh
/// contiguous buffer (holding a copy of it when `copyIn`).
Value QMatmulLowering::contiguous(Value value, bool copyIn) {
  auto type = cast<MemRefType>(value.getType());
  if (type.getLayout().isIdentity())
    return value;
  auto denseType = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer =
      memref::AllocOp::create(b, loc, denseType, b.getI64IntegerAttr(64));
  if (copyIn)
    memref::CopyOp::create(b, loc, value, buffer);
  return buffer;
}

Value QMatmulLowering::collapseTo2D(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 2)
    return memref;
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t i = 0; i < type.getRank() - 1; ++i)
    groups[0].push_back(i);
  groups[1].push_back(type.getRank() - 1);
  return memref::CollapseShapeOp::create(b, loc, memref, groups);
}

/// A reference to a new private constant global holding `values` (64-byte
/// aligned; the weight externalization may move it to the weight file).
Value QMatmulLowering::getGlobal(StringRef prefix, ElementsAttr values) {
  auto shaped = cast<ShapedType>(values.getType());
  auto memrefType = MemRefType::get(shaped.getShape(), shaped.getElementType());
  memref::GlobalOp global;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&symbols.getOp()->getRegion(0).front());
    global = memref::GlobalOp::create(
        b, loc, prefix, b.getStringAttr("private"), memrefType, values,
        /*constant=*/true, b.getI64IntegerAttr(64));
    symbols.insert(global);
  }
  return memref::GetGlobalOp::create(b, loc, memrefType, global.getSymName());
}

/// Large byte payloads go in a resource blob: DenseElementsAttr would hash
/// and unique every byte.
ElementsAttr QMatmulLowering::byteBlob(StringRef name, ArrayRef<int64_t> shape,
                                       ArrayRef<int8_t> data) {
  auto tensorType = RankedTensorType::get(shape, b.getI8Type());
  return DenseResourceElementsAttr::get(
      tensorType, name,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<char>(
          reinterpret_cast<const char *>(data.data()), data.size())));
}

ElementsAttr QMatmulLowering::weightFileConstant(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg)
    return {};
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!func || arg.getOwner() != &func.getBody().front() ||
      !func.getArgAttr(arg.getArgNumber(), "qcc.weight"))
    return {};
  auto module = func->getParentOfType<ModuleOp>();
  auto records =
      module ? module->getAttrOfType<ArrayAttr>(qcc::kWeightsAttrName)
             : ArrayAttr();
  if (!records || arg.getArgNumber() >= records.size())
    return {};
  auto record = dyn_cast<DictionaryAttr>(records[arg.getArgNumber()]);
  auto value = record ? record.getAs<ElementsAttr>("value") : ElementsAttr();
  auto memrefType = cast<MemRefType>(v.getType());
  if (!value || value.getShapedType().getShape() != memrefType.getShape() ||
      value.getElementType() != memrefType.getElementType())
    return {};
  return value;
}

/// The elements of a constant as int64 (integers, sign-extended) or float,
/// row-major; nullopt for other element types or an unreadable payload.
template <typename T>
static std::optional<std::vector<T>> constantValues(ElementsAttr attr) {
  Type element = attr.getElementType();
  int64_t count = attr.getNumElements();
  std::vector<T> values;
  values.reserve(count);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if constexpr (std::is_same_v<T, float>) {
      if (!element.isF32())
        return std::nullopt;
      for (float f : dense.getValues<float>())
        values.push_back(f);
    } else {
      if (!isa<IntegerType>(element))
        return std::nullopt;
      for (APInt v : dense.getValues<APInt>())
        values.push_back(v.getSExtValue());
    }
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  unsigned width = element.getIntOrFloatBitWidth();
  if (width % 8 != 0 || static_cast<int64_t>(data.size()) != count * (width / 8))
    return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    const char *p = data.data() + i * (width / 8);
    if constexpr (std::is_same_v<T, float>) {
      if (!element.isF32())
        return std::nullopt;
      float f;
      std::memcpy(&f, p, 4);
      values.push_back(f);
    } else {
      if (!isa<IntegerType>(element) || width > 64)
        return std::nullopt;
      uint64_t raw = 0;
      std::memcpy(&raw, p, width / 8); // little-endian host and target
      values.push_back(APInt(width, raw).getSExtValue());
    }
  }
  return values;
}

void QMatmulLowering::packGroupConstants(int64_t tileBlocks) {
  packedScales = packedZeros = Value();
  Value zeros = op.getZeroPoints();
  ElementsAttr scaleAttr = weightFileConstant(op.getScales());
  ElementsAttr zeroAttr = zeros ? weightFileConstant(zeros) : ElementsAttr();
  if (!scaleAttr || (zeros && !zeroAttr))
    return;
  std::optional<std::vector<float>> scales = constantValues<float>(scaleAttr);
  std::optional<std::vector<int64_t>> zeroValues;
  if (zeros)
    zeroValues = constantValues<int64_t>(zeroAttr);
  if (!scales || static_cast<int64_t>(scales->size()) != groups * numN ||
      (zeros && (!zeroValues ||
                 static_cast<int64_t>(zeroValues->size()) != groups * numN)))
    return;
  if (zeroValues && llvm::any_of(*zeroValues,
                                 [](int64_t z) { return z < 0 || z > 255; }))
    return;
  int64_t numBlocks = numN / 16;
  std::vector<float> s(static_cast<size_t>(groups * numN));
  std::vector<int8_t> z(zeroValues ? s.size() : 0);
  for (int64_t blk = 0; blk < numBlocks; ++blk)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t j = 0; j < 16; ++j) {
        // Like the weights: per column tile, group major.
        int64_t tile0 = blk / tileBlocks * tileBlocks;
        int64_t width = std::min(tileBlocks, numBlocks - tile0);
        size_t to = ((tile0 * groups + g * width + blk - tile0) * 16) + j;
        size_t from = g * numN + blk * 16 + j;
        s[to] = (*scales)[from];
        if (zeroValues)
          z[to] = static_cast<int8_t>(static_cast<uint8_t>((*zeroValues)[from]));
      }
  auto scaleType = RankedTensorType::get({groups * numN}, b.getF32Type());
  packedScales = getGlobal(
      "__qcc_kscale",
      DenseResourceElementsAttr::get(
          scaleType, "qcc_kscale",
          HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(s))));
  if (zeroValues)
    packedZeros = getGlobal(
        "__qcc_kzero", byteBlob("qcc_kzero", {groups * numN}, z));
}

void QMatmulLowering::emitPortable() {
  q::SchemeAttr scheme = type.getScheme();
  // Decode once per call into an f32 [K, N] scratch buffer. Every code is
  // known at compile time: emit them as an i8 row-major constant (one byte
  // per code) so the run-time loop is a plain convert.
  std::vector<int8_t> codes(numK * numN);
  for (int64_t k = 0; k < numK; ++k)
    for (int64_t n = 0; n < numN; ++n)
      codes[k * numN + n] =
          static_cast<int8_t>(decodeCode(weightBytes, type, k, n));
  Value codeBuf =
      getGlobal("__qcc_qcodes", byteBlob("qcc_qcodes", {numK, numN}, codes));
  auto floatType = MemRefType::get({numK, numN}, b.getF32Type());
  Value dequant =
      memref::AllocOp::create(b, loc, floatType, b.getI64IntegerAttr(64));
  Value scales = op.getScales();
  Value zeros = op.getZeroPoints();
  // 4-bit unsigned codes are stored as bytes 0..15; read them unsigned.
  bool unsignedCodes = !scheme.getIsSigned();
  auto kLoop = scf::ForOp::create(b, loc, index(0), index(numK), index(1));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value k = kLoop.getInductionVar();
    auto nLoop = scf::ForOp::create(b, loc, index(0), index(numN), index(1));
    b.setInsertionPointToStart(nLoop.getBody());
    Value n = nLoop.getInductionVar();
    Value code = memref::LoadOp::create(b, loc, codeBuf, ValueRange{k, n});
    Value real =
        unsignedCodes
            ? Value(arith::UIToFPOp::create(b, loc, b.getF32Type(), code))
            : Value(arith::SIToFPOp::create(b, loc, b.getF32Type(), code));
    SmallVector<Value> scaleIdx;
    switch (scheme.getGranularity()) {
    case q::Granularity::PerTensor:
      break;
    case q::Granularity::PerChannel:
      scaleIdx.push_back(scheme.getAxis() == 0 ? k : n);
      break;
    case q::Granularity::PerGroup: {
      Value g = index(scheme.getGroupSize());
      if (scheme.getAxis() == 0)
        scaleIdx = {arith::DivUIOp::create(b, loc, k, g), n};
      else
        scaleIdx = {k, arith::DivUIOp::create(b, loc, n, g)};
      break;
    }
    }
    if (zeros) {
      Value z = memref::LoadOp::create(b, loc, zeros, scaleIdx);
      Value zf = arith::SIToFPOp::create(b, loc, b.getF32Type(), z);
      real = arith::SubFOp::create(b, loc, real, zf);
    }
    Value s = memref::LoadOp::create(b, loc, scales, scaleIdx);
    real = arith::MulFOp::create(b, loc, real, s);
    memref::StoreOp::create(b, loc, real, dequant, ValueRange{k, n});
  }
  Value lhs = x;
  Value codesX, scaleX;
  if (actQuantized()) {
    codesX = memref::AllocOp::create(
        b, loc, MemRefType::get({numRows, numK}, b.getI8Type()),
        b.getI64IntegerAttr(64));
    scaleX = memref::AllocOp::create(
        b, loc, MemRefType::get({numRows}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    emitActivationQuantization(codesX, scaleX, Value(), numK);
    lhs = memref::AllocOp::create(
        b, loc, MemRefType::get({numRows, numK}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value r = rows.getInductionVar();
    Value s = memref::LoadOp::create(b, loc, scaleX, ValueRange{r});
    auto cols = scf::ForOp::create(b, loc, index(0), index(numK), index(1));
    b.setInsertionPointToStart(cols.getBody());
    Value k = cols.getInductionVar();
    Value code = memref::LoadOp::create(b, loc, codesX, ValueRange{r, k});
    Value real = arith::MulFOp::create(
        b, loc, arith::SIToFPOp::create(b, loc, b.getF32Type(), code), s);
    memref::StoreOp::create(b, loc, real, lhs, ValueRange{r, k});
  }
  linalg::FillOp::create(b, loc, f32(0.0f), out);
  linalg::MatmulOp::create(b, loc, ValueRange{lhs, dequant}, ValueRange{out});
  if (codesX) {
    memref::DeallocOp::create(b, loc, codesX);
    memref::DeallocOp::create(b, loc, scaleX);
    memref::DeallocOp::create(b, loc, lhs);
  }
  if (op.getBias())
    addBias(op.getBias());
  memref::DeallocOp::create(b, loc, dequant);
}

void QMatmulLowering::addBias(Value bias) {
  auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rows.getBody());
  auto cols = scf::ForOp::create(b, loc, index(0), index(numN), index(1));
  b.setInsertionPointToStart(cols.getBody());
  Value r = rows.getInductionVar(), n = cols.getInductionVar();
  Value acc = memref::LoadOp::create(b, loc, out, ValueRange{r, n});
  Value bv = memref::LoadOp::create(b, loc, bias, ValueRange{n});
  memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, acc, bv), out,
                          ValueRange{r, n});
}

void QMatmulLowering::emitActivationQuantization(Value codes, Value scales,
                                                 Value groupSums,
                                                 int64_t groupSize) {
  auto vf = VectorType::get({16}, b.getF32Type());
  auto vi32 = VectorType::get({16}, b.getI32Type());
  // i8 codes, or i16 for the AVX2 kernels' vpmaddwd.
  Type codeType = cast<MemRefType>(codes.getType()).getElementType();
  auto vCode = VectorType::get({16}, codeType);
  OpBuilder::InsertionGuard guard(b);
  // Rows are independent: inputs from 16K values quantize them on the
  // pool's threads (16 x 1536, ~6 us serial, took a fifth of a 2-thread
  // 1536x384 int8 product's time; a region costs ~1 us while the workers
  // spin).
  Value r;
  if (parallelize() && numRows > 1 && numRows * numK >= (int64_t(1) << 14)) {
    auto rows = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                        ValueRange{index(numRows)},
                                        ValueRange{index(1)});
    b.setInsertionPoint(rows.getBody()->getTerminator());
    r = rows.getInductionVars()[0];
  } else {
    auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
    b.setInsertionPointToStart(rows.getBody());
    r = rows.getInductionVar();
  }
  int64_t vecK = numK / 16 * 16;
  Value scale, inv;
  if (op.getActQuant() == q::ActQuant::StaticPerTensor) {
    scale = memref::LoadOp::create(b, loc, op.getActScale(), ValueRange{});
    inv = arith::DivFOp::create(b, loc, f32(1.0f), scale);
  } else {
    // max |x| over the row, vectorized with a scalar tail. The vector part
    // takes the max of |x|'s bit patterns as unsigned i32 (sign bit
    // cleared): for non-negative floats that order is the float order, so
    // the maximum is the same value, and NaN (bits above +inf) still wins.
    // A float max (arith.maximumf) lowers to a 5-instruction NaN-handling
    // chain through the accumulator, ~12 cycles per 16 values: a quarter of
    // the 1536x384 M=128 int8 product's time on Zen 5 (perf).
    Value zeroVec = arith::ConstantOp::create(
        b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 0)));
    Value absMask = arith::ConstantOp::create(
        b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 0x7fffffff)));
    auto maxLoop = scf::ForOp::create(b, loc, index(0), index(vecK), index(16),
                                      ValueRange{zeroVec});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(maxLoop.getBody());
      Value v = vector::LoadOp::create(
          b, loc, vf, x, ValueRange{r, maxLoop.getInductionVar()});
      v = applyOutlierMask(v, maxLoop.getInductionVar());
      Value bits = arith::AndIOp::create(
          b, loc, vector::BitCastOp::create(b, loc, vi32, v), absMask);
      Value m =
          arith::MaxUIOp::create(b, loc, bits, maxLoop.getRegionIterArgs()[0]);
      scf::YieldOp::create(b, loc, m);
    }
    Value m = arith::BitcastOp::create(
        b, loc, b.getF32Type(),
        vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXUI,
                                    maxLoop.getResult(0)));
    auto tail = scf::ForOp::create(b, loc, index(vecK), index(numK), index(1),
                                   ValueRange{m});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(tail.getBody());
      Value v =
          memref::LoadOp::create(b, loc, x, ValueRange{r, tail.getInductionVar()});
      v = applyOutlierMask(v, tail.getInductionVar());
      Value a = math::AbsFOp::create(b, loc, v);
      scf::YieldOp::create(b, loc,
                           Value(arith::MaximumFOp::create(
                               b, loc, a, tail.getRegionIterArgs()[0])));
    }
    // A zero row keeps scale 1 so that 0 * inf never appears.
    Value absMax = tail.getResult(0);
    Value isZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                         absMax, f32(0.0f));
    Value safeMax = arith::SelectOp::create(b, loc, isZero, f32(127.0f), absMax);
    scale = arith::DivFOp::create(b, loc, safeMax, f32(127.0f));
    inv = arith::DivFOp::create(b, loc, f32(127.0f), safeMax);
  }
  memref::StoreOp::create(b, loc, scale, scales, ValueRange{r});

  // q = clamp(roundeven(x / scale), -128, 127) as i32 (vector or scalar).
  auto quantize = [&](Value v, Type floatType, Type intType) -> Value {
    auto splat = [&](float c) -> Value {
      if (auto vec = dyn_cast<VectorType>(floatType))
        return arith::ConstantOp::create(b, loc, vec,
                                         DenseElementsAttr::get(vec, c));
      return f32(c);
    };
    Value invV = isa<VectorType>(floatType)
                     ? Value(vector::BroadcastOp::create(b, loc, floatType, inv))
                     : inv;
    Value scaled = arith::MulFOp::create(b, loc, v, invV);
    Value rounded = math::RoundEvenOp::create(b, loc, scaled);
    Value clamped = arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, rounded, splat(-128.0f)),
        splat(127.0f));
    return arith::FPToSIOp::create(b, loc, intType, clamped);
  };
  // Per group: a vector loop over 16 K values at a time with the codes'
  // sum as an i32 vector, then a scalar tail.
  int64_t groupCount = numK / groupSize;
  int64_t vecGroup = groupSize / 16 * 16;
  Value zeroI = arith::ConstantOp::create(
      b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 0)));
  auto gLoop = scf::ForOp::create(b, loc, index(0), index(groupCount), index(1));
  b.setInsertionPointToStart(gLoop.getBody());
  Value g = gLoop.getInductionVar();
  Value k0 = arith::MulIOp::create(b, loc, g, index(groupSize));
  auto qLoop = scf::ForOp::create(b, loc, index(0), index(vecGroup), index(16),
                                  ValueRange{zeroI});
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(qLoop.getBody());
    Value k = arith::AddIOp::create(b, loc, k0, qLoop.getInductionVar());
    Value v = vector::LoadOp::create(b, loc, vf, x, ValueRange{r, k});
    v = applyOutlierMask(v, k);
    Value q = quantize(v, vf, vi32);
    vector::StoreOp::create(b, loc, arith::TruncIOp::create(b, loc, vCode, q),
                            codes, ValueRange{r, k});
    scf::YieldOp::create(
        b, loc,
        Value(arith::AddIOp::create(b, loc, q, qLoop.getRegionIterArgs()[0])));
  }
  Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                          qLoop.getResult(0));
  auto qTail = scf::ForOp::create(b, loc, index(vecGroup), index(groupSize),
                                  index(1), ValueRange{sum});
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(qTail.getBody());
    Value k = arith::AddIOp::create(b, loc, k0, qTail.getInductionVar());
    Value v = memref::LoadOp::create(b, loc, x, ValueRange{r, k});
    v = applyOutlierMask(v, k);
    Value q = quantize(v, b.getF32Type(), b.getI32Type());
    memref::StoreOp::create(b, loc,
                            arith::TruncIOp::create(b, loc, codeType, q),
                            codes, ValueRange{r, k});
    scf::YieldOp::create(
        b, loc,
        Value(arith::AddIOp::create(b, loc, q, qTail.getRegionIterArgs()[0])));
  }
  if (groupSums)
    memref::StoreOp::create(b, loc, qTail.getResult(0), groupSums,
                            ValueRange{r, g});
}

namespace {

struct CpuLowerQMatmulPass
    : public qcc::cpu::impl::CpuLowerQMatmulBase<CpuLowerQMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (tileRows < 0 || tileColBlocks < 0) {
      module.emitError("tile-rows and tile-col-blocks must be >= 0");
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    SmallVector<q::MatmulOp> matmuls;
    module.walk([&](q::MatmulOp op) { matmuls.push_back(op); });
    TileOptions tile{tileRows, tileColBlocks};
    for (q::MatmulOp op : matmuls) {
      if (op.hasPureTensorSemantics()) {
        op.emitOpError("must be bufferized before the CPU lowering");
        return signalPassFailure();
      }
      if (failed(
              QMatmulLowering(op, vnni, avx2, parallelMinFmas, tile, symbols)
                  .run()))
        return signalPassFailure();
    }
    // Weight constants are dead once every matmul reading them is lowered.
    module.walk([&](q::WeightConstantOp op) {
      if (op->use_empty())
        op->erase();
    });
  }
};

} // namespace
