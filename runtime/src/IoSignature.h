//===- IoSignature.h - the library's account of its I/O ---------*- C++ -*-===//
//
// A CPU library names the weight file size and the I/O it was compiled for
// (qcc_artifact_io_signature, docs/ARTIFACT.md); the loader compares that
// with the manifest.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_IOSIGNATURE_H
#define QCC_RUNTIME_SRC_IOSIGNATURE_H

#include "Manifest.h"

#include <string>

namespace qcc {
namespace runtime {

/// Null when `library` (a dlopen handle) exports no signature or one that
/// matches `manifest`; else a DATA_LOSS status naming the first line that
/// differs. A manifest that says otherwise, even with every hash recomputed,
/// would make the code read past the caller's buffers or the weights.
/// Libraries of older compilers lack the symbol and load without the check.
qcc_status checkIoSignature(void *library, const Manifest &manifest,
                            const std::string &manifestPath,
                            const std::string &libraryPath);

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_IOSIGNATURE_H
