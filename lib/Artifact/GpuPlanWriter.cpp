//===- GpuPlanWriter.cpp - launch plan and manifest of GPU artifacts ------===//

#include "qcc/Artifact/GpuArtifact.h"
#include "qcc/Codegen/GPU/Passes.h"
#include "qcc/Passes/Passes.h"
#include "qcc/Target/Target.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace qcc;

namespace {

/// Where a buffer lives at run time: a region named by the plan format and
/// a byte offset in it.
struct Place {
  std::string region; // input, output, weights, arena
  int64_t index = -1; // for input/output
  int64_t offset = 0;
};

class PlanBuilder {
public:
  PlanBuilder(func::FuncOp func, ModuleOp module, std::string &error)
      : func(func), error(error) {
    if (auto records = module->getAttrOfType<ArrayAttr>(kWeightsAttrName))
      for (Attribute record : records)
        weightOffsets.push_back(cast<DictionaryAttr>(record)
                                    .getAs<IntegerAttr>("offset")
                                    .getInt());
    numInputs = -1;
    if (auto attr = module->getAttrOfType<IntegerAttr>("qcc.num_inputs"))
      numInputs = attr.getInt();
  }

  /// The root buffer of `value` (views resolved) as a place; the value's
  /// own layout offset is not included.
  FailureOr<Place> root(Value value) {
    while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
      value = view.getViewSource();
    if (auto alloc = value.getDefiningOp<memref::AllocOp>()) {
      auto offset =
          alloc->getAttrOfType<IntegerAttr>(qcc::gpu::kArenaOffsetAttrName);
      if (!offset)
        return fail("buffer without an arena offset (run qcc-gpu-plan-memory)");
      return Place{"arena", -1, offset.getInt()};
    }
    auto arg = dyn_cast<BlockArgument>(value);
    if (!arg || arg.getOwner()->getParentOp() != func)
      return fail("kernel operand is neither a buffer nor an entry argument");
    int64_t i = arg.getArgNumber();
    int64_t weights = weightOffsets.size();
    if (i < weights)
      return Place{"weights", -1, weightOffsets[i]};
    if (numInputs < 0)
      return fail("number of inputs unknown (qcc.num_inputs)");
    if (i < weights + numInputs)
      return Place{"input", i - weights, 0};
    return Place{"output", i - weights - numInputs, 0};
  }

  void writePtr(llvm::json::OStream &json, const Place &place,
                int64_t extraOffset) {
    json.object([&] {
      json.attribute("ptr", place.region);
      if (place.index >= 0)
        json.attribute("index", place.index);
      json.attribute("offset", place.offset + extraOffset);
    });
  }

  /// Byte offset of a contiguous view from its root; fails for views that
  /// are not contiguous.
  FailureOr<int64_t> contiguousOffset(Value value) {
    auto type = cast<MemRefType>(value.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        ShapedType::isDynamic(offset))
      return fail("copy of a buffer with a dynamic layout");
    int64_t expected = 1;
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      if (type.getDimSize(d) != 1 && strides[d] != expected)
        return fail("copy between non-contiguous views");
      expected *= type.getDimSize(d);
    }
    return offset * elementBytes(type);
  }

  static int64_t elementBytes(MemRefType type) {
    int64_t bits = type.getElementTypeBitWidth();
    return bits == 1 ? 1 : (bits + 7) / 8;
  }

  FailureOr<std::string> build() {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvm::json::OStream json(os, 2);
    SmallVector<std::string> kernels;
    llvm::StringMap<int64_t> kernelIndex;
    for (auto launch : func.getBody().getOps<mlir::gpu::LaunchFuncOp>()) {
      std::string name = launch.getKernelName().str();
      if (kernelIndex.try_emplace(name, kernels.size()).second)
        kernels.push_back(name);
    }
    auto module = func->getParentOfType<ModuleOp>();
    auto arena = module->getAttrOfType<IntegerAttr>(qcc::gpu::kArenaBytesAttrName);
    if (!arena)
      return fail("module without an arena size (run qcc-gpu-plan-memory)");
    bool ok = true;
    json.object([&] {
      json.attribute("plan_version", 1);
      json.attribute("arena_bytes", arena.getInt());
      json.attributeArray("kernels", [&] {
        for (const std::string &k : kernels)
          json.value(k);
      });
      json.attributeArray("commands", [&] {
        for (Operation &op : func.getBody().front()) {
          if (!ok)
            return;
          if (auto launch = dyn_cast<mlir::gpu::LaunchFuncOp>(op))
            ok = succeeded(writeLaunch(json, launch,
                                       kernelIndex[launch.getKernelName()]));
          else if (auto copy = dyn_cast<memref::CopyOp>(op))
            ok = succeeded(writeCopy(json, copy));
        }
      });
    });
    if (!ok)
      return failure();
    os << "\n";
    return text;
  }

private:
  LogicalResult writeLaunch(llvm::json::OStream &json,
                            mlir::gpu::LaunchFuncOp launch, int64_t kernel) {
    auto constant = [](Value v) { return getConstantIntValue(v); };
    mlir::gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    mlir::gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    SmallVector<int64_t> dims;
    for (Value v : {grid.x, grid.y, grid.z, block.x, block.y, block.z}) {
      std::optional<int64_t> c = constant(v);
      if (!c)
        return fail("launch with a grid or block size unknown at compile time");
      dims.push_back(*c);
    }
    int64_t shared = 0;
    if (Value dyn = launch.getDynamicSharedMemorySize()) {
      std::optional<int64_t> c = constant(dyn);
      if (!c)
        return fail("dynamic shared memory size unknown at compile time");
      shared = *c;
    }
    SmallVector<Place> places;
    SmallVector<Attribute> scalars;
    for (Value operand : launch.getKernelOperands()) {
      if (isa<MemRefType>(operand.getType())) {
        FailureOr<Place> place = root(operand);
        if (failed(place))
          return failure();
        places.push_back(*place);
        scalars.push_back({});
        continue;
      }
      Attribute value;
      if (!matchPattern(operand, m_Constant(&value)))
        return fail("kernel scalar operand is not a compile-time constant");
      places.push_back({});
      scalars.push_back(value);
    }
    json.object([&] {
      json.attribute("op", "launch");
      json.attribute("kernel", kernel);
      json.attributeArray("grid", [&] {
        for (int i = 0; i < 3; ++i)
          json.value(dims[i]);
      });
      json.attributeArray("block", [&] {
        for (int i = 3; i < 6; ++i)
          json.value(dims[i]);
      });
      json.attribute("shared_bytes", shared);
      json.attributeArray("args", [&] {
        for (size_t i = 0; i < places.size(); ++i) {
          Attribute scalar = scalars[i];
          if (!scalar) {
            writePtr(json, places[i], 0);
            continue;
          }
          json.object([&] {
            if (auto f = dyn_cast<FloatAttr>(scalar))
              json.attribute("f32", f.getValueAsDouble());
            else if (auto i = dyn_cast<IntegerAttr>(scalar))
              json.attribute(i.getType().isInteger(32) ? "i32" : "i64",
                             i.getInt());
          });
        }
      });
    });
    return success();
  }

  LogicalResult writeCopy(llvm::json::OStream &json, memref::CopyOp copy) {
    FailureOr<Place> src = root(copy.getSource());
    FailureOr<Place> dst = root(copy.getTarget());
    if (failed(src) || failed(dst))
      return failure();
    FailureOr<int64_t> srcOffset = contiguousOffset(copy.getSource());
    FailureOr<int64_t> dstOffset = contiguousOffset(copy.getTarget());
    if (failed(srcOffset) || failed(dstOffset))
      return failure();
    auto type = cast<MemRefType>(copy.getSource().getType());
    int64_t bytes = type.getNumElements() * elementBytes(type);
    if (bytes == 0)
      return success();
    json.object([&] {
      json.attribute("op", "copy");
      json.attributeBegin("dst");
      writePtr(json, *dst, *dstOffset);
      json.attributeEnd();
      json.attributeBegin("src");
      writePtr(json, *src, *srcOffset);
      json.attributeEnd();
      json.attribute("bytes", bytes);
    });
    return success();
  }

  LogicalResult fail(const Twine &message) {
    error = message.str();
    return failure();
  }

  func::FuncOp func;
  std::string &error;
  SmallVector<int64_t> weightOffsets;
  int64_t numInputs;
};

} // namespace

FailureOr<std::string> qcc::buildGpuPlan(ModuleOp module, std::string &error) {
  auto func = module.lookupSymbol<func::FuncOp>("main");
  if (!func || func.isExternal()) {
    error = "entry function 'main' not found";
    return failure();
  }
  PlanBuilder builder(func, module, error);
  FailureOr<std::string> plan = builder.build();
  if (failed(plan) && error.empty())
    error = "cannot build the launch plan";
  return plan;
}

LogicalResult qcc::writeGpuArtifactFiles(ModuleOp module,
                                         const ArtifactSpec &spec,
                                         StringRef prefix, StringRef ptx,
                                         StringRef plan, std::string &error) {
  std::string weights;
  if (failed(collectWeightBytes(module, weights, error)))
    return failure();
  StringRef base = llvm::sys::path::filename(prefix);
  std::string ptxName = (base + ".ptx").str();
  std::string planName = (base + ".plan.json").str();
  std::string weightsName = (base + ".weights").str();
  if (failed(writeFile((prefix + ".ptx").str(), ptx, error)) ||
      failed(writeFile((prefix + ".plan.json").str(), plan, error)) ||
      failed(writeFile((prefix + ".weights").str(), weights, error)))
    return failure();

  std::string ptxHash = sha256Hex(ptx);
  std::string planHash = sha256Hex(plan);
  std::string weightsHash = sha256Hex(weights);
  std::string contentHash =
      computeContentHash(spec, ptxHash, weightsHash, planHash);

  const TargetInfo &target = *spec.target;
  std::string ptxIsa = "8.0";
  if (size_t at = target.llvmFeatures.find("+ptx"); at != std::string::npos) {
    std::string digits = target.llvmFeatures.substr(at + 4, 2);
    if (digits.size() == 2)
      ptxIsa = std::string(1, digits[0]) + "." + digits[1];
  }
  std::string manifest;
  llvm::raw_string_ostream os(manifest);
  llvm::json::OStream json(os, /*IndentSize=*/2);
  auto tensors = [&](const std::vector<TensorSignature> &list) {
    json.array([&] {
      for (const TensorSignature &t : list)
        json.object([&] {
          json.attribute("name", t.name);
          json.attribute("dtype", t.dtype);
          json.attributeArray("shape", [&] {
            for (int64_t d : t.shape)
              json.value(d);
          });
        });
    });
  };
  json.object([&] {
    json.attribute("format", "qcc-artifact");
    json.attribute("format_version", kArtifactFormatVersion);
    json.attribute("compiler", std::string("qcc ") + QCC_VERSION_STRING);
    json.attribute("source_model",
                   llvm::sys::path::filename(spec.sourceModelPath).str());
    json.attribute("source_model_sha256", spec.sourceModelSha256);
    json.attributeObject("target", [&] {
      json.attribute("name", target.name);
      json.attribute("kind", "cuda");
      json.attribute("sm", target.smVersion);
      if (target.archSpecific)
        json.attribute("arch_specific", true);
      json.attribute("ptx_isa", ptxIsa);
    });
    json.attribute("bits", spec.bits);
    json.attribute("library", ptxName);
    json.attribute("library_sha256", ptxHash);
    json.attribute("plan", planName);
    json.attribute("plan_sha256", planHash);
    json.attribute("weights", weightsName);
    json.attribute("weights_size", static_cast<int64_t>(weights.size()));
    json.attribute("weights_sha256", weightsHash);
    json.attributeBegin("inputs");
    tensors(spec.inputs);
    json.attributeEnd();
    json.attributeBegin("outputs");
    tensors(spec.outputs);
    json.attributeEnd();
    json.attribute("content_hash", contentHash);
  });
  os << "\n";
  return writeFile((prefix + ".json").str(), manifest, error);
}

LogicalResult qcc::emitGpuArtifact(ModuleOp module, const ArtifactSpec &spec,
                                   StringRef prefix, GpuEmitKind kind,
                                   std::string &error) {
  std::string llvmIr;
  FailureOr<std::string> ptx =
      emitPtx(module, *spec.target, error,
              kind == GpuEmitKind::LlvmIr ? &llvmIr : nullptr);
  if (failed(ptx))
    return failure();
  if (kind == GpuEmitKind::LlvmIr) {
    if (prefix.empty() || prefix == "-") {
      llvm::outs() << llvmIr;
      return success();
    }
    return writeFile(prefix, llvmIr, error);
  }
  llvm::SmallString<256> dir(prefix);
  llvm::sys::path::remove_filename(dir);
  if (!dir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
      error = "cannot create '" + dir.str().str() + "': " + ec.message();
      return failure();
    }
  if (kind == GpuEmitKind::Ptx)
    return writeFile((prefix + ".ptx").str(), *ptx, error);
  FailureOr<std::string> plan = buildGpuPlan(module, error);
  if (succeeded(plan) &&
      succeeded(writeGpuArtifactFiles(module, spec, prefix, *ptx, *plan, error)))
    return success();
  for (const char *ext : {".ptx", ".plan.json", ".weights", ".json"})
    llvm::sys::fs::remove(prefix + ext);
  return failure();
}
