//===- MakeTestArtifact.cpp - Writes fixture artifacts and inputs ---------===//
//
// Usage:
//   qcc-runtime-make-test-artifact add|parallel|sum DIR NAME [FEATURE,...]
//     writes DIR/NAME.{so,weights,json} (requiring the given CPU features)
//     and prints the prefix;
//   qcc-runtime-make-test-artifact cuda DIR NAME
//     writes the GPU artifact of CudaArtifact.h as DIR/NAME.{ptx,plan.json,
//     weights,json}, its inputs DIR/a.npy, DIR/b.npy and the expected
//     outputs DIR/y.expected.npy, DIR/z.expected.npy, and prints the prefix;
//   qcc-runtime-make-test-artifact inputs DIR
//     writes .npy inputs for the fixtures: a.npy, b.npy (float32 2x3),
//     b-int64.npy (int64 2x3), b-3x2.npy (float32 3x2), x.npy (float32 4096).
// Used by the qcc-run command-line tests.
//
//===----------------------------------------------------------------------===//

#include "qcc/qcc_tensor_io.h"

#include "ArtifactWriter.h"
#include "CudaArtifact.h"

#include <cmath>

#include <cstdio>
#include <string>
#include <vector>

using namespace qcc::test;

namespace {

template <typename T>
bool writeNpy(const std::string &path, qcc_dtype dtype,
              std::vector<int64_t> dims, std::vector<T> values) {
  qcc_tensor tensor = {};
  tensor.dtype = dtype;
  tensor.rank = static_cast<uint32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    tensor.dims[i] = dims[i];
  tensor.data = values.data();
  tensor.byte_size = values.size() * sizeof(T);
  qcc_status status = qcc_tensor_write_npy(path.c_str(), &tensor);
  if (status)
    std::fprintf(stderr, "%s\n", qcc_status_message(status));
  qcc_status_free(status);
  return !status;
}

int writeInputs(const std::string &dir) {
  std::vector<float> a(6), b(6), x(4096);
  for (int i = 0; i < 6; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 10.0f * static_cast<float>(i);
  }
  for (int i = 0; i < 4096; ++i)
    x[i] = static_cast<float>(i % 10);
  bool ok = writeNpy(dir + "/a.npy", QCC_DTYPE_FLOAT32, {2, 3}, a) &&
            writeNpy(dir + "/b.npy", QCC_DTYPE_FLOAT32, {2, 3}, b) &&
            writeNpy(dir + "/b-int64.npy", QCC_DTYPE_INT64, {2, 3},
                     std::vector<int64_t>(6, 1)) &&
            writeNpy(dir + "/b-3x2.npy", QCC_DTYPE_FLOAT32, {3, 2}, b) &&
            writeNpy(dir + "/x.npy", QCC_DTYPE_FLOAT32, {4096}, x);
  return ok ? 0 : 1;
}

int writeCuda(const std::string &dir, const std::string &name) {
  std::string error;
  std::string prefix = writeCudaArtifact(cudaTestDesc(), dir, name, error);
  if (prefix.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  int64_t n = cudaTestElements;
  std::vector<float> a(n), b(n), y(n), z(n), w = cudaTestWeights();
  for (int64_t i = 0; i < n; ++i) {
    a[i] = std::sin(static_cast<float>(i)) * 3.0f;
    b[i] = static_cast<float>(i % 17) * 0.125f - 1.0f;
    y[i] = std::fma(a[i] + b[i], 0.5f, w[i]);
    z[i] = y[i] * -2.0f;
  }
  if (!writeNpy(dir + "/a.npy", QCC_DTYPE_FLOAT32, {n}, a) ||
      !writeNpy(dir + "/b.npy", QCC_DTYPE_FLOAT32, {n}, b) ||
      !writeNpy(dir + "/y.expected.npy", QCC_DTYPE_FLOAT32, {n}, y) ||
      !writeNpy(dir + "/z.expected.npy", QCC_DTYPE_FLOAT32, {n}, z))
    return 1;
  std::printf("%s\n", prefix.c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "inputs")
    return writeInputs(argv[2]);
  if (argc == 4 && std::string(argv[1]) == "cuda")
    return writeCuda(argv[2], argv[3]);
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr,
                 "usage: %s add|parallel|sum DIR NAME [FEATURE,...]\n"
                 "       %s cuda DIR NAME\n"
                 "       %s inputs DIR\n",
                 argv[0], argv[0], argv[0]);
    return 2;
  }
  std::string kind = argv[1];
  ArtifactDesc desc;
  if (kind == "add") {
    desc = addModelDesc(QCC_FIXTURE_ADD);
  } else if (kind == "parallel") {
    desc = parallelModelDesc(QCC_FIXTURE_PARALLEL);
  } else if (kind == "sum") {
    desc = sumModelDesc(QCC_FIXTURE_SUM);
  } else {
    std::fprintf(stderr, "unknown fixture '%s'\n", argv[1]);
    return 2;
  }
  if (argc == 5) {
    std::string features = argv[4];
    size_t start = 0;
    while (start < features.size()) {
      size_t end = features.find(',', start);
      if (end == std::string::npos)
        end = features.size();
      desc.requiredFeatures.push_back(features.substr(start, end - start));
      start = end + 1;
    }
  }
  std::string error;
  std::string prefix = writeArtifact(desc, argv[2], argv[3], error);
  if (prefix.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::printf("%s\n", prefix.c_str());
  return 0;
}
