//===- InsertObservers.cpp - expose calibration points as results ---------===//
//
// Calibration compiles a copy of the float model in which the activations of
// every matmul to be quantized are extra results of the entry function; the
// driver (lib/Calibration) streams them into lib/Quant observers.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "llvm/ADT/MapVector.h"

namespace qcc {
#define GEN_PASS_DEF_INSERTOBSERVERS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

struct InsertObserversPass
    : public qcc::impl::InsertObserversBase<InsertObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      module.emitError("qcc-insert-observers: no entry function '")
          << entry << "'";
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitOpError("qcc-insert-observers needs a single-block entry");
      return signalPassFailure();
    }

    // Observed value -> ids of the matmuls that read it, in program order.
    llvm::MapVector<Value, SmallVector<int64_t>> points;
    WalkResult walk = func.walk([&](linalg::MatmulOp op) {
      auto id = op->getAttrOfType<IntegerAttr>("qcc.calib_id");
      if (!id)
        return WalkResult::advance();
      Value input = op.getInputs()[0];
      auto type = dyn_cast<RankedTensorType>(input.getType());
      if (!type || !type.hasStaticShape() || !type.getElementType().isF32()) {
        op.emitOpError("calibration point needs a static f32 tensor input, "
                       "got ")
            << input.getType();
        return WalkResult::interrupt();
      }
      if (id.getInt() < 0) {
        op.emitOpError("qcc.calib_id must be non-negative");
        return WalkResult::interrupt();
      }
      points[input].push_back(id.getInt());
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    if (points.empty())
      return;

    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    SmallVector<Value> operands(ret.getOperands());
    SmallVector<Type> resultTypes(func.getFunctionType().getResults());
    unsigned firstNew = resultTypes.size();
    for (auto &entry : points) {
      operands.push_back(entry.first);
      resultTypes.push_back(entry.first.getType());
    }
    OpBuilder b(ret);
    func::ReturnOp::create(b, ret.getLoc(), operands);
    ret.erase();
    func.setType(FunctionType::get(&getContext(),
                                   func.getFunctionType().getInputs(),
                                   resultTypes));
    unsigned index = firstNew;
    for (auto &entry : points) {
      std::string name = "qcc.calib";
      for (int64_t id : entry.second)
        name += "." + std::to_string(id);
      func.setResultAttr(index, "qcc.name", b.getStringAttr(name));
      func.setResultAttr(index, "qcc.dtype", b.getStringAttr("float32"));
      ++index;
    }
  }
};

} // namespace
