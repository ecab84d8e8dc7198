//===- OnnxTensorIo.cpp - ONNX TensorProto files and file helpers ---------===//
//
// Reads onnx.TensorProto messages from the protobuf wire format by hand
// (the runtime links no protobuf). Fields, from onnx/onnx.proto:
//   1 dims (repeated int64)        2 data_type (int32)     3 segment
//   4 float_data (packed float)    5 int32_data (packed)   6 string_data
//   7 int64_data (packed)          8 name (string)         9 raw_data
//  10 double_data (packed)        11 uint64_data (packed) 12 doc_string
//  13 external_data               14 data_location        16 metadata_props
// Typed repeated fields may arrive packed or one element per tag. int32_data
// carries int8/uint8/int16/uint16/bool and float16 (as its bit pattern);
// uint64_data carries uint32 and uint64.
//
//===----------------------------------------------------------------------===//

#include "TensorIo.h"

#include "Status.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace qcc {
namespace runtime {

qcc_status readFileBytes(const std::string &path, std::string &bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return makeStatus(err == ENOENT || err == ENOTDIR
                          ? QCC_STATUS_NOT_FOUND
                          : QCC_STATUS_INVALID_ARGUMENT,
                      "cannot open '" + path + "': " + errnoMessage(err));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "'" + path + "' is not a regular file");
  }
  bytes.resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = ::read(fd, &bytes[done], bytes.size() - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      int err = got < 0 ? errno : 0;
      ::close(fd);
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        "cannot read '" + path +
                            "': " + (err ? errnoMessage(err) : "file shrank"));
    }
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  return nullptr;
}

qcc_status writeFileBytes(const std::string &path, const std::string &bytes) {
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return makeStatus(errno == ENOENT ? QCC_STATUS_NOT_FOUND
                                      : QCC_STATUS_INVALID_ARGUMENT,
                      "cannot create '" + path + "': " + errnoMessage(errno));
  size_t written = std::fwrite(bytes.data(), 1, bytes.size(), file);
  int writeError = written == bytes.size() ? 0 : errno;
  if (std::fclose(file) != 0 && !writeError)
    writeError = errno ? errno : EIO;
  if (writeError)
    return makeStatus(QCC_STATUS_RESOURCE_EXHAUSTED,
                      "cannot write '" + path +
                          "': " + errnoMessage(writeError));
  return nullptr;
}

} // namespace runtime
} // namespace qcc

using namespace qcc::runtime;

namespace {

/// ONNX TensorProto.DataType values.
enum OnnxType : int64_t {
  OnnxFloat = 1,
  OnnxUint8 = 2,
  OnnxInt8 = 3,
  OnnxUint16 = 4,
  OnnxInt16 = 5,
  OnnxInt32 = 6,
  OnnxInt64 = 7,
  OnnxString = 8,
  OnnxBool = 9,
  OnnxFloat16 = 10,
  OnnxDouble = 11,
  OnnxUint32 = 12,
  OnnxUint64 = 13,
};

qcc_dtype dtypeFromOnnx(int64_t type) {
  switch (type) {
  case OnnxFloat:
    return QCC_DTYPE_FLOAT32;
  case OnnxUint8:
    return QCC_DTYPE_UINT8;
  case OnnxInt8:
    return QCC_DTYPE_INT8;
  case OnnxUint16:
    return QCC_DTYPE_UINT16;
  case OnnxInt16:
    return QCC_DTYPE_INT16;
  case OnnxInt32:
    return QCC_DTYPE_INT32;
  case OnnxInt64:
    return QCC_DTYPE_INT64;
  case OnnxBool:
    return QCC_DTYPE_BOOL;
  case OnnxFloat16:
    return QCC_DTYPE_FLOAT16;
  case OnnxDouble:
    return QCC_DTYPE_FLOAT64;
  case OnnxUint32:
    return QCC_DTYPE_UINT32;
  case OnnxUint64:
    return QCC_DTYPE_UINT64;
  default:
    return QCC_DTYPE_INVALID;
  }
}

int64_t onnxFromDtype(qcc_dtype dtype) {
  for (int64_t type = OnnxFloat; type <= OnnxUint64; ++type)
    if (type != OnnxString && dtypeFromOnnx(type) == dtype)
      return type;
  return 0;
}

/// A cursor over protobuf wire-format bytes.
class WireReader {
public:
  WireReader(const unsigned char *data, size_t size) : data(data), size(size) {}

  bool atEnd() const { return position >= size; }

  bool readVarint(uint64_t &value) {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (position >= size)
        return false;
      unsigned char byte = data[position++];
      value |= uint64_t(byte & 0x7F) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }

  bool readFixed(size_t width, uint64_t &value) {
    if (size - position < width)
      return false;
    value = width == 4 ? loadLe32(data + position) : loadLe64(data + position);
    position += width;
    return true;
  }

  bool readBytes(const unsigned char *&bytes, size_t &length) {
    uint64_t declared;
    if (!readVarint(declared) || declared > size - position)
      return false;
    bytes = data + position;
    length = static_cast<size_t>(declared);
    position += length;
    return true;
  }

  /// Skips a field of `wireType`; false for groups or truncation.
  bool skip(unsigned wireType) {
    uint64_t ignored;
    const unsigned char *bytes;
    size_t length;
    switch (wireType) {
    case 0:
      return readVarint(ignored);
    case 1:
      return readFixed(8, ignored);
    case 2:
      return readBytes(bytes, length);
    case 5:
      return readFixed(4, ignored);
    default:
      return false;
    }
  }

private:
  const unsigned char *data;
  size_t size;
  size_t position = 0;
};

/// Appends the elements of a repeated scalar field, packed or not.
/// `fixedWidth` is 0 for varints, else 4 or 8.
bool readRepeated(WireReader &reader, unsigned wireType, size_t fixedWidth,
                  std::vector<uint64_t> &values) {
  uint64_t value;
  unsigned scalarWireType = fixedWidth == 0 ? 0 : fixedWidth == 4 ? 5 : 1;
  if (wireType == scalarWireType) {
    bool ok = fixedWidth ? reader.readFixed(fixedWidth, value)
                         : reader.readVarint(value);
    if (ok)
      values.push_back(value);
    return ok;
  }
  if (wireType != 2)
    return false;
  const unsigned char *bytes;
  size_t length;
  if (!reader.readBytes(bytes, length))
    return false;
  WireReader packed(bytes, length);
  while (!packed.atEnd()) {
    bool ok = fixedWidth ? packed.readFixed(fixedWidth, value)
                         : packed.readVarint(value);
    if (!ok)
      return false;
    values.push_back(value);
  }
  return true;
}

/// Stores element `index` of `values` into a tensor of `dtype`.
void storeElement(qcc_dtype dtype, void *data, size_t index, uint64_t value) {
  switch (qcc_dtype_size(dtype)) {
  case 1: {
    uint8_t narrow = static_cast<uint8_t>(value);
    if (dtype == QCC_DTYPE_BOOL)
      narrow = value != 0;
    static_cast<uint8_t *>(data)[index] = narrow;
    break;
  }
  case 2:
    static_cast<uint16_t *>(data)[index] = static_cast<uint16_t>(value);
    break;
  case 4:
    static_cast<uint32_t *>(data)[index] = static_cast<uint32_t>(value);
    break;
  case 8:
    static_cast<uint64_t *>(data)[index] = value;
    break;
  }
}

void appendVarint(std::string &out, uint64_t value) {
  do {
    unsigned char byte = value & 0x7F;
    value >>= 7;
    out += static_cast<char>(value ? byte | 0x80 : byte);
  } while (value);
}

qcc_status parseTensorProto(const unsigned char *bytes, size_t size,
                            const std::string &source, qcc_tensor *out,
                            char **outName) {
  WireReader reader(bytes, size);
  std::vector<uint64_t> dims, floatData, int32Data, int64Data, doubleData,
      uint64Data;
  int64_t dataType = 0;
  int64_t dataLocation = 0;
  std::string name;
  const unsigned char *rawData = nullptr;
  size_t rawSize = 0;
  bool hasRaw = false, hasStrings = false;
  while (!reader.atEnd()) {
    uint64_t key;
    if (!reader.readVarint(key))
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        source + ": truncated or invalid TensorProto");
    uint64_t field = key >> 3;
    unsigned wireType = key & 7;
    bool ok = true;
    uint64_t value = 0;
    const unsigned char *fieldBytes;
    size_t fieldSize;
    switch (field) {
    case 1:
      ok = readRepeated(reader, wireType, 0, dims);
      break;
    case 2:
      ok = wireType == 0 && reader.readVarint(value);
      dataType = static_cast<int64_t>(value);
      break;
    case 4:
      ok = readRepeated(reader, wireType, 4, floatData);
      break;
    case 5:
      ok = readRepeated(reader, wireType, 0, int32Data);
      break;
    case 6:
      hasStrings = true;
      ok = reader.skip(wireType);
      break;
    case 7:
      ok = readRepeated(reader, wireType, 0, int64Data);
      break;
    case 8:
      ok = wireType == 2 && reader.readBytes(fieldBytes, fieldSize);
      if (ok)
        name.assign(reinterpret_cast<const char *>(fieldBytes), fieldSize);
      break;
    case 9:
      ok = wireType == 2 && reader.readBytes(rawData, rawSize);
      hasRaw = true;
      break;
    case 10:
      ok = readRepeated(reader, wireType, 8, doubleData);
      break;
    case 11:
      ok = readRepeated(reader, wireType, 0, uint64Data);
      break;
    case 14:
      ok = wireType == 0 && reader.readVarint(value);
      dataLocation = static_cast<int64_t>(value);
      break;
    default:
      ok = reader.skip(wireType);
      break;
    }
    if (!ok)
      return makeStatusF(QCC_STATUS_DATA_LOSS,
                         "%s: truncated or invalid TensorProto (field %llu)",
                         source.c_str(),
                         static_cast<unsigned long long>(field));
  }
  std::string label = source + (name.empty() ? "" : " (tensor '" + name + "')");
  if (dataLocation == 1)
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      label + ": tensors with external data are not supported");
  if (dataType == OnnxString || hasStrings)
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      label + ": string tensors are not supported");
  qcc_dtype dtype = dtypeFromOnnx(dataType);
  if (dtype == QCC_DTYPE_INVALID)
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "%s: ONNX data type %lld is not supported",
                       label.c_str(), static_cast<long long>(dataType));
  if (dims.size() > QCC_MAX_RANK)
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "%s: rank %zu exceeds the maximum of %d", label.c_str(),
                       dims.size(), QCC_MAX_RANK);
  int64_t shape[QCC_MAX_RANK];
  for (size_t i = 0; i < dims.size(); ++i)
    shape[i] = static_cast<int64_t>(dims[i]);
  uint32_t rank = static_cast<uint32_t>(dims.size());
  size_t byteSize;
  if (!computeByteSize(dtype, shape, rank, byteSize))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      label + ": invalid dims " + formatDims(shape, rank));
  size_t count = byteSize / qcc_dtype_size(dtype);

  const std::vector<uint64_t> *typed = nullptr;
  switch (dtype) {
  case QCC_DTYPE_FLOAT32:
    typed = &floatData;
    break;
  case QCC_DTYPE_FLOAT64:
    typed = &doubleData;
    break;
  case QCC_DTYPE_INT64:
    typed = &int64Data;
    break;
  case QCC_DTYPE_UINT32:
  case QCC_DTYPE_UINT64:
    typed = &uint64Data;
    break;
  default:
    typed = &int32Data;
    break;
  }
  if (hasRaw ? rawSize != byteSize : typed->size() != count)
    return makeStatusF(
        QCC_STATUS_DATA_LOSS,
        "%s: dims %s %s need %zu elements, the data holds %zu", label.c_str(),
        formatDims(shape, rank).c_str(), qcc_dtype_name(dtype), count,
        hasRaw ? rawSize / qcc_dtype_size(dtype) : typed->size());
  if (qcc_status status = qcc_tensor_allocate(dtype, rank, shape, out))
    return annotateStatus(status, label);
  if (hasRaw) {
    if (byteSize)
      std::memcpy(out->data, rawData, byteSize);
  } else {
    for (size_t i = 0; i < count; ++i)
      storeElement(dtype, out->data, i, (*typed)[i]);
  }
  if (outName) {
    *outName = static_cast<char *>(std::malloc(name.size() + 1));
    if (!*outName) {
      qcc_tensor_free_data(out);
      return makeStatus(QCC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    std::memcpy(*outName, name.c_str(), name.size() + 1);
  }
  return nullptr;
}

bool endsWith(const std::string &text, const char *suffix) {
  size_t length = std::strlen(suffix);
  return text.size() >= length &&
         text.compare(text.size() - length, length, suffix) == 0;
}

} // namespace

extern "C" {

qcc_status qcc_tensor_parse_onnx_pb(const void *bytes, size_t size,
                                    qcc_tensor *out, char **outName) {
  if ((!bytes && size) || !out)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_parse_onnx_pb: NULL argument");
  if (outName)
    *outName = nullptr;
  return parseTensorProto(static_cast<const unsigned char *>(bytes), size,
                          "<memory>", out, outName);
}

qcc_status qcc_tensor_read_onnx_pb(const char *path, qcc_tensor *out,
                                   char **outName) {
  if (!path || !out)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_read_onnx_pb: NULL argument");
  if (outName)
    *outName = nullptr;
  std::string bytes;
  if (qcc_status status = readFileBytes(path, bytes))
    return status;
  return parseTensorProto(reinterpret_cast<const unsigned char *>(bytes.data()),
                          bytes.size(), path, out, outName);
}

qcc_status qcc_tensor_write_onnx_pb(const char *path, const qcc_tensor *tensor,
                                    const char *name) {
  if (!path || !tensor)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_write_onnx_pb: NULL argument");
  size_t byteSize;
  int64_t type = onnxFromDtype(tensor->dtype);
  if (!type ||
      !computeByteSize(tensor->dtype, tensor->dims, tensor->rank, byteSize))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      std::string(path) + ": invalid tensor dtype or shape");
  if (byteSize != tensor->byte_size || (byteSize && !tensor->data))
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "%s: tensor byte_size %zu does not match its shape "
                       "(%zu bytes)",
                       path, tensor->byte_size, byteSize);
  std::string bytes;
  for (uint32_t i = 0; i < tensor->rank; ++i) {
    appendVarint(bytes, (1 << 3) | 0);
    appendVarint(bytes, static_cast<uint64_t>(tensor->dims[i]));
  }
  appendVarint(bytes, (2 << 3) | 0);
  appendVarint(bytes, static_cast<uint64_t>(type));
  if (name && *name) {
    appendVarint(bytes, (8 << 3) | 2);
    appendVarint(bytes, std::strlen(name));
    bytes += name;
  }
  appendVarint(bytes, (9 << 3) | 2);
  appendVarint(bytes, byteSize);
  bytes.append(static_cast<const char *>(tensor->data), byteSize);
  return writeFileBytes(path, bytes);
}

qcc_status qcc_tensor_read_file(const char *path, qcc_tensor *out) {
  if (!path || !out)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_read_file: NULL argument");
  std::string name = path;
  if (endsWith(name, ".npy"))
    return qcc_tensor_read_npy(path, out);
  if (endsWith(name, ".pb"))
    return qcc_tensor_read_onnx_pb(path, out, nullptr);
  return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                    "'" + name +
                        "': unknown tensor file type (expected .npy "
                        "or .pb)");
}

} // extern "C"
