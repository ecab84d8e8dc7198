//===- LowerQMatmul.cpp - q.matmul on the GPU: dequantize in the kernel ---===//

#include "qcc/Codegen/GPU/Passes.h"
#include "W4A16Gemv.h"
#include "Fills.h"
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
  Lowering(q::MatmulOp op, SymbolTable &symbols,
           const qcc::gpu::GemvConfig &gemvConfig)
      : op(op), symbols(symbols), gemvConfig(gemvConfig), b(op),
        loc(op.getLoc()), ctx(op.getContext()) {}

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

    // The fill that last set the output (found before any IR is created
    // here).
    linalg::FillOp initFill = qcc::gpu::fillBefore(op, op.getInit());

    // Contiguous [rows, K] and [rows, N] views of input and output.
    Value x = collapse(contiguous(op.getInput(), /*copyIn=*/true));
    Value init = op.getInit();
    Value dense = contiguous(init, /*copyIn=*/false);
    Value out = collapse(dense);
    numRows = cast<MemRefType>(x.getType()).getShape()[0];

    // W4A16 GEMV (W4A16Gemv.cpp) for at most 16 rows, with the residual
    // add right after it in its epilogue when there is one.
    std::optional<qcc::gpu::ResidualAdd> residualAdd;
    if (numRows <= 16 && dense == init)
      residualAdd = qcc::gpu::residualAfter(op);
    Value residual, gemvOut = out;
    if (residualAdd) {
      qcc::gpu::hoistResidualBuffers(*residualAdd, op);
      residual = collapse(residualAdd->residual);
      gemvOut = collapse(residualAdd->result);
    }
    if (numRows <= 16 &&
        succeeded(qcc::gpu::emitW4A16Gemv(b, op, symbols, x, gemvOut,
                                          gemvConfig, residual))) {
      // It writes every output element: the fill that last set the output
      // (the front's zero init) is dead, and would cost a launch.
      if (initFill)
        initFill->erase();
      if (residualAdd)
        residualAdd->add->erase();
      else if (dense != init)
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
    return qcc::gpu::contiguousBuffer(b, loc, value, copyIn);
  }
  Value collapse(Value value) { return qcc::gpu::collapseToRows(b, loc, value); }

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
  const qcc::gpu::GemvConfig &gemvConfig;
  OpBuilder b;
  Location loc;
  MLIRContext *ctx;
  int64_t numK = 0, numN = 0, numRows = 0;
  unsigned bits = 0;
};

struct GpuLowerQMatmulPass
    : public qcc::gpu::impl::GpuLowerQMatmulBase<GpuLowerQMatmulPass> {
  using GpuLowerQMatmulBase::GpuLowerQMatmulBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    qcc::gpu::GemvConfig gemvConfig{gemvTiles, gemvWarps, gemvUnroll};
    if (failed(qcc::gpu::rejectOutlierMatmuls(module)))
      return signalPassFailure();
    SymbolTable symbols(module);
    SmallVector<q::MatmulOp> ops;
    module.walk([&](q::MatmulOp op) { ops.push_back(op); });
    for (q::MatmulOp op : ops)
      if (failed(Lowering(op, symbols, gemvConfig).run()))
        return signalPassFailure();
  }
};

} // namespace
