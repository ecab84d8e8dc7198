//===- InputSets.cpp - sample inputs for calibration and evaluation -------===//

#include "qcc/Calibration/InputSets.h"

#include "qcc/qcc_tensor_io.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>
#include <map>

using namespace qcc;
namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

//===----------------------------------------------------------------------===//
// OwnedTensor
//===----------------------------------------------------------------------===//

OwnedTensor::OwnedTensor() { std::memset(&tensor, 0, sizeof(tensor)); }
OwnedTensor::~OwnedTensor() { qcc_tensor_free_data(&tensor); }
OwnedTensor::OwnedTensor(OwnedTensor &&other) noexcept : tensor(other.tensor) {
  std::memset(&other.tensor, 0, sizeof(other.tensor));
}
OwnedTensor &OwnedTensor::operator=(OwnedTensor &&other) noexcept {
  if (this != &other) {
    qcc_tensor_free_data(&tensor);
    tensor = other.tensor;
    std::memset(&other.tensor, 0, sizeof(other.tensor));
  }
  return *this;
}

namespace {

/// Takes the message out of a runtime status and frees it.
std::string takeMessage(qcc_status status) {
  std::string message = qcc_status_message(status);
  qcc_status_free(status);
  return message;
}

std::string dimsText(const int64_t *dims, uint32_t rank) {
  if (rank == 0)
    return "[]";
  std::string text = "[";
  for (uint32_t i = 0; i < rank; ++i)
    text += (i ? "x" : "") + std::to_string(dims[i]);
  return text + "]";
}

std::string dimsText(const std::vector<int64_t> &dims) {
  return dimsText(dims.data(), static_cast<uint32_t>(dims.size()));
}

bool sameDims(const qcc_tensor &t, const int64_t *dims, size_t rank) {
  return t.rank == rank && std::equal(dims, dims + rank, t.dims);
}

/// One place sets come from.
struct Source {
  enum Kind { Npz, Folder } kind;
  std::string path;
  /// Npz only: number of stacked sets (0 = the archive is one set).
  int64_t stacked = 0;
};

} // namespace

struct InputSets::Impl {
  std::vector<TensorSignature> inputs;
  std::vector<Source> sources;
  /// Set index -> (source, index inside a stacked archive or -1).
  std::vector<std::pair<size_t, int64_t>> sets;
  /// The whole entries of the stacked archive read last, by input.
  mutable size_t cachedSource = SIZE_MAX;
  mutable std::vector<OwnedTensor> cached;

  int findInput(llvm::StringRef name) const {
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].name == name)
        return static_cast<int>(i);
    return -1;
  }

  std::string inputList() const {
    std::string text;
    for (const TensorSignature &sig : inputs)
      text += (text.empty() ? "" : ", ") + sig.name;
    return text;
  }

  /// Counts the sets of an archive: 0 when entries have the inputs' shapes,
  /// N when all carry one more leading dimension N.
  bool inspectNpz(Source &source, std::string &error) const {
    qcc_npz *npz = nullptr;
    if (qcc_status st = qcc_npz_open(source.path.c_str(), &npz)) {
      error = takeMessage(st);
      return false;
    }
    std::unique_ptr<qcc_npz, void (*)(qcc_npz *)> guard(npz, qcc_npz_close);
    // Only the header is needed, but entries are small enough in practice
    // for a full read of the first input.
    const TensorSignature &first = inputs.front();
    OwnedTensor tensor;
    if (qcc_status st = qcc_npz_read(npz, first.name.c_str(), &tensor.get())) {
      error = "'" + source.path + "': no entry for model input '" +
              first.name + "' (" + takeMessage(st) + "); the model's inputs are " +
              inputList();
      return false;
    }
    const qcc_tensor &t = tensor.get();
    if (sameDims(t, first.shape.data(), first.shape.size())) {
      source.stacked = 0;
      return true;
    }
    if (t.rank == first.shape.size() + 1 && t.dims[0] > 0 &&
        std::equal(first.shape.begin(), first.shape.end(), t.dims + 1)) {
      source.stacked = t.dims[0];
      return true;
    }
    error = "'" + source.path + "': entry '" + first.name + "' has shape " +
            dimsText(t.dims, t.rank) + "; the model input is " +
            dimsText(first.shape) + " (or N stacked sets: [N" +
            (first.shape.empty() ? "" : "x") +
            dimsText(first.shape).substr(1) + ")";
    return false;
  }

  bool check(const std::string &label, size_t input, const qcc_tensor &t,
             std::string &error) const {
    const TensorSignature &sig = inputs[input];
    std::string dtype = qcc_dtype_name(t.dtype);
    if (dtype != sig.dtype) {
      error = label + ": input '" + sig.name + "' is " + dtype +
              "; the model expects " + sig.dtype;
      return false;
    }
    if (!sameDims(t, sig.shape.data(), sig.shape.size())) {
      error = label + ": input '" + sig.name + "' has shape " +
              dimsText(t.dims, t.rank) + "; the model expects " +
              dimsText(sig.shape);
      return false;
    }
    return true;
  }

  bool loadNpz(size_t sourceIndex, int64_t sub, const std::string &label,
               std::vector<OwnedTensor> &out, std::string &error) const {
    const Source &source = sources[sourceIndex];
    if (sub >= 0 && cachedSource == sourceIndex) {
      // Slice set `sub` out of the cached stacked entries.
    } else {
      qcc_npz *npz = nullptr;
      if (qcc_status st = qcc_npz_open(source.path.c_str(), &npz)) {
        error = label + ": " + takeMessage(st);
        return false;
      }
      std::unique_ptr<qcc_npz, void (*)(qcc_npz *)> guard(npz, qcc_npz_close);
      for (size_t i = 0, e = qcc_npz_num_entries(npz); i < e; ++i)
        if (findInput(qcc_npz_entry_name(npz, i)) < 0) {
          error = label + ": '" + qcc_npz_entry_name(npz, i) +
                  "' is not an input of the model (inputs: " + inputList() +
                  ")";
          return false;
        }
      std::vector<OwnedTensor> entries(inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i)
        if (qcc_status st = qcc_npz_read(npz, inputs[i].name.c_str(),
                                         &entries[i].get())) {
          error = label + ": missing input '" + inputs[i].name + "' (" +
                  takeMessage(st) + ")";
          return false;
        }
      if (sub < 0) {
        for (size_t i = 0; i < inputs.size(); ++i)
          if (!check(label, i, entries[i].get(), error))
            return false;
        out = std::move(entries);
        return true;
      }
      cached = std::move(entries);
      cachedSource = sourceIndex;
    }
    out.clear();
    out.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const qcc_tensor &all = cached[i].get();
      const TensorSignature &sig = inputs[i];
      if (all.rank != sig.shape.size() + 1 || all.dims[0] != source.stacked) {
        error = label + ": input '" + sig.name + "' has shape " +
                dimsText(all.dims, all.rank) + "; expected " +
                std::to_string(source.stacked) + " stacked sets of " +
                dimsText(sig.shape);
        return false;
      }
      qcc_tensor &t = out[i].get();
      if (qcc_status st = qcc_tensor_allocate(
              all.dtype, all.rank - 1, all.dims + 1, &t)) {
        error = label + ": " + takeMessage(st);
        return false;
      }
      if (!check(label, i, t, error))
        return false;
      std::memcpy(t.data,
                  static_cast<const char *>(all.data) + sub * t.byte_size,
                  t.byte_size);
    }
    return true;
  }

  bool loadFolder(const Source &source, const std::string &label,
                  std::vector<OwnedTensor> &out, std::string &error) const {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(source.path, ec), end; !ec && it != end;
         it.increment(ec)) {
      llvm::StringRef ext = path::extension(it->path());
      if (ext == ".pb" || ext == ".npy")
        files.push_back(it->path());
    }
    if (ec) {
      error = label + ": cannot list the folder: " + ec.message();
      return false;
    }
    llvm::sort(files);
    std::vector<OwnedTensor> byInput(inputs.size());
    std::vector<bool> seen(inputs.size(), false);
    for (const std::string &file : files) {
      llvm::StringRef stem = path::stem(file);
      // ONNX test-data folders also hold the expected outputs.
      if (stem.starts_with("output_"))
        continue;
      OwnedTensor tensor;
      int input = -1;
      if (path::extension(file) == ".npy") {
        if (qcc_status st = qcc_tensor_read_npy(file.c_str(), &tensor.get())) {
          error = label + ": " + takeMessage(st);
          return false;
        }
        input = findInput(stem);
      } else {
        char *name = nullptr;
        if (qcc_status st =
                qcc_tensor_read_onnx_pb(file.c_str(), &tensor.get(), &name)) {
          error = label + ": " + takeMessage(st);
          return false;
        }
        std::string tensorName = name ? name : "";
        std::free(name);
        input = findInput(tensorName);
        unsigned index;
        if (input < 0 && tensorName.empty() && stem.consume_front("input_") &&
            !stem.getAsInteger(10, index) && index < inputs.size())
          input = static_cast<int>(index);
        if (input < 0 && !tensorName.empty()) {
          error = label + ": '" + tensorName + "' (" +
                  path::filename(file).str() +
                  ") is not an input of the model (inputs: " + inputList() +
                  ")";
          return false;
        }
      }
      if (input < 0) {
        error = label + ": cannot match '" + path::filename(file).str() +
                "' to an input (inputs: " + inputList() +
                "; name .npy files after the input, .pb files input_<i>.pb "
                "or by tensor name)";
        return false;
      }
      if (seen[input]) {
        error = label + ": input '" + inputs[input].name + "' given twice";
        return false;
      }
      seen[input] = true;
      byInput[input] = std::move(tensor);
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!seen[i]) {
        error = label + ": missing input '" + inputs[i].name + "'";
        return false;
      }
      if (!check(label, i, byInput[i].get(), error))
        return false;
    }
    out = std::move(byInput);
    return true;
  }
};

InputSets::InputSets(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
InputSets::~InputSets() = default;
InputSets::InputSets(InputSets &&) noexcept = default;
InputSets &InputSets::operator=(InputSets &&) noexcept = default;

static bool holdsTensorFiles(const std::string &dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    llvm::StringRef ext = path::extension(it->path());
    if ((ext == ".pb" || ext == ".npy") &&
        !path::stem(it->path()).starts_with("output_"))
      return true;
  }
  return false;
}

std::unique_ptr<InputSets>
InputSets::open(const std::string &dataPath,
                const std::vector<TensorSignature> &inputs,
                std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->inputs = inputs;
  if (inputs.empty()) {
    error = "the model has no inputs to feed from '" + dataPath + "'";
    return nullptr;
  }
  fs::file_status status;
  if (std::error_code ec = fs::status(dataPath, status)) {
    error = "cannot read '" + dataPath + "': " + ec.message();
    return nullptr;
  }
  if (fs::is_regular_file(status)) {
    if (path::extension(dataPath) != ".npz") {
      error = "'" + dataPath +
              "' is not a .npz archive or a folder of input sets";
      return nullptr;
    }
    impl->sources.push_back({Source::Npz, dataPath, 0});
  } else if (fs::is_directory(status)) {
    if (holdsTensorFiles(dataPath)) {
      impl->sources.push_back({Source::Folder, dataPath, 0});
    } else {
      std::vector<std::string> entries;
      std::error_code ec;
      for (fs::directory_iterator it(dataPath, ec), end; !ec && it != end;
           it.increment(ec))
        entries.push_back(it->path());
      if (ec) {
        error = "cannot list '" + dataPath + "': " + ec.message();
        return nullptr;
      }
      llvm::sort(entries);
      for (const std::string &entry : entries) {
        if (fs::is_directory(entry) && holdsTensorFiles(entry))
          impl->sources.push_back({Source::Folder, entry, 0});
        else if (path::extension(entry) == ".npz" && fs::is_regular_file(entry))
          impl->sources.push_back({Source::Npz, entry, 0});
      }
    }
  } else {
    error = "'" + dataPath + "' is neither a file nor a folder";
    return nullptr;
  }
  if (impl->sources.empty()) {
    error = "no input sets in '" + dataPath +
            "' (expected .npz files, or folders of .pb / .npy tensors)";
    return nullptr;
  }
  for (size_t s = 0; s < impl->sources.size(); ++s) {
    Source &source = impl->sources[s];
    if (source.kind == Source::Npz && !impl->inspectNpz(source, error))
      return nullptr;
    if (source.stacked > 0)
      for (int64_t i = 0; i < source.stacked; ++i)
        impl->sets.push_back({s, i});
    else
      impl->sets.push_back({s, -1});
  }
  return std::unique_ptr<InputSets>(new InputSets(std::move(impl)));
}

size_t InputSets::size() const { return impl->sets.size(); }

std::string InputSets::label(size_t index) const {
  auto [source, sub] = impl->sets[index];
  std::string text = impl->sources[source].path;
  if (sub >= 0)
    text += "[" + std::to_string(sub) + "]";
  return text;
}

bool InputSets::load(size_t index, std::vector<OwnedTensor> &out,
                     std::string &error) const {
  auto [source, sub] = impl->sets[index];
  std::string name = "input set '" + label(index) + "'";
  if (impl->sources[source].kind == Source::Npz)
    return impl->loadNpz(source, sub, name, out, error);
  return impl->loadFolder(impl->sources[source], name, out, error);
}
