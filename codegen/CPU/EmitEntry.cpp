//===- EmitEntry.cpp - exported entry points of a CPU artifact ------------===//
//
// The lowered entry function takes one bare pointer per weight, input and
// output. The runtime, which must not know how many of each a model has at
// compile time, calls one fixed signature instead (docs/ARTIFACT.md); this
// pass writes the adapter between the two.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUEMITENTRY
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

struct CpuEmitEntryPass
    : public qcc::cpu::impl::CpuEmitEntryBase<CpuEmitEntryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto mainFn = module.lookupSymbol<LLVM::LLVMFuncOp>(entry);
    if (!mainFn || mainFn.isExternal()) {
      module.emitError("lowered entry function '") << entry << "' not found";
      return signalPassFailure();
    }
    for (StringRef name : {"qcc_artifact_main", "qcc_artifact_abi_version"})
      if (module.lookupSymbol(name)) {
        module.emitError("symbol '") << name << "' is already defined";
        return signalPassFailure();
      }

    SmallVector<int64_t> weightOffsets;
    if (auto weights = module->getAttrOfType<ArrayAttr>(qcc::kWeightsAttrName))
      for (Attribute record : weights)
        weightOffsets.push_back(cast<DictionaryAttr>(record)
                                    .getAs<IntegerAttr>("offset")
                                    .getInt());
    int64_t inputs = numInputs;
    if (inputs < 0) {
      auto attr = module->getAttrOfType<IntegerAttr>("qcc.num_inputs");
      if (!attr) {
        module.emitError("number of inputs unknown: set num-inputs or the "
                         "qcc.num_inputs module attribute");
        return signalPassFailure();
      }
      inputs = attr.getInt();
    }
    LLVM::LLVMFunctionType mainType = mainFn.getFunctionType();
    // qcc-cpu-outline-parallel passes the execution context first.
    int64_t contextParams =
        module->hasAttr(qcc::cpu::kExecContextAttrName) ? 1 : 0;
    int64_t numParams = mainType.getNumParams();
    int64_t outputs = numParams - contextParams - inputs -
                      int64_t(weightOffsets.size());
    if (outputs < 0 || mainType.getReturnType() !=
                           LLVM::LLVMVoidType::get(ctx)) {
      mainFn.emitError("entry function does not take ")
          << (contextParams ? "the context, " : "")
          << "weights, inputs and output buffers as its only parameters";
      return signalPassFailure();
    }
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    for (Type param : mainType.getParams())
      if (param != ptrType) {
        mainFn.emitError("entry parameters must be bare pointers (lower with "
                         "the bare-pointer memref calling convention)");
        return signalPassFailure();
      }
    mainFn.setLinkage(LLVM::Linkage::Internal);

    Location loc = mainFn.getLoc();
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto i8Type = IntegerType::get(ctx, 8);
    auto i32Type = IntegerType::get(ctx, 32);
    auto voidType = LLVM::LLVMVoidType::get(ctx);

    auto versionFn = LLVM::LLVMFuncOp::create(
        b, loc, "qcc_artifact_abi_version",
        LLVM::LLVMFunctionType::get(i32Type, {}));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(versionFn.addEntryBlock(b));
      Value one = LLVM::ConstantOp::create(b, loc, i32Type,
                                           b.getI32IntegerAttr(1));
      LLVM::ReturnOp::create(b, loc, one);
    }

    auto entryFn = LLVM::LLVMFuncOp::create(
        b, loc, "qcc_artifact_main",
        LLVM::LLVMFunctionType::get(voidType,
                                    {ptrType, ptrType, ptrType, ptrType}));
    OpBuilder::InsertionGuard guard(b);
    Block *body = entryFn.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    Value inputArray = body->getArgument(1);
    Value outputArray = body->getArgument(2);
    Value weightBase = body->getArgument(3);
    SmallVector<Value> args;
    if (contextParams)
      args.push_back(body->getArgument(0));
    // Offsets go in as i64 values: GEPArg's inline constants hold only 29
    // bits, and weight files pass 512 MiB.
    auto i64Type = IntegerType::get(ctx, 64);
    for (int64_t offset : weightOffsets) {
      Value offsetValue = LLVM::ConstantOp::create(
          b, loc, i64Type, b.getI64IntegerAttr(offset));
      args.push_back(LLVM::GEPOp::create(b, loc, ptrType, i8Type, weightBase,
                                         ArrayRef<LLVM::GEPArg>{offsetValue}));
    }
    auto loadSlot = [&](Value array, int64_t i) -> Value {
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, array,
                                       ArrayRef<LLVM::GEPArg>{i});
      return LLVM::LoadOp::create(b, loc, ptrType, slot);
    };
    for (int64_t i = 0; i < inputs; ++i)
      args.push_back(loadSlot(inputArray, i));
    for (int64_t i = 0; i < outputs; ++i)
      args.push_back(loadSlot(outputArray, i));
    LLVM::CallOp::create(b, loc, mainFn, args);
    LLVM::ReturnOp::create(b, loc, ValueRange());
  }
};

} // namespace
