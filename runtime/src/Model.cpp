//===- Model.cpp - Loading and running artifacts --------------------------===//
//
// qcc_model_load verifies an artifact in this order: manifest syntax and
// format version, target kind and architecture, library and weights hashes,
// content hash, CPU features; only then is any artifact code mapped into the
// process (dlopen runs the library's initialisers, so nothing unverified may
// reach it). A `kind: cuda` artifact is verified the same way (its PTX,
// plan and weights hashed, the plan validated against the PTX entries and the
// I/O sizes) before the CUDA driver sees any of it (GpuModel.cpp).
//
//===----------------------------------------------------------------------===//

#include "qcc/qcc_runtime.h"

#include "CpuFeatures.h"
#include "GpuModel.h"
#include "IoSignature.h"
#include "Manifest.h"
#include "Plan.h"
#include "Sha256.h"
#include "Status.h"
#include "ThreadPool.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <memory>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace qcc::runtime;

namespace {

using AbiVersionFn = uint32_t (*)(void);
using ArenaBytesFn = uint64_t (*)(void);
using MainFn = void (*)(const void *ctx, void *const *inputs,
                        void *const *outputs, const uint8_t *weights);

/// Manifests larger than this are refused before reading.
constexpr off_t maxManifestBytes = 64 << 20;

/// Reads a whole (small) file. Returns NULL or a status naming `what`.
qcc_status readSmallFile(const std::string &path, const char *what,
                         std::string &text) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return makeStatus(err == ENOENT || err == ENOTDIR
                          ? QCC_STATUS_NOT_FOUND
                          : QCC_STATUS_INVALID_ARGUMENT,
                      std::string("cannot open ") + what + " '" + path +
                          "': " + errnoMessage(err));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
      info.st_size > maxManifestBytes) {
    ::close(fd);
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      std::string("cannot read ") + what + " '" + path +
                          "': not a regular file of at most 64 MiB");
  }
  text.resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t got = ::read(fd, &text[done], text.size() - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      int err = got < 0 ? errno : 0;
      ::close(fd);
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        std::string("cannot read ") + what + " '" + path +
                            "': " + (err ? errnoMessage(err) : "file shrank"));
    }
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  return nullptr;
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

std::string resolveRelative(const std::string &directory,
                            const std::string &name) {
  if (!name.empty() && name[0] == '/')
    return name;
  return directory + "/" + name;
}

std::string normaliseArch(const std::string &arch) {
  if (arch == "amd64" || arch == "x86-64")
    return "x86_64";
  if (arch == "arm64")
    return "aarch64";
  return arch;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text;
}

/// A zero-byte tensor still needs a valid, aligned address.
alignas(64) char emptyTensorStorage[64];

} // namespace

struct qcc_model_t {
  std::atomic<int> refCount{1};
  Manifest manifest;
  std::string manifestText;
  std::string manifestPath;
  void *library = nullptr;
  MainFn mainFn = nullptr;
  void *weights = nullptr;
  size_t weightsSize = 0;
  /// qcc_artifact_arena_bytes(): scratch bytes each run needs.
  uint64_t arenaBytes = 0;
  /// An arena kept from one run to the next (null while a run holds it). A
  /// run that finds it taken (a concurrent run) allocates its own and frees
  /// it unless the slot is empty again by then.
  std::atomic<void *> idleArena{nullptr};
  std::unique_ptr<ThreadPool> pool;
  /// Set for `kind: cuda` artifacts.
  std::unique_ptr<GpuModel> gpu;

  ~qcc_model_t() {
    gpu.reset();
    pool.reset();
    std::free(idleArena.load());
    if (library)
      ::dlclose(library);
    if (weights)
      ::munmap(weights, weightsSize);
  }
};

namespace {

/// Maps the weights read-only and checks their size and hash.
qcc_status mapWeights(qcc_model &model, const std::string &path) {
  const Manifest &manifest = model.manifest;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return makeStatus(err == ENOENT ? QCC_STATUS_NOT_FOUND
                                    : QCC_STATUS_INVALID_ARGUMENT,
                      "cannot open weights '" + path + "' named by manifest '" +
                          model.manifestPath + "': " + errnoMessage(err));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "weights '" + path + "' is not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size != manifest.weightsSize) {
    ::close(fd);
    return makeStatusF(QCC_STATUS_DATA_LOSS,
                       "artifact integrity check failed: weights '%s' has %llu "
                       "bytes, the manifest says %llu",
                       path.c_str(), static_cast<unsigned long long>(size),
                       static_cast<unsigned long long>(manifest.weightsSize));
  }
  std::string digest;
  if (size > 0) {
    void *mapping = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ,
                           MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return makeStatus(
          err == ENOMEM ? QCC_STATUS_RESOURCE_EXHAUSTED : QCC_STATUS_INTERNAL,
          "cannot map weights '" + path + "': " + errnoMessage(err));
    }
    model.weights = mapping;
    model.weightsSize = static_cast<size_t>(size);
    digest = Sha256::hashHex(mapping, model.weightsSize);
  } else {
    digest = Sha256::hashHex("", 0);
  }
  ::close(fd);
  if (digest != manifest.weightsSha256)
    return makeStatus(QCC_STATUS_DATA_LOSS,
                      "artifact integrity check failed: weights '" + path +
                          "' has SHA-256 " + digest + ", the manifest says " +
                          manifest.weightsSha256);
  return nullptr;
}

qcc_status checkTarget(const qcc_model &model) {
  const Manifest &manifest = model.manifest;
  if (manifest.targetKind == "cuda")
    return nullptr;
  if (manifest.targetKind != "cpu")
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      "manifest '" + model.manifestPath +
                          "' has unknown target kind '" + manifest.targetKind +
                          "'");
  if (!manifest.targetTriple.empty()) {
    std::string arch = normaliseArch(
        manifest.targetTriple.substr(0, manifest.targetTriple.find('-')));
    if (arch != CpuFeatures::hostArch())
      return makeStatus(QCC_STATUS_FAILED_PRECONDITION,
                        "artifact '" + model.manifestPath + "' targets " +
                            manifest.targetTriple + " but this machine is " +
                            CpuFeatures::hostArch());
  }
  return nullptr;
}

qcc_status checkCpuFeatures(const qcc_model &model) {
  const CpuFeatures &host = CpuFeatures::host();
  std::vector<std::string> unknown, missing;
  for (const std::string &feature : model.manifest.requiredFeatures) {
    if (!CpuFeatures::isKnown(feature))
      unknown.push_back(feature);
    else if (!host.has(feature))
      missing.push_back(feature);
  }
  if (unknown.empty() && missing.empty())
    return nullptr;
  std::string message;
  if (!missing.empty())
    message = "artifact requires CPU features not present on this machine: " +
              joinNames(missing);
  if (!unknown.empty())
    message += std::string(message.empty() ? "" : "; ") +
               "artifact requires CPU features unknown to this runtime: " +
               joinNames(unknown);
  return makeStatus(QCC_STATUS_FAILED_PRECONDITION,
                    message + " (manifest '" + model.manifestPath + "')");
}

/// Looks up the exported function `name` of the artifact library at `path`.
template <typename Fn>
qcc_status findSymbol(void *library, const std::string &path, const char *name,
                      Fn &fn) {
  ::dlerror();
  fn = reinterpret_cast<Fn>(::dlsym(library, name));
  if (fn)
    return nullptr;
  const char *error = ::dlerror();
  return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                    "library '" + path + "' does not export " + name + ": " +
                        (error ? error : "symbol is NULL"));
}

qcc_status openLibrary(qcc_model &model, const std::string &path) {
  ::dlerror();
  model.library = ::dlopen(path.c_str(), RTLD_LOCAL | RTLD_NOW);
  if (!model.library) {
    const char *error = ::dlerror();
    return makeStatus(QCC_STATUS_INTERNAL,
                      "cannot load library '" + path +
                          "': " + (error ? error : "unknown dlopen error"));
  }
  AbiVersionFn abiVersion;
  if (qcc_status st = findSymbol(model.library, path,
                                 "qcc_artifact_abi_version", abiVersion))
    return st;
  uint32_t version = abiVersion();
  if (version != QCC_ARTIFACT_ABI_VERSION)
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "library '%s' has artifact ABI version %u; this "
                       "runtime calls ABI version %d (recompile the model "
                       "with a matching qcc)",
                       path.c_str(), version, QCC_ARTIFACT_ABI_VERSION);
  ArenaBytesFn arenaBytes;
  if (qcc_status st = findSymbol(model.library, path,
                                 "qcc_artifact_arena_bytes", arenaBytes))
    return st;
  model.arenaBytes = arenaBytes();
  return findSymbol(model.library, path, "qcc_artifact_main", model.mainFn);
}

/// Checks a file's digest against the manifest.
qcc_status checkDigest(const char *what, const std::string &path,
                       const std::string &digest, const std::string &expected) {
  if (digest == expected)
    return nullptr;
  return makeStatus(QCC_STATUS_DATA_LOSS,
                    std::string("artifact integrity check failed: ") + what +
                        " '" + path + "' has SHA-256 " + digest +
                        ", the manifest says " + expected);
}

/// The rest of loadModel for `kind: cuda`: PTX, plan and weights are hashed
/// and the plan validated before the driver is touched.
qcc_status loadCudaModel(qcc_model &model, const std::string &directory,
                         const qcc_load_options &options) {
  Manifest &manifest = model.manifest;
  GpuModel::Source source;
  source.manifest = &manifest;
  source.libraryPath = resolveRelative(directory, manifest.library);
  source.device = options.device;
  if (qcc_status status =
          readSmallFile(source.libraryPath, "PTX module", source.ptx))
    return status;
  if (qcc_status status =
          checkDigest("library", source.libraryPath,
                      Sha256::hashHex(source.ptx), manifest.librarySha256))
    return status;
  std::string planPath = resolveRelative(directory, manifest.plan), planText;
  if (qcc_status status = readSmallFile(planPath, "plan", planText))
    return status;
  if (qcc_status status = checkDigest("plan", planPath,
                                      Sha256::hashHex(planText),
                                      manifest.planSha256))
    return status;
  if (qcc_status status =
          mapWeights(model, resolveRelative(directory, manifest.weights)))
    return status;
  std::string contentHash =
      computeContentHash(manifest.librarySha256, manifest.weightsSha256,
                         manifest.inputs, manifest.outputs, manifest.planSha256);
  if (contentHash != manifest.contentHash)
    return makeStatus(QCC_STATUS_DATA_LOSS,
                      "artifact integrity check failed: content_hash of "
                      "manifest '" +
                          model.manifestPath +
                          "' does not match its PTX, plan, weights and I/O "
                          "signature (computed " +
                          contentHash + ")");
  PtxEntries entries;
  std::string error;
  if (!parsePtxEntries(source.ptx, entries, error))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "invalid PTX module '" + source.libraryPath +
                          "': " + error);
  PlanBounds bounds;
  bounds.weightsBytes = manifest.weightsSize;
  for (const TensorSpec &spec : manifest.inputs)
    bounds.inputBytes.push_back(spec.byteSize);
  for (const TensorSpec &spec : manifest.outputs)
    bounds.outputBytes.push_back(spec.byteSize);
  if (qcc_status status =
          parsePlan(planText, planPath, bounds, entries, source.plan))
    return status;
  source.weights = model.weights;
  source.weightsBytes = model.weightsSize;
  if (qcc_status status = GpuModel::create(std::move(source), model.gpu))
    return annotateStatus(status, "cannot load '" + model.manifestPath + "'");
  // The device holds the weights now.
  if (model.weights)
    ::munmap(model.weights, model.weightsSize);
  model.weights = nullptr;
  model.weightsSize = 0;
  model.pool.reset(new (std::nothrow) ThreadPool(1));
  if (!model.pool)
    return makeStatus(QCC_STATUS_RESOURCE_EXHAUSTED,
                      "out of memory creating the thread pool");
  return nullptr;
}

qcc_status loadModel(qcc_model &model, const std::string &prefix,
                     const qcc_load_options &options) {
  model.manifestPath = prefix + ".json";
  if (qcc_status status =
          readSmallFile(model.manifestPath, "manifest", model.manifestText))
    return status;
  if (qcc_status status =
          parseManifest(model.manifestText, model.manifestPath, model.manifest))
    return status;
  if (qcc_status status = checkTarget(model))
    return status;

  Manifest &manifest = model.manifest;
  std::string directory = directoryOf(model.manifestPath);
  if (manifest.targetKind == "cuda")
    return loadCudaModel(model, directory, options);
  std::string libraryPath = resolveRelative(directory, manifest.library);
  std::string libraryDigest, readError;
  uint64_t librarySize = 0;
  if (!sha256File(libraryPath, libraryDigest, librarySize, readError))
    return makeStatus(QCC_STATUS_NOT_FOUND,
                      "cannot read library '" + libraryPath +
                          "' named by manifest '" + model.manifestPath +
                          "': " + readError);
  if (libraryDigest != manifest.librarySha256)
    return makeStatus(QCC_STATUS_DATA_LOSS,
                      "artifact integrity check failed: library '" +
                          libraryPath + "' has SHA-256 " + libraryDigest +
                          ", the manifest says " + manifest.librarySha256);
  std::string weightsPath = resolveRelative(directory, manifest.weights);
  if (qcc_status status = mapWeights(model, weightsPath))
    return status;
  std::string contentHash = computeContentHash(
      libraryDigest, manifest.weightsSha256, manifest.inputs, manifest.outputs);
  if (contentHash != manifest.contentHash)
    return makeStatus(QCC_STATUS_DATA_LOSS,
                      "artifact integrity check failed: content_hash of "
                      "manifest '" +
                          model.manifestPath +
                          "' does not match its library, weights and I/O "
                          "signature (computed " +
                          contentHash + ")");
  if (qcc_status status = checkCpuFeatures(model))
    return status;
  if (qcc_status status = openLibrary(model, libraryPath))
    return status;
  if (qcc_status status = checkIoSignature(model.library, model.manifest,
                                            model.manifestPath, libraryPath))
    return status;
  int64_t spinWindowUs = 0;
  std::string spinError;
  if (!ThreadPool::spinWindowFromEnvironment(spinWindowUs, spinError))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, spinError);
  model.pool.reset(new (std::nothrow)
                       ThreadPool(options.num_threads, spinWindowUs));
  if (!model.pool)
    return makeStatus(QCC_STATUS_RESOURCE_EXHAUSTED,
                      "out of memory creating the thread pool");
  return nullptr;
}

/// Checks one caller tensor against its manifest entry.
qcc_status checkTensor(const char *role, const TensorSpec &spec,
                       const qcc_tensor &tensor) {
  const char *name = spec.name.c_str();
  if (tensor.dtype != spec.dtype)
    return makeStatusF(
        QCC_STATUS_INVALID_ARGUMENT, "%s '%s': expected dtype %s, got %s", role,
        name, qcc_dtype_name(spec.dtype), qcc_dtype_name(tensor.dtype));
  if (tensor.rank > QCC_MAX_RANK)
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "%s '%s': rank %u exceeds the maximum of %d", role, name,
                       tensor.rank, QCC_MAX_RANK);
  bool sameShape = tensor.rank == spec.rank;
  for (uint32_t i = 0; sameShape && i < spec.rank; ++i)
    sameShape = tensor.dims[i] == spec.dims[i];
  if (!sameShape)
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "%s '%s': expected shape %s, got %s", role, name,
                       formatDims(spec.dims, spec.rank).c_str(),
                       formatDims(tensor.dims, tensor.rank).c_str());
  if (tensor.byte_size != spec.byteSize)
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "%s '%s': expected %zu bytes (%s %s), got %zu", role,
                       name, spec.byteSize,
                       formatDims(spec.dims, spec.rank).c_str(),
                       qcc_dtype_name(spec.dtype), tensor.byte_size);
  if (!tensor.data && tensor.byte_size)
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT, "%s '%s': data is NULL",
                       role, name);
  return nullptr;
}

/// Aligned scratch copies of one call, freed on scope exit.
struct Scratch {
  std::vector<void *> blocks;
  ~Scratch() {
    for (void *block : blocks)
      std::free(block);
  }
  void *allocate(size_t size) {
    void *block = alignedAlloc(size);
    if (block)
      blocks.push_back(block);
    return block;
  }
};

bool isAligned(const void *pointer) {
  return (reinterpret_cast<uintptr_t>(pointer) & 63) == 0;
}

} // namespace

extern "C" {

void qcc_load_options_init(qcc_load_options *options) {
  if (options)
    std::memset(options, 0, sizeof(*options));
}

qcc_status qcc_model_load(const char *artifactPrefix,
                          const qcc_load_options *options,
                          qcc_model **outModel) {
  if (!outModel)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_model_load: out_model is NULL");
  *outModel = nullptr;
  if (!artifactPrefix || !*artifactPrefix)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_model_load: artifact prefix is empty");
  qcc_load_options defaults;
  qcc_load_options_init(&defaults);
  if (!options)
    options = &defaults;
  for (uint32_t reserved : options->reserved)
    if (reserved)
      return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                        "qcc_model_load: reserved load options must be zero "
                        "(initialise them with qcc_load_options_init)");
  std::unique_ptr<qcc_model> model(new (std::nothrow) qcc_model());
  if (!model)
    return makeStatus(QCC_STATUS_RESOURCE_EXHAUSTED,
                      "out of memory loading '" + std::string(artifactPrefix) +
                          "'");
  if (qcc_status status = loadModel(*model, artifactPrefix, *options))
    return status;
  *outModel = model.release();
  return nullptr;
}

void qcc_model_retain(qcc_model *model) {
  if (model)
    model->refCount.fetch_add(1, std::memory_order_relaxed);
}

void qcc_model_release(qcc_model *model) {
  if (model && model->refCount.fetch_sub(1, std::memory_order_acq_rel) == 1)
    delete model;
}

size_t qcc_model_num_inputs(const qcc_model *model) {
  return model ? model->manifest.inputs.size() : 0;
}

size_t qcc_model_num_outputs(const qcc_model *model) {
  return model ? model->manifest.outputs.size() : 0;
}

static qcc_status describeTensor(const std::vector<TensorSpec> &specs,
                                 const char *role, size_t index,
                                 qcc_tensor_info *outInfo) {
  if (!outInfo)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "out_info is NULL");
  if (index >= specs.size())
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "%s index %zu out of range (model has %zu)", role, index,
                       specs.size());
  const TensorSpec &spec = specs[index];
  std::memset(outInfo, 0, sizeof(*outInfo));
  outInfo->name = spec.name.c_str();
  outInfo->dtype = spec.dtype;
  outInfo->rank = spec.rank;
  std::memcpy(outInfo->dims, spec.dims, sizeof(spec.dims));
  outInfo->byte_size = spec.byteSize;
  return nullptr;
}

qcc_status qcc_model_input_info(const qcc_model *model, size_t index,
                                qcc_tensor_info *outInfo) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  return describeTensor(model->manifest.inputs, "input", index, outInfo);
}

qcc_status qcc_model_output_info(const qcc_model *model, size_t index,
                                 qcc_tensor_info *outInfo) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  return describeTensor(model->manifest.outputs, "output", index, outInfo);
}

static qcc_status findTensor(const std::vector<TensorSpec> &specs,
                             const char *role, const char *name,
                             size_t *outIndex) {
  if (!name || !outIndex)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "name or out_index is NULL");
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == name) {
      *outIndex = i;
      return nullptr;
    }
  }
  std::string known;
  for (const TensorSpec &spec : specs)
    known += (known.empty() ? "'" : ", '") + spec.name + "'";
  return makeStatus(QCC_STATUS_NOT_FOUND,
                    std::string("model has no ") + role + " named '" + name +
                        "' (" + role +
                        "s: " + (known.empty() ? "none" : known) + ")");
}

qcc_status qcc_model_find_input(const qcc_model *model, const char *name,
                                size_t *outIndex) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  return findTensor(model->manifest.inputs, "input", name, outIndex);
}

qcc_status qcc_model_find_output(const qcc_model *model, const char *name,
                                 size_t *outIndex) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  return findTensor(model->manifest.outputs, "output", name, outIndex);
}

const char *qcc_model_manifest_json(const qcc_model *model) {
  return model ? model->manifestText.c_str() : "";
}

const char *qcc_model_content_hash(const qcc_model *model) {
  return model ? model->manifest.contentHash.c_str() : "";
}

const char *qcc_model_target_name(const qcc_model *model) {
  return model ? model->manifest.targetName.c_str() : "";
}

const char *qcc_model_target_kind(const qcc_model *model) {
  return model ? model->manifest.targetKind.c_str() : "";
}

qcc_status qcc_model_set_num_threads(qcc_model *model, uint32_t numThreads) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  if (!model->pool->setNumThreads(numThreads))
    return makeStatusF(QCC_STATUS_RESOURCE_EXHAUSTED,
                       "could only start %u of %u threads",
                       model->pool->getNumThreads(), numThreads);
  return nullptr;
}

uint32_t qcc_model_num_threads(const qcc_model *model) {
  return model ? model->pool->getNumThreads() : 1;
}

qcc_status qcc_model_run(qcc_model *model, const qcc_tensor *inputs,
                         size_t numInputs, qcc_tensor *outputs,
                         size_t numOutputs) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  const Manifest &manifest = model->manifest;
  if (numInputs != manifest.inputs.size())
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "expected %zu inputs, got %zu", manifest.inputs.size(),
                       numInputs);
  if (numOutputs != manifest.outputs.size())
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "expected %zu outputs, got %zu", manifest.outputs.size(),
                       numOutputs);
  if ((numInputs && !inputs) || (numOutputs && !outputs))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "inputs or outputs array is NULL");
  for (size_t i = 0; i < numInputs; ++i)
    if (qcc_status status = checkTensor("input", manifest.inputs[i], inputs[i]))
      return status;
  for (size_t i = 0; i < numOutputs; ++i)
    if (qcc_status status =
            checkTensor("output", manifest.outputs[i], outputs[i]))
      return status;

  if (model->gpu) {
    std::vector<const void *> hostInputs(numInputs);
    std::vector<void *> hostOutputs(numOutputs);
    for (size_t i = 0; i < numInputs; ++i)
      hostInputs[i] = inputs[i].data;
    for (size_t i = 0; i < numOutputs; ++i)
      hostOutputs[i] = outputs[i].data;
    return model->gpu->runHost(hostInputs, hostOutputs);
  }

  Scratch scratch;
  std::vector<void *> inputPointers(numInputs), outputPointers(numOutputs);
  for (size_t i = 0; i < numInputs; ++i) {
    void *data = inputs[i].data;
    if (inputs[i].byte_size == 0) {
      data = emptyTensorStorage;
    } else if (!isAligned(data)) {
      data = scratch.allocate(inputs[i].byte_size);
      if (!data)
        return makeStatusF(QCC_STATUS_RESOURCE_EXHAUSTED,
                           "out of memory staging input '%s'",
                           manifest.inputs[i].name.c_str());
      std::memcpy(data, inputs[i].data, inputs[i].byte_size);
    }
    inputPointers[i] = data;
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    void *data = outputs[i].data;
    if (outputs[i].byte_size == 0) {
      data = emptyTensorStorage;
    } else if (!isAligned(data)) {
      data = scratch.allocate(outputs[i].byte_size);
      if (!data)
        return makeStatusF(QCC_STATUS_RESOURCE_EXHAUSTED,
                           "out of memory staging output '%s'",
                           manifest.outputs[i].name.c_str());
    }
    outputPointers[i] = data;
  }

  // The kept arena, or a fresh one when it is absent or another run holds it.
  void *arena = nullptr;
  if (model->arenaBytes) {
    arena = model->idleArena.exchange(nullptr);
    if (!arena)
      arena = alignedAlloc(model->arenaBytes);
    if (!arena)
      return makeStatusF(QCC_STATUS_RESOURCE_EXHAUSTED,
                         "out of memory allocating the %llu-byte arena of "
                         "intermediate tensors",
                         static_cast<unsigned long long>(model->arenaBytes));
  }

  qcc_exec_context context;
  context.abi_version = QCC_ARTIFACT_ABI_VERSION;
  context.num_threads = model->pool->getNumThreads();
  context.pool = model->pool.get();
  context.parallel_for = &ThreadPool::parallelForThunk;
  context.arena = arena;
  context.arena_bytes = model->arenaBytes;
  Trace *trace = model->pool->getTrace();
  int64_t start = trace ? trace->now() : 0;
  // Workers spin between the run's regions instead of sleeping.
  model->pool->beginRun();
  model->mainFn(&context, inputPointers.data(), outputPointers.data(),
                static_cast<const uint8_t *>(model->weights));
  model->pool->endRun();
  void *empty = nullptr;
  if (arena && !model->idleArena.compare_exchange_strong(empty, arena))
    std::free(arena);
  if (trace)
    trace->record(Trace::Kind::Run, ThreadPool::currentSlot(), nullptr, 0,
                  start, trace->now());

  for (size_t i = 0; i < numOutputs; ++i)
    if (outputPointers[i] != outputs[i].data && outputs[i].byte_size)
      std::memcpy(outputs[i].data, outputPointers[i], outputs[i].byte_size);
  return nullptr;
}

qcc_status qcc_model_run_device(qcc_model *model, const void *const *dInputs,
                                size_t numInputs, void *const *dOutputs,
                                size_t numOutputs, void *stream) {
  if (!model)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, "model is NULL");
  const Manifest &manifest = model->manifest;
  if (!model->gpu)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_model_run_device: model '" + model->manifestPath +
                          "' targets kind '" + manifest.targetKind +
                          "', not cuda; use qcc_model_run");
  if (numInputs != manifest.inputs.size())
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "expected %zu inputs, got %zu", manifest.inputs.size(),
                       numInputs);
  if (numOutputs != manifest.outputs.size())
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "expected %zu outputs, got %zu", manifest.outputs.size(),
                       numOutputs);
  if ((numInputs && !dInputs) || (numOutputs && !dOutputs))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "inputs or outputs array is NULL");
  for (size_t i = 0; i < numInputs; ++i)
    if (!dInputs[i] && manifest.inputs[i].byteSize)
      return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                         "input '%s': device pointer is NULL",
                         manifest.inputs[i].name.c_str());
  for (size_t i = 0; i < numOutputs; ++i)
    if (!dOutputs[i] && manifest.outputs[i].byteSize)
      return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                         "output '%s': device pointer is NULL",
                         manifest.outputs[i].name.c_str());
  return model->gpu->runDevice(dInputs, dOutputs, stream);
}

} // extern "C"
