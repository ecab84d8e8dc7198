//===- ExternalizeWeights.cpp - move large constants out of the code ------===//
//
// Constants baked into the object would be copied through MLIR, LLVM IR and
// the object writer, which for a 100M-parameter model costs gigabytes and
// minutes. Instead they become arguments of the entry function, and the
// artifact writer stores them in the weight file that the runtime maps.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace qcc {
#define GEN_PASS_DEF_EXTERNALIZEWEIGHTS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;

namespace {

/// Bytes an elements attribute occupies once written densely.
static int64_t denseByteSize(ShapedType type) {
  int64_t bitWidth = type.getElementTypeBitWidth();
  int64_t bytesPerElement = bitWidth == 1 ? 1 : (bitWidth + 7) / 8;
  return type.getNumElements() * bytesPerElement;
}

struct ExternalizeWeightsPass
    : public qcc::impl::ExternalizeWeightsBase<ExternalizeWeightsPass> {
  using Base::Base;

  /// Drops unused weight arguments (the leading arguments that `qcc.weights`
  /// records describe) and lays the remaining records out again.
  static void pruneUnusedWeights(ModuleOp module, func::FuncOp func) {
    auto existing = module->getAttrOfType<ArrayAttr>(qcc::kWeightsAttrName);
    if (!existing || existing.size() > func.getNumArguments())
      return;
    llvm::BitVector dead(func.getNumArguments());
    for (unsigned i = 0; i < existing.size(); ++i)
      if (func.getArgAttr(i, "qcc.weight") && func.getArgument(i).use_empty())
        dead.set(i);
    if (dead.none())
      return;
    Builder builder(module.getContext());
    SmallVector<Attribute> kept;
    int64_t offset = 0;
    for (auto [i, record] : llvm::enumerate(existing)) {
      if (dead.test(i))
        continue;
      auto dict = cast<DictionaryAttr>(record);
      offset = (offset + 63) / 64 * 64;
      NamedAttrList attrs(dict);
      attrs.set("offset", builder.getI64IntegerAttr(offset));
      offset += dict.getAs<IntegerAttr>("size").getInt();
      kept.push_back(attrs.getDictionary(module.getContext()));
    }
    if (failed(func.eraseArguments(dead)))
      return;
    module->setAttr(qcc::kWeightsAttrName, builder.getArrayAttr(kept));
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func) {
      module.emitError("entry function '") << entry << "' not found";
      return signalPassFailure();
    }
    if (func.isExternal()) {
      func.emitError("entry function has no body");
      return signalPassFailure();
    }

    // Weight arguments that nothing reads any more (e.g. group scales a GPU
    // kernel repacked next to its codes) leave the weight file.
    pruneUnusedWeights(module, func);

    // Tensor constants (before bufferization) and reads of constant globals
    // (after it, e.g. the packed weights kernels create) are candidates.
    // Splats cost nothing in code; everything else above the threshold moves.
    struct Candidate {
      Operation *op;
      ShapedType type;
      ElementsAttr value;
    };
    SmallVector<Candidate> constants;
    auto consider = [&](Operation *op, ShapedType type, Attribute attr) {
      auto value = dyn_cast_or_null<ElementsAttr>(attr);
      if (!value || !type.hasStaticShape())
        return;
      if (auto dense = dyn_cast<DenseElementsAttr>(value);
          dense && dense.isSplat())
        return;
      if (denseByteSize(type) >= minBytes)
        constants.push_back({op, type, value});
    };
    SymbolTable symbols(module);
    func.walk([&](Operation *op) {
      if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
        if (auto type = dyn_cast<RankedTensorType>(cst.getType()))
          consider(op, type, cst.getValue());
      } else if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
        auto global = symbols.lookup<memref::GlobalOp>(get.getName());
        auto type = cast<MemRefType>(get.getType());
        if (global && global.getConstant() && type.getLayout().isIdentity())
          consider(op, type, global.getInitialValueAttr());
      }
    });

    Builder builder(module.getContext());
    // The entry-point emitter needs to tell inputs from weights once both
    // are plain pointers.
    if (!module->hasAttr("qcc.num_inputs"))
      module->setAttr("qcc.num_inputs",
                      builder.getI64IntegerAttr(func.getNumArguments()));

    Block &body = func.getBody().front();
    SmallVector<Attribute> records;
    SmallVector<Type> newInputs;
    int64_t offset = 0;
    if (auto existing = module->getAttrOfType<ArrayAttr>(qcc::kWeightsAttrName))
      for (Attribute record : existing) {
        records.push_back(record);
        auto dict = cast<DictionaryAttr>(record);
        offset = dict.getAs<IntegerAttr>("offset").getInt() +
                 dict.getAs<IntegerAttr>("size").getInt();
      }
    unsigned insertAt = records.size();
    for (const Candidate &c : constants) {
      offset = (offset + 63) / 64 * 64;
      int64_t size = denseByteSize(c.type);
      records.push_back(builder.getDictionaryAttr({
          builder.getNamedAttr("offset", builder.getI64IntegerAttr(offset)),
          builder.getNamedAttr("size", builder.getI64IntegerAttr(size)),
          builder.getNamedAttr("value", c.value),
      }));
      offset += size;
      newInputs.push_back(c.type);
    }
    // Inputs belong to the caller and weights are mapped read-only: the
    // bufferization must never write into any entry argument.
    auto readOnly = [&](unsigned index) {
      if (isa<TensorType>(func.getArgument(index).getType()))
        func.setArgAttr(index, "bufferization.writable",
                        builder.getBoolAttr(false));
    };
    if (constants.empty()) {
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        readOnly(i);
      return;
    }

    // New weight arguments go first, after any weights already moved.
    SmallVector<unsigned> indices(constants.size(), insertAt);
    SmallVector<DictionaryAttr> argAttrs;
    SmallVector<Location> locs;
    for (const Candidate &c : constants) {
      argAttrs.push_back(builder.getDictionaryAttr(
          builder.getNamedAttr("qcc.weight", builder.getUnitAttr())));
      locs.push_back(c.op->getLoc());
    }
    if (failed(func.insertArguments(indices, newInputs, argAttrs, locs))) {
      func.emitError("could not add weight arguments");
      return signalPassFailure();
    }
    SmallVector<memref::GlobalOp> globals;
    for (auto [i, c] : llvm::enumerate(constants)) {
      if (auto get = dyn_cast<memref::GetGlobalOp>(c.op))
        globals.push_back(symbols.lookup<memref::GlobalOp>(get.getName()));
      c.op->getResult(0).replaceAllUsesWith(body.getArgument(insertAt + i));
      c.op->erase();
    }
    // Globals whose every read moved out are dead.
    for (memref::GlobalOp global : globals)
      if (global && SymbolTable::symbolKnownUseEmpty(global, module))
        global.erase();
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      readOnly(i);
    module->setAttr(qcc::kWeightsAttrName, builder.getArrayAttr(records));
  }
};

} // namespace
