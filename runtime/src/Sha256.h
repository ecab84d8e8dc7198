//===- Sha256.h - SHA-256 (FIPS 180-4) --------------------------*- C++ -*-===//
//
// A small streaming SHA-256 used to verify artifact integrity.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_SHA256_H
#define QCC_RUNTIME_SRC_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace qcc {
namespace runtime {

/// Incremental SHA-256 hasher.
class Sha256 {
public:
  using Digest = std::array<uint8_t, 32>;

  Sha256() { reset(); }

  /// Restarts a new message.
  void reset();
  /// Appends `size` bytes of message.
  void update(const void *data, size_t size);
  void update(const std::string &text) { update(text.data(), text.size()); }
  /// Finishes the message and returns its digest; the hasher is reset.
  Digest finish();

  /// Digest of a whole buffer.
  static Digest hash(const void *data, size_t size);
  /// Lowercase hex digest of a whole buffer.
  static std::string hashHex(const void *data, size_t size);
  static std::string hashHex(const std::string &text) {
    return hashHex(text.data(), text.size());
  }
  /// Lowercase hex of a digest.
  static std::string toHex(const Digest &digest);

private:
  void processBlock(const uint8_t *block);

  uint32_t state[8];
  uint8_t buffer[64];
  size_t bufferSize;
  uint64_t totalBytes;
};

/// Hashes the file at `path`; returns false and sets `errorMessage`
/// (strerror text) when it cannot be read. `fileSize` receives its size.
bool sha256File(const std::string &path, std::string &hexDigest,
                uint64_t &fileSize, std::string &errorMessage);

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_SHA256_H
