//===- ObjectEmitter.cpp - LLVM dialect to an object and a shared object --===//

#include "qcc/Artifact/Artifact.h"
#include "qcc/Target/Target.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

extern "C" {
void LLVMInitializeX86TargetInfo();
void LLVMInitializeX86Target();
void LLVMInitializeX86TargetMC();
void LLVMInitializeX86AsmPrinter();
}

using namespace mlir;
using namespace qcc;

static void initializeX86() {
  static bool done = [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    return true;
  }();
  (void)done;
}

static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const TargetInfo &target, std::string &error) {
  initializeX86();
  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return nullptr;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.llvmFeatures, options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    error = "cannot create an LLVM target machine for " + target.triple;
  return machine;
}

std::unique_ptr<llvm::Module>
qcc::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                          const TargetInfo &target, std::string &error) {
  if (target.kind != TargetKind::Cpu) {
    error = "target '" + target.name + "' has no CPU object emitter";
    return nullptr;
  }
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "qcc_model");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine)
    return nullptr;
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(llvm::Triple(target.triple));
  // Per-function attributes make the optimizer's cost model see the target.
  for (llvm::Function &fn : *llvmModule) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("target-cpu", target.cpu);
    if (!target.llvmFeatures.empty())
      fn.addFnAttr("target-features", target.llvmFeatures);
  }
  auto optimize = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                            machine.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    error = "LLVM optimization failed: " + llvm::toString(std::move(err));
    return nullptr;
  }
  return llvmModule;
}

void qcc::addIoSignatureSymbol(llvm::Module &llvmModule, StringRef text) {
  llvm::LLVMContext &context = llvmModule.getContext();
  llvm::Constant *bytes =
      llvm::ConstantDataArray::getString(context, text, /*AddNull=*/true);
  auto *global = new llvm::GlobalVariable(
      llvmModule, bytes->getType(), /*isConstant=*/true,
      llvm::GlobalValue::PrivateLinkage, bytes, "qcc_io_signature_text");
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  auto *type = llvm::FunctionType::get(llvm::PointerType::get(context, 0),
                                       /*isVarArg=*/false);
  llvm::Function *fn =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                             "qcc_artifact_io_signature", llvmModule);
  fn->setDoesNotThrow();
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context, "entry", fn));
  builder.CreateRet(global);
}

LogicalResult qcc::emitObjectFile(llvm::Module &llvmModule,
                                  const TargetInfo &target, StringRef path,
                                  std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine)
    return failure();
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return failure();
  }
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, out.os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return failure();
  }
  passes.run(llvmModule);
  out.os().flush();
  out.keep();
  return success();
}

LogicalResult qcc::linkSharedObject(StringRef objectPath, StringRef soPath,
                                    std::string &error) {
  std::string driver;
  for (const char *name : {"clang-22", "clang", "cc", "gcc"}) {
    if (llvm::ErrorOr<std::string> found =
            llvm::sys::findProgramByName(name)) {
      driver = *found;
      break;
    }
  }
  if (driver.empty()) {
    error = "no C compiler driver (clang-22, clang, cc or gcc) found on PATH "
            "to link the shared object";
    return failure();
  }
  SmallVector<StringRef> args = {driver,     "-shared",         "-o",
                                 soPath,     objectPath,        "-lm",
                                 "-Wl,-z,noexecstack", "-Wl,--build-id=none"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(driver, args, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    error = "linking '" + soPath.str() + "' with " + driver + " failed" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  return success();
}
