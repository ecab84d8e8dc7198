//===- OutlineKernels.cpp - outlining that keeps kernel attributes --------===//
//
// gpu-kernel-outlining builds each gpu.func from the launch's body alone:
// attributes on the gpu.launch are lost. Register caps and occupancy hints
// (nvvm.maxnreg, nvvm.minctasm) belong on the kernel, so a lowering that
// wants them puts a `qcc.kernel_attrs` dictionary on its launch, and this
// pass runs the upstream outlining and then moves the dictionary's entries
// to the outlined function, found by the launch's kernel name.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPUOUTLINEKERNELS
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

/// Checks one entry of a launch's kernel attributes; reports on `launch`.
LogicalResult checkEntry(mlir::gpu::LaunchOp launch, NamedAttribute entry) {
  StringRef key = entry.getName().getValue();
  int64_t lo, hi;
  if (key == NVVM::NVVMDialect::getMaxnregAttrName()) {
    lo = 16;
    hi = 255;
  } else if (key == NVVM::NVVMDialect::getMinctasmAttrName()) {
    lo = 1;
    hi = 32;
  } else {
    return launch.emitOpError("has unknown kernel attribute '")
           << key << "' (expected nvvm.maxnreg or nvvm.minctasm)";
  }
  auto value = dyn_cast<IntegerAttr>(entry.getValue());
  if (!value || !value.getType().isInteger(32))
    return launch.emitOpError("kernel attribute '")
           << key << "' must be an i32 integer";
  int64_t v = value.getInt();
  if (v < lo || v > hi)
    return launch.emitOpError("kernel attribute '")
           << key << "' = " << v << " is out of range [" << lo << ", " << hi
           << "]";
  return success();
}

struct Pending {
  StringAttr module, function;
  DictionaryAttr attrs;
};

struct GpuOutlineKernelsPass
    : public qcc::gpu::impl::GpuOutlineKernelsBase<GpuOutlineKernelsPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registry.insert<NVVM::NVVMDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<Pending> pending;
    llvm::DenseSet<std::pair<StringAttr, StringAttr>> names;
    WalkResult walk = module.walk([&](mlir::gpu::LaunchOp launch) {
      Attribute attr = launch->getAttr(qcc::gpu::kKernelAttrsName);
      if (!attr)
        return WalkResult::advance();
      auto attrs = dyn_cast<DictionaryAttr>(attr);
      if (!attrs) {
        launch.emitOpError("'") << qcc::gpu::kKernelAttrsName
                                << "' must be a dictionary";
        return WalkResult::interrupt();
      }
      for (NamedAttribute entry : attrs)
        if (failed(checkEntry(launch, entry)))
          return WalkResult::interrupt();
      auto moduleName = launch.getModuleAttr();
      auto functionName = launch.getFunctionAttr();
      if (!moduleName || !functionName) {
        launch.emitOpError("with kernel attributes needs a kernel name "
                           "(module(@m) function(@f))");
        return WalkResult::interrupt();
      }
      Pending p{moduleName.getAttr(), functionName.getAttr(), attrs};
      auto existing = symbols.lookup<mlir::gpu::GPUModuleOp>(p.module);
      if (!names.insert({p.module, p.function}).second ||
          (existing && SymbolTable::lookupSymbolIn(existing, p.function))) {
        launch.emitOpError("with kernel attributes: kernel name @")
            << p.module.getValue() << "::@" << p.function.getValue()
            << " is not unique";
        return WalkResult::interrupt();
      }
      launch->removeAttr(qcc::gpu::kKernelAttrsName);
      pending.push_back(p);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    OpPassManager outline(ModuleOp::getOperationName());
    outline.addPass(createGpuKernelOutliningPass());
    if (failed(runPipeline(outline, module)))
      return signalPassFailure();

    for (const Pending &p : pending) {
      auto gpuModule = SymbolTable::lookupNearestSymbolFrom<
          mlir::gpu::GPUModuleOp>(module, p.module);
      auto func =
          gpuModule ? SymbolTable::lookupNearestSymbolFrom<mlir::gpu::GPUFuncOp>(
                          gpuModule, p.function)
                    : nullptr;
      if (!func) {
        module.emitError("outlined kernel @")
            << p.module.getValue() << "::@" << p.function.getValue()
            << " not found";
        return signalPassFailure();
      }
      for (NamedAttribute entry : p.attrs)
        func->setAttr(entry.getName(), entry.getValue());
    }
  }
};

} // namespace
