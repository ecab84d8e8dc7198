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
// float part is added afterwards, one row at a time: the few kept values of
// the row are loaded once and each 16-column block of the output is read,
// updated with one FMA per kept channel (weight rows from a small constant,
// #kept x N, that stays in cache) and stored.
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
  OpBuilder::InsertionGuard guard(b);
  Value r;
  if (parallelize() && numRows > 1 && numRows * numN * kept >= (int64_t(1) << 16)) {
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
  // The row's kept values, once (the channels are compile-time constants).
  SmallVector<Value> xs, splats;
  for (int64_t c : outlierChannels) {
    Value v = memref::LoadOp::create(b, loc, xOrig, ValueRange{r, index(c)});
    xs.push_back(v);
    splats.push_back(vector::BroadcastOp::create(b, loc, vf, v));
  }
  int64_t vecN = numN / 16 * 16;
  auto cols = scf::ForOp::create(b, loc, index(0), index(vecN), index(16));
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(cols.getBody());
    Value n = cols.getInductionVar();
    Value acc = vector::LoadOp::create(b, loc, vf, out, ValueRange{r, n});
    for (int64_t i = 0; i < kept; ++i) {
      Value w = vector::LoadOp::create(b, loc, vf, weight, ValueRange{index(i), n});
      acc = vector::FMAOp::create(b, loc, splats[i], w, acc);
    }
    vector::StoreOp::create(b, loc, acc, out, ValueRange{r, n});
  }
  if (vecN == numN)
    return;
  auto tail = scf::ForOp::create(b, loc, index(vecN), index(numN), index(1));
  b.setInsertionPointToStart(tail.getBody());
  Value n = tail.getInductionVar();
  Value acc = memref::LoadOp::create(b, loc, out, ValueRange{r, n});
  for (int64_t i = 0; i < kept; ++i) {
    Value w = memref::LoadOp::create(b, loc, weight, ValueRange{index(i), n});
    acc = math::FmaOp::create(b, loc, xs[i], w, acc);
  }
  memref::StoreOp::create(b, loc, acc, out, ValueRange{r, n});
}
