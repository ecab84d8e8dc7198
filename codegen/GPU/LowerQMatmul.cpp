//===- LowerQMatmul.cpp - q.matmul on the GPU: dequantize in the kernel ---===//

#include "qcc/Codegen/GPU/Passes.h"
#include "qcc/Dialect/Q/IR/QOps.h"
#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPULOWERQMATMUL
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;
using namespace qcc;

namespace {

class Lowering {
public:
  Lowering(q::MatmulOp op, SymbolTable &symbols)
      : op(op), symbols(symbols), b(op), loc(op.getLoc()),
        ctx(op.getContext()) {}

  LogicalResult run() {
    auto weight = op.getWeight().getDefiningOp<q::WeightConstantOp>();
    if (!weight)
      return op.emitOpError("weight must be a q.weight_constant when lowered "
                            "for the GPU");
    auto type = cast<q::WeightType>(op.getWeight().getType());
    q::SchemeAttr scheme = type.getScheme();
    numK = type.getShape()[0];
    numN = type.getShape()[1];
    bits = scheme.getBits();
    bool rowMajor8 = bits == 8 && type.getLayout() == q::Layout::RowMajor;
    bool packed4 = bits == 4 && type.getLayout() == q::Layout::PackedK &&
                   numK % 2 == 0;
    if (!rowMajor8 && !packed4)
      return op.emitOpError("the GPU lowering supports int8 row_major and "
                            "int4 packed_k weights (even K), got ")
             << op.getWeight().getType();
    if (scheme.getGranularity() == q::Granularity::PerGroup &&
        scheme.getAxis() != 0)
      return op.emitOpError("the GPU lowering supports groups along K only");
    if (op->getNumResults() != 0)
      return op.emitOpError("must be bufferized before the GPU lowering");
    for (Value v : op->getOperands())
      if (auto memref = dyn_cast<MemRefType>(v.getType()))
        if (!memref.hasStaticShape())
          return op.emitOpError("operands must be statically shaped");
    auto inType = cast<MemRefType>(op.getInput().getType());
    if (!inType.getElementType().isF32() ||
        !cast<MemRefType>(op.getInit().getType()).getElementType().isF32())
      return op.emitOpError("the GPU lowering supports f32 activations");

    // Contiguous [rows, K] and [rows, N] views of input and output.
    Value x = collapse(contiguous(op.getInput(), /*copyIn=*/true));
    Value init = op.getInit();
    Value dense = contiguous(init, /*copyIn=*/false);
    Value out = collapse(dense);
    numRows = cast<MemRefType>(x.getType()).getShape()[0];

    if (succeeded(emitInt4Gemv(x, weight, scheme, out))) {
      if (dense != init)
        memref::CopyOp::create(b, loc, dense, init);
      op->erase();
      if (weight->use_empty())
        weight->erase();
      return success();
    }


    // The packed bytes as a [K / codesPerByte, N] constant buffer (the
    // weight externalization moves it into the weight file).
    int64_t perByte = bits == 4 ? 2 : 1;
    auto bytesType =
        MemRefType::get({type.getStorageType().getNumElements()}, b.getI8Type());
    memref::GlobalOp global;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&symbols.getOp()->getRegion(0).front());
      global = memref::GlobalOp::create(
          b, loc, "__qcc_gpu_qweight", b.getStringAttr("private"), bytesType,
          weight.getStorage(), /*constant=*/true, b.getI64IntegerAttr(64));
      symbols.insert(global);
    }
    Value bytes =
        memref::GetGlobalOp::create(b, loc, bytesType, global.getSymName());
    Value codes = memref::ExpandShapeOp::create(
        b, loc, MemRefType::get({numK / perByte, numN}, b.getI8Type()), bytes,
        ArrayRef<ReassociationIndices>{{0, 1}});

    Value lhs = x;
    if (op.getActQuant() != q::ActQuant::None)
      lhs = quantizeActivations(x);

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{out});
    emitMatmul(lhs, codes, scheme, out);
    if (Value bias = op.getBias())
      addBias(bias, out);
    if (dense != init)
      memref::CopyOp::create(b, loc, dense, init);
    op->erase();
    if (weight->use_empty())
      weight->erase();
    return success();
  }

private:
  AffineExpr d(unsigned i) { return getAffineDimExpr(i, ctx); }
  AffineMap map(unsigned dims, ArrayRef<AffineExpr> results) {
    return AffineMap::get(dims, 0, results, ctx);
  }
  Value f32(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }

  Value contiguous(Value value, bool copyIn) {
    auto type = cast<MemRefType>(value.getType());
    if (type.getLayout().isIdentity())
      return value;
    Value buffer = memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
    if (copyIn)
      memref::CopyOp::create(b, loc, value, buffer);
    return buffer;
  }

  Value collapse(Value value) {
    auto type = cast<MemRefType>(value.getType());
    if (type.getRank() == 2)
      return value;
    ReassociationIndices leading;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      leading.push_back(i);
    int64_t rows = 1;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      rows *= type.getDimSize(i);
    return memref::CollapseShapeOp::create(
        b, loc,
        MemRefType::get({rows, type.getShape().back()}, type.getElementType()),
        value,
        ArrayRef<ReassociationIndices>{leading, {type.getRank() - 1}});
  }

  /// x -> code * scale with int8 codes as the CPU kernels compute them.
  Value quantizeActivations(Value x) {
    auto rowType = MemRefType::get({numRows}, b.getF32Type());
    Value scaleIn;
    AffineMap scaleMap;
    bool dynamic = op.getActQuant() == q::ActQuant::DynamicPerToken;
    if (dynamic) {
      // absmax of each row.
      Value absMax = memref::AllocOp::create(b, loc, rowType);
      linalg::FillOp::create(b, loc, ValueRange{f32(0.0f)},
                             ValueRange{absMax});
      linalg::GenericOp::create(
          b, loc, ValueRange{x}, ValueRange{absMax},
          ArrayRef<AffineMap>{map(2, {d(0), d(1)}), map(2, {d(0)})},
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                        utils::IteratorType::reduction},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value a = math::AbsFOp::create(nb, l, args[0]);
            linalg::YieldOp::create(
                nb, l, Value(arith::MaximumFOp::create(nb, l, args[1], a)));
          });
      scaleIn = absMax;
      scaleMap = map(2, {d(0)});
    } else {
      scaleIn = op.getActScale();
      scaleMap = map(2, {});
    }
    Value result = memref::AllocOp::create(
        b, loc, MemRefType::get({numRows, numK}, b.getF32Type()));
    linalg::GenericOp::create(
        b, loc, ValueRange{x, scaleIn}, ValueRange{result},
        ArrayRef<AffineMap>{map(2, {d(0), d(1)}), scaleMap,
                            map(2, {d(0), d(1)})},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          auto c = [&](float v) -> Value {
            return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
          };
          Value scale, inv;
          if (dynamic) {
            // A zero row keeps scale 1.
            Value isZero = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::OEQ, args[1], c(0.0f));
            Value safe =
                arith::SelectOp::create(nb, l, isZero, c(127.0f), args[1]);
            scale = arith::DivFOp::create(nb, l, safe, c(127.0f));
            inv = arith::DivFOp::create(nb, l, c(127.0f), safe);
          } else {
            scale = args[1];
            inv = arith::DivFOp::create(nb, l, c(1.0f), scale);
          }
          Value q = math::RoundEvenOp::create(
              nb, l, arith::MulFOp::create(nb, l, args[0], inv));
          q = arith::MinimumFOp::create(
              nb, l, arith::MaximumFOp::create(nb, l, q, c(-128.0f)),
              c(127.0f));
          linalg::YieldOp::create(nb, l,
                                  Value(arith::MulFOp::create(nb, l, q, scale)));
        });
    return result;
  }

  void emitMatmul(Value lhs, Value codes, q::SchemeAttr scheme, Value out) {
    Value scales = op.getScales(), zeros = op.getZeroPoints();
    AffineMap paramMap;
    switch (scheme.getGranularity()) {
    case q::Granularity::PerTensor:
      paramMap = map(3, {});
      break;
    case q::Granularity::PerChannel:
      paramMap = map(3, {scheme.getAxis() == 0 ? d(2) : d(1)});
      break;
    case q::Granularity::PerGroup:
      paramMap = map(3, {d(2).floorDiv(scheme.getGroupSize()), d(1)});
      break;
    }
    SmallVector<Value> ins = {lhs, codes, scales};
    SmallVector<AffineMap> maps = {
        map(3, {d(0), d(2)}),
        map(3, {bits == 4 ? d(2).floorDiv(2) : d(2), d(1)}), paramMap};
    if (zeros) {
      ins.push_back(zeros);
      maps.push_back(paramMap);
    }
    maps.push_back(map(3, {d(0), d(1)}));
    bool isSigned = scheme.getIsSigned();
    linalg::GenericOp::create(
        b, loc, ins, ValueRange{out}, maps,
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel,
                                      utils::IteratorType::reduction},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Type i32 = nb.getI32Type();
          auto ci = [&](int32_t v) -> Value {
            return arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(v));
          };
          Value code;
          if (bits == 4) {
            Value k = linalg::IndexOp::create(nb, l, 2);
            Value slot = arith::IndexCastOp::create(
                nb, l, i32,
                arith::RemUIOp::create(
                    nb, l, k, arith::ConstantIndexOp::create(nb, l, 2)));
            Value byte = arith::ExtUIOp::create(nb, l, i32, args[1]);
            Value nibble = arith::AndIOp::create(
                nb, l,
                arith::ShRUIOp::create(nb, l, byte,
                                       arith::MulIOp::create(nb, l, slot, ci(4))),
                ci(15));
            if (isSigned)
              nibble = arith::SubIOp::create(
                  nb, l, arith::XOrIOp::create(nb, l, nibble, ci(8)), ci(8));
            code = arith::SIToFPOp::create(nb, l, nb.getF32Type(), nibble);
          } else {
            code = isSigned ? Value(arith::SIToFPOp::create(
                                  nb, l, nb.getF32Type(), args[1]))
                            : Value(arith::UIToFPOp::create(
                                  nb, l, nb.getF32Type(), args[1]));
          }
          unsigned next = 3;
          if (zeros) {
            Value z = args[next++];
            code = arith::SubFOp::create(
                nb, l, code,
                arith::SIToFPOp::create(nb, l, nb.getF32Type(), z));
          }
          Value w = arith::MulFOp::create(nb, l, code, args[2]);
          Value prod = arith::MulFOp::create(nb, l, args[0], w);
          linalg::YieldOp::create(
              nb, l, Value(arith::AddFOp::create(nb, l, args[next], prod)));
        });
  }

  //===--------------------------------------------------------------------===//
  // W4A16 GEMV (rows <= 8, int4 groups along K, float activations): one warp
  // per 1-4 output columns. The codes are repacked at compile time column by
  // column in chunks of 32 K values (16 bytes, nibble i of word j holds
  // k = 32 c + 8 j + i, stored unsigned), so lane l of a warp reads chunks
  // l, l + 32, ... with one 128-bit load each and a warp reads 512
  // contiguous bytes per step. Each chunk lies in one group; its (scale,
  // 2^23 + zero point) pair is repacked per column too. A code becomes a
  // float as bitcast(0x4B000000 | u) - (2^23 + z) = u - z exactly; the 32
  // products with the activations are summed, scaled once per chunk, and
  // the lanes' sums are combined with xor shuffles.
  //===--------------------------------------------------------------------===//

  /// The constant value of a bufferized operand: a constant global, or an
  /// entry argument that the weight externalization made of a constant.
  ElementsAttr constantOf(Value v) {
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

  /// The elements of an int or f32 constant as doubles (small tensors).
  static std::optional<std::vector<double>> numbers(ElementsAttr attr) {
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

  /// The packed weight bytes.
  static std::optional<std::vector<uint8_t>> bytesOf(ElementsAttr attr) {
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

  Value constantGlobal(StringRef name, DenseElementsAttr value) {
    auto type = MemRefType::get(value.getType().getShape(),
                                value.getType().getElementType());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&symbols.getOp()->getRegion(0).front());
    auto global = memref::GlobalOp::create(
        b, loc, name, b.getStringAttr("private"), type, value,
        /*constant=*/true, b.getI64IntegerAttr(64));
    symbols.insert(global);
    b.setInsertionPoint(op);
    return memref::GetGlobalOp::create(b, loc, type, global.getSymName());
  }

  LogicalResult emitInt4Gemv(Value x, q::WeightConstantOp weight,
                             q::SchemeAttr scheme, Value out) {
    int64_t gs = scheme.getGroupSize();
    if (bits != 4 || op.getActQuant() != q::ActQuant::None || numRows > 8 ||
        scheme.getGranularity() != q::Granularity::PerGroup || gs % 32 != 0 ||
        gs <= 0 || numK % gs != 0)
      return failure();
    ElementsAttr scaleAttr = constantOf(op.getScales());
    ElementsAttr zeroAttr;
    if (op.getZeroPoints() && !(zeroAttr = constantOf(op.getZeroPoints())))
      return failure();
    if (!scaleAttr)
      return failure();
    int64_t groups = numK / gs, chunks = numK / 32;
    auto scales = numbers(scaleAttr);
    std::optional<std::vector<double>> zeros;
    if (zeroAttr)
      zeros = numbers(zeroAttr);
    auto codes = bytesOf(weight.getStorage());
    if (!scales || int64_t(scales->size()) != groups * numN ||
        (zeroAttr && (!zeros || int64_t(zeros->size()) != groups * numN)) ||
        !codes || int64_t(codes->size()) != numK / 2 * numN)
      return failure();

    // Repack codes and group parameters column by column.
    bool isSigned = scheme.getIsSigned();
    std::vector<uint32_t> packed(numN * chunks * 4, 0);
    for (int64_t kp = 0; kp < numK / 2; ++kp)
      for (int64_t n = 0; n < numN; ++n) {
        uint32_t byte = (*codes)[kp * numN + n];
        for (int64_t h = 0; h < 2; ++h) {
          int64_t k = 2 * kp + h;
          uint32_t u = (byte >> (4 * h)) & 15;
          if (isSigned)
            u ^= 8;
          packed[(n * chunks + k / 32) * 4 + (k % 32) / 8] |= u << (4 * (k % 8));
        }
      }
    std::vector<float> params(numN * groups * 2);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t n = 0; n < numN; ++n) {
        double z = (isSigned ? 8.0 : 0.0) + (zeros ? (*zeros)[g * numN + n] : 0);
        params[(n * groups + g) * 2] = float((*scales)[g * numN + n]);
        params[(n * groups + g) * 2 + 1] = float(8388608.0 + z);
      }
    auto i8 = b.getI8Type();
    int64_t packedBytes = numN * chunks * 16;
    Value wBuf = constantGlobal(
        "__qcc_gpu_gemv_codes",
        DenseElementsAttr::getFromRawBuffer(
            RankedTensorType::get({packedBytes}, i8),
            ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                           packedBytes)));
    Value pBuf = constantGlobal(
        "__qcc_gpu_gemv_params",
        DenseElementsAttr::get(
            RankedTensorType::get({int64_t(params.size())}, b.getF32Type()),
            ArrayRef<float>(params)));
    Value bias = op.getBias();

    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    // Each warp computes `cols` columns, reusing its activation loads.
    int64_t cols = numN % 4 == 0 ? 4 : numN % 2 == 0 ? 2 : 1;
    int64_t warps = (numN / cols) % 4 == 0 ? 4 : (numN / cols) % 2 == 0 ? 2 : 1;
    Value one = cst(1);
    auto launch = mlir::gpu::LaunchOp::create(b, loc, cst(numN / cols / warps),
                                              one,
                                              one, cst(32 * warps), one, one);
    Block &body = launch.getBody().front();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&body);
    mlir::gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);

    Type i32 = b.getI32Type(), i64 = b.getI64Type(), f32 = b.getF32Type();
    auto ptrType = LLVM::LLVMPointerType::get(ctx, /*addressSpace=*/1);
    auto c64 = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
    };
    auto c32 = [&](int32_t v) -> Value {
      return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
    };
    auto toI64 = [&](Value v) -> Value {
      return arith::IndexCastOp::create(b, loc, i64, v);
    };
    auto pointer = [&](Value memref) -> Value {
      Value addr =
          memref::ExtractAlignedPointerAsIndexOp::create(
          b, loc, b.getIndexType(), memref);
      return LLVM::IntToPtrOp::create(b, loc, ptrType, toI64(addr));
    };
    auto vecLoad = [&](Value base, VectorType type, Value index,
                       bool invariant) -> Value {
      Value ptr = LLVM::GEPOp::create(b, loc, ptrType, type, base,
                                      ValueRange{index});
      unsigned align = type.getNumElements() * 4;
      return LLVM::LoadOp::create(b, loc, type, ptr, align, false, false,
                                  invariant);
    };
    auto extract = [&](Value vec, int64_t i) -> Value {
      return LLVM::ExtractElementOp::create(b, loc, vec, c32(i));
    };
    auto add64 = [&](Value a, Value c) -> Value {
      return arith::AddIOp::create(b, loc, a, c);
    };
    auto mul64 = [&](Value a, int64_t c) -> Value {
      return arith::MulIOp::create(b, loc, a, c64(c));
    };

    Value tid = launch.getThreadIds().x;
    Value lane = arith::RemUIOp::create(b, loc, tid, cst(32));
    Value warp = arith::DivUIOp::create(b, loc, tid, cst(32));
    Value col = arith::MulIOp::create(
        b, loc,
        arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(warps)),
            warp),
        cst(cols));
    Value col64 = toI64(col), lane64 = toI64(lane);
    Value wPtr = pointer(wBuf), pPtr = pointer(pBuf), xPtr = pointer(x);
    auto v4i32 = VectorType::get({4}, i32);
    auto v4f32 = VectorType::get({4}, f32);
    auto v2f32 = VectorType::get({2}, f32);
    SmallVector<Value> wBase, pBase;
    for (int64_t cc = 0; cc < cols; ++cc) {
      wBase.push_back(mul64(add64(col64, c64(cc)), chunks));
      pBase.push_back(mul64(add64(col64, c64(cc)), groups));
    }

    // acc[cc * rows + r] += scale * sum over the chunks' 32 K values.
    auto chunkStep = [&](ArrayRef<Value> chunkIds,
                         SmallVector<Value> acc) -> SmallVector<Value> {
      SmallVector<Value> wv, pv;
      for (Value c : chunkIds) {
        Value g = arith::DivUIOp::create(b, loc, c, c64(gs / 32));
        for (int64_t cc = 0; cc < cols; ++cc) {
          wv.push_back(vecLoad(wPtr, v4i32, add64(wBase[cc], c), true));
          pv.push_back(vecLoad(pPtr, v2f32, add64(pBase[cc], g), true));
        }
      }
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
      for (auto [u, c] : llvm::enumerate(chunkIds)) {
        SmallVector<Value> scale, offset;
        for (int64_t cc = 0; cc < cols; ++cc) {
          scale.push_back(extract(pv[u * cols + cc], 0));
          offset.push_back(extract(pv[u * cols + cc], 1));
        }
        SmallVector<Value> part(cols * numRows, zero);
        for (int64_t j = 0; j < 4; ++j) {
          SmallVector<Value> xs;
          for (int64_t r = 0; r < numRows; ++r)
            for (int64_t q = 0; q < 2; ++q) {
              Value idx = add64(mul64(c, 8), c64(r * numK / 4 + 2 * j + q));
              Value v = vecLoad(xPtr, v4f32, idx, false);
              for (int64_t e = 0; e < 4; ++e)
                xs.push_back(extract(v, e));
            }
          for (int64_t cc = 0; cc < cols; ++cc) {
            Value word = extract(wv[u * cols + cc], j);
            for (int64_t i = 0; i < 8; ++i) {
              Value t = i == 0 ? word
                               : Value(arith::ShRUIOp::create(b, loc, word,
                                                              c32(4 * i)));
              t = arith::AndIOp::create(b, loc, t, c32(15));
              t = arith::OrIOp::create(b, loc, t, c32(0x4B000000));
              Value f = arith::BitcastOp::create(b, loc, f32, t);
              f = arith::SubFOp::create(b, loc, f, offset[cc]);
              for (int64_t r = 0; r < numRows; ++r) {
                Value &p = part[cc * numRows + r];
                p = LLVM::FMAOp::create(b, loc, xs[r * 8 + i], f, p);
              }
            }
          }
        }
        for (int64_t cc = 0; cc < cols; ++cc)
          for (int64_t r = 0; r < numRows; ++r)
            acc[cc * numRows + r] =
                LLVM::FMAOp::create(b, loc, part[cc * numRows + r], scale[cc],
                                    acc[cc * numRows + r]);
      }
      return acc;
    };

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    SmallVector<Value> init(cols * numRows, zero);
    int64_t iters = (chunks + 31) / 32;
    bool exact = chunks % 32 == 0;
    int64_t unroll = !exact ? 1 : iters % 4 == 0 ? 4 : iters % 2 == 0 ? 2 : 1;
    auto loop = scf::ForOp::create(b, loc, c64(0), c64(iters / unroll),
                                   c64(1), init);
    {
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value it = loop.getInductionVar();
      SmallVector<Value> ids;
      for (int64_t u = 0; u < unroll; ++u)
        ids.push_back(add64(lane64, add64(mul64(it, 32 * unroll), c64(32 * u))));
      SmallVector<Value> acc =
          llvm::to_vector_of<Value>(loop.getRegionIterArgs());
      if (exact) {
        scf::YieldOp::create(b, loc, chunkStep(ids, acc));
      } else {
        Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              ids[0], c64(chunks));
        auto ifOp = scf::IfOp::create(b, loc, loop.getResultTypes(), inRange,
                                      /*withElse=*/true);
        {
          OpBuilder::InsertionGuard ifGuard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          scf::YieldOp::create(b, loc, chunkStep(ids, acc));
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, acc);
        }
        scf::YieldOp::create(b, loc, ifOp.getResults());
      }
    }

    // Sum over the warp; lane 0 writes the rows of its column.
    SmallVector<Value> sums = llvm::to_vector_of<Value>(loop.getResults());
    for (int32_t offset = 16; offset > 0; offset /= 2)
      for (Value &s : sums) {
        auto shuffle = mlir::gpu::ShuffleOp::create(
            b, loc, s, c32(offset), c32(32), mlir::gpu::ShuffleMode::XOR);
        s = arith::AddFOp::create(b, loc, s, shuffle.getShuffleResult());
      }
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                        cst(0));
    auto ifOp = scf::IfOp::create(b, loc, first, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    for (int64_t cc = 0; cc < cols; ++cc) {
      Value column = arith::AddIOp::create(b, loc, col, cst(cc));
      Value biasValue =
          bias ? Value(memref::LoadOp::create(b, loc, bias, ValueRange{column}))
               : Value();
      for (int64_t r = 0; r < numRows; ++r) {
        Value v = sums[cc * numRows + r];
        if (biasValue)
          v = arith::AddFOp::create(b, loc, v, biasValue);
        memref::StoreOp::create(b, loc, v, out, ValueRange{cst(r), column});
      }
    }
    return success();
  }

  void addBias(Value bias, Value out) {
    linalg::GenericOp::create(
        b, loc, ValueRange{bias}, ValueRange{out},
        ArrayRef<AffineMap>{map(2, {d(1)}), map(2, {d(0), d(1)})},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          linalg::YieldOp::create(
              nb, l, Value(arith::AddFOp::create(nb, l, args[1], args[0])));
        });
  }

  q::MatmulOp op;
  SymbolTable &symbols;
  OpBuilder b;
  Location loc;
  MLIRContext *ctx;
  int64_t numK = 0, numN = 0, numRows = 0;
  unsigned bits = 0;
};

struct GpuLowerQMatmulPass
    : public qcc::gpu::impl::GpuLowerQMatmulBase<GpuLowerQMatmulPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<q::MatmulOp> ops;
    module.walk([&](q::MatmulOp op) { ops.push_back(op); });
    for (q::MatmulOp op : ops)
      if (failed(Lowering(op, symbols).run()))
        return signalPassFailure();
  }
};

} // namespace
