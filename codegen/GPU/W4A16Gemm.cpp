//===- W4A16Gemm.cpp - W4A16 GEMM on tensor cores (mma.sync m16n8k16) -----===//
//
// q.matmul with int4 weights in groups along K, float activations and more
// rows than the GEMV takes becomes up to three launches:
//
//  1. convert: the f32 activations become an f16 [Mpad, K] buffer (rows
//     padded with zeros to the block tile), 8 values per thread.
//  2. GEMM: a block of 4 warps computes a BM x BN output tile over a range
//     of K (split-K across blocks when the tiles alone would fill the SMs
//     unevenly).
//     Per stage of 64 K, cp.async copies the block's codes (one contiguous
//     BN x 32-byte block: the weights are prepacked at compile time in the
//     GEMM's tile order), its group parameters and the BM x 64 f16
//     activation tile (16-byte chunks XOR-swizzled by row, so ldmatrix is
//     conflict-free) into a 2-4 stage ring of shared memory. Each warp owns
//     BN / 4 columns and all BM rows: per 16-column tile one 128-bit shared
//     load gives a lane its codes of four K tiles, already in mma A-fragment
//     order; they are decoded to f16 in registers (the 0x6400 / 0x5400
//     magic-number trick, one f16x2 subtraction of the zero point, one f16x2
//     multiplication by the group scale) and multiplied with ldmatrix.x4 B
//     fragments of the activations by mma.sync.m16n8k16 (weights as A:
//     16 columns x 16 K; activations as B: 16 K x 8 rows), accumulating in
//     f32.
//  3. reduce (split-K only): sums the splits' f32 partials and adds the
//     bias. Without split-K the GEMM's epilogue scales and adds the bias.
//
// Scales are stored as f16 times a per-matrix power of two (so the decoded
// weights stay within f16 range and normal), undone in the epilogue.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/GPU/Passes.h"
#include "qcc/Dialect/Q/IR/QOps.h"

#include "Fills.h"
#include "W4A16Gemv.h"
#include "W4A16GemmTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUW4A16GEMM
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;
using namespace qcc;

namespace {

using qcc::gpu::kStageK;
using qcc::gpu::kWarps;
using qcc::gpu::Tiling;
constexpr int64_t kThreads = 32 * kWarps;
constexpr int64_t kElementThreads = 256;     // convert / reduce kernels

/// IEEE half bits of `v` (round to nearest even).
uint16_t halfBits(double v) {
  llvm::APFloat f(v);
  bool lost = false;
  f.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return uint16_t(f.bitcastToAPInt().getZExtValue());
}

/// A conversion (kernel 1) of `input` into the f16 [padM, numK] `xh` by the
/// launch `kernel`: later GEMMs of the same input (Q/K/V, gate/up) read `xh`
/// while nothing touches the input in between.
struct Conversion {
  Value input;
  int64_t padM, numK;
  Value xh;
  Operation *kernel;
};

class GemmLowering {
public:
  GemmLowering(q::MatmulOp op, SymbolTable &symbols, int64_t minRows,
               int64_t splits, int64_t stages,
               SmallVectorImpl<Conversion> &conversions)
      : op(op), symbols(symbols), minRows(minRows), splitsOpt(splits),
        stagesOpt(stages), conversions(conversions), b(op), loc(op.getLoc()),
        ctx(op.getContext()) {}

  /// Whether the op is one this pass takes (others stay for
  /// qcc-gpu-lower-qmatmul).
  bool matches() {
    weight = op.getWeight().getDefiningOp<q::WeightConstantOp>();
    if (!weight || op->getNumResults() != 0 ||
        op.getActQuant() != q::ActQuant::None)
      return false;
    auto type = cast<q::WeightType>(op.getWeight().getType());
    scheme = type.getScheme();
    if (scheme.getBits() != 4 || type.getLayout() != q::Layout::PackedK ||
        scheme.getGranularity() != q::Granularity::PerGroup ||
        scheme.getAxis() != 0)
      return false;
    for (Value v : op->getOperands())
      if (auto memref = dyn_cast<MemRefType>(v.getType()))
        if (!memref.hasStaticShape())
          return false;
    auto inType = cast<MemRefType>(op.getInput().getType());
    auto outType = cast<MemRefType>(op.getInit().getType());
    if (!inType.getElementType().isF32() || !outType.getElementType().isF32() ||
        inType.getNumElements() == 0)
      return false;
    numK = type.getShape()[0];
    numN = type.getShape()[1];
    numM = inType.getNumElements() / numK;
    if (numM < minRows ||
        !qcc::gpu::shapeFits(numM, numK, numN, scheme.getGroupSize()))
      return false;
    scaleAttr = qcc::gpu::constantOperand(op.getScales(), symbols);
    if (!scaleAttr)
      return false;
    if (op.getZeroPoints() &&
        !(zeroAttr = qcc::gpu::constantOperand(op.getZeroPoints(), symbols)))
      return false;
    return true;
  }

  LogicalResult run() {
    std::string why;
    FailureOr<Tiling> tiling = qcc::gpu::chooseTiling(
        numM, numK, numN, scheme.getGroupSize(), splitsOpt, stagesOpt, why);
    if (failed(tiling))
      return op.emitOpError("W4A16 GEMM: ") << why;
    t = *tiling;
    auto codes = qcc::gpu::constantBytes(weight.getStorage());
    if (!codes || int64_t(codes->size()) != numK / 2 * numN)
      return op.emitOpError("int4 weight storage of ")
             << numK / 2 * numN << " bytes expected";
    auto scales = qcc::gpu::constantNumbers(scaleAttr);
    std::optional<std::vector<double>> zeros;
    if (zeroAttr)
      zeros = qcc::gpu::constantNumbers(zeroAttr);
    if (!scales || int64_t(scales->size()) != t.groups * numN ||
        (zeroAttr && (!zeros || int64_t(zeros->size()) != t.groups * numN)))
      return op.emitOpError("group scales and zero points of ")
             << t.groups << "x" << numN << " values expected";

    Value init = op.getInit();
    qcc::gpu::eraseDeadFill(op, init);
    Value x = qcc::gpu::collapseToRows(
        b, loc, qcc::gpu::contiguousBuffer(b, loc, op.getInput(), true));
    Value dense = qcc::gpu::contiguousBuffer(b, loc, init, false);
    Value out = qcc::gpu::collapseToRows(b, loc, dense);

    Value codeBuf = packCodes(*codes);
    Value paramBuf = packParams(*scales, zeros);
    int64_t padM = t.mBlocks * t.bm;
    Value xh;
    for (const Conversion &c : conversions)
      if (c.input == op.getInput() && c.padM == padM && c.numK == numK &&
          qcc::gpu::untouchedBetween(c.kernel, op, c.input)) {
        xh = c.xh;
        break;
      }
    if (!xh) {
      xh = memref::AllocOp::create(
          b, loc, MemRefType::get({padM * numK}, b.getF16Type()));
      Operation *kernel = emitConvert(x, xh);
      conversions.push_back({op.getInput(), padM, numK, xh, kernel});
    }
    Value partial;
    if (t.splits > 1)
      partial = memref::AllocOp::create(
          b, loc, MemRefType::get({t.splits * numM * numN}, b.getF32Type()));
    emitGemm(xh, codeBuf, paramBuf, partial ? partial : out);
    if (partial)
      emitReduce(partial, out);
    if (dense != init)
      memref::CopyOp::create(b, loc, dense, init);
    op->erase();
    if (weight->use_empty())
      weight->erase();
    return success();
  }

private:
  Value global(StringRef name, ArrayRef<uint32_t> words) {
    auto type = MemRefType::get({int64_t(words.size()) * 4}, b.getI8Type());
    auto value = DenseElementsAttr::getFromRawBuffer(
        RankedTensorType::get({int64_t(words.size()) * 4}, b.getI8Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(words.data()),
                       words.size() * 4));
    memref::GlobalOp g;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&symbols.getOp()->getRegion(0).front());
      g = memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"),
                                   type, value, /*constant=*/true,
                                   b.getI64IntegerAttr(64));
      symbols.insert(g);
    }
    return memref::GetGlobalOp::create(b, loc, type, g.getSymName());
  }

  /// Codes in block-stage order: the stage (nb, ks) is BN x 32 contiguous
  /// bytes, 16 bytes per lane and 16-column tile; the lane's word kt holds
  /// its A fragment of K tile kt: lane (g, c) has column g (+ 8) and K
  /// 2c, 2c + 1 (+ 8); nibble reg + 4 * (K odd), reg = (column >= 8) +
  /// 2 * (K % 16 >= 8). Unsigned (signed codes + 8); padded columns are 0.
  Value packCodes(ArrayRef<uint8_t> codes) {
    const int64_t tb = t.blockTiles();
    std::vector<uint32_t> packed(size_t(t.nBlocks) * t.kSteps * tb * 32 * 4,
                                 0);
    bool isSigned = scheme.getIsSigned();
    for (int64_t kp = 0; kp < numK / 2; ++kp)
      for (int64_t n = 0; n < numN; ++n) {
        uint32_t byte = codes[kp * numN + n];
        for (int64_t h = 0; h < 2; ++h) {
          int64_t k = 2 * kp + h;
          uint32_t u = (byte >> (4 * h)) & 15;
          if (isSigned)
            u ^= 8;
          int64_t nb = n / t.bn, tile = (n % t.bn) / 16, i = n % 16;
          int64_t ks = k / kStageK, kt = (k % kStageK) / 16, kk = k % 16;
          int64_t g = i % 8, c = (kk % 8) / 2;
          int64_t reg = (i >= 8 ? 1 : 0) + (kk >= 8 ? 2 : 0);
          int64_t nibble = reg + 4 * (kk % 2);
          size_t word =
              (((nb * t.kSteps + ks) * tb + tile) * 32 + g * 4 + c) * 4 + kt;
          packed[word] |= u << (4 * nibble);
        }
      }
    return global("__qcc_gpu_w4gemm_codes", packed);
  }

  /// Group parameters in block-group order: pair (((nb * groups + grp) *
  /// tiles + tile) * 8 + g) holds (f16 s[col] 2^e, f16 s[col + 8] 2^e) and
  /// (f16 1024 + z[col], f16 64 + z[col + 8]), col = nb BN + 16 tile + g.
  Value packParams(ArrayRef<double> scales,
                   const std::optional<std::vector<double>> &zeros) {
    double maxScale = 0;
    for (double v : scales)
      maxScale = std::max(maxScale, std::fabs(v));
    exponent = 0;
    if (maxScale > 0 && std::isfinite(maxScale)) {
      // max |scale| 2^e in [2^11, 2^12): 15 * that stays below 65504.
      std::frexp(maxScale, &exponent);
      exponent = std::clamp(12 - exponent, -100, 100);
    }
    const int64_t tb = t.blockTiles();
    bool isSigned = scheme.getIsSigned();
    std::vector<uint32_t> params(size_t(t.nBlocks) * t.groups * tb * 8 * 2, 0);
    for (int64_t n = 0; n < t.nBlocks * t.bn; ++n)
      for (int64_t grp = 0; grp < t.groups; ++grp) {
        double scale = 0, zero = 0;
        if (n < numN) {
          scale = std::ldexp(scales[grp * numN + n], exponent);
          zero = (isSigned ? 8.0 : 0.0) + (zeros ? (*zeros)[grp * numN + n] : 0);
        }
        int64_t nb = n / t.bn, tile = (n % t.bn) / 16, i = n % 16;
        int64_t g = i % 8, half = i >= 8 ? 1 : 0;
        size_t pair = ((((nb * t.groups + grp) * tb + tile) * 8) + g) * 2;
        params[pair] |= uint32_t(halfBits(scale)) << (16 * half);
        params[pair + 1] |= uint32_t(halfBits((half ? 64.0 : 1024.0) + zero))
                            << (16 * half);
      }
    return global("__qcc_gpu_w4gemm_params", params);
  }

  // Small builders used inside the kernels.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i64c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value i32c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(int32_t(v)));
  }
  Value f32c(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value toI64(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return add(x, i64c(y)); }
  Value mul(Value x, int64_t y) { return mul(x, i64c(y)); }
  Value divu(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, i64c(y));
  }
  Value remu(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, i64c(y));
  }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value andI(Value x, int64_t m) {
    return arith::AndIOp::create(b, loc, x, i32c(m));
  }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value bitcast(Type type, Value v) {
    return LLVM::BitcastOp::create(b, loc, type, v);
  }
  Value extract(Value vec, int64_t i) {
    return LLVM::ExtractElementOp::create(b, loc, vec, i32c(i));
  }
  /// The device address of a buffer as a pointer in `space` (1: global,
  /// 3: shared).
  Value pointer(Value memref, unsigned space) {
    Value addr = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, b.getIndexType(), memref);
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(ctx, space), toI64(addr));
  }
  Value gep(Value base, Type element, Value index) {
    return LLVM::GEPOp::create(b, loc, base.getType(), element, base,
                               ValueRange{index});
  }
  Value load(Type type, Value ptr, unsigned align, bool invariant = false) {
    return LLVM::LoadOp::create(b, loc, type, ptr, align, false, false,
                                invariant);
  }
  /// Opens an scf.if on `cond` and moves the builder into it.
  void guardBy(Value cond) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
  }

  mlir::gpu::LaunchOp launch(int64_t gx, int64_t gy, int64_t gz,
                             int64_t threads, TypeRange attributions) {
    Value one = idx(1);
    auto l = mlir::gpu::LaunchOp::create(
        b, loc, idx(gx), idx(gy), idx(gz), idx(threads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, attributions);
    Block &body = l.getBody().front();
    b.setInsertionPointToEnd(&body);
    mlir::gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    return l;
  }

  /// Kernel 1: x (f32 [M, K]) -> xh (f16 [Mpad, K]), 8 values per thread.
  /// Returns the launch.
  Operation *emitConvert(Value x, Value xh) {
    OpBuilder::InsertionGuard guard(b);
    int64_t chunksPerRow = numK / 8;
    int64_t total = t.mBlocks * t.bm * chunksPerRow;
    auto l = launch((total + kElementThreads - 1) / kElementThreads, 1, 1,
                    kElementThreads, {});
    Type f32 = b.getF32Type(), f16 = b.getF16Type(), i32 = b.getI32Type();
    auto v4f32 = VectorType::get({4}, f32), v4f16 = VectorType::get({4}, f16);
    auto v2i32 = VectorType::get({2}, i32), v4i32 = VectorType::get({4}, i32);
    Value i = add(mul(toI64(l.getBlockIds().x), kElementThreads),
                  toI64(l.getThreadIds().x));
    if (total % kElementThreads != 0)
      guardBy(ult(i, i64c(total)));
    Value row = divu(i, chunksPerRow);
    Value xPtr = pointer(x, 1), hPtr = pointer(xh, 1);
    auto ifRow = scf::IfOp::create(b, loc, TypeRange{v4i32},
                                   ult(row, i64c(numM)), /*withElse=*/true);
    {
      OpBuilder::InsertionGuard ifGuard(b);
      b.setInsertionPointToStart(ifRow.thenBlock());
      // Rows below M: x[i * 8 ..] is chunk i of the unpadded rows.
      Value words[2];
      for (int64_t h = 0; h < 2; ++h) {
        Value v = load(v4f32, gep(xPtr, v4f32, add(mul(i, 2), h)), 16, true);
        words[h] =
            bitcast(v2i32, arith::TruncFOp::create(b, loc, v4f16, v));
      }
      Value packed = LLVM::UndefOp::create(b, loc, v4i32);
      for (int64_t w = 0; w < 4; ++w)
        packed = LLVM::InsertElementOp::create(
            b, loc, packed, extract(words[w / 2], w % 2), i32c(w));
      scf::YieldOp::create(b, loc, packed);
      b.setInsertionPointToStart(ifRow.elseBlock());
      Value zero = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(v4i32, b.getI32IntegerAttr(0)));
      scf::YieldOp::create(b, loc, zero);
    }
    LLVM::StoreOp::create(b, loc, ifRow.getResult(0), gep(hPtr, v4i32, i),
                          /*alignment=*/16);
    return l;
  }

  /// Kernel 2: the tensor-core GEMM; writes `dst`: the [M, N] output
  /// (scaled, + bias) or the [splits, M, N] f32 partials.
  void emitGemm(Value xh, Value codeBuf, Value paramBuf, Value dst) {
    OpBuilder::InsertionGuard guard(b);
    Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
    Type f16 = b.getF16Type();
    auto v4i32 = VectorType::get({4}, i32), v2i32 = VectorType::get({2}, i32);
    auto v2f16 = VectorType::get({2}, f16);
    const int64_t S = t.stages, T = t.tiles, TB = t.blockTiles();
    const int64_t stageBytes = t.stageBytes(), rowTiles = t.bm / 8;
    auto space = mlir::gpu::AddressSpaceAttr::get(
        ctx, mlir::gpu::AddressSpace::Workgroup);
    auto l = launch(t.mBlocks, t.nBlocks, t.splits, kThreads,
                    TypeRange{MemRefType::get({S * stageBytes}, i8, nullptr,
                                              space)});
    Value smem = pointer(l.getWorkgroupAttributions()[0], 3);
    Value xG = pointer(xh, 1), codeG = pointer(codeBuf, 1),
          paramG = pointer(paramBuf, 1);
    Value tid = toI64(l.getThreadIds().x);
    Value mb = toI64(l.getBlockIds().x), nb = toI64(l.getBlockIds().y),
          split = toI64(l.getBlockIds().z);
    Value lane = remu(tid, 32), warp = divu(tid, 32);
    Value g = divu(lane, 4), c = remu(lane, 4);
    Value begin = divu(mul(split, t.kSteps), t.splits);
    Value end = divu(mul(add(split, 1), t.kSteps), t.splits);
    Value count = arith::SubIOp::create(b, loc, end, begin);

    // What each thread copies per stage (byte offsets).
    const int64_t codeChunks = t.codeBytes / 16, xChunks = t.xBytes / 16,
                  paramChunks = t.paramBytes / 16;
    Value codeBase = mul(nb, t.kSteps * t.codeBytes);
    Value xBase = mul(mul(mb, t.bm), numK * 2);
    SmallVector<Value> xSrc, xDst;
    for (int64_t r = 0; r < xChunks / kThreads; ++r) {
      Value j = add(tid, r * kThreads);
      Value row = divu(j, 8), chunk = remu(j, 8);
      xSrc.push_back(add(mul(row, numK * 2), mul(chunk, 16)));
      Value swz = arith::XOrIOp::create(b, loc, chunk, remu(row, 8));
      xDst.push_back(add(mul(row, 128), add(mul(swz, 16), t.codeBytes)));
    }
    auto cpAsync = [&](Value dstOff, Value srcPtr, Value srcOff) {
      NVVM::CpAsyncOp::create(b, loc, gep(smem, i8, dstOff),
                              gep(srcPtr, i8, srcOff), 16,
                              NVVM::LoadCacheModifierKind::CG, Value());
    };
    auto loadStage = [&](Value step, Value slot) {
      Value ks = add(begin, step);
      Value base = mul(slot, stageBytes);
      Value codeSrc = add(codeBase, mul(ks, t.codeBytes));
      for (int64_t r = 0; r < codeChunks / kThreads; ++r) {
        Value off = mul(add(tid, r * kThreads), 16);
        cpAsync(add(base, off), codeG, add(codeSrc, off));
      }
      Value kOff = add(xBase, mul(ks, kStageK * 2));
      for (auto [src, dst] : llvm::zip(xSrc, xDst))
        cpAsync(add(base, dst), xG, add(kOff, src));
      // The stage's groups: (ks * 64) / group onwards, contiguous.
      Value grp = divu(mul(ks, kStageK), t.group);
      Value paramSrc = mul(add(mul(nb, t.groups), grp), TB * 64);
      OpBuilder::InsertionGuard pGuard(b);
      for (int64_t r = 0; r * kThreads < paramChunks; ++r) {
        Value j = add(tid, r * kThreads);
        if ((r + 1) * kThreads > paramChunks)
          guardBy(ult(j, i64c(paramChunks)));
        Value off = mul(j, 16);
        cpAsync(add(base, add(off, t.codeBytes + t.xBytes)), paramG,
                add(paramSrc, off));
      }
    };

    // Prologue: stages 0 .. S-2 in flight.
    for (int64_t s = 0; s + 1 < S; ++s) {
      {
        OpBuilder::InsertionGuard ifGuard(b);
        guardBy(ult(i64c(s), count));
        loadStage(i64c(s), i64c(s));
      }
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
    }

    // Per-lane shared offsets inside a stage.
    SmallVector<Value> codeOff, paramOff;
    for (int64_t tt = 0; tt < T; ++tt) {
      Value tile = add(mul(warp, T), tt);
      codeOff.push_back(mul(add(mul(tile, 32), lane), 16));
    }
    for (int64_t gi = 0; gi < t.groupsPerStage; ++gi)
      for (int64_t tt = 0; tt < T; ++tt) {
        Value tile = add(mul(warp, T), tt);
        paramOff.push_back(add(
            mul(add(mul(add(tile, gi * TB), 8), g), 8), t.codeBytes + t.xBytes));
      }
    // ldmatrix.x4 of rows 16p .. 16p + 15, K tile kt: lane l addresses row
    // 16p + l % 8 + 8 (l / 16), chunk 2 kt + (l / 8) % 2 (swizzled by l % 8).
    Value lrow = add(remu(lane, 8), mul(divu(lane, 16), 8));
    Value lchunk = remu(divu(lane, 8), 2), lswz = remu(lane, 8);
    SmallVector<Value> xOff;
    for (int64_t kt = 0; kt < 4; ++kt) {
      Value chunk = arith::XOrIOp::create(b, loc, add(lchunk, 2 * kt), lswz);
      xOff.push_back(add(add(mul(lrow, 128), mul(chunk, 16)), t.codeBytes));
    }

    auto i32x4 = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
    auto f32x4 = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
    auto rowLayout = NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row);
    auto shape88 = NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8);
    auto b16 =
        NVVM::LdStMatrixEltTypeAttr::get(ctx, NVVM::LdStMatrixEltType::B16);

    const int64_t numAcc = T * rowTiles * 4;
    SmallVector<Value> init(numAcc, f32c(0.0f));
    auto loop = scf::ForOp::create(b, loc, i64c(0), count, i64c(1), init);
    {
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value step = loop.getInductionVar();
      NVVM::CpAsyncWaitGroupOp::create(b, loc, S - 2);
      mlir::gpu::BarrierOp::create(b, loc);
      {
        OpBuilder::InsertionGuard ifGuard(b);
        Value next = add(step, S - 1);
        guardBy(ult(next, count));
        loadStage(next, remu(next, S));
      }
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
      Value stage = gep(smem, i8, mul(remu(step, S), stageBytes));
      SmallVector<Value> acc =
          llvm::to_vector_of<Value>(loop.getRegionIterArgs());

      SmallVector<Value> words;
      for (int64_t tt = 0; tt < T; ++tt)
        words.push_back(load(v4i32, gep(stage, i8, codeOff[tt]), 16));
      // Splatted f16x2 scales and zero offsets: [gi][tt].
      SmallVector<Value> sLo, sHi, zLo, zHi;
      for (int64_t p = 0; p < int64_t(paramOff.size()); ++p) {
        Value pv = load(v2i32, gep(stage, i8, paramOff[p]), 8);
        auto splat = [&](Value w, bool high) -> Value {
          if (!high) {
            Value lo = andI(w, 0xFFFF);
            return bitcast(v2f16,
                           orI(lo, arith::ShLIOp::create(b, loc, lo, i32c(16))));
          }
          Value hi = arith::ShRUIOp::create(b, loc, w, i32c(16));
          return bitcast(v2f16, orI(hi, andI(w, 0xFFFF0000)));
        };
        Value sw = extract(pv, 0), zw = extract(pv, 1);
        sLo.push_back(splat(sw, false));
        sHi.push_back(splat(sw, true));
        zLo.push_back(splat(zw, false));
        zHi.push_back(splat(zw, true));
      }
      for (int64_t kt = 0; kt < 4; ++kt) {
        int64_t gi = t.group >= kStageK ? 0 : kt * 16 / t.group;
        // Activations as B fragments: [rowTile][2].
        SmallVector<SmallVector<Value>> bFrag(rowTiles);
        for (int64_t p = 0; p < t.bm / 16; ++p) {
          Value frag = NVVM::LdMatrixOp::create(
              b, loc, i32x4, gep(stage, i8, add(xOff[kt], p * 16 * 128)),
              b.getI32IntegerAttr(4), rowLayout, shape88, b16);
          SmallVector<Value> regs;
          for (int64_t r = 0; r < 4; ++r)
            regs.push_back(
                bitcast(v2f16, LLVM::ExtractValueOp::create(b, loc, frag, r)));
          bFrag[2 * p] = {regs[0], regs[1]};
          bFrag[2 * p + 1] = {regs[2], regs[3]};
        }
        for (int64_t tt = 0; tt < T; ++tt) {
          Value word = extract(words[tt], kt);
          Value shifted = arith::ShRUIOp::create(b, loc, word, i32c(8));
          int64_t pi = gi * T + tt;
          auto decode = [&](Value w, int64_t mask, int64_t magic, Value zero,
                            Value scale) -> Value {
            Value bits = orI(andI(w, mask), i32c(magic));
            Value v = arith::SubFOp::create(b, loc, bitcast(v2f16, bits), zero);
            return arith::MulFOp::create(b, loc, v, scale);
          };
          SmallVector<Value> a = {
              decode(word, 0x000F000F, 0x64006400, zLo[pi], sLo[pi]),
              decode(word, 0x00F000F0, 0x54005400, zHi[pi], sHi[pi]),
              decode(shifted, 0x000F000F, 0x64006400, zLo[pi], sLo[pi]),
              decode(shifted, 0x00F000F0, 0x54005400, zHi[pi], sHi[pi])};
          for (int64_t nt = 0; nt < rowTiles; ++nt) {
            Value *cc = &acc[(tt * rowTiles + nt) * 4];
            Value d = NVVM::MmaOp::create(
                b, loc, f32x4, a, bFrag[nt], ValueRange{cc[0], cc[1], cc[2], cc[3]},
                ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
                std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::f16,
                                              NVVM::MMATypes::f16},
                std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                               NVVM::MMALayout::col});
            for (int64_t r = 0; r < 4; ++r)
              cc[r] = LLVM::ExtractValueOp::create(b, loc, d, r);
          }
        }
      }
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);

    // Epilogue: accumulator r of (tile tt, row tile nt) is column
    // 16 tile + g + 8 (r / 2), row 8 nt + 2c + r % 2.
    SmallVector<Value> acc = llvm::to_vector_of<Value>(loop.getResults());
    Value unscale = f32c(std::ldexp(1.0f, -exponent));
    Value bias = op.getBias();
    bool toPartial = t.splits > 1;
    for (int64_t tt = 0; tt < T; ++tt)
      for (int64_t r = 0; r < 4; r += 2) {
        Value col = add(add(mul(nb, t.bn), mul(add(mul(warp, T), tt), 16)),
                        add(g, 8 * (r / 2)));
        OpBuilder::InsertionGuard colGuard(b);
        if (t.nBlocks * t.bn != numN)
          guardBy(ult(col, i64c(numN)));
        Value colIdx = toIndex(col);
        Value biasV;
        if (bias && !toPartial)
          biasV = memref::LoadOp::create(b, loc, bias, ValueRange{colIdx});
        for (int64_t nt = 0; nt < rowTiles; ++nt)
          for (int64_t h = 0; h < 2; ++h) {
            Value row = add(add(mul(mb, t.bm), 8 * nt + h), mul(c, 2));
            OpBuilder::InsertionGuard rowGuard(b);
            if (t.mBlocks * t.bm != numM)
              guardBy(ult(row, i64c(numM)));
            Value v = acc[(tt * rowTiles + nt) * 4 + r + h];
            if (toPartial) {
              Value slot = add(mul(add(mul(split, numM), row), numN), col);
              memref::StoreOp::create(b, loc, v, dst,
                                      ValueRange{toIndex(slot)});
              continue;
            }
            v = arith::MulFOp::create(b, loc, v, unscale);
            if (biasV)
              v = arith::AddFOp::create(b, loc, v, biasV);
            memref::StoreOp::create(b, loc, v, dst,
                                    ValueRange{toIndex(row), colIdx});
          }
      }
  }

  /// Kernel 3: out = (sum of the splits' partials) 2^-e + bias.
  void emitReduce(Value partial, Value out) {
    OpBuilder::InsertionGuard guard(b);
    int64_t total = numM * numN;
    auto l = launch((total + kElementThreads - 1) / kElementThreads, 1, 1,
                    kElementThreads, {});
    Value i = add(mul(toI64(l.getBlockIds().x), kElementThreads),
                  toI64(l.getThreadIds().x));
    if (total % kElementThreads != 0)
      guardBy(ult(i, i64c(total)));
    Value sum = memref::LoadOp::create(b, loc, partial, ValueRange{toIndex(i)});
    for (int64_t s = 1; s < t.splits; ++s)
      sum = arith::AddFOp::create(
          b, loc, sum,
          memref::LoadOp::create(b, loc, partial,
                                 ValueRange{toIndex(add(i, s * total))}));
    Value v =
        arith::MulFOp::create(b, loc, sum, f32c(std::ldexp(1.0f, -exponent)));
    Value col = toIndex(remu(i, numN)), row = toIndex(divu(i, numN));
    if (Value bias = op.getBias())
      v = arith::AddFOp::create(
          b, loc, v, memref::LoadOp::create(b, loc, bias, ValueRange{col}));
    memref::StoreOp::create(b, loc, v, out, ValueRange{row, col});
  }

  q::MatmulOp op;
  SymbolTable &symbols;
  int64_t minRows, splitsOpt, stagesOpt;
  SmallVectorImpl<Conversion> &conversions;
  OpBuilder b;
  Location loc;
  MLIRContext *ctx;
  q::WeightConstantOp weight;
  q::SchemeAttr scheme;
  ElementsAttr scaleAttr, zeroAttr;
  Tiling t{};
  int exponent = 0;
  int64_t numM = 0, numK = 0, numN = 0;
};

struct GpuW4A16GemmPass
    : public qcc::gpu::impl::GpuW4A16GemmBase<GpuW4A16GemmPass> {
  using GpuW4A16GemmBase::GpuW4A16GemmBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (minRows < 1 || splits < 0 || stages < 0) {
      module.emitError("qcc-gpu-w4a16-gemm: min-rows must be at least 1, "
                       "splits and stages not negative");
      return signalPassFailure();
    }
    if (failed(qcc::gpu::rejectOutlierMatmuls(module)))
      return signalPassFailure();
    SymbolTable symbols(module);
    SmallVector<q::MatmulOp> ops;
    module.walk([&](q::MatmulOp op) { ops.push_back(op); });
    SmallVector<Conversion> conversions;
    for (q::MatmulOp op : ops) {
      GemmLowering lowering(op, symbols, minRows, splits, stages,
                            conversions);
      if (lowering.matches() && failed(lowering.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
