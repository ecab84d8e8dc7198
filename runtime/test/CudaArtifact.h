//===- CudaArtifact.h - Writes `kind: cuda` test artifacts ------*- C++ -*-===//
//
// A genuine GPU artifact written by hand: a PTX module with two kernels
// (written here as text, no CUDA toolkit needed), a launch plan using every
// command and argument kind, weights, and a manifest whose hashes (the plan's
// included) are computed here from docs/ARTIFACT.md independently of the
// runtime's manifest code.
//
// The model: inputs a, b (float32 [n]); weights w (float32 [n]);
//   y = fma(a + b, 0.5, w)   (kernel qcc_test_axpb, i32 count)
//   z = y * -2               (kernel qcc_test_scale, i64 count)
//   flag = 7 (uint8 [16], a memset); the arena is poisoned first.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_TEST_CUDAARTIFACT_H
#define QCC_RUNTIME_TEST_CUDAARTIFACT_H

#include "ArtifactWriter.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qcc {
namespace test {

/// Everything a cuda artifact holds.
struct CudaArtifactDesc {
  std::string ptx;
  std::string plan;
  std::string weights;
  std::vector<TensorDecl> inputs;
  std::vector<TensorDecl> outputs;
  int64_t sm = 80;
  /// "arch_specific": the PTX runs only on exactly `sm` (sm_90a).
  bool archSpecific = false;
  /// false: the content hash leaves out the plan line (a wrong artifact).
  bool hashPlan = true;
};

/// Elements of the test model's vectors (not a multiple of the block size).
constexpr int64_t cudaTestElements = 1000;

/// The hand-written PTX module.
std::string cudaTestPtx();
/// The plan of the test model with arena size `arenaBytes`.
std::string cudaTestPlan(uint64_t arenaBytes = 8192);
/// The weights: w[i] = 0.25 * (i % 13) - 1.
std::vector<float> cudaTestWeights();
/// The whole test model.
CudaArtifactDesc cudaTestDesc();
/// A plan of one launch and no arena (the runtime's direct path): y =
/// fma(a + b, 0.5, w) written straight into the output; outputs {y}.
CudaArtifactDesc cudaOneLaunchDesc();

/// The manifest text of `desc` for files named `<name>.{ptx,plan.json,
/// weights}`.
std::string cudaManifestText(const CudaArtifactDesc &desc,
                             const std::string &name);

/// Writes `<directory>/<name>.{ptx,plan.json,weights,json}` and returns the
/// prefix, or "" with `error` set.
std::string writeCudaArtifact(const CudaArtifactDesc &desc,
                              const std::string &directory,
                              const std::string &name, std::string &error);

} // namespace test
} // namespace qcc

#endif // QCC_RUNTIME_TEST_CUDAARTIFACT_H
