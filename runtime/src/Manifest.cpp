//===- Manifest.cpp - The artifact manifest (model.json) ------------------===//

#include "Manifest.h"

#include "Json.h"
#include "Sha256.h"
#include "Status.h"

#include <cctype>
#include <set>

namespace qcc {
namespace runtime {

namespace {

/// Reads fields of one JSON object and reports the first problem.
class FieldReader {
public:
  FieldReader(const json::Value &object, std::string context)
      : object(object), context(std::move(context)) {}

  /// The first problem found, or "".
  const std::string &getError() const { return error; }

  const json::Value *get(const std::string &key, json::Value::Kind kind,
                         bool required) {
    if (!error.empty())
      return nullptr;
    const json::Value *value = object.find(key);
    if (!value) {
      if (required)
        error = "missing field " + where(key);
      return nullptr;
    }
    if (value->getKind() != kind) {
      error = "field " + where(key) + " must be " + article(kind) +
              json::Value::kindName(kind) + ", got " +
              json::Value::kindName(value->getKind());
      return nullptr;
    }
    return value;
  }

  bool getString(const std::string &key, std::string &out, bool required) {
    const json::Value *value = get(key, json::Value::Kind::String, required);
    if (value)
      out = value->getString();
    return error.empty();
  }

  bool getInteger(const std::string &key, int64_t &out, bool required) {
    const json::Value *value = get(key, json::Value::Kind::Number, required);
    if (value && !value->isInteger()) {
      error = "field " + where(key) + " must be an integer";
      return false;
    }
    if (value)
      out = value->getInteger();
    return error.empty();
  }

  /// A lowercase-normalised 64-digit hex SHA-256.
  bool getDigest(const std::string &key, std::string &out) {
    if (!getString(key, out, true))
      return false;
    bool valid = out.size() == 64;
    for (char &c : out) {
      valid = valid && std::isxdigit(static_cast<unsigned char>(c));
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!valid)
      error = "field " + where(key) + " must be a 64-digit hex SHA-256";
    return error.empty();
  }

  void setError(const std::string &message) {
    if (error.empty())
      error = message;
  }

  std::string where(const std::string &key) const {
    return "'" + (context.empty() ? key : context + "." + key) + "'";
  }

private:
  static const char *article(json::Value::Kind kind) {
    return kind == json::Value::Kind::Array || kind == json::Value::Kind::Object
               ? "an "
               : "a ";
  }

  const json::Value &object;
  std::string context;
  std::string error;
};

/// Reads the "inputs" or "outputs" list.
bool readTensorList(FieldReader &reader, const std::string &key,
                    std::vector<TensorSpec> &specs) {
  const json::Value *list = reader.get(key, json::Value::Kind::Array, true);
  if (!list)
    return false;
  std::set<std::string> names;
  size_t index = 0;
  for (const json::Value &entry : list->getArray()) {
    std::string context = key + "[" + std::to_string(index++) + "]";
    if (!entry.isObject()) {
      reader.setError("'" + context + "' must be an object");
      return false;
    }
    FieldReader fields(entry, context);
    TensorSpec spec;
    std::string dtypeName;
    fields.getString("name", spec.name, true);
    fields.getString("dtype", dtypeName, true);
    const json::Value *shape =
        fields.get("shape", json::Value::Kind::Array, true);
    if (!fields.getError().empty()) {
      reader.setError(fields.getError());
      return false;
    }
    if (spec.name.empty()) {
      reader.setError("'" + context + ".name' must not be empty");
      return false;
    }
    if (!names.insert(spec.name).second) {
      reader.setError("duplicate " + key.substr(0, key.size() - 1) + " name '" +
                      spec.name + "'");
      return false;
    }
    spec.dtype = qcc_dtype_from_name(dtypeName.c_str());
    if (spec.dtype == QCC_DTYPE_INVALID) {
      reader.setError("'" + context + ".dtype' has unknown element type '" +
                      dtypeName + "'");
      return false;
    }
    if (shape->getArray().size() > QCC_MAX_RANK) {
      reader.setError("'" + context + ".shape' has rank " +
                      std::to_string(shape->getArray().size()) +
                      ", more than the supported " +
                      std::to_string(QCC_MAX_RANK));
      return false;
    }
    for (const json::Value &dim : shape->getArray()) {
      if (!dim.isInteger() || dim.getInteger() < 0) {
        reader.setError("'" + context +
                        ".shape' must hold non-negative integers");
        return false;
      }
      spec.dims[spec.rank++] = dim.getInteger();
    }
    if (!computeByteSize(spec.dtype, spec.dims, spec.rank, spec.byteSize)) {
      reader.setError("'" + context + ".shape' is too large");
      return false;
    }
    specs.push_back(std::move(spec));
  }
  return true;
}

} // namespace

qcc_status parseManifest(const std::string &text, const std::string &path,
                         Manifest &manifest) {
  std::string prefix = "invalid manifest '" + path + "': ";
  json::Value root;
  std::string jsonError;
  if (!json::parse(text, root, jsonError))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "not valid JSON: " + jsonError);
  if (!root.isObject())
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "top level must be an object");

  FieldReader reader(root, "");
  std::string format;
  if (!reader.getString("format", format, true))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, prefix + reader.getError());
  if (format != "qcc-artifact")
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "'format' is \"" + format +
                          "\", expected \"qcc-artifact\"");
  if (!reader.getInteger("format_version", manifest.formatVersion, true))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, prefix + reader.getError());
  if (manifest.formatVersion != QCC_ARTIFACT_FORMAT_VERSION)
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "manifest '%s' has format_version %lld; this runtime "
                       "reads format_version %d",
                       path.c_str(),
                       static_cast<long long>(manifest.formatVersion),
                       QCC_ARTIFACT_FORMAT_VERSION);

  reader.getString("compiler", manifest.compiler, false);
  const json::Value *target =
      reader.get("target", json::Value::Kind::Object, true);
  if (target) {
    FieldReader targetReader(*target, "target");
    targetReader.getString("name", manifest.targetName, false);
    targetReader.getString("kind", manifest.targetKind, true);
    targetReader.getString("triple", manifest.targetTriple, false);
    if (manifest.targetKind == "cuda") {
      if (targetReader.getInteger("sm", manifest.targetSm, true) &&
          (manifest.targetSm < 10 || manifest.targetSm > 1000))
        targetReader.setError("'target.sm' must be a compute capability such "
                              "as 80");
      if (const json::Value *exact = targetReader.get(
              "arch_specific", json::Value::Kind::Bool, false))
        manifest.targetArchSpecific = exact->getBool();
      targetReader.getString("ptx_isa", manifest.targetPtxIsa, false);
    }
    const json::Value *features =
        targetReader.get("required_features", json::Value::Kind::Array, false);
    if (features) {
      for (const json::Value &feature : features->getArray()) {
        if (!feature.isString()) {
          targetReader.setError("'target.required_features' must hold strings");
          break;
        }
        manifest.requiredFeatures.push_back(feature.getString());
      }
    }
    if (!targetReader.getError().empty())
      reader.setError(targetReader.getError());
  }
  reader.getString("library", manifest.library, true);
  reader.getDigest("library_sha256", manifest.librarySha256);
  reader.getString("weights", manifest.weights, true);
  int64_t weightsSize = 0;
  if (reader.getInteger("weights_size", weightsSize, true) && weightsSize < 0)
    reader.setError("'weights_size' must not be negative");
  manifest.weightsSize = static_cast<uint64_t>(weightsSize);
  reader.getDigest("weights_sha256", manifest.weightsSha256);
  if (manifest.targetKind == "cuda") {
    reader.getString("plan", manifest.plan, true);
    reader.getDigest("plan_sha256", manifest.planSha256);
    if (reader.getError().empty() && manifest.plan.empty())
      reader.setError("'plan' must not be empty");
  }
  if (reader.getError().empty())
    readTensorList(reader, "inputs", manifest.inputs);
  if (reader.getError().empty())
    readTensorList(reader, "outputs", manifest.outputs);
  reader.getDigest("content_hash", manifest.contentHash);
  if (!reader.getError().empty())
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, prefix + reader.getError());
  if (manifest.library.empty())
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "'library' must not be empty");
  if (manifest.weights.empty())
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "'weights' must not be empty");
  return nullptr;
}

std::string contentHashIo(const std::vector<TensorSpec> &inputs,
                          const std::vector<TensorSpec> &outputs) {
  std::string io;
  for (const TensorSpec &spec : inputs)
    io += "in " + spec.name + " " + qcc_dtype_name(spec.dtype) + " " +
          formatDims(spec.dims, spec.rank) + "\n";
  for (const TensorSpec &spec : outputs)
    io += "out " + spec.name + " " + qcc_dtype_name(spec.dtype) + " " +
          formatDims(spec.dims, spec.rank) + "\n";
  return io;
}

std::string computeContentHash(const std::string &librarySha256,
                               const std::string &weightsSha256,
                               const std::vector<TensorSpec> &inputs,
                               const std::vector<TensorSpec> &outputs,
                               const std::string &planSha256) {
  std::string plan = planSha256.empty() ? "" : "plan " + planSha256 + "\n";
  return Sha256::hashHex("qcc-artifact-v1\n" + librarySha256 + "\n" +
                         weightsSha256 + "\n" + plan +
                         contentHashIo(inputs, outputs));
}

} // namespace runtime
} // namespace qcc
