//===- ArtifactWriter.h - Writes test artifacts -----------------*- C++ -*-===//
//
// Builds genuine artifacts around the fixture libraries: copies the .so,
// writes the weights, and writes a manifest with the real hashes, computed
// here from docs/ARTIFACT.md independently of the runtime's manifest code.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_TEST_ARTIFACTWRITER_H
#define QCC_RUNTIME_TEST_ARTIFACTWRITER_H

#include <cstdint>
#include <string>
#include <vector>

namespace qcc {
namespace test {

/// One manifest input or output.
struct TensorDecl {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

/// Everything a manifest says.
struct ArtifactDesc {
  std::string librarySource; ///< path of the fixture .so to copy
  std::string weights;       ///< bytes of model.weights
  std::vector<TensorDecl> inputs;
  std::vector<TensorDecl> outputs;
  std::string kind = "cpu";
  std::string triple; ///< "" = host arch + "-unknown-linux-gnu"
  std::vector<std::string> requiredFeatures;
  int64_t formatVersion = 1;
};

/// The fixtures of test/fixtures, described.
ArtifactDesc addModelDesc(const std::string &library);
ArtifactDesc parallelModelDesc(const std::string &library);
ArtifactDesc sumModelDesc(const std::string &library);

/// The weights of the add model: w[i] = i + 1, scale = 0.5.
std::string addModelWeights();

/// Lowercase hex SHA-256 of `bytes`.
std::string sha256Hex(const std::string &bytes);

/// The manifest text for `desc` given the file names and their digests.
std::string manifestText(const ArtifactDesc &desc,
                         const std::string &libraryName,
                         const std::string &weightsName,
                         const std::string &librarySha256,
                         const std::string &weightsSha256);

/// Writes `<directory>/<name>.{so,weights,json}` and returns the prefix.
/// Returns "" and fills `error` on failure.
std::string writeArtifact(const ArtifactDesc &desc,
                          const std::string &directory, const std::string &name,
                          std::string &error);

/// Reads / writes a whole file.
bool readFile(const std::string &path, std::string &bytes);
bool writeFile(const std::string &path, const std::string &bytes);

} // namespace test
} // namespace qcc

#endif // QCC_RUNTIME_TEST_ARTIFACTWRITER_H
