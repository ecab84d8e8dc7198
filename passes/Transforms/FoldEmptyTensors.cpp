//===- FoldEmptyTensors.cpp - fold away tensors without elements ----------===//
//
// A tensor with a zero-size dimension has no values, so whatever computes it
// can be replaced by `tensor.empty`, and a loop nest with a zero-trip loop
// leaves its destination as it was. Folding both before bufferization keeps
// zero-size buffers out of the code generators, whose calling conventions
// cannot pass some of them (a bare pointer to `memref<2x0xf32>`).
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qcc {
#define GEN_PASS_DEF_FOLDEMPTYTENSORS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

/// A statically shaped tensor type with no elements.
static bool isEmptyTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() && tensor.getNumElements() == 0;
}

static Value createEmpty(PatternRewriter &rewriter, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor::EmptyOp::create(rewriter, loc, tensor.getShape(),
                                 tensor.getElementType(), tensor.getEncoding());
}

/// A side-effect free op whose results all have no elements: nothing it
/// computes can be read.
struct EmptyResults : public RewritePattern {
  EmptyResults(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() == 0 || isa<tensor::EmptyOp>(op) ||
        !isMemoryEffectFree(op) ||
        !llvm::all_of(op->getResultTypes(), isEmptyTensor))
      return failure();
    SmallVector<Value> empties;
    for (Type type : op->getResultTypes())
      empties.push_back(createEmpty(rewriter, op->getLoc(), type));
    rewriter.replaceOp(op, empties);
    return success();
  }
};

/// A linalg op on tensors with a loop of zero trips never runs its body: its
/// results are its destinations (a matmul with K = 0 is its initial fill, a
/// reduction over an empty axis its initial value).
struct ZeroTripLinalg : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (!llvm::is_contained(ranges, 0))
      return failure();
    rewriter.replaceOp(op, op.getDpsInits());
    return success();
  }
};

/// Concatenating an empty tensor adds nothing.
struct ConcatDropEmpty : public OpRewritePattern<tensor::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> kept;
    for (Value input : op.getInputs())
      if (!isEmptyTensor(input.getType()))
        kept.push_back(input);
    if (kept.size() == op.getInputs().size() || kept.empty())
      return failure();
    if (kept.size() == 1 && kept.front().getType() == op.getType()) {
      rewriter.replaceOp(op, kept.front());
      return success();
    }
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, op.getType(),
                                                  op.getDim(), kept);
    return success();
  }
};

/// Inserting an empty slice leaves the destination as it was.
struct InsertEmptySlice : public OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::InsertSliceOp op,
                                PatternRewriter &rewriter) const override {
    if (!isEmptyTensor(op.getSourceType()) ||
        op.getDestType() != op.getResultType())
      return failure();
    rewriter.replaceOp(op, op.getDest());
    return success();
  }
};

/// Padding an empty tensor with a constant is a fill.
struct PadEmptySource : public OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp op,
                                PatternRewriter &rewriter) const override {
    Value padding = op.getConstantPaddingValue();
    if (!padding || !isEmptyTensor(op.getSourceType()) ||
        !op.getResultType().hasStaticShape() ||
        isEmptyTensor(op.getResultType()))
      return failure();
    Value init = createEmpty(rewriter, op.getLoc(), op.getResultType());
    rewriter.replaceOpWithNewOp<linalg::FillOp>(op, padding, init);
    return success();
  }
};

struct FoldEmptyTensorsPass
    : public qcc::impl::FoldEmptyTensorsBase<FoldEmptyTensorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    MLIRContext *ctx = &getContext();
    Block &entry = func.getBody().front();

    // Arguments without elements hold nothing to read.
    OpBuilder builder = OpBuilder::atBlockBegin(&entry);
    for (BlockArgument arg : entry.getArguments())
      if (isEmptyTensor(arg.getType()) && !arg.use_empty()) {
        auto type = cast<RankedTensorType>(arg.getType());
        Value empty = tensor::EmptyOp::create(builder, func.getLoc(),
                                              type.getShape(),
                                              type.getElementType(),
                                              type.getEncoding());
        arg.replaceAllUsesWith(empty);
      }

    RewritePatternSet patterns(ctx);
    patterns.add<EmptyResults, ZeroTripLinalg, ConcatDropEmpty,
                 InsertEmptySlice, PadEmptySource>(ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns)))) {
      func.emitError("folding zero-size tensors did not converge");
      return signalPassFailure();
    }

    // What still reads a tensor without elements would reach the code
    // generators with it.
    WalkResult walk = func.walk([&](Operation *op) {
      if (isa<func::ReturnOp>(op))
        return WalkResult::advance();
      for (Value operand : op->getOperands())
        if (isEmptyTensor(operand.getType())) {
          op->emitOpError("reads a zero-size tensor (")
              << operand.getType()
              << ") that qcc cannot fold away; zero-size tensors are "
                 "supported only where the result does not depend on them";
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    // A public entry's zero-size inputs and outputs become rank-1 empty
    // tensors: nothing is read or written through them, and every calling
    // convention can pass those (bare pointers cannot describe
    // `memref<2x0xf32>`). Private functions keep their types for their
    // callers.
    if (!func.isPublic())
      return;
    auto flat = [](Type type) -> Type {
      auto tensor = cast<RankedTensorType>(type);
      return RankedTensorType::get({0}, tensor.getElementType(),
                                   tensor.getEncoding());
    };
    bool changed = false;
    for (BlockArgument arg : entry.getArguments())
      if (isEmptyTensor(arg.getType()) &&
          cast<RankedTensorType>(arg.getType()).getRank() != 1) {
        arg.setType(flat(arg.getType()));
        changed = true;
      }
    func.walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Type type = operand.get().getType();
        if (!isEmptyTensor(type) ||
            cast<RankedTensorType>(type).getRank() == 1)
          continue;
        auto tensor = cast<RankedTensorType>(flat(type));
        operand.set(tensor::EmptyOp::create(b, ret.getLoc(), tensor.getShape(),
                                            tensor.getElementType(),
                                            tensor.getEncoding()));
        changed = true;
      }
    });
    if (!changed)
      return;
    SmallVector<Type> results;
    for (Type type : func.getResultTypes())
      results.push_back(isEmptyTensor(type) ? flat(type) : type);
    func.setType(FunctionType::get(ctx, entry.getArgumentTypes(), results));
  }
};

} // namespace
