//===- ConcatSlices.cpp - a concat of slices of one tensor as one loop ----===//
//
// concat(f0(x[s0]), f1(x[s1]), ...) along dimension d, where each piece is a
// static unit-stride slice of the same x (fi elementwise, or none), becomes
//
//   out[i] = f_p(x[i with i_d -> i_d - o_p + q_p]) for the piece p holding i_d
//
// with o_p the piece's offset in the concat and q_p its slice's offset in x.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qcc {
#define GEN_PASS_DEF_CONCATSLICES
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

constexpr int64_t kMaxPieces = 4;
constexpr int64_t kMaxPieceOps = 8;

/// One piece of a concat: elements [offset, offset + size) along the concat
/// dimension come from `source` (x, sliced at `sourceOffsets`), through
/// `fn`'s body when set.
struct Piece {
  int64_t offset = 0, size = 0;
  Value source;
  SmallVector<int64_t> sourceOffsets;
  linalg::GenericOp fn;
};

/// A static unit-stride slice of the rank of its source, of shape `shape`.
tensor::ExtractSliceOp fullRankSlice(Value v, ArrayRef<int64_t> shape) {
  auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSourceType().getRank() != int64_t(shape.size()) ||
      slice.getResultType().getShape() != shape ||
      ShapedType::isDynamicShape(slice.getStaticOffsets()) ||
      !llvm::all_of(slice.getStaticStrides(),
                    [](int64_t s) { return s == 1; }))
    return {};
  return slice;
}

/// An all-parallel elementwise generic of one input with identity maps, a
/// few pure body ops that use neither indices nor the output's value, whose
/// only use is `user`.
bool isCheapElementwise(linalg::GenericOp op, Operation *user) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || !op->getResult(0).hasOneUse() ||
      *op->getResult(0).getUsers().begin() != user ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return false;
  Block &body = op.getRegion().front();
  if (!body.getArgument(1).use_empty())
    return false;
  int64_t ops = 0;
  for (Operation &inner : body.without_terminator()) {
    if (isa<linalg::IndexOp>(inner) || !isPure(&inner) ||
        inner.getNumRegions() != 0)
      return false;
    ++ops;
  }
  return ops <= kMaxPieceOps;
}

/// Fills in `piece.source` and friends from the value the concat places
/// there; false when it is not a slice (or a cheap elementwise op of one).
bool analysePiece(Value value, Operation *user, Piece &piece) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  tensor::ExtractSliceOp slice = fullRankSlice(value, shape);
  if (!slice) {
    auto fn = value.getDefiningOp<linalg::GenericOp>();
    if (!fn || !isCheapElementwise(fn, user))
      return false;
    slice = fullRankSlice(fn.getDpsInputs()[0], shape);
    if (!slice)
      return false;
    piece.fn = fn;
  }
  piece.source = slice.getSource();
  piece.sourceOffsets = llvm::to_vector(slice.getStaticOffsets());
  return true;
}

/// Checks that `pieces` (any order) tile `type` along one dimension, come
/// from one tensor at the same offsets in the other dimensions; sorts them
/// by offset and returns the dimension.
std::optional<int64_t> tiling(RankedTensorType type,
                              SmallVectorImpl<Piece> &pieces,
                              ArrayRef<SmallVector<int64_t>> offsets,
                              ArrayRef<SmallVector<int64_t>> sizes) {
  int64_t rank = type.getRank();
  if (pieces.size() < 2 || int64_t(pieces.size()) > kMaxPieces)
    return std::nullopt;
  std::optional<int64_t> dim;
  for (size_t p = 0; p < pieces.size(); ++p)
    for (int64_t k = 0; k < rank; ++k)
      if (sizes[p][k] != type.getDimSize(k)) {
        if (dim && *dim != k)
          return std::nullopt;
        dim = k;
      }
  if (!dim)
    return std::nullopt;
  for (size_t p = 0; p < pieces.size(); ++p) {
    for (int64_t k = 0; k < rank; ++k)
      if (k != *dim && offsets[p][k] != 0)
        return std::nullopt;
    pieces[p].offset = offsets[p][*dim];
    pieces[p].size = sizes[p][*dim];
  }
  llvm::sort(pieces, [](const Piece &a, const Piece &b) {
    return a.offset < b.offset;
  });
  int64_t next = 0;
  for (const Piece &piece : pieces) {
    if (piece.offset != next || piece.source != pieces[0].source)
      return std::nullopt;
    for (int64_t k = 0; k < rank; ++k)
      if (k != *dim &&
          piece.sourceOffsets[k] != pieces[0].sourceOffsets[k])
        return std::nullopt;
    next += piece.size;
  }
  if (next != type.getDimSize(*dim))
    return std::nullopt;
  return dim;
}

/// The concat as one all-parallel generic reading its source by index.
Value buildGather(PatternRewriter &rewriter, Location loc,
                  RankedTensorType type, int64_t dim,
                  ArrayRef<Piece> pieces) {
  int64_t rank = type.getRank();
  Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                       type.getElementType());
  SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  Value source = pieces[0].source;
  auto body = [&](OpBuilder &b, Location l, ValueRange) {
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    SmallVector<Value> at;
    for (int64_t k = 0; k < rank; ++k) {
      Value i = linalg::IndexOp::create(b, l, k);
      int64_t shift = pieces[0].sourceOffsets[k];
      at.push_back(shift ? arith::AddIOp::create(b, l, i, cst(shift))
                         : i);
    }
    // Piece p holds i_d < offset of p + 1 (the last one the rest).
    Value i = linalg::IndexOp::create(b, l, dim);
    SmallVector<Value> inPiece;
    for (size_t p = 0; p + 1 < pieces.size(); ++p)
      inPiece.push_back(arith::CmpIOp::create(
          b, l, arith::CmpIPredicate::ult, i, cst(pieces[p + 1].offset)));
    auto select = [&](ArrayRef<Value> perPiece) {
      Value v = perPiece.back();
      for (int64_t p = int64_t(pieces.size()) - 2; p >= 0; --p)
        v = arith::SelectOp::create(b, l, inPiece[p], perPiece[p], v);
      return v;
    };
    SmallVector<Value> sourceIndex;
    for (const Piece &piece : pieces)
      sourceIndex.push_back(arith::AddIOp::create(
          b, l, i, cst(piece.sourceOffsets[dim] - piece.offset)));
    at[dim] = select(sourceIndex);
    Value x = tensor::ExtractOp::create(b, l, source, at);
    SmallVector<Value> values;
    for (const Piece &piece : pieces) {
      if (!piece.fn) {
        values.push_back(x);
        continue;
      }
      linalg::GenericOp fn = piece.fn;
      Block &fnBody = fn.getRegion().front();
      IRMapping map;
      map.map(fnBody.getArgument(0), x);
      for (Operation &inner : fnBody.without_terminator())
        b.clone(inner, map);
      values.push_back(
          map.lookupOrDefault(fnBody.getTerminator()->getOperand(0)));
    }
    linalg::YieldOp::create(b, l, select(values));
  };
  auto gather = linalg::GenericOp::create(rewriter, loc, TypeRange{type},
                                          ValueRange{}, ValueRange{init}, maps,
                                          iterators, body);
  return gather->getResult(0);
}

/// insert_slices that fill a tensor.empty piece by piece (matched at the
/// last one).
struct InsertSliceConcat : public OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::InsertSliceOp last,
                                PatternRewriter &rewriter) const override {
    for (Operation *user : last->getUsers())
      if (auto next = dyn_cast<tensor::InsertSliceOp>(user))
        if (next.getDest() == last.getResult())
          return failure(); // not the last of its chain
    RankedTensorType type = last.getResultType();
    if (!type.hasStaticShape())
      return failure();
    SmallVector<Piece> pieces;
    SmallVector<SmallVector<int64_t>> offsets, sizes;
    Value dest = last.getResult();
    while (auto insert = dest.getDefiningOp<tensor::InsertSliceOp>()) {
      if (insert != last && !insert->getResult(0).hasOneUse())
        return failure();
      if (ShapedType::isDynamicShape(insert.getStaticOffsets()) ||
          ShapedType::isDynamicShape(insert.getStaticSizes()) ||
          !llvm::all_of(insert.getStaticStrides(),
                        [](int64_t s) { return s == 1; }) ||
          insert.getSourceType().getRank() != type.getRank())
        return failure();
      Piece piece;
      if (!analysePiece(insert.getSource(), insert, piece))
        return failure();
      pieces.push_back(piece);
      offsets.push_back(llvm::to_vector(insert.getStaticOffsets()));
      sizes.push_back(llvm::to_vector(insert.getStaticSizes()));
      dest = insert.getDest();
      if (int64_t(pieces.size()) > kMaxPieces)
        return failure();
    }
    if (!dest.getDefiningOp<tensor::EmptyOp>())
      return failure();
    std::optional<int64_t> dim = tiling(type, pieces, offsets, sizes);
    if (!dim)
      return failure();
    rewriter.replaceOp(
        last, buildGather(rewriter, last.getLoc(), type, *dim, pieces));
    return success();
  }
};

struct ConcatOfSlices : public OpRewritePattern<tensor::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getResultType());
    if (!type.hasStaticShape())
      return failure();
    int64_t dim = op.getDim();
    SmallVector<Piece> pieces;
    SmallVector<SmallVector<int64_t>> offsets, sizes;
    int64_t at = 0;
    for (Value input : op.getInputs()) {
      Piece piece;
      if (!analysePiece(input, op, piece))
        return failure();
      auto shape = cast<RankedTensorType>(input.getType()).getShape();
      SmallVector<int64_t> offset(type.getRank(), 0);
      offset[dim] = at;
      at += shape[dim];
      pieces.push_back(piece);
      offsets.push_back(offset);
      sizes.push_back(llvm::to_vector(shape));
    }
    std::optional<int64_t> tiled = tiling(type, pieces, offsets, sizes);
    if (!tiled || *tiled != dim)
      return failure();
    rewriter.replaceOp(op, buildGather(rewriter, op.getLoc(), type, dim,
                                       pieces));
    return success();
  }
};

struct ConcatSlicesPass
    : public qcc::impl::ConcatSlicesBase<ConcatSlicesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<InsertSliceConcat, ConcatOfSlices>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
