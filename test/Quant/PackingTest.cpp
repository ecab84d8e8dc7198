//===- PackingTest.cpp - Weight layouts: sizes, bytes, round trips --------===//

#include "qcc/Quant/Packing.h"

#include "gtest/gtest.h"

#include <random>
#include <vector>

using namespace qcc::quant;

namespace {

/// WeightType::getStorageBytes() (dialects/Q/IR/QTypes.cpp), restated.
int64_t weightTypeStorageBytes(int64_t k, int64_t n, unsigned bits,
                               Layout layout) {
  int64_t elements = k * n;
  if (layout == Layout::VnniK8N16)
    return elements / 2;
  if (layout == Layout::PackedK) {
    int64_t perByte = 8 / bits;
    if (8 % bits != 0)
      perByte = 1;
    return (elements + perByte - 1) / perByte;
  }
  return elements;
}

Scheme scheme(unsigned bits, bool isSigned) {
  Scheme s = Scheme::perTensor(bits);
  s.isSigned = isSigned;
  return s;
}

std::vector<int32_t> randomCodes(int64_t count, const Scheme &s,
                                 uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(s.getMinCode(), s.getMaxCode());
  std::vector<int32_t> codes(static_cast<size_t>(count));
  for (int32_t &c : codes)
    c = int32_t(dist(rng));
  // Both extremes always present.
  codes[0] = int32_t(s.getMinCode());
  codes[count - 1] = int32_t(s.getMaxCode());
  return codes;
}

bool layoutAccepts(Layout layout, unsigned bits) {
  if (layout == Layout::VnniK4N16)
    return bits == 8;
  if (layout == Layout::VnniK8N16)
    return bits == 4;
  return true;
}

} // namespace

TEST(Packing, StorageBytesAgreeWithWeightType) {
  const Layout layouts[] = {Layout::RowMajor, Layout::PackedK,
                            Layout::VnniK4N16, Layout::VnniK8N16};
  for (Layout layout : layouts)
    for (unsigned bits = 2; bits <= 8; ++bits)
      for (int64_t k : {1, 3, 8, 16, 33, 64})
        for (int64_t n : {1, 5, 16, 32}) {
          if (!verifyLayout(k, n, bits, layout))
            continue;
          EXPECT_EQ(getStorageBytes(k, n, bits, layout),
                    weightTypeStorageBytes(k, n, bits, layout))
              << int(layout) << " " << bits << " " << k << "x" << n;
        }
  EXPECT_EQ(getCodesPerByte(Layout::PackedK, 2), 4);
  EXPECT_EQ(getCodesPerByte(Layout::PackedK, 3), 1);
  EXPECT_EQ(getCodesPerByte(Layout::PackedK, 4), 2);
  EXPECT_EQ(getCodesPerByte(Layout::PackedK, 8), 1);
  EXPECT_EQ(getCodesPerByte(Layout::VnniK8N16, 4), 2);
}

/// Every layout, every bit width it accepts, both signednesses, shapes with
/// and without a packed_k tail.
TEST(Packing, RoundTripEveryLayoutAndBitWidth) {
  const Layout layouts[] = {Layout::RowMajor, Layout::PackedK,
                            Layout::VnniK4N16, Layout::VnniK8N16};
  const std::pair<int64_t, int64_t> shapes[] = {{8, 16}, {64, 48}, {7, 5},
                                                {33, 3}, {1, 1},   {24, 32}};
  uint32_t seed = 0;
  int tested = 0;
  for (Layout layout : layouts)
    for (unsigned bits = 2; bits <= 8; ++bits)
      for (bool isSigned : {true, false})
        for (auto [k, n] : shapes) {
          if (!layoutAccepts(layout, bits) || !verifyLayout(k, n, bits, layout))
            continue;
          SCOPED_TRACE(::testing::Message()
                       << "layout " << int(layout) << " bits " << bits
                       << " signed " << isSigned << " " << k << "x" << n);
          Scheme s = scheme(bits, isSigned);
          std::vector<int32_t> codes = randomCodes(k * n, s, ++seed);
          std::vector<uint8_t> bytes;
          ASSERT_TRUE(packCodes(codes.data(), k, n, s, layout, bytes));
          ASSERT_EQ(int64_t(bytes.size()), getStorageBytes(k, n, bits, layout));
          std::vector<int32_t> back(codes.size(), 12345);
          ASSERT_TRUE(unpackCodes(bytes.data(), int64_t(bytes.size()), k, n, s,
                                  layout, back.data()));
          ASSERT_EQ(back, codes);
          ++tested;
        }
  EXPECT_GT(tested, 100);
}

TEST(Packing, RowMajorBytes) {
  std::vector<int32_t> codes = {-128, -1, 0, 127};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(
      packCodes(codes.data(), 2, 2, scheme(8, true), Layout::RowMajor, bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0x80, 0xff, 0x00, 0x7f}));
  // 4-bit codes one per byte are sign-extended int8.
  codes = {-8, -1, 3, 7};
  ASSERT_TRUE(
      packCodes(codes.data(), 2, 2, scheme(4, true), Layout::RowMajor, bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0xf8, 0xff, 0x03, 0x07}));
  codes = {255, 0, 17, 200};
  ASSERT_TRUE(
      packCodes(codes.data(), 2, 2, scheme(8, false), Layout::RowMajor, bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{255, 0, 17, 200}));
}

TEST(Packing, PackedKFourBitBytes) {
  // K = 4, N = 3: byte (k / 2) * 3 + n, even k in the low nibble.
  const int64_t k = 4, n = 3;
  std::vector<int32_t> codes = {1,  2,  3,  //
                                4,  5,  6,  //
                                -1, -2, -8, //
                                7,  0,  -3};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(
      packCodes(codes.data(), k, n, scheme(4, true), Layout::PackedK, bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0x41, 0x52, 0x63, 0x7f, 0x0e, 0xd8}));
}

TEST(Packing, PackedKTwoBitAndTail) {
  // K = 6, N = 2, 2-bit unsigned: rows 0-3 in bytes 0-1 (k % 4 at bit
  // 2 * (k % 4)); tail rows 4-5 row-major t = (k - 4) * 2 + n in byte 2.
  const int64_t k = 6, n = 2;
  std::vector<int32_t> codes = {0, 1, 1, 2, 2, 3, 3, 0, //
                                1, 2, 3, 3};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(
      packCodes(codes.data(), k, n, scheme(2, false), Layout::PackedK, bytes));
  ASSERT_EQ(bytes.size(), 3u);
  // Column 0: k0..3 = 0,1,2,3; column 1: 1,2,3,0.
  EXPECT_EQ(bytes[0], uint8_t(0 | 1 << 2 | 2 << 4 | 3 << 6));
  EXPECT_EQ(bytes[1], uint8_t(1 | 2 << 2 | 3 << 4 | 0 << 6));
  // Tail t = 0..3: (4,0)=1, (4,1)=2, (5,0)=3, (5,1)=3.
  EXPECT_EQ(bytes[2], uint8_t(1 | 2 << 2 | 3 << 4 | 3 << 6));

  // 4-bit with odd K: the last row's codes pair up across columns, and the
  // unused high nibble of the last byte is 0.
  std::vector<int32_t> odd = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_TRUE(
      packCodes(odd.data(), 3, 3, scheme(4, false), Layout::PackedK, bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0x41, 0x52, 0x63, 0x87, 0x09}));
}

TEST(Packing, VnniK4N16Bytes) {
  const int64_t k = 8, n = 32;
  std::vector<int32_t> codes(static_cast<size_t>(k * n));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      codes[r * n + c] = int32_t((r * n + c) % 256) - 128;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(
      packCodes(codes.data(), k, n, scheme(8, true), Layout::VnniK4N16, bytes));
  ASSERT_EQ(bytes.size(), size_t(k * n));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      // [N/16][K/4][16][4]
      int64_t idx = (((c / 16) * (k / 4) + r / 4) * 16 + c % 16) * 4 + r % 4;
      EXPECT_EQ(int8_t(bytes[idx]), codes[r * n + c]) << r << "," << c;
    }
  // The first dword is column 0, k = 0..3.
  EXPECT_EQ(int8_t(bytes[1]), codes[1 * n + 0]);
  EXPECT_EQ(int8_t(bytes[4]), codes[0 * n + 1]);
  // The second 64-byte block is k = 4..7 of the first panel.
  EXPECT_EQ(int8_t(bytes[64]), codes[4 * n + 0]);
}

TEST(Packing, VnniK8N16Bytes) {
  const int64_t k = 16, n = 32;
  Scheme s = scheme(4, true);
  std::vector<int32_t> codes = randomCodes(k * n, s, 99);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(packCodes(codes.data(), k, n, s, Layout::VnniK8N16, bytes));
  ASSERT_EQ(bytes.size(), size_t(k * n / 2));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int64_t block = (c / 16) * (k / 8) + r / 8;
      uint8_t byte = bytes[block * 64 + (c % 16) * 4 + r % 4];
      int nibble = (r % 8) < 4 ? (byte & 0xf) : (byte >> 4);
      int value = nibble >= 8 ? nibble - 16 : nibble;
      EXPECT_EQ(value, codes[r * n + c]) << r << "," << c;
    }
}

TEST(Packing, RejectsBadInput) {
  std::vector<int32_t> codes(16 * 4, 0);
  std::vector<uint8_t> bytes;
  codes[5] = 8;
  Status st =
      packCodes(codes.data(), 16, 4, scheme(4, true), Layout::PackedK, bytes);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "code 8 at (1, 1) is outside [-8, 7]");
  codes[5] = 0;
  st =
      packCodes(codes.data(), 16, 4, scheme(8, true), Layout::VnniK4N16, bytes);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "vnni_k4n16 needs K % 4 == 0 and N % 16 == 0");
  st =
      packCodes(codes.data(), 4, 16, scheme(4, true), Layout::VnniK4N16, bytes);
  EXPECT_EQ(st.message, "vnni_k4n16 holds 8-bit codes");
  st =
      packCodes(codes.data(), 4, 16, scheme(4, true), Layout::VnniK8N16, bytes);
  EXPECT_EQ(st.message, "vnni_k8n16 needs K % 8 == 0 and N % 16 == 0");
  ASSERT_TRUE(
      packCodes(codes.data(), 16, 4, scheme(4, true), Layout::PackedK, bytes));
  st = unpackCodes(bytes.data(), int64_t(bytes.size()) - 1, 16, 4,
                   scheme(4, true), Layout::PackedK, codes.data());
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message, "packed weight has 31 bytes, the layout needs 32");
}
