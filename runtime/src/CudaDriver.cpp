//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "CudaDriver.h"

#include <cstdlib>
#include <dlfcn.h>
#include <map>
#include <memory>
#include <mutex>

namespace qcc {
namespace runtime {
namespace cuda {

namespace {

/// One driver entry point: where to store it and the symbols to try, the
/// versioned one first.
struct Symbol {
  void **slot;
  const char *names[2];
};

template <typename Fn> void **slotOf(Fn &member) {
  return reinterpret_cast<void **>(&member);
}

/// What loading a path produced, kept for the life of the process.
struct LoadResult {
  std::unique_ptr<Driver> driver;
  std::string error;
};

} // namespace

const Driver *Driver::get(const std::string &requestedPath,
                          std::string &error) {
  std::string path = requestedPath;
  if (path.empty()) {
    const char *override = std::getenv("QCC_CUDA_DRIVER");
    path = override && *override ? override : "libcuda.so.1";
  }
  static std::mutex mutex;
  static std::map<std::string, LoadResult> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = loaded.find(path);
  if (found != loaded.end()) {
    error = found->second.error;
    return found->second.driver.get();
  }
  LoadResult &result = loaded[path];

  ::dlerror();
  void *library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *text = ::dlerror();
    result.error = "CUDA driver " + path + " not found: " +
                   (text ? text : "dlopen failed") +
                   " (GPU artifacts need an NVIDIA driver)";
    error = result.error;
    return nullptr;
  }
  std::unique_ptr<Driver> driver(new Driver());
  DriverApi &api = driver->functions;
  const Symbol symbols[] = {
      {slotOf(api.cuInit), {"cuInit", nullptr}},
      {slotOf(api.cuDriverGetVersion), {"cuDriverGetVersion", nullptr}},
      {slotOf(api.cuGetErrorName), {"cuGetErrorName", nullptr}},
      {slotOf(api.cuGetErrorString), {"cuGetErrorString", nullptr}},
      {slotOf(api.cuDeviceGetCount), {"cuDeviceGetCount", nullptr}},
      {slotOf(api.cuDeviceGet), {"cuDeviceGet", nullptr}},
      {slotOf(api.cuDeviceGetName), {"cuDeviceGetName", nullptr}},
      {slotOf(api.cuDeviceGetAttribute), {"cuDeviceGetAttribute", nullptr}},
      {slotOf(api.cuDeviceTotalMem), {"cuDeviceTotalMem_v2", nullptr}},
      {slotOf(api.cuDevicePrimaryCtxRetain),
       {"cuDevicePrimaryCtxRetain", nullptr}},
      {slotOf(api.cuDevicePrimaryCtxRelease),
       {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}},
      {slotOf(api.cuCtxPushCurrent), {"cuCtxPushCurrent_v2", nullptr}},
      {slotOf(api.cuCtxPopCurrent), {"cuCtxPopCurrent_v2", nullptr}},
      {slotOf(api.cuMemGetInfo), {"cuMemGetInfo_v2", nullptr}},
      {slotOf(api.cuModuleLoadDataEx), {"cuModuleLoadDataEx", nullptr}},
      {slotOf(api.cuModuleUnload), {"cuModuleUnload", nullptr}},
      {slotOf(api.cuModuleGetFunction), {"cuModuleGetFunction", nullptr}},
      {slotOf(api.cuFuncSetAttribute), {"cuFuncSetAttribute", nullptr}},
      {slotOf(api.cuMemAlloc), {"cuMemAlloc_v2", nullptr}},
      {slotOf(api.cuMemFree), {"cuMemFree_v2", nullptr}},
      {slotOf(api.cuMemcpyHtoD), {"cuMemcpyHtoD_v2", nullptr}},
      {slotOf(api.cuMemcpyDtoH), {"cuMemcpyDtoH_v2", nullptr}},
      {slotOf(api.cuMemcpyHtoDAsync), {"cuMemcpyHtoDAsync_v2", nullptr}},
      {slotOf(api.cuMemcpyDtoHAsync), {"cuMemcpyDtoHAsync_v2", nullptr}},
      {slotOf(api.cuMemcpyDtoDAsync), {"cuMemcpyDtoDAsync_v2", nullptr}},
      {slotOf(api.cuMemsetD8Async), {"cuMemsetD8Async", nullptr}},
      {slotOf(api.cuLaunchKernel), {"cuLaunchKernel", nullptr}},
      {slotOf(api.cuStreamCreate), {"cuStreamCreate", nullptr}},
      {slotOf(api.cuStreamDestroy), {"cuStreamDestroy_v2", "cuStreamDestroy"}},
      {slotOf(api.cuStreamSynchronize), {"cuStreamSynchronize", nullptr}},
      {slotOf(api.cuStreamWaitEvent), {"cuStreamWaitEvent", nullptr}},
      {slotOf(api.cuStreamIsCapturing), {"cuStreamIsCapturing", nullptr}},
      {slotOf(api.cuStreamBeginCapture),
       {"cuStreamBeginCapture_v2", "cuStreamBeginCapture"}},
      {slotOf(api.cuStreamEndCapture), {"cuStreamEndCapture", nullptr}},
      {slotOf(api.cuGraphInstantiateWithFlags),
       {"cuGraphInstantiateWithFlags", nullptr}},
      {slotOf(api.cuGraphLaunch), {"cuGraphLaunch", nullptr}},
      {slotOf(api.cuGraphExecDestroy), {"cuGraphExecDestroy", nullptr}},
      {slotOf(api.cuGraphDestroy), {"cuGraphDestroy", nullptr}},
      {slotOf(api.cuEventCreate), {"cuEventCreate", nullptr}},
      {slotOf(api.cuEventDestroy), {"cuEventDestroy_v2", "cuEventDestroy"}},
      {slotOf(api.cuEventRecord), {"cuEventRecord", nullptr}},
      {slotOf(api.cuEventSynchronize), {"cuEventSynchronize", nullptr}},
      {slotOf(api.cuEventElapsedTime),
       {"cuEventElapsedTime_v2", "cuEventElapsedTime"}},
  };
  for (const Symbol &symbol : symbols) {
    void *address = nullptr;
    for (const char *name : symbol.names)
      if (name && !address)
        address = ::dlsym(library, name);
    if (!address) {
      result.error = "CUDA driver " + path + " lacks " + symbol.names[0] +
                     " (driver too old: GPU artifacts need CUDA 12 or newer)";
      error = result.error;
      ::dlclose(library);
      return nullptr;
    }
    *symbol.slot = address;
  }
  CUresult status = api.cuInit(0);
  if (status != CUDA_SUCCESS) {
    result.error = "no CUDA GPU found: cuInit failed with " +
                   driver->describe(status);
    error = result.error;
    return nullptr; // the library stays loaded: the driver may hold state
  }
  api.cuDriverGetVersion(&driver->driverVersion);
  result.driver = std::move(driver);
  return result.driver.get();
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (functions.cuGetErrorName)
    functions.cuGetErrorName(result, &name);
  if (functions.cuGetErrorString)
    functions.cuGetErrorString(result, &text);
  std::string description =
      name ? name : "CUDA error " + std::to_string(result);
  if (text)
    description += std::string(" (") + text + ")";
  return description;
}

ContextGuard::ContextGuard(const Driver &driver, CUcontext context)
    : driver(driver), pushResult(driver.api().cuCtxPushCurrent(context)) {}

ContextGuard::~ContextGuard() {
  if (pushResult == CUDA_SUCCESS) {
    CUcontext popped = nullptr;
    driver.api().cuCtxPopCurrent(&popped);
  }
}

} // namespace cuda
} // namespace runtime
} // namespace qcc
