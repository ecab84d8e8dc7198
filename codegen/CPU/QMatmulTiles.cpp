//===- QMatmulTiles.cpp - tile set-up and epilogue shared by the kernels -===//
//
// Pieces of a q.matmul register tile that the AVX-512 VNNI kernels
// (QMatmulKernels.cpp) and the AVX2 kernels (QMatmulKernelsAvx2.cpp) share:
// the tile's row indices, block columns and packed-weight offsets, and the
// int8-activation epilogue (row scale, bias, store).
//
//===----------------------------------------------------------------------===//

#include "QMatmulLowering.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace qcc;
using namespace qcc::cpu::detail;

QMatmulLowering::TileIndices
QMatmulLowering::tileIndices(Value row0, int64_t rows, Value block0,
                             int64_t blocks, int64_t lanes,
                             int64_t blockBytes) {
  TileIndices idx;
  for (int64_t r = 0; r < rows; ++r)
    idx.rows.push_back(r == 0 ? row0
                              : arith::AddIOp::create(b, loc, row0, index(r)));
  // K block kb of block c at tileBase + (kb * blocks + c) * lanes * 4.
  Value tileBase = arith::MulIOp::create(b, loc, block0, index(blockBytes));
  for (int64_t c = 0; c < blocks; ++c) {
    Value blk =
        c == 0 ? block0 : arith::AddIOp::create(b, loc, block0, index(c));
    idx.columns.push_back(arith::MulIOp::create(b, loc, blk, index(lanes)));
    idx.weights.push_back(
        arith::AddIOp::create(b, loc, tileBase, index(c * lanes * 4)));
  }
  return idx;
}

void QMatmulLowering::storeRowScaledTile(ValueRange results,
                                         ArrayRef<Value> rows,
                                         ArrayRef<Value> columns) {
  auto vf = cast<VectorType>(results.front().getType());
  int64_t blocks = columns.size();
  SmallVector<Value> bias;
  if (op.getBias())
    for (Value column : columns)
      bias.push_back(
          vector::LoadOp::create(b, loc, vf, op.getBias(), ValueRange{column}));
  for (auto [r, row] : llvm::enumerate(rows)) {
    Value rs = vector::BroadcastOp::create(
        b, loc, vf, memref::LoadOp::create(b, loc, rowScale, ValueRange{row}));
    for (int64_t c = 0; c < blocks; ++c) {
      Value result = arith::MulFOp::create(
          b, loc, results[r * blocks + c], rs);
      if (!bias.empty())
        result = arith::AddFOp::create(b, loc, result, bias[c]);
      vector::StoreOp::create(b, loc, result, out, ValueRange{row, columns[c]});
    }
  }
}
