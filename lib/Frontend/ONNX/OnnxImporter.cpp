//===- OnnxImporter.cpp - ONNX protobuf to MLIR ---------------------------===//
//
// The driver: parses the ModelProto (no exceptions, no onnx::checker), loads
// initializers (inline or external data), creates `func.func @main`, walks the
// nodes in graph order and dispatches each to its op handler, after trying to
// evaluate it on the host when all its inputs are known.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <cstring>
#include <map>
#include <set>

using namespace mlir;

namespace qcc {
namespace onnximport {


const OpTable &Importer::table() {
  static OpTable t = [] {
    OpTable t;
    registerElementwiseOps(t);
    registerShapeOps(t);
    registerGenerateOps(t);
    registerMatmulOps(t);
    registerNormOps(t);
    registerConvPoolOps(t);
    registerResizeOps(t);
    t["Constant"] = nullptr; // handled by the driver
    return t;
  }();
  return t;
}

//===----------------------------------------------------------------------===//
// Tensors and constants
//===----------------------------------------------------------------------===//

Value Importer::materialize(TensorInfo &info, StringRef name) {
  // Constants go at the top of the body so any later use is dominated.
  OpBuilder::InsertionGuard g(builder);
  Block *entry = builder.getInsertionBlock();
  builder.setInsertionPointToStart(entry);
  Location loc = NameLoc::get(builder.getStringAttr(name));
  if (info.host)
    return hostConstant(builder, loc, *info.host,
                        options.resourceThresholdBytes, name);
  auto type = RankedTensorType::get(info.shape, mlirElemType(&ctx, info.dtype));
  RawBuffer &raw = *info.raw;
  if ((int64_t)raw.size < options.resourceThresholdBytes ||
      info.dtype == kBool) {
    HostTensor h = rawToHost(raw.data, info.dtype, info.shape);
    return hostConstant(builder, loc, h, INT64_MAX);
  }
  // Hand the buffer over to the blob manager without copying.
  AsmResourceBlob blob;
  if (raw.owned) {
    raw.owned = false;
    size_t sz = raw.size;
    blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        ArrayRef<char>(raw.data, raw.size), 64, [sz](void *p, size_t, size_t) {
          llvm::deallocate_buffer(p, sz ? sz : 1, 64);
        });
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(raw.data, raw.size), 64);
  }
  auto attr =
      DenseResourceElementsAttr::get(type, sanitizeKey(name), std::move(blob));
  return arith::ConstantOp::create(builder, loc, type, attr);
}

template <typename Field>
static void copyField(const Field &f, int32_t dt, char *dst, int64_t n) {
  int64_t eb = dtypeBytes(dt);
  for (int64_t i = 0; i < n; ++i) {
    if (dt == kFloat) {
      float v = (float)f.Get(i);
      std::memcpy(dst + i * 4, &v, 4);
    } else if (dt == kDouble) {
      double v = (double)f.Get(i);
      std::memcpy(dst + i * 8, &v, 8);
    } else {
      uint64_t v = (uint64_t)f.Get(i);
      if (dt == kBool)
        v = v != 0;
      std::memcpy(dst + i * eb, &v, eb);
    }
  }
}

LogicalResult Importer::loadTensor(const onnx::TensorProto &t, StringRef what,
                                   TensorInfo &info) {
  int32_t dt = t.data_type();
  std::string name = t.name().empty() ? what.str() : t.name();
  if (!isSupportedDType(dt)) {
    error = "initializer '" + name + "' has unsupported element type " +
            dtypeName(dt);
    return failure();
  }
  info.dtype = dt;
  info.shape.assign(t.dims().begin(), t.dims().end());
  std::string why;
  if (failed(checkShapeSize(info.shape, why))) {
    error = "initializer '" + name + "' has shape " + shapeStr(info.shape) +
            " with " + why;
    return failure();
  }
  int64_t n = numElements(info.shape), eb = dtypeBytes(dt);
  size_t want = n * eb;
  // The data must be there before the buffer is allocated: a tampered
  // shape must not ask for terabytes.
  if (!(t.has_data_location() &&
        t.data_location() == onnx::TensorProto::EXTERNAL) &&
      t.has_raw_data() && t.raw_data().size() != want) {
    error = "initializer '" + name + "' has " +
            std::to_string(t.raw_data().size()) +
            " bytes of data, expected " + std::to_string(want);
    return failure();
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL && t.has_raw_data()) {
    error = "initializer '" + name +
            "' has both external data and inline raw_data";
    return failure();
  }
  if (t.data_location() != onnx::TensorProto::EXTERNAL &&
      t.data_location() != onnx::TensorProto::DEFAULT) {
    error = "initializer '" + name + "' has unknown data_location " +
            std::to_string((int)t.data_location());
    return failure();
  }
  std::shared_ptr<RawBuffer> raw;
  if (t.has_data_location() &&
      t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      int64_t *field = kv.key() == "offset"   ? &offset
                       : kv.key() == "length" ? &length
                                              : nullptr;
      if (kv.key() == "location")
        location = kv.value();
      else if (field && (StringRef(kv.value()).getAsInteger(10, *field) ||
                         *field < 0)) {
        error = "initializer '" + name + "' has external data " + kv.key() +
                " '" + kv.value() + "', expected a non-negative integer";
        return failure();
      }
    }
    // Like onnxruntime: the data file lies in the model's folder or below.
    bool escapes = llvm::sys::path::is_absolute(location) ||
                   llvm::sys::path::has_root_name(location);
    for (auto it = llvm::sys::path::begin(location),
              e = llvm::sys::path::end(location);
         it != e; ++it)
      escapes |= *it == "..";
    if (escapes) {
      error = "external data location '" + location + "' of initializer '" +
              name + "' is outside the model's folder";
      return failure();
    }
    SmallString<256> path(baseDir);
    llvm::sys::path::append(path, location);
    uint64_t fileSize = 0;
    if (location.empty() || !llvm::sys::fs::is_regular_file(path) ||
        llvm::sys::fs::file_size(path, fileSize)) {
      error = "external data file '" + location + "' for initializer '" + name +
              "' not found";
      return failure();
    }
    if ((length >= 0 && (size_t)length != want) ||
        (uint64_t)offset > fileSize || fileSize - offset < want) {
      error = "external data file '" + location + "' for initializer '" + name +
              "' is too short or its length does not match " +
              std::to_string(want) + " bytes";
      return failure();
    }
    auto buf = llvm::MemoryBuffer::getFileSlice(path, (int64_t)want, offset,
                                                /*IsVolatile=*/false);
    if (!buf || (*buf)->getBufferSize() < want) {
      error = "cannot read external data file '" + location +
              "' for initializer '" + name + "'";
      return failure();
    }
    raw = std::make_shared<RawBuffer>(want);
    std::memcpy(raw->data, (*buf)->getBufferStart(), want);
  } else if (t.has_raw_data()) {
    raw = std::make_shared<RawBuffer>(want);
    std::memcpy(raw->data, t.raw_data().data(), want);
  } else {
    int64_t have = 0;
    switch (dt) {
    case kFloat:
      have = t.float_data_size();
      break;
    case kDouble:
      have = t.double_data_size();
      break;
    case kInt64:
      have = t.int64_data_size();
      break;
    case kUInt32:
    case kUInt64:
      have = t.uint64_data_size();
      break;
    default:
      have = t.int32_data_size();
      break;
    }
    if (have != n) {
      error = "initializer '" + name + "' has " + std::to_string(have) +
              " elements, expected " + std::to_string(n);
      return failure();
    }
    raw = std::make_shared<RawBuffer>(want);
    switch (dt) {
    case kFloat:
      copyField(t.float_data(), dt, raw->data, n);
      break;
    case kDouble:
      copyField(t.double_data(), dt, raw->data, n);
      break;
    case kInt64:
      copyField(t.int64_data(), dt, raw->data, n);
      break;
    case kUInt32:
    case kUInt64:
      copyField(t.uint64_data(), dt, raw->data, n);
      break;
    default: // int32 and narrower, bool, float16/bfloat16 bits
      copyField(t.int32_data(), dt, raw->data, n);
      break;
    }
  }
  if (n <= kMaxFoldElements)
    info.host =
        std::make_shared<HostTensor>(rawToHost(raw->data, dt, info.shape));
  else
    info.raw = raw;
  return success();
}

//===----------------------------------------------------------------------===//
// Graph walk
//===----------------------------------------------------------------------===//

LogicalResult Importer::importConstantNode(NodeContext &nc) {
  if (nc.numOutputs() < 1)
    return nc.fail("expected one output");
  TensorInfo info;
  const auto &node = nc.node;
  if (node.attribute_size() != 1)
    return nc.fail("expected exactly one value attribute");
  const onnx::AttributeProto &a = node.attribute(0);
  StringRef an = a.name();
  if (an == "value") {
    if (failed(loadTensor(a.t(), node.output(0), info)))
      return failure();
  } else if (an == "value_float" || an == "value_floats") {
    HostTensor h(kFloat, an == "value_float"
                             ? std::vector<int64_t>{}
                             : std::vector<int64_t>{(int64_t)a.floats_size()});
    for (int64_t i = 0; i < h.size(); ++i)
      h.floats[i] = an == "value_float" ? a.f() : a.floats(i);
    nc.setOutputHost(0, std::move(h));
    return success();
  } else if (an == "value_int" || an == "value_ints") {
    HostTensor h(kInt64, an == "value_int"
                             ? std::vector<int64_t>{}
                             : std::vector<int64_t>{(int64_t)a.ints_size()});
    for (int64_t i = 0; i < h.size(); ++i)
      h.ints[i] = an == "value_int" ? a.i() : a.ints(i);
    nc.setOutputHost(0, std::move(h));
    return success();
  } else {
    return nc.unsupportedAttr(an);
  }
  values[node.output(0)] = std::move(info);
  return success();
}

LogicalResult Importer::importNode(const onnx::NodeProto &node, int64_t opset) {
  std::string locName = !node.name().empty()
                            ? node.name()
                            : (node.output_size() ? node.output(0) : "");
  Location loc = NameLoc::get(builder.getStringAttr(locName));
  NodeContext nc(*this, node, opset, builder, loc);
  const std::string &domain = node.domain();
  const OpTable &t = table();
  auto it = t.find(node.op_type());
  if ((domain != "" && domain != "ai.onnx") || it == t.end()) {
    error = "unsupported op '" + node.op_type() + "' (node '" + node.name() +
            "', domain '" + domain + "', opset " + std::to_string(opset) + ")";
    return failure();
  }
  for (int i = 0; i < node.input_size(); ++i) {
    if (node.input(i).empty())
      continue;
    if (!values.count(node.input(i))) {
      error = node.op_type() + " node '" + node.name() +
              "' uses undefined value '" + node.input(i) + "'";
      return failure();
    }
    int32_t dt = values[node.input(i)].dtype;
    if (!isSupportedDType(dt))
      return nc.fail("input '" + node.input(i) +
                     "' has unsupported element type " + dtypeName(dt));
  }
  if (failed(checkNodeSchema(nc)))
    return failure();
  if (node.op_type() == "Constant")
    return failed(importConstantNode(nc)) ? failure() : checkNodeOutputs(nc);

  FailureOr<bool> folded = tryFoldNode(nc);
  if (failed(folded))
    return failure();
  if (!*folded) {
    if (failed(it->second(nc))) {
      if (error.empty())
        (void)nc.fail("could not be imported");
      return failure();
    }
  }
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty() && !values.count(node.output(i)))
      return nc.fail("output " + Twine(i) + " ('" + node.output(i) +
                     "') is not supported");
  return checkNodeOutputs(nc);
}

/// A graph output's declared element type (when given) must be what the
/// graph computes.
LogicalResult Importer::checkDeclaredOutput(const onnx::ValueInfoProto &vo,
                                            const TensorInfo &t) {
  if (!vo.has_type() || !vo.type().has_tensor_type())
    return success();
  const auto &tt = vo.type().tensor_type();
  if (tt.elem_type() != kUndefined && tt.elem_type() != t.dtype) {
    error = "graph output '" + vo.name() + "' is declared " +
            dtypeName(tt.elem_type()) + " but computed as " +
            dtypeName(t.dtype);
    return failure();
  }
  // A declared shape that disagrees is left alone, as onnxruntime does (it
  // warns and runs): the computed shape is what the artifact records.
  return success();
}

static LogicalResult readValueInfo(const onnx::ValueInfoProto &vi,
                                   const OnnxImportOptions &options,
                                   TensorInfo &info, std::string &error) {
  const std::string &name = vi.name();
  if (!vi.has_type() || !vi.type().has_tensor_type()) {
    error = "input '" + name + "' is not a tensor";
    return failure();
  }
  const auto &tt = vi.type().tensor_type();
  info.dtype = tt.elem_type();
  if (!isSupportedDType(info.dtype)) {
    error = "input '" + name + "' has unsupported element type " +
            dtypeName(info.dtype);
    return failure();
  }
  auto ov = options.inputShapes.find(name);
  if (!tt.has_shape()) {
    if (ov == options.inputShapes.end()) {
      error = "input '" + name +
              "' has unknown rank; pass -input-shape=" + name + ":1x...";
      return failure();
    }
    info.shape = ov->second;
    std::string why;
    if (failed(checkShapeSize(info.shape, why))) {
      error = "-input-shape for '" + name + "' has " + why;
      return failure();
    }
    return success();
  }
  const auto &shape = tt.shape();
  if (ov != options.inputShapes.end() &&
      ov->second.size() != (size_t)shape.dim_size()) {
    error = "-input-shape for '" + name + "' has rank " +
            std::to_string(ov->second.size()) + " but the model says " +
            std::to_string(shape.dim_size());
    return failure();
  }
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto &d = shape.dim(i);
    bool known = d.has_dim_value() && d.dim_value() >= 0;
    if (ov != options.inputShapes.end()) {
      int64_t o = ov->second[i];
      if (known && d.dim_value() != o) {
        error = "-input-shape for '" + name + "' gives dimension " +
                std::to_string(i) + " as " + std::to_string(o) +
                " but the model fixes it to " + std::to_string(d.dim_value());
        return failure();
      }
      if (o < 0) {
        error = "-input-shape for '" + name + "' has a negative dimension";
        return failure();
      }
      info.shape.push_back(o);
      continue;
    }
    if (!known) {
      std::string dn = d.has_dim_param() && !d.dim_param().empty()
                           ? d.dim_param()
                           : "?" + std::to_string(i);
      std::string hint;
      for (int k = 0; k < shape.dim_size(); ++k) {
        const auto &dk = shape.dim(k);
        hint += (k ? "x" : "") +
                std::to_string(dk.has_dim_value() && dk.dim_value() >= 0
                                   ? dk.dim_value()
                                   : 1);
      }
      error = "input '" + name + "' has dynamic dimension '" + dn +
              "'; pass -input-shape=" + name + ":" + hint;
      return failure();
    }
    info.shape.push_back(d.dim_value());
  }
  std::string why;
  if (failed(checkShapeSize(info.shape, why))) {
    error = "input '" + name + "' has shape " + shapeStr(info.shape) +
            " with " + why;
    return failure();
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  if (!model.has_graph()) {
    error = "model has no graph";
    return {};
  }
  const onnx::GraphProto &g = model.graph();
  int64_t opset = -1;
  for (const auto &o : model.opset_import()) {
    if (o.domain() != "" && o.domain() != "ai.onnx")
      continue;
    if (opset >= 0) {
      error = "model imports the default-domain opset twice (" +
              std::to_string(opset) + " and " + std::to_string(o.version()) +
              ")";
      return {};
    }
    if (o.version() < 1) {
      error = "model imports default-domain opset " +
              std::to_string(o.version()) + "; opsets start at 1";
      return {};
    }
    opset = o.version();
  }
  if (opset > getMaxSupportedOpset()) {
    error = "model uses default-domain opset " + std::to_string(opset) +
            "; the importer supports up to " +
            std::to_string(getMaxSupportedOpset());
    return {};
  }
  if (opset < 0) {
    // ir_version < 3 models have no opset_import: they use opset 1.
    opset = model.ir_version() < 3 ? 1 : -1;
  }

  ctx.loadDialect<func::FuncDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, arith::ArithDialect,
                  math::MathDialect>();
  Location uloc = UnknownLoc::get(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(uloc);

  // Initializers first: a graph input with an initializer of the same name
  // is a constant with a default (we take the default).
  for (const auto &init : g.initializer()) {
    TensorInfo info;
    if (failed(loadTensor(init, init.name(), info)))
      return {};
    values[init.name()] = std::move(info);
  }
  if (g.sparse_initializer_size()) {
    error = "sparse initializers are not supported";
    return {};
  }
  for (const auto &kv : options.constantInputFiles) {
    bool isInput = false;
    for (const auto &vi : g.input())
      isInput |= vi.name() == kv.first;
    if (!isInput) {
      error = "-const-input names '" + kv.first +
              "', which is not an input of the model";
      return {};
    }
    auto buf = llvm::MemoryBuffer::getFile(kv.second, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (!buf) {
      error =
          "cannot open file '" + kv.second + "': " + buf.getError().message();
      return {};
    }
    onnx::TensorProto t;
    google::protobuf::io::CodedInputStream stream(
        reinterpret_cast<const uint8_t *>((*buf)->getBufferStart()),
        (int)(*buf)->getBufferSize());
    stream.SetTotalBytesLimit(INT_MAX);
    if (!t.ParseFromCodedStream(&stream)) {
      error = "file '" + kv.second +
              "' is not a valid ONNX TensorProto (protobuf parse failed)";
      return {};
    }
    TensorInfo info;
    std::string savedDir = baseDir;
    SmallString<256> dir(kv.second);
    llvm::sys::path::remove_filename(dir);
    baseDir = dir.empty() ? "." : dir.str().str();
    LogicalResult ok = loadTensor(t, kv.first, info);
    baseDir = savedDir;
    if (failed(ok))
      return {};
    values[kv.first] = std::move(info);
  }
  std::vector<std::string> argNames;
  SmallVector<Type> argTypes;
  std::vector<int32_t> argDTypes;
  for (const auto &vi : g.input()) {
    if (values.count(vi.name()))
      continue;
    TensorInfo info;
    if (failed(readValueInfo(vi, options, info, error)))
      return {};
    argNames.push_back(vi.name());
    argTypes.push_back(
        RankedTensorType::get(info.shape, mlirElemType(&ctx, info.dtype)));
    argDTypes.push_back(info.dtype);
    values[vi.name()] = std::move(info);
  }
  for (const auto &kv : options.inputShapes) {
    if (std::find(argNames.begin(), argNames.end(), kv.first) ==
        argNames.end()) {
      error = "-input-shape names '" + kv.first +
              "', which is not an input of the model";
      return {};
    }
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, uloc, "main",
                                   builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (size_t i = 0; i < argNames.size(); ++i) {
    values[argNames[i]].value = entry->getArgument(i);
    func.setArgAttr(i, "qcc.name", builder.getStringAttr(argNames[i]));
    func.setArgAttr(i, "qcc.dtype",
                    builder.getStringAttr(dtypeName(argDTypes[i])));
  }
  builder.setInsertionPointToEnd(entry);

  for (const auto &node : g.node()) {
    bool defaultDomain = node.domain() == "" || node.domain() == "ai.onnx";
    if (opset < 0 && defaultDomain) {
      error = "model has no opset import for the default domain";
      return {};
    }
    if (failed(importNode(node, defaultDomain ? opset : 0)))
      return {};
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  std::vector<std::pair<std::string, int32_t>> resultInfo;
  if (g.output_size() == 0) {
    error = "graph has no outputs";
    return {};
  }
  std::set<std::string> outputNames;
  for (const auto &vo : g.output()) {
    if (!outputNames.insert(vo.name()).second) {
      error = "graph output '" + vo.name() + "' is listed twice";
      return {};
    }
    auto it = values.find(vo.name());
    if (it == values.end()) {
      error = "graph output '" + vo.name() + "' is not produced by any node";
      return {};
    }
    TensorInfo &t = it->second;
    if (failed(checkDeclaredOutput(vo, t)))
      return {};
    if (!t.value)
      t.value = materialize(t, vo.name());
    results.push_back(t.value);
    resultTypes.push_back(t.value.getType());
    resultInfo.push_back({vo.name(), t.dtype});
  }
  func::ReturnOp::create(builder, uloc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
  for (size_t i = 0; i < resultInfo.size(); ++i) {
    func.setResultAttr(i, "qcc.name",
                       builder.getStringAttr(resultInfo[i].first));
    func.setResultAttr(i, "qcc.dtype",
                       builder.getStringAttr(dtypeName(resultInfo[i].second)));
  }

  // Drop what no result needs (unused initializers, dead branches).
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isOpTriviallyDead(&op))
      op.erase();

  std::string diag;
  {
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      if (diag.empty())
        diag = d.str();
      return success();
    });
    if (failed(verify(*module))) {
      error = "internal error: imported module does not verify: " + diag;
      return {};
    }
  }
  return module;
}

} // namespace onnximport

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

static OwningOpRef<ModuleOp>
importFromBytesImpl(MLIRContext &context, StringRef bytes, StringRef baseDir,
                    const OnnxImportOptions &options, std::string &error,
                    StringRef displayName) {
  error.clear();
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), (int)bytes.size());
  stream.SetTotalBytesLimit(INT_MAX);
  if (bytes.size() > (size_t)INT_MAX || !model.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    error = "file '" + displayName.str() +
            "' is not a valid ONNX model (protobuf parse failed)";
    return {};
  }
  if (model.ir_version() <= 0 && !model.has_graph()) {
    error = "file '" + displayName.str() +
            "' is not a valid ONNX model (no ir_version and no graph)";
    return {};
  }
  onnximport::Importer imp(context, options, baseDir, error);
  return imp.run(model);
}

OwningOpRef<ModuleOp> importOnnxModelFromBytes(MLIRContext &context,
                                               StringRef bytes,
                                               StringRef baseDir,
                                               const OnnxImportOptions &options,
                                               std::string &error) {
  return importFromBytesImpl(context, bytes, baseDir, options, error,
                             "<memory>");
}

OwningOpRef<ModuleOp> importOnnxModel(MLIRContext &context, StringRef path,
                                      const OnnxImportOptions &options,
                                      std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    error =
        "cannot open file '" + path.str() + "': " + buf.getError().message();
    return {};
  }
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  return importFromBytesImpl(context, (*buf)->getBuffer(), dir, options, error,
                             path);
}

std::vector<std::string> getSupportedOnnxOps() {
  onnximport::OpTable t;
  onnximport::registerElementwiseOps(t);
  onnximport::registerShapeOps(t);
  onnximport::registerGenerateOps(t);
  onnximport::registerMatmulOps(t);
  onnximport::registerNormOps(t);
  onnximport::registerConvPoolOps(t);
  onnximport::registerResizeOps(t);
  std::vector<std::string> r;
  for (auto &kv : t)
    r.push_back(kv.getKey().str());
  r.push_back("Constant");
  std::sort(r.begin(), r.end());
  return r;
}

int64_t getMaxSupportedOpset() { return 27; }

} // namespace qcc
