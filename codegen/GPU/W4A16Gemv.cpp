//===- W4A16Gemv.cpp - tensor-core W4A16 GEMV for 1-16 rows ---------------===//
//
// q.matmul with int4 weights in groups along K, float activations and at
// most 16 rows becomes one gpu.launch that streams the codes once:
//
// - Tensor cores do the products: the weights are the A operand of
//   mma.sync.m16n8k16 (16 output columns x 16 K, f16), the activations the
//   B operand (16 K x 8 rows; two mmas for 9-16 rows), f32 accumulators.
// - The codes are repacked at compile time into the A fragment layout: one
//   32-bit word per lane and 16x16 tile holds the lane's 8 codes, and a
//   lane's 4 consecutive K tiles of one column tile are one 16-byte chunk,
//   so a warp's 128-bit load reads 512 contiguous bytes (16 columns x 64 K).
//   Within a tile, lane (g, c) holds K 4c..4c+3 (a permutation of the mma's
//   K order, applied to the activations as well), so its activations are
//   one float4 load per tile and row.
// - Decoding is two bit operations per pair of codes (magic-number
//   trick): (w & 0x000F000F) | 0x64006400 is the f16 pair (1024 + u0,
//   1024 + u4), (w & 0x00F000F0) | 0x54005400 is (64 + u1, 64 + u5); one f16x2
//   subtraction of (1024 + z, 64 + z) gives u - z exactly.
// - Each group's mma sum is scaled once in f32: acc += s * sum. Scales are
//   stored as f16 times a per-matrix power of two (undone in the epilogue),
//   next to the f16 (1024 + z, 64 + z) of the lane's two columns: 4 bytes
//   per column and group.
// - Warps split K (each warp a contiguous range of steps; 8 warps, fewer
//   when that lets every block of a one-tile kernel be resident at once);
//   the next step's codes are loaded before the current step is computed;
//   the block sums its warps' accumulators in shared memory and writes the
//   outputs (+ bias; + the residual of an add right after that the lowering
//   folds in).
// - When the block's rows fit (sharedActivations): each warp first copies
//   the activations of its K range, as f16 in fragment order, into shared
//   memory (all its global loads in flight at once, after the first step's
//   codes), so a step reads its B fragments with one 128-bit shared load
//   per two K tiles and row tile instead of waiting for global loads.
//
//===----------------------------------------------------------------------===//

#include "W4A16Gemv.h"

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <numeric>

using namespace mlir;

namespace qcc::gpu {

namespace {

constexpr int64_t kSMs = 132; // multiprocessors of an H100 SXM
constexpr int64_t kStaticShared = 48 * 1024; // static shared memory per block
// Shared memory the resident blocks of an SM may take (of 228 KB on sm_90,
// leaving L1 for the streamed codes and the driver's carveout choice slack).
constexpr int64_t kSharedBudget = 160 * 1024;

/// IEEE half bits of `v` (round to nearest even).
uint16_t halfBits(double v) {
  llvm::APFloat f(v);
  bool lost = false;
  f.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return uint16_t(f.bitcastToAPInt().getZExtValue());
}

/// The resolved kernel shape.
struct Shape {
  int64_t rows, k, n, group;
  int64_t rowTiles;  // mmas per K tile along the rows: 1 (<= 8) or 2
  int64_t colTiles;  // ceil(n / 16)
  int64_t tiles;     // column tiles per warp
  int64_t loads;     // 16-byte code loads per column tile and step
  int64_t stepK;     // K per step: lcm(64 * loads, group)
  int64_t steps;     // k / stepK
  int64_t warps;     // warps per block (split-K)
  int64_t actRowBytes; // shared bytes per activation row (0: global loads)
  int64_t actChunk;    // K tiles per batch of global activation loads
  int64_t maxRegs;     // register cap of the kernel (nvvm.maxnreg; 0: none)
};

std::optional<Shape> resolve(int64_t rows, int64_t k, int64_t n, int64_t group,
                             const GemvConfig &config) {
  if (rows < 1 || rows > 16 || group <= 0 || group % 16 != 0 ||
      k % group != 0 || k % 64 != 0 || n < 1)
    return std::nullopt;
  Shape s{rows, k, n, group, rows <= 8 ? 1 : 2, (n + 15) / 16, 0, 0, 0, 0, 0,
          0, 0, 0};
  // 3-16 rows: two column tiles per warp share the activation loads.
  // H100, 4096x11008 (kernel us, --gpu-gemv=T,W,U): 4 rows 1,4,4 14.1,
  // 2,8,2 12.1, 2,8,4 12.4, 2,4,4 13.1; 8 rows 1,4,4 16.2, 2,8,2 12.2,
  // 2,8,4 13.7, 2,4,4 19.3.
  // 1-2 rows: one column tile per warp, or two when blocks of one tile and
  // 8 warps would not all be resident at once but blocks of two would
  // (528 < column tiles <= 1056 on 132 SMs). H100 (kernel us, 3 rounds):
  // 1x4096x11008 (688 tiles) 1,4,4 11.6-11.8, 2,8,2 11.3-11.4, 2,4,4 14.3-
  // 14.5, 2,8,4 11.6-11.7; 2 rows 1,4,4 12.1-12.2, 2,8,2 11.4-11.5; 8192x
  // 8192 (512 tiles, one wave with 8 warps) 1,8,4 15.3-15.4, 2,8,2 16.0.
  const int64_t waveWarps = kSMs * 32;
  bool pairTiles = rows <= 2 && config.tiles <= 0 && s.colTiles % 2 == 0 &&
                   s.colTiles * 8 > waveWarps &&
                   s.colTiles / 2 * 8 <= waveWarps;
  s.tiles = config.tiles > 0 ? config.tiles : (rows > 2 || pairTiles ? 2 : 1);
  while (s.tiles > 1 && s.colTiles % s.tiles != 0)
    s.tiles /= 2;
  s.tiles = std::max<int64_t>(s.tiles, 1);
  if (s.colTiles % s.tiles != 0)
    s.tiles = 1;
  // Measured on the H100 (bench/gpu_gemv.py): 8192x8192, 1 row: 4 loads
  // per step 0.0279 ms, 2 loads 0.0295 ms; 4096x11008, 16 rows: 2 column
  // tiles and 2 loads 0.0311 ms, 4 loads 0.0325 ms (and 4-8 rows above).
  s.loads = config.unroll > 0 ? config.unroll
                              : (rows > 2 || pairTiles ? 2 : 4);
  for (;; s.loads /= 2) {
    s.stepK = std::lcm(64 * s.loads, group);
    if (k % s.stepK == 0 || s.loads == 1)
      break;
  }
  if (k % s.stepK != 0 || s.stepK > 1024)
    return std::nullopt;
  s.steps = k / s.stepK;
  int64_t warps = config.warps;
  if (warps <= 0) {
    // 8 warps per block; with one column and one row tile (at most 8 rows),
    // fewer when the blocks would not all be resident at once: a second,
    // partial wave leaves most SMs idle while it runs. Such a kernel uses
    // 52-64 registers (ptxas, sm_90): 32 warps per SM. H100, 4096x11008,
    // 1 row (688 blocks, 528 resident with 8 warps): kernel 17.9 us with 8
    // warps, 13.5 us with 4 (one wave, each warp streaming 4 steps instead
    // of 2). Two column and row tiles (9-16 rows, 84-98 registers) keep 8:
    // 4 warps there took 28.2 us against 20.6 (too few loads in flight).
    warps = 8;
    if (s.tiles * s.rowTiles == 1) {
      int64_t blocks = s.colTiles;
      while (warps > 2 && blocks * warps > kSMs * 32)
        warps /= 2;
    }
  }
  s.warps = std::clamp<int64_t>(std::min(warps, s.steps), 1, 32);
  // Activations in shared memory: f16 rows of 2K bytes + 64 (so rows g and
  // g + 1 of a quarter warp's 128-bit loads fall in different banks), when
  // the blocks that share an SM (one wave) fit a conservative budget.
  const int64_t rowBytes = 2 * k + 64;
  const int64_t sumBytes = s.warps * s.tiles * s.rowTiles * 4 * 32 * 4;
  const int64_t blocks = s.colTiles / s.tiles;
  const int64_t perSM =
      std::min((blocks + kSMs - 1) / kSMs, std::max<int64_t>(32 / s.warps, 1));
  const int64_t blockBytes = rows * rowBytes + sumBytes + 1024;
  if (blockBytes <= kStaticShared && perSM * blockBytes <= kSharedBudget)
    s.actRowBytes = rowBytes;
  // 9-16 rows (two row tiles) take 96-98 registers (ptxas, sm_90): 2
  // blocks of 8 warps per SM, so 265-396 blocks (4096x11008: 344) run in two
  // waves. Capped at 80 registers (nvvm.maxnreg; 8-20 bytes of spills)
  // they run 3 per SM, in one wave, and the 16-row step loads all its
  // activations at once again. H100, 4096x11008 kernel us (CUPTI, two
  // rounds): 9 rows 22.3 -> 15.4, 12 rows 22.7-22.8 -> 17.4-17.5, 16 rows
  // 17.2 (chunked loads, 80 registers) -> 16.0; a cap of 88 (still 2 per
  // SM) 19.9-20.1 / 25.5 / 21.3, of 72 17.0 / 18.9-19.0 / 17.9-18.2. A cap
  // of 64 (4 blocks per SM) would spill 244-288 bytes: not used.
  const int64_t perSMNeeded = (blocks + kSMs - 1) / kSMs;
  if (s.rowTiles == 2 && s.warps == 8 && perSMNeeded == 3)
    s.maxRegs = 80;
  // Global activation loads of a step all in flight at once, except for 16
  // rows without the cap: their 16 float4 loads per 128-K step (64
  // registers) put the kernel at 98 registers; loading 4 K tiles at a time
  // just before their mmas takes it to 80 without spills (4096x11008 before
  // the cap: 20.3-20.4 -> 17.1 us). 9-15 rows stay at 85-86 registers with
  // chunks, and the chunks only expose more load latency there (11 rows
  // 22.3 -> 30.0 us); so they keep one batch per step. Where at most 2
  // blocks per SM are needed the 98 registers fit and the chunks only wait
  // longer: 16x8192x8192 (256 blocks) 30.4-30.6 -> 28.9-29.1 us with one
  // batch (H100, CUPTI, 3 rounds).
  s.actChunk = s.stepK / 16;
  if (rows == 16 && s.maxRegs == 0 && perSMNeeded > 2)
    s.actChunk = std::min<int64_t>(s.actChunk, 4);
  return s;
}

class GemvEmitter {
public:
  GemvEmitter(OpBuilder &b, Location loc, const Shape &s)
      : b(b), loc(loc), ctx(b.getContext()), s(s) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(int32_t(v)));
  }
  Value i64c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value f32c(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value toI64(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  }
  Value pointer(Value memref) {
    Value addr = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, b.getIndexType(), memref);
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(ctx, /*addressSpace=*/1),
        toI64(addr));
  }
  /// A vector load of `type` from base + index * sizeof(type).
  Value load(Value base, VectorType type, Value index, bool invariant) {
    Value ptr =
        LLVM::GEPOp::create(b, loc, base.getType(), type, base, ValueRange{index});
    unsigned align = type.getNumElements() *
                     type.getElementType().getIntOrFloatBitWidth() / 8;
    return LLVM::LoadOp::create(b, loc, type, ptr, align, false, false,
                                invariant);
  }
  Value extract(Value vec, int64_t i) {
    return LLVM::ExtractElementOp::create(b, loc, vec, i32c(i));
  }
  Value bitcast(Type type, Value v) {
    return LLVM::BitcastOp::create(b, loc, type, v);
  }
  Value andI(Value x, int64_t m) {
    return arith::AndIOp::create(b, loc, x, i32c(m));
  }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }

  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  const Shape &s;
};

} // namespace

LogicalResult emitW4A16Gemv(OpBuilder &b, q::MatmulOp op, SymbolTable &symbols,
                            Value x, Value out, const GemvConfig &config,
                            Value residual) {
  auto type = cast<q::WeightType>(op.getWeight().getType());
  q::SchemeAttr scheme = type.getScheme();
  auto weight = op.getWeight().getDefiningOp<q::WeightConstantOp>();
  if (!weight || scheme.getBits() != 4 ||
      type.getLayout() != q::Layout::PackedK ||
      op.getActQuant() != q::ActQuant::None ||
      scheme.getGranularity() != q::Granularity::PerGroup ||
      scheme.getAxis() != 0)
    return failure();
  int64_t numK = type.getShape()[0], numN = type.getShape()[1];
  int64_t rows = cast<MemRefType>(x.getType()).getShape()[0];
  std::optional<Shape> shape =
      resolve(rows, numK, numN, scheme.getGroupSize(), config);
  if (!shape)
    return failure();
  const Shape &s = *shape;

  // Compile-time values of the codes and group parameters.
  ElementsAttr scaleAttr = constantOperand(op.getScales(), symbols);
  ElementsAttr zeroAttr;
  if (op.getZeroPoints() &&
      !(zeroAttr = constantOperand(op.getZeroPoints(), symbols)))
    return failure();
  if (!scaleAttr)
    return failure();
  int64_t groups = numK / s.group;
  auto scales = constantNumbers(scaleAttr);
  std::optional<std::vector<double>> zeros;
  if (zeroAttr)
    zeros = constantNumbers(zeroAttr);
  auto codes = constantBytes(weight.getStorage());
  if (!scales || int64_t(scales->size()) != groups * numN ||
      (zeroAttr && (!zeros || int64_t(zeros->size()) != groups * numN)) ||
      !codes || int64_t(codes->size()) != numK / 2 * numN)
    return failure();

  // Codes in A-fragment order: word ((tile * K/64 + kt/4) * 32 + lane) * 4
  // + kt%4 holds lane (g, c)'s codes of K tile kt: K 4c + q of column
  // 16 tile + g (+ 8 for the odd registers) in nibble reg + 4 * (q % 2),
  // reg = (column >= 8) + 2 * (q >= 2). Unsigned; padded columns are 0.
  bool isSigned = scheme.getIsSigned();
  int64_t padN = s.colTiles * 16, kChunks = numK / 64;
  std::vector<uint32_t> packed(size_t(s.colTiles) * kChunks * 32 * 4, 0);
  for (int64_t kp = 0; kp < numK / 2; ++kp)
    for (int64_t n = 0; n < numN; ++n) {
      uint32_t byte = (*codes)[kp * numN + n];
      for (int64_t h = 0; h < 2; ++h) {
        int64_t k = 2 * kp + h;
        uint32_t u = (byte >> (4 * h)) & 15;
        if (isSigned)
          u ^= 8;
        int64_t tile = n / 16, i = n % 16, kt = k / 16, kk = k % 16;
        int64_t g = i % 8, c = kk / 4, q = kk % 4;
        int64_t reg = (i >= 8 ? 1 : 0) + (q >= 2 ? 2 : 0);
        int64_t nibble = reg + 4 * (q % 2);
        size_t word = ((tile * kChunks + kt / 4) * 32 + g * 4 + c) * 4 + kt % 4;
        packed[word] |= u << (4 * nibble);
      }
    }
  // Group parameters: pair ((tile * groups + group) * 8 + g) holds
  // (f16 s[16 tile + g] 2^e, f16 s[16 tile + g + 8] 2^e) and
  // (f16 1024 + z[16 tile + g], f16 64 + z[16 tile + g + 8]).
  double maxScale = 0;
  for (double v : *scales)
    maxScale = std::max(maxScale, std::fabs(v));
  int exponent = 0;
  if (maxScale > 0 && std::isfinite(maxScale)) {
    std::frexp(maxScale, &exponent);
    exponent = std::clamp(15 - exponent, -100, 100);
  }
  std::vector<uint32_t> params(size_t(s.colTiles) * groups * 8 * 2, 0);
  for (int64_t n = 0; n < padN; ++n)
    for (int64_t grp = 0; grp < groups; ++grp) {
      double scale = 0, zero = 0;
      if (n < numN) {
        scale = std::ldexp((*scales)[grp * numN + n], exponent);
        zero = (isSigned ? 8.0 : 0.0) + (zeros ? (*zeros)[grp * numN + n] : 0);
      }
      int64_t tile = n / 16, i = n % 16, g = i % 8, half = i >= 8 ? 1 : 0;
      size_t pair = ((tile * groups + grp) * 8 + g) * 2;
      params[pair] |= uint32_t(halfBits(scale)) << (16 * half);
      params[pair + 1] |= uint32_t(halfBits((half ? 64.0 : 1024.0) + zero))
                         << (16 * half);
    }

  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto global = [&](StringRef name, ArrayRef<uint32_t> words) -> Value {
    auto memrefType =
        MemRefType::get({int64_t(words.size()) * 4}, b.getI8Type());
    auto value = DenseElementsAttr::getFromRawBuffer(
        RankedTensorType::get({int64_t(words.size()) * 4}, b.getI8Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(words.data()),
                       words.size() * 4));
    OpBuilder::InsertPoint ip = b.saveInsertionPoint();
    b.setInsertionPointToStart(&symbols.getOp()->getRegion(0).front());
    auto g = memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"),
                                      memrefType, value, /*constant=*/true,
                                      b.getI64IntegerAttr(64));
    symbols.insert(g);
    b.restoreInsertionPoint(ip);
    return memref::GetGlobalOp::create(b, loc, memrefType, g.getSymName());
  };
  Value codeBuf = global("__qcc_gpu_gemv_codes", packed);
  Value paramBuf = global("__qcc_gpu_gemv_params", params);
  Value bias = op.getBias();

  GemvEmitter e(b, loc, s);
  const int64_t T = s.tiles, NT = s.rowTiles, W = s.warps;
  const int64_t perWarp = T * NT * 4; // accumulators per lane
  auto shared = mlir::gpu::AddressSpaceAttr::get(
      ctx, mlir::gpu::AddressSpace::Workgroup);
  auto bufType =
      MemRefType::get({W * perWarp * 32}, b.getF32Type(), nullptr, shared);
  const bool sharedAct = s.actRowBytes > 0;
  SmallVector<Type> attributions = {bufType};
  if (sharedAct)
    attributions.push_back(MemRefType::get({rows * s.actRowBytes},
                                           b.getI8Type(), nullptr, shared));
  Value one = e.idx(1);
  auto launch = mlir::gpu::LaunchOp::create(
      b, loc, e.idx(s.colTiles / T), one, one, e.idx(32 * W), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, attributions);
  if (s.maxRegs > 0)
    launch->setAttr(kKernelAttrsName,
                    b.getDictionaryAttr(b.getNamedAttr(
                        NVVM::NVVMDialect::getMaxnregAttrName(),
                        b.getI32IntegerAttr(int32_t(s.maxRegs)))));
  Block &body = launch.getBody().front();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(&body);
  mlir::gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&body);

  Type i32 = b.getI32Type(), f32 = b.getF32Type(), f16 = b.getF16Type();
  auto v4i32 = VectorType::get({4}, i32), v2i32 = VectorType::get({2}, i32);
  auto v4f32 = VectorType::get({4}, f32), v2f16 = VectorType::get({2}, f16);
  auto v4f16 = VectorType::get({4}, f16);

  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, e.idx(32));
  Value warp = arith::DivUIOp::create(b, loc, tid, e.idx(32));
  Value g = arith::DivUIOp::create(b, loc, lane, e.idx(4));
  Value c = arith::RemUIOp::create(b, loc, lane, e.idx(4));
  Value tile0 = e.mul(launch.getBlockIds().x, e.idx(T));
  Value codePtr = e.pointer(codeBuf), paramPtr = e.pointer(paramBuf),
        xPtr = e.pointer(x);
  Value lane64 = e.toI64(lane), g64 = e.toI64(g), c64 = e.toI64(c);
  Value tile64 = e.toI64(tile0);

  // This warp's steps [begin, end).
  Value begin = arith::DivUIOp::create(b, loc, e.mul(warp, e.idx(s.steps)),
                                       e.idx(W));
  Value end = arith::DivUIOp::create(
      b, loc, e.mul(e.add(warp, one), e.idx(s.steps)), e.idx(W));

  // Activation rows of this lane (clamped; rows >= M read as 0).
  SmallVector<Value> rowBase, rowValid;
  for (int64_t nt = 0; nt < NT; ++nt) {
    Value row = e.add(g64, e.i64c(nt * 8));
    Value valid;
    if (rows < (nt + 1) * 8) {
      valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                                    e.i64c(rows));
      row = arith::MinUIOp::create(b, loc, row, e.i64c(rows - 1));
    }
    // Global: float4 index of (row, K 4c) in tile 0; shared: byte offset
    // of the lane's 16 bytes of K tiles 0 and 1 (see the copy below).
    rowBase.push_back(sharedAct
                          ? e.add(e.mul(row, e.i64c(s.actRowBytes)),
                                  e.mul(c64, e.i64c(16)))
                          : e.add(e.mul(row, e.i64c(numK / 4)), c64));
    rowValid.push_back(valid);
  }

  const int64_t loadsPerStep = s.stepK / 64, tilesPerStep = s.stepK / 16;
  const int64_t groupsPerStep = s.stepK / s.group, ktPerGroup = s.group / 16;
  auto codeLoads = [&](Value step) -> SmallVector<Value> {
    SmallVector<Value> v;
    Value step64 = e.toI64(step);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t u = 0; u < loadsPerStep; ++u) {
        Value chunk = e.add(e.mul(e.add(tile64, e.i64c(t)), e.i64c(kChunks)),
                            e.add(e.mul(step64, e.i64c(loadsPerStep)),
                                  e.i64c(u)));
        v.push_back(e.load(codePtr, v4i32,
                           e.add(e.mul(chunk, e.i64c(32)), lane64), true));
      }
    return v;
  };

  SmallVector<Value> init(perWarp, e.f32c(0.0f));
  SmallVector<Value> first = codeLoads(begin);
  init.append(first.begin(), first.end());

  // Shared activations: the warp copies rows x its K range, float4 m of a
  // row (K 4m..4m+3: tile kt = m / 4, lane column c = m % 4) to byte
  // row * actRowBytes + (kt / 2) * 64 + c * 16 + (kt % 2) * 8 as f16, so
  // lane c's 16 bytes at (kt / 2) * 64 + c * 16 are its B words of the tile
  // pair. Lanes past the range redo the range's last float4 (same value).
  Value actPtr;
  if (sharedAct) {
    Value smem = launch.getWorkgroupAttributions()[1];
    Value addr = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, b.getIndexType(), smem);
    actPtr = LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(ctx, /*addressSpace=*/3),
        e.toI64(addr));
    const int64_t perStep = s.stepK / 4;
    const int64_t maxSteps = (s.steps + W - 1) / W;
    const int64_t chunks = (maxSteps * perStep + 31) / 32;
    Value first4 = e.mul(e.toI64(begin), e.i64c(perStep));
    Value last4 = arith::SubIOp::create(
        b, loc, e.mul(e.toI64(end), e.i64c(perStep)), e.i64c(1));
    SmallVector<std::pair<int64_t, int64_t>> items; // (row, chunk)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < chunks; ++j)
        items.push_back({r, j});
    constexpr size_t kBatch = 8; // float4 loads in flight per lane
    for (size_t i0 = 0; i0 < items.size(); i0 += kBatch) {
      SmallVector<std::pair<Value, Value>> batch; // (value, byte offset)
      for (size_t i = i0; i < std::min(items.size(), i0 + kBatch); ++i) {
        auto [r, j] = items[i];
        Value m = arith::MinUIOp::create(
            b, loc, e.add(first4, e.add(lane64, e.i64c(j * 32))), last4);
        Value v = e.load(xPtr, v4f32, e.add(m, e.i64c(r * numK / 4)), false);
        Value kt = arith::ShRUIOp::create(b, loc, m, e.i64c(2));
        Value offset = e.add(
            e.add(e.i64c(r * s.actRowBytes),
                  e.mul(arith::ShRUIOp::create(b, loc, kt, e.i64c(1)),
                        e.i64c(64))),
            e.add(e.mul(arith::AndIOp::create(b, loc, m, e.i64c(3)),
                        e.i64c(16)),
                  e.mul(arith::AndIOp::create(b, loc, kt, e.i64c(1)),
                        e.i64c(8))));
        batch.push_back({v, offset});
      }
      for (auto [v, offset] : batch) {
        Value words =
            e.bitcast(v2i32, arith::TruncFOp::create(b, loc, v4f16, v));
        Value ptr = LLVM::GEPOp::create(b, loc, actPtr.getType(),
                                        b.getI8Type(), actPtr,
                                        ValueRange{offset});
        LLVM::StoreOp::create(b, loc, words, ptr, /*alignment=*/8);
      }
    }
    NVVM::SyncWarpOp::create(b, loc, e.i32c(-1));
  }
  auto loop = scf::ForOp::create(b, loc, begin, end, one, init);
  {
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value step = loop.getInductionVar();
    auto args = loop.getRegionIterArgs();
    SmallVector<Value> acc(args.begin(), args.begin() + perWarp);
    SmallVector<Value> codes(args.begin() + perWarp, args.end());
    // Next step's codes first (the last step reloads its own).
    Value last = arith::SubIOp::create(b, loc, end, one);
    Value next = arith::MinUIOp::create(b, loc, e.add(step, one), last);
    SmallVector<Value> nextCodes = codeLoads(next);
    Value step64 = e.toI64(step);
    // Group parameters of this step.
    SmallVector<Value> param; // [group][t]
    for (int64_t gi = 0; gi < groupsPerStep; ++gi)
      for (int64_t t = 0; t < T; ++t) {
        Value grp = e.add(e.mul(step64, e.i64c(groupsPerStep)), e.i64c(gi));
        Value pair = e.add(
            e.mul(e.add(e.mul(e.add(tile64, e.i64c(t)), e.i64c(groups)), grp),
                  e.i64c(8)),
            g64);
        param.push_back(e.load(paramPtr, v2i32, pair, true));
      }
    // Activations of this step as f16 B fragments: [kt][nt][2].
    SmallVector<Value> bFrag;
    auto pushWord = [&](Value word, int64_t nt) {
      if (rowValid[nt])
        word = arith::SelectOp::create(b, loc, rowValid[nt], word, e.i32c(0));
      bFrag.push_back(e.bitcast(v2f16, word));
    };
    if (sharedAct) {
      // One 128-bit shared load per tile pair and row tile: words 0-1 are
      // tile 2p, words 2-3 tile 2p + 1.
      SmallVector<Value> pairs; // [p][nt]
      for (int64_t p = 0; p < tilesPerStep / 2; ++p)
        for (int64_t nt = 0; nt < NT; ++nt) {
          Value offset = e.add(
              rowBase[nt],
              e.add(e.mul(step64, e.i64c(tilesPerStep / 2 * 64)),
                    e.i64c(p * 64)));
          Value ptr = LLVM::GEPOp::create(b, loc, actPtr.getType(),
                                          b.getI8Type(), actPtr,
                                          ValueRange{offset});
          pairs.push_back(LLVM::LoadOp::create(b, loc, v4i32, ptr, 16));
        }
      for (int64_t kt = 0; kt < tilesPerStep; ++kt)
        for (int64_t nt = 0; nt < NT; ++nt)
          for (int64_t w = 0; w < 2; ++w)
            pushWord(e.extract(pairs[(kt / 2) * NT + nt], (kt % 2) * 2 + w),
                     nt);
    }
    // Global activations: one float4 load per K tile and row tile, issued
    // s.actChunk K tiles at a time just before their mmas (loadActivations
    // is called at each chunk's first K tile).
    auto loadActivations = [&](int64_t kt0) {
      if (sharedAct || kt0 % s.actChunk != 0)
        return;
      for (int64_t kt = kt0; kt < std::min(kt0 + s.actChunk, tilesPerStep);
           ++kt)
        for (int64_t nt = 0; nt < NT; ++nt) {
          Value index = e.add(rowBase[nt],
                              e.add(e.mul(step64, e.i64c(tilesPerStep * 4)),
                                    e.i64c(kt * 4)));
          Value v = e.load(xPtr, v4f32, index, false);
          Value words =
              e.bitcast(v2i32, arith::TruncFOp::create(b, loc, v4f16, v));
          for (int64_t w = 0; w < 2; ++w)
            pushWord(e.extract(words, w), nt);
        }
    };

    if (s.actChunk >= tilesPerStep) // the whole step's at once
      loadActivations(0);

    auto structType = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
    Value zero = e.f32c(0.0f);
    for (int64_t gi = 0; gi < groupsPerStep; ++gi) {
      // Scales and zero-point offsets of the lane's two columns per tile.
      SmallVector<Value> sLo, sHi, zLo, zHi;
      for (int64_t t = 0; t < T; ++t) {
        Value pv = param[gi * T + t];
        Value sw = e.bitcast(v2f16, e.extract(pv, 0));
        sLo.push_back(arith::ExtFOp::create(b, loc, f32, e.extract(sw, 0)));
        sHi.push_back(arith::ExtFOp::create(b, loc, f32, e.extract(sw, 1)));
        Value zw = e.extract(pv, 1);
        Value lo = e.andI(zw, 0xFFFF);
        Value hi = arith::ShRUIOp::create(b, loc, zw, e.i32c(16));
        zLo.push_back(e.bitcast(
            v2f16, e.orI(lo, arith::ShLIOp::create(b, loc, lo, e.i32c(16)))));
        zHi.push_back(e.bitcast(v2f16, e.orI(hi, e.andI(zw, 0xFFFF0000))));
      }
      SmallVector<Value> part(perWarp, zero);
      for (int64_t kq = 0; kq < ktPerGroup; ++kq) {
        int64_t kt = gi * ktPerGroup + kq;
        if (s.actChunk < tilesPerStep)
          loadActivations(kt);
        for (int64_t t = 0; t < T; ++t) {
          Value word = e.extract(codes[t * loadsPerStep + kt / 4], kt % 4);
          Value shifted = arith::ShRUIOp::create(b, loc, word, e.i32c(8));
          auto decode = [&](Value w, int64_t mask, int64_t magic,
                            Value offset) -> Value {
            Value bits = e.orI(e.andI(w, mask), e.i32c(magic));
            return arith::SubFOp::create(b, loc, e.bitcast(v2f16, bits),
                                         offset);
          };
          SmallVector<Value> a = {
              decode(word, 0x000F000F, 0x64006400, zLo[t]),
              decode(word, 0x00F000F0, 0x54005400, zHi[t]),
              decode(shifted, 0x000F000F, 0x64006400, zLo[t]),
              decode(shifted, 0x00F000F0, 0x54005400, zHi[t])};
          for (int64_t nt = 0; nt < NT; ++nt) {
            int64_t base = (t * NT + nt) * 4;
            SmallVector<Value> cIn(part.begin() + base,
                                   part.begin() + base + 4);
            SmallVector<Value> bIn = {bFrag[(kt * NT + nt) * 2],
                                      bFrag[(kt * NT + nt) * 2 + 1]};
            Value mma = NVVM::MmaOp::create(
                b, loc, structType, a, bIn, cIn, {16, 8, 16}, std::nullopt,
                std::nullopt,
                std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::f16,
                                              NVVM::MMATypes::f16},
                std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                               NVVM::MMALayout::col});
            for (int64_t r = 0; r < 4; ++r)
              part[base + r] = LLVM::ExtractValueOp::create(b, loc, mma, r);
          }
        }
      }
      for (int64_t t = 0; t < T; ++t)
        for (int64_t nt = 0; nt < NT; ++nt)
          for (int64_t r = 0; r < 4; ++r) {
            int64_t i = (t * NT + nt) * 4 + r;
            acc[i] = LLVM::FMAOp::create(b, loc, part[i],
                                         r < 2 ? sLo[t] : sHi[t], acc[i]);
          }
    }
    SmallVector<Value> yield = acc;
    yield.append(nextCodes.begin(), nextCodes.end());
    scf::YieldOp::create(b, loc, yield);
  }

  // Sum the warps' accumulators in shared memory; write the outputs.
  Value buf = launch.getWorkgroupAttributions()[0];
  for (int64_t i = 0; i < perWarp; ++i) {
    Value slot = e.add(e.mul(e.add(e.mul(warp, e.idx(perWarp)), e.idx(i)),
                             e.idx(32)),
                       lane);
    memref::StoreOp::create(b, loc, loop.getResult(i), buf, ValueRange{slot});
  }
  mlir::gpu::BarrierOp::create(b, loc);
  Value unscale = e.f32c(std::ldexp(1.0f, -exponent));
  for (int64_t pass = 0; pass * 32 * W < perWarp * 32; ++pass) {
    Value item = e.add(tid, e.idx(pass * 32 * W));
    Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          item, e.idx(perWarp * 32));
    auto ifItem = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
    OpBuilder::InsertionGuard ifGuard(b);
    b.setInsertionPointToStart(ifItem.thenBlock());
    Value sum = memref::LoadOp::create(b, loc, buf, ValueRange{item});
    for (int64_t w = 1; w < W; ++w)
      sum = arith::AddFOp::create(
          b, loc, sum,
          memref::LoadOp::create(b, loc, buf,
                                 ValueRange{e.add(item, e.idx(w * perWarp * 32))}));
    // item = ((t * NT + nt) * 4 + r) * 32 + lane'.
    Value l = arith::RemUIOp::create(b, loc, item, e.idx(32));
    Value i = arith::DivUIOp::create(b, loc, item, e.idx(32));
    Value r = arith::RemUIOp::create(b, loc, i, e.idx(4));
    Value nt = arith::RemUIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, i, e.idx(4)), e.idx(NT));
    Value t = arith::DivUIOp::create(b, loc, i, e.idx(4 * NT));
    Value col = e.add(
        e.mul(e.add(tile0, t), e.idx(16)),
        e.add(arith::DivUIOp::create(b, loc, l, e.idx(4)),
              e.mul(arith::DivUIOp::create(b, loc, r, e.idx(2)), e.idx(8))));
    Value row = e.add(
        e.mul(nt, e.idx(8)),
        e.add(e.mul(arith::RemUIOp::create(b, loc, l, e.idx(4)), e.idx(2)),
              arith::RemUIOp::create(b, loc, r, e.idx(2))));
    Value ok = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                              e.idx(rows)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col,
                              e.idx(numN)));
    auto ifStore = scf::IfOp::create(b, loc, ok, /*withElse=*/false);
    b.setInsertionPointToStart(ifStore.thenBlock());
    Value v = arith::MulFOp::create(b, loc, sum, unscale);
    if (bias)
      v = arith::AddFOp::create(
          b, loc, v, memref::LoadOp::create(b, loc, bias, ValueRange{col}));
    if (residual)
      v = arith::AddFOp::create(
          b, loc,
          memref::LoadOp::create(b, loc, residual, ValueRange{row, col}), v);
    memref::StoreOp::create(b, loc, v, out, ValueRange{row, col});
  }
  return success();
}

} // namespace qcc::gpu
