//===- MergeFunctions.cpp - one copy of each identical private function ---===//
//
// Every layer of a transformer runs the same kernels on different buffers.
// Once the kernels are functions of their buffers (qcc-cpu-outline-kernels,
// qcc-cpu-outline-parallel), the 30 layers of SmolLM2 yield 30 identical
// copies of each; LLVM would optimize and compile every copy. Merging them
// before the lowering makes compile time nearly independent of depth and the
// artifact's code smaller.
//
// Candidates are private functions with a body. Two are identical when
// their attributes other than the name (type, argument attributes, linkage,
// passthrough) are equal and their bodies are equivalent up to SSA names
// and locations. A function's uses are redirected to the first copy in
// module order. Merging a callee can make its callers identical, so the
// search repeats until nothing merges.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"

#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUMERGEFUNCTIONS
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

/// The function's attributes without its name.
DictionaryAttr signatureOf(func::FuncOp fn) {
  NamedAttrList attrs(fn->getAttrDictionary());
  attrs.erase(SymbolTable::getSymbolAttrName());
  return attrs.getDictionary(fn.getContext());
}

llvm::hash_code hashFunction(func::FuncOp fn) {
  llvm::hash_code hash = hash_value(signatureOf(fn));
  fn.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(
        hash, OperationEquivalence::computeHash(
                  op, OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::IgnoreLocations));
  });
  return hash;
}

bool isIdentical(func::FuncOp a, func::FuncOp b) {
  return signatureOf(a) == signatureOf(b) &&
         OperationEquivalence::isRegionEquivalentTo(
             &a.getBody(), &b.getBody(), OperationEquivalence::IgnoreLocations);
}

/// Merges each set of identical candidates into its first member; returns
/// how many functions were erased.
int64_t mergeOnce(ModuleOp module) {
  llvm::MapVector<llvm::hash_code, SmallVector<func::FuncOp>> buckets;
  for (auto fn : module.getOps<func::FuncOp>())
    if (fn.isPrivate() && !fn.isExternal())
      buckets[hashFunction(fn)].push_back(fn);

  llvm::DenseMap<StringAttr, StringAttr> replacement;
  SmallVector<func::FuncOp> erased;
  for (auto &bucket : buckets) {
    SmallVector<func::FuncOp> &fns = bucket.second;
    // Usually one class per bucket; a hash collision makes several.
    SmallVector<func::FuncOp> leaders;
    for (func::FuncOp fn : fns) {
      auto leader = llvm::find_if(
          leaders, [&](func::FuncOp l) { return isIdentical(l, fn); });
      if (leader == leaders.end()) {
        leaders.push_back(fn);
        continue;
      }
      replacement[fn.getSymNameAttr()] = leader->getSymNameAttr();
      erased.push_back(fn);
    }
  }
  if (erased.empty())
    return 0;

  AttrTypeReplacer replacer;
  replacer.addReplacement(
      [&](FlatSymbolRefAttr ref) -> std::optional<Attribute> {
        auto it = replacement.find(ref.getAttr());
        if (it == replacement.end())
          return std::nullopt;
        return FlatSymbolRefAttr::get(it->second);
      });
  module.walk([&](Operation *op) {
    if (isa<SymbolUserOpInterface, CallOpInterface>(op))
      replacer.replaceElementsIn(op, /*replaceAttrs=*/true,
                                 /*replaceLocs=*/false,
                                 /*replaceTypes=*/false);
  });
  for (func::FuncOp fn : erased)
    fn.erase();
  return erased.size();
}

struct CpuMergeFunctionsPass
    : public qcc::cpu::impl::CpuMergeFunctionsBase<CpuMergeFunctionsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    while (int64_t merged = mergeOnce(module))
      numMerged += merged;
  }
};

} // namespace
