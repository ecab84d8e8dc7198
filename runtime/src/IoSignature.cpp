//===- IoSignature.cpp - the library's account of its I/O -----------------===//

#include "IoSignature.h"

#include "Status.h"

#include <dlfcn.h>

namespace qcc {
namespace runtime {

namespace {

using IoSignatureFn = const char *(*)(void);

/// The n-th line of `text` (without its newline), or "(none)".
std::string lineAt(const std::string &text, size_t n) {
  size_t begin = 0;
  for (size_t i = 0; i < n && begin != std::string::npos; ++i) {
    begin = text.find('\n', begin);
    if (begin != std::string::npos)
      ++begin;
  }
  if (begin == std::string::npos || begin >= text.size())
    return "(none)";
  return text.substr(begin, text.find('\n', begin) - begin);
}

} // namespace

qcc_status checkIoSignature(void *library, const Manifest &manifest,
                            const std::string &manifestPath,
                            const std::string &libraryPath) {
  ::dlerror();
  auto signature = reinterpret_cast<IoSignatureFn>(
      ::dlsym(library, "qcc_artifact_io_signature"));
  if (!signature)
    return nullptr;
  const char *text = signature();
  std::string actual = text ? text : "";
  std::string expected =
      "weights " + std::to_string(manifest.weightsSize) + "\n" +
      contentHashIo(manifest.inputs, manifest.outputs);
  if (actual == expected)
    return nullptr;
  // The first line that differs (texts that differ only past their last
  // newline stop at "(none)").
  size_t line = 0;
  while (lineAt(actual, line) == lineAt(expected, line) &&
         lineAt(expected, line) != "(none)")
    ++line;
  return makeStatus(QCC_STATUS_DATA_LOSS,
                    "artifact integrity check failed: manifest '" +
                        manifestPath + "' does not describe library '" +
                        libraryPath + "': the manifest says '" +
                        lineAt(expected, line) + "', the library '" +
                        lineAt(actual, line) + "'");
}

} // namespace runtime
} // namespace qcc
