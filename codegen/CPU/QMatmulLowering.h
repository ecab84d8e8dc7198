//===- QMatmulLowering.h - q.matmul on memrefs to CPU code ------*- C++ -*-===//
//
// Private to codegen/CPU: the lowering of one bufferized `q.matmul`, shared
// by QMatmulLowering.cpp (driver, activation quantization, portable path),
// QMatmulKernels.cpp (the register-tiled AVX-512 kernels) and
// QMatmulKernelsAvx2.cpp (their AVX2 forms for targets without VNNI).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CODEGEN_CPU_QMATMULLOWERING_H
#define QCC_CODEGEN_CPU_QMATMULLOWERING_H

#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>
#include <vector>

namespace qcc::cpu::detail {

/// The fast kernels (AVX-512, the int8-activation ones VNNI; without VNNI
/// they have AVX2 forms).
enum class KernelKind {
  /// int8 per-channel weights x int8 activations (vpdpbusd, 4 K per block).
  W8A8,
  /// int4 grouped weights (symmetric or with zero points) x int8
  /// activations (vpdpbusd on nibbles, 8 K per block).
  W4A8,
  /// int4 grouped weights x f32 activations (nibbles decoded to f32 in
  /// registers with a 16-entry vpermps table and scaled, FMA).
  W4F32,
};

/// Row x column-block register tile of a kernel; 0 = chosen by shape.
struct TileOptions {
  int64_t rows = 0;
  int64_t colBlocks = 0;
};

/// Signed code of element (k, n) of a weight, decoded from its bytes.
int64_t decodeCode(llvm::ArrayRef<int8_t> bytes, q::WeightType type, int64_t k,
                   int64_t n);

class QMatmulLowering {
public:
  QMatmulLowering(q::MatmulOp op, bool hasVnni, bool hasAvx2,
                  int64_t parallelMinFmas, TileOptions tile,
                  mlir::SymbolTable &symbols)
      : op(op), b(op), loc(op.getLoc()), hasVnni(hasVnni), hasAvx2(hasAvx2),
        parallelMinFmas(parallelMinFmas), tileOptions(tile), symbols(symbols),
        type(op.getWeight().getType()) {}

  mlir::LogicalResult run();

private:
  // ---- QMatmulLowering.cpp
  bool actQuantized() { return op.getActQuant() != q::ActQuant::None; }
  std::optional<KernelKind> selectKernel();
  mlir::Value index(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  mlir::Value f32(float v);
  mlir::Value contiguous(mlir::Value value, bool copyIn = true);
  mlir::Value collapseTo2D(mlir::Value memref);
  mlir::Value getGlobal(llvm::StringRef prefix, mlir::ElementsAttr values);
  mlir::ElementsAttr byteBlob(llvm::StringRef name,
                              llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<int8_t> data);
  bool parallelize() {
    return parallelMinFmas >= 0 && numRows * numK * numN >= parallelMinFmas;
  }
  /// Quantizes every row of x to int8 codes in `qx` [R, K] (as u8 codes +
  /// 128 when `shifted`), its scale in `rowScale` [R] and, when `sums` is
  /// given, the i32 sum of the (unshifted) codes of each group of `group`
  /// K values in `sums` [R, K / group].
  void emitActivationQuantization(mlir::Value qx, mlir::Value rowScale,
                                  mlir::Value sums, int64_t group);
  void emitPortable();
  void addBias(mlir::Value bias);

  // ---- QMatmulOutliers.cpp (outlier_channels / outliers weight)
  /// Reads the kept channels; with int8 activations builds the 0/1 mask
  /// the activation quantization multiplies by, else replaces `x` by a
  /// copy with the kept channels zeroed (freed by emitOutlierEpilogue).
  mlir::LogicalResult prepareOutliers();
  /// out[r, :] += sum_i xOrig[r, channels[i]] * outlierWeight[i, :].
  void emitOutlierEpilogue();
  void emitOutlierRows(mlir::Value weight);
  /// `v` times the mask at K offset `k` (a vector of `v`'s width or a
  /// scalar), or `v` when there are no kept channels.
  mlir::Value applyOutlierMask(mlir::Value v, mlir::Value k);

  /// The payload of `v` when it is an entry argument that
  /// qcc-externalize-weights made of a constant (its `qcc.weights` record),
  /// else null.
  mlir::ElementsAttr weightFileConstant(mlir::Value v);
  /// W4A8 with constant scales (and zero points within 0..255): copies them
  /// into `packedScales` (f32) and `packedZeros` (u8, when the op has zero
  /// points), both [column tile][groups][its blocks][16] for column tiles
  /// of `tileBlocks` blocks (the last one narrower), so a tile reads its
  /// group constants as one sequential run (a GEMV streams them next to its
  /// weights) and zero points take a byte instead of 4-8. Leaves both null
  /// when the constants are not known at compile time.
  void packGroupConstants(int64_t tileBlocks);

  // ---- QMatmulKernels.cpp
  void emitKernel(KernelKind kind);
  /// The weight codes in the kernels' order: 64-byte K blocks of 16
  /// columns, grouped in column tiles of `tileBlocks` blocks (the last one
  /// narrower) that each hold their blocks' K blocks interleaved, K block
  /// major, so a tile's weights are one sequential run.
  std::vector<int8_t> packKernelWeights(KernelKind kind, int64_t tileBlocks);
  TileOptions chooseTile(KernelKind kind);
  void emitTile(KernelKind kind, mlir::Value row0, int64_t rows,
                mlir::Value block0, int64_t blocks);
  void emitTileF32(mlir::Value row0, int64_t rows, mlir::Value block0,
                   int64_t blocks);
  /// int4 weight-only with 8+ rows: weights decoded once per (column tile,
  /// span of groups) into an f32 panel that the row tiles share.
  void emitPanelKernelF32(TileOptions tile);
  void emitPanelColumnTile(mlir::Value block0, int64_t blocks, int64_t rows);
  void emitPanelTile(mlir::Value panel, mlir::Value k0, int64_t length,
                     mlir::Value row0, int64_t rows,
                     llvm::ArrayRef<mlir::Value> colIdx);
  void emitRowTiles(KernelKind kind, mlir::Value rowTile, int64_t rows,
                    mlir::Value block0, int64_t blocks);
  /// The indices of a tile of `rows` rows from `row0` and `blocks` column
  /// blocks of `lanes` columns from `block0`: each row, each block's first
  /// column, and the byte offset of each block's first K block in the packed
  /// weights (a column tile's K blocks interleaved, K block major, `lanes *
  /// 4` bytes each; `blockBytes` = one column block's bytes over all K).
  /// The int8-activation tiles' epilogue: each accumulator (row r, block c
  /// at results[r * columns.size() + c]) times its row's activation scale,
  /// plus the bias, stored to the output.
  void storeRowScaledTile(mlir::ValueRange results,
                          llvm::ArrayRef<mlir::Value> rows,
                          llvm::ArrayRef<mlir::Value> columns);
  struct TileIndices {
    llvm::SmallVector<mlir::Value> rows, columns, weights;
  };
  TileIndices tileIndices(mlir::Value row0, int64_t rows, mlir::Value block0,
                          int64_t blocks, int64_t lanes, int64_t blockBytes);
  mlir::Value dot(mlir::Value acc, mlir::Value u8, mlir::Value s8);
  mlir::Value broadcastCodes(mlir::Value codes, mlir::Value r, mlir::Value k);

  // ---- QMatmulKernelsAvx2.cpp (no VNNI: 8-column ymm blocks, vpmaddwd)
  /// The weight codes for the AVX2 kernels: 32-byte K blocks of 8 columns,
  /// column tiles as in packKernelWeights; K padded with zero codes to
  /// `paddedK`.
  std::vector<int8_t> packKernelWeightsAvx2(KernelKind kind,
                                            int64_t tileBlocks);
  TileOptions chooseTileAvx2(KernelKind kind);
  void emitTileAvx2(KernelKind kind, mlir::Value row0, int64_t rows,
                    mlir::Value block0, int64_t blocks);
  void emitTileF32Avx2(mlir::Value row0, int64_t rows, mlir::Value block0,
                       int64_t blocks);

  q::MatmulOp op;
  mlir::OpBuilder b;
  mlir::Location loc;
  bool hasVnni;
  bool hasAvx2;
  int64_t parallelMinFmas;
  TileOptions tileOptions;
  mlir::SymbolTable &symbols;
  q::WeightType type;
  std::vector<int8_t> weightBytes;
  int64_t numK = 0, numN = 0, numRows = 0;
  mlir::Value x, out;

  // Outlier channels (empty: none).
  std::vector<int64_t> outlierChannels;
  mlir::Value xOrig, outlierMask, maskedCopy;

  // Kernel state (emitKernel).
  int64_t group = 0, groups = 0, kStep = 0;
  /// Columns per block: 16 (zmm, VNNI) or 8 (ymm, AVX2).
  int64_t blockCols = 16;
  /// K of the packed weights and activation codes (AVX2 W8A8 pads K to a
  /// multiple of 4 with zero codes).
  int64_t paddedK = 0;
  mlir::Value kernelWeights, qx, rowScale, sums, lut;
  mlir::Value packedScales, packedZeros;
};

} // namespace qcc::cpu::detail

#endif // QCC_CODEGEN_CPU_QMATMULLOWERING_H
