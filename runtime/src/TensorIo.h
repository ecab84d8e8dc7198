//===- TensorIo.h - Shared helpers of the tensor file readers ---*- C++ -*-===//

#ifndef QCC_RUNTIME_SRC_TENSORIO_H
#define QCC_RUNTIME_SRC_TENSORIO_H

#include "qcc/qcc_tensor_io.h"

#include <string>

namespace qcc {
namespace runtime {

/// Reads the whole file at `path` into `bytes`.
qcc_status readFileBytes(const std::string &path, std::string &bytes);

/// Writes `bytes` to `path`, replacing it.
qcc_status writeFileBytes(const std::string &path, const std::string &bytes);

/// Little-endian loads from unaligned memory.
inline uint16_t loadLe16(const unsigned char *p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t loadLe32(const unsigned char *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
         (uint32_t(p[3]) << 24);
}
inline uint64_t loadLe64(const unsigned char *p) {
  return uint64_t(loadLe32(p)) | (uint64_t(loadLe32(p + 4)) << 32);
}

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_TENSORIO_H
