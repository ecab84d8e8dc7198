//===- PrepareBuffers.cpp - host buffers a GPU launch plan can express ----===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUPREPAREBUFFERS
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

struct GpuPrepareBuffersPass
    : public qcc::gpu::impl::GpuPrepareBuffersBase<GpuPrepareBuffersPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto module = func->getParentOfType<ModuleOp>();
    SmallVector<memref::GetGlobalOp> globals;
    SmallVector<memref::CopyOp> copies;
    func.walk([&](Operation *op) {
      if (auto get = dyn_cast<memref::GetGlobalOp>(op))
        globals.push_back(get);
      else if (auto copy = dyn_cast<memref::CopyOp>(op))
        copies.push_back(copy);
    });

    for (memref::GetGlobalOp get : globals) {
      auto global =
          module ? SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
                       get, get.getNameAttr())
                 : memref::GlobalOp();
      auto value = global ? dyn_cast_or_null<DenseElementsAttr>(
                                global.getInitialValueAttr())
                          : DenseElementsAttr();
      auto type = cast<MemRefType>(get.getType());
      if (!value || !value.isSplat() || !type.getLayout().isIdentity() ||
          !type.hasStaticShape()) {
        get.emitError("constant buffer '")
            << get.getName()
            << "' is neither a splat nor in the weight file; a GPU kernel "
               "cannot read host globals";
        return signalPassFailure();
      }
      OpBuilder b(get);
      Value buffer = memref::AllocOp::create(b, get.getLoc(), type);
      Value scalar =
          arith::ConstantOp::create(b, get.getLoc(), value.getSplatValue<TypedAttr>());
      linalg::FillOp::create(b, get.getLoc(), ValueRange{scalar},
                             ValueRange{buffer});
      get.getResult().replaceAllUsesWith(buffer);
      get.erase();
      if (global && SymbolTable::symbolKnownUseEmpty(global, module))
        global.erase();
    }

    for (memref::CopyOp copy : copies) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
        continue;
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
