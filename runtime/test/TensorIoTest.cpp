//===- TensorIoTest.cpp - .npy, .npz and ONNX TensorProto files -----------===//

#include "qcc/qcc_tensor_io.h"

#include "ArtifactWriter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace qcc::test;

namespace {

struct Outcome {
  qcc_status_code_t code;
  std::string message;
};

Outcome take(qcc_status status) {
  Outcome outcome{qcc_status_code(status), qcc_status_message(status)};
  qcc_status_free(status);
  return outcome;
}

const qcc_dtype allDtypes[] = {
    QCC_DTYPE_FLOAT32, QCC_DTYPE_FLOAT64, QCC_DTYPE_FLOAT16, QCC_DTYPE_INT8,
    QCC_DTYPE_UINT8,   QCC_DTYPE_INT16,   QCC_DTYPE_UINT16,  QCC_DTYPE_INT32,
    QCC_DTYPE_UINT32,  QCC_DTYPE_INT64,   QCC_DTYPE_UINT64,  QCC_DTYPE_BOOL};

std::string tempPath(const std::string &name) {
  const char *base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/qcc-rt-io-" +
         std::to_string(::getpid()) + "-" + name;
}

/// A .npy file with `header` (padded as numpy does) and `data`.
std::string npyBytes(const std::string &header, const std::string &data,
                     int major = 1) {
  size_t prefix = major == 1 ? 10 : 12;
  std::string padded = header;
  padded.append((64 - (prefix + padded.size() + 1) % 64) % 64, ' ');
  padded += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(major);
  bytes += '\0';
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    bytes += static_cast<char>((padded.size() >> (8 * i)) & 0xFF);
  return bytes + padded + data;
}

Outcome parseNpy(const std::string &bytes, qcc_tensor *tensor) {
  return take(qcc_tensor_parse_npy(bytes.data(), bytes.size(), tensor));
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

TEST(Npy, RoundTripEveryDtype) {
  std::string path = tempPath("round.npy");
  const std::vector<std::vector<int64_t>> shapes = {
      {2, 3}, {5}, {}, {1, 0, 4}, {2, 1, 2, 1, 2, 1, 2, 1}};
  for (qcc_dtype dtype : allDtypes) {
    for (const std::vector<int64_t> &shape : shapes) {
      qcc_tensor tensor;
      ASSERT_EQ(
          take(qcc_tensor_allocate(dtype, static_cast<uint32_t>(shape.size()),
                                   shape.data(), &tensor))
              .code,
          QCC_STATUS_OK);
      unsigned char *bytes = static_cast<unsigned char *>(tensor.data);
      for (size_t i = 0; i < tensor.byte_size; ++i)
        bytes[i] = dtype == QCC_DTYPE_BOOL ? (i % 3 == 0)
                                           : static_cast<unsigned char>(i * 37);
      ASSERT_EQ(take(qcc_tensor_write_npy(path.c_str(), &tensor)).code,
                QCC_STATUS_OK);
      std::string file;
      ASSERT_TRUE(readFile(path, file));
      EXPECT_EQ((file.size() - tensor.byte_size) % 64, 0u)
          << "data must start 64-byte aligned";
      qcc_tensor back;
      Outcome outcome = take(qcc_tensor_read_npy(path.c_str(), &back));
      ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
      EXPECT_EQ(back.dtype, dtype);
      ASSERT_EQ(back.rank, tensor.rank);
      for (uint32_t d = 0; d < back.rank; ++d)
        EXPECT_EQ(back.dims[d], tensor.dims[d]);
      ASSERT_EQ(back.byte_size, tensor.byte_size);
      EXPECT_EQ(std::memcmp(back.data, tensor.data, tensor.byte_size), 0);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(back.data) % 64, 0u);
      qcc_tensor_free_data(&back);
      qcc_tensor_free_data(&tensor);
      EXPECT_EQ(tensor.data, nullptr);
    }
  }
  ::unlink(path.c_str());
}

TEST(Npy, WritesNumpysHeader) {
  std::string path = tempPath("header.npy");
  float values[6] = {1, 2, 3, 4, 5, 6};
  qcc_tensor tensor = {QCC_DTYPE_FLOAT32, 2, {2, 3}, values, sizeof(values)};
  ASSERT_EQ(take(qcc_tensor_write_npy(path.c_str(), &tensor)).code,
            QCC_STATUS_OK);
  std::string file;
  ASSERT_TRUE(readFile(path, file));
  EXPECT_EQ(file.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(file.substr(10, 59),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  // numpy pads the header so that the data starts at a multiple of 64.
  EXPECT_EQ(file[127], '\n');
  EXPECT_EQ(file.size(), 128u + sizeof(values));
  uint8_t flags[3] = {1, 0, 1};
  qcc_tensor vector = {QCC_DTYPE_BOOL, 1, {3}, flags, 3};
  ASSERT_EQ(take(qcc_tensor_write_npy(path.c_str(), &vector)).code,
            QCC_STATUS_OK);
  ASSERT_TRUE(readFile(path, file));
  EXPECT_NE(
      file.find("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }"),
      std::string::npos);
  ::unlink(path.c_str());
}

TEST(Npy, ReadsVersions2And3AndVariants) {
  int32_t values[3] = {7, -8, 9};
  std::string data(reinterpret_cast<const char *>(values), sizeof(values));
  for (int major : {1, 2, 3}) {
    for (const char *header :
         {"{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
          "{\"shape\": (3,), \"descr\": \"=i4\", \"fortran_order\": False}",
          "{'descr': '<i4', 'fortran_order': True, 'shape': (3L,)}"}) {
      qcc_tensor tensor;
      Outcome outcome = parseNpy(npyBytes(header, data, major), &tensor);
      ASSERT_EQ(outcome.code, QCC_STATUS_OK) << header << outcome.message;
      EXPECT_EQ(tensor.dtype, QCC_DTYPE_INT32);
      EXPECT_EQ(tensor.rank, 1u);
      EXPECT_EQ(tensor.dims[0], 3);
      EXPECT_EQ(std::memcmp(tensor.data, values, sizeof(values)), 0);
      qcc_tensor_free_data(&tensor);
    }
  }
  // Single-byte types may carry any byte order; numpy's '?' is bool.
  for (const char *descr : {"|i1", ">i1", "<i1", "i1"}) {
    qcc_tensor tensor;
    std::string header = std::string("{'descr': '") + descr +
                         "', 'fortran_order': False, 'shape': (2,), }";
    ASSERT_EQ(parseNpy(npyBytes(header, "ab"), &tensor).code, QCC_STATUS_OK)
        << descr;
    EXPECT_EQ(tensor.dtype, QCC_DTYPE_INT8);
    qcc_tensor_free_data(&tensor);
  }
  qcc_tensor tensor;
  ASSERT_EQ(
      parseNpy(npyBytes("{'descr': '|?', 'fortran_order': False, 'shape': ()}",
                        std::string(1, '\1')),
               &tensor)
          .code,
      QCC_STATUS_OK);
  EXPECT_EQ(tensor.dtype, QCC_DTYPE_BOOL);
  EXPECT_EQ(tensor.rank, 0u);
  qcc_tensor_free_data(&tensor);
}

TEST(Npy, RefusesWhatItCannotRead) {
  std::string data(24, '\0');
  struct Case {
    std::string bytes;
    qcc_status_code_t code;
    const char *expected;
  };
  const Case cases[] = {
      {npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                data),
       QCC_STATUS_UNIMPLEMENTED, "Fortran-order .npy arrays are not supported"},
      {npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                data),
       QCC_STATUS_UNIMPLEMENTED, "big-endian .npy data ('>f4')"},
      {npyBytes("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }",
                data),
       QCC_STATUS_UNIMPLEMENTED, "unsupported .npy dtype '<U3'"},
      {npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, "
                "'shape': (2,), }",
                data),
       QCC_STATUS_INVALID_ARGUMENT, "structured dtypes are not supported"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }",
                data),
       QCC_STATUS_DATA_LOSS,
       ".npy data has 24 bytes, shape 2x4 float32 needs 32"},
      {npyBytes("{'descr': '<f4', 'shape': (2, 3), }", data),
       QCC_STATUS_INVALID_ARGUMENT, "header lacks"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }",
                data),
       QCC_STATUS_INVALID_ARGUMENT, "'shape' must be a tuple"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                data, 4),
       QCC_STATUS_UNIMPLEMENTED, "unsupported .npy format version 4.0"},
      {std::string("\x93NUMPX\x01\x00\x00\x00", 10),
       QCC_STATUS_INVALID_ARGUMENT, "not a .npy file"},
      {std::string("\x93NUMPY\x01\x00\xff\x00{", 11), QCC_STATUS_DATA_LOSS,
       "truncated .npy header"},
      {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, "
                "1, 1, 1, 1, 1, 1), }",
                std::string(4, '\0')),
       QCC_STATUS_UNIMPLEMENTED, "rank 9 exceeds the maximum of 8"},
  };
  for (const Case &c : cases) {
    qcc_tensor tensor;
    std::memset(&tensor, 0, sizeof(tensor));
    Outcome outcome = parseNpy(c.bytes, &tensor);
    EXPECT_EQ(outcome.code, c.code) << c.expected << ": " << outcome.message;
    EXPECT_NE(outcome.message.find(c.expected), std::string::npos)
        << outcome.message;
    EXPECT_EQ(tensor.data, nullptr);
  }
  qcc_tensor tensor;
  Outcome missing = take(qcc_tensor_read_npy("/nonexistent/x.npy", &tensor));
  EXPECT_EQ(missing.code, QCC_STATUS_NOT_FOUND);
  EXPECT_EQ(missing.message,
            "cannot open '/nonexistent/x.npy': No such file or directory");
}

//===----------------------------------------------------------------------===//
// .npz
//===----------------------------------------------------------------------===//

void appendLe(std::string &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

/// A zip archive with stored (or, with `method` 8, claimed-deflated) entries.
std::string
zipBytes(const std::vector<std::pair<std::string, std::string>> &files,
         uint16_t method = 0) {
  std::string archive, directory;
  for (const auto &file : files) {
    uint64_t offset = archive.size();
    appendLe(archive, 0x04034b50, 4);
    appendLe(archive, 20, 2);     // version needed
    appendLe(archive, 0, 2);      // flags
    appendLe(archive, method, 2); // method
    appendLe(archive, 0, 4);      // time, date
    appendLe(archive, 0, 4);      // crc (not checked by the reader)
    appendLe(archive, file.second.size(), 4);
    appendLe(archive, file.second.size(), 4);
    appendLe(archive, file.first.size(), 2);
    appendLe(archive, 0, 2);
    archive += file.first + file.second;

    appendLe(directory, 0x02014b50, 4);
    appendLe(directory, 20, 2);
    appendLe(directory, 20, 2);
    appendLe(directory, 0, 2);
    appendLe(directory, method, 2);
    appendLe(directory, 0, 4);
    appendLe(directory, 0, 4);
    appendLe(directory, file.second.size(), 4);
    appendLe(directory, file.second.size(), 4);
    appendLe(directory, file.first.size(), 2);
    appendLe(directory, 0, 2); // extra
    appendLe(directory, 0, 2); // comment
    appendLe(directory, 0, 2); // disk
    appendLe(directory, 0, 2); // internal attributes
    appendLe(directory, 0, 4); // external attributes
    appendLe(directory, offset, 4);
    directory += file.first;
  }
  uint64_t directoryOffset = archive.size();
  archive += directory;
  appendLe(archive, 0x06054b50, 4);
  appendLe(archive, 0, 4);
  appendLe(archive, files.size(), 2);
  appendLe(archive, files.size(), 2);
  appendLe(archive, directory.size(), 4);
  appendLe(archive, directoryOffset, 4);
  appendLe(archive, 0, 2);
  return archive;
}

TEST(Npz, ReadsStoredEntries) {
  float x[2] = {1.5f, -2.5f};
  int64_t ids[3] = {1, 2, 3};
  std::string path = tempPath("inputs.npz");
  ASSERT_TRUE(writeFile(
      path,
      zipBytes(
          {{"x.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (2,), }",
                              std::string(reinterpret_cast<char *>(x), 8))},
           {"input_ids.npy",
            npyBytes("{'descr': '<i8', 'fortran_order': False, "
                     "'shape': (1, 3), }",
                     std::string(reinterpret_cast<char *>(ids), 24))}})));
  qcc_npz *npz = nullptr;
  Outcome outcome = take(qcc_npz_open(path.c_str(), &npz));
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  ASSERT_EQ(qcc_npz_num_entries(npz), 2u);
  EXPECT_STREQ(qcc_npz_entry_name(npz, 0), "x");
  EXPECT_STREQ(qcc_npz_entry_name(npz, 1), "input_ids");
  EXPECT_EQ(qcc_npz_entry_name(npz, 2), nullptr);
  qcc_tensor tensor;
  ASSERT_EQ(take(qcc_npz_read(npz, "input_ids.npy", &tensor)).code,
            QCC_STATUS_OK);
  EXPECT_EQ(tensor.dtype, QCC_DTYPE_INT64);
  EXPECT_EQ(tensor.rank, 2u);
  EXPECT_EQ(std::memcmp(tensor.data, ids, 24), 0);
  qcc_tensor_free_data(&tensor);
  ASSERT_EQ(take(qcc_npz_read(npz, "x", &tensor)).code, QCC_STATUS_OK);
  EXPECT_EQ(static_cast<float *>(tensor.data)[1], -2.5f);
  qcc_tensor_free_data(&tensor);
  outcome = take(qcc_npz_read(npz, "y", &tensor));
  EXPECT_EQ(outcome.code, QCC_STATUS_NOT_FOUND);
  EXPECT_EQ(outcome.message, path + ": no entry named 'y'");
  qcc_npz_close(npz);

  ASSERT_TRUE(writeFile(path, zipBytes({{"x.npy", "whatever"}}, 8)));
  ASSERT_EQ(take(qcc_npz_open(path.c_str(), &npz)).code, QCC_STATUS_OK);
  outcome = take(qcc_npz_read(npz, "x", &tensor));
  EXPECT_EQ(outcome.code, QCC_STATUS_UNIMPLEMENTED);
  EXPECT_NE(outcome.message.find("numpy.savez_compressed"), std::string::npos);
  qcc_npz_close(npz);

  ASSERT_TRUE(writeFile(path, "PK but not really a zip archive at all"));
  outcome = take(qcc_npz_open(path.c_str(), &npz));
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(npz, nullptr);
  ::unlink(path.c_str());
}

//===----------------------------------------------------------------------===//
// ONNX TensorProto
//===----------------------------------------------------------------------===//

/// Hand-assembles protobuf wire format.
struct Proto {
  std::string bytes;

  static std::string varint(uint64_t value) {
    std::string out;
    do {
      unsigned char byte = value & 0x7F;
      value >>= 7;
      out += static_cast<char>(value ? byte | 0x80 : byte);
    } while (value);
    return out;
  }
  Proto &field(int number, uint64_t value) {
    bytes += varint(uint64_t(number) << 3) + varint(value);
    return *this;
  }
  Proto &fixed32(int number, const void *value) {
    bytes += varint((uint64_t(number) << 3) | 5);
    bytes.append(static_cast<const char *>(value), 4);
    return *this;
  }
  Proto &blob(int number, const std::string &payload) {
    bytes +=
        varint((uint64_t(number) << 3) | 2) + varint(payload.size()) + payload;
    return *this;
  }
  Proto &packedVarints(int number, const std::vector<int64_t> &values) {
    std::string payload;
    for (int64_t value : values)
      payload += varint(static_cast<uint64_t>(value));
    return blob(number, payload);
  }
};

Outcome parsePb(const Proto &proto, qcc_tensor *tensor, char **name) {
  return take(qcc_tensor_parse_onnx_pb(proto.bytes.data(), proto.bytes.size(),
                                       tensor, name));
}

TEST(OnnxPb, FloatWithPackedDataAndName) {
  float values[6] = {0.5f, 1, 2, 3, 4, -5};
  Proto proto;
  proto.field(1, 2).field(1, 3).field(2, 1); // dims one per tag, FLOAT
  proto.blob(8, "pixel_values");
  proto.blob(12, "a doc string to skip");
  proto.blob(4, std::string(reinterpret_cast<char *>(values), sizeof(values)));
  qcc_tensor tensor;
  char *name = nullptr;
  Outcome outcome = parsePb(proto, &tensor, &name);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  EXPECT_STREQ(name, "pixel_values");
  std::free(name);
  EXPECT_EQ(tensor.dtype, QCC_DTYPE_FLOAT32);
  ASSERT_EQ(tensor.rank, 2u);
  EXPECT_EQ(tensor.dims[0], 2);
  EXPECT_EQ(tensor.dims[1], 3);
  EXPECT_EQ(std::memcmp(tensor.data, values, sizeof(values)), 0);
  qcc_tensor_free_data(&tensor);
}

TEST(OnnxPb, UnpackedFloatsAndPackedDims) {
  float values[2] = {3.25f, -1.0f};
  Proto proto;
  proto.packedVarints(1, {2}).field(2, 1);
  proto.fixed32(4, &values[0]).fixed32(4, &values[1]);
  qcc_tensor tensor;
  ASSERT_EQ(parsePb(proto, &tensor, nullptr).code, QCC_STATUS_OK);
  EXPECT_EQ(static_cast<float *>(tensor.data)[0], 3.25f);
  EXPECT_EQ(static_cast<float *>(tensor.data)[1], -1.0f);
  qcc_tensor_free_data(&tensor);
}

TEST(OnnxPb, IntegerFieldsForEveryType) {
  struct Case {
    int onnxType;
    qcc_dtype dtype;
    int field;
    std::vector<int64_t> values;
  };
  const Case cases[] = {
      {3, QCC_DTYPE_INT8, 5, {-128, 127, -1}},
      {2, QCC_DTYPE_UINT8, 5, {0, 255, 7}},
      {5, QCC_DTYPE_INT16, 5, {-32768, 32767, -2}},
      {4, QCC_DTYPE_UINT16, 5, {65535, 0, 9}},
      {6, QCC_DTYPE_INT32, 5, {-2147483647 - 1, 2147483647, -3}},
      {7, QCC_DTYPE_INT64, 7, {INT64_MIN, INT64_MAX, -4}},
      {9, QCC_DTYPE_BOOL, 5, {1, 0, 1}},
      {10, QCC_DTYPE_FLOAT16, 5, {0x3C00, 0xC000, 0x7BFF}}, // 1, -2, 65504
      {12, QCC_DTYPE_UINT32, 11, {4294967295LL, 0, 5}},
      {13, QCC_DTYPE_UINT64, 11, {-1 /* 2^64-1 */, 0, 6}},
  };
  for (const Case &c : cases) {
    Proto proto;
    proto.field(1, c.values.size()).field(2, c.onnxType);
    proto.packedVarints(c.field, c.values);
    qcc_tensor tensor;
    Outcome outcome = parsePb(proto, &tensor, nullptr);
    ASSERT_EQ(outcome.code, QCC_STATUS_OK)
        << qcc_dtype_name(c.dtype) << ": " << outcome.message;
    EXPECT_EQ(tensor.dtype, c.dtype);
    ASSERT_EQ(tensor.byte_size, c.values.size() * qcc_dtype_size(c.dtype));
    for (size_t i = 0; i < c.values.size(); ++i) {
      uint64_t stored = 0;
      std::memcpy(&stored,
                  static_cast<char *>(tensor.data) +
                      i * qcc_dtype_size(c.dtype),
                  qcc_dtype_size(c.dtype));
      uint64_t mask = qcc_dtype_size(c.dtype) == 8
                          ? ~0ull
                          : (1ull << (8 * qcc_dtype_size(c.dtype))) - 1;
      EXPECT_EQ(stored, static_cast<uint64_t>(c.values[i]) & mask)
          << qcc_dtype_name(c.dtype) << " element " << i;
    }
    qcc_tensor_free_data(&tensor);
  }
}

TEST(OnnxPb, DoubleDataAndRawData) {
  double values[2] = {1e300, -0.125};
  std::string packed(reinterpret_cast<char *>(values), sizeof(values));
  Proto doubles;
  doubles.field(1, 2).field(2, 11).blob(10, packed);
  qcc_tensor tensor;
  ASSERT_EQ(parsePb(doubles, &tensor, nullptr).code, QCC_STATUS_OK);
  EXPECT_EQ(tensor.dtype, QCC_DTYPE_FLOAT64);
  EXPECT_EQ(std::memcmp(tensor.data, values, sizeof(values)), 0);
  qcc_tensor_free_data(&tensor);

  int16_t raw[3] = {-1, 2, 300};
  Proto rawProto;
  rawProto.field(2, 5).field(1, 1).field(1, 3);
  rawProto.blob(9, std::string(reinterpret_cast<char *>(raw), sizeof(raw)));
  ASSERT_EQ(parsePb(rawProto, &tensor, nullptr).code, QCC_STATUS_OK);
  EXPECT_EQ(tensor.dtype, QCC_DTYPE_INT16);
  EXPECT_EQ(tensor.rank, 2u);
  EXPECT_EQ(std::memcmp(tensor.data, raw, sizeof(raw)), 0);
  qcc_tensor_free_data(&tensor);

  // A scalar: no dims, one element.
  Proto scalar;
  scalar.field(2, 7).packedVarints(7, {42});
  ASSERT_EQ(parsePb(scalar, &tensor, nullptr).code, QCC_STATUS_OK);
  EXPECT_EQ(tensor.rank, 0u);
  EXPECT_EQ(*static_cast<int64_t *>(tensor.data), 42);
  qcc_tensor_free_data(&tensor);
}

TEST(OnnxPb, Refusals) {
  struct Case {
    Proto proto;
    qcc_status_code_t code;
    const char *expected;
  };
  std::vector<Case> cases;
  Proto mismatch;
  mismatch.field(1, 4).field(2, 7).packedVarints(7, {1, 2, 3});
  cases.push_back({mismatch, QCC_STATUS_DATA_LOSS,
                   "dims 4 int64 need 4 elements, the data holds 3"});
  Proto strings;
  strings.field(1, 1).field(2, 8).blob(6, "hello");
  cases.push_back(
      {strings, QCC_STATUS_UNIMPLEMENTED, "string tensors are not supported"});
  Proto external;
  external.field(1, 1).field(2, 1).blob(8, "w").field(14, 1);
  cases.push_back(
      {external, QCC_STATUS_UNIMPLEMENTED,
       "(tensor 'w'): tensors with external data are not supported"});
  Proto bfloat;
  bfloat.field(1, 1).field(2, 16).packedVarints(5, {0});
  cases.push_back(
      {bfloat, QCC_STATUS_UNIMPLEMENTED, "ONNX data type 16 is not supported"});
  Proto truncated;
  truncated.field(1, 2).field(2, 1);
  truncated.bytes += Proto::varint((4 << 3) | 2) + Proto::varint(100) + "abc";
  cases.push_back({truncated, QCC_STATUS_DATA_LOSS,
                   "truncated or invalid TensorProto (field 4)"});
  Proto rawSize;
  rawSize.field(1, 2).field(2, 1).blob(9, "12345");
  cases.push_back({rawSize, QCC_STATUS_DATA_LOSS, "need 2 elements"});
  Proto group;
  group.bytes = Proto::varint((3 << 3) | 3);
  cases.push_back({group, QCC_STATUS_DATA_LOSS, "truncated or invalid"});
  for (const Case &c : cases) {
    qcc_tensor tensor;
    std::memset(&tensor, 0, sizeof(tensor));
    Outcome outcome = parsePb(c.proto, &tensor, nullptr);
    EXPECT_EQ(outcome.code, c.code) << c.expected << ": " << outcome.message;
    EXPECT_NE(outcome.message.find(c.expected), std::string::npos)
        << outcome.message;
    EXPECT_EQ(tensor.data, nullptr);
  }
}

TEST(OnnxPb, WriteReadRoundTripAndReadFile) {
  std::string path = tempPath("tensor.pb");
  for (qcc_dtype dtype : allDtypes) {
    int64_t dims[3] = {2, 1, 3};
    qcc_tensor tensor;
    ASSERT_EQ(take(qcc_tensor_allocate(dtype, 3, dims, &tensor)).code,
              QCC_STATUS_OK);
    for (size_t i = 0; i < tensor.byte_size; ++i)
      static_cast<unsigned char *>(tensor.data)[i] =
          dtype == QCC_DTYPE_BOOL ? i & 1 : static_cast<unsigned char>(i + 1);
    ASSERT_EQ(take(qcc_tensor_write_onnx_pb(path.c_str(), &tensor, "t")).code,
              QCC_STATUS_OK);
    qcc_tensor back;
    char *name = nullptr;
    ASSERT_EQ(take(qcc_tensor_read_onnx_pb(path.c_str(), &back, &name)).code,
              QCC_STATUS_OK);
    EXPECT_STREQ(name, "t");
    std::free(name);
    EXPECT_EQ(back.dtype, dtype);
    EXPECT_EQ(back.rank, 3u);
    EXPECT_EQ(back.dims[2], 3);
    ASSERT_EQ(back.byte_size, tensor.byte_size);
    EXPECT_EQ(std::memcmp(back.data, tensor.data, tensor.byte_size), 0);
    qcc_tensor_free_data(&back);

    ASSERT_EQ(take(qcc_tensor_read_file(path.c_str(), &back)).code,
              QCC_STATUS_OK);
    EXPECT_EQ(back.dtype, dtype);
    qcc_tensor_free_data(&back);
    qcc_tensor_free_data(&tensor);
  }
  ::unlink(path.c_str());
  qcc_tensor tensor;
  Outcome outcome = take(qcc_tensor_read_file("model.txt", &tensor));
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("unknown tensor file type"),
            std::string::npos);
}

TEST(TensorIo, TruncatedAndCorruptedFilesFailCleanly) {
  float values[6] = {1, 2, 3, 4, 5, 6};
  Proto proto;
  proto.field(1, 2).field(1, 3).field(2, 1).blob(8, "x");
  proto.blob(4, std::string(reinterpret_cast<char *>(values), sizeof(values)));
  std::string npy =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
               std::string(reinterpret_cast<char *>(values), sizeof(values)));
  for (int flip = -1; flip < 256; ++flip) {
    for (size_t length = 0; length < proto.bytes.size(); ++length) {
      std::string bytes = proto.bytes.substr(0, length);
      if (flip >= 0 && length > 0)
        bytes[flip % length] ^= static_cast<char>(flip);
      qcc_tensor tensor;
      qcc_status status = qcc_tensor_parse_onnx_pb(bytes.data(), bytes.size(),
                                                   &tensor, nullptr);
      if (status)
        qcc_status_free(status);
      else
        qcc_tensor_free_data(&tensor);
    }
    for (size_t length = 0; length < npy.size(); ++length) {
      std::string bytes = npy.substr(0, length);
      if (flip >= 0 && length > 0)
        bytes[flip % length] ^= static_cast<char>(flip);
      qcc_tensor tensor;
      qcc_status status =
          qcc_tensor_parse_npy(bytes.data(), bytes.size(), &tensor);
      EXPECT_NE(status, nullptr) << "a truncated .npy must be refused";
      qcc_status_free(status);
    }
  }
}

TEST(TensorAllocate, ValidatesArguments) {
  qcc_tensor tensor;
  int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(take(qcc_tensor_allocate(QCC_DTYPE_FLOAT32, 9, dims, &tensor)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  int64_t negative[1] = {-1};
  EXPECT_EQ(
      take(qcc_tensor_allocate(QCC_DTYPE_FLOAT32, 1, negative, &tensor)).code,
      QCC_STATUS_INVALID_ARGUMENT);
  int64_t huge[2] = {INT64_MAX, INT64_MAX};
  EXPECT_EQ(take(qcc_tensor_allocate(QCC_DTYPE_FLOAT32, 2, huge, &tensor)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(take(qcc_tensor_allocate(QCC_DTYPE_INVALID, 1, dims, &tensor)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  qcc_tensor_free_data(nullptr);
}

} // namespace
