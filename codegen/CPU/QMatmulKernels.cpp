//===- QMatmulKernels.cpp - register-tiled AVX-512 q.matmul kernels -------===//
//
// The kernels of `qcc-cpu-lower-qmatmul` (see Passes.td for the overview).
//
// Weight layout (built here at compile time from the weight's bytes, in any
// q layout): the columns are cut into blocks of 16, the blocks into column
// tiles of the kernel's `blocks` (the last tile narrower); a tile is a run of
// 64-byte K blocks, K block major, then its blocks (the K block kb of the
// tile's block c at (kb * blocks + c) * 64), so a tile's weights are read as
// one sequential stream, which the hardware prefetchers follow better than
// one stream per block (a cold GEMV reads from DRAM at the rate of as many
// streams as it keeps). Each 64-byte block holds 16 columns x kStep K values:
//   int8 (kStep 4): byte (n % 16) * 4 + k % 4 = code + 128;
//   int4 (kStep 8): byte (n % 16) * 4 + k % 4, low nibble K values 0-3,
//                   high nibble 4-7, each = code + 8 (symmetric) or the
//                   asymmetric code (0..15).
// So every weight byte is unsigned: it is the u8 operand of `vpdpbusd`, and
// the int8 activations (4 consecutive K values broadcast to 16 lanes) are
// the s8 one. With int32 accumulators acc = sum_k (w + o) x, the exact
// product is acc - o * sum_k x (o = 128, 8, or the zero point), formed in
// int32 per group before the fp32 scales. Constant group scales and zero
// points are stored per column tile too, [tile][groups][blocks][16], the
// zero points as bytes (packGroupConstants): a GEMV then streams them in
// order next to the weights instead of one 64-byte piece per 4N-byte row.
//
// For f32 activations (int4 weight-only), one dword lane of a 64-byte block
// holds a column's 8 nibbles (K values 0,4,1,5,2,6,3,7 at bits 0,4,...,28):
// shifting the block right by 4i puts one K value in the low 4 bits of
// every lane, `vpermps` with a 16-entry table (code values -8..7, or 0..15
// for asymmetric codes) turns it into 16 floats, and one multiply (or FMA
// with -zero point * scale) by the group's scales makes them the weights,
// shared by all rows of the tile.
//
// A tile is `rows` x `blocks` x 16 outputs whose accumulators stay in zmm
// registers over the K loop: per K block it loads `blocks` weight vectors
// and `rows` broadcasts for rows * blocks dot products.
//
//===----------------------------------------------------------------------===//

#include "QMatmulLowering.h"

#include "qcc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace qcc;
using namespace qcc::cpu::detail;

/// Largest group the weight-only panel form decodes at once (a panel of
/// group x 48 floats: 48 KiB); larger groups decode in registers.
static constexpr int64_t kMaxPanelGroup = 256;

/// Bytes of decoded f32 weights a column tile's panel may span: several
/// groups (the whole K of small matmuls) decoded before the row tiles run,
/// so each row tile adds into its outputs once per span instead of once per
/// group. The panel streams from L2 like the packed f32 weights.
static constexpr int64_t kPanelSpanBytes = 256 * 1024;

/// The K offset (within a lane's 8) of nibble `i` of a packed-int4 lane:
/// K value i / 2 (even i) or 4 + i / 2 (odd).
static int64_t nibbleK(int64_t i) { return i % 2 == 0 ? i / 2 : 4 + i / 2; }

/// Nibble `i` of every 32-bit lane of `lanes` (a vector<16xi32> of packed int4
/// codes) looked up in `lut` (vector<16xf32>, one value per code).
static Value decodeNibble(OpBuilder &b, Location loc, Value lanes, int64_t i,
                          Value lut) {
  auto vi32 = cast<VectorType>(lanes.getType());
  Value idx = lanes;
  if (i > 0)
    idx = arith::ShRUIOp::create(
        b, loc, idx,
        arith::ConstantOp::create(
            b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 4 * i))));
  return LLVM::CallIntrinsicOp::create(
             b, loc, lut.getType(),
             b.getStringAttr("llvm.x86.avx512.permvar.sf.512"),
             ValueRange{lut, idx})
      .getResult(0);
}

std::vector<int8_t> QMatmulLowering::packKernelWeights(KernelKind kind,
                                                        int64_t tileBlocks) {
  std::vector<int8_t> packed(
      static_cast<size_t>(kind == KernelKind::W8A8 ? numK * numN
                                                   : numK * numN / 2),
      0);
  int64_t offset = kind == KernelKind::W8A8 ? 128
                   : type.getScheme().getIsSigned() ? 8
                                                    : 0;
  int64_t blocksPerColumn = numK / kStep;
  int64_t numBlocks = numN / 16;
  for (int64_t k = 0; k < numK; ++k)
    for (int64_t n = 0; n < numN; ++n) {
      int64_t u = decodeCode(weightBytes, type, k, n) + offset;
      // Column tile of `tileBlocks` blocks (the last one narrower), K block
      // major inside it: the tile's weights are one sequential run.
      int64_t blk = n / 16;
      int64_t tile0 = blk / tileBlocks * tileBlocks;
      int64_t width = std::min(tileBlocks, numBlocks - tile0);
      int64_t index = (tile0 * blocksPerColumn + (k / kStep) * width +
                       (blk - tile0)) * 64 +
                      (n % 16) * 4 + (k % kStep) % 4;
      auto &byte = reinterpret_cast<uint8_t &>(packed[index]);
      if (kind == KernelKind::W8A8)
        byte = static_cast<uint8_t>(u);
      else
        byte |= static_cast<uint8_t>((u & 15) << (k % 8 < 4 ? 0 : 4));
    }
  return packed;
}

TileOptions QMatmulLowering::chooseTile(KernelKind kind) {
  TileOptions tile;
  // Register budget (32 zmm): int8 keeps rows * blocks int32 accumulators,
  // the int4 kernels twice that (per-group int32 or f32 sums and the f32
  // totals) plus the decoded weights.
  if (kind == KernelKind::W8A8) {
    tile.rows = numRows >= 4 ? 4 : numRows;
    tile.colBlocks = 4;
  } else if (kind == KernelKind::W4A8) {
    tile.rows = numRows >= 3 ? 4 : numRows;
    tile.colBlocks = numRows >= 3 ? 2 : 4;
  } else {
    // f32 accumulators only (the scales are applied to the decoded
    // weights). From 8 rows the weights are decoded once per group into
    // an f32 panel that 8 x 3 tiles (24 accumulators) read like the f32
    // microkernel; fewer rows decode in registers, 4 x 3 or r x 4.
    tile.rows = numRows >= 8 ? 8 : numRows >= 4 ? 4 : numRows;
    tile.colBlocks = numRows >= 4 ? 3 : 4;
  }
  if (tileOptions.rows > 0)
    tile.rows = tileOptions.rows;
  if (tileOptions.colBlocks > 0)
    tile.colBlocks = tileOptions.colBlocks;
  tile.rows = std::min(tile.rows, numRows);
  tile.colBlocks = std::min(tile.colBlocks, numN / 16);
  return tile;
}

void QMatmulLowering::emitKernel(KernelKind kind) {
  kStep = kind == KernelKind::W8A8 ? 4 : 8;
  // AVX2 (no VNNI): 8-column blocks, int8 K padded to a multiple of 4.
  blockCols = hasVnni ? 16 : 8;
  paddedK = hasVnni || kind != KernelKind::W8A8 ? numK : (numK + 3) / 4 * 4;
  group = kind == KernelKind::W8A8 ? paddedK : type.getScheme().getGroupSize();
  groups = paddedK / group;
  TileOptions tile = hasVnni ? chooseTile(kind) : chooseTileAvx2(kind);
  std::vector<int8_t> packed = hasVnni
                                   ? packKernelWeights(kind, tile.colBlocks)
                                   : packKernelWeightsAvx2(kind, tile.colBlocks);
  if (kind == KernelKind::W4A8 && hasVnni)
    packGroupConstants(tile.colBlocks);
  kernelWeights = getGlobal(
      "__qcc_kweight",
      byteBlob("qcc_kweight", {static_cast<int64_t>(packed.size())}, packed));
  auto alloc = [&](ArrayRef<int64_t> shape, Type element) -> Value {
    return memref::AllocOp::create(b, loc, MemRefType::get(shape, element),
                                   b.getI64IntegerAttr(64));
  };
  SmallVector<Value> temporaries;
  if (kind != KernelKind::W4F32) {
    // AVX2: i16 codes (vpmaddwd operands), zero in the K padding.
    qx = alloc({numRows, paddedK}, hasVnni ? b.getI8Type() : b.getI16Type());
    rowScale = alloc({numRows}, b.getF32Type());
    sums = alloc({numRows, groups}, b.getI32Type());
    temporaries = {qx, rowScale, sums};
    emitActivationQuantization(qx, rowScale, sums, std::min(group, numK));
    for (int64_t k = numK; k < paddedK; ++k) {
      OpBuilder::InsertionGuard guard(b);
      auto rowLoop =
          scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
      b.setInsertionPointToStart(rowLoop.getBody());
      memref::StoreOp::create(
          b, loc, arith::ConstantOp::create(b, loc, b.getI16IntegerAttr(0)),
          qx, ValueRange{rowLoop.getInductionVar(), index(k)});
    }
  } else if (hasVnni) {
    bool isSigned = type.getScheme().getIsSigned();
    SmallVector<float> table;
    for (int i = 0; i < 16; ++i)
      table.push_back(isSigned ? float(i - 8) : float(i)); // nibble = code + 8
    auto vf = VectorType::get({16}, b.getF32Type());
    lut = arith::ConstantOp::create(
        b, loc, vf, DenseElementsAttr::get(vf, ArrayRef<float>(table)));
  }

  if (kind == KernelKind::W4F32 && hasVnni && tile.rows >= 8 &&
      group <= kMaxPanelGroup) {
    emitPanelKernelF32(tile);
    return;
  }
  int64_t rows = tile.rows, blocks = tile.colBlocks;
  int64_t numBlocks = numN / blockCols;
  int64_t fullTiles = numBlocks / blocks, tailBlocks = numBlocks % blocks;
  int64_t rowTiles = (numRows + rows - 1) / rows;
  {
    OpBuilder::InsertionGuard guard(b);
    Value colTile, rowTile;
    if (parallelize()) {
      // Column tiles outermost: one chunk of the linearized space walks the
      // row tiles of a column tile while its weights stay in L2.
      SmallVector<Value> lbs{index(0)}, ubs{index(fullTiles)}, steps{index(1)};
      if (rowTiles > 1) {
        lbs.push_back(index(0));
        ubs.push_back(index(rowTiles));
        steps.push_back(index(1));
      }
      auto loop = scf::ParallelOp::create(b, loc, lbs, ubs, steps);
      // One row tile (a GEMV): the units are the column tiles, each a long
      // stream of weights. The pool's default 4 chunks per thread left 8
      // chunks of 8 tiles for 4096x4096 int8 at 2 threads, and one thread
      // ran its chunks 25% slower than the other (QCC_TRACE: 22.5 vs 18
      // us), so the other idled a chunk's time at the end; 8 per thread
      // balance them (0.099 -> 0.083 ms).
      if (rowTiles == 1)
        loop->setAttr(kChunksPerThreadAttrName, b.getI64IntegerAttr(8));
      b.setInsertionPoint(loop.getBody()->getTerminator());
      colTile = loop.getInductionVars()[0];
      rowTile = rowTiles > 1 ? loop.getInductionVars()[1] : index(0);
    } else {
      auto cols = scf::ForOp::create(b, loc, index(0), index(fullTiles), index(1));
      b.setInsertionPointToStart(cols.getBody());
      colTile = cols.getInductionVar();
      auto rowLoop =
          scf::ForOp::create(b, loc, index(0), index(rowTiles), index(1));
      b.setInsertionPointToStart(rowLoop.getBody());
      rowTile = rowLoop.getInductionVar();
    }
    Value block0 = arith::MulIOp::create(b, loc, colTile, index(blocks));
    emitRowTiles(kind, rowTile, rows, block0, blocks);
  }
  if (tailBlocks > 0) {
    OpBuilder::InsertionGuard guard(b);
    auto rowLoop = scf::ForOp::create(b, loc, index(0), index(rowTiles), index(1));
    b.setInsertionPointToStart(rowLoop.getBody());
    emitRowTiles(kind, rowLoop.getInductionVar(), rows,
                 index(fullTiles * blocks), tailBlocks);
  }
  for (Value t : temporaries)
    memref::DeallocOp::create(b, loc, t);
}

/// The tile of row tile `rowTile`: `rows` rows, or the remainder rows for
/// the last one.
void QMatmulLowering::emitRowTiles(KernelKind kind, Value rowTile, int64_t rows,
                                   Value block0, int64_t blocks) {
  Value row0 = arith::MulIOp::create(b, loc, rowTile, index(rows));
  int64_t rest = numRows % rows;
  if (rest == 0)
    return emitTile(kind, row0, rows, block0, blocks);
  int64_t last = numRows / rows;
  Value isLast = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       rowTile, index(last));
  auto ifOp = scf::IfOp::create(b, loc, isLast, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  emitTile(kind, row0, rest, block0, blocks);
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  emitTile(kind, row0, rows, block0, blocks);
}

/// acc (16 x i32) += per-lane dot products of 4 u8 (`u8`, 64 bytes) and 4
/// s8 (`s8`, 16 x i32); LLVM 22's intrinsic takes the bytes as <64 x i8>.
Value QMatmulLowering::dot(Value acc, Value u8, Value s8) {
  auto vi32 = VectorType::get({16}, b.getI32Type());
  auto v64i8 = VectorType::get({64}, b.getI8Type());
  Value sBytes = vector::BitCastOp::create(b, loc, v64i8, s8);
  return LLVM::CallIntrinsicOp::create(
             b, loc, vi32, b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
             ValueRange{acc, u8, sBytes})
      .getResult(0);
}

/// 4 bytes of `codes` at (r, k) broadcast to all 16 i32 lanes.
Value QMatmulLowering::broadcastCodes(Value codes, Value r, Value k) {
  auto v4i8 = VectorType::get({4}, b.getI8Type());
  auto v1i32 = VectorType::get({1}, b.getI32Type());
  auto vi32 = VectorType::get({16}, b.getI32Type());
  Value four = vector::LoadOp::create(b, loc, v4i8, codes, ValueRange{r, k});
  Value word = vector::BitCastOp::create(b, loc, v1i32, four);
  Value scalar = vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
  return vector::BroadcastOp::create(b, loc, vi32, scalar);
}

void QMatmulLowering::emitTile(KernelKind kind, Value row0, int64_t rows,
                               Value block0, int64_t blocks) {
  if (!hasVnni)
    return emitTileAvx2(kind, row0, rows, block0, blocks);
  if (kind == KernelKind::W4F32)
    return emitTileF32(row0, rows, block0, blocks);
  auto vi32 = VectorType::get({16}, b.getI32Type());
  auto vf = VectorType::get({16}, b.getF32Type());
  auto v64i8 = VectorType::get({64}, b.getI8Type());
  int64_t blockBytes = numK / kStep * 64;
  auto splatI8 = [&](int8_t c) -> Value {
    return arith::ConstantOp::create(
        b, loc, v64i8, DenseElementsAttr::get(v64i8, APInt(8, c, true)));
  };
  SmallVector<Value> rowIdx, colIdx, colBase, groupBase;
  for (int64_t r = 0; r < rows; ++r)
    rowIdx.push_back(r == 0 ? row0 : arith::AddIOp::create(b, loc, row0, index(r)));
  // The tile's weights: K block kb of its block c at tileBase + (kb * blocks
  // + c) * 64 (packKernelWeights).
  Value tileBase = arith::MulIOp::create(b, loc, block0, index(blockBytes));
  for (int64_t c = 0; c < blocks; ++c) {
    Value blk = c == 0 ? block0 : arith::AddIOp::create(b, loc, block0, index(c));
    colIdx.push_back(arith::MulIOp::create(b, loc, blk, index(16)));
    colBase.push_back(arith::AddIOp::create(b, loc, tileBase, index(c * 64)));
    // The tile's run of packed group constants (packGroupConstants): group
    // g of block c at (block0 * groups + g * blocks + c) * 16.
    if (packedScales && kind == KernelKind::W4A8)
      groupBase.push_back(arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, block0, index(groups * 16)),
          index(c * 16)));
  }
  auto at = [&](SmallVectorImpl<Value> &v, int64_t r, int64_t c) -> Value & {
    return v[r * blocks + c];
  };
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, vi32, DenseElementsAttr::get(vi32, APInt(32, 0)));
  Value zeroF =
      arith::ConstantOp::create(b, loc, vf, DenseElementsAttr::get(vf, 0.0f));
  int64_t tileSize = rows * blocks;
  Value zeros = op.getZeroPoints();

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
      Value kbBytes = arith::MulIOp::create(b, loc, kb, index(blocks * 64));
      Value k0 = arith::MulIOp::create(b, loc, kb, index(kStep));
      SmallVector<Value> accs(kLoop.getRegionIterArgs());
      SmallVector<Value> w;
      for (int64_t c = 0; c < blocks; ++c) {
        Value offset = arith::AddIOp::create(b, loc, colBase[c], kbBytes);
        w.push_back(vector::LoadOp::create(b, loc, v64i8, kernelWeights,
                                           ValueRange{offset}));
      }
      if (kind == KernelKind::W8A8) {
        for (int64_t r = 0; r < rows; ++r) {
          Value a = broadcastCodes(qx, rowIdx[r], k0);
          for (int64_t c = 0; c < blocks; ++c)
            at(accs, r, c) = dot(at(accs, r, c), w[c], a);
        }
      } else {
        auto v32i16 = VectorType::get({32}, b.getI16Type());
        Value four = arith::ConstantOp::create(
            b, loc, v32i16, DenseElementsAttr::get(v32i16, APInt(16, 4)));
        SmallVector<Value> lo, hi;
        for (int64_t c = 0; c < blocks; ++c) {
          lo.push_back(arith::AndIOp::create(b, loc, w[c], splatI8(0x0F)));
          Value shifted = arith::ShRUIOp::create(
              b, loc, vector::BitCastOp::create(b, loc, v32i16, w[c]), four);
          hi.push_back(arith::AndIOp::create(
              b, loc, vector::BitCastOp::create(b, loc, v64i8, shifted),
              splatI8(0x0F)));
        }
        Value k4 = arith::AddIOp::create(b, loc, k0, index(4));
        for (int64_t r = 0; r < rows; ++r) {
          Value aLo = broadcastCodes(qx, rowIdx[r], k0);
          Value aHi = broadcastCodes(qx, rowIdx[r], k4);
          for (int64_t c = 0; c < blocks; ++c) {
            at(accs, r, c) = dot(at(accs, r, c), lo[c], aLo);
            at(accs, r, c) = dot(at(accs, r, c), hi[c], aHi);
          }
        }
      }
      scf::YieldOp::create(b, loc, accs);
    }

    // Group epilogue: remove the weight offset, scale, accumulate in fp32.
    SmallVector<Value> scale, zeroPoint;
    Value groupOffset = groupBase.empty()
                            ? Value()
                            : arith::MulIOp::create(b, loc, gi, index(blocks * 16));
    for (int64_t c = 0; c < blocks; ++c) {
      if (!groupBase.empty()) {
        Value first = arith::AddIOp::create(b, loc, groupBase[c], groupOffset);
        scale.push_back(
            vector::LoadOp::create(b, loc, vf, packedScales, ValueRange{first}));
        if (packedZeros)
          zeroPoint.push_back(arith::ExtUIOp::create(
              b, loc, vi32,
              vector::LoadOp::create(b, loc,
                                     VectorType::get({16}, b.getI8Type()),
                                     packedZeros, ValueRange{first})));
        continue;
      }
      SmallVector<Value> idx{colIdx[c]};
      if (kind != KernelKind::W8A8)
        idx.insert(idx.begin(), gi);
      scale.push_back(vector::LoadOp::create(b, loc, vf, op.getScales(), idx));
      if (zeros) {
        auto zType = cast<MemRefType>(zeros.getType()).getElementType();
        Value z = vector::LoadOp::create(b, loc, VectorType::get({16}, zType),
                                         zeros, ValueRange{gi, colIdx[c]});
        if (zType.getIntOrFloatBitWidth() < 32)
          z = arith::ExtSIOp::create(b, loc, vi32, z);
        else if (zType.getIntOrFloatBitWidth() > 32)
          z = arith::TruncIOp::create(b, loc, vi32, z);
        zeroPoint.push_back(z);
      }
    }
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      Value sum =
          memref::LoadOp::create(b, loc, sums, ValueRange{rowIdx[r], gi});
      Value rowCorr;
      if (!zeros) {
        int64_t offset = kind == KernelKind::W8A8 ? 128 : 8;
        rowCorr = vector::BroadcastOp::create(
            b, loc, vi32,
            arith::MulIOp::create(
                b, loc, sum,
                arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(offset))));
      }
      Value sumV =
          zeros ? Value(vector::BroadcastOp::create(b, loc, vi32, sum)) : Value();
      for (int64_t c = 0; c < blocks; ++c) {
        Value acc = kLoop.getResult(r * blocks + c);
        Value exact = arith::SIToFPOp::create(
              b, loc, vf,
              arith::SubIOp::create(
                  b, loc, acc,
                  zeros ? Value(arith::MulIOp::create(b, loc, zeroPoint[c], sumV))
                        : rowCorr));
        next.push_back(math::FmaOp::create(
            b, loc, exact, scale[c],
            groupLoop.getRegionIterArgs()[r * blocks + c]));
      }
    }
    scf::YieldOp::create(b, loc, next);
  }

  storeRowScaledTile(groupLoop.getResults(), rowIdx, colIdx);
}

/// int4 weights x f32 activations: per group, the decoded codes are scaled
/// (table[q] * s, or table[q] * s - z * s with zero points) into f32
/// weights, so one set of f32 accumulators runs over all of K. With one or
/// two rows (a GEMV: few FMAs per decoded weight, so decoding is the
/// limit) and symmetric codes, the scale multiply leaves the inner loop:
/// the group's products table[q] * x are summed first (two interleaved sets
/// of accumulators for one row, to halve the FMA chains) and that sum is
/// multiplied by the group's scales once per group.
void QMatmulLowering::emitTileF32(Value row0, int64_t rows, Value block0,
                                  int64_t blocks) {
  auto vi32 = VectorType::get({16}, b.getI32Type());
  auto vf = VectorType::get({16}, b.getF32Type());
  auto v64i8 = VectorType::get({64}, b.getI8Type());
  TileIndices tileIdx =
      tileIndices(row0, rows, block0, blocks, 16, numK / kStep * 64);
  ArrayRef<Value> rowIdx = tileIdx.rows, colIdx = tileIdx.columns,
                  colBase = tileIdx.weights;
  Value zeroF =
      arith::ConstantOp::create(b, loc, vf, DenseElementsAttr::get(vf, 0.0f));
  Value zeros = op.getZeroPoints();
  int64_t tileSize = rows * blocks;
  bool scaleAfter = !zeros && rows <= 2;
  // Accumulator sets of the group sums (scaleAfter); nibble i feeds set
  // i % sets.
  int64_t sets = scaleAfter && rows == 1 ? 2 : 1;
  auto groupLoop = scf::ForOp::create(b, loc, index(0), index(groups), index(1),
                                      SmallVector<Value>(tileSize, zeroF));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(groupLoop.getBody());
    Value gi = groupLoop.getInductionVar();
    SmallVector<Value> scale, offset;
    auto loadScales = [&]() {
      for (int64_t c = 0; c < blocks; ++c)
        scale.push_back(vector::LoadOp::create(b, loc, vf, op.getScales(),
                                               ValueRange{gi, colIdx[c]}));
    };
    // After the K loop when they scale the group sums: fewer live registers.
    if (!scaleAfter)
      loadScales();
    for (int64_t c = 0; c < blocks && zeros; ++c) {
      auto zType = cast<MemRefType>(zeros.getType()).getElementType();
      Value z = vector::LoadOp::create(b, loc, VectorType::get({16}, zType),
                                       zeros, ValueRange{gi, colIdx[c]});
      Value zs = arith::MulFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, vf, z), scale[c]);
      offset.push_back(arith::NegFOp::create(b, loc, zs));
    }
    Value kb0 = arith::MulIOp::create(b, loc, gi, index(group / kStep));
    Value kb1 = arith::AddIOp::create(b, loc, kb0, index(group / kStep));
    SmallVector<Value> kInit =
        scaleAfter ? SmallVector<Value>(sets * tileSize, zeroF)
                   : SmallVector<Value>(groupLoop.getRegionIterArgs());
    auto kLoop = scf::ForOp::create(b, loc, kb0, kb1, index(1), kInit);
    {
      OpBuilder::InsertionGuard kg(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value kb = kLoop.getInductionVar();
      Value kbBytes = arith::MulIOp::create(b, loc, kb, index(blocks * 64));
      Value k0 = arith::MulIOp::create(b, loc, kb, index(kStep));
      SmallVector<Value> accs(kLoop.getRegionIterArgs());
      SmallVector<Value> lanes;
      for (int64_t c = 0; c < blocks; ++c) {
        Value off = arith::AddIOp::create(b, loc, colBase[c], kbBytes);
        Value bytes = vector::LoadOp::create(b, loc, v64i8, kernelWeights,
                                             ValueRange{off});
        lanes.push_back(vector::BitCastOp::create(b, loc, vi32, bytes));
      }
      for (int64_t i = 0; i < 8; ++i) {
        int64_t kOff = nibbleK(i);
        SmallVector<Value> w;
        for (int64_t c = 0; c < blocks; ++c) {
          Value code = decodeNibble(b, loc, lanes[c], i, lut);
          if (scaleAfter)
            w.push_back(code);
          else
            w.push_back(zeros ? Value(math::FmaOp::create(b, loc, code, scale[c],
                                                          offset[c]))
                              : Value(arith::MulFOp::create(b, loc, code, scale[c])));
        }
        Value k = arith::AddIOp::create(b, loc, k0, index(kOff));
        int64_t set = (i % sets) * tileSize;
        for (int64_t r = 0; r < rows; ++r) {
          Value xs = memref::LoadOp::create(b, loc, x, ValueRange{rowIdx[r], k});
          Value xv = vector::BroadcastOp::create(b, loc, vf, xs);
          for (int64_t c = 0; c < blocks; ++c) {
            Value &acc = accs[set + r * blocks + c];
            acc = math::FmaOp::create(b, loc, w[c], xv, acc);
          }
        }
      }
      scf::YieldOp::create(b, loc, accs);
    }
    if (!scaleAfter) {
      scf::YieldOp::create(b, loc, kLoop.getResults());
    } else {
      loadScales();
      SmallVector<Value> next;
      for (int64_t t = 0; t < tileSize; ++t) {
        Value sum = kLoop.getResult(t);
        for (int64_t set = 1; set < sets; ++set)
          sum = arith::AddFOp::create(b, loc, sum,
                                      kLoop.getResult(set * tileSize + t));
        next.push_back(math::FmaOp::create(b, loc, sum, scale[t % blocks],
                                           groupLoop.getRegionIterArgs()[t]));
      }
      scf::YieldOp::create(b, loc, next);
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < blocks; ++c) {
      Value result = groupLoop.getResult(r * blocks + c);
      if (op.getBias())
        result = arith::AddFOp::create(
            b, loc, result,
            vector::LoadOp::create(b, loc, vf, op.getBias(), ValueRange{colIdx[c]}));
      vector::StoreOp::create(b, loc, result, out,
                              ValueRange{rowIdx[r], colIdx[c]});
    }
}

/// The panel form of the int4 weight-only kernel (8+ rows): per column tile
/// of `tile.colBlocks` x 16 columns and per span of groups (as many whole
/// groups, dividing the group count, as fit kPanelSpanBytes), the span's
/// weights are decoded and scaled once into an f32 panel [span, columns],
/// and every row tile then runs the f32 outer product over it, adding into
/// the output tile (which starts as the bias or zero) once per span. The
/// decoding is shared by all rows instead of repeated per row tile.
void QMatmulLowering::emitPanelKernelF32(TileOptions tile) {
  int64_t blocks = tile.colBlocks;
  int64_t numBlocks = numN / 16;
  int64_t fullTiles = numBlocks / blocks, tailBlocks = numBlocks % blocks;
  if (fullTiles > 0) {
    OpBuilder::InsertionGuard guard(b);
    Value colTile;
    if (parallelize() && fullTiles > 1) {
      auto loop = scf::ParallelOp::create(b, loc, ValueRange{index(0)},
                                          ValueRange{index(fullTiles)},
                                          ValueRange{index(1)});
      b.setInsertionPoint(loop.getBody()->getTerminator());
      colTile = loop.getInductionVars()[0];
    } else {
      auto loop =
          scf::ForOp::create(b, loc, index(0), index(fullTiles), index(1));
      b.setInsertionPointToStart(loop.getBody());
      colTile = loop.getInductionVar();
    }
    emitPanelColumnTile(arith::MulIOp::create(b, loc, colTile, index(blocks)),
                        blocks, tile.rows);
  }
  if (tailBlocks > 0)
    emitPanelColumnTile(index(fullTiles * blocks), tailBlocks, tile.rows);
}

void QMatmulLowering::emitPanelColumnTile(Value block0, int64_t blocks,
                                          int64_t rows) {
  auto vi32 = VectorType::get({16}, b.getI32Type());
  auto vf = VectorType::get({16}, b.getF32Type());
  auto v64i8 = VectorType::get({64}, b.getI8Type());
  int64_t blockBytes = numK / kStep * 64;
  int64_t width = blocks * 16;
  SmallVector<Value> colIdx, colBase;
  // The tile's weights: K block kb of its block c at tileBase + (kb * blocks
  // + c) * 64 (packKernelWeights).
  Value tileBase = arith::MulIOp::create(b, loc, block0, index(blockBytes));
  for (int64_t c = 0; c < blocks; ++c) {
    Value blk = c == 0 ? block0 : arith::AddIOp::create(b, loc, block0, index(c));
    colIdx.push_back(arith::MulIOp::create(b, loc, blk, index(16)));
    colBase.push_back(arith::AddIOp::create(b, loc, tileBase, index(c * 64)));
  }
  Value zeroF =
      arith::ConstantOp::create(b, loc, vf, DenseElementsAttr::get(vf, 0.0f));
  // The output tile starts as the bias (or zero) for all rows.
  {
    SmallVector<Value> start;
    for (int64_t c = 0; c < blocks; ++c)
      start.push_back(op.getBias() ? Value(vector::LoadOp::create(
                                         b, loc, vf, op.getBias(),
                                         ValueRange{colIdx[c]}))
                                   : zeroF);
    auto rowLoop = scf::ForOp::create(b, loc, index(0), index(numRows), index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rowLoop.getBody());
    for (int64_t c = 0; c < blocks; ++c)
      vector::StoreOp::create(b, loc, start[c], out,
                              ValueRange{rowLoop.getInductionVar(), colIdx[c]});
  }
  int64_t span = 1; // groups per panel: the largest divisor that fits
  for (int64_t s = 1; s <= groups; ++s)
    if (groups % s == 0 && s * group * width * 4 <= kPanelSpanBytes)
      span = s;
  int64_t length = span * group;
  Value panel = memref::AllocOp::create(
      b, loc, MemRefType::get({length, width}, b.getF32Type()),
      b.getI64IntegerAttr(64));
  Value zeros = op.getZeroPoints();
  auto spanLoop =
      scf::ForOp::create(b, loc, index(0), index(groups), index(span));
  OpBuilder::InsertionGuard sg(b);
  b.setInsertionPointToStart(spanLoop.getBody());
  Value g0 = spanLoop.getInductionVar();
  auto groupLoop = scf::ForOp::create(b, loc, index(0), index(span), index(1));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(groupLoop.getBody());
    Value local = groupLoop.getInductionVar();
    Value gi = arith::AddIOp::create(b, loc, g0, local);
    Value panelRow0 = arith::MulIOp::create(b, loc, local, index(group));
    // Decode: panel[k - group start, c * 16 + lane] = weight.
    SmallVector<Value> scale, offset;
    for (int64_t c = 0; c < blocks; ++c) {
      scale.push_back(vector::LoadOp::create(b, loc, vf, op.getScales(),
                                             ValueRange{gi, colIdx[c]}));
      if (!zeros)
        continue;
      auto zType = cast<MemRefType>(zeros.getType()).getElementType();
      Value z = vector::LoadOp::create(b, loc, VectorType::get({16}, zType),
                                       zeros, ValueRange{gi, colIdx[c]});
      Value zs = arith::MulFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, vf, z), scale[c]);
      offset.push_back(arith::NegFOp::create(b, loc, zs));
    }
    Value kb0 = arith::MulIOp::create(b, loc, gi, index(group / kStep));
    {
      auto decode =
          scf::ForOp::create(b, loc, index(0), index(group / kStep), index(1));
      OpBuilder::InsertionGuard dg(b);
      b.setInsertionPointToStart(decode.getBody());
      Value step = decode.getInductionVar();
      Value kbBytes = arith::MulIOp::create(
          b, loc, arith::AddIOp::create(b, loc, kb0, step), index(blocks * 64));
      Value row0 = arith::AddIOp::create(
          b, loc, panelRow0, arith::MulIOp::create(b, loc, step, index(kStep)));
      for (int64_t c = 0; c < blocks; ++c) {
        Value off = arith::AddIOp::create(b, loc, colBase[c], kbBytes);
        Value lanes = vector::BitCastOp::create(
            b, loc, vi32,
            vector::LoadOp::create(b, loc, v64i8, kernelWeights,
                                   ValueRange{off}));
        Value col = index(c * 16);
        for (int64_t i = 0; i < 8; ++i) {
          int64_t kOff = nibbleK(i);
          Value code = decodeNibble(b, loc, lanes, i, lut);
          Value w = zeros ? Value(math::FmaOp::create(b, loc, code, scale[c],
                                                      offset[c]))
                          : Value(arith::MulFOp::create(b, loc, code, scale[c]));
          vector::StoreOp::create(
              b, loc, w, panel,
              ValueRange{arith::AddIOp::create(b, loc, row0, index(kOff)), col});
        }
      }
    }
  }
  Value k0 = arith::MulIOp::create(b, loc, g0, index(group));
  int64_t fullRows = numRows / rows * rows;
  if (fullRows > 0) {
    auto rowLoop =
        scf::ForOp::create(b, loc, index(0), index(fullRows), index(rows));
    OpBuilder::InsertionGuard rg(b);
    b.setInsertionPointToStart(rowLoop.getBody());
    emitPanelTile(panel, k0, length, rowLoop.getInductionVar(), rows, colIdx);
  }
  if (fullRows < numRows)
    emitPanelTile(panel, k0, length, index(fullRows), numRows - fullRows,
                  colIdx);
  b.setInsertionPointAfter(spanLoop);
  memref::DeallocOp::create(b, loc, panel);
}

/// out[row0 + r, colIdx[c] + lane] += sum_j x[row0 + r, k0 + j] *
/// panel[j, c * 16 + lane] over the panel's `length` rows.
void QMatmulLowering::emitPanelTile(Value panel, Value k0, int64_t length,
                                    Value row0, int64_t rows,
                                    ArrayRef<Value> colIdx) {
  auto vf = VectorType::get({16}, b.getF32Type());
  int64_t blocks = colIdx.size();
  SmallVector<Value> rowIdx, init;
  for (int64_t r = 0; r < rows; ++r)
    rowIdx.push_back(r == 0 ? row0 : arith::AddIOp::create(b, loc, row0, index(r)));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < blocks; ++c)
      init.push_back(vector::LoadOp::create(b, loc, vf, out,
                                            ValueRange{rowIdx[r], colIdx[c]}));
  auto kLoop =
      scf::ForOp::create(b, loc, index(0), index(length), index(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value j = kLoop.getInductionVar();
    Value k = arith::AddIOp::create(b, loc, k0, j);
    SmallVector<Value> w;
    for (int64_t c = 0; c < blocks; ++c)
      w.push_back(vector::LoadOp::create(b, loc, vf, panel,
                                         ValueRange{j, index(c * 16)}));
    SmallVector<Value> accs(kLoop.getRegionIterArgs());
    for (int64_t r = 0; r < rows; ++r) {
      Value xv = vector::BroadcastOp::create(
          b, loc, vf, memref::LoadOp::create(b, loc, x, ValueRange{rowIdx[r], k}));
      for (int64_t c = 0; c < blocks; ++c)
        accs[r * blocks + c] =
            math::FmaOp::create(b, loc, w[c], xv, accs[r * blocks + c]);
    }
    scf::YieldOp::create(b, loc, accs);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < blocks; ++c)
      vector::StoreOp::create(b, loc, kLoop.getResult(r * blocks + c), out,
                              ValueRange{rowIdx[r], colIdx[c]});
}
