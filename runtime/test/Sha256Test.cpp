//===- Sha256Test.cpp - SHA-256 against FIPS 180-4 / NIST vectors ---------===//

#include "Sha256.h"

#include <gtest/gtest.h>

#include <string>

using qcc::runtime::Sha256;

namespace {

TEST(Sha256, EmptyMessage) {
  EXPECT_EQ(Sha256::hashHex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, NistAbc) {
  EXPECT_EQ(Sha256::hashHex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Nist448Bits) {
  EXPECT_EQ(Sha256::hashHex(
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Nist896Bits) {
  EXPECT_EQ(Sha256::hashHex(
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, NistMillionA) {
  Sha256 hasher;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i)
    hasher.update(chunk);
  EXPECT_EQ(Sha256::toHex(hasher.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // Lengths around the 55/56/64-byte padding edges, checked against
  // one-shot vs. byte-by-byte hashing and known digests of 'a' * n.
  EXPECT_EQ(Sha256::hashHex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Sha256::hashHex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Sha256::hashHex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  for (size_t length : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000}) {
    std::string message;
    for (size_t i = 0; i < length; ++i)
      message += static_cast<char>(i * 31 + 7);
    Sha256 incremental;
    for (char c : message)
      incremental.update(&c, 1);
    EXPECT_EQ(Sha256::toHex(incremental.finish()), Sha256::hashHex(message))
        << "length " << length;
  }
}

TEST(Sha256, ReusableAfterFinish) {
  Sha256 hasher;
  hasher.update("garbage");
  hasher.finish();
  hasher.update("abc");
  EXPECT_EQ(Sha256::toHex(hasher.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

} // namespace
