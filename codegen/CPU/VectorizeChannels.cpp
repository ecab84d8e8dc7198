//===- VectorizeChannels.cpp - window ops vectorised over channels ---------===//
//
// NHWC depthwise convolutions and pooling (qcc-conv-to-matmul's generics over
// (n, oh, ow, kh, kw, c)) keep the channel loop innermost so that it could
// vectorise, but LLVM fully unrolls a 32-channel loop before its loop
// vectoriser runs and the SLP vectoriser leaves the unrolled scalar chains
// alone. This pass writes the vectors itself: a linalg.generic on f32
// memrefs whose innermost loop is parallel, indexes the last dimension of
// every operand it reads contiguously (or not at all: a broadcast) and
// spans a multiple of the vector width, with reductions among its other
// loops, becomes
//
//   scf.parallel (the other parallel loops)
//     scf.for (the reduction loops, in their order)
//       scf.for c = 0 .. C step W
//         vector.load every operand, the body on vector<W x f32>,
//         vector.store the result
//
// so the output vector is read and written once per reduction step (in L1)
// and each channel's sum keeps its order.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUVECTORIZECHANNELS
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

/// Body operations that have an element-wise vector form.
static bool vectorizable(Operation &op) {
  return isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
             arith::MaximumFOp, arith::MinimumFOp, arith::NegFOp>(op) &&
         llvm::all_of(op.getResultTypes(),
                      [](Type t) { return t.isF32(); });
}

/// Whether `op` has the form described at the top, for `width` lanes.
static bool matches(linalg::GenericOp op, int64_t width) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0)
    return false;
  unsigned loops = op.getNumLoops();
  auto iterators = op.getIteratorTypesArray();
  if (iterators.back() != utils::IteratorType::parallel)
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic) ||
      ranges.back() % width != 0)
    return false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isF32())
      return false;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool isInit = op.isDpsInit(&operand);
    bool used = isInit || op.payloadUsesValueFromOperand(&operand);
    if (!used)
      continue;
    // The channel loop: exactly the last index, or absent (broadcast).
    bool last = map.getNumResults() > 0 &&
                map.getResults().back() == getAffineDimExpr(loops - 1,
                                                            op.getContext());
    for (unsigned r = 0; r + (last ? 1 : 0) < map.getNumResults(); ++r)
      if (map.getResult(r).isFunctionOfDim(loops - 1))
        return false;
    if (isInit && !last)
      return false;
  }
  Block &body = op->getRegion(0).front();
  for (Operation &bodyOp : body.without_terminator())
    if (!vectorizable(bodyOp))
      return false;
  return true;
}

static void rewrite(linalg::GenericOp op, int64_t width) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  unsigned loops = op.getNumLoops();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> parallelDims, reductionDims;
  for (unsigned d = 0; d + 1 < loops; ++d)
    (iterators[d] == utils::IteratorType::parallel ? parallelDims
                                                   : reductionDims)
        .push_back(d);
  auto cst = [&](OpBuilder &nb, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(nb, loc, v);
  };
  Value zero = cst(b, 0), one = cst(b, 1);
  auto vecType = VectorType::get({width}, b.getF32Type());
  SmallVector<Value> ivs(loops);

  // The innermost channel loop with the vector body.
  auto emitChannels = [&](OpBuilder &nb) {
    auto cLoop = scf::ForOp::create(nb, loc, zero, cst(nb, ranges.back()),
                                    cst(nb, width));
    OpBuilder ib = OpBuilder::atBlockBegin(cLoop.getBody());
    ivs[loops - 1] = cLoop.getInductionVar();
    auto indices = [&](OpOperand *operand) {
      SmallVector<Value> idx;
      AffineMap map = op.getMatchingIndexingMap(operand);
      for (AffineExpr e : map.getResults())
        idx.push_back(affine::AffineApplyOp::create(
            ib, loc, AffineMap::get(loops, 0, e, op.getContext()), ivs));
      return idx;
    };
    IRMapping mapping;
    Block &body = op->getRegion(0).front();
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (!op.isDpsInit(&operand) && !op.payloadUsesValueFromOperand(&operand))
        continue;
      AffineMap map = op.getMatchingIndexingMap(&operand);
      bool last = map.getNumResults() > 0 &&
                  map.getResults().back() ==
                      getAffineDimExpr(loops - 1, op.getContext());
      SmallVector<Value> idx = indices(&operand);
      Value v;
      if (last) {
        v = vector::LoadOp::create(ib, loc, vecType, operand.get(), idx);
      } else {
        Value s = memref::LoadOp::create(ib, loc, operand.get(), idx);
        v = vector::BroadcastOp::create(ib, loc, vecType, s);
      }
      mapping.map(arg, v);
    }
    for (Operation &bodyOp : body.without_terminator()) {
      SmallVector<Value> operands;
      for (Value o : bodyOp.getOperands()) {
        if (Value m = mapping.lookupOrNull(o))
          operands.push_back(m);
        else // Defined outside the body: a scalar, splatted.
          operands.push_back(vector::BroadcastOp::create(ib, loc, vecType, o));
      }
      OperationState state(loc, bodyOp.getName().getStringRef(), operands,
                           TypeRange{vecType}, bodyOp.getAttrs());
      Operation *vecOp = ib.create(state);
      mapping.map(bodyOp.getResult(0), vecOp->getResult(0));
    }
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    Value result = mapping.lookupOrDefault(yield.getValues()[0]);
    if (result.getType() != vecType)
      result = vector::BroadcastOp::create(ib, loc, vecType, result);
    OpOperand *init = op.getDpsInitOperand(0);
    vector::StoreOp::create(ib, loc, result, init->get(), indices(init));
  };

  // Reductions in order around the channel loop.
  std::function<void(OpBuilder &, size_t)> emitReductions =
      [&](OpBuilder &nb, size_t i) {
        if (i == reductionDims.size()) {
          emitChannels(nb);
          return;
        }
        auto loop = scf::ForOp::create(
            nb, loc, zero, cst(nb, ranges[reductionDims[i]]), one);
        ivs[reductionDims[i]] = loop.getInductionVar();
        OpBuilder ib = OpBuilder::atBlockBegin(loop.getBody());
        emitReductions(ib, i + 1);
      };

  if (parallelDims.empty()) {
    emitReductions(b, 0);
  } else {
    SmallVector<Value> lbs(parallelDims.size(), zero),
        steps(parallelDims.size(), one), ubs;
    for (unsigned d : parallelDims)
      ubs.push_back(cst(b, ranges[d]));
    scf::ParallelOp::create(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location, ValueRange pivs) {
          for (auto [d, iv] : llvm::zip(parallelDims, pivs))
            ivs[d] = iv;
          emitReductions(nb, 0);
        });
  }
  op.erase();
}

struct CpuVectorizeChannelsPass
    : public qcc::cpu::impl::CpuVectorizeChannelsBase<
          CpuVectorizeChannelsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      if (matches(op, vectorWidth))
        ops.push_back(op);
    });
    for (linalg::GenericOp op : ops)
      rewrite(op, vectorWidth);
  }
};

} // namespace
