//===- TileMatmul.cpp - shared-memory tiled f32 matmul kernels ------------===//
//
// C[b] += A[b] * B[b] with a 16x16 thread block per `tile` x `tile` output
// tile: per step of 16 along K, the block stages A[tile x 16] and
// B[16 x tile] in workgroup memory (each thread loads tile*16/256 elements of
// each, consecutive threads on consecutive addresses), then every thread
// accumulates its (tile/16) x (tile/16) register block from shared memory.
// When a linalg.fill set C just before, or a copy from a buffer only filled
// with a constant (attention's zero init), the block adds its sums to that
// constant and the fill or copy goes (one launch or device copy less).
//
//===----------------------------------------------------------------------===//

#include "Fills.h"

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/IR/Builders.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUTILEMATMUL
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

constexpr int64_t kThreads = 16; // per block edge
constexpr int64_t kStep = 16;    // K per shared-memory stage

struct MatmulShape {
  int64_t batch = 1, m, n, k;
  bool batched = false;
};

std::optional<MatmulShape> matchMatmul(linalg::LinalgOp op) {
  bool batched = isa<linalg::BatchMatmulOp>(op);
  if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
      !op.hasPureBufferSemantics())
    return std::nullopt;
  if (auto mm = dyn_cast<linalg::MatmulOp>(op.getOperation()))
    if (mm.hasUserDefinedMaps())
      return std::nullopt;
  if (auto bmm = dyn_cast<linalg::BatchMatmulOp>(op.getOperation()))
    if (bmm.hasUserDefinedMaps())
      return std::nullopt;
  SmallVector<MemRefType> types;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return std::nullopt;
    types.push_back(type);
  }
  if (types.size() != 3)
    return std::nullopt;
  MatmulShape s;
  s.batched = batched;
  int64_t r = batched ? 1 : 0;
  if (batched)
    s.batch = types[2].getDimSize(0);
  s.m = types[2].getDimSize(r);
  s.n = types[2].getDimSize(r + 1);
  s.k = types[0].getDimSize(r + 1);
  if (s.batch == 0 || s.m == 0 || s.n == 0)
    return std::nullopt;
  return s;
}

struct GpuTileMatmulPass
    : public qcc::gpu::impl::GpuTileMatmulBase<GpuTileMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    if (tile <= 0 || tile % kThreads != 0 || tile > 128) {
      getOperation().emitError("qcc-gpu-tile-matmul: tile must be a multiple "
                               "of 16 up to 128, got ")
          << tile.getValue();
      return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> matmuls;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (matchMatmul(op))
        matmuls.push_back(op);
    });
    for (linalg::LinalgOp op : matmuls)
      rewrite(op, *matchMatmul(op));
  }

  void rewrite(linalg::LinalgOp op, const MatmulShape &s) {
    MLIRContext *ctx = &getContext();
    Location loc = op.getLoc();
    OpBuilder b(op);
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    const int64_t t = tile, regs = tile / kThreads;
    Value A = op->getOperand(0), B = op->getOperand(1), C = op->getOperand(2);
    // C's initial value: the constant of a fill (or of a copy from a buffer
    // only filled with it) that the matmul is the next to see, which then
    // goes; else read from C.
    SmallVector<Operation *> setters;
    Value initial = qcc::gpu::constantBefore(op, C, setters);
    if (initial && initial.getType().isF32())
      for (Operation *setter : setters)
        setter->erase();
    else
      initial = {};
    Type f32 = b.getF32Type();
    auto shared = mlir::gpu::AddressSpaceAttr::get(
        ctx, mlir::gpu::AddressSpace::Workgroup);
    auto aTileType = MemRefType::get({t, kStep}, f32, nullptr, shared);
    auto bTileType = MemRefType::get({kStep, t}, f32, nullptr, shared);
    Value one = cst(1);
    auto launch = mlir::gpu::LaunchOp::create(
        b, loc, cst((s.n + t - 1) / t), cst((s.m + t - 1) / t), cst(s.batch),
        cst(kThreads), cst(kThreads), one, /*dynamicSharedMemorySize=*/nullptr,
        /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
        TypeRange{aTileType, bTileType});
    Block &body = launch.getBody().front();
    b.setInsertionPointToEnd(&body);
    mlir::gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);

    Value aTile = launch.getWorkgroupAttributions()[0];
    Value bTile = launch.getWorkgroupAttributions()[1];
    Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
    Value batch = launch.getBlockIds().z;
    Value row0 = arith::MulIOp::create(b, loc, launch.getBlockIds().y, cst(t));
    Value col0 = arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(t));
    Value linear = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, ty, cst(kThreads)), tx);
    auto add = [&](Value x, Value y) -> Value {
      return arith::AddIOp::create(b, loc, x, y);
    };
    auto lt = [&](Value x, int64_t bound) -> Value {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x,
                                   cst(bound));
    };
    auto indices = [&](Value r, Value c) {
      SmallVector<Value> idx;
      if (s.batched)
        idx.push_back(batch);
      idx.push_back(r);
      idx.push_back(c);
      return idx;
    };
    // Loads `src[r, c]`, or 0 where (r, c) may be out of bounds.
    auto guardedLoad = [&](Value src, Value r, Value c, bool checkR,
                           int64_t boundR, bool checkC,
                           int64_t boundC) -> Value {
      if (!checkR && !checkC)
        return memref::LoadOp::create(b, loc, src, indices(r, c));
      Value cond;
      if (checkR)
        cond = lt(r, boundR);
      if (checkC) {
        Value cc = lt(c, boundC);
        cond = cond ? Value(arith::AndIOp::create(b, loc, cond, cc)) : cc;
      }
      auto ifOp = scf::IfOp::create(b, loc, TypeRange{f32}, cond,
                                    /*withElse=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value v = memref::LoadOp::create(b, loc, src, indices(r, c));
      scf::YieldOp::create(b, loc, v);
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc,
                           Value(arith::ConstantOp::create(
                               b, loc, b.getF32FloatAttr(0.0f))));
      return ifOp.getResult(0);
    };

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    SmallVector<Value> init(regs * regs, zero);
    int64_t kSteps = (s.k + kStep - 1) / kStep;
    auto kLoop = scf::ForOp::create(b, loc, cst(0), cst(kSteps * kStep),
                                    cst(kStep), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k0 = kLoop.getInductionVar();
      int64_t perThread = t * kStep / (kThreads * kThreads);
      for (int64_t r = 0; r < perThread; ++r) {
        Value e = add(linear, cst(r * kThreads * kThreads));
        // A tile: t rows x kStep columns, consecutive threads along K.
        Value ar = arith::DivUIOp::create(b, loc, e, cst(kStep));
        Value ac = arith::RemUIOp::create(b, loc, e, cst(kStep));
        Value va = guardedLoad(A, add(row0, ar), add(k0, ac), s.m % t != 0,
                               s.m, s.k % kStep != 0, s.k);
        memref::StoreOp::create(b, loc, va, aTile, ValueRange{ar, ac});
        // B tile: kStep rows x t columns, consecutive threads along N.
        Value br = arith::DivUIOp::create(b, loc, e, cst(t));
        Value bc = arith::RemUIOp::create(b, loc, e, cst(t));
        Value vb = guardedLoad(B, add(k0, br), add(col0, bc),
                               s.k % kStep != 0, s.k, s.n % t != 0, s.n);
        memref::StoreOp::create(b, loc, vb, bTile, ValueRange{br, bc});
      }
      mlir::gpu::BarrierOp::create(b, loc);
      auto inner = scf::ForOp::create(b, loc, cst(0), cst(kStep), cst(1),
                                      kLoop.getRegionIterArgs());
      {
        OpBuilder::InsertionGuard innerGuard(b);
        b.setInsertionPointToStart(inner.getBody());
        Value kk = inner.getInductionVar();
        SmallVector<Value> as, bs, acc;
        for (int64_t i = 0; i < regs; ++i)
          as.push_back(memref::LoadOp::create(
              b, loc, aTile, ValueRange{add(ty, cst(i * kThreads)), kk}));
        for (int64_t j = 0; j < regs; ++j)
          bs.push_back(memref::LoadOp::create(
              b, loc, bTile, ValueRange{kk, add(tx, cst(j * kThreads))}));
        for (int64_t i = 0; i < regs; ++i)
          for (int64_t j = 0; j < regs; ++j)
            acc.push_back(arith::AddFOp::create(
                b, loc, inner.getRegionIterArgs()[i * regs + j],
                arith::MulFOp::create(b, loc, as[i], bs[j])));
        scf::YieldOp::create(b, loc, acc);
      }
      mlir::gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, inner.getResults());
    }

    // C += the register block, guarded at the edges.
    for (int64_t i = 0; i < regs; ++i) {
      for (int64_t j = 0; j < regs; ++j) {
        Value r = add(row0, add(ty, cst(i * kThreads)));
        Value c = add(col0, add(tx, cst(j * kThreads)));
        OpBuilder::InsertionGuard guard(b);
        bool checkR = s.m % t != 0, checkC = s.n % t != 0;
        if (checkR || checkC) {
          Value cond = checkR ? lt(r, s.m) : Value();
          if (checkC) {
            Value cc = lt(c, s.n);
            cond = cond ? Value(arith::AndIOp::create(b, loc, cond, cc)) : cc;
          }
          auto ifOp = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
          b.setInsertionPointToStart(ifOp.thenBlock());
        }
        Value old = initial ? initial
                            : Value(memref::LoadOp::create(b, loc, C,
                                                           indices(r, c)));
        Value sum = arith::AddFOp::create(b, loc, old,
                                          kLoop.getResult(i * regs + j));
        memref::StoreOp::create(b, loc, sum, C, indices(r, c));
      }
    }
    op->erase();
  }
};

} // namespace
