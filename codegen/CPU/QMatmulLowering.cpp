//===- QMatmulLowering.cpp - q.matmul on memrefs to CPU code --------------===//
//
// Two lowerings of a bufferized `q.matmul`:
//
// * The VNNI kernels (int8 weights in vnni_k4n16, symmetric int4 weights in
//   groups in vnni_k8n16, with int8 activations quantized per token at run
//   time or per tensor from calibration). Activations are shifted by 128 to
//   u8 for `vpdpbusd` (u8 x s8); the shift's contribution, 128 * sum_k w[k,n]
//   per output column (and per group for int4), is computed here at compile
//   time from the weight bytes and stored as a constant.
// * A portable path for every other case (no VNNI, float activations, other
//   layouts): the weight is decoded to f32 into a scratch buffer with scalar
//   address arithmetic and multiplied by linalg.matmul, which the f32
//   microkernel then handles.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPULOWERQMATMUL
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;
using namespace qcc;

namespace {

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

/// Signed code of element (k, n) of a weight in `layout`, decoded from bytes.
static int64_t decodeCode(ArrayRef<int8_t> bytes, q::WeightType type,
                          int64_t k, int64_t n) {
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
    int64_t index = k * numN + n;
    if (perByte == 1)
      return extend(bytes[index]);
    // Packed along K: element (k, n) is in byte (k / perByte) * N + n.
    int64_t byte = static_cast<uint8_t>(bytes[(k / perByte) * numN + n]);
    return extend(byte >> ((k % perByte) * bits));
  }
  case q::Layout::VnniK4N16: {
    int64_t index = ((n / 16) * (numK / 4) + k / 4) * 64 + (n % 16) * 4 + k % 4;
    return extend(bytes[index]);
  }
  case q::Layout::VnniK8N16: {
    int64_t index = ((n / 16) * (numK / 8) + k / 8) * 64 + (n % 16) * 4 +
                    (k % 8) % 4;
    int64_t byte = static_cast<uint8_t>(bytes[index]);
    return extend(k % 8 < 4 ? byte : byte >> 4);
  }
  }
  return 0;
}

class QMatmulLowering {
public:
  QMatmulLowering(q::MatmulOp op, bool hasVnni, int64_t parallelMinFmas,
                  SymbolTable &symbols)
      : op(op), b(op), loc(op.getLoc()), hasVnni(hasVnni),
        parallelMinFmas(parallelMinFmas), symbols(symbols),
        type(op.getWeight().getType()) {}

  LogicalResult run() {
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
    // Strided views (slices, transposes folded by bufferization) are copied
    // into contiguous buffers; the kernels index rows densely.
    x = collapseTo2D(contiguous(op.getInput()));
    Value init = op.getInit();
    Value denseInit = contiguous(init, /*copyIn=*/false);
    out = collapseTo2D(denseInit);
    numRows = cast<MemRefType>(x.getType()).getShape()[0];

    if (useVnni8())
      emitVnni(/*int4=*/false);
    else if (useVnni4())
      emitVnni(/*int4=*/true);
    else
      emitPortable();
    if (denseInit != init) {
      memref::CopyOp::create(b, loc, denseInit, init);
      memref::DeallocOp::create(b, loc, denseInit);
    }
    op->erase();
    return success();
  }

private:
  bool actQuantized() { return op.getActQuant() != q::ActQuant::None; }

  bool useVnni8() {
    q::SchemeAttr s = type.getScheme();
    return hasVnni && actQuantized() && type.getLayout() == q::Layout::VnniK4N16 &&
           s.getBits() == 8 && s.getIsSigned() && s.getSymmetric() &&
           s.getGranularity() == q::Granularity::PerChannel && s.getAxis() == 1;
  }

  bool useVnni4() {
    q::SchemeAttr s = type.getScheme();
    return hasVnni && actQuantized() && type.getLayout() == q::Layout::VnniK8N16 &&
           s.getBits() == 4 && s.getIsSigned() && s.getSymmetric() &&
           s.getGranularity() == q::Granularity::PerGroup && s.getAxis() == 0 &&
           s.getGroupSize() % 8 == 0;
  }

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }

  /// `value` itself when it is an identity-layout memref, else a fresh
  /// contiguous buffer (holding a copy of it when `copyIn`).
  Value contiguous(Value value, bool copyIn = true) {
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

  Value collapseTo2D(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    if (type.getRank() == 2)
      return memref;
    SmallVector<ReassociationIndices> groups(2);
    for (int64_t i = 0; i < type.getRank() - 1; ++i)
      groups[0].push_back(i);
    groups[1].push_back(type.getRank() - 1);
    return memref::CollapseShapeOp::create(b, loc, memref, groups);
  }

  /// A reference to a new private constant global holding `values`
  /// (64-byte aligned; the weight externalization may move it to the weight
  /// file).
  Value getGlobal(StringRef prefix, ElementsAttr values) {
    auto shaped = cast<ShapedType>(values.getType());
    auto memrefType =
        MemRefType::get(shaped.getShape(), shaped.getElementType());
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
  ElementsAttr byteBlob(StringRef name, ArrayRef<int64_t> shape,
                        ArrayRef<int8_t> data) {
    auto tensorType = RankedTensorType::get(shape, b.getI8Type());
    return DenseResourceElementsAttr::get(
        tensorType, name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign(
            ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                           data.size())));
  }

  /// The weight bytes as a rank-1 i8 constant buffer.
  Value weightBuffer() {
    return getGlobal("__qcc_qweight",
                     byteBlob("qcc_qweight",
                              {static_cast<int64_t>(weightBytes.size())},
                              weightBytes));
  }

  /// Scalar (index, k, n) -> real weight value of the portable path.
  void emitPortable() {
    q::SchemeAttr scheme = type.getScheme();
    // Decode once per call into an f32 [K, N] scratch buffer. The decode is
    // generated from the same address formulas as `decodeCode`, but here at
    // compile time we already know every code: emit them as an i8 row-major
    // constant (one byte per code) so the run-time loop is a plain convert.
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
    auto kLoop = scf::ForOp::create(b, loc, index(0), index(numK), index(1));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k = kLoop.getInductionVar();
      auto nLoop = scf::ForOp::create(b, loc, index(0), index(numN), index(1));
      b.setInsertionPointToStart(nLoop.getBody());
      Value n = nLoop.getInductionVar();
      Value code = memref::LoadOp::create(b, loc, codeBuf, ValueRange{k, n});
      Value real = arith::SIToFPOp::create(b, loc, b.getF32Type(), code);
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
    // Quantized activations are quantized and dequantized row by row first,
    // so every target computes the same numbers as the VNNI kernels.
    Value lhs = x;
    Value qx, rowScale;
    if (actQuantized()) {
      qx = memref::AllocOp::create(
          b, loc, MemRefType::get({numRows, numK}, b.getI8Type()),
          b.getI64IntegerAttr(64));
      rowScale = memref::AllocOp::create(
          b, loc, MemRefType::get({numRows}, b.getF32Type()),
          b.getI64IntegerAttr(64));
      emitActivationQuantization(qx, rowScale);
      lhs = memref::AllocOp::create(
          b, loc, MemRefType::get({numRows, numK}, b.getF32Type()),
          b.getI64IntegerAttr(64));
      auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(rows.getBody());
      Value r = rows.getInductionVar();
      Value s = memref::LoadOp::create(b, loc, rowScale, ValueRange{r});
      auto cols = scf::ForOp::create(b, loc, index(0), index(numK), index(1));
      b.setInsertionPointToStart(cols.getBody());
      Value k = cols.getInductionVar();
      Value code = memref::LoadOp::create(b, loc, qx, ValueRange{r, k});
      Value wide = arith::ExtUIOp::create(b, loc, b.getI32Type(), code);
      Value centered = arith::SubIOp::create(
          b, loc, wide,
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(128)));
      Value real = arith::MulFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, b.getF32Type(), centered), s);
      memref::StoreOp::create(b, loc, real, lhs, ValueRange{r, k});
    }
    Value zero = f32(0.0f);
    linalg::FillOp::create(b, loc, zero, out);
    linalg::MatmulOp::create(b, loc, ValueRange{lhs, dequant}, ValueRange{out});
    if (qx) {
      memref::DeallocOp::create(b, loc, qx);
      memref::DeallocOp::create(b, loc, rowScale);
      memref::DeallocOp::create(b, loc, lhs);
    }
    if (op.getBias())
      addBias(op.getBias());
    memref::DeallocOp::create(b, loc, dequant);
  }

  void addBias(Value bias) {
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

  /// Quantizes every row of x to u8 (int8 + 128) into `qx` [R, K] and its
  /// scale into `rowScale` [R].
  void emitActivationQuantization(Value qx, Value rowScale) {
    auto vf = VectorType::get({16}, b.getF32Type());
    auto vi32 = VectorType::get({16}, b.getI32Type());
    auto vi8 = VectorType::get({16}, b.getI8Type());
    auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value r = rows.getInductionVar();
    int64_t vecK = numK / 16 * 16;
    Value scale, inv;
    if (op.getActQuant() == q::ActQuant::StaticPerTensor) {
      scale = memref::LoadOp::create(b, loc, op.getActScale(), ValueRange{});
      inv = arith::DivFOp::create(b, loc, f32(1.0f), scale);
    } else {
      // max |x| over the row, vectorized with a scalar tail.
      Value zeroVec = arith::ConstantOp::create(
          b, loc, vf, DenseElementsAttr::get(vf, 0.0f));
      auto maxLoop = scf::ForOp::create(b, loc, index(0), index(vecK),
                                        index(16), ValueRange{zeroVec});
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(maxLoop.getBody());
        Value v = vector::LoadOp::create(b, loc, vf, x,
                                         ValueRange{r, maxLoop.getInductionVar()});
        Value a = math::AbsFOp::create(b, loc, v);
        Value m = arith::MaximumFOp::create(b, loc, a,
                                            maxLoop.getRegionIterArgs()[0]);
        scf::YieldOp::create(b, loc, m);
      }
      Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                            maxLoop.getResult(0));
      auto tail = scf::ForOp::create(b, loc, index(vecK), index(numK), index(1),
                                     ValueRange{m});
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(tail.getBody());
        Value v = memref::LoadOp::create(b, loc, x,
                                         ValueRange{r, tail.getInductionVar()});
        Value a = math::AbsFOp::create(b, loc, v);
        scf::YieldOp::create(
            b, loc,
            Value(arith::MaximumFOp::create(b, loc, a, tail.getRegionIterArgs()[0])));
      }
      // A zero row keeps scale 1 so that 0 * inf never appears.
      Value absMax = tail.getResult(0);
      Value isZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                           absMax, f32(0.0f));
      Value safeMax = arith::SelectOp::create(b, loc, isZero, f32(127.0f), absMax);
      scale = arith::DivFOp::create(b, loc, safeMax, f32(127.0f));
      inv = arith::DivFOp::create(b, loc, f32(127.0f), safeMax);
    }
    memref::StoreOp::create(b, loc, scale, rowScale, ValueRange{r});

    // q = clamp(roundeven(x / scale), -128, 127) + 128, stored as a byte.
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
      Value shifted = arith::AddFOp::create(b, loc, clamped, splat(128.0f));
      Value asInt = arith::FPToSIOp::create(b, loc, intType, shifted);
      Type byteType = isa<VectorType>(intType) ? Type(vi8) : Type(b.getI8Type());
      return arith::TruncIOp::create(b, loc, byteType, asInt);
    };
    auto qLoop = scf::ForOp::create(b, loc, index(0), index(vecK), index(16));
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(qLoop.getBody());
      Value k = qLoop.getInductionVar();
      Value v = vector::LoadOp::create(b, loc, vf, x, ValueRange{r, k});
      vector::StoreOp::create(b, loc, quantize(v, vf, vi32), qx, ValueRange{r, k});
    }
    auto qTail = scf::ForOp::create(b, loc, index(vecK), index(numK), index(1));
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(qTail.getBody());
      Value k = qTail.getInductionVar();
      Value v = memref::LoadOp::create(b, loc, x, ValueRange{r, k});
      memref::StoreOp::create(b, loc,
                              quantize(v, b.getF32Type(), b.getI32Type()), qx,
                              ValueRange{r, k});
    }
  }

  /// Per column (int8) or per (group, column) (int4): 128 * sum of codes,
  /// the contribution of the +128 activation shift.
  DenseElementsAttr shiftCorrection(bool int4) {
    int64_t group = int4 ? type.getScheme().getGroupSize() : numK;
    int64_t groups = numK / group;
    std::vector<int32_t> corr(groups * numN, 0);
    for (int64_t k = 0; k < numK; ++k)
      for (int64_t n = 0; n < numN; ++n)
        corr[(k / group) * numN + n] +=
            128 * static_cast<int32_t>(decodeCode(weightBytes, type, k, n));
    auto t = RankedTensorType::get({groups, numN}, b.getI32Type());
    return DenseElementsAttr::get(t, ArrayRef<int32_t>(corr));
  }

  /// acc (16 x i32) += per-lane dot products of 4 u8 (a) and 4 s8 (w);
  /// LLVM 22's intrinsic takes the byte operands as <64 x i8>.
  Value dot(Value acc, Value a, Value w) {
    auto vi32 = VectorType::get({16}, b.getI32Type());
    auto v64i8 = VectorType::get({64}, b.getI8Type());
    Value aBytes = vector::BitCastOp::create(b, loc, v64i8, a);
    return LLVM::CallIntrinsicOp::create(
               b, loc, vi32,
               b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
               ValueRange{acc, aBytes, w})
        .getResult(0);
  }

  /// 4 bytes of qx at (r, k) broadcast to all 16 i32 lanes.
  Value broadcastActivation(Value qx, Value r, Value k) {
    auto v4i8 = VectorType::get({4}, b.getI8Type());
    auto v1i32 = VectorType::get({1}, b.getI32Type());
    auto vi32 = VectorType::get({16}, b.getI32Type());
    Value four = vector::LoadOp::create(b, loc, v4i8, qx, ValueRange{r, k});
    Value word = vector::BitCastOp::create(b, loc, v1i32, four);
    Value scalar = vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
    return vector::BroadcastOp::create(b, loc, vi32, scalar);
  }

  /// 64 weight bytes at byte offset `offset`; for int4 the low (`high`
  /// false) or high nibbles, sign-extended to s8.
  Value loadWeights(Value wbuf, Value offset, bool int4, bool high) {
    auto v64i8 = VectorType::get({64}, b.getI8Type());
    Value bytes = vector::LoadOp::create(b, loc, v64i8, wbuf, ValueRange{offset});
    if (int4) {
      auto splat = [&](int8_t c) -> Value {
        return arith::ConstantOp::create(
            b, loc, v64i8, DenseElementsAttr::get(v64i8, APInt(8, c, true)));
      };
      if (high)
        bytes = arith::ShRUIOp::create(
            b, loc, vector::BitCastOp::create(b, loc,
                                              VectorType::get({32}, b.getI16Type()),
                                              bytes),
            arith::ConstantOp::create(
                b, loc, VectorType::get({32}, b.getI16Type()),
                DenseElementsAttr::get(VectorType::get({32}, b.getI16Type()),
                                       APInt(16, 4))));
      if (high)
        bytes = vector::BitCastOp::create(b, loc, v64i8, bytes);
      Value nib = arith::AndIOp::create(b, loc, bytes, splat(0x0F));
      // (nib ^ 8) - 8 sign-extends a 4-bit two's complement value.
      bytes = arith::SubIOp::create(
          b, loc, arith::XOrIOp::create(b, loc, nib, splat(8)), splat(8));
    }
    return bytes;
  }

  void emitVnni(bool int4) {
    auto vi32 = VectorType::get({16}, b.getI32Type());
    auto vf = VectorType::get({16}, b.getF32Type());
    int64_t group = int4 ? type.getScheme().getGroupSize() : numK;
    int64_t groups = numK / group;
    int64_t kStep = int4 ? 8 : 4; // K values per 64-byte block
    int64_t blocksPerColumn = numK / kStep;

    Value wbuf = weightBuffer();
    Value corr = getGlobal("__qcc_qcorr", shiftCorrection(int4));
    auto qxType = MemRefType::get({numRows, numK}, b.getI8Type());
    Value qx = memref::AllocOp::create(b, loc, qxType, b.getI64IntegerAttr(64));
    Value rowScale = memref::AllocOp::create(
        b, loc, MemRefType::get({numRows}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    emitActivationQuantization(qx, rowScale);

    const int64_t rowsPerBlock = 4;
    // Blocks of 16 output columns are independent: large products run them
    // on the runtime's threads (qcc-cpu-outline-parallel outlines the loop).
    Operation *colLoop;
    Value col;
    OpBuilder::InsertionGuard guard(b);
    if (numRows * numK * numN >= parallelMinFmas && parallelMinFmas >= 0) {
      auto loop = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                          ValueRange{index(numN)},
                                          ValueRange{index(16)});
      b.setInsertionPoint(loop.getBody()->getTerminator());
      col = loop.getInductionVars()[0];
      colLoop = loop;
    } else {
      auto loop = scf::ForOp::create(b, loc, index(0), index(numN), index(16));
      b.setInsertionPointToStart(loop.getBody());
      col = loop.getInductionVar();
      colLoop = loop;
    }
    Value colBlock = arith::DivUIOp::create(b, loc, col, index(16));
    Value colBase = arith::MulIOp::create(
        b, loc, colBlock, index(blocksPerColumn * 64));
    Value colScaleVec;
    if (!int4)
      colScaleVec = vector::LoadOp::create(b, loc, vf, op.getScales(), ValueRange{col});
    Value biasVec;
    if (op.getBias())
      biasVec = vector::LoadOp::create(b, loc, vf, op.getBias(), ValueRange{col});

    auto emitRows = [&](Value r0, int64_t rows) {
      Value zeroAcc = arith::ConstantOp::create(
          b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 0)));
      Value zeroF = arith::ConstantOp::create(b, loc, vf,
                                              DenseElementsAttr::get(vf, 0.0f));
      SmallVector<Value> rowIdx;
      for (int64_t i = 0; i < rows; ++i)
        rowIdx.push_back(i == 0 ? r0 : arith::AddIOp::create(b, loc, r0, index(i)));
      // Float accumulators across groups (int4), or the single group (int8).
      auto groupLoop = scf::ForOp::create(b, loc, index(0), index(groups),
                                          index(1),
                                          SmallVector<Value>(rows, zeroF));
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(groupLoop.getBody());
        Value gi = groupLoop.getInductionVar();
        Value kBlock0 = arith::MulIOp::create(b, loc, gi, index(group / kStep));
        auto kLoop = scf::ForOp::create(b, loc, index(0), index(group / kStep),
                                        index(1), SmallVector<Value>(rows, zeroAcc));
        {
          OpBuilder::InsertionGuard kg(b);
          b.setInsertionPointToStart(kLoop.getBody());
          Value kb = arith::AddIOp::create(b, loc, kBlock0, kLoop.getInductionVar());
          Value offset = arith::AddIOp::create(
              b, loc, colBase, arith::MulIOp::create(b, loc, kb, index(64)));
          Value k0 = arith::MulIOp::create(b, loc, kb, index(kStep));
          SmallVector<Value> accs(kLoop.getRegionIterArgs());
          Value wLow = loadWeights(wbuf, offset, int4, /*high=*/false);
          for (int64_t i = 0; i < rows; ++i)
            accs[i] = dot(accs[i], broadcastActivation(qx, rowIdx[i], k0), wLow);
          if (int4) {
            Value wHigh = loadWeights(wbuf, offset, int4, /*high=*/true);
            Value k4 = arith::AddIOp::create(b, loc, k0, index(4));
            for (int64_t i = 0; i < rows; ++i)
              accs[i] = dot(accs[i], broadcastActivation(qx, rowIdx[i], k4), wHigh);
          }
          scf::YieldOp::create(b, loc, accs);
        }
        Value corrVec = vector::LoadOp::create(b, loc, vi32, corr, ValueRange{gi, col});
        Value groupScale = int4 ? Value(vector::LoadOp::create(
                                      b, loc, vf, op.getScales(), ValueRange{gi, col}))
                                : colScaleVec;
        SmallVector<Value> next;
        for (int64_t i = 0; i < rows; ++i) {
          Value exact = arith::SubIOp::create(b, loc, kLoop.getResult(i), corrVec);
          Value asFloat = arith::SIToFPOp::create(b, loc, vf, exact);
          next.push_back(math::FmaOp::create(b, loc, asFloat, groupScale,
                                             groupLoop.getRegionIterArgs()[i]));
        }
        scf::YieldOp::create(b, loc, next);
      }
      for (int64_t i = 0; i < rows; ++i) {
        Value s = memref::LoadOp::create(b, loc, rowScale, ValueRange{rowIdx[i]});
        Value sv = vector::BroadcastOp::create(b, loc, vf, s);
        Value result = arith::MulFOp::create(b, loc, groupLoop.getResult(i), sv);
        if (biasVec)
          result = arith::AddFOp::create(b, loc, result, biasVec);
        vector::StoreOp::create(b, loc, result, out, ValueRange{rowIdx[i], col});
      }
    };
    int64_t fullRows = numRows / rowsPerBlock * rowsPerBlock;
    if (fullRows > 0) {
      auto rowLoop = scf::ForOp::create(b, loc, index(0), index(fullRows),
                                        index(rowsPerBlock));
      OpBuilder::InsertionGuard rg(b);
      b.setInsertionPointToStart(rowLoop.getBody());
      emitRows(rowLoop.getInductionVar(), rowsPerBlock);
    }
    if (fullRows < numRows) {
      auto rowLoop =
          scf::ForOp::create(b, loc, index(fullRows), index(numRows), index(1));
      OpBuilder::InsertionGuard rg(b);
      b.setInsertionPointToStart(rowLoop.getBody());
      emitRows(rowLoop.getInductionVar(), 1);
    }
    b.setInsertionPointAfter(colLoop);
    memref::DeallocOp::create(b, loc, qx);
    memref::DeallocOp::create(b, loc, rowScale);
  }

  q::MatmulOp op;
  OpBuilder b;
  Location loc;
  bool hasVnni;
  int64_t parallelMinFmas;
  SymbolTable &symbols;
  q::WeightType type;
  std::vector<int8_t> weightBytes;
  int64_t numK = 0, numN = 0, numRows = 0;
  Value x, out;
};

struct CpuLowerQMatmulPass
    : public qcc::cpu::impl::CpuLowerQMatmulBase<CpuLowerQMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<q::MatmulOp> matmuls;
    module.walk([&](q::MatmulOp op) { matmuls.push_back(op); });
    for (q::MatmulOp op : matmuls) {
      if (op.hasPureTensorSemantics()) {
        op.emitOpError("must be bufferized before the CPU lowering");
        return signalPassFailure();
      }
      if (failed(QMatmulLowering(op, vnni, parallelMinFmas, symbols).run()))
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
