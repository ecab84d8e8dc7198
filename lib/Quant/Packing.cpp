//===- Packing.cpp - Integer codes into weight layouts --------------------===//

#include "qcc/Quant/Packing.h"

using namespace qcc::quant;

int64_t qcc::quant::getCodesPerByte(Layout layout, unsigned bits) {
  if (layout == Layout::VnniK8N16)
    return 2;
  if (layout != Layout::PackedK || bits == 0 || 8 % bits != 0)
    return 1;
  return 8 / bits;
}

int64_t qcc::quant::getStorageBytes(int64_t k, int64_t n, unsigned bits,
                                    Layout layout) {
  int64_t perByte = getCodesPerByte(layout, bits);
  return (k * n + perByte - 1) / perByte;
}

Status qcc::quant::verifyLayout(int64_t k, int64_t n, unsigned bits,
                                Layout layout) {
  if (bits < 2 || bits > 8)
    return Status::error("bit width must be in [2, 8], got " +
                         std::to_string(bits));
  if (k <= 0 || n <= 0)
    return Status::error("matrix dimensions must be positive, got " +
                         std::to_string(k) + "x" + std::to_string(n));
  if (layout == Layout::VnniK4N16 && (k % 4 != 0 || n % 16 != 0))
    return Status::error("vnni_k4n16 needs K % 4 == 0 and N % 16 == 0");
  if (layout == Layout::VnniK4N16 && bits != 8)
    return Status::error("vnni_k4n16 holds 8-bit codes");
  if (layout == Layout::VnniK8N16 && (k % 8 != 0 || n % 16 != 0))
    return Status::error("vnni_k8n16 needs K % 8 == 0 and N % 16 == 0");
  if (layout == Layout::VnniK8N16 && bits != 4)
    return Status::error("vnni_k8n16 holds 4-bit codes");
  return Status::success();
}

namespace {
/// Where code (k, n) lives: a byte and a slot within it (slot * bits is the
/// bit offset).
struct Position {
  int64_t byte;
  int64_t slot;
};
} // namespace

static Position locate(int64_t k, int64_t n, int64_t numK, int64_t numN,
                       int64_t perByte, Layout layout) {
  switch (layout) {
  case Layout::RowMajor:
    return {k * numN + n, 0};
  case Layout::PackedK: {
    int64_t fullK = (numK / perByte) * perByte;
    if (k < fullK)
      return {(k / perByte) * numN + n, k % perByte};
    int64_t t = (k - fullK) * numN + n;
    return {(numK / perByte) * numN + t / perByte, t % perByte};
  }
  case Layout::VnniK4N16:
    return {((n / 16) * (numK / 4) + k / 4) * 64 + (n % 16) * 4 + k % 4, 0};
  case Layout::VnniK8N16:
    return {((n / 16) * (numK / 8) + k / 8) * 64 + (n % 16) * 4 + k % 4,
            (k % 8) / 4};
  }
  return {0, 0};
}

Status qcc::quant::packCodes(const int32_t *codes, int64_t k, int64_t n,
                             const Scheme &scheme, Layout layout,
                             std::vector<uint8_t> &bytes) {
  if (Status s = verifyLayout(k, n, scheme.bits, layout); !s)
    return s;
  const int64_t perByte = getCodesPerByte(layout, scheme.bits);
  const int64_t qmin = scheme.getMinCode(), qmax = scheme.getMaxCode();
  const unsigned fieldBits = perByte == 1 ? 8 : scheme.bits;
  const uint32_t mask = (1u << fieldBits) - 1;
  bytes.assign(size_t(getStorageBytes(k, n, scheme.bits, layout)), 0);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int32_t code = codes[r * n + c];
      if (code < qmin || code > qmax)
        return Status::error("code " + std::to_string(code) + " at (" +
                             std::to_string(r) + ", " + std::to_string(c) +
                             ") is outside [" + std::to_string(qmin) + ", " +
                             std::to_string(qmax) + "]");
      Position pos = locate(r, c, k, n, perByte, layout);
      bytes[size_t(pos.byte)] |=
          uint8_t((uint32_t(code) & mask) << (pos.slot * fieldBits));
    }
  return Status::success();
}

Status qcc::quant::unpackCodes(const uint8_t *bytes, int64_t numBytes,
                               int64_t k, int64_t n, const Scheme &scheme,
                               Layout layout, int32_t *codes) {
  if (Status s = verifyLayout(k, n, scheme.bits, layout); !s)
    return s;
  int64_t expected = getStorageBytes(k, n, scheme.bits, layout);
  if (numBytes != expected)
    return Status::error("packed weight has " + std::to_string(numBytes) +
                         " bytes, the layout needs " +
                         std::to_string(expected));
  const int64_t perByte = getCodesPerByte(layout, scheme.bits);
  const unsigned fieldBits = perByte == 1 ? 8 : scheme.bits;
  const uint32_t mask = (1u << fieldBits) - 1;
  const uint32_t signBit = 1u << (fieldBits - 1);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      Position pos = locate(r, c, k, n, perByte, layout);
      uint32_t field =
          (uint32_t(bytes[pos.byte]) >> (pos.slot * fieldBits)) & mask;
      int32_t code = int32_t(field);
      if (scheme.isSigned && (field & signBit))
        code -= int32_t(mask) + 1;
      codes[r * n + c] = code;
    }
  return Status::success();
}
