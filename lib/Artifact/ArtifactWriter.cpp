//===- ArtifactWriter.cpp - weights, manifest and header ------------------===//

#include "qcc/Artifact/Artifact.h"
#include "qcc/Passes/Passes.h"
#include "qcc/Target/Target.h"
#include "qcc/qcc_runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace qcc;

// Hashes come from the runtime's own SHA-256 (its public API), so that the
// compiler and the runtime compute the contract's digests with one
// implementation. (llvm::SHA256 in LLVM 22 also gives wrong digests from
// 512 MiB of input on.)
std::string qcc::sha256Hex(StringRef bytes) {
  char hex[65];
  qcc_sha256_hex(bytes.data(), bytes.size(), hex);
  return hex;
}

FailureOr<std::string> qcc::sha256File(StringRef path, std::string &error) {
  char hex[65];
  std::string pathText = path.str();
  if (qcc_status status = qcc_sha256_file_hex(pathText.c_str(), hex)) {
    error = qcc_status_message(status);
    qcc_status_free(status);
    return failure();
  }
  return std::string(hex);
}

LogicalResult qcc::readSignature(ModuleOp module, StringRef entry,
                                 ArtifactSpec &spec, std::string &error) {
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func) {
    error = "entry function '" + entry.str() + "' not found";
    return failure();
  }
  auto describe = [&](Type type, DictionaryAttr attrs, StringRef what,
                      unsigned index, TensorSignature &out) -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape()) {
      error = what.str() + " " + std::to_string(index) +
              " of the entry is not a statically shaped tensor";
      return failure();
    }
    auto name = attrs ? attrs.getAs<StringAttr>("qcc.name") : StringAttr();
    auto dtype = attrs ? attrs.getAs<StringAttr>("qcc.dtype") : StringAttr();
    if (!name || !dtype) {
      error = what.str() + " " + std::to_string(index) +
              " of the entry lacks qcc.name / qcc.dtype";
      return failure();
    }
    if (name.getValue().contains('\n')) {
      error = what.str() + " name '" + name.str() +
              "' contains a newline, which artifacts cannot record";
      return failure();
    }
    out.name = name.str();
    out.dtype = dtype.str();
    out.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    return success();
  };
  FunctionType type = func.getFunctionType();
  spec.inputs.resize(type.getNumInputs());
  for (unsigned i = 0; i < type.getNumInputs(); ++i)
    if (failed(describe(type.getInput(i), func.getArgAttrDict(i), "input", i,
                        spec.inputs[i])))
      return failure();
  spec.outputs.resize(type.getNumResults());
  for (unsigned i = 0; i < type.getNumResults(); ++i)
    if (failed(describe(type.getResult(i), func.getResultAttrDict(i), "output",
                        i, spec.outputs[i])))
      return failure();
  return success();
}

/// Appends the dense little-endian bytes of `value` to `out`.
static LogicalResult appendWeightBytes(ElementsAttr value, std::string &out,
                                       std::string &error) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob) {
      error = "weight resource '" + resource.getRawHandle().getKey().str() +
              "' has no data";
      return failure();
    }
    ArrayRef<char> data = blob->getData();
    out.append(data.begin(), data.end());
    return success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense) {
    error = "unsupported weight attribute kind";
    return failure();
  }
  Type element = dense.getElementType();
  if (element.isInteger(1)) {
    for (bool bit : dense.getValues<bool>())
      out.push_back(bit ? 1 : 0);
    return success();
  }
  ArrayRef<char> raw = dense.getRawData();
  int64_t count = dense.getNumElements();
  if (dense.isSplat()) {
    for (int64_t i = 0; i < count; ++i)
      out.append(raw.begin(), raw.end());
  } else {
    out.append(raw.begin(), raw.end());
  }
  return success();
}

std::string qcc::dimsString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(shape, os, "x");
  return text;
}

/// One line per input and output: "in|out NAME DTYPE DIMS\n".
static std::string ioLines(const ArtifactSpec &spec) {
  std::string text;
  for (const TensorSignature &t : spec.inputs)
    text += "in " + t.name + " " + t.dtype + " " + dimsString(t.shape) + "\n";
  for (const TensorSignature &t : spec.outputs)
    text += "out " + t.name + " " + t.dtype + " " + dimsString(t.shape) + "\n";
  return text;
}

std::string qcc::computeContentHash(const ArtifactSpec &spec,
                                   StringRef libraryHash,
                                   StringRef weightsHash, StringRef planHash) {
  std::string text = "qcc-artifact-v1\n" + libraryHash.str() + "\n" +
                     weightsHash.str() + "\n";
  if (!planHash.empty())
    text += "plan " + planHash.str() + "\n";
  return sha256Hex(text + ioLines(spec));
}

int64_t qcc::weightFileBytes(ModuleOp module) {
  int64_t bytes = 0;
  if (auto records = module->getAttrOfType<ArrayAttr>(kWeightsAttrName))
    for (Attribute record : records) {
      auto dict = cast<DictionaryAttr>(record);
      bytes = std::max(bytes, dict.getAs<IntegerAttr>("offset").getInt() +
                                  dict.getAs<IntegerAttr>("size").getInt());
    }
  return bytes;
}

std::string qcc::ioSignatureText(const ArtifactSpec &spec,
                                 int64_t weightBytes) {
  return "weights " + std::to_string(weightBytes) + "\n" + ioLines(spec);
}

LogicalResult qcc::writeFile(StringRef path, StringRef bytes,
                             std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return failure();
  }
  os << bytes;
  os.close();
  if (os.has_error()) {
    error = "error writing '" + path.str() + "'";
    return failure();
  }
  return success();
}

static std::string cIdentifier(StringRef name) {
  std::string id;
  for (char c : name)
    id.push_back(llvm::isAlnum(c) ? c : '_');
  if (id.empty() || llvm::isDigit(id.front()))
    id.insert(id.begin(), '_');
  return id;
}

static std::string headerText(const ArtifactSpec &spec, StringRef base) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string guard = "QCC_MODEL_" + llvm::StringRef(cIdentifier(base)).upper() + "_H";
  os << "/* Generated by qcc " << QCC_VERSION_STRING
     << "; do not edit. Artifact format " << kArtifactFormatVersion
     << ", target " << spec.target->name << ". */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  auto list = [&](const char *kind, const std::vector<TensorSignature> &ts) {
    for (auto [i, t] : llvm::enumerate(ts))
      os << "/* " << kind << " " << i << ": '" << t.name << "' " << t.dtype
         << " [" << dimsString(t.shape) << "] */\n";
  };
  list("input", spec.inputs);
  list("output", spec.outputs);
  os << "\n/* Prefer the runtime (qcc_runtime.h), which verifies the artifact"
        " and\n   the CPU. Calling directly: ctx is a qcc_exec_context (see"
        " docs/ARTIFACT.md)\n   whose arena holds qcc_artifact_arena_bytes() bytes,"
        " weights the contents of "
     << base << ".weights, 64-byte aligned buffers. */\n"
     << "uint32_t qcc_artifact_abi_version(void);\n"
     << "uint64_t qcc_artifact_arena_bytes(void);\n"
     << "void qcc_artifact_main(const void *ctx, void *const *inputs,\n"
     << "                       void *const *outputs, const uint8_t "
        "*weights);\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return text;
}

LogicalResult qcc::collectWeightBytes(ModuleOp module, std::string &weights,
                                      std::string &error) {
  if (auto records = module->getAttrOfType<ArrayAttr>(kWeightsAttrName)) {
    for (Attribute record : records) {
      auto dict = cast<DictionaryAttr>(record);
      int64_t offset = dict.getAs<IntegerAttr>("offset").getInt();
      int64_t size = dict.getAs<IntegerAttr>("size").getInt();
      if (static_cast<int64_t>(weights.size()) > offset) {
        error = "overlapping weight records";
        return failure();
      }
      weights.resize(offset, '\0');
      if (failed(appendWeightBytes(dict.getAs<ElementsAttr>("value"), weights,
                                   error)))
        return failure();
      if (static_cast<int64_t>(weights.size()) != offset + size) {
        error = "weight at offset " + std::to_string(offset) + " has " +
                std::to_string(weights.size() - offset) +
                " bytes, expected " + std::to_string(size);
        return failure();
      }
    }
  }
  return success();
}

LogicalResult qcc::writeArtifactFiles(ModuleOp module, const ArtifactSpec &spec,
                                      StringRef prefix, std::string &error) {
  std::string weights;
  if (failed(collectWeightBytes(module, weights, error)))
    return failure();
  std::string soPath = (prefix + ".so").str();
  std::string weightsPath = (prefix + ".weights").str();
  if (failed(writeFile(weightsPath, weights, error)))
    return failure();

  FailureOr<std::string> soHash = sha256File(soPath, error);
  if (failed(soHash))
    return failure();
  std::string weightsHash = sha256Hex(weights);

  std::string contentHash = computeContentHash(spec, *soHash, weightsHash);

  StringRef base = llvm::sys::path::filename(prefix);
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
  const TargetInfo &target = *spec.target;
  json.object([&] {
    json.attribute("format", "qcc-artifact");
    json.attribute("format_version", kArtifactFormatVersion);
    json.attribute("compiler", std::string("qcc ") + QCC_VERSION_STRING);
    json.attribute("source_model",
                   llvm::sys::path::filename(spec.sourceModelPath).str());
    json.attribute("source_model_sha256", spec.sourceModelSha256);
    json.attributeObject("target", [&] {
      json.attribute("name", target.name);
      json.attribute("kind", target.kind == TargetKind::Cpu ? "cpu" : "gpu");
      json.attribute("triple", target.triple);
      json.attribute("cpu", target.cpu);
      json.attributeArray("required_features", [&] {
        for (const std::string &f : target.requiredFeatures)
          json.value(f);
      });
    });
    json.attribute("bits", spec.bits);
    json.attribute("library", (base + ".so").str());
    json.attribute("library_sha256", *soHash);
    json.attribute("weights", (base + ".weights").str());
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
  if (failed(writeFile((prefix + ".json").str(), manifest, error)))
    return failure();
  return writeFile((prefix + ".h").str(), headerText(spec, base), error);
}
