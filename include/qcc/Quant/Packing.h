//===- Packing.h - Integer codes into weight layouts ------------*- C++ -*-===//
//
// Bytes of the `!q.weight` layouts for a [K, N] matrix of codes (K =
// reduction axis 0, N = output axis 1), and back. Sizes agree with
// WeightType::getStorageBytes(): P = 8 / bits codes per byte for packed_k
// when bits divides 8 (P = 4 for 2-bit, 2 for 4-bit, 1 for 8-bit), else
// P = 1; P = 2 for vnni_k8n16; one code per byte otherwise; storage is
// ceil(K * N / P) bytes.
//
// A code is stored as the low `bits` bits of its two's complement; signed
// codes are sign-extended when unpacked. With one code per byte the byte is
// the code as int8 (signed) or uint8 (unsigned).
//
// row_major   byte[k * N + n] = code(k, n).
//
// packed_k    codes packed along K, low bits first, so that one byte holds P
//             consecutive k of one column and a run of N bytes holds a
//             [P, N] slab (a kernel vectorizes over n and broadcasts x[k]):
//               for k < K0 = (K / P) * P:
//                 byte (k / P) * N + n, bit offset (k % P) * bits
//             4-bit: byte (k/2)*N + n, even k in the low nibble, odd k in
//             the high nibble. When P does not divide K, the K - K0 tail
//             rows follow, row-major, packed P codes per byte in the order
//             t = (k - K0) * N + n: byte (K / P) * N + t / P, bit offset
//             (t % P) * bits, unused high bits of the last byte 0. (This keeps
//             the size at ceil(K * N / P), which getStorageBytes promises.)
//
// vnni_k4n16  8-bit codes, one per byte, needs K % 4 == 0 and N % 16 == 0;
//             storage order [N/16][K/4][16][4]:
//               byte ((n / 16) * (K / 4) + k / 4) * 64 + (n % 16) * 4 + k % 4
//             so each 64-byte block is the zmm operand of one vpdpbusd: 16
//             dword lanes (columns), each holding 4 consecutive k; the K/4
//             blocks of one 16-column panel are contiguous.
//
// vnni_k8n16  4-bit codes, two per byte, needs K % 8 == 0 and N % 16 == 0;
//             64-byte blocks of 8 k x 16 columns in order [N/16][K/8]; in a
//             block, byte 4 * j + b holds k = 8 kb + b of column 16 nb + j in
//             its low nibble and k = 8 kb + 4 + b in its high nibble:
//               byte ((n / 16) * (K / 8) + k / 8) * 64 + (n % 16) * 4 + k % 4
//               nibble (k % 8) / 4 (0 = low)
//             so one block yields two vpdpbusd operands (low nibbles: k 0-3,
//             high nibbles: k 4-7) with a mask and a shift.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_QUANT_PACKING_H
#define QCC_QUANT_PACKING_H

#include "qcc/Quant/Scheme.h"

#include <cstdint>
#include <vector>

namespace qcc {
namespace quant {

/// Memory layout of a quantized weight, as `#q.layout`.
enum class Layout { RowMajor, PackedK, VnniK4N16, VnniK8N16 };

/// Codes per storage byte for `bits`-bit codes in `layout`.
int64_t getCodesPerByte(Layout layout, unsigned bits);

/// Bytes a [k, n] matrix of `bits`-bit codes takes in `layout`, as
/// WeightType::getStorageBytes().
int64_t getStorageBytes(int64_t k, int64_t n, unsigned bits, Layout layout);

/// Checks, as WeightType::verify does, that a [k, n] matrix of `bits`-bit
/// codes fits `layout`: bits in [2, 8]; vnni_k4n16: 8 bits, k % 4 == 0,
/// n % 16 == 0; vnni_k8n16: 4 bits, k % 8 == 0, n % 16 == 0.
Status verifyLayout(int64_t k, int64_t n, unsigned bits, Layout layout);

/// Packs row-major [k, n] `codes` (each in the scheme's code range) into
/// `bytes`, resized to getStorageBytes(). Only `bits` and `isSigned` of the
/// scheme matter.
Status packCodes(const int32_t *codes, int64_t k, int64_t n,
                 const Scheme &scheme, Layout layout,
                 std::vector<uint8_t> &bytes);

/// Unpacks `numBytes` bytes (must equal getStorageBytes()) into row-major
/// [k, n] `codes`.
Status unpackCodes(const uint8_t *bytes, int64_t numBytes, int64_t k, int64_t n,
                   const Scheme &scheme, Layout layout, int32_t *codes);

} // namespace quant
} // namespace qcc

#endif // QCC_QUANT_PACKING_H
