//===- Hashing.cpp - public SHA-256 entry points --------------------------===//

#include "Sha256.h"
#include "Status.h"

#include "qcc/qcc_runtime.h"

#include <cerrno>
#include <cstring>

using namespace qcc::runtime;

extern "C" void qcc_sha256_hex(const void *data, size_t size, char hex[65]) {
  std::string digest = Sha256::hashHex(data, size);
  std::memcpy(hex, digest.c_str(), 65);
}

extern "C" qcc_status qcc_sha256_file_hex(const char *path, char hex[65]) {
  if (!path || !hex)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_sha256_file_hex: null argument");
  std::string digest, error;
  uint64_t size = 0;
  if (!sha256File(path, digest, size, error))
    return makeStatus(errno == ENOENT ? QCC_STATUS_NOT_FOUND
                                      : QCC_STATUS_DATA_LOSS,
                      std::string("cannot read '") + path + "': " + error);
  std::memcpy(hex, digest.c_str(), 65);
  return nullptr;
}
