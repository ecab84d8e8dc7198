//===- Status.h - Status construction helpers -------------------*- C++ -*-===//
//
// Internal helpers to build `qcc_status` objects with printf-style messages.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_STATUS_H
#define QCC_RUNTIME_SRC_STATUS_H

#include "qcc/qcc_runtime.h"

#include <string>

namespace qcc {
namespace runtime {

/// Builds a status with `code` and `message`. Never returns NULL for a code
/// other than OK: when memory runs out it returns a static status.
qcc_status makeStatus(qcc_status_code_t code, const std::string &message);

/// printf-style variant of makeStatus.
qcc_status makeStatusF(qcc_status_code_t code, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/// Returns `prefix + ": " + message of status` with the same code and frees
/// `status`. Returns NULL for a NULL status.
qcc_status annotateStatus(qcc_status status, const std::string &prefix);

/// Returns "strerror(errno)" for `err`.
std::string errnoMessage(int err);

/// Formats dims as the artifact contract does: "1x128", or "scalar".
std::string formatDims(const int64_t *dims, uint32_t rank);

/// Number of elements and byte size of a tensor; false on overflow or
/// invalid dims (negative).
bool computeByteSize(qcc_dtype dtype, const int64_t *dims, uint32_t rank,
                     size_t &byteSize);

/// Allocates `size` bytes aligned to 64 (at least 64 bytes, never NULL on
/// success). Free with std::free.
void *alignedAlloc(size_t size);

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_STATUS_H
