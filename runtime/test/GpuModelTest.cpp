//===- GpuModelTest.cpp - Loading and running `kind: cuda` artifacts ------===//
//
// The first group runs everywhere: integrity checks, tampered plans and a
// missing driver are all refused before any GPU is needed. The GpuRun group
// needs an NVIDIA GPU and skips with a message without one; it runs the
// hand-written PTX module of CudaArtifact.cpp through the public C API.
//
//===----------------------------------------------------------------------===//

#include "qcc/qcc_runtime.h"

#include "CudaArtifact.h"
#include "CudaDriver.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ftw.h>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace qcc::test;
namespace cuda = qcc::runtime::cuda;

namespace {

struct Outcome {
  qcc_status_code_t code;
  std::string message;
};

Outcome take(qcc_status status) {
  Outcome outcome{qcc_status_code(status), qcc_status_message(status)};
  qcc_status_free(status);
  return outcome;
}

struct ModelDeleter {
  void operator()(qcc_model *model) const { qcc_model_release(model); }
};
using ModelPtr = std::unique_ptr<qcc_model, ModelDeleter>;

int removeEntry(const char *path, const struct stat *, int, struct FTW *) {
  return ::remove(path);
}

/// "" when a CUDA GPU is usable, else why not.
std::string gpuUnavailable() {
  std::string error;
  const cuda::Driver *driver = cuda::Driver::get("libcuda.so.1", error);
  if (!driver)
    return error;
  int count = 0;
  if (driver->api().cuDeviceGetCount(&count) != cuda::CUDA_SUCCESS ||
      count == 0)
    return "the CUDA driver reports no GPU";
  return "";
}

#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    std::string reason = gpuUnavailable();                                     \
    if (!reason.empty())                                                       \
      GTEST_SKIP() << "GPU test skipped, no usable GPU: " << reason;           \
  } while (0)

/// GPU 0's primary context, retained and current while this lives.
class PrimaryContext {
public:
  PrimaryContext() {
    std::string error;
    driver = cuda::Driver::get("libcuda.so.1", error);
    if (!driver ||
        driver->api().cuDeviceGet(&device, 0) != cuda::CUDA_SUCCESS ||
        driver->api().cuDevicePrimaryCtxRetain(&context, device) !=
            cuda::CUDA_SUCCESS)
      return;
    guard.reset(new cuda::ContextGuard(*driver, context));
  }
  ~PrimaryContext() {
    guard.reset();
    if (context)
      driver->api().cuDevicePrimaryCtxRelease(device);
  }
  bool current() const {
    return guard && guard->result() == cuda::CUDA_SUCCESS;
  }
  const cuda::DriverApi &api() const { return driver->api(); }

private:
  const cuda::Driver *driver = nullptr;
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
  std::unique_ptr<cuda::ContextGuard> guard;
};

/// Host data of one run of the test model and its expected outputs.
struct TestRun {
  std::vector<float> a, b, y, z;
  std::vector<uint8_t> flag;

  explicit TestRun(unsigned seed)
      : a(cudaTestElements), b(cudaTestElements),
        y(cudaTestElements, std::nanf("")), z(cudaTestElements, std::nanf("")),
        flag(16, 0) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
    for (int64_t i = 0; i < cudaTestElements; ++i) {
      a[i] = uniform(random);
      b[i] = uniform(random);
    }
  }

  /// Exact comparison: the kernels round like the reference (fma, mul).
  void check(const char *context) const {
    std::vector<float> w = cudaTestWeights();
    for (int64_t i = 0; i < cudaTestElements; ++i) {
      float expected = std::fma(a[i] + b[i], 0.5f, w[i]);
      ASSERT_EQ(y[i], expected) << context << ": y[" << i << "]";
      ASSERT_EQ(z[i], expected * -2.0f) << context << ": z[" << i << "]";
    }
    for (uint8_t value : flag)
      ASSERT_EQ(value, 7) << context;
  }

  std::vector<qcc_tensor> inputs() {
    return {tensor(QCC_DTYPE_FLOAT32, a.data(), 4), tensor(QCC_DTYPE_FLOAT32,
                                                          b.data(), 4)};
  }
  std::vector<qcc_tensor> outputs() {
    qcc_tensor flags = tensor(QCC_DTYPE_UINT8, flag.data(), 1);
    flags.dims[0] = 16;
    flags.byte_size = 16;
    return {tensor(QCC_DTYPE_FLOAT32, y.data(), 4),
            tensor(QCC_DTYPE_FLOAT32, z.data(), 4), flags};
  }

private:
  static qcc_tensor tensor(qcc_dtype dtype, void *data, size_t elementSize) {
    qcc_tensor tensor;
    std::memset(&tensor, 0, sizeof(tensor));
    tensor.dtype = dtype;
    tensor.rank = 1;
    tensor.dims[0] = cudaTestElements;
    tensor.data = data;
    tensor.byte_size = cudaTestElements * elementSize;
    return tensor;
  }
};

class GpuModelTest : public ::testing::Test {
protected:
  void SetUp() override {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/qcc-gpu-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    ASSERT_NE(::mkdtemp(buffer.data()), nullptr);
    directory = buffer.data();
  }

  void TearDown() override {
    ::nftw(directory.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
  }

  std::string write(const CudaArtifactDesc &desc, const std::string &name) {
    std::string error;
    std::string prefix = writeCudaArtifact(desc, directory, name, error);
    EXPECT_FALSE(prefix.empty()) << error;
    return prefix;
  }

  static Outcome load(const std::string &prefix, ModelPtr &model,
                      uint32_t device = 0) {
    qcc_load_options options;
    qcc_load_options_init(&options);
    options.device = device;
    qcc_model *raw = nullptr;
    Outcome outcome = take(qcc_model_load(prefix.c_str(), &options, &raw));
    model.reset(raw);
    EXPECT_EQ(outcome.message.find('\n'), std::string::npos);
    return outcome;
  }

  static void run(qcc_model *model, TestRun &data, const char *context) {
    std::vector<qcc_tensor> inputs = data.inputs(), outputs = data.outputs();
    Outcome outcome = take(qcc_model_run(model, inputs.data(), inputs.size(),
                                         outputs.data(), outputs.size()));
    ASSERT_EQ(outcome.code, QCC_STATUS_OK) << context << ": "
                                           << outcome.message;
    data.check(context);
  }

  std::string directory;
};

//===----------------------------------------------------------------------===//
// Everywhere: checks that need no GPU
//===----------------------------------------------------------------------===//

TEST_F(GpuModelTest, IntegrityCoversPtxPlanAndContentHash) {
  CudaArtifactDesc desc = cudaTestDesc();
  std::string prefix = write(desc, "m");
  ModelPtr model;

  ASSERT_TRUE(writeFile(prefix + ".plan.json", desc.plan + " "));
  Outcome outcome = load(prefix, model);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("artifact integrity check failed: plan '"),
            std::string::npos)
      << outcome.message;

  prefix = write(desc, "m");
  ASSERT_TRUE(writeFile(prefix + ".ptx", desc.ptx + "\n"));
  outcome = load(prefix, model);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("integrity check failed: library '"),
            std::string::npos)
      << outcome.message;

  prefix = write(desc, "m");
  ASSERT_TRUE(writeFile(prefix + ".weights", desc.weights.substr(1) + "x"));
  outcome = load(prefix, model);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("weights '"), std::string::npos)
      << outcome.message;

  // A content hash without the plan line is the CPU formula: refused.
  desc.hashPlan = false;
  outcome = load(write(desc, "noplanhash"), model);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("content_hash"), std::string::npos)
      << outcome.message;
}

TEST_F(GpuModelTest, ManifestNeedsPlanAndSm) {
  std::string prefix = write(cudaTestDesc(), "m");
  std::string text;
  ASSERT_TRUE(readFile(prefix + ".json", text));
  ModelPtr model;
  std::string noPlan = text;
  noPlan.replace(noPlan.find("\"plan\":"), 7, "\"plan_file\":");
  ASSERT_TRUE(writeFile(prefix + ".json", noPlan));
  Outcome outcome = load(prefix, model);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("missing field 'plan'"), std::string::npos)
      << outcome.message;
  std::string noSm = text;
  noSm.replace(noSm.find("\"sm\": 80"), 8, "\"sm\": \"80\"");
  ASSERT_TRUE(writeFile(prefix + ".json", noSm));
  outcome = load(prefix, model);
  EXPECT_NE(outcome.message.find("'target.sm' must be a number"),
            std::string::npos)
      << outcome.message;
}

TEST_F(GpuModelTest, TamperedPlansAreRefusedBeforeTheDriver) {
  // Re-hashed (so integrity passes): the plan's own checks must refuse them.
  struct Case {
    const char *from, *to, *expected;
  };
  const Case cases[] = {
      {"{\"ptr\": \"input\", \"index\": 1, \"offset\": 0}",
       "{\"ptr\": \"input\", \"index\": 7, \"offset\": 0}",
       "args[1].index' is 7"},
      {"\"bytes\": 4000}", "\"bytes\": 40000}", "exceeds the 4000-byte output"},
      {"{\"ptr\": \"weights\", \"offset\": 0}",
       "{\"ptr\": \"weights\", \"offset\": 4033}",
       "exceeds the 4032-byte weights"},
      {", {\"i32\": 1000}]", "]", "takes 6"},
  };
  for (const Case &c : cases) {
    CudaArtifactDesc desc = cudaTestDesc();
    size_t at = desc.plan.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    desc.plan.replace(at, std::strlen(c.from), c.to);
    ModelPtr model;
    Outcome outcome = load(write(desc, "tampered"), model);
    EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT) << outcome.message;
    EXPECT_EQ(outcome.message.rfind("invalid plan '", 0), 0u)
        << outcome.message;
    EXPECT_NE(outcome.message.find(c.expected), std::string::npos)
        << outcome.message;
  }
  // A kernel the PTX does not declare.
  CudaArtifactDesc desc = cudaTestDesc();
  desc.ptx.replace(desc.ptx.find(".entry qcc_test_scale"), 21,
                   ".entry qcc_test_other");
  ModelPtr model;
  Outcome outcome = load(write(desc, "nokernel"), model);
  EXPECT_NE(outcome.message.find("kernel 'qcc_test_scale' is not an .entry"),
            std::string::npos)
      << outcome.message;
}

TEST_F(GpuModelTest, MissingDriverIsAClearError) {
  std::string prefix = write(cudaTestDesc(), "m");
  ModelPtr model;
  ::setenv("QCC_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  Outcome outcome = load(prefix, model);
  ::unsetenv("QCC_CUDA_DRIVER");
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find(
                "CUDA driver /nonexistent/libcuda.so.1 not found: "),
            std::string::npos)
      << outcome.message;
  EXPECT_EQ(model, nullptr);

  // On a machine without the driver, the default name is reported.
  std::string reason = gpuUnavailable();
  if (reason.find("not found") == std::string::npos)
    GTEST_SKIP() << "libcuda.so.1 is present here; default-path case skipped";
  outcome = load(prefix, model);
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find("CUDA driver libcuda.so.1 not found: "),
            std::string::npos)
      << outcome.message;
}

TEST_F(GpuModelTest, RunDeviceNeedsACudaModel) {
  EXPECT_NE(take(qcc_model_run_device(nullptr, nullptr, 0, nullptr, 0,
                                      nullptr))
                .code,
            QCC_STATUS_OK);
}

//===----------------------------------------------------------------------===//
// On a GPU
//===----------------------------------------------------------------------===//

TEST_F(GpuModelTest, GpuRunsAndReplaysTheGraph) {
  REQUIRE_GPU();
  ModelPtr model;
  Outcome outcome = load(write(cudaTestDesc(), "m"), model);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  EXPECT_STREQ(qcc_model_target_kind(model.get()), "cuda");
  // Run 0 is eager and captures the graph; later runs replay it, each on
  // fresh inputs and outputs poisoned with NaN.
  for (unsigned i = 0; i < 6; ++i) {
    TestRun data(100 + i);
    run(model.get(), data, i == 0 ? "eager run" : "graph replay");
  }
}

TEST_F(GpuModelTest, GpuRunsWithoutGraphs) {
  REQUIRE_GPU();
  ::setenv("QCC_CUDA_GRAPHS", "0", 1);
  ModelPtr model;
  Outcome outcome = load(write(cudaTestDesc(), "m"), model);
  ::unsetenv("QCC_CUDA_GRAPHS");
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  for (unsigned i = 0; i < 3; ++i) {
    TestRun data(200 + i);
    run(model.get(), data, "eager");
  }
}

TEST_F(GpuModelTest, GpuConcurrentRunsUseDistinctSlots) {
  REQUIRE_GPU();
  ModelPtr model;
  Outcome outcome = load(write(cudaTestDesc(), "m"), model);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (unsigned i = 0; i < 25; ++i) {
        TestRun data(1000 * t + i);
        run(model.get(), data, "concurrent run");
      }
    });
  for (std::thread &thread : threads)
    thread.join();
}

TEST_F(GpuModelTest, GpuRunsOnDeviceBuffers) {
  REQUIRE_GPU();
  ModelPtr model;
  Outcome outcome = load(write(cudaTestDesc(), "m"), model);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  PrimaryContext primary;
  ASSERT_TRUE(primary.current());
  const cuda::DriverApi &api = primary.api();
  {
    const size_t bytes = cudaTestElements * 4;
    // Two sets of outputs so that a run on other buffers is checked too.
    cuda::CUdeviceptr a, b, y[2], z[2], flag[2];
    for (cuda::CUdeviceptr *pointer : {&a, &b, &y[0], &z[0], &y[1], &z[1]})
      ASSERT_EQ(api.cuMemAlloc(pointer, bytes), cuda::CUDA_SUCCESS);
    for (cuda::CUdeviceptr *pointer : {&flag[0], &flag[1]})
      ASSERT_EQ(api.cuMemAlloc(pointer, 16), cuda::CUDA_SUCCESS);
    cuda::CUstream stream = nullptr;
    ASSERT_EQ(api.cuStreamCreate(&stream, cuda::CU_STREAM_NON_BLOCKING),
              cuda::CUDA_SUCCESS);
    // Run 0 is eager, run 1 (same buffers) captures and replays, 2-4 replay,
    // 5 runs eagerly on other outputs, 6 replays on the first set again; odd
    // runs use the legacy default stream.
    for (unsigned i = 0; i < 7; ++i) {
      int set = i == 5 ? 1 : 0;
      TestRun data(300 + i);
      ASSERT_EQ(api.cuMemcpyHtoD(a, data.a.data(), bytes), cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyHtoD(b, data.b.data(), bytes), cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyHtoD(y[set], data.y.data(), bytes),
                cuda::CUDA_SUCCESS); // NaN poison
      const void *inputs[2] = {reinterpret_cast<const void *>(a),
                               reinterpret_cast<const void *>(b)};
      void *outputs[3] = {reinterpret_cast<void *>(y[set]),
                          reinterpret_cast<void *>(z[set]),
                          reinterpret_cast<void *>(flag[set])};
      cuda::CUstream use = i % 2 ? nullptr : stream;
      outcome = take(
          qcc_model_run_device(model.get(), inputs, 2, outputs, 3, use));
      ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
      ASSERT_EQ(api.cuStreamSynchronize(use), cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyDtoH(data.y.data(), y[set], bytes),
                cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyDtoH(data.z.data(), z[set], bytes),
                cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyDtoH(data.flag.data(), flag[set], 16),
                cuda::CUDA_SUCCESS);
      data.check(("device run " + std::to_string(i)).c_str());
    }
    const void *none[2] = {nullptr, nullptr};
    void *outputs[3] = {nullptr, nullptr, nullptr};
    outcome = take(qcc_model_run_device(model.get(), none, 2, outputs, 3,
                                        stream));
    EXPECT_NE(outcome.message.find("device pointer is NULL"),
              std::string::npos);
    api.cuStreamDestroy(stream);
    for (cuda::CUdeviceptr pointer : {a, b, y[0], z[0], y[1], z[1], flag[0],
                                      flag[1]})
      api.cuMemFree(pointer);
  }
}

TEST_F(GpuModelTest, GpuRunsAOneLaunchPlanDirectly) {
  // One launch, no arena: device runs are a bare cuLaunchKernel on the
  // caller's stream (no graph, no ordering event). Runs alternate streams
  // and output buffers, with host runs in between; every output is poisoned
  // with NaN first and compared exactly.
  REQUIRE_GPU();
  ModelPtr model;
  Outcome outcome = load(write(cudaOneLaunchDesc(), "one"), model);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  PrimaryContext primary;
  ASSERT_TRUE(primary.current());
  const cuda::DriverApi &api = primary.api();
  const std::vector<float> w = cudaTestWeights();
  auto expectY = [&](const TestRun &data, const std::vector<float> &y,
                     const std::string &context) {
    for (int64_t i = 0; i < cudaTestElements; ++i)
      ASSERT_EQ(y[i], std::fma(data.a[i] + data.b[i], 0.5f, w[i]))
          << context << ": y[" << i << "]";
  };
  {
    const size_t bytes = cudaTestElements * 4;
    cuda::CUdeviceptr a, b, y[2];
    for (cuda::CUdeviceptr *pointer : {&a, &b, &y[0], &y[1]})
      ASSERT_EQ(api.cuMemAlloc(pointer, bytes), cuda::CUDA_SUCCESS);
    cuda::CUstream stream = nullptr;
    ASSERT_EQ(api.cuStreamCreate(&stream, cuda::CU_STREAM_NON_BLOCKING),
              cuda::CUDA_SUCCESS);
    for (unsigned i = 0; i < 8; ++i) {
      TestRun data(500 + i);
      std::string what = "run " + std::to_string(i);
      if (i == 3 || i == 6) { // a host run between device runs
        std::vector<qcc_tensor> inputs = data.inputs();
        qcc_tensor output = data.outputs()[0];
        outcome = take(qcc_model_run(model.get(), inputs.data(), 2, &output,
                                     1));
        ASSERT_EQ(outcome.code, QCC_STATUS_OK) << what << ": "
                                               << outcome.message;
        expectY(data, data.y, what + " (host)");
        continue;
      }
      int set = i == 5 ? 1 : 0;
      ASSERT_EQ(api.cuMemcpyHtoD(a, data.a.data(), bytes), cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyHtoD(b, data.b.data(), bytes), cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyHtoD(y[set], data.y.data(), bytes),
                cuda::CUDA_SUCCESS); // NaN poison
      const void *inputs[2] = {reinterpret_cast<const void *>(a),
                               reinterpret_cast<const void *>(b)};
      void *outputs[1] = {reinterpret_cast<void *>(y[set])};
      cuda::CUstream use = i % 2 ? nullptr : stream;
      outcome =
          take(qcc_model_run_device(model.get(), inputs, 2, outputs, 1, use));
      ASSERT_EQ(outcome.code, QCC_STATUS_OK) << what << ": "
                                             << outcome.message;
      ASSERT_EQ(api.cuStreamSynchronize(use), cuda::CUDA_SUCCESS);
      ASSERT_EQ(api.cuMemcpyDtoH(data.y.data(), y[set], bytes),
                cuda::CUDA_SUCCESS);
      expectY(data, data.y, what + " (device)");
    }
    api.cuStreamDestroy(stream);
    for (cuda::CUdeviceptr pointer : {a, b, y[0], y[1]})
      api.cuMemFree(pointer);
  }
}

TEST_F(GpuModelTest, GpuRefusals) {
  REQUIRE_GPU();
  ModelPtr model;
  // Compute capability below the target. Each message is printed as users
  // see it (kept in the GPU machine's test log).
  std::printf("refusal messages:\n");
  CudaArtifactDesc desc = cudaTestDesc();
  desc.sm = 990;
  Outcome outcome = load(write(desc, "future"), model);
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find("below the artifact's target sm_990"),
            std::string::npos)
      << outcome.message;
  std::printf("  %s\n", outcome.message.c_str());

  // Architecture-specific code (sm_90a) on a GPU of another compute
  // capability: sm_10a exists on no GPU this test runs on.
  desc = cudaTestDesc();
  desc.sm = 10;
  desc.archSpecific = true;
  outcome = load(write(desc, "exact"), model);
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find("target sm_10a runs only on 1.0"),
            std::string::npos)
      << outcome.message;
  std::printf("  %s\n", outcome.message.c_str());

  // PTX the driver rejects: the message carries the JIT log.
  desc = cudaTestDesc();
  desc.ptx.replace(desc.ptx.find("mul.rn.f32"), 10, "mul.bogus.f32");
  outcome = load(write(desc, "badptx"), model);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("the CUDA driver rejected the PTX"),
            std::string::npos)
      << outcome.message;
  EXPECT_NE(outcome.message.find("JIT log: "), std::string::npos)
      << outcome.message;
  std::printf("  %s\n", outcome.message.c_str());

  // An arena larger than the device.
  desc = cudaTestDesc();
  desc.plan = cudaTestPlan(uint64_t(1) << 40);
  outcome = load(write(desc, "huge"), model);
  EXPECT_EQ(outcome.code, QCC_STATUS_RESOURCE_EXHAUSTED);
  EXPECT_NE(outcome.message.find("out of device memory"), std::string::npos)
      << outcome.message;

  std::printf("  %s\n", outcome.message.c_str());
  // A device that does not exist.
  outcome = load(write(cudaTestDesc(), "m"), model, 999);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("GPU 999 requested"), std::string::npos)
      << outcome.message;
}

} // namespace
