//===- QMatmulOutliers.cpp - kept outlier channels of a q.matmul ----------===//
//
// A q.matmul with `outlier_channels` (qcc-fuse-outliers) computes
//
//   out = act(x * mask) * dequant(W) + x[:, channels] * outlierWeight
//
// With int8 activations the mask is applied inside the activation
// quantization (one multiply by a constant 0/1 vector per 16 values, in the
// per-row absmax and in the rounding), so the kept channels get code 0 and
// do not widen the row's scale; the quantized kernels run unchanged. The
// float part is added afterwards, in blocks of 16 rows x 256 columns (in
// parallel when large): per row the few kept values are loaded once, and
// each 16-column vector of the output is read, updated with one FMA per kept
// channel (the block's slice of the kept weight rows stays in L1) and
// stored.
//
//===----------------------------------------------------------------------===//

#include "QMatmulLowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace qcc;
using namespace qcc::cpu::detail;

LogicalResult QMatmulLowering::prepareOutliers() {
  xOrig = x;
  std::optional<ArrayRef<int64_t>> channels = op.getOutlierChannels();
  if (!channels)
    return success();
  outlierChannels.assign(channels->begin(), channels->end());
  if (actQuantized()) {
    std::vector<float> mask(numK, 1.0f);
    for (int64_t c : outlierChannels)
      mask[c] = 0.0f;
    auto type = RankedTensorType::get({numK}, b.getF32Type());
    outlierMask = getGlobal("__qcc_outlier_mask",
                            DenseElementsAttr::get(type, ArrayRef<float>(mask)));
    return success();
  }
  // Float activations: the kernels read x directly, so they get a copy
  // with the kept channels zeroed.
  auto type = MemRefType::get({numRows, numK}, b.getF32Type());
  maskedCopy = memref::AllocOp::create(b, loc, type, b.getI64IntegerAttr(64));
  memref::CopyOp::create(b, loc, x, maskedCopy);
  auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value zero = f32(0.0f);
    for (int64_t c : outlierChannels)
      memref::StoreOp::create(b, loc, zero, maskedCopy,
                              ValueRange{rows.getInductionVar(), index(c)});
  }
  x = maskedCopy;
  return success();
}

Value QMatmulLowering::applyOutlierMask(Value v, Value k) {
  if (!outlierMask)
    return v;
  if (auto vec = dyn_cast<VectorType>(v.getType())) {
    Value m = vector::LoadOp::create(b, loc, vec, outlierMask, ValueRange{k});
    return arith::MulFOp::create(b, loc, v, m);
  }
  Value m = memref::LoadOp::create(b, loc, outlierMask, ValueRange{k});
  return arith::MulFOp::create(b, loc, v, m);
}

void QMatmulLowering::emitOutlierEpilogue() {
  if (outlierChannels.empty())
    return;
  if (maskedCopy)
    memref::DeallocOp::create(b, loc, maskedCopy);
  Value weight = contiguous(op.getOutlierWeight());
  emitOutlierRows(weight);
  if (weight != op.getOutlierWeight())
    memref::DeallocOp::create(b, loc, weight);
}

void QMatmulLowering::emitOutlierRows(Value weight) {
  int64_t kept = static_cast<int64_t>(outlierChannels.size());
  auto vf = VectorType::get({16}, b.getF32Type());
  // Blocks of rows x columns: a block's slice of the kept weight rows
  // (kept x 256 floats, 16 KiB for 16 channels) stays in L1 while its rows
  // stream through, however wide N is (an LM head's N = 49152 would
  // otherwise reread #kept x N x 4 bytes for every row).
  constexpr int64_t kChunkCols = 256, kBlockRows = 16;
  int64_t vecN = numN / 16 * 16;
  int64_t chunks = (vecN + kChunkCols - 1) / kChunkCols;
  int64_t rowBlocks = (numRows + kBlockRows - 1) / kBlockRows;
  auto minIndex = [&](Value a, int64_t bound) -> Value {
    return arith::MinSIOp::create(b, loc, a, index(bound));
  };
  if (chunks > 0) {
    OpBuilder::InsertionGuard guard(b);
    Value rb, ch;
    if (parallelize() && rowBlocks * chunks > 1 &&
        numRows * numN * kept >= (int64_t(1) << 16)) {
      auto loops = scf::ParallelOp::create(
          b, loc, ValueRange{index(0), index(0)},
          ValueRange{index(rowBlocks), index(chunks)},
          ValueRange{index(1), index(1)});
      b.setInsertionPoint(loops.getBody()->getTerminator());
      rb = loops.getInductionVars()[0];
      ch = loops.getInductionVars()[1];
    } else {
      auto outer =
          scf::ForOp::create(b, loc, index(0), index(chunks), index(1));
      b.setInsertionPointToStart(outer.getBody());
      ch = outer.getInductionVar();
      auto inner =
          scf::ForOp::create(b, loc, index(0), index(rowBlocks), index(1));
      b.setInsertionPointToStart(inner.getBody());
      rb = inner.getInductionVar();
    }
    Value r0 = arith::MulIOp::create(b, loc, rb, index(kBlockRows));
    Value r1 = minIndex(arith::AddIOp::create(b, loc, r0, index(kBlockRows)),
                        numRows);
    Value n0 = arith::MulIOp::create(b, loc, ch, index(kChunkCols));
    Value n1 =
        minIndex(arith::AddIOp::create(b, loc, n0, index(kChunkCols)), vecN);
    auto rows = scf::ForOp::create(b, loc, r0, r1, index(1));
    b.setInsertionPointToStart(rows.getBody());
    Value r = rows.getInductionVar();
    // The row's kept values (the channels are compile-time constants).
    SmallVector<Value> splats;
    for (int64_t c : outlierChannels) {
      Value v = memref::LoadOp::create(b, loc, xOrig, ValueRange{r, index(c)});
      splats.push_back(vector::BroadcastOp::create(b, loc, vf, v));
    }
    auto cols = scf::ForOp::create(b, loc, n0, n1, index(16));
    b.setInsertionPointToStart(cols.getBody());
    Value n = cols.getInductionVar();
    Value acc = vector::LoadOp::create(b, loc, vf, out, ValueRange{r, n});
    for (int64_t i = 0; i < kept; ++i) {
      Value w =
          vector::LoadOp::create(b, loc, vf, weight, ValueRange{index(i), n});
      acc = vector::FMAOp::create(b, loc, splats[i], w, acc);
    }
    vector::StoreOp::create(b, loc, acc, out, ValueRange{r, n});
  }
  if (vecN == numN)
    return;
  // The last N % 16 columns, scalar.
  OpBuilder::InsertionGuard guard(b);
  auto rows = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
  b.setInsertionPointToStart(rows.getBody());
  Value r = rows.getInductionVar();
  auto tail = scf::ForOp::create(b, loc, index(vecN), index(numN), index(1));
  b.setInsertionPointToStart(tail.getBody());
  Value n = tail.getInductionVar();
  Value acc = memref::LoadOp::create(b, loc, out, ValueRange{r, n});
  for (int64_t i = 0; i < kept; ++i) {
    Value x = memref::LoadOp::create(
        b, loc, xOrig, ValueRange{r, index(outlierChannels[i])});
    Value w = memref::LoadOp::create(b, loc, weight, ValueRange{index(i), n});
    acc = math::FmaOp::create(b, loc, x, w, acc);
  }
  memref::StoreOp::create(b, loc, acc, out, ValueRange{r, n});
}
