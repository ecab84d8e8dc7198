//===- ResolveLibdevice.cpp - libdevice calls -> LLVM intrinsics ----------===//

#include "qcc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace qcc::gpu {
#define GEN_PASS_DEF_GPURESOLVELIBDEVICE
#include "qcc/Codegen/GPU/Passes.h.inc"
} // namespace qcc::gpu

using namespace mlir;

namespace {

struct Intrinsic {
  const char *name;
  bool approximate; // needs the afn flag to select a PTX instruction
};

/// libdevice functions (without the `__nv_` prefix) with a PTX instruction.
const llvm::StringMap<Intrinsic> &intrinsics() {
  static const llvm::StringMap<Intrinsic> table = [] {
    llvm::StringMap<Intrinsic> t;
    for (const char *suffix : {"f", ""}) {
      auto add = [&](StringRef fn, const char *intr, bool approx = false) {
        t[(fn + suffix).str()] = {intr, approx};
      };
      add("sqrt", "llvm.intr.sqrt");
      add("fabs", "llvm.intr.fabs");
      add("floor", "llvm.intr.floor");
      add("ceil", "llvm.intr.ceil");
      add("trunc", "llvm.intr.trunc");
      add("rint", "llvm.intr.roundeven");
      add("nearbyint", "llvm.intr.roundeven");
      add("round", "llvm.intr.round");
      add("copysign", "llvm.intr.copysign");
      add("fma", "llvm.intr.fma");
      add("fmin", "llvm.intr.minnum");
      add("fmax", "llvm.intr.maxnum");
    }
    // f32 only: PTX has no f64 approximations of these.
    t["sinf"] = {"llvm.intr.sin", true};
    t["cosf"] = {"llvm.intr.cos", true};
    t["exp2f"] = {"llvm.intr.exp2", true};
    t["log2f"] = {"llvm.intr.log2", true};
    return t;
  }();
  return table;
}

struct GpuResolveLibdevicePass
    : public qcc::gpu::impl::GpuResolveLibdeviceBase<GpuResolveLibdevicePass> {
  void runOnOperation() override {
    mlir::gpu::GPUModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      std::optional<StringRef> callee = call.getCallee();
      if (callee && callee->starts_with("__nv_"))
        calls.push_back(call);
    });
    for (LLVM::CallOp call : calls) {
      StringRef fn = call.getCallee()->drop_front(strlen("__nv_"));
      Location loc = call.getLoc();
      OpBuilder b(call);
      Value result;
      if (fn == "rsqrtf" || fn == "rsqrt") {
        Type type = call.getResult().getType();
        Value root = LLVM::SqrtOp::create(b, loc, call.getOperand(0));
        Value one = LLVM::ConstantOp::create(b, loc, type,
                                             b.getFloatAttr(type, 1.0));
        result = LLVM::FDivOp::create(b, loc, one, root);
      } else if (fn == "abs" || fn == "llabs") {
        result = LLVM::AbsOp::create(b, loc, call.getResult().getType(),
                                     call.getOperand(0),
                                     /*is_int_min_poison=*/false);
      } else {
        auto it = intrinsics().find(fn);
        if (it == intrinsics().end())
          continue;
        OperationState state(loc, it->second.name);
        state.addOperands(call.getOperands());
        state.addTypes(call.getResultTypes());
        Operation *op = b.create(state);
        if (it->second.approximate)
          op->setAttr("fastmathFlags", LLVM::FastmathFlagsAttr::get(
                                           ctx, LLVM::FastmathFlags::afn));
        result = op->getResult(0);
      }
      call.getResult().replaceAllUsesWith(result);
      call.erase();
    }
    // Declarations nothing calls any more.
    for (auto fn : llvm::make_early_inc_range(module.getOps<LLVM::LLVMFuncOp>()))
      if (fn.isExternal() && fn.getName().starts_with("__nv_") &&
          SymbolTable::symbolKnownUseEmpty(fn, module))
        fn.erase();
  }
};

} // namespace
