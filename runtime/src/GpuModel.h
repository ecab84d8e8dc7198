//===- GpuModel.h - Running a cuda artifact's plan on a GPU -----*- C++ -*-===//
//
// The device side of a loaded `kind: cuda` artifact: the JIT-compiled PTX
// module, the weights uploaded once, and a pool of run slots (a stream, the
// arena, device buffers for the inputs and outputs, and the CUDA graphs
// captured from the plan). Every entry point makes the device's primary
// context current for its duration, so models share the context (and device
// pointers) with other CUDA users in the process, PyTorch included.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_GPUMODEL_H
#define QCC_RUNTIME_SRC_GPUMODEL_H

#include "qcc/qcc_runtime.h"

#include "CudaDriver.h"
#include "Manifest.h"
#include "Plan.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace qcc {
namespace runtime {

class GpuModel {
public:
  /// Everything create() needs; the weights are copied to the device and
  /// may be unmapped afterwards.
  struct Source {
    const Manifest *manifest = nullptr;
    std::string libraryPath; ///< the .ptx file, for messages
    std::string ptx;         ///< its text
    Plan plan;
    const void *weights = nullptr;
    size_t weightsBytes = 0;
    uint32_t device = 0;
  };

  /// Loads the driver, checks the device, JIT-compiles the PTX, uploads the
  /// weights and prepares one run slot. Returns NULL or a one-line status.
  static qcc_status create(Source source, std::unique_ptr<GpuModel> &out);
  ~GpuModel();

  /// Runs on host tensors: inputs host-to-device, the plan, outputs
  /// device-to-host; returns when the outputs are written. Thread safe.
  qcc_status runHost(const std::vector<const void *> &inputs,
                     const std::vector<void *> &outputs);

  /// Enqueues a run on caller device buffers, ordered after the work already
  /// on `stream` (a CUstream; NULL is the legacy default stream), and
  /// returns without waiting. Thread safe.
  qcc_status runDevice(const void *const *inputs, void *const *outputs,
                       void *stream);

  /// "NVIDIA H100 80GB HBM3 (sm_90, device 0)".
  const std::string &deviceDescription() const { return description; }

private:
  struct Slot;
  /// Device addresses of the plan's regions for one run.
  struct Bindings {
    cuda::CUdeviceptr weights = 0;
    cuda::CUdeviceptr arena = 0;
    std::vector<cuda::CUdeviceptr> inputs, outputs;
  };

  GpuModel() = default;
  qcc_status failure(const char *what, cuda::CUresult result) const;
  qcc_status allocate(cuda::CUdeviceptr &pointer, uint64_t bytes,
                      const std::string &what) const;
  qcc_status createSlot(std::unique_ptr<Slot> &slot);
  qcc_status acquireSlot(Slot *&slot);
  void releaseSlot(Slot *slot);
  void destroySlot(Slot &slot);
  /// Issues the plan's commands on `stream`; on failure names the command.
  qcc_status enqueue(const Bindings &bindings, cuda::CUstream stream) const;
  /// Captures the plan on the slot's (idle) stream into `graph`.
  qcc_status capture(const Bindings &bindings, cuda::CUstream stream,
                     cuda::CUgraphExec &graph) const;

  const cuda::Driver *driver = nullptr;
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
  bool contextRetained = false;
  cuda::CUmodule module = nullptr;
  std::vector<cuda::CUfunction> functions;
  cuda::CUdeviceptr weights = 0;
  Plan plan;
  std::vector<uint64_t> inputBytes, outputBytes;
  std::string description;
  bool useGraphs = true;
  /// Some command reads or writes the arena: a slot's runs must be ordered
  /// (doneEvent). Plans without one share nothing between runs but the
  /// caller's buffers, which the caller's stream orders.
  bool usesArena = true;
  /// The plan is one kernel launch: device runs launch it directly (a graph
  /// of one node saves nothing and costs its own launch).
  bool singleLaunch = false;

  std::mutex slotMutex;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<Slot *> freeSlots;
};

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_GPUMODEL_H
