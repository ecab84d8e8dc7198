//===- GpuModel.cpp - Running a cuda artifact's plan on a GPU -------------===//
//
// Runs reuse slots: a slot is taken for the duration of one call, so
// concurrent calls use distinct arenas and streams. The first host run of a
// slot issues the plan's commands one by one (a failing command is named in
// the error), then captures them into a CUDA graph that later runs replay.
// Device runs key their graph on the caller's buffer addresses: a run on the
// same buffers as the slot's previous eager run is captured, and further
// runs on those buffers replay it. A plan of one kernel launch is launched
// directly on device runs, and a plan that never touches the arena issues
// no ordering event: such a device run is one cuLaunchKernel.
//
//===----------------------------------------------------------------------===//

#include "GpuModel.h"

#include "Status.h"

#include <cstdlib>
#include <cstring>

namespace qcc {
namespace runtime {

using namespace cuda;

namespace {

/// Smallest device allocation: keeps every region's base a valid address.
constexpr uint64_t minAllocation = 256;

/// A driver log as one line.
std::string oneLine(const char *log) {
  std::string text;
  for (const char *c = log; *c; ++c) {
    if (*c == '\n' || *c == '\r') {
      if (!text.empty() && text.back() != ' ')
        text += "; ";
    } else {
      text += *c;
    }
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == ';'))
    text.pop_back();
  return text;
}

const char *opName(PlanCommand::Op op) {
  switch (op) {
  case PlanCommand::Op::Launch:
    return "launch";
  case PlanCommand::Op::Copy:
    return "copy";
  case PlanCommand::Op::Memset:
    return "memset";
  }
  return "?";
}

} // namespace

struct GpuModel::Slot {
  CUstream stream = nullptr;
  /// Recorded on the caller's stream after each device run: the next run on
  /// this slot's buffers (any stream) waits for it.
  CUevent doneEvent = nullptr;
  bool runPending = false;
  CUdeviceptr arena = 0;
  std::vector<CUdeviceptr> inputs, outputs;
  /// Graph of the plan on this slot's own buffers (host runs).
  CUgraphExec hostGraph = nullptr;
  /// Graph of the plan on caller buffers `deviceKey` (device runs).
  CUgraphExec deviceGraph = nullptr;
  std::vector<CUdeviceptr> deviceKey, lastEagerKey;
};

qcc_status GpuModel::failure(const char *what, CUresult result) const {
  qcc_status_code_t code = result == CUDA_ERROR_OUT_OF_MEMORY
                               ? QCC_STATUS_RESOURCE_EXHAUSTED
                               : QCC_STATUS_INTERNAL;
  return makeStatus(code, std::string(what) + " failed on GPU " + description +
                              ": " + driver->describe(result));
}

qcc_status GpuModel::allocate(CUdeviceptr &pointer, uint64_t bytes,
                              const std::string &what) const {
  uint64_t size = bytes < minAllocation ? minAllocation : bytes;
  CUresult result = driver->api().cuMemAlloc(&pointer, size);
  if (result == CUDA_SUCCESS)
    return nullptr;
  pointer = 0;
  if (result == CUDA_ERROR_OUT_OF_MEMORY) {
    size_t free = 0, total = 0;
    driver->api().cuMemGetInfo(&free, &total);
    return makeStatusF(QCC_STATUS_RESOURCE_EXHAUSTED,
                       "out of device memory: cannot allocate %llu bytes for "
                       "%s on GPU %s (%llu MiB free of %llu MiB)",
                       static_cast<unsigned long long>(size), what.c_str(),
                       description.c_str(),
                       static_cast<unsigned long long>(free >> 20),
                       static_cast<unsigned long long>(total >> 20));
  }
  return makeStatus(QCC_STATUS_INTERNAL, "cuMemAlloc of " +
                                             std::to_string(size) +
                                             " bytes for " + what +
                                             " failed on GPU " + description +
                                             ": " + driver->describe(result));
}

qcc_status GpuModel::create(Source source, std::unique_ptr<GpuModel> &out) {
  std::unique_ptr<GpuModel> model(new GpuModel());
  const Manifest &manifest = *source.manifest;
  std::string error;
  model->driver = Driver::get("", error);
  if (!model->driver)
    return makeStatus(QCC_STATUS_FAILED_PRECONDITION, error);
  const DriverApi &api = model->driver->api();
  const Driver &driver = *model->driver;

  int count = 0;
  CUresult result = api.cuDeviceGetCount(&count);
  if (result != CUDA_SUCCESS || count == 0)
    return makeStatus(QCC_STATUS_FAILED_PRECONDITION,
                      "no CUDA GPU found (" +
                          (result != CUDA_SUCCESS ? driver.describe(result)
                                                  : std::string("0 devices")) +
                          ")");
  if (source.device >= static_cast<uint32_t>(count))
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "GPU %u requested but this machine has %d", source.device,
                       count);
  if ((result = api.cuDeviceGet(&model->device,
                                static_cast<int>(source.device))) !=
      CUDA_SUCCESS)
    return makeStatus(QCC_STATUS_INTERNAL,
                      "cuDeviceGet failed: " + driver.describe(result));
  char name[256] = {};
  api.cuDeviceGetName(name, sizeof(name) - 1, model->device);
  int major = 0, minor = 0;
  api.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                           model->device);
  api.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                           model->device);
  model->description = std::string(name) + " (sm_" +
                       std::to_string(major * 10 + minor) + ", device " +
                       std::to_string(source.device) + ")";
  if (major * 10 + minor < manifest.targetSm)
    return makeStatusF(QCC_STATUS_FAILED_PRECONDITION,
                       "GPU %s has compute capability %d.%d, below the "
                       "artifact's target sm_%lld",
                       name, major, minor,
                       static_cast<long long>(manifest.targetSm));
  if (manifest.targetArchSpecific && major * 10 + minor != manifest.targetSm)
    return makeStatusF(QCC_STATUS_FAILED_PRECONDITION,
                       "GPU %s has compute capability %d.%d; the artifact's "
                       "target sm_%llda runs only on %lld.%lld",
                       name, major, minor,
                       static_cast<long long>(manifest.targetSm),
                       static_cast<long long>(manifest.targetSm / 10),
                       static_cast<long long>(manifest.targetSm % 10));

  if ((result = api.cuDevicePrimaryCtxRetain(&model->context, model->device)) !=
      CUDA_SUCCESS)
    return model->failure("cuDevicePrimaryCtxRetain", result);
  model->contextRetained = true;
  ContextGuard guard(driver, model->context);
  if (guard.result() != CUDA_SUCCESS)
    return model->failure("cuCtxPushCurrent", guard.result());

  // JIT-compile the PTX for this device, keeping the driver's logs.
  std::vector<char> errorLog(16384, '\0'), infoLog(16384, '\0');
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_LOG_VERBOSE};
  void *values[] = {errorLog.data(),
                    reinterpret_cast<void *>(errorLog.size() - 1),
                    infoLog.data(),
                    reinterpret_cast<void *>(infoLog.size() - 1),
                    reinterpret_cast<void *>(0)};
  result = api.cuModuleLoadDataEx(&model->module, source.ptx.c_str(), 5,
                                  options, values);
  if (result != CUDA_SUCCESS) {
    std::string log = oneLine(errorLog.data());
    return makeStatus(result == CUDA_ERROR_OUT_OF_MEMORY
                          ? QCC_STATUS_RESOURCE_EXHAUSTED
                          : QCC_STATUS_INVALID_ARGUMENT,
                      "the CUDA driver rejected the PTX of '" +
                          source.libraryPath + "' for GPU " +
                          model->description + ": " + driver.describe(result) +
                          (log.empty() ? "" : "; JIT log: " + log));
  }

  model->plan = std::move(source.plan);
  const Plan &plan = model->plan;
  int sharedOptIn = 0;
  api.cuDeviceGetAttribute(&sharedOptIn,
                           CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                           model->device);
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    CUfunction function = nullptr;
    if ((result = api.cuModuleGetFunction(&function, model->module,
                                          plan.kernels[k].c_str())) !=
        CUDA_SUCCESS)
      return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                        "kernel '" + plan.kernels[k] + "' of '" +
                            source.libraryPath +
                            "' is not in the loaded module: " +
                            driver.describe(result));
    uint32_t shared = plan.maxSharedBytes[k];
    if (shared > 48 * 1024) {
      if (shared > static_cast<uint32_t>(sharedOptIn))
        return makeStatusF(QCC_STATUS_FAILED_PRECONDITION,
                           "kernel '%s' needs %u bytes of shared memory; GPU "
                           "%s allows %d per block",
                           plan.kernels[k].c_str(), shared,
                           model->description.c_str(), sharedOptIn);
      if ((result = api.cuFuncSetAttribute(
               function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
               static_cast<int>(shared))) != CUDA_SUCCESS)
        return model->failure("cuFuncSetAttribute", result);
    }
    model->functions.push_back(function);
  }

  // Weights go to the device once.
  if (qcc_status status =
          model->allocate(model->weights, source.weightsBytes, "the weights"))
    return status;
  if (source.weightsBytes &&
      (result = api.cuMemcpyHtoD(model->weights, source.weights,
                                 source.weightsBytes)) != CUDA_SUCCESS)
    return model->failure("uploading the weights", result);

  for (const TensorSpec &spec : manifest.inputs)
    model->inputBytes.push_back(spec.byteSize);
  for (const TensorSpec &spec : manifest.outputs)
    model->outputBytes.push_back(spec.byteSize);
  const char *graphs = std::getenv("QCC_CUDA_GRAPHS");
  model->useGraphs = !(graphs && std::strcmp(graphs, "0") == 0);
  model->usesArena = false;
  auto inArena = [](const PlanPointer &pointer) {
    return pointer.region == PlanPointer::Region::Arena;
  };
  for (const PlanCommand &command : plan.commands) {
    if (command.op == PlanCommand::Op::Launch) {
      for (const PlanArg &arg : command.args)
        if (arg.kind == PlanArg::Kind::Pointer && inArena(arg.pointer))
          model->usesArena = true;
    } else if (inArena(command.dst) ||
               (command.op == PlanCommand::Op::Copy && inArena(command.src))) {
      model->usesArena = true;
    }
  }
  model->singleLaunch = plan.commands.size() == 1 &&
                        plan.commands[0].op == PlanCommand::Op::Launch;

  std::unique_ptr<Slot> slot;
  if (qcc_status status = model->createSlot(slot))
    return status;
  model->freeSlots.push_back(slot.get());
  model->slots.push_back(std::move(slot));
  out = std::move(model);
  return nullptr;
}

GpuModel::~GpuModel() {
  if (!driver)
    return;
  const DriverApi &api = driver->api();
  if (context) {
    ContextGuard guard(*driver, context);
    for (std::unique_ptr<Slot> &slot : slots)
      destroySlot(*slot);
    if (weights)
      api.cuMemFree(weights);
    if (module)
      api.cuModuleUnload(module);
  }
  if (contextRetained)
    api.cuDevicePrimaryCtxRelease(device);
}

qcc_status GpuModel::createSlot(std::unique_ptr<Slot> &out) {
  const DriverApi &api = driver->api();
  std::unique_ptr<Slot> slot(new Slot());
  struct Cleanup {
    GpuModel &model;
    std::unique_ptr<Slot> &slot;
    ~Cleanup() {
      if (slot)
        model.destroySlot(*slot);
    }
  } cleanup{*this, slot};
  CUresult result;
  if ((result = api.cuStreamCreate(&slot->stream, CU_STREAM_NON_BLOCKING)) !=
      CUDA_SUCCESS)
    return failure("cuStreamCreate", result);
  if ((result = api.cuEventCreate(&slot->doneEvent, CU_EVENT_DISABLE_TIMING)) !=
      CUDA_SUCCESS)
    return failure("cuEventCreate", result);
  if (qcc_status status = allocate(slot->arena, plan.arenaBytes, "the arena"))
    return status;
  slot->inputs.assign(inputBytes.size(), 0);
  slot->outputs.assign(outputBytes.size(), 0);
  for (size_t i = 0; i < inputBytes.size(); ++i)
    if (qcc_status status = allocate(slot->inputs[i], inputBytes[i],
                                     "input " + std::to_string(i)))
      return status;
  for (size_t i = 0; i < outputBytes.size(); ++i)
    if (qcc_status status = allocate(slot->outputs[i], outputBytes[i],
                                     "output " + std::to_string(i)))
      return status;
  out = std::move(slot);
  return nullptr;
}

void GpuModel::destroySlot(Slot &slot) {
  const DriverApi &api = driver->api();
  if (slot.stream)
    api.cuStreamSynchronize(slot.stream);
  if (slot.hostGraph)
    api.cuGraphExecDestroy(slot.hostGraph);
  if (slot.deviceGraph)
    api.cuGraphExecDestroy(slot.deviceGraph);
  for (CUdeviceptr pointer : slot.inputs)
    if (pointer)
      api.cuMemFree(pointer);
  for (CUdeviceptr pointer : slot.outputs)
    if (pointer)
      api.cuMemFree(pointer);
  if (slot.arena)
    api.cuMemFree(slot.arena);
  if (slot.doneEvent)
    api.cuEventDestroy(slot.doneEvent);
  if (slot.stream)
    api.cuStreamDestroy(slot.stream);
  slot = Slot();
}

qcc_status GpuModel::acquireSlot(Slot *&slot) {
  {
    std::lock_guard<std::mutex> lock(slotMutex);
    if (!freeSlots.empty()) {
      slot = freeSlots.back();
      freeSlots.pop_back();
      return nullptr;
    }
  }
  std::unique_ptr<Slot> created;
  if (qcc_status status = createSlot(created))
    return status;
  slot = created.get();
  std::lock_guard<std::mutex> lock(slotMutex);
  slots.push_back(std::move(created));
  return nullptr;
}

void GpuModel::releaseSlot(Slot *slot) {
  std::lock_guard<std::mutex> lock(slotMutex);
  freeSlots.push_back(slot);
}

qcc_status GpuModel::enqueue(const Bindings &bindings, CUstream stream) const {
  const DriverApi &api = driver->api();
  auto resolve = [&](const PlanPointer &pointer) -> CUdeviceptr {
    switch (pointer.region) {
    case PlanPointer::Region::Input:
      return bindings.inputs[pointer.index] + pointer.offset;
    case PlanPointer::Region::Output:
      return bindings.outputs[pointer.index] + pointer.offset;
    case PlanPointer::Region::Weights:
      return bindings.weights + pointer.offset;
    case PlanPointer::Region::Arena:
      return bindings.arena + pointer.offset;
    }
    return 0;
  };
  std::vector<uint64_t> values;
  std::vector<void *> params;
  for (size_t i = 0; i < plan.commands.size(); ++i) {
    const PlanCommand &command = plan.commands[i];
    CUresult result = CUDA_SUCCESS;
    switch (command.op) {
    case PlanCommand::Op::Launch: {
      size_t count = command.args.size();
      values.assign(count, 0);
      params.assign(count, nullptr);
      for (size_t a = 0; a < count; ++a) {
        const PlanArg &arg = command.args[a];
        uint64_t &value = values[a];
        if (arg.kind == PlanArg::Kind::Pointer) {
          value = resolve(arg.pointer);
        } else if (arg.kind == PlanArg::Kind::I64) {
          std::memcpy(&value, &arg.integer, 8);
        } else if (arg.kind == PlanArg::Kind::I32) {
          uint32_t bits = static_cast<uint32_t>(arg.integer);
          std::memcpy(&value, &bits, 4);
        } else {
          std::memcpy(&value, &arg.real, 4);
        }
        params[a] = &value;
      }
      result = api.cuLaunchKernel(
          functions[command.kernel], command.grid[0], command.grid[1],
          command.grid[2], command.block[0], command.block[1], command.block[2],
          command.sharedBytes, stream, count ? params.data() : nullptr,
          nullptr);
      break;
    }
    case PlanCommand::Op::Copy:
      if (command.bytes)
        result = api.cuMemcpyDtoDAsync(resolve(command.dst),
                                       resolve(command.src), command.bytes,
                                       stream);
      break;
    case PlanCommand::Op::Memset:
      if (command.bytes)
        result = api.cuMemsetD8Async(resolve(command.dst), command.value,
                                     command.bytes, stream);
      break;
    }
    if (result != CUDA_SUCCESS) {
      std::string what = "plan command " + std::to_string(i) + " (" +
                         opName(command.op);
      if (command.op == PlanCommand::Op::Launch)
        what += " " + plan.kernels[command.kernel];
      what += ")";
      return failure(what.c_str(), result);
    }
  }
  return nullptr;
}

qcc_status GpuModel::capture(const Bindings &bindings, CUstream stream,
                             CUgraphExec &graph) const {
  const DriverApi &api = driver->api();
  CUresult result =
      api.cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  if (result != CUDA_SUCCESS)
    return failure("cuStreamBeginCapture", result);
  qcc_status status = enqueue(bindings, stream);
  CUgraph captured = nullptr;
  result = api.cuStreamEndCapture(stream, &captured);
  if (status) {
    if (captured)
      api.cuGraphDestroy(captured);
    return status;
  }
  if (result != CUDA_SUCCESS)
    return failure("cuStreamEndCapture", result);
  result = api.cuGraphInstantiateWithFlags(&graph, captured, 0);
  api.cuGraphDestroy(captured);
  if (result != CUDA_SUCCESS) {
    graph = nullptr;
    return failure("cuGraphInstantiate", result);
  }
  return nullptr;
}

qcc_status GpuModel::runHost(const std::vector<const void *> &inputs,
                             const std::vector<void *> &outputs) {
  const DriverApi &api = driver->api();
  ContextGuard guard(*driver, context);
  if (guard.result() != CUDA_SUCCESS)
    return failure("cuCtxPushCurrent", guard.result());
  Slot *slot = nullptr;
  if (qcc_status status = acquireSlot(slot))
    return status;
  struct Release {
    GpuModel &model;
    Slot *slot;
    ~Release() { model.releaseSlot(slot); }
  } release{*this, slot};

  CUstream stream = slot->stream;
  CUresult result;
  // A device run on another stream may still use this slot's arena.
  if (slot->runPending &&
      (result = api.cuStreamWaitEvent(stream, slot->doneEvent, 0)) !=
          CUDA_SUCCESS)
    return failure("ordering after the slot's last run", result);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputBytes[i] &&
        (result = api.cuMemcpyHtoDAsync(slot->inputs[i], inputs[i],
                                        inputBytes[i], stream)) != CUDA_SUCCESS)
      return failure("copying input to the device", result);
  Bindings bindings;
  bindings.weights = weights;
  bindings.arena = slot->arena;
  bindings.inputs = slot->inputs;
  bindings.outputs = slot->outputs;
  if (slot->hostGraph) {
    if ((result = api.cuGraphLaunch(slot->hostGraph, stream)) != CUDA_SUCCESS)
      return failure("cuGraphLaunch", result);
  } else if (qcc_status status = enqueue(bindings, stream)) {
    api.cuStreamSynchronize(stream);
    return status;
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputBytes[i] &&
        (result = api.cuMemcpyDtoHAsync(outputs[i], slot->outputs[i],
                                        outputBytes[i], stream)) !=
            CUDA_SUCCESS)
      return failure("copying output to the host", result);
  if ((result = api.cuStreamSynchronize(stream)) != CUDA_SUCCESS)
    return failure("running the model", result);
  // The plan just ran eagerly on this slot: capture it for the next runs.
  if (useGraphs && !slot->hostGraph)
    return capture(bindings, stream, slot->hostGraph);
  return nullptr;
}

qcc_status GpuModel::runDevice(const void *const *inputs, void *const *outputs,
                               void *streamHandle) {
  const DriverApi &api = driver->api();
  ContextGuard guard(*driver, context);
  if (guard.result() != CUDA_SUCCESS)
    return failure("cuCtxPushCurrent", guard.result());
  CUstream caller = static_cast<CUstream>(streamHandle);
  int captureStatus = CU_STREAM_CAPTURE_STATUS_NONE;
  CUresult result = api.cuStreamIsCapturing(caller, &captureStatus);
  if (result != CUDA_SUCCESS)
    return failure("cuStreamIsCapturing", result);
  if (captureStatus != CU_STREAM_CAPTURE_STATUS_NONE)
    return makeStatus(QCC_STATUS_FAILED_PRECONDITION,
                      "qcc_model_run_device: the stream is being captured into "
                      "a CUDA graph; the runtime captures and replays its own "
                      "graph, so call it outside the capture");
  Slot *slot = nullptr;
  if (qcc_status status = acquireSlot(slot))
    return status;
  struct Release {
    GpuModel &model;
    Slot *slot;
    ~Release() { model.releaseSlot(slot); }
  } release{*this, slot};

  Bindings bindings;
  bindings.weights = weights;
  bindings.arena = slot->arena;
  for (size_t i = 0; i < inputBytes.size(); ++i)
    bindings.inputs.push_back(reinterpret_cast<CUdeviceptr>(inputs[i]));
  for (size_t i = 0; i < outputBytes.size(); ++i)
    bindings.outputs.push_back(reinterpret_cast<CUdeviceptr>(outputs[i]));
  std::vector<CUdeviceptr> key = bindings.inputs;
  key.insert(key.end(), bindings.outputs.begin(), bindings.outputs.end());

  // The plan runs on the caller's stream (no fork/join through another
  // stream: cross-stream waits cost microseconds per call). The slot's last
  // device run may have been on another stream and still use its arena; a
  // plan without arena commands needs no ordering (runPending stays false).
  if (slot->runPending &&
      (result = api.cuStreamWaitEvent(caller, slot->doneEvent, 0)) !=
          CUDA_SUCCESS)
    return failure("ordering after the slot's last run", result);
  // A one-launch plan goes out directly: no graph, no capture.
  bool graphs = useGraphs && !singleLaunch;
  if (graphs && key == slot->lastEagerKey && key != slot->deviceKey) {
    if (slot->deviceGraph)
      api.cuGraphExecDestroy(slot->deviceGraph);
    slot->deviceGraph = nullptr;
    slot->deviceKey.clear();
    if (qcc_status status =
            capture(bindings, slot->stream, slot->deviceGraph))
      return status;
    slot->deviceKey = key;
  }
  // Graphs are captured on the slot's stream (capture records, it does not
  // run; the caller's stream may be the legacy one, which cannot capture).
  if (graphs && slot->deviceGraph && key == slot->deviceKey) {
    if ((result = api.cuGraphLaunch(slot->deviceGraph, caller)) !=
        CUDA_SUCCESS)
      return failure("cuGraphLaunch", result);
  } else {
    if (qcc_status status = enqueue(bindings, caller))
      return status;
    slot->lastEagerKey = key;
  }
  if (!usesArena)
    return nullptr;
  if ((result = api.cuEventRecord(slot->doneEvent, caller)) != CUDA_SUCCESS)
    return failure("cuEventRecord", result);
  slot->runPending = true;
  return nullptr;
}

} // namespace runtime
} // namespace qcc
