//===- QMatmulKernelsAvx2.cpp - AVX2 q.matmul kernels (no VNNI) -----------===//
//
// The kernels of `qcc-cpu-lower-qmatmul` for x86 targets without VNNI
// (x86-64: AVX2 + FMA, x86-64-avx512): the same tiles, loops, activation
// quantization and epilogue as QMatmulKernels.cpp, on 8-column ymm blocks.
// The int8-activation kernels use `vpmaddwd` (i16 pairs multiplied and
// added into i32 lanes: 16 exact multiply-adds per instruction, no
// saturation) in place of `vpdpbusd`: the int32 sums, and so the results,
// are those of the VNNI kernels. The int4 weight-only kernel decodes
// nibbles to f32 with a shift, a mask and a convert, scales them per group
// and uses FMA.
//
// Weight layout (packKernelWeightsAvx2): column blocks of 8, column tiles
// and K block order as in packKernelWeights; each 32-byte K block holds 8
// columns x kStep K values in two 16-byte halves:
//   int8 (kStep 4): byte ((k % 4) / 2) * 16 + (n % 8) * 2 + k % 2 = code
//                   (signed), sign-extended to 16 x i16 per half, K pair
//                   (k0 + 2h, k0 + 2h + 1) for half h;
//   int4 (kStep 8): byte (((k % 8) % 4) / 2) * 16 + (n % 8) * 2 + k % 2,
//                   low nibble K values 0-3, high nibble 4-7, each = code +
//                   8 (symmetric) or the asymmetric code (0..15): a half
//                   zero-extended to 16 x i16 gives K pair h in the low
//                   nibbles (& 15) and K pair h + 2 in the high ones (>> 4);
//   int4 weight-only (kStep 8): dword lane n % 8 holds column n's 8 K values,
//                   K value i in bits 4i..4i+3 (code + 8, or the asymmetric
//                   code): (lanes >> 4i) & 15 converted to f32 is K value i
//                   of the 8 columns.
// The activation codes are quantized to i16 ([-128, 127]); a K pair of a row
// is one i32 broadcast to the 8 lanes, so vpmaddwd adds w(k, n) x(k) +
// w(k + 1, n) x(k + 1) into column n's lane. int8 K is padded to a multiple
// of 4 with zero codes (weights and activations). With the weight offset
// removed in int32 per group (8 * sum x, or zero point * sum x), the sums
// are exact before the fp32 scales, bit for bit the VNNI kernels' numbers.
//
//===----------------------------------------------------------------------===//

#include "QMatmulLowering.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace qcc;
using namespace qcc::cpu::detail;

std::vector<int8_t>
QMatmulLowering::packKernelWeightsAvx2(KernelKind kind, int64_t tileBlocks) {
  bool int8 = kind == KernelKind::W8A8;
  bool f32 = kind == KernelKind::W4F32;
  std::vector<int8_t> packed(
      static_cast<size_t>(int8 ? paddedK * numN : paddedK * numN / 2), 0);
  int64_t offset = int8 ? 0 : type.getScheme().getIsSigned() ? 8 : 0;
  int64_t blocksPerColumn = paddedK / kStep;
  int64_t numBlocks = numN / 8;
  for (int64_t k = 0; k < numK; ++k)
    for (int64_t n = 0; n < numN; ++n) {
      int64_t code = decodeCode(weightBytes, type, k, n) + offset;
      int64_t blk = n / 8;
      int64_t tile0 = blk / tileBlocks * tileBlocks;
      int64_t width = std::min(tileBlocks, numBlocks - tile0);
      int64_t index = (tile0 * blocksPerColumn + (k / kStep) * width +
                       (blk - tile0)) * 32 +
                      (f32 ? (n % 8) * 4 + (k % 8) / 2
                           : (((k % kStep) % 4) / 2) * 16 + (n % 8) * 2 + k % 2);
      auto &byte = reinterpret_cast<uint8_t &>(packed[index]);
      if (f32)
        byte |= static_cast<uint8_t>((code & 15) << (k % 2 == 0 ? 0 : 4));
      else if (int8)
        byte = static_cast<uint8_t>(code);
      else
        byte |= static_cast<uint8_t>((code & 15) << (k % 8 < 4 ? 0 : 4));
    }
  return packed;
}

TileOptions QMatmulLowering::chooseTileAvx2(KernelKind kind) {
  // 16 ymm registers: rows x blocks int32 accumulators, the extended
  // weights of a K pair (int8: one per block; int4: two, both nibbles of a
  // half) and a broadcast. The int4 kernel's f32 totals are touched once
  // per group and may live on the stack.
  TileOptions tile;
  // Measured on Zen 3 (1 thread, 128 x 4096^2 and 128 x 1536 x 384): int8
  // 3x3 ~31-34 ms / 1.1 ms against 4x3 45 / 1.7 ms; int4 4x2 ahead of 3x3,
  // 2x4; weight-only 6x2 ahead of 4x2, 8x1, 4x3; GEMVs 1x4.
  if (kind == KernelKind::W8A8) {
    tile.rows = numRows >= 3 ? 3 : numRows;
    tile.colBlocks = numRows >= 3 ? 3 : 4;
  } else if (kind == KernelKind::W4A8) {
    tile.rows = numRows >= 4 ? 4 : numRows;
    tile.colBlocks = numRows >= 3 ? 2 : 4;
  } else {
    // f32 accumulators; the decode of a K value (4 instructions per block)
    // is shared by the tile's rows.
    tile.rows = numRows >= 6 ? 6 : numRows;
    tile.colBlocks = numRows >= 3 ? 2 : 4;
  }
  if (tileOptions.rows > 0)
    tile.rows = tileOptions.rows;
  if (tileOptions.colBlocks > 0)
    tile.colBlocks = tileOptions.colBlocks;
  tile.rows = std::min(tile.rows, numRows);
  tile.colBlocks = std::min(tile.colBlocks, numN / 8);
  return tile;
}

void QMatmulLowering::emitTileAvx2(KernelKind kind, Value row0, int64_t rows,
                                   Value block0, int64_t blocks) {
  if (kind == KernelKind::W4F32)
    return emitTileF32Avx2(row0, rows, block0, blocks);
  auto vi32 = VectorType::get({8}, b.getI32Type());
  auto vf = VectorType::get({8}, b.getF32Type());
  auto v16i8 = VectorType::get({16}, b.getI8Type());
  auto v16i16 = VectorType::get({16}, b.getI16Type());
  auto v2i16 = VectorType::get({2}, b.getI16Type());
  auto v1i32 = VectorType::get({1}, b.getI32Type());
  bool int8 = kind == KernelKind::W8A8;
  // The tile's weights: K block kb of its block c at (kb * blocks + c) * 32
  // from its first (packKernelWeightsAvx2).
  TileIndices tileIdx =
      tileIndices(row0, rows, block0, blocks, 8, paddedK / kStep * 32);
  ArrayRef<Value> rowIdx = tileIdx.rows, colIdx = tileIdx.columns,
                  colBase = tileIdx.weights;
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 0)));
  Value zeroF =
      arith::ConstantOp::create(b, loc, vf, DenseElementsAttr::get(vf, 0.0f));
  Value low4 = arith::ConstantOp::create(
      b, loc, v16i16, DenseElementsAttr::get(v16i16, APInt(16, 15)));
  Value four = arith::ConstantOp::create(
      b, loc, v16i16, DenseElementsAttr::get(v16i16, APInt(16, 4)));
  int64_t tileSize = rows * blocks;
  Value zeros = op.getZeroPoints();
  // The activation codes of K values (k, k + 1) of row r as one i32 in all
  // 8 lanes, viewed as 16 x i16.
  auto broadcastPair = [&](int64_t r, Value k) -> Value {
    Value two = vector::LoadOp::create(b, loc, v2i16, qx, ValueRange{rowIdx[r], k});
    Value word = vector::ExtractOp::create(
        b, loc, vector::BitCastOp::create(b, loc, v1i32, two),
        ArrayRef<int64_t>{0});
    return vector::BitCastOp::create(
        b, loc, v16i16, vector::BroadcastOp::create(b, loc, vi32, word));
  };

  auto groupLoop = scf::ForOp::create(b, loc, index(0), index(groups), index(1),
                                      SmallVector<Value>(tileSize, zeroF));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(groupLoop.getBody());
    Value gi = groupLoop.getInductionVar();
    Value kb0 = arith::MulIOp::create(b, loc, gi, index(group / kStep));
    Value kb1 = arith::AddIOp::create(b, loc, kb0, index(group / kStep));
    auto kLoop = scf::ForOp::create(b, loc, kb0, kb1, index(1),
                                    SmallVector<Value>(tileSize, zeroAcc));
    {
      OpBuilder::InsertionGuard kg(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value kb = kLoop.getInductionVar();
      Value kbBytes = arith::MulIOp::create(b, loc, kb, index(blocks * 32));
      Value k0 = arith::MulIOp::create(b, loc, kb, index(kStep));
      SmallVector<Value> accs(kLoop.getRegionIterArgs());
      for (int64_t h = 0; h < 2; ++h) {
        // The K pairs of this half: h (int8), or h and h + 2 (int4).
        SmallVector<int64_t> pairs{h};
        if (!int8)
          pairs.push_back(h + 2);
        SmallVector<SmallVector<Value>> w(pairs.size());
        for (int64_t c = 0; c < blocks; ++c) {
          Value off = arith::AddIOp::create(
              b, loc, arith::AddIOp::create(b, loc, colBase[c], kbBytes),
              index(h * 16));
          Value bytes = vector::LoadOp::create(b, loc, v16i8, kernelWeights,
                                               ValueRange{off});
          if (int8) {
            w[0].push_back(arith::ExtSIOp::create(b, loc, v16i16, bytes));
            continue;
          }
          Value wide = arith::ExtUIOp::create(b, loc, v16i16, bytes);
          w[0].push_back(arith::AndIOp::create(b, loc, wide, low4));
          w[1].push_back(arith::ShRUIOp::create(b, loc, wide, four));
        }
        for (size_t p = 0; p < pairs.size(); ++p) {
          Value k = arith::AddIOp::create(b, loc, k0, index(2 * pairs[p]));
          for (int64_t r = 0; r < rows; ++r) {
            Value a = broadcastPair(r, k);
            for (int64_t c = 0; c < blocks; ++c) {
              Value &acc = accs[r * blocks + c];
              Value prod = LLVM::CallIntrinsicOp::create(
                               b, loc, vi32,
                               b.getStringAttr("llvm.x86.avx2.pmadd.wd"),
                               ValueRange{w[p][c], a})
                               .getResult(0);
              acc = arith::AddIOp::create(b, loc, acc, prod);
            }
          }
        }
      }
      scf::YieldOp::create(b, loc, accs);
    }

    // Group epilogue: remove the weight offset, scale, accumulate in fp32
    // (the VNNI kernels' arithmetic).
    SmallVector<Value> scale, zeroPoint;
    for (int64_t c = 0; c < blocks; ++c) {
      SmallVector<Value> idx{colIdx[c]};
      if (!int8)
        idx.insert(idx.begin(), gi);
      scale.push_back(vector::LoadOp::create(b, loc, vf, op.getScales(), idx));
      if (!zeros)
        continue;
      auto zType = cast<MemRefType>(zeros.getType()).getElementType();
      Value z = vector::LoadOp::create(b, loc, VectorType::get({8}, zType),
                                       zeros, ValueRange{gi, colIdx[c]});
      if (zType.getIntOrFloatBitWidth() < 32)
        z = arith::ExtSIOp::create(b, loc, vi32, z);
      else if (zType.getIntOrFloatBitWidth() > 32)
        z = arith::TruncIOp::create(b, loc, vi32, z);
      zeroPoint.push_back(z);
    }
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      // int8 codes are signed: no offset. int4: 8 (symmetric) or the zero
      // point, times the group's sum of activation codes.
      Value sumV;
      if (!int8)
        sumV = vector::BroadcastOp::create(
            b, loc, vi32,
            memref::LoadOp::create(b, loc, sums, ValueRange{rowIdx[r], gi}));
      Value eight = arith::ConstantOp::create(
          b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 8)));
      for (int64_t c = 0; c < blocks; ++c) {
        Value acc = kLoop.getResult(r * blocks + c);
        if (!int8)
          acc = arith::SubIOp::create(
              b, loc, acc,
              arith::MulIOp::create(b, loc, zeros ? zeroPoint[c] : eight,
                                    sumV));
        Value exact = arith::SIToFPOp::create(b, loc, vf, acc);
        next.push_back(math::FmaOp::create(
            b, loc, exact, scale[c],
            groupLoop.getRegionIterArgs()[r * blocks + c]));
      }
    }
    scf::YieldOp::create(b, loc, next);
  }

  storeRowScaledTile(groupLoop.getResults(), rowIdx, colIdx);
}

/// int4 weights x f32 activations: per group and block, the scales (and
/// -zero point * scale) are loaded once; per K value the 8 columns' codes
/// are decoded to f32 (symmetric: code - 8, exact) and scaled like the VNNI
/// kernel's weights (code * scale, or fma(code, scale, -zero * scale)),
/// then shared by the tile's rows.
void QMatmulLowering::emitTileF32Avx2(Value row0, int64_t rows, Value block0,
                                      int64_t blocks) {
  auto vi32 = VectorType::get({8}, b.getI32Type());
  auto vf = VectorType::get({8}, b.getF32Type());
  auto v32i8 = VectorType::get({32}, b.getI8Type());
  TileIndices tileIdx =
      tileIndices(row0, rows, block0, blocks, 8, numK / kStep * 32);
  ArrayRef<Value> rowIdx = tileIdx.rows, colIdx = tileIdx.columns,
                  colBase = tileIdx.weights;
  Value zeroF =
      arith::ConstantOp::create(b, loc, vf, DenseElementsAttr::get(vf, 0.0f));
  Value eightF =
      arith::ConstantOp::create(b, loc, vf, DenseElementsAttr::get(vf, 8.0f));
  Value low4 = arith::ConstantOp::create(
      b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 15)));
  Value zeros = op.getZeroPoints();
  int64_t tileSize = rows * blocks;
  auto groupLoop = scf::ForOp::create(b, loc, index(0), index(groups), index(1),
                                      SmallVector<Value>(tileSize, zeroF));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(groupLoop.getBody());
    Value gi = groupLoop.getInductionVar();
    SmallVector<Value> scale, offset;
    for (int64_t c = 0; c < blocks; ++c) {
      scale.push_back(vector::LoadOp::create(b, loc, vf, op.getScales(),
                                             ValueRange{gi, colIdx[c]}));
      if (!zeros)
        continue;
      auto zType = cast<MemRefType>(zeros.getType()).getElementType();
      Value z = vector::LoadOp::create(b, loc, VectorType::get({8}, zType),
                                       zeros, ValueRange{gi, colIdx[c]});
      Value zs = arith::MulFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, vf, z), scale[c]);
      offset.push_back(arith::NegFOp::create(b, loc, zs));
    }
    Value kb0 = arith::MulIOp::create(b, loc, gi, index(group / kStep));
    Value kb1 = arith::AddIOp::create(b, loc, kb0, index(group / kStep));
    auto kLoop = scf::ForOp::create(b, loc, kb0, kb1, index(1),
                                    groupLoop.getRegionIterArgs());
    {
      OpBuilder::InsertionGuard kg(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value kb = kLoop.getInductionVar();
      Value kbBytes = arith::MulIOp::create(b, loc, kb, index(blocks * 32));
      Value k0 = arith::MulIOp::create(b, loc, kb, index(kStep));
      SmallVector<Value> accs(kLoop.getRegionIterArgs());
      SmallVector<Value> lanes;
      for (int64_t c = 0; c < blocks; ++c) {
        Value off = arith::AddIOp::create(b, loc, colBase[c], kbBytes);
        lanes.push_back(vector::BitCastOp::create(
            b, loc, vi32,
            vector::LoadOp::create(b, loc, v32i8, kernelWeights,
                                   ValueRange{off})));
      }
      for (int64_t i = 0; i < 8; ++i) {
        SmallVector<Value> w;
        for (int64_t c = 0; c < blocks; ++c) {
          Value idx = lanes[c];
          if (i > 0)
            idx = arith::ShRUIOp::create(
                b, loc, idx,
                arith::ConstantOp::create(
                    b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 4 * i))));
          if (i < 7)
            idx = arith::AndIOp::create(b, loc, idx, low4);
          Value code = arith::SIToFPOp::create(b, loc, vf, idx);
          if (zeros) {
            w.push_back(math::FmaOp::create(b, loc, code, scale[c], offset[c]));
          } else {
            code = arith::SubFOp::create(b, loc, code, eightF);
            w.push_back(arith::MulFOp::create(b, loc, code, scale[c]));
          }
        }
        Value k = arith::AddIOp::create(b, loc, k0, index(i));
        for (int64_t r = 0; r < rows; ++r) {
          Value xv = vector::BroadcastOp::create(
              b, loc, vf,
              memref::LoadOp::create(b, loc, x, ValueRange{rowIdx[r], k}));
          for (int64_t c = 0; c < blocks; ++c) {
            Value &acc = accs[r * blocks + c];
            acc = math::FmaOp::create(b, loc, w[c], xv, acc);
          }
        }
      }
      scf::YieldOp::create(b, loc, accs);
    }
    scf::YieldOp::create(b, loc, kLoop.getResults());
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < blocks; ++c) {
      Value result = groupLoop.getResult(r * blocks + c);
      if (op.getBias())
        result = arith::AddFOp::create(
            b, loc, result,
            vector::LoadOp::create(b, loc, vf, op.getBias(),
                                   ValueRange{colIdx[c]}));
      vector::StoreOp::create(b, loc, result, out,
                              ValueRange{rowIdx[r], colIdx[c]});
    }
}
