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

/// QCC_ARTIFACT_ABI_VERSION of runtime/include/qcc/qcc_runtime.h.
constexpr int32_t kArtifactAbiVersion = 2;
/// Byte offset of `arena` in qcc_exec_context on a 64-bit target: after
/// abi_version and num_threads (4 bytes each), pool and parallel_for.
constexpr int64_t kExecContextArenaOffset = 24;

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
    for (StringRef name : {"qcc_artifact_main", "qcc_artifact_abi_version",
                           "qcc_artifact_arena_bytes"})
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
    // qcc-cpu-plan-buffers with arena-argument passes the arena last.
    int64_t arenaBytes = 0, arenaParams = 0;
    if (Attribute attr = module->getAttr(qcc::cpu::kArenaBytesAttrName)) {
      auto bytes = dyn_cast<IntegerAttr>(attr);
      if (!bytes || bytes.getInt() < 0) {
        module.emitError(qcc::cpu::kArenaBytesAttrName)
            << " must be a non-negative integer";
        return signalPassFailure();
      }
      arenaBytes = bytes.getInt();
      arenaParams = 1;
    }
    int64_t numParams = mainType.getNumParams();
    int64_t outputs = numParams - contextParams - arenaParams - inputs -
                      int64_t(weightOffsets.size());
    if (outputs < 0 || mainType.getReturnType() !=
                           LLVM::LLVMVoidType::get(ctx)) {
      mainFn.emitError("entry function does not take ")
          << (contextParams ? "the context, " : "")
          << "weights, inputs and output buffers"
          << (arenaParams ? " and the arena" : "")
          << " as its only parameters";
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
      Value version = LLVM::ConstantOp::create(
          b, loc, i32Type, b.getI32IntegerAttr(kArtifactAbiVersion));
      LLVM::ReturnOp::create(b, loc, version);
    }
    auto i64Type = IntegerType::get(ctx, 64);
    auto arenaFn = LLVM::LLVMFuncOp::create(
        b, loc, "qcc_artifact_arena_bytes",
        LLVM::LLVMFunctionType::get(i64Type, {}));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(arenaFn.addEntryBlock(b));
      Value bytes = LLVM::ConstantOp::create(b, loc, i64Type,
                                             b.getI64IntegerAttr(arenaBytes));
      LLVM::ReturnOp::create(b, loc, bytes);
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
    if (arenaParams) {
      // ctx->arena: the field after abi_version, num_threads, pool and
      // parallel_for (docs/ARTIFACT.md).
      Value context = body->getArgument(0);
      Value field = LLVM::GEPOp::create(
          b, loc, ptrType, i8Type, context,
          ArrayRef<LLVM::GEPArg>{kExecContextArenaOffset});
      args.push_back(LLVM::LoadOp::create(b, loc, ptrType, field));
    }
    LLVM::CallOp::create(b, loc, mainFn, args);
    LLVM::ReturnOp::create(b, loc, ValueRange());
  }
};

} // namespace
