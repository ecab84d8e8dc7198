//===- MatmulMicrokernel.cpp - register-blocked f32 matmul ----------------===//
//
// The generic lowering of linalg.matmul is a scalar triple loop that LLVM
// vectorizes poorly (a reduction along the innermost dimension). This pass
// emits the classic outer-product microkernel instead: a rows x (vectors *
// width) block of C stays in vector registers for the whole K loop, each A
// element is broadcast once per K step and each B row segment is loaded once
// per K step, so every load feeds `rows` (or `vectors`) FMAs.
//
// Products of one or two rows (GEMV) are bound by reading B, not by FMAs:
// they stream B row by row instead (see MicrokernelEmitter::emitGemv).
//
// A constant weight that qcc-cpu-pack-matmul-weights stored panel by panel
// arrives as a linalg.generic reading B[n floordiv P, k, n mod P]; it runs
// the same blocks, each B vector loaded from its panel (matchPackedMatmul).
//
// The output's initialization right before the product (a constant fill of
// C, or a copy from a buffer that only holds such a fill; OutputInit.h)
// is folded into the blocks: their accumulators start from the constant
// instead of loading C, and the fill or copy goes away. That saves a whole
// serial (or differently split) pass over C per product, and with several
// threads the transfer of C's cache lines from the core that wrote them.
// The GEMV form keeps it unless it splits K (its passes add into C).
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Dialect/Q/IR/QOps.h"

#include "OutputInit.h"
#include "PackedMatmul.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUMATMULMICROKERNEL
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

/// Operands and sizes of one (batched) matmul C[b] += A[b] * B[b].
struct MatmulShape {
  Value a, b, c;
  bool batched = false;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  /// > 0: B is packed panel-major (qcc-cpu-pack-matmul-weights):
  /// B[k, n] is at b[n / packedPanel, k, n % packedPanel].
  int64_t packedPanel = 0;
};

/// The product of a packed weight: a linalg.generic with the maps
/// (m, n, k) -> (m, k), (n floordiv P, k, n mod P), (m, n), iterators
/// parallel, parallel, reduction, and the body C + A * B, on static
/// identity-layout f32 memrefs.
static std::optional<MatmulShape> matchPackedMatmul(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureBufferSemantics() || op.getNumLoops() != 3)
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  if (iterators[0] != utils::IteratorType::parallel ||
      iterators[1] != utils::IteratorType::parallel ||
      iterators[2] != utils::IteratorType::reduction)
    return std::nullopt;
  MLIRContext *ctx = op->getContext();
  AffineMap bMap = op.getIndexingMapsArray()[1];
  if (bMap.getNumResults() != 3)
    return std::nullopt;
  auto div = dyn_cast<AffineBinaryOpExpr>(bMap.getResult(0));
  if (!div || div.getKind() != AffineExprKind::FloorDiv)
    return std::nullopt;
  auto panelExpr = dyn_cast<AffineConstantExpr>(div.getRHS());
  if (!panelExpr || panelExpr.getValue() <= 0)
    return std::nullopt;
  int64_t panel = panelExpr.getValue();
  if (op.getIndexingMapsArray() !=
      ArrayRef<AffineMap>(qcc::cpu::packedMatmulMaps(ctx, panel)))
    return std::nullopt;
  // The body: yield(addf(c, mulf(a, b))) (either operand order).
  Block &body = op->getRegion(0).front();
  if (body.getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value acc = body.getArgument(2);
  Value prod = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  auto mul = prod.getDefiningOp<arith::MulFOp>();
  if (!mul || (add.getLhs() != acc && add.getRhs() != acc))
    return std::nullopt;
  Value x = body.getArgument(0), y = body.getArgument(1);
  if (!((mul.getLhs() == x && mul.getRhs() == y) ||
        (mul.getLhs() == y && mul.getRhs() == x)))
    return std::nullopt;
  MatmulShape shape;
  shape.a = op.getDpsInputs()[0];
  shape.b = op.getDpsInputs()[1];
  shape.c = op.getDpsInits()[0];
  for (Value v : {shape.a, shape.b, shape.c}) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isF32())
      return std::nullopt;
  }
  ArrayRef<int64_t> aShape = cast<MemRefType>(shape.a.getType()).getShape();
  ArrayRef<int64_t> bShape = cast<MemRefType>(shape.b.getType()).getShape();
  ArrayRef<int64_t> cShape = cast<MemRefType>(shape.c.getType()).getShape();
  shape.m = cShape[0];
  shape.n = cShape[1];
  shape.k = aShape[1];
  if (aShape[0] != shape.m || bShape[1] != shape.k || bShape[2] != panel ||
      bShape[0] * panel < shape.n)
    return std::nullopt;
  shape.packedPanel = panel;
  return shape;
}

/// Accepts statically shaped, identity-layout f32 memrefs with the canonical
/// indexing maps; anything else stays with the generic lowering.
static std::optional<MatmulShape> matchMatmul(linalg::LinalgOp op) {
  if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
    return matchPackedMatmul(generic);
  bool batched = isa<linalg::BatchMatmulOp>(op);
  if (!batched && !isa<linalg::MatmulOp>(op))
    return std::nullopt;
  if (op->getNumOperands() != 3 || !op.hasPureBufferSemantics())
    return std::nullopt;
  MLIRContext *ctx = op->getContext();
  unsigned numDims = batched ? 4 : 3;
  auto dim = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  unsigned off = batched ? 1 : 0;
  SmallVector<AffineExpr> prefix;
  if (batched)
    prefix.push_back(dim(0));
  auto makeMap = [&](unsigned x, unsigned y) {
    SmallVector<AffineExpr> exprs(prefix);
    exprs.push_back(dim(x + off));
    exprs.push_back(dim(y + off));
    return AffineMap::get(numDims, 0, exprs, ctx);
  };
  SmallVector<AffineMap> expected = {makeMap(0, 2), makeMap(2, 1),
                                     makeMap(0, 1)};
  if (op.getIndexingMapsArray() != ArrayRef<AffineMap>(expected))
    return std::nullopt;
  MatmulShape shape;
  shape.a = op->getOperand(0);
  shape.b = op->getOperand(1);
  shape.c = op->getOperand(2);
  shape.batched = batched;
  for (Value v : {shape.a, shape.b, shape.c}) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isF32())
      return std::nullopt;
  }
  // The region must be the plain multiply-add (no casts or other payload).
  Block &body = op->getRegion(0).front();
  if (body.getOperations().size() != 3)
    return std::nullopt;
  ArrayRef<int64_t> cShape = cast<MemRefType>(shape.c.getType()).getShape();
  ArrayRef<int64_t> aShape = cast<MemRefType>(shape.a.getType()).getShape();
  shape.batch = batched ? cShape[0] : 1;
  shape.m = cShape[off];
  shape.n = cShape[off + 1];
  shape.k = aShape[off + 1];
  return shape;
}

/// Which loop of the microkernel runs as an scf.parallel.
enum class ParallelSplit {
  None,
  /// The batch dimension, each matmul of the batch serial.
  Batch,
  /// Full column panels (with the batch dimension, if any, as an outer
  /// parallel dimension); the ragged columns run afterwards.
  Columns,
  /// Full row blocks, likewise; the leftover rows run afterwards.
  Rows,
};

/// Parallel units wanted before a split counts as good enough. The runtime
/// groups units into chunks per thread (qcc-cpu-outline-parallel), so this
/// only needs to exceed a few times the typical core count.
static constexpr int64_t kPreferredUnits = 8;

/// Picks the outermost split that yields enough units of equal size: column
/// panels share the A panel rows and stream disjoint parts of B, row blocks
/// (for tall-skinny products) stream all of B per block.
static ParallelSplit chooseSplit(const MatmulShape &s, int64_t rows,
                                 int64_t panel, int64_t minFmas) {
  // In double: a static shape may multiply out beyond int64_t.
  double fmas = double(s.batch) * double(s.m) * double(s.n) * double(s.k);
  if (minFmas < 0 || fmas < double(minFmas))
    return ParallelSplit::None;
  int64_t colUnits = s.n / panel;
  int64_t rowUnits = s.m / rows;
  bool byColumns = colUnits >= kPreferredUnits || colUnits >= rowUnits;
  int64_t innerUnits = byColumns ? colUnits : rowUnits;
  ParallelSplit inner =
      byColumns ? ParallelSplit::Columns : ParallelSplit::Rows;
  if (s.batched && s.batch > 1 &&
      (s.batch >= kPreferredUnits || innerUnits <= 1))
    return ParallelSplit::Batch;
  if (s.batch * innerUnits < 2)
    return ParallelSplit::None;
  return inner;
}

/// The register block when the options leave it open (0): 8 x 3 vectors
/// with AVX-512 (each B load feeding 8 FMAs, each broadcast 3), 6 x 2 with
/// AVX2; a product of fewer rows (a short sequence) takes all its rows and
/// spends the budget on columns, so that one row of B is read in long runs
/// and enough accumulators hide the FMA latency (qcc::cpu::chooseBlock,
/// which qcc-cpu-pack-matmul-weights follows too).
static std::pair<int64_t, int64_t> chooseBlock(const MatmulShape &s,
                                               int64_t width, int64_t rows,
                                               int64_t vectors) {
  return qcc::cpu::chooseBlock(s.m, s.n, width, rows, vectors);
}

/// Rows up to which a (non-batched) matmul takes the streaming GEMV form.
static constexpr int64_t kGemvMaxRows = 2;
/// B rows combined per pass over the output row(s) in the GEMV form.
static constexpr int64_t kGemvRowsPerStep = 8;
/// B rows per pass of a parallel GEMV that runs on one thread, for B rows
/// of at least kGemvNarrowMinBytes: fewer concurrent DRAM streams. On Zen 5
/// 4096x4096 M=1 at 1 thread took 1.87 ms with 8 streams, 1.63 with 4, and
/// 384x1536 M=1 0.0244 -> 0.0230; at 2 threads 4 streams per thread were
/// slower (1.23 -> 1.39 ms), and so were narrower rows (1536x384 M=1
/// 0.0213 -> 0.0221). The sum is the same chain of FMAs in K order either
/// way, so the result does not depend on the choice.
static constexpr int64_t kGemvOneThreadRowsPerStep = 4;
static constexpr int64_t kGemvNarrowMinBytes = 4096;
/// K rows per parallel unit of the GEMV form, at least.
static constexpr int64_t kGemvMinUnitRows = 64;

/// K ranges of a parallel GEMV: {units, rows per unit (a multiple of
/// kGemvRowsPerStep)}; fewer than 2 units means serial.
static std::pair<int64_t, int64_t> gemvUnits(const MatmulShape &s,
                                             int64_t minFmas) {
  double fmas = double(s.m) * double(s.n) * double(s.k);
  if (minFmas < 0 || fmas < double(minFmas))
    return {1, s.k};
  int64_t units =
      std::min<int64_t>(kPreferredUnits, s.k / kGemvMinUnitRows);
  if (units < 2)
    return {1, s.k};
  int64_t step = kGemvRowsPerStep;
  int64_t perUnit = llvm::divideCeil(llvm::divideCeil(s.k, units), step) * step;
  return {llvm::divideCeil(s.k, perUnit), perUnit};
}

class MicrokernelEmitter {
public:
  MicrokernelEmitter(OpBuilder &builder, Location loc, const MatmulShape &shape,
                     int64_t width)
      : b(builder), loc(loc), s(shape), width(width),
        vecType(VectorType::get({width}, builder.getF32Type())) {}

  /// C holds `value` everywhere before the product: blocks start from it
  /// instead of loading C.
  void setInitialValue(FloatAttr value) {
    initVec = arith::ConstantOp::create(
        b, loc, vecType,
        DenseElementsAttr::get(vecType, ArrayRef<Attribute>(value)));
  }

  /// Emits the whole matmul at the builder's insertion point, with the loop
  /// chosen by `split` as an scf.parallel.
  void emit(int64_t rows, int64_t vectors, ParallelSplit split) {
    int64_t panel = width * vectors;
    int64_t fullN = s.n / panel * panel;
    int64_t fullM = s.m / rows * rows;
    if (split == ParallelSplit::Batch) {
      auto loop = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                          ValueRange{index(s.batch)},
                                          ValueRange{index(1)});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      emitByColumns(loop.getInductionVars()[0], rows, vectors);
      return;
    }
    if (split == ParallelSplit::None) {
      forEachBatch(
          [&](Value batchIdx) { emitByColumns(batchIdx, rows, vectors); });
      return;
    }
    // Full column panels or full row blocks in parallel (with the batch
    // index as an outer parallel dimension), the ragged edge afterwards.
    bool byColumns = split == ParallelSplit::Columns;
    SmallVector<Value> lbs, ubs, steps;
    if (s.batched) {
      lbs.push_back(index(0));
      ubs.push_back(index(s.batch));
      steps.push_back(index(1));
    }
    lbs.push_back(index(0));
    ubs.push_back(index(byColumns ? fullN : fullM));
    steps.push_back(index(byColumns ? panel : rows));
    auto loop = scf::ParallelOp::create(b, loc, lbs, ubs, steps);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      SmallVector<Value> ivs(loop.getInductionVars());
      Value batchIdx = s.batched ? ivs[0] : Value();
      if (byColumns)
        emitRowLoops(batchIdx, ivs.back(), rows, vectors, /*tail=*/0);
      else
        emitColumnLoops(batchIdx, ivs.back(), rows, vectors);
    }
    forEachBatch([&](Value batchIdx) {
      if (byColumns) {
        emitTailColumns(batchIdx, fullN, rows);
        return;
      }
      if (fullM == s.m)
        return;
      auto rowLoop =
          scf::ForOp::create(b, loc, index(fullM), index(s.m), index(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(rowLoop.getBody());
      emitColumnLoops(batchIdx, rowLoop.getInductionVar(), 1, vectors);
    });
  }

  /// The GEMV form (1-2 rows, not batched). A register block would read B
  /// in short runs far apart (one K row per step, a few hundred columns
  /// wide); instead every B row is read whole and in order:
  /// C[r, :] += sum_i A[r, k + i] * B[k + i, :] for kGemvRowsPerStep rows
  /// at a time, the C row(s) staying in L1. With `units` > 1 the K range is
  /// cut into that many parallel units of `perUnit` rows, each summing into
  /// its own zeroed slice of a scratch buffer, added to C (in unit order,
  /// so the result does not depend on the thread count) afterwards; wide B
  /// rows then take kGemvOneThreadRowsPerStep per pass when the call runs
  /// on one thread (q.num_threads).
  void emitGemv(int64_t units, int64_t perUnit) {
    if (units <= 1) {
      emitGemvRange(s.c, Value(), index(0), index(s.k), kGemvRowsPerStep);
      return;
    }
    auto partialType =
        MemRefType::get({units, s.m, s.n}, b.getF32Type());
    Value partial =
        memref::AllocOp::create(b, loc, partialType, b.getI64IntegerAttr(64));
    // Wide B rows: 4 per pass on one thread, 8 with more (chosen per call).
    Value oneThread;
    if (s.n * 4 >= kGemvNarrowMinBytes) {
      Value threads =
          qcc::q::NumThreadsOp::create(b, loc, b.getIndexType());
      oneThread = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        threads, index(1));
    }
    auto loop = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                        ValueRange{index(units)},
                                        ValueRange{index(1)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      Value unit = loop.getInductionVars()[0];
      Value zero = arith::ConstantOp::create(
          b, loc, vecType, DenseElementsAttr::get(vecType, 0.0f));
      forEachRowVector([&](Value row, Value col, Value mask) {
        storeVector(zero, partial, {unit, row, col}, mask);
      });
      Value k0 = arith::MulIOp::create(b, loc, unit, index(perUnit));
      Value k1 = arith::MinSIOp::create(
          b, loc, arith::AddIOp::create(b, loc, k0, index(perUnit)),
          index(s.k));
      if (!oneThread) {
        emitGemvRange(partial, unit, k0, k1, kGemvRowsPerStep);
      } else {
        auto ifOp = scf::IfOp::create(b, loc, oneThread, /*else=*/true);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        emitGemvRange(partial, unit, k0, k1, kGemvOneThreadRowsPerStep);
        b.setInsertionPointToStart(ifOp.elseBlock());
        emitGemvRange(partial, unit, k0, k1, kGemvRowsPerStep);
      }
    }
    forEachRowVector([&](Value row, Value col, Value mask) {
      Value sum = initVec ? initVec : loadVector(s.c, {row, col}, mask);
      for (int64_t u = 0; u < units; ++u)
        sum = arith::AddFOp::create(
            b, loc, sum, loadVector(partial, {index(u), row, col}, mask));
      storeVector(sum, s.c, {row, col}, mask);
    });
    memref::DeallocOp::create(b, loc, partial);
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  SmallVector<Value> indices(Value batchIdx, Value i, Value j) {
    SmallVector<Value> result;
    if (batchIdx)
      result.push_back(batchIdx);
    result.push_back(i);
    result.push_back(j);
    return result;
  }

  /// Runs `body` once, or in a loop over the batch dimension.
  void forEachBatch(function_ref<void(Value)> body) {
    if (!s.batched)
      return body(Value());
    auto loop = scf::ForOp::create(b, loc, index(0), index(s.batch), index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  /// The serial order: full column panels, then the remaining columns one
  /// vector (the last one masked) at a time; all rows for each.
  void emitByColumns(Value batchIdx, int64_t rows, int64_t vectors) {
    int64_t panel = width * vectors;
    int64_t fullN = s.n / panel * panel;
    if (fullN > 0)
      emitColumnLoop(batchIdx, 0, fullN, panel, rows, vectors, /*tail=*/0);
    emitTailColumns(batchIdx, fullN, rows);
  }

  void emitTailColumns(Value batchIdx, int64_t begin, int64_t rows) {
    for (int64_t col = begin; col < s.n; col += width) {
      int64_t valid = std::min(width, s.n - col);
      emitColumnLoop(batchIdx, col, col + width, width, rows, 1,
                     valid == width ? 0 : valid);
    }
  }

  /// Columns [begin, end) in steps of `step`; rows in blocks of `rows`, then
  /// the leftover rows one at a time. `tail` > 0 masks each vector to that
  /// many lanes (only used with a single vector per row).
  void emitColumnLoop(Value batchIdx, int64_t begin, int64_t end, int64_t step,
                      int64_t rows, int64_t vectors, int64_t tail) {
    auto colLoop =
        scf::ForOp::create(b, loc, index(begin), index(end), index(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(colLoop.getBody());
    emitRowLoops(batchIdx, colLoop.getInductionVar(), rows, vectors, tail);
  }

  /// All rows of the column block starting at `col`.
  void emitRowLoops(Value batchIdx, Value col, int64_t rows, int64_t vectors,
                    int64_t tail) {
    int64_t fullM = s.m / rows * rows;
    if (fullM > 0) {
      auto rowLoop =
          scf::ForOp::create(b, loc, index(0), index(fullM), index(rows));
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(rowLoop.getBody());
      emitBlock(batchIdx, rowLoop.getInductionVar(), col, rows, vectors, tail);
    }
    if (fullM < s.m) {
      auto rowLoop =
          scf::ForOp::create(b, loc, index(fullM), index(s.m), index(1));
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(rowLoop.getBody());
      emitBlock(batchIdx, rowLoop.getInductionVar(), col, 1, vectors, tail);
    }
  }

  /// All columns of the `rows` rows starting at `row`.
  void emitColumnLoops(Value batchIdx, Value row, int64_t rows,
                       int64_t vectors) {
    int64_t panel = width * vectors;
    int64_t fullN = s.n / panel * panel;
    auto emitColumns = [&](int64_t begin, int64_t end, int64_t step,
                           int64_t vecs, int64_t tail) {
      auto colLoop =
          scf::ForOp::create(b, loc, index(begin), index(end), index(step));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(colLoop.getBody());
      emitBlock(batchIdx, row, colLoop.getInductionVar(), rows, vecs, tail);
    };
    if (fullN > 0)
      emitColumns(0, fullN, panel, vectors, 0);
    for (int64_t col = fullN; col < s.n; col += width) {
      int64_t valid = std::min(width, s.n - col);
      emitColumns(col, col + width, width, 1, valid == width ? 0 : valid);
    }
  }

  /// Runs `body(row, col, mask)` for every vector of the C rows: full
  /// vectors in a loop, then one masked vector for a column tail.
  void forEachRowVector(function_ref<void(Value, Value, Value)> body) {
    int64_t fullN = s.n / width * width;
    auto rowLoop = scf::ForOp::create(b, loc, index(0), index(s.m), index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rowLoop.getBody());
    Value row = rowLoop.getInductionVar();
    if (fullN > 0) {
      auto colLoop =
          scf::ForOp::create(b, loc, index(0), index(fullN), index(width));
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(colLoop.getBody());
      body(row, colLoop.getInductionVar(), Value());
    }
    if (fullN < s.n)
      body(row, index(fullN), tailMask(s.n - fullN));
  }

  Value tailMask(int64_t valid) {
    auto maskType = VectorType::get({width}, b.getI1Type());
    return vector::ConstantMaskOp::create(b, loc, maskType,
                                          b.getDenseI64ArrayAttr({valid}));
  }

  /// dst[(unit,) r, :] += sum over k in [k0, k1) of A[r, k] * B[k, :] for
  /// every row r: steps of `step` B rows, then single rows.
  void emitGemvRange(Value dst, Value unit, Value k0, Value k1, int64_t step) {
    // One pass over the columns adding `step` B rows from `k`.
    auto emitPass = [&](Value k, int64_t step) {
      SmallVector<Value> kIdx, aVecs;
      for (int64_t i = 0; i < step; ++i)
        kIdx.push_back(i == 0 ? k : arith::AddIOp::create(b, loc, k, index(i)));
      for (int64_t r = 0; r < s.m; ++r)
        for (int64_t i = 0; i < step; ++i)
          aVecs.push_back(vector::BroadcastOp::create(
              b, loc, vecType,
              memref::LoadOp::create(b, loc, s.a,
                                     ValueRange{index(r), kIdx[i]})));
      auto columns = [&](Value col, Value mask) {
        SmallVector<Value> bVecs;
        for (int64_t i = 0; i < step; ++i)
          bVecs.push_back(loadVector(s.b, {kIdx[i], col}, mask));
        for (int64_t r = 0; r < s.m; ++r) {
          SmallVector<Value> idx = indices(unit, index(r), col);
          Value acc = loadVector(dst, idx, mask);
          for (int64_t i = 0; i < step; ++i)
            acc = vector::FMAOp::create(b, loc, aVecs[r * step + i], bVecs[i],
                                        acc);
          storeVector(acc, dst, idx, mask);
        }
      };
      int64_t fullN = s.n / width * width;
      if (fullN > 0) {
        auto colLoop =
            scf::ForOp::create(b, loc, index(0), index(fullN), index(width));
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(colLoop.getBody());
        columns(colLoop.getInductionVar(), Value());
      }
      if (fullN < s.n)
        columns(index(fullN), tailMask(s.n - fullN));
    };
    // k0 + floor((k1 - k0) / step) * step: the end of the full steps.
    Value span = arith::SubIOp::create(b, loc, k1, k0);
    Value mainEnd = arith::AddIOp::create(
        b, loc, k0,
        arith::MulIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, span, index(step)),
            index(step)));
    {
      auto kLoop = scf::ForOp::create(b, loc, k0, mainEnd, index(step));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(kLoop.getBody());
      emitPass(kLoop.getInductionVar(), step);
    }
    auto tailLoop = scf::ForOp::create(b, loc, mainEnd, k1, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tailLoop.getBody());
    emitPass(tailLoop.getInductionVar(), 1);
  }

  Value loadVector(Value memref, ArrayRef<Value> idx, Value mask) {
    if (!mask)
      return vector::LoadOp::create(b, loc, vecType, memref, idx);
    Value zero = arith::ConstantOp::create(
        b, loc, vecType, DenseElementsAttr::get(vecType, 0.0f));
    return vector::MaskedLoadOp::create(b, loc, vecType, memref, idx, mask,
                                        zero);
  }

  void storeVector(Value value, Value memref, ArrayRef<Value> idx, Value mask) {
    if (!mask)
      vector::StoreOp::create(b, loc, value, memref, idx);
    else
      vector::MaskedStoreOp::create(b, loc, memref, idx, mask, value);
  }

  /// One register block: C[i0 : i0+rows, j0 : j0+vectors*width].
  void emitBlock(Value batchIdx, Value i0, Value j0, int64_t rows,
                 int64_t vectors, int64_t tail) {
    Value mask;
    if (tail > 0) {
      auto maskType = VectorType::get({width}, b.getI1Type());
      mask = vector::ConstantMaskOp::create(
          b, loc, maskType, b.getDenseI64ArrayAttr({tail}));
    }
    SmallVector<Value> rowIdx, colIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(r == 0 ? i0
                              : arith::AddIOp::create(b, loc, i0, index(r)));
    for (int64_t v = 0; v < vectors; ++v)
      colIdx.push_back(v == 0 ? j0
                              : arith::AddIOp::create(b, loc, j0,
                                                      index(v * width)));
    SmallVector<Value> init;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        init.push_back(initVec ? initVec
                               : loadVector(s.c,
                                            indices(batchIdx, rowIdx[r],
                                                    colIdx[v]),
                                            mask));

    // A packed B: the panel and the column in it of each vector (a vector
    // never straddles two panels: panels are whole vectors wide).
    SmallVector<Value> bPanel, bColumn;
    if (s.packedPanel)
      for (int64_t v = 0; v < vectors; ++v) {
        bPanel.push_back(
            arith::DivUIOp::create(b, loc, colIdx[v], index(s.packedPanel)));
        bColumn.push_back(
            arith::RemUIOp::create(b, loc, colIdx[v], index(s.packedPanel)));
      }
    auto kLoop = scf::ForOp::create(b, loc, index(0), index(s.k), index(1),
                                    init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k = kLoop.getInductionVar();
      SmallVector<Value> bVecs;
      for (int64_t v = 0; v < vectors; ++v)
        bVecs.push_back(loadVector(
            s.b,
            s.packedPanel ? SmallVector<Value>{bPanel[v], k, bColumn[v]}
                          : indices(batchIdx, k, colIdx[v]),
            mask));
      SmallVector<Value> next;
      for (int64_t r = 0; r < rows; ++r) {
        Value a = memref::LoadOp::create(b, loc, s.a,
                                         indices(batchIdx, rowIdx[r], k));
        Value aVec = vector::BroadcastOp::create(b, loc, vecType, a);
        for (int64_t v = 0; v < vectors; ++v)
          next.push_back(vector::FMAOp::create(
              b, loc, aVec, bVecs[v],
              kLoop.getRegionIterArgs()[r * vectors + v]));
      }
      scf::YieldOp::create(b, loc, next);
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        storeVector(kLoop.getResult(r * vectors + v), s.c,
                    indices(batchIdx, rowIdx[r], colIdx[v]), mask);
  }

  OpBuilder &b;
  Location loc;
  const MatmulShape &s;
  int64_t width;
  VectorType vecType;
  /// The splat C starts from when its initialization was folded in.
  Value initVec;
};

struct CpuMatmulMicrokernelPass
    : public qcc::cpu::impl::CpuMatmulMicrokernelBase<
          CpuMatmulMicrokernelPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth <= 0 || rows < 0 || vectorsPerRow < 0) {
      getOperation().emitError("qcc-cpu-matmul-microkernel: vector-width "
                               "must be positive, rows and vectors-per-row "
                               "positive or 0 (chosen by shape)");
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::LinalgOp, MatmulShape>> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (std::optional<MatmulShape> shape = matchMatmul(op))
        work.push_back({op, *shape});
    });
    for (auto &[op, shape] : work) {
      // A packed panel must hold whole vectors; otherwise the generic
      // lowering runs it.
      if (shape.packedPanel && shape.packedPanel % vectorWidth != 0)
        continue;
      OpBuilder builder(op);
      MicrokernelEmitter emitter(builder, op.getLoc(), shape, vectorWidth);
      // The constant C holds before the product, when the write that put it
      // there can be folded into the kernel.
      Operation *initWriter = qcc::cpu::outputInitWriter(op, shape.c);
      FloatAttr initValue =
          initWriter ? qcc::cpu::writtenConstant(initWriter) : FloatAttr();
      if (!shape.batched && !shape.packedPanel && shape.m <= kGemvMaxRows &&
          rows == 0 && vectorsPerRow == 0) {
        auto [units, perUnit] = gemvUnits(shape, parallelMinFmas);
        bool foldInit = initValue && units > 1;
        if (foldInit)
          emitter.setInitialValue(initValue);
        emitter.emitGemv(units, perUnit);
        op->erase();
        if (foldInit)
          qcc::cpu::eraseOutputInit(initWriter);
        continue;
      }
      auto [blockRows, blockVectors] =
          chooseBlock(shape, vectorWidth, rows, vectorsPerRow);
      ParallelSplit split = chooseSplit(
          shape, blockRows, vectorWidth * blockVectors, parallelMinFmas);
      if (initValue)
        emitter.setInitialValue(initValue);
      emitter.emit(blockRows, blockVectors, split);
      op->erase();
      if (initValue)
        qcc::cpu::eraseOutputInit(initWriter);
    }
  }
};

} // namespace
