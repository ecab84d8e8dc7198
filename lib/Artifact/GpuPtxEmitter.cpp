//===- GpuPtxEmitter.cpp - NVVM kernels to PTX text -----------------------===//

#include "qcc/Artifact/GpuArtifact.h"
#include "qcc/Codegen/GPU/Passes.h"
#include "qcc/Target/Target.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

extern "C" {
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

using namespace mlir;
using namespace qcc;

static void initializeNVPTX() {
  static bool done = [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    return true;
  }();
  (void)done;
}

FailureOr<std::string> qcc::emitPtx(ModuleOp module, const TargetInfo &target,
                                    std::string &error, std::string *llvmIr) {
  if (target.kind != TargetKind::Gpu) {
    error = "target '" + target.name + "' is not a GPU target";
    return failure();
  }
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadAllAvailableDialects();

  // The kernels move into a plain module for translation (all of them: a
  // model whose plan only copies has an empty PTX module).
  OwningOpRef<ModuleOp> kernels = ModuleOp::create(module.getLoc());
  OpBuilder builder(ctx);
  builder.setInsertionPointToEnd(kernels->getBody());
  for (auto gpuModule : module.getOps<mlir::gpu::GPUModuleOp>())
    for (Operation &op : gpuModule.getBody()->getOperations())
      builder.clone(op);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*kernels, llvmContext, "qcc_kernels");
  if (!llvmModule) {
    error = "translation of the GPU kernels to LLVM IR failed";
    return failure();
  }

  initializeNVPTX();
  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return failure();
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.llvmFeatures, options, std::nullopt,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create an LLVM target machine for " + target.triple;
    return failure();
  }
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);
  for (llvm::Function &fn : *llvmModule) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("target-cpu", target.cpu);
    fn.addFnAttr("target-features", target.llvmFeatures);
  }
  auto optimize = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                            machine.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    error = "LLVM optimization failed: " + llvm::toString(std::move(err));
    return failure();
  }
  // A call the kernels cannot resolve (a libdevice function) would only fail
  // when the driver loads the PTX: refuse it here.
  for (llvm::Function &fn : *llvmModule)
    if (fn.isDeclaration() && !fn.isIntrinsic() && !fn.use_empty()) {
      error = "GPU kernels call '" + fn.getName().str() +
              "', which has no PTX implementation";
      return failure();
    }
  if (llvmIr) {
    llvm::raw_string_ostream os(*llvmIr);
    llvmModule->print(os, nullptr);
  }

  llvm::SmallString<0> ptx;
  llvm::raw_svector_ostream os(ptx);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr,
                                   llvm::CodeGenFileType::AssemblyFile)) {
    error = "the NVPTX target cannot emit PTX";
    return failure();
  }
  passes.run(*llvmModule);
  return std::string(ptx.str());
}
