//===- OutlineParallel.cpp - run scf.parallel on the runtime's pool -------===//
//
// The artifact may not start threads of its own (docs/ARTIFACT.md): the
// runtime lends its pool through `qcc_exec_context.parallel_for(pool, n, fn,
// data)`. This pass gives the entry function that context as a leading
// `!llvm.ptr` parameter and turns each outermost scf.parallel of the entry
// function into a call of `parallel_for` on an outlined function.
//
// The work is cut into contiguous chunks at run time, a few per thread of
// the call (`num_threads`): enough for the pool's dynamic scheduling to
// even out threads that other processes slow down, few enough that a tiny
// iteration does not pay one indirect call. Everything the loop body uses
// from above is stored in a stack struct: indices as i64, memrefs as their
// LLVM descriptors (unrealized casts that the memref and func lowerings
// resolve), other LLVM-compatible scalars as they are; constants are
// cloned into the outlined function so that it folds as before.
//
// The work is still done at the memref level, before the lowering to LLVM,
// so that the outlined body is lowered and vectorized like any other code.
// Loops that cannot be outlined (reductions, captured values without a
// storable type, loops outside the entry function, which has no context)
// stay serial, which is always correct.
//
// `q.num_threads` (kernels that pick a variant by the call's thread count)
// becomes the context's num_threads in the entry function, 1 elsewhere.
//
// Two rules keep small loops cheap. A loop whose static work estimate (its
// iterations times the operations of its body, nested loops counted with
// their static trip counts, calls as unbounded) is below `min-work` stays
// serial: a region costs a pool wake-up and a join, more than a small
// elementwise kernel saves. And only the leading dimensions whose static
// iteration count first reaches `min-units` are shared out; the inner ones
// run as a serial scf.parallel inside each unit, so that an elementwise row
// stays one innermost loop that LLVM vectorizes instead of one unit (with
// its index division) per element.
//
//===----------------------------------------------------------------------===//

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Dialect/Q/IR/QOps.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUOUTLINEPARALLEL
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

/// Field indices of `qcc_exec_context` (docs/ARTIFACT.md, version 1).
enum ContextField : int32_t {
  kAbiVersion = 0,
  kNumThreads = 1,
  kPool = 2,
  kParallelFor = 3,
};

/// The LLVM struct type of `qcc_exec_context`.
LLVM::LLVMStructType execContextType(MLIRContext *context) {
  auto i32Type = IntegerType::get(context, 32);
  auto ptrType = LLVM::LLVMPointerType::get(context);
  return LLVM::LLVMStructType::getLiteral(context,
                                          {i32Type, i32Type, ptrType, ptrType});
}

/// The context's num_threads as an index, at least 1.
Value loadNumThreads(OpBuilder &b, Location loc, Value ctx) {
  MLIRContext *context = b.getContext();
  Value slot = LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(context),
                                   execContextType(context), ctx,
                                   ArrayRef<LLVM::GEPArg>{0, kNumThreads});
  Value threads32 =
      LLVM::LoadOp::create(b, loc, IntegerType::get(context, 32), slot);
  Value threads =
      arith::IndexCastUIOp::create(b, loc, b.getIndexType(), threads32);
  return arith::MaxUIOp::create(b, loc, threads,
                                arith::ConstantIndexOp::create(b, loc, 1));
}

/// One value the loop body uses from above, and how it travels.
struct Capture {
  Value value;
  /// Type of its field in the captures struct.
  Type fieldType;
};

/// Everything needed to outline one loop.
struct OutlinePlan {
  scf::ParallelOp loop;
  /// Values from above that are cloned into the outlined function.
  SmallVector<Operation *> constants;
  /// Values from above stored in the captures struct, in field order.
  SmallVector<Capture> captures;
};

/// Saturating a * b and a + b for the work estimate.
uint64_t mulSat(uint64_t a, uint64_t b) {
  return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}
uint64_t addSat(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/// Iterations of `loop` when its bounds are constant.
std::optional<uint64_t> staticTrips(Value lb, Value ub, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lb);
  std::optional<int64_t> u = getConstantIntValue(ub);
  std::optional<int64_t> s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return *u > *l ? static_cast<uint64_t>(llvm::divideCeil(*u - *l, *s)) : 0;
}

/// Trip count assumed for a loop with dynamic bounds inside a body.
constexpr uint64_t kDynamicTrips = 16;

/// Operations executed by one run of `block`: one per scalar operation, one
/// per element for an operation with a vector result (the matmul kernels'
/// vector loops do as much work per operation as the scalar loops LLVM
/// vectorizes later do per element), nested loops times their trip counts,
/// calls unbounded (their callee's work is unknown, so a loop that calls is
/// always worth sharing out).
uint64_t blockWork(Block &block) {
  uint64_t work = 0;
  for (Operation &op : block) {
    uint64_t opWork = 1;
    if (isa<CallOpInterface>(op))
      return UINT64_MAX;
    for (Type type : op.getResultTypes())
      if (auto vector = dyn_cast<VectorType>(type))
        if (vector.hasStaticShape())
          opWork = std::max<uint64_t>(opWork, vector.getNumElements());
    uint64_t trips = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      trips = staticTrips(loop.getLowerBound(), loop.getUpperBound(),
                          loop.getStep())
                  .value_or(kDynamicTrips);
    } else if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      for (auto [lb, ub, step] :
           llvm::zip_equal(loop.getLowerBound(), loop.getUpperBound(),
                           loop.getStep()))
        trips = mulSat(trips, staticTrips(lb, ub, step).value_or(kDynamicTrips));
    }
    uint64_t inner = 0;
    for (Region &region : op.getRegions())
      for (Block &nested : region)
        inner = addSat(inner, blockWork(nested));
    opWork = addSat(opWork, mulSat(trips, inner));
    work = addSat(work, opWork);
  }
  return work;
}

/// Moves dimensions [k, n) of `loop` into a serial scf.parallel nested in
/// its body; returns the outer loop over dimensions [0, k).
scf::ParallelOp splitInnerDims(scf::ParallelOp loop, unsigned k) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  auto outer = scf::ParallelOp::create(
      b, loc, loop.getLowerBound().take_front(k),
      loop.getUpperBound().take_front(k), loop.getStep().take_front(k));
  b.setInsertionPointToStart(outer.getBody());
  auto inner = scf::ParallelOp::create(
      b, loc, loop.getLowerBound().drop_front(k),
      loop.getUpperBound().drop_front(k), loop.getStep().drop_front(k));
  Block *from = loop.getBody();
  Block *to = inner.getBody();
  to->getOperations().splice(Block::iterator(to->getTerminator()),
                             from->getOperations(), from->begin(),
                             std::prev(from->end()));
  for (auto [i, iv] : llvm::enumerate(loop.getInductionVars()))
    iv.replaceAllUsesWith(i < k ? outer.getInductionVars()[i]
                                : inner.getInductionVars()[i - k]);
  loop.erase();
  return outer;
}

class ParallelOutliner {
public:
  ParallelOutliner(ModuleOp module, func::FuncOp entry, Value ctx)
      : module(module), symbolTable(module), entry(entry), ctx(ctx),
        converter(module.getContext()),
        ptrType(LLVM::LLVMPointerType::get(module.getContext())),
        i32Type(IntegerType::get(module.getContext(), 32)),
        i64Type(IntegerType::get(module.getContext(), 64)) {}

  /// Returns the plan for `loop`, or nothing when it must stay serial.
  std::optional<OutlinePlan> plan(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0 || !loop.getInitVals().empty())
      return std::nullopt;
    OutlinePlan result;
    result.loop = loop;
    SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    // The bounds are used by the call site, but the outlined function needs
    // the lower bounds and steps too.
    for (Value v : loop.getLowerBound())
      used.insert(v);
    for (Value v : loop.getStep())
      used.insert(v);
    for (Value v : used) {
      Operation *def = v.getDefiningOp();
      if (def && def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
          def->getNumResults() == 1 && matchPattern(v, m_Constant())) {
        result.constants.push_back(def);
        continue;
      }
      Type fieldType = storedType(v.getType());
      if (!fieldType)
        return std::nullopt;
      result.captures.push_back({v, fieldType});
    }
    return result;
  }

  /// Replaces the loop of `plan` by the outlined function and the call
  /// through the context.
  void outline(OutlinePlan &plan, int64_t perThreadChunks) {
    scf::ParallelOp loop = plan.loop;
    Location loc = loop.getLoc();
    OpBuilder b(loop);

    // Trip counts, and their product: the number of units to share out.
    SmallVector<Value> trips;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value total = one;
    for (auto [lb, ub, step] : llvm::zip_equal(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      Value trip = tripCount(b, loc, lb, ub, step, zero, one);
      trips.push_back(trip);
      total = arith::MulIOp::create(b, loc, total, trip);
    }

    // Chunks: one when the call has a single thread, else a few per thread
    // (never more than the units).
    Value threads = loadNumThreads(b, loc, ctx);
    Value isSerial =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, threads, one);
    Value perThread = arith::SelectOp::create(
        b, loc, isSerial, one,
        arith::ConstantIndexOp::create(b, loc, perThreadChunks));
    Value chunks = arith::MinUIOp::create(
        b, loc, total, arith::MulIOp::create(b, loc, threads, perThread));

    // The outlined function reads the chunk count, the trip counts and the
    // captures from the struct.
    // Static trip counts are constants there.
    SmallVector<Capture> fields;
    fields.push_back({chunks, i64Type});
    SmallVector<std::optional<int64_t>> staticTrips;
    for (Value trip : trips) {
      staticTrips.push_back(getConstantIntValue(trip));
      if (!staticTrips.back())
        fields.push_back({trip, i64Type});
    }
    llvm::append_range(fields, plan.captures);
    SmallVector<Type> fieldTypes;
    for (const Capture &field : fields)
      fieldTypes.push_back(field.fieldType);
    auto structType =
        LLVM::LLVMStructType::getLiteral(module.getContext(), fieldTypes);

    func::FuncOp fn = buildFunction(plan, structType, staticTrips);

    // The struct lives in the entry block so that a loop around the region
    // does not grow the stack.
    Value data;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&entry.getBody().front());
      Value count =
          LLVM::ConstantOp::create(b, loc, i64Type, b.getI64IntegerAttr(1));
      data = LLVM::AllocaOp::create(b, loc, ptrType, structType, count,
                                    /*alignment=*/8);
    }
    for (auto [i, field] : llvm::enumerate(fields)) {
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, structType, data,
                                       ArrayRef<LLVM::GEPArg>{0, int32_t(i)});
      LLVM::StoreOp::create(b, loc, toField(b, loc, field), slot);
    }

    Value pool = LLVM::LoadOp::create(
        b, loc, ptrType,
        LLVM::GEPOp::create(b, loc, ptrType, contextType(), ctx,
                            ArrayRef<LLVM::GEPArg>{0, kPool}));
    Value parallelFor = LLVM::LoadOp::create(
        b, loc, ptrType,
        LLVM::GEPOp::create(b, loc, ptrType, contextType(), ctx,
                            ArrayRef<LLVM::GEPArg>{0, kParallelFor}));
    // func.constant lowers to llvm.mlir.addressof once @fn is an llvm.func.
    Value fnRef = func::ConstantOp::create(b, loc, fn.getFunctionType(),
                                           SymbolRefAttr::get(fn));
    Value fnPtr =
        UnrealizedConversionCastOp::create(b, loc, ptrType, fnRef).getResult(0);
    Value n = arith::IndexCastOp::create(b, loc, i64Type, chunks);
    auto calleeType = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(module.getContext()),
        {ptrType, i64Type, ptrType, ptrType});
    LLVM::CallOp::create(b, loc, calleeType,
                         ValueRange{parallelFor, pool, n, fnPtr, data});
    loop.erase();
  }

private:
  LLVM::LLVMStructType contextType() {
    return execContextType(module.getContext());
  }

  /// The field type `type` is stored as, or null when it cannot travel.
  Type storedType(Type type) {
    if (isa<IndexType>(type))
      return i64Type;
    if (auto memref = dyn_cast<MemRefType>(type))
      return converter.convertType(memref);
    if (LLVM::isCompatibleType(type) && !isa<LLVM::LLVMVoidType>(type))
      return type;
    return Type();
  }

  Value toField(OpBuilder &b, Location loc, const Capture &field) {
    Type type = field.value.getType();
    if (isa<IndexType>(type))
      return arith::IndexCastOp::create(b, loc, i64Type, field.value);
    if (isa<MemRefType>(type))
      return UnrealizedConversionCastOp::create(b, loc, field.fieldType,
                                                field.value)
          .getResult(0);
    return field.value;
  }

  Value fromField(OpBuilder &b, Location loc, Value loaded, Type type) {
    if (isa<IndexType>(type))
      return arith::IndexCastOp::create(b, loc, type, loaded);
    if (isa<MemRefType>(type))
      return UnrealizedConversionCastOp::create(b, loc, type, loaded)
          .getResult(0);
    return loaded;
  }

  /// max(0, ceil((ub - lb) / step)); steps of scf.parallel are positive.
  static Value tripCount(OpBuilder &b, Location loc, Value lb, Value ub,
                         Value step, Value zero, Value one) {
    std::optional<int64_t> l = getConstantIntValue(lb);
    std::optional<int64_t> u = getConstantIntValue(ub);
    std::optional<int64_t> s = getConstantIntValue(step);
    if (l && u && s && *s > 0)
      return arith::ConstantIndexOp::create(
          b, loc, *u > *l ? llvm::divideCeil(*u - *l, *s) : 0);
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    span = arith::MaxSIOp::create(b, loc, span, zero);
    Value rounded = arith::AddIOp::create(
        b, loc, span, arith::SubIOp::create(b, loc, step, one));
    return arith::DivUIOp::create(b, loc, rounded, step);
  }

  /// `func.func private @<entry>_parallel_<n>(%data: !llvm.ptr, %chunk: i64)`
  /// running units [chunk * total / chunks, (chunk + 1) * total / chunks) of
  /// the linearized iteration space of the loop.
  func::FuncOp buildFunction(OutlinePlan &plan, LLVM::LLVMStructType structType,
                             ArrayRef<std::optional<int64_t>> staticTrips) {
    size_t numDims = staticTrips.size();
    scf::ParallelOp loop = plan.loop;
    Location loc = loop.getLoc();
    MLIRContext *context = module.getContext();
    OpBuilder b(context);
    auto fnType = b.getFunctionType({ptrType, i64Type}, {});
    // Created unlinked so that the symbol table picks a free name.
    auto fn = func::FuncOp::create(
        b, loc, (entry.getSymName() + "_parallel").str(), fnType);
    fn.setPrivate();
    fn->setAttr("llvm.linkage",
                LLVM::LinkageAttr::get(context, LLVM::Linkage::Internal));
    symbolTable.insert(fn, Block::iterator(entry));

    Block *body = fn.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value data = body->getArgument(0);
    IRMapping mapping;
    for (Operation *constant : plan.constants)
      b.clone(*constant, mapping);
    int32_t nextField = 0;
    auto load = [&]() -> Value {
      int32_t i = nextField++;
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, structType, data,
                                       ArrayRef<LLVM::GEPArg>{0, i});
      return LLVM::LoadOp::create(b, loc, structType.getBody()[i], slot);
    };
    Type indexType = b.getIndexType();
    Value chunks = arith::IndexCastOp::create(b, loc, indexType, load());
    SmallVector<Value> trips;
    int64_t staticTotal = 1;
    Value dynamicTotal;
    for (std::optional<int64_t> trip : staticTrips) {
      if (trip) {
        trips.push_back(arith::ConstantIndexOp::create(b, loc, *trip));
        staticTotal *= *trip;
        continue;
      }
      trips.push_back(arith::IndexCastOp::create(b, loc, indexType, load()));
      dynamicTotal = dynamicTotal ? arith::MulIOp::create(b, loc, dynamicTotal,
                                                          trips.back())
                                  : trips.back();
    }
    Value total = arith::ConstantIndexOp::create(b, loc, staticTotal);
    if (dynamicTotal)
      total = arith::MulIOp::create(b, loc, total, dynamicTotal);
    for (const Capture &capture : plan.captures)
      mapping.map(capture.value,
                  fromField(b, loc, load(), capture.value.getType()));

    Value chunk =
        arith::IndexCastOp::create(b, loc, indexType, body->getArgument(1));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto bound = [&](Value c) {
      return arith::DivUIOp::create(
          b, loc, arith::MulIOp::create(b, loc, c, total), chunks);
    };
    Value begin = bound(chunk);
    Value end = bound(arith::AddIOp::create(b, loc, chunk, one));
    auto unitLoop = scf::ForOp::create(b, loc, begin, end, one);
    b.setInsertionPointToStart(unitLoop.getBody());

    // Unit -> induction variables, the last dimension varying fastest.
    Value rest = unitLoop.getInductionVar();
    SmallVector<Value> ivs(numDims);
    for (size_t d = numDims; d-- > 0;) {
      Value pos = rest;
      if (d > 0) {
        pos = arith::RemUIOp::create(b, loc, rest, trips[d]);
        rest = arith::DivUIOp::create(b, loc, rest, trips[d]);
      }
      Value lb = mapping.lookupOrDefault(loop.getLowerBound()[d]);
      Value step = mapping.lookupOrDefault(loop.getStep()[d]);
      ivs[d] = arith::AddIOp::create(b, loc, lb,
                                     arith::MulIOp::create(b, loc, pos, step));
    }
    for (auto [iv, value] : llvm::zip_equal(loop.getInductionVars(), ivs))
      mapping.map(iv, value);
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);

    b.setInsertionPointToEnd(body);
    func::ReturnOp::create(b, loc);
    return fn;
  }

  ModuleOp module;
  SymbolTable symbolTable;
  func::FuncOp entry;
  Value ctx;
  LLVMTypeConverter converter;
  Type ptrType;
  IntegerType i32Type;
  IntegerType i64Type;
};

struct CpuOutlineParallelPass
    : public qcc::cpu::impl::CpuOutlineParallelBase<CpuOutlineParallelPass> {
  using Base::Base;

  /// q.num_threads: the context's num_threads (at least 1), loaded once at
  /// the start of the entry function, whose loops may capture it; 1 in any
  /// other function (no context: serial).
  static void resolveNumThreads(ModuleOp module, func::FuncOp entryFn) {
    SmallVector<qcc::q::NumThreadsOp> ops;
    module.walk([&](qcc::q::NumThreadsOp op) { ops.push_back(op); });
    if (ops.empty())
      return;
    OpBuilder b(module.getContext());
    b.setInsertionPointToStart(&entryFn.getBody().front());
    Value threads =
        loadNumThreads(b, entryFn.getLoc(), entryFn.getArgument(0));
    for (qcc::q::NumThreadsOp op : ops) {
      if (op->getParentOfType<func::FuncOp>() == entryFn) {
        op.replaceAllUsesWith(threads);
      } else {
        OpBuilder at(op);
        op.replaceAllUsesWith(
            arith::ConstantIndexOp::create(at, op.getLoc(), 1).getResult());
      }
      op.erase();
    }
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = module.getContext();
    if (chunksPerThread <= 0 || minUnits < 0 || minWork < 0) {
      module.emitError("qcc-cpu-outline-parallel options must be positive "
                       "(min-work and min-units non-negative)");
      return signalPassFailure();
    }
    auto entryFn = module.lookupSymbol<func::FuncOp>(entry);
    if (!entryFn || entryFn.isExternal()) {
      module.emitError("entry function '") << entry << "' not found";
      return signalPassFailure();
    }
    auto ptrType = LLVM::LLVMPointerType::get(context);
    if (!module->hasAttr(qcc::cpu::kExecContextAttrName)) {
      if (!SymbolTable::symbolKnownUseEmpty(entryFn, module)) {
        entryFn.emitError("entry function is used inside the module; its "
                          "signature cannot take the execution context");
        return signalPassFailure();
      }
      if (entryFn.getNumResults() != 0) {
        entryFn.emitError("entry function must return its results through "
                          "output buffers");
        return signalPassFailure();
      }
      if (failed(entryFn.insertArgument(0, ptrType, DictionaryAttr(),
                                        entryFn.getLoc()))) {
        entryFn.emitError("cannot add the execution context parameter");
        return signalPassFailure();
      }
      module->setAttr(qcc::cpu::kExecContextAttrName, UnitAttr::get(context));
    } else if (entryFn.getNumArguments() == 0 ||
               entryFn.getArgument(0).getType() != ptrType) {
      entryFn.emitError("module is marked '")
          << qcc::cpu::kExecContextAttrName
          << "' but the entry function does not take an !llvm.ptr first";
      return signalPassFailure();
    }

    resolveNumThreads(module, entryFn);

    SmallVector<scf::ParallelOp> loops;
    entryFn.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
      loops.push_back(loop);
      // Nested loops run serially inside their outlined parent.
      return WalkResult::skip();
    });
    ParallelOutliner outliner(module, entryFn, entryFn.getArgument(0));
    for (scf::ParallelOp loop : loops) {
      if (!loop.getInitVals().empty())
        continue;
      // A kernel's own chunk count (read before splitInnerDims rebuilds the
      // loop).
      int64_t perThread = chunksPerThread;
      if (Attribute attr = loop->getAttr(qcc::cpu::kChunksPerThreadAttrName)) {
        auto value = dyn_cast<IntegerAttr>(attr);
        if (!value || value.getValue().getSExtValue() <= 0) {
          loop.emitError("'")
              << qcc::cpu::kChunksPerThreadAttrName
              << "' must be a positive integer";
          return signalPassFailure();
        }
        perThread = value.getValue().getSExtValue();
      }
      // Static trip counts of the leading dimensions, up to the first
      // dynamic one.
      SmallVector<uint64_t> trips;
      for (auto [lb, ub, step] : llvm::zip_equal(
               loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
        std::optional<uint64_t> trip = staticTrips(lb, ub, step);
        if (!trip)
          break;
        trips.push_back(*trip);
      }
      bool allStatic = trips.size() == loop.getNumLoops();
      if (allStatic) {
        uint64_t units = 1;
        for (uint64_t trip : trips)
          units = mulSat(units, trip);
        if (mulSat(units, blockWork(*loop.getBody())) <
            static_cast<uint64_t>(minWork))
          continue;
      }
      uint64_t prefix = 1;
      for (unsigned k = 0; minUnits > 0 && k + 1 < trips.size(); ++k) {
        prefix = mulSat(prefix, trips[k]);
        if (prefix >= static_cast<uint64_t>(minUnits)) {
          loop = splitInnerDims(loop, k + 1);
          break;
        }
      }
      if (std::optional<OutlinePlan> plan = outliner.plan(loop))
        outliner.outline(*plan, perThread);
    }
  }
};

} // namespace
