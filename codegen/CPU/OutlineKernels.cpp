//===- OutlineKernels.cpp - one function per loop nest of the entry -------===//
//
// A whole model lowers to one entry function holding every kernel of every
// layer: for SmolLM2 (30 layers) that is ~1400 loop nests in one LLVM
// function. LLVM's optimizer and code generator scale worse than linearly in
// the size of a function (alias queries, loop analyses, scheduling and
// register allocation over one giant CFG), so compile time grew
// quadratically with depth. Moving every top-level loop nest of the entry
// function into its own private, never-inlined function makes the work
// linear in the number of kernels, and costs one direct call per kernel at
// run time.
//
// What the nest uses from above is passed as arguments, except pure values
// (constants, views such as subview and expand_shape, index arithmetic),
// which are cloned into the new function, so that it folds and vectorizes
// as it did inline, and so that buffers travel as their allocations:
// identity-layout, static memrefs that the bare-pointer convention passes as
// one pointer. An allocation of the entry function that is the only
// argument rooted in it cannot alias any other argument, which LLVM could
// prove inline; `llvm.noalias` keeps that fact across the call. Functions
// that call out (e.g. a nest that contains a parallel_for call, whose
// callee reaches buffers through a captures struct) get no `llvm.noalias`.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUOUTLINEKERNELS
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

/// Loop-like and conditional ops whose top-level instances become functions.
bool isKernel(Operation *op) {
  return isa<scf::ForOp, scf::ParallelOp, scf::WhileOp, scf::IfOp,
             affine::AffineForOp, affine::AffineParallelOp, affine::AffineIfOp>(
      op);
}

/// A memref the bare-pointer convention passes as one pointer: ranked,
/// static shape, static strides and offset.
bool isBarePointerMemRef(MemRefType type) {
  if (!type.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return !ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

/// A result may leave the outlined function unless it is a memref (the
/// bare-pointer convention rebuilds memref results without their
/// allocation) or has no LLVM equivalent.
bool isReturnable(Type type) {
  return type.isIntOrIndexOrFloat() || isa<VectorType>(type) ||
         LLVM::isCompatibleType(type);
}

/// An argument may cross the call when it has an LLVM equivalent.
bool isPassable(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return isBarePointerMemRef(memref);
  return isReturnable(type);
}

/// How one nest becomes a function.
struct KernelPlan {
  Operation *nest;
  /// Pure ops from above, cloned in block order at the top of the function.
  SmallVector<Operation *> clones;
  /// Values from above that become arguments.
  SmallVector<Value> arguments;
};

/// The allocation or block argument a memref view is taken of.
Value rootOf(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

std::optional<KernelPlan> planKernel(Operation *nest) {
  for (Type type : nest->getResultTypes())
    if (!isReturnable(type))
      return std::nullopt;
  KernelPlan plan;
  plan.nest = nest;
  SetVector<Value> used;
  getUsedValuesDefinedAbove(nest->getRegions(), used);
  for (Value operand : nest->getOperands())
    used.insert(operand);

  // Pure producers are cloned along with everything they need from above;
  // anything else (allocations, block arguments, loads, calls) is passed.
  llvm::SmallPtrSet<Operation *, 16> cloned;
  SetVector<Value> arguments;
  SmallVector<Value> worklist(used.begin(), used.end());
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *def = value.getDefiningOp();
    if (def && def->getNumRegions() == 0 && isMemoryEffectFree(def)) {
      if (cloned.insert(def).second)
        llvm::append_range(worklist, def->getOperands());
      continue;
    }
    if (!isPassable(value.getType()))
      return std::nullopt;
    arguments.insert(value);
  }
  plan.clones.assign(cloned.begin(), cloned.end());
  llvm::sort(plan.clones, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  // In the entry function's order: its arguments, then values as defined.
  plan.arguments.assign(arguments.begin(), arguments.end());
  llvm::sort(plan.arguments, [](Value a, Value b) {
    auto argA = dyn_cast<BlockArgument>(a), argB = dyn_cast<BlockArgument>(b);
    if (argA || argB)
      return argA && (!argB || argA.getArgNumber() < argB.getArgNumber());
    Operation *defA = a.getDefiningOp(), *defB = b.getDefiningOp();
    if (defA == defB)
      return cast<OpResult>(a).getResultNumber() <
             cast<OpResult>(b).getResultNumber();
    return defA->isBeforeInBlock(defB);
  });
  return plan;
}

/// Whether the nest calls a function, which might reach the buffers of its
/// arguments through pointers that are not based on them.
bool hasCalls(Operation *nest) {
  return nest
      ->walk([](Operation *op) {
        return isa<CallOpInterface>(op) ? WalkResult::interrupt()
                                        : WalkResult::advance();
      })
      .wasInterrupted();
}

/// Indices of the arguments that may be `llvm.noalias`: memrefs rooted in an
/// allocation of the entry function that no other argument is rooted in.
llvm::SmallBitVector noAliasArguments(const KernelPlan &plan) {
  llvm::SmallBitVector result(plan.arguments.size());
  if (hasCalls(plan.nest))
    return result;
  llvm::DenseMap<Value, unsigned> rootUses;
  for (Value arg : plan.arguments) {
    if (isa<LLVM::LLVMPointerType>(arg.getType()))
      return result;
    if (isa<MemRefType>(arg.getType()))
      ++rootUses[rootOf(arg)];
  }
  for (auto [i, arg] : llvm::enumerate(plan.arguments)) {
    if (!isa<MemRefType>(arg.getType()))
      continue;
    Value root = rootOf(arg);
    if (rootUses[root] == 1 &&
        isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(
            root.getDefiningOp()))
      result.set(i);
  }
  return result;
}

void outline(KernelPlan &plan, func::FuncOp entry, SymbolTable &symbolTable) {
  Operation *nest = plan.nest;
  Location loc = nest->getLoc();
  MLIRContext *context = entry.getContext();
  OpBuilder b(context);
  SmallVector<Type> argTypes;
  for (Value arg : plan.arguments)
    argTypes.push_back(arg.getType());
  auto fnType = b.getFunctionType(argTypes, nest->getResultTypes());
  // Created unlinked so that the symbol table picks a free name.
  auto fn = func::FuncOp::create(b, loc, (entry.getSymName() + "_kernel").str(),
                                 fnType);
  fn.setPrivate();
  fn->setAttr("llvm.linkage",
              LLVM::LinkageAttr::get(context, LLVM::Linkage::Internal));
  // The inliner would rebuild the one huge function this pass takes apart.
  // (`passthrough`: func-to-llvm drops `no_inline` but keeps this.)
  fn->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
  llvm::SmallBitVector noAlias = noAliasArguments(plan);
  for (int i : noAlias.set_bits())
    fn.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                  b.getUnitAttr());
  symbolTable.insert(fn, Block::iterator(entry));

  Block *body = fn.addEntryBlock();
  IRMapping mapping;
  for (auto [arg, value] : llvm::zip_equal(body->getArguments(),
                                           plan.arguments))
    mapping.map(value, arg);
  b.setInsertionPointToStart(body);
  for (Operation *op : plan.clones)
    b.clone(*op, mapping);
  Operation *moved = b.clone(*nest, mapping);
  func::ReturnOp::create(b, loc, moved->getResults());

  b.setInsertionPoint(nest);
  auto call = func::CallOp::create(b, loc, fn, plan.arguments);
  nest->replaceAllUsesWith(call.getResults());
  nest->erase();
}

struct CpuOutlineKernelsPass
    : public qcc::cpu::impl::CpuOutlineKernelsBase<CpuOutlineKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entryFn = module.lookupSymbol<func::FuncOp>(entry);
    if (!entryFn || entryFn.isExternal()) {
      module.emitError("entry function '") << entry << "' not found";
      return signalPassFailure();
    }
    if (minOps < 0) {
      module.emitError("qcc-cpu-outline-kernels option min-ops must not be "
                       "negative");
      return signalPassFailure();
    }
    if (!entryFn.getBody().hasOneBlock())
      return;
    SmallVector<Operation *> nests;
    for (Operation &op : entryFn.getBody().front())
      if (isKernel(&op) && countOps(&op) >= minOps)
        nests.push_back(&op);
    SymbolTable symbolTable(module);
    for (Operation *nest : nests)
      if (std::optional<KernelPlan> plan = planKernel(nest))
        outline(*plan, entryFn, symbolTable);
  }

  static int64_t countOps(Operation *nest) {
    int64_t count = 0;
    nest->walk([&](Operation *) { ++count; });
    return count;
  }
};

} // namespace
