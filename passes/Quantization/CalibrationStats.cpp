//===- CalibrationStats.cpp - reading a --calib-stats folder --------------===//

#include "qcc/Passes/CalibrationStats.h"

#include "qcc/qcc_tensor_io.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace qcc;

std::unique_ptr<CalibrationStats>
CalibrationStats::open(llvm::StringRef dir, std::string &error) {
  llvm::SmallString<256> indexPath(dir);
  llvm::sys::path::append(indexPath, "index.json");
  auto buffer = llvm::MemoryBuffer::getFile(indexPath);
  if (!buffer) {
    error = "cannot read calibration statistics '" + indexPath.str().str() +
            "': " + buffer.getError().message();
    return nullptr;
  }
  llvm::Expected<llvm::json::Value> parsed =
      llvm::json::parse((*buffer)->getBuffer());
  if (!parsed) {
    error = "'" + indexPath.str().str() +
            "' is not JSON: " + llvm::toString(parsed.takeError());
    return nullptr;
  }
  const llvm::json::Object *root = parsed->getAsObject();
  const llvm::json::Array *activations =
      root ? root->getArray("activations") : nullptr;
  if (!activations) {
    error = "'" + indexPath.str().str() + "' has no \"activations\" array";
    return nullptr;
  }
  std::unique_ptr<CalibrationStats> stats(new CalibrationStats());
  stats->directory = dir.str();
  for (const llvm::json::Value &entry : *activations) {
    const llvm::json::Object *obj = entry.getAsObject();
    std::optional<llvm::StringRef> prefix =
        obj ? obj->getString("file_prefix") : std::nullopt;
    const llvm::json::Array *layers = obj ? obj->getArray("layers") : nullptr;
    if (!prefix || prefix->empty() || !layers) {
      error = "'" + indexPath.str().str() +
              "': every activation needs a \"file_prefix\" and \"layers\"";
      return nullptr;
    }
    for (const llvm::json::Value &layer : *layers) {
      std::optional<llvm::StringRef> name = layer.getAsString();
      if (!name) {
        error = "'" + indexPath.str().str() + "': layer names must be strings";
        return nullptr;
      }
      auto [it, inserted] = stats->prefixes.try_emplace(*name, prefix->str());
      if (!inserted && it->second != *prefix)
        it->second.clear();
    }
  }
  return stats;
}

std::string CalibrationStats::lookup(llvm::StringRef layer,
                                     std::string &error) const {
  auto it = prefixes.find(layer);
  if (it == prefixes.end()) {
    error = "no calibration statistics for '" + layer.str() + "' in '" +
            directory + "'";
    return "";
  }
  if (it->second.empty())
    error = "the calibration statistics in '" + directory + "' list '" +
            layer.str() + "' under two activations";
  return it->second;
}

bool CalibrationStats::loadArray(llvm::StringRef prefix,
                                 llvm::StringRef suffix,
                                 llvm::ArrayRef<int64_t> dims,
                                 std::vector<double> &out,
                                 std::string &error) const {
  llvm::SmallString<256> path(directory);
  llvm::sys::path::append(path, prefix + suffix);
  qcc_tensor t;
  std::memset(&t, 0, sizeof(t));
  if (qcc_status st = qcc_tensor_read_npy(path.c_str(), &t)) {
    error = "cannot read '" + path.str().str() +
            "': " + qcc_status_message(st);
    qcc_status_free(st);
    return false;
  }
  bool ok = t.dtype == QCC_DTYPE_FLOAT64 && t.rank == dims.size();
  for (size_t i = 0; ok && i < dims.size(); ++i)
    ok = t.dims[i] == dims[i];
  if (!ok) {
    std::string want, have;
    for (int64_t d : dims)
      want += (want.empty() ? "" : "x") + std::to_string(d);
    for (uint32_t i = 0; i < t.rank; ++i)
      have += (i ? "x" : "") + std::to_string(t.dims[i]);
    error = "'" + path.str().str() + "' holds " + qcc_dtype_name(t.dtype) +
            " [" + have + "], expected float64 [" + want + "]";
    qcc_tensor_free_data(&t);
    return false;
  }
  out.resize(t.byte_size / sizeof(double));
  std::memcpy(out.data(), t.data, out.size() * sizeof(double));
  qcc_tensor_free_data(&t);
  return true;
}

bool CalibrationStats::loadGram(llvm::StringRef prefix, int64_t k,
                                std::vector<double> &out,
                                std::string &error) const {
  return loadArray(prefix, ".xtx.npy", {k, k}, out, error);
}

bool CalibrationStats::loadMeanAbs(llvm::StringRef prefix, int64_t k,
                                   std::vector<double> &out,
                                   std::string &error) const {
  return loadArray(prefix, ".mean_abs.npy", {k}, out, error);
}
