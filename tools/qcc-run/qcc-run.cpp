//===- qcc-run.cpp - Runs a qcc artifact on tensor files ------------------===//
//
// qcc-run ARTIFACT_PREFIX [--input NAME=FILE]... [--output-dir DIR]
//         [--threads N] [--device N] [--repeat N] [--warmup N] [--print]
//
// Loads ARTIFACT_PREFIX.json through the runtime (which verifies the
// artifact), binds inputs from .npy / .pb files (or every entry of an .npz),
// runs, prints timing, and writes each output as DIR/<name>.npy.
// Links only the qcc runtime.
//
//===----------------------------------------------------------------------===//

#include "qcc/qcc_runtime.h"
#include "qcc/qcc_tensor_io.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

const char *const usageText =
    "usage: qcc-run ARTIFACT_PREFIX [options]\n"
    "\n"
    "Loads ARTIFACT_PREFIX.json (+ its .so or .ptx/.plan.json, and "
    ".weights),\n"
    "verifies it, runs it and reports the outputs.\n"
    "\n"
    "options:\n"
    "  --input NAME=FILE  bind input NAME to a .npy or ONNX TensorProto .pb\n"
    "                     file; repeat for every input. A single-input model\n"
    "                     also takes --input FILE; --input FILE.npz binds "
    "every\n"
    "                     entry whose name is an input\n"
    "  --output-dir DIR   write each output to DIR/<name>.npy (characters\n"
    "                     outside [A-Za-z0-9._-] become '_')\n"
    "  --threads N        threads to run with, the caller included\n"
    "                     (default 0 = all hardware threads)\n"
    "  --device N         GPU artifacts: the CUDA device to run on "
    "(default 0)\n"
    "  --repeat N         timed runs (default 1)\n"
    "  --warmup N         untimed runs before them (default 0)\n"
    "  --print            print each output's name, dtype, shape and first\n"
    "                     values\n"
    "  --help             show this help\n"
    "  --version          show the runtime and artifact format versions\n";

/// Reports an error and returns the exit code for it.
int fail(const std::string &message) {
  std::fprintf(stderr, "qcc-run: error: %s\n", message.c_str());
  return 1;
}

int failStatus(qcc_status status) {
  int code = fail(qcc_status_message(status));
  qcc_status_free(status);
  return code;
}

bool parseCount(const std::string &text, long minimum, long &value) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long parsed = std::strtol(text.c_str(), &end, 10);
  if (errno || *end || parsed < minimum || parsed > 1000000000L)
    return false;
  value = parsed;
  return true;
}

bool endsWith(const std::string &text, const char *suffix) {
  size_t length = std::strlen(suffix);
  return text.size() >= length &&
         text.compare(text.size() - length, length, suffix) == 0;
}

std::string sanitise(const std::string &name) {
  std::string file = name;
  for (char &c : file) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!keep)
      c = '_';
  }
  return file.empty() ? "_" : file;
}

std::string formatShape(const qcc_tensor &tensor) {
  if (tensor.rank == 0)
    return "scalar";
  std::string text;
  for (uint32_t i = 0; i < tensor.rank; ++i)
    text += (i ? "x" : "") + std::to_string(tensor.dims[i]);
  return text;
}

float halfToFloat(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1F;
  int mantissa = bits & 0x3FF;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
  return (bits & 0x8000) ? -magnitude : magnitude;
}

/// Formats element `i` of `tensor`.
std::string formatElement(const qcc_tensor &tensor, size_t i) {
  char text[64];
  const void *data = tensor.data;
  switch (tensor.dtype) {
  case QCC_DTYPE_FLOAT32:
    std::snprintf(text, sizeof(text), "%.6g",
                  static_cast<const float *>(data)[i]);
    break;
  case QCC_DTYPE_FLOAT64:
    std::snprintf(text, sizeof(text), "%.10g",
                  static_cast<const double *>(data)[i]);
    break;
  case QCC_DTYPE_FLOAT16:
    std::snprintf(text, sizeof(text), "%.5g",
                  halfToFloat(static_cast<const uint16_t *>(data)[i]));
    break;
  case QCC_DTYPE_INT8:
    std::snprintf(text, sizeof(text), "%d",
                  static_cast<const int8_t *>(data)[i]);
    break;
  case QCC_DTYPE_UINT8:
  case QCC_DTYPE_BOOL:
    std::snprintf(text, sizeof(text), "%u",
                  static_cast<const uint8_t *>(data)[i]);
    break;
  case QCC_DTYPE_INT16:
    std::snprintf(text, sizeof(text), "%d",
                  static_cast<const int16_t *>(data)[i]);
    break;
  case QCC_DTYPE_UINT16:
    std::snprintf(text, sizeof(text), "%u",
                  static_cast<const uint16_t *>(data)[i]);
    break;
  case QCC_DTYPE_INT32:
    std::snprintf(text, sizeof(text), "%d",
                  static_cast<const int32_t *>(data)[i]);
    break;
  case QCC_DTYPE_UINT32:
    std::snprintf(text, sizeof(text), "%u",
                  static_cast<const uint32_t *>(data)[i]);
    break;
  case QCC_DTYPE_INT64:
    std::snprintf(
        text, sizeof(text), "%lld",
        static_cast<long long>(static_cast<const int64_t *>(data)[i]));
    break;
  case QCC_DTYPE_UINT64:
    std::snprintf(text, sizeof(text), "%llu",
                  static_cast<unsigned long long>(
                      static_cast<const uint64_t *>(data)[i]));
    break;
  default:
    return "?";
  }
  return text;
}

void printTensor(const char *name, const qcc_tensor &tensor) {
  size_t count = tensor.byte_size / qcc_dtype_size(tensor.dtype);
  const size_t shown = 8;
  std::string values;
  for (size_t i = 0; i < count && i < shown; ++i)
    values += (i ? ", " : "") + formatElement(tensor, i);
  if (count > shown)
    values += ", ...";
  std::printf("%s: %s %s [%s]\n", name, qcc_dtype_name(tensor.dtype),
              formatShape(tensor).c_str(), values.c_str());
}

/// Creates `path` and missing parents.
bool makeDirectories(const std::string &path) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/')
      continue;
    std::string prefix = path.substr(0, at);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      return false;
  }
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

struct Options {
  std::string prefix;
  std::vector<std::string> inputs;
  std::string outputDir;
  long threads = 0;
  long device = 0;
  long repeat = 1;
  long warmup = 0;
  bool print = false;
};

/// Parses the command line; returns -1 to go on, else an exit code.
int parseOptions(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool hasValue = false;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      hasValue = true;
    }
    auto takeValue = [&](std::string &out) {
      if (hasValue) {
        out = value;
        return true;
      }
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    auto takeCount = [&](long minimum, long &out) {
      std::string text;
      if (!takeValue(text))
        return fail(arg + " needs a value");
      if (!parseCount(text, minimum, out))
        return fail("invalid value '" + text + "' for " + arg);
      return -1;
    };
    int result = -1;
    if (arg == "--help" || arg == "-h") {
      std::fputs(usageText, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("qcc-run (qcc runtime %s, artifact format %u)\n",
                  qcc_runtime_version(), qcc_runtime_artifact_format_version());
      return 0;
    } else if (arg == "--input") {
      std::string input;
      if (!takeValue(input))
        return fail("--input needs NAME=FILE");
      options.inputs.push_back(input);
    } else if (arg == "--output-dir") {
      if (!takeValue(options.outputDir))
        return fail("--output-dir needs a directory");
    } else if (arg == "--threads") {
      result = takeCount(0, options.threads);
    } else if (arg == "--device") {
      result = takeCount(0, options.device);
    } else if (arg == "--repeat") {
      result = takeCount(1, options.repeat);
    } else if (arg == "--warmup") {
      result = takeCount(0, options.warmup);
    } else if (arg == "--print") {
      options.print = true;
    } else if (arg.rfind("-", 0) == 0 && arg != "-") {
      return fail("unknown option '" + arg + "' (see --help)");
    } else if (options.prefix.empty()) {
      options.prefix = arg;
    } else {
      return fail("unexpected argument '" + arg +
                  "' (one artifact prefix only; inputs go with --input)");
    }
    if (result != -1)
      return result;
  }
  if (options.prefix.empty())
    return fail("no artifact given (usage: qcc-run ARTIFACT_PREFIX "
                "[--input NAME=FILE]...; see --help)");
  if (endsWith(options.prefix, ".json"))
    options.prefix.resize(options.prefix.size() - 5);
  return -1;
}

/// The tensors of one invocation, freed on exit.
struct Tensors {
  std::vector<qcc_tensor> inputs, outputs;
  std::vector<bool> bound;
  ~Tensors() {
    for (qcc_tensor &tensor : inputs)
      qcc_tensor_free_data(&tensor);
    for (qcc_tensor &tensor : outputs)
      qcc_tensor_free_data(&tensor);
  }
};

/// Binds one tensor read from `file` to input `index`.
int bindInput(qcc_model *model, Tensors &tensors, size_t index,
              qcc_tensor &tensor) {
  qcc_tensor_info info;
  qcc_status status = qcc_model_input_info(model, index, &info);
  if (status)
    return failStatus(status);
  if (tensors.bound[index]) {
    qcc_tensor_free_data(&tensor);
    return fail(std::string("input '") + info.name + "' is given twice");
  }
  tensors.inputs[index] = tensor;
  tensors.bound[index] = true;
  return -1;
}

int bindInputs(qcc_model *model, const Options &options, Tensors &tensors) {
  size_t numInputs = qcc_model_num_inputs(model);
  tensors.inputs.assign(numInputs, qcc_tensor());
  tensors.bound.assign(numInputs, false);
  for (const std::string &spec : options.inputs) {
    std::string name, file = spec;
    size_t equals = spec.find('=');
    size_t index = 0;
    bool named = false;
    if (equals != std::string::npos) {
      name = spec.substr(0, equals);
      qcc_status status = qcc_model_find_input(model, name.c_str(), &index);
      if (!status) {
        named = true;
        file = spec.substr(equals + 1);
      } else if (numInputs != 1 || ::access(spec.c_str(), F_OK) != 0) {
        // Not an input name, and not a file whose name holds '=' either.
        return failStatus(status);
      } else {
        qcc_status_free(status);
      }
    }
    if (!named && endsWith(file, ".npz")) {
      qcc_npz *npz = nullptr;
      if (qcc_status status = qcc_npz_open(file.c_str(), &npz))
        return failStatus(status);
      int result = -1;
      for (size_t e = 0; e < qcc_npz_num_entries(npz) && result == -1; ++e) {
        const char *entry = qcc_npz_entry_name(npz, e);
        size_t entryIndex;
        qcc_status status = qcc_model_find_input(model, entry, &entryIndex);
        if (status) {
          qcc_status_free(status);
          continue;
        }
        qcc_tensor tensor;
        if ((status = qcc_npz_read(npz, entry, &tensor))) {
          result = failStatus(status);
          break;
        }
        result = bindInput(model, tensors, entryIndex, tensor);
      }
      qcc_npz_close(npz);
      if (result != -1)
        return result;
      continue;
    }
    if (!named) {
      if (numInputs != 1)
        return fail("--input '" + spec +
                    "' names no input; use --input NAME=FILE (the model has " +
                    std::to_string(numInputs) + " inputs)");
      index = 0;
    }
    qcc_tensor tensor;
    if (qcc_status status = qcc_tensor_read_file(file.c_str(), &tensor))
      return failStatus(status);
    int result = bindInput(model, tensors, index, tensor);
    if (result != -1)
      return result;
  }
  std::string missing;
  for (size_t i = 0; i < numInputs; ++i) {
    if (tensors.bound[i])
      continue;
    qcc_tensor_info info;
    qcc_status_free(qcc_model_input_info(model, i, &info));
    missing += (missing.empty() ? "'" : ", '") + std::string(info.name) + "'";
  }
  if (!missing.empty())
    return fail("missing input " + missing + " (give --input NAME=FILE)");
  return -1;
}

int allocateOutputs(qcc_model *model, Tensors &tensors) {
  size_t numOutputs = qcc_model_num_outputs(model);
  tensors.outputs.assign(numOutputs, qcc_tensor());
  for (size_t i = 0; i < numOutputs; ++i) {
    qcc_tensor_info info;
    if (qcc_status status = qcc_model_output_info(model, i, &info))
      return failStatus(status);
    if (qcc_status status = qcc_tensor_allocate(info.dtype, info.rank,
                                                info.dims, &tensors.outputs[i]))
      return failStatus(status);
  }
  return -1;
}

int runTimed(qcc_model *model, const Options &options, Tensors &tensors) {
  auto runOnce = [&]() {
    return qcc_model_run(model, tensors.inputs.data(), tensors.inputs.size(),
                         tensors.outputs.data(), tensors.outputs.size());
  };
  for (long i = 0; i < options.warmup; ++i)
    if (qcc_status status = runOnce())
      return failStatus(status);
  std::vector<double> times;
  for (long i = 0; i < options.repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    qcc_status status = runOnce();
    auto end = std::chrono::steady_clock::now();
    if (status)
      return failStatus(status);
    times.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  double median =
      times.size() % 2
          ? times[times.size() / 2]
          : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);
  std::printf("qcc-run: %ld runs, median %.3f ms, min %.3f ms\n",
              options.repeat, median, times.front());
  return -1;
}

int reportOutputs(qcc_model *model, const Options &options, Tensors &tensors) {
  if (!options.outputDir.empty() && !makeDirectories(options.outputDir))
    return fail("cannot create output directory '" + options.outputDir +
                "': " + std::strerror(errno));
  std::set<std::string> used;
  for (size_t i = 0; i < tensors.outputs.size(); ++i) {
    qcc_tensor_info info;
    if (qcc_status status = qcc_model_output_info(model, i, &info))
      return failStatus(status);
    if (options.print)
      printTensor(info.name, tensors.outputs[i]);
    if (options.outputDir.empty())
      continue;
    std::string file = sanitise(info.name);
    if (!used.insert(file).second)
      file += "_" + std::to_string(i); // two names sanitised alike
    used.insert(file);
    std::string path = options.outputDir + "/" + file + ".npy";
    if (qcc_status status =
            qcc_tensor_write_npy(path.c_str(), &tensors.outputs[i]))
      return failStatus(status);
  }
  return -1;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  int result = parseOptions(argc, argv, options);
  if (result != -1)
    return result;

  qcc_load_options loadOptions;
  qcc_load_options_init(&loadOptions);
  loadOptions.num_threads = static_cast<uint32_t>(options.threads);
  loadOptions.device = static_cast<uint32_t>(options.device);
  qcc_model *model = nullptr;
  if (qcc_status status =
          qcc_model_load(options.prefix.c_str(), &loadOptions, &model))
    return failStatus(status);

  {
    Tensors tensors;
    result = bindInputs(model, options, tensors);
    if (result == -1)
      result = allocateOutputs(model, tensors);
    if (result == -1)
      result = runTimed(model, options, tensors);
    if (result == -1)
      result = reportOutputs(model, options, tensors);
  }
  qcc_model_release(model);
  return result == -1 ? 0 : result;
}
