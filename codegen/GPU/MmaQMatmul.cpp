//===- MmaQMatmul.cpp - W8A8 q.matmul on int8 tensor cores (mma.sync) -----===//
//
// A q.matmul with int8 activations (per-token or per-tensor) and symmetric
// signed int8 weights (per output channel or per tensor) becomes two
// launches:
//
//  1. quantize: one block of 128 threads per row: the row's absmax (per
//     token) or the static scale gives scale = absmax / 127, the codes are
//     roundeven(x * 127 / absmax) clamped to [-128, 127] exactly as on the
//     CPU, written as a [Mpad, Kpad] int8 buffer (rows and K padded with
//     zeros to the tile sizes) plus one f32 scale per row. The block grows
//     from 128 threads (in warps, up to 1024) so that each thread holds at
//     most 8 16-byte chunks: rows of up to 32768 values stay in registers
//     between the absmax and the rounding (one read of x); longer ones are
//     read twice.
//  2. GEMM: a BM x BN output tile per block of 4 or 8 warps; per stage of 64
//     K bytes the block copies the A tile (swizzled: 16-byte chunk c of row r
//     goes to chunk c ^ ((r >> 1) & 3), so ldmatrix reads of 8 rows hit 8
//     different bank groups) and the B tile with cp.async into a 3- or
//     4-stage ring in shared memory; each warp loads its fragments with
//     ldmatrix.x4 and runs mma.sync.m16n8k32.s8.s8.s32. The weights are
//     prepacked at compile time as [N / BN][K / 64][BN][64] tiles, K-major
//     per column and already swizzled, so each stage's B tile is one
//     contiguous block. (On sm_90a the K loop runs on wgmma instead,
//     WgmmaQMatmul.cpp; there the quantization kernel writes the codes as
//     [Mpad / 128][Kpad / 64][128][64] swizzled tiles and each stage
//     arrives by two bulk copies; with split-K the blocks of one output
//     tile each run part of K and the last to finish adds the others' int32
//     sums, emitSplitKReduce.) The epilogue computes
//     acc * a_scale[row] * w_scale[col] (+ bias[col]) in f32 and stores
//     pairs of columns.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/GPU/Passes.h"
#include "qcc/Dialect/Q/IR/QOps.h"

#include "Fills.h"
#include "W4A16Gemv.h"
#include "WgmmaQMatmul.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <algorithm>

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUMMAQMATMUL
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;
using namespace qcc;

namespace {

constexpr int64_t kTileK = 64;             // K bytes per pipeline stage
constexpr int64_t kSharedBytes = 48 * 1024; // static shared memory limit
constexpr int64_t kQuantThreads = 128;     // smallest quantization block
constexpr int64_t kQuantMaxThreads = 1024;
constexpr int64_t kQuantChunksPerThread = 8; // 16-byte chunks in registers

struct TileConfig {
  int64_t bm, bn, warpsM, warpsN, stages = 0;
  int64_t threads() const { return 32 * warpsM * warpsN; }
  int64_t warpM() const { return bm / warpsM; }
  int64_t warpN() const { return bn / warpsN; }
  int64_t mTiles() const { return warpM() / 16; }
  int64_t nTiles() const { return warpN() / 8; }
};

/// The largest tile whose grid still has about one block per SM of a big
/// GPU (132 on the H100, 108 on the A100); small problems take small tiles.
TileConfig chooseConfig(int64_t m, int64_t n) {
  // (Measured on the H100: a 128x256 tile with 64x64 warp tiles in 96 KB
  // of dynamic shared memory, one block per SM at 216 registers, was 7-20%
  // slower than 128x128 at two blocks per SM; running the blocks in groups
  // of 8 tile rows for L2 reuse changed -3%..+12%.)
  const TileConfig candidates[] = {
      {128, 128, 2, 4}, {64, 128, 2, 4}, {64, 64, 2, 2}};
  TileConfig chosen = qcc::gpu::firstFillingTile<TileConfig>(candidates, m, n);
  chosen.stages = std::min<int64_t>(4, kSharedBytes /
                                           ((chosen.bm + chosen.bn) * kTileK));
  return chosen;
}

class MmaLowering {
public:
  MmaLowering(q::MatmulOp op, SymbolTable &symbols, bool wgmma,
              int64_t forceBn, int64_t forceSplitK)
      : op(op), symbols(symbols), b(op), loc(op.getLoc()),
        ctx(op.getContext()), wgmma(wgmma), forceBn(forceBn),
        forceSplitK(forceSplitK) {}

  /// Whether the op is one this pass handles (otherwise it is left to
  /// qcc-gpu-lower-qmatmul).
  bool matches() {
    auto weight = op.getWeight().getDefiningOp<q::WeightConstantOp>();
    if (!weight || op->getNumResults() != 0 ||
        op.getActQuant() == q::ActQuant::None || op.getZeroPoints())
      return false;
    auto type = cast<q::WeightType>(op.getWeight().getType());
    q::SchemeAttr scheme = type.getScheme();
    if (scheme.getBits() != 8 || !scheme.getIsSigned() ||
        type.getLayout() != q::Layout::RowMajor)
      return false;
    if (scheme.getGranularity() == q::Granularity::PerGroup ||
        (scheme.getGranularity() == q::Granularity::PerChannel &&
         scheme.getAxis() != 1))
      return false;
    for (Value v : op->getOperands())
      if (auto memref = dyn_cast<MemRefType>(v.getType()))
        if (!memref.hasStaticShape())
          return false;
    auto inType = cast<MemRefType>(op.getInput().getType());
    auto outType = cast<MemRefType>(op.getInit().getType());
    if (!inType.getElementType().isF32() || !outType.getElementType().isF32())
      return false;
    numK = type.getShape()[0];
    numN = type.getShape()[1];
    // 16-byte activation loads and 8-byte output stores.
    return numK % 4 == 0 && numN % 2 == 0 && numK > 0 && numN > 0 &&
           inType.getNumElements() > 0;
  }

  LogicalResult run() {
    auto weight = op.getWeight().getDefiningOp<q::WeightConstantOp>();
    auto codes = qcc::gpu::constantBytes(weight.getStorage());
    if (!codes || int64_t(codes->size()) != numK * numN)
      return op.emitOpError("int8 weight storage of ")
             << numK * numN << " bytes expected";

    Value init = op.getInit();
    qcc::gpu::eraseDeadFill(op, init);
    Value x = collapse(contiguous(op.getInput(), /*copyIn=*/true));
    Value dense = contiguous(init, /*copyIn=*/false);
    Value out = collapse(dense);
    numM = cast<MemRefType>(x.getType()).getShape()[0];
    std::optional<qcc::gpu::WgmmaTile> tile;
    const int64_t kTiles = (numK + kTileK - 1) / kTileK;
    if (wgmma)
      tile = qcc::gpu::chooseWgmmaTile(numM, numN, kTiles, forceBn,
                                       forceSplitK);
    if (tile && kTiles % tile->splitK != 0)
      return op.emitOpError("wgmma split-k ")
             << tile->splitK << " does not divide the " << kTiles
             << " K tiles of 64";
    wgmma = tile.has_value();
    if (wgmma) {
      // A warp per 16 rows (warpgroups of 64 rows), each over all bn columns.
      wgmmaTile = *tile;
      cfg = {wgmmaTile.bm, wgmmaTile.bn, wgmmaTile.bm / 16, 1,
             wgmmaTile.stages};
    } else {
      cfg = chooseConfig(numM, numN);
    }
    padM = (numM + cfg.bm - 1) / cfg.bm * cfg.bm;
    padN = (numN + cfg.bn - 1) / cfg.bn * cfg.bn;
    padK = (numK + kTileK - 1) / kTileK * kTileK;

    Value wBuf = packWeights(*codes);
    Value aBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({padM * padK}, b.getI8Type()));
    Value saBuf = memref::AllocOp::create(
        b, loc, MemRefType::get({padM}, b.getF32Type()));
    if (wgmma && wgmmaTile.splitK > 1) {
      // Split-K: a slot of int32 sums per block, a counter per output tile
      // (zeroed by the quantization kernel).
      tiles = (padM / cfg.bm) * (padN / cfg.bn);
      partials = memref::AllocOp::create(
          b, loc,
          MemRefType::get({tiles * wgmmaTile.splitK * cfg.bm * cfg.bn},
                          b.getI32Type()));
      counters = memref::AllocOp::create(
          b, loc, MemRefType::get({tiles}, b.getI32Type()));
      if (tiles > padM * kQuantThreads)
        return op.emitOpError("wgmma split-k: more output tiles (")
               << tiles << ") than quantization threads to zero counters";
    }
    emitQuantize(x, aBuf, saBuf);
    emitGemm(aBuf, saBuf, wBuf, out);
    if (dense != init)
      memref::CopyOp::create(b, loc, dense, init);
    op->erase();
    if (weight->use_empty())
      weight->erase();
    return success();
  }

private:
  Value contiguous(Value value, bool copyIn) {
    return qcc::gpu::contiguousBuffer(b, loc, value, copyIn);
  }
  Value collapse(Value value) { return qcc::gpu::collapseToRows(b, loc, value); }

  /// [K, N] row-major codes -> [padN / BN][padK / 64][BN][64] tiles, each
  /// row's 16-byte chunks swizzled as the GEMM's shared memory expects.
  Value packWeights(ArrayRef<uint8_t> codes) {
    int64_t kt = padK / kTileK;
    std::vector<int8_t> packed(padN * padK, 0);
    for (int64_t k = 0; k < numK; ++k)
      for (int64_t n = 0; n < numN; ++n) {
        int64_t nb = n / cfg.bn, r = n % cfg.bn;
        int64_t t = k / kTileK, c = (k % kTileK) / 16, byte = k % 16;
        int64_t chunk = c ^ ((r >> 1) & 3);
        packed[((nb * kt + t) * cfg.bn + r) * kTileK + chunk * 16 + byte] =
            int8_t(codes[k * numN + n]);
      }
    auto tensorType = RankedTensorType::get({padN * padK}, b.getI8Type());
    auto value = DenseElementsAttr::getFromRawBuffer(
        tensorType, ArrayRef<char>(reinterpret_cast<const char *>(
                                       packed.data()),
                                   packed.size()));
    auto type = MemRefType::get({padN * padK}, b.getI8Type());
    memref::GlobalOp global;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&symbols.getOp()->getRegion(0).front());
      global = memref::GlobalOp::create(
          b, loc, "__qcc_gpu_mma_weight", b.getStringAttr("private"), type,
          value, /*constant=*/true, b.getI64IntegerAttr(64));
      symbols.insert(global);
    }
    return memref::GetGlobalOp::create(b, loc, type, global.getSymName());
  }

  // Small builders used inside the kernels.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i64c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value i32c(int32_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value f32c(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value toI64(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return add(x, i64c(y)); }
  Value mul(Value x, int64_t y) { return mul(x, i64c(y)); }

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

  mlir::gpu::LaunchOp launch(int64_t gridX, int64_t gridY, int64_t threads,
                             TypeRange attributions, int64_t dynamicShared = 0,
                             int64_t gridZ = 1) {
    Value one = idx(1);
    auto l = mlir::gpu::LaunchOp::create(
        b, loc, idx(gridX), idx(gridY), idx(gridZ), idx(threads), one, one,
        dynamicShared ? i32c(int32_t(dynamicShared)) : Value(),
        /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, attributions);
    Block &body = l.getBody().front();
    b.setInsertionPointToEnd(&body);
    mlir::gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    return l;
  }

  MemRefType sharedType(ArrayRef<int64_t> shape, Type element) {
    auto space = mlir::gpu::AddressSpaceAttr::get(
        ctx, mlir::gpu::AddressSpace::Workgroup);
    return MemRefType::get(shape, element, nullptr, space);
  }

  /// Kernel 1: f32 rows -> int8 codes [padM, padK] and a scale per row.
  void emitQuantize(Value x, Value aBuf, Value saBuf) {
    OpBuilder::InsertionGuard guard(b);
    bool dynamic = op.getActQuant() == q::ActQuant::DynamicPerToken;
    Type f32 = b.getF32Type(), i32 = b.getI32Type();
    // Enough whole warps that no thread holds more than 8 chunks of the row.
    const int64_t chunks = padK / 4;
    const int64_t wanted =
        (chunks + kQuantChunksPerThread - 1) / kQuantChunksPerThread;
    const int64_t threads = std::clamp<int64_t>((wanted + 31) / 32 * 32,
                                                kQuantThreads, kQuantMaxThreads);
    auto l = launch(padM, 1, threads,
                    TypeRange{sharedType({threads / 32}, f32)});
    Value partial = l.getWorkgroupAttributions()[0];
    Value row = l.getBlockIds().x, tid = l.getThreadIds().x;
    Value row64 = toI64(row), tid64 = toI64(tid);
    Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        row64, i64c(numM));
    Value kEnd = arith::SelectOp::create(b, loc, valid, i64c(numK / 4),
                                         i64c(0));
    Value xPtr = pointer(x, 1), aPtr = pointer(aBuf, 1);
    auto v4f32 = VectorType::get({4}, f32);
    Value rowBase = mul(row64, numK / 4);
    auto loadChunk = [&](Value c) -> SmallVector<Value> {
      Value ptr = gep(xPtr, v4f32, add(rowBase, c));
      Value v = LLVM::LoadOp::create(b, loc, v4f32, ptr, /*alignment=*/16);
      SmallVector<Value> elems;
      for (int64_t e = 0; e < 4; ++e)
        elems.push_back(LLVM::ExtractElementOp::create(b, loc, v, i32c(e)));
      return elems;
    };

    // The row stays in registers between the absmax and the quantization
    // (one read of x) unless even 1024 threads would hold more than 8 chunks.
    const int64_t perThread = (chunks + threads - 1) / threads;
    const bool resident = dynamic && perThread <= kQuantChunksPerThread;
    SmallVector<SmallVector<Value>> held;
    if (resident) {
      Value zero = f32c(0.0f);
      for (int64_t r = 0; r < perThread; ++r) {
        Value c = add(tid64, r * threads);
        Value inRange = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ult, c, kEnd);
        auto ifOp = scf::IfOp::create(b, loc, TypeRange{f32, f32, f32, f32},
                                      inRange, /*withElse=*/true);
        {
          OpBuilder::InsertionGuard ifGuard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          scf::YieldOp::create(b, loc, loadChunk(c));
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, ValueRange{zero, zero, zero, zero});
        }
        held.push_back(llvm::to_vector_of<Value>(ifOp.getResults()));
      }
    }
    auto pack = [&](ArrayRef<Value> elems, Value inv) -> Value {
      Value word;
      for (auto [e, v] : llvm::enumerate(elems)) {
        Value q = math::RoundEvenOp::create(
            b, loc, arith::MulFOp::create(b, loc, v, inv));
        q = arith::MinimumFOp::create(
            b, loc, arith::MaximumFOp::create(b, loc, q, f32c(-128.0f)),
            f32c(127.0f));
        Value code = arith::AndIOp::create(
            b, loc, arith::FPToSIOp::create(b, loc, i32, q), i32c(255));
        word = e == 0 ? code
                      : Value(arith::OrIOp::create(
                            b, loc, word,
                            arith::ShLIOp::create(b, loc, code,
                                                  i32c(8 * int32_t(e)))));
      }
      return word;
    };

    Value scale, inv;
    if (dynamic) {
      Value m = f32c(0.0f);
      if (resident) {
        for (ArrayRef<Value> elems : held)
          for (Value e : elems)
            m = arith::MaximumFOp::create(b, loc, m,
                                          math::AbsFOp::create(b, loc, e));
      } else {
        auto loop = scf::ForOp::create(b, loc, tid64, kEnd,
                                       i64c(threads), ValueRange{m});
        OpBuilder::InsertionGuard loopGuard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value acc = loop.getRegionIterArgs()[0];
        for (Value e : loadChunk(loop.getInductionVar()))
          acc = arith::MaximumFOp::create(b, loc, acc,
                                          math::AbsFOp::create(b, loc, e));
        scf::YieldOp::create(b, loc, acc);
        m = loop.getResult(0);
      }
      for (int32_t offset = 16; offset > 0; offset /= 2) {
        auto shuffle = mlir::gpu::ShuffleOp::create(
            b, loc, m, i32c(offset), i32c(32), mlir::gpu::ShuffleMode::XOR);
        m = arith::MaximumFOp::create(b, loc, m, shuffle.getShuffleResult());
      }
      Value lane = arith::RemUIOp::create(b, loc, tid, idx(32));
      Value warp = arith::DivUIOp::create(b, loc, tid, idx(32));
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          lane, idx(0));
      {
        OpBuilder::InsertionGuard ifGuard(b);
        auto ifOp = scf::IfOp::create(b, loc, first, /*withElse=*/false);
        b.setInsertionPointToStart(ifOp.thenBlock());
        memref::StoreOp::create(b, loc, m, partial, ValueRange{warp});
      }
      mlir::gpu::BarrierOp::create(b, loc);
      m = memref::LoadOp::create(b, loc, partial, ValueRange{idx(0)});
      for (int64_t w = 1; w < threads / 32; ++w)
        m = arith::MaximumFOp::create(
            b, loc, m,
            memref::LoadOp::create(b, loc, partial, ValueRange{idx(w)}));
      // A zero row keeps scale 1, as on the CPU.
      Value isZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                           m, f32c(0.0f));
      Value safe = arith::SelectOp::create(b, loc, isZero, f32c(127.0f), m);
      scale = arith::DivFOp::create(b, loc, safe, f32c(127.0f));
      inv = arith::DivFOp::create(b, loc, f32c(127.0f), safe);
    } else {
      Value s = op.getActScale();
      SmallVector<Value> zeros(cast<MemRefType>(s.getType()).getRank(),
                               idx(0));
      scale = memref::LoadOp::create(b, loc, s, zeros);
      inv = arith::DivFOp::create(b, loc, f32c(1.0f), scale);
    }

    for (auto [r, elems] : llvm::enumerate(held)) {
      Value c = add(tid64, int64_t(r) * threads);
      OpBuilder::InsertionGuard storeGuard(b);
      if ((int64_t(r) + 1) * threads > chunks) {
        Value inRange = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ult, c, i64c(chunks));
        auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
        b.setInsertionPointToStart(ifOp.thenBlock());
      }
      // Zero (padding) values give zero codes.
      LLVM::StoreOp::create(b, loc, pack(elems, inv),
                            gep(aPtr, i32, aWord(row64, c)), /*alignment=*/4);
    }
    if (!resident) {
      auto loop = scf::ForOp::create(b, loc, tid64, i64c(chunks),
                                     i64c(threads));
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value c = loop.getInductionVar();
      Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            c, kEnd);
      auto ifOp = scf::IfOp::create(b, loc, TypeRange{i32}, inRange,
                                    /*withElse=*/true);
      {
        OpBuilder::InsertionGuard ifGuard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        scf::YieldOp::create(b, loc, pack(loadChunk(c), inv));
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b, loc, i32c(0));
      }
      Value ptr = gep(aPtr, i32, aWord(row64, c));
      LLVM::StoreOp::create(b, loc, ifOp.getResult(0), ptr, /*alignment=*/4);
    }
    if (counters) {
      // Split-K: the GEMM's tile counters start at 0 (one per thread of the
      // first blocks; run() checks there are enough threads).
      OpBuilder::InsertionGuard zeroGuard(b);
      Value i = add(mul(row64, threads), tid64);
      auto ifOp = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                                i64c(tiles)),
          /*withElse=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
      LLVM::StoreOp::create(b, loc, i32c(0), gep(pointer(counters, 1), i32, i),
                            /*alignment=*/4);
    }
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                        idx(0));
    auto ifOp = scf::IfOp::create(b, loc, first, /*withElse=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value rowScale = arith::SelectOp::create(b, loc, valid, scale, f32c(0.0f));
    memref::StoreOp::create(b, loc, rowScale, saBuf, ValueRange{row});
  }

  /// The 4-byte word of aBuf that holds codes 4 c .. 4 c + 3 of `row`:
  /// [padM, padK] row-major, or, for wgmma (whose stages come by bulk
  /// copies), the ring's tiles
  /// [padM / bm][padK / 64][bm][64] with the 16-byte chunks of each tile row
  /// swizzled (chunk q of row r at q ^ ((r >> 1) & 3)), so that each stage's
  /// A tile is one contiguous block for the bulk copy.
  Value aWord(Value row, Value c) {
    if (!wgmma)
      return add(mul(row, padK / 4), c);
    const int64_t BM = cfg.bm, KT = padK / kTileK;
    Value r = andc(row, BM - 1), chunk = andc(shr(c, 2), 3);
    Value swz = xorv(chunk, andc(shr(r, 1), 3));
    Value tileIdx = add(mul(shr(row, llvm::Log2_64(BM)), KT), shr(c, 4));
    return add(mul(add(mul(tileIdx, BM), r), kTileK / 4),
               add(mul(swz, 4), andc(c, 3)));
  }

  Value shr(Value v, int64_t s) {
    return arith::ShRUIOp::create(b, loc, v, i64c(s));
  }
  Value andc(Value v, int64_t m) {
    return arith::AndIOp::create(b, loc, v, i64c(m));
  }
  Value xorv(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }

  /// The mma.sync K loop of the GEMM (stages of 64 K bytes, ldmatrix
  /// fragments); returns the thread's MT x NT m16n8 accumulator fragments.
  SmallVector<Value> mmaMainLoop(Value aShared, Value bShared, Value lane,
                                 Value wm, Value wn,
                                 llvm::function_ref<void(Value, Value)>
                                     loadStage) {
    Type i8 = b.getI8Type(), i32 = b.getI32Type();
    const int64_t S = cfg.stages, BM = cfg.bm, BN = cfg.bn;
    const int64_t MT = cfg.mTiles(), NT = cfg.nTiles(), KT = padK / kTileK;
    // ldmatrix addresses (without the stage offset) per k32 step.
    // A: lane l gives row l % 16, chunk 2 ks + l / 16 of its m16 tile.
    // B: lane l gives column (l / 16) * 8 + l % 8 of its pair of n8 tiles,
    //    chunk 2 ks + (l / 8) % 2.
    Value aRow = add(mul(wm, cfg.warpM()), andc(lane, 15));
    Value aSwz = andc(shr(aRow, 1), 3);
    Value bRow = add(mul(wn, cfg.warpN()),
                     add(mul(shr(lane, 4), 8), andc(lane, 7)));
    Value bSwz = andc(shr(bRow, 1), 3);
    SmallVector<Value> aAddr[2], bAddr[2];
    for (int64_t ks = 0; ks < 2; ++ks) {
      Value aChunk = xorv(add(shr(lane, 4), 2 * ks), aSwz);
      for (int64_t i = 0; i < MT; ++i)
        aAddr[ks].push_back(
            add(mul(add(aRow, 16 * i), kTileK), mul(aChunk, 16)));
      Value bChunk = xorv(add(andc(shr(lane, 3), 1), 2 * ks), bSwz);
      for (int64_t j = 0; j < NT / 2; ++j)
        bAddr[ks].push_back(
            add(mul(add(bRow, 16 * j), kTileK), mul(bChunk, 16)));
    }

    // Prologue: stages 0 .. S-2 in flight.
    qcc::gpu::emitRingPrologue(b, loc, S - 1, KT, loadStage);

    auto i32x4 = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
    auto rowLayout = NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row);
    auto shape88 = NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8);
    auto b16 =
        NVVM::LdStMatrixEltTypeAttr::get(ctx, NVVM::LdStMatrixEltType::B16);
    auto ldmatrix = [&](Value ptr) -> SmallVector<Value> {
      Value frag = NVVM::LdMatrixOp::create(b, loc, i32x4, ptr,
                                            b.getI32IntegerAttr(4), rowLayout,
                                            shape88, b16);
      SmallVector<Value> regs;
      for (int64_t r = 0; r < 4; ++r)
        regs.push_back(LLVM::ExtractValueOp::create(b, loc, frag, r));
      return regs;
    };

    SmallVector<Value> init(MT * NT * 4, i32c(0));
    auto loop = scf::ForOp::create(b, loc, i64c(0), i64c(KT), i64c(1), init);
    {
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kt = loop.getInductionVar();
      qcc::gpu::emitRingStep(b, loc, kt, S, S - 1, KT, loadStage);
      Value stage = arith::RemUIOp::create(b, loc, kt, i64c(S));
      Value aStage = gep(aShared, i8, mul(stage, BM * kTileK));
      Value bStage = gep(bShared, i8, mul(stage, BN * kTileK));
      SmallVector<Value> acc =
          llvm::to_vector_of<Value>(loop.getRegionIterArgs());
      for (int64_t ks = 0; ks < 2; ++ks) {
        SmallVector<SmallVector<Value>> aFrag, bFrag(NT);
        for (int64_t i = 0; i < MT; ++i)
          aFrag.push_back(ldmatrix(gep(aStage, i8, aAddr[ks][i])));
        for (int64_t j = 0; j < NT / 2; ++j) {
          SmallVector<Value> regs = ldmatrix(gep(bStage, i8, bAddr[ks][j]));
          bFrag[2 * j] = {regs[0], regs[1]};
          bFrag[2 * j + 1] = {regs[2], regs[3]};
        }
        for (int64_t i = 0; i < MT; ++i)
          for (int64_t j = 0; j < NT; ++j) {
            Value *c = &acc[(i * NT + j) * 4];
            Value d = NVVM::MmaOp::create(
                b, loc, i32x4, aFrag[i], bFrag[j], ValueRange{c[0], c[1], c[2], c[3]},
                ArrayRef<int64_t>{16, 8, 32}, std::nullopt,
                NVVM::MMAIntOverflow::wrapped,
                std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::s8,
                                              NVVM::MMATypes::s8},
                std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                               NVVM::MMALayout::col});
            for (int64_t r = 0; r < 4; ++r)
              c[r] = LLVM::ExtractValueOp::create(b, loc, d, r);
          }
      }
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    return llvm::to_vector_of<Value>(loop.getResults());
  }

  /// Kernel 2: the tensor-core GEMM with its epilogue.
  void emitGemm(Value aBuf, Value saBuf, Value wBuf, Value out) {
    OpBuilder::InsertionGuard guard(b);
    Type i8 = b.getI8Type(), f32 = b.getF32Type();
    const int64_t BM = cfg.bm, BN = cfg.bn, T = cfg.threads();
    const int64_t MT = cfg.mTiles(), NT = cfg.nTiles(), KT = padK / kTileK;
    mlir::gpu::LaunchOp l;
    Value aShared, bShared;
    if (wgmma) {
      // One dynamic shared buffer, the ring aligned to 1024 bytes (the
      // swizzle atoms of the descriptors are 512).
      l = launch(padN / BN, padM / BM, wgmmaTile.threads(), TypeRange{},
                 wgmmaTile.sharedBytes(), wgmmaTile.splitK);
      auto space = mlir::gpu::AddressSpaceAttr::get(
          ctx, mlir::gpu::AddressSpace::Workgroup);
      Value dyn = mlir::gpu::DynamicSharedMemoryOp::create(
          b, loc, MemRefType::get({ShapedType::kDynamic}, i8, nullptr, space));
      Value raw = pointer(dyn, 3);
      Value rawAddr = LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), raw);
      Value pad = andc(arith::SubIOp::create(b, loc, i64c(0), rawAddr), 1023);
      aShared = gep(raw, i8, pad);
      bShared = gep(aShared, i8, i64c(cfg.stages * BM * kTileK));
    } else {
      l = launch(padN / BN, padM / BM, T,
                 TypeRange{sharedType({cfg.stages * BM * kTileK}, i8),
                           sharedType({cfg.stages * BN * kTileK}, i8)});
      aShared = pointer(l.getWorkgroupAttributions()[0], 3);
      bShared = pointer(l.getWorkgroupAttributions()[1], 3);
    }
    Value aGlobal = pointer(aBuf, 1), bGlobal = pointer(wBuf, 1);
    Value tid = toI64(l.getThreadIds().x);
    Value blockN = toI64(l.getBlockIds().x), blockM = toI64(l.getBlockIds().y);
    Value lane = arith::RemUIOp::create(b, loc, tid, i64c(32));
    Value warp = arith::DivUIOp::create(b, loc, tid, i64c(32));
    Value wm = arith::DivUIOp::create(b, loc, warp, i64c(cfg.warpsN));
    Value wn = arith::RemUIOp::create(b, loc, warp, i64c(cfg.warpsN));

    // Per thread: which 16-byte chunks of a stage it copies.
    SmallVector<Value> aSrc, aDst, bOff;
    Value mBase = mul(blockM, BM);
    for (int64_t r = 0; r < BM * 4 / T; ++r) {
      Value e = add(tid, r * T);
      Value row = shr(e, 2), c = andc(e, 3);
      aSrc.push_back(add(mul(add(mBase, row), padK), mul(c, 16)));
      Value swz = xorv(c, andc(shr(row, 1), 3));
      aDst.push_back(add(mul(row, kTileK), mul(swz, 16)));
    }
    for (int64_t r = 0; r < BN * 4 / T; ++r)
      bOff.push_back(mul(add(tid, r * T), 16));
    Value bTileBase = mul(blockN, KT * BN * kTileK);
    auto loadStage = [&](Value kt, Value stage) {
      Value aStage = mul(stage, BM * kTileK), bStage = mul(stage, BN * kTileK);
      Value kOff = mul(kt, kTileK);
      for (auto [src, dst] : llvm::zip(aSrc, aDst))
        NVVM::CpAsyncOp::create(b, loc, gep(aShared, i8, add(aStage, dst)),
                                gep(aGlobal, i8, add(src, kOff)), 16,
                                NVVM::LoadCacheModifierKind::CG, Value());
      Value bSrc = add(bTileBase, mul(kt, BN * kTileK));
      for (Value off : bOff)
        NVVM::CpAsyncOp::create(b, loc, gep(bShared, i8, add(bStage, off)),
                                gep(bGlobal, i8, add(bSrc, off)), 16,
                                NVVM::LoadCacheModifierKind::CG, Value());
    };

    // wgmma with bulk copies: thread 0 copies each stage's A and B tiles
    // (contiguous in global memory) with two bulk copies completing on the
    // stage's mbarrier.
    auto bulkStage = [&](Value kt, Value stage, Value mbar) {
      auto clusterPtr = LLVM::LLVMPointerType::get(ctx, 7);
      auto copy = [&](Value dst, Value src, int64_t bytes) {
        NVVM::CpAsyncBulkGlobalToSharedClusterOp::create(
            b, loc, LLVM::AddrSpaceCastOp::create(b, loc, clusterPtr, dst),
            src, mbar, i32c(int32_t(bytes)), Value(), Value());
      };
      NVVM::MBarrierArriveExpectTxOp::create(
          b, loc, Type(), mbar, i32c(int32_t((BM + BN) * kTileK)),
          NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::CTA),
          b.getBoolAttr(false), Value());
      copy(gep(aShared, i8, mul(stage, BM * kTileK)),
           gep(aGlobal, i8, mul(add(mul(blockM, KT), kt), BM * kTileK)),
           BM * kTileK);
      copy(gep(bShared, i8, mul(stage, BN * kTileK)),
           gep(bGlobal, i8, add(bTileBase, mul(kt, BN * kTileK))),
           BN * kTileK);
    };
    SmallVector<Value> acc;
    if (!wgmma) {
      acc = mmaMainLoop(aShared, bShared, lane, wm, wn, loadStage);
    } else {
      // With split-K, block z runs K tiles z KT / splitK .. of the loop.
      const int64_t splitK = wgmmaTile.splitK;
      Value split = toI64(l.getBlockIds().z);
      Value kBase = mul(split, KT / splitK);
      auto splitStage = [&](Value kt, Value stage, Value mbar) {
        bulkStage(add(kt, kBase), stage, mbar);
      };
      acc = qcc::gpu::emitWgmmaMainLoop(b, loc, wgmmaTile, KT / splitK,
                                        aShared, bShared, tid, shr(warp, 2),
                                        splitStage);
      if (splitK > 1)
        acc = qcc::gpu::emitSplitKReduce(
            b, loc, wgmmaTile, acc, pointer(partials, 1), pointer(counters, 1),
            add(mul(blockM, padN / BN), blockN), split, tid, bShared);
    }

    // Epilogue: out[row, col..col+1] = acc * a_scale[row] * w_scale[col]
    // (+ bias[col]).
    Value group = shr(lane, 2), quad = andc(lane, 3);
    Value rowBase = add(mBase, add(mul(wm, cfg.warpM()), group));
    Value colBase = add(mul(blockN, BN),
                        add(mul(wn, cfg.warpN()), mul(quad, 2)));
    Value scales = op.getScales(), bias = op.getBias();
    bool perTensor = cast<MemRefType>(scales.getType()).getRank() == 0 ||
                     cast<MemRefType>(scales.getType()).getNumElements() == 1;
    Value sPtr = pointer(scales, 1);
    Value bPtr = bias ? pointer(bias, 1) : Value();
    Value saPtr = pointer(saBuf, 1), outPtr = pointer(out, 1);
    auto v2f32 = VectorType::get({2}, f32);
    Value wScale0;
    if (perTensor)
      wScale0 = LLVM::LoadOp::create(b, loc, f32, sPtr, 4);
    bool checkM = padM != numM, checkN = padN != numN;
    for (int64_t j = 0; j < NT; ++j) {
      Value col = add(colBase, 8 * j);
      OpBuilder::InsertionGuard colGuard(b);
      if (checkN) {
        Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         col, i64c(numN));
        auto ifOp = scf::IfOp::create(b, loc, ok, /*withElse=*/false);
        b.setInsertionPointToStart(ifOp.thenBlock());
      }
      Value ws, bs;
      if (perTensor) {
        ws = LLVM::UndefOp::create(b, loc, v2f32);
        ws = LLVM::InsertElementOp::create(b, loc, ws, wScale0, i32c(0));
        ws = LLVM::InsertElementOp::create(b, loc, ws, wScale0, i32c(1));
      } else {
        ws = LLVM::LoadOp::create(b, loc, v2f32, gep(sPtr, f32, col), 8);
      }
      if (bias)
        bs = LLVM::LoadOp::create(b, loc, v2f32, gep(bPtr, f32, col), 8);
      for (int64_t i = 0; i < MT; ++i)
        for (int64_t h = 0; h < 2; ++h) {
          Value row = add(rowBase, 16 * i + 8 * h);
          OpBuilder::InsertionGuard rowGuard(b);
          if (checkM) {
            Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             row, i64c(numM));
            auto ifOp = scf::IfOp::create(b, loc, ok, /*withElse=*/false);
            b.setInsertionPointToStart(ifOp.thenBlock());
          }
          Value sa = LLVM::LoadOp::create(b, loc, f32, gep(saPtr, f32, row), 4);
          Value *c = &acc[(i * NT + j) * 4 + 2 * h];
          Value v = LLVM::UndefOp::create(b, loc, v2f32);
          for (int64_t e = 0; e < 2; ++e) {
            Value w = LLVM::ExtractElementOp::create(b, loc, ws, i32c(e));
            Value y = arith::MulFOp::create(
                b, loc, arith::SIToFPOp::create(b, loc, f32, c[e]),
                arith::MulFOp::create(b, loc, sa, w));
            if (bias)
              y = arith::AddFOp::create(
                  b, loc, y,
                  LLVM::ExtractElementOp::create(b, loc, bs, i32c(e)));
            v = LLVM::InsertElementOp::create(b, loc, v, y, i32c(e));
          }
          Value ptr = gep(outPtr, f32, add(mul(row, numN), col));
          LLVM::StoreOp::create(b, loc, v, ptr, /*alignment=*/8);
        }
    }
  }

  q::MatmulOp op;
  SymbolTable &symbols;
  OpBuilder b;
  Location loc;
  MLIRContext *ctx;
  bool wgmma;
  int64_t forceBn, forceSplitK;
  qcc::gpu::WgmmaTile wgmmaTile;
  // Split-K: the blocks' int32 sums and the per-tile counters.
  Value partials, counters;
  int64_t tiles = 0;
  TileConfig cfg{0, 0, 1, 1};
  int64_t numM = 0, numK = 0, numN = 0, padM = 0, padN = 0, padK = 0;
};

struct GpuMmaQMatmulPass
    : public qcc::gpu::impl::GpuMmaQMatmulBase<GpuMmaQMatmulPass> {
  using GpuMmaQMatmulBase::GpuMmaQMatmulBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(qcc::gpu::rejectOutlierMatmuls(module)))
      return signalPassFailure();
    SymbolTable symbols(module);
    SmallVector<q::MatmulOp> ops;
    module.walk([&](q::MatmulOp op) { ops.push_back(op); });
    if (failed(qcc::gpu::checkWgmmaOptions(module, wgmmaTileN, wgmmaSplitK)))
      return signalPassFailure();
    for (q::MatmulOp op : ops) {
      MmaLowering lowering(op, symbols, wgmma, wgmmaTileN, wgmmaSplitK);
      if (lowering.matches() && failed(lowering.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
