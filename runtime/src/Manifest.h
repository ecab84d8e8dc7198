//===- Manifest.h - The artifact manifest (model.json) ----------*- C++ -*-===//
//
// Reads and checks the manifest of docs/ARTIFACT.md, format version 1, and
// computes its content hash.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_MANIFEST_H
#define QCC_RUNTIME_SRC_MANIFEST_H

#include "qcc/qcc_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qcc {
namespace runtime {

/// One input or output of the manifest.
struct TensorSpec {
  std::string name;
  qcc_dtype dtype = QCC_DTYPE_INVALID;
  uint32_t rank = 0;
  int64_t dims[QCC_MAX_RANK] = {};
  size_t byteSize = 0;
};

/// The fields of a version 1 manifest the runtime uses.
struct Manifest {
  int64_t formatVersion = 0;
  std::string compiler;
  std::string targetName;
  std::string targetKind;
  std::string targetTriple;
  /// cuda targets: the compute capability as major*10+minor (80 = sm_80).
  int64_t targetSm = 0;
  /// cuda targets: the PTX runs only on exactly targetSm (sm_90a).
  bool targetArchSpecific = false;
  std::string targetPtxIsa;
  std::vector<std::string> requiredFeatures;
  std::string library;
  std::string librarySha256;
  std::string weights;
  uint64_t weightsSize = 0;
  std::string weightsSha256;
  /// cuda targets: the launch plan file and its digest.
  std::string plan;
  std::string planSha256;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::string contentHash;
};

/// Parses and validates manifest `text` read from `path` (for messages).
/// Returns NULL on success. A manifest whose format_version is not 1 is
/// refused with UNIMPLEMENTED before any other field is looked at.
qcc_status parseManifest(const std::string &text, const std::string &path,
                         Manifest &manifest);

/// The "io" part of the content hash: one line per input then output.
std::string contentHashIo(const std::vector<TensorSpec> &inputs,
                          const std::vector<TensorSpec> &outputs);

/// content_hash as docs/ARTIFACT.md defines it. `planSha256` is "" for CPU
/// targets; for cuda targets it adds the "plan <digest>" line.
std::string computeContentHash(const std::string &librarySha256,
                               const std::string &weightsSha256,
                               const std::vector<TensorSpec> &inputs,
                               const std::vector<TensorSpec> &outputs,
                               const std::string &planSha256 = "");

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_MANIFEST_H
