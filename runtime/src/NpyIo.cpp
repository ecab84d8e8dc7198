//===- NpyIo.cpp - NumPy .npy and .npz files ------------------------------===//
//
// The .npy format: "\x93NUMPY", major, minor, a little-endian header length
// (2 bytes in version 1, 4 in versions 2 and 3), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded so that
// the data starts at a multiple of 64, then the raw elements.
// An .npz is a zip archive of .npy files; numpy.savez stores them
// uncompressed, which is the case read here.
//
//===----------------------------------------------------------------------===//

#include "TensorIo.h"

#include "Status.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace qcc::runtime;

namespace {

/// Maps dtype to the .npy type code without byte order ("f4", "b1", ...).
const char *npyTypeCode(qcc_dtype dtype) {
  switch (dtype) {
  case QCC_DTYPE_FLOAT32:
    return "f4";
  case QCC_DTYPE_FLOAT64:
    return "f8";
  case QCC_DTYPE_FLOAT16:
    return "f2";
  case QCC_DTYPE_INT8:
    return "i1";
  case QCC_DTYPE_UINT8:
    return "u1";
  case QCC_DTYPE_INT16:
    return "i2";
  case QCC_DTYPE_UINT16:
    return "u2";
  case QCC_DTYPE_INT32:
    return "i4";
  case QCC_DTYPE_UINT32:
    return "u4";
  case QCC_DTYPE_INT64:
    return "i8";
  case QCC_DTYPE_UINT64:
    return "u8";
  case QCC_DTYPE_BOOL:
    return "b1";
  case QCC_DTYPE_INVALID:
  case QCC_DTYPE_MAX_ENUM:
    break;
  }
  return nullptr;
}

/// The parsed header dict.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  bool hasDescr = false, hasFortranOrder = false, hasShape = false;
  std::vector<int64_t> shape;
};

/// Parses the Python literal of a .npy header (only what numpy writes).
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  bool parse(NpyHeader &header, std::string &error) {
    skipSpace();
    if (!consume('{'))
      return fail("header is not a dict", error);
    for (;;) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key", error);
      skipSpace();
      if (key == "descr") {
        if (!parseString(header.descr))
          return fail("'descr' must be a string (structured dtypes are not "
                      "supported)",
                      error);
        header.hasDescr = true;
      } else if (key == "fortran_order") {
        if (text.compare(position, 4, "True") == 0) {
          header.fortranOrder = true;
          position += 4;
        } else if (text.compare(position, 5, "False") == 0) {
          position += 5;
        } else {
          return fail("'fortran_order' must be True or False", error);
        }
        header.hasFortranOrder = true;
      } else if (key == "shape") {
        if (!parseShape(header.shape))
          return fail("'shape' must be a tuple of non-negative integers",
                      error);
        header.hasShape = true;
      } else {
        return fail("unexpected key '" + key + "'", error);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}'", error);
    }
    if (!header.hasDescr || !header.hasFortranOrder || !header.hasShape)
      return fail("header lacks 'descr', 'fortran_order' or 'shape'", error);
    return true;
  }

private:
  bool fail(const std::string &what, std::string &error) {
    error = what;
    return false;
  }
  void skipSpace() {
    while (position < text.size() &&
           (text[position] == ' ' || text[position] == '\t' ||
            text[position] == '\n' || text[position] == '\r'))
      ++position;
  }
  bool consume(char c) {
    if (position < text.size() && text[position] == c) {
      ++position;
      return true;
    }
    return false;
  }
  bool parseString(std::string &out) {
    if (position >= text.size() ||
        (text[position] != '\'' && text[position] != '"'))
      return false;
    char quote = text[position++];
    size_t end = text.find(quote, position);
    if (end == std::string::npos)
      return false;
    out = text.substr(position, end - position);
    position = end + 1;
    return true;
  }
  bool parseShape(std::vector<int64_t> &shape) {
    if (!consume('('))
      return false;
    for (;;) {
      skipSpace();
      if (consume(')'))
        return true;
      if (position >= text.size() || text[position] < '0' ||
          text[position] > '9')
        return false;
      int64_t value = 0;
      while (position < text.size() && text[position] >= '0' &&
             text[position] <= '9') {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, text[position] - '0', &value))
          return false;
        ++position;
      }
      consume('L'); // Python 2 longs.
      shape.push_back(value);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return true;
      return false;
    }
  }

  const std::string &text;
  size_t position = 0;
};

/// Decodes a descr such as "<f4" into a dtype.
qcc_status parseDescr(const std::string &descr, const std::string &source,
                      qcc_dtype &dtype) {
  if (descr.size() < 2)
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      source + ": unsupported .npy dtype '" + descr + "'");
  char order = descr[0];
  std::string code = descr.substr(1);
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    order = '|';
    code = descr;
  }
  if (code == "?")
    code = "b1";
  dtype = QCC_DTYPE_INVALID;
  for (int candidate = QCC_DTYPE_FLOAT32; candidate <= QCC_DTYPE_BOOL;
       ++candidate) {
    const char *typeCode = npyTypeCode(static_cast<qcc_dtype>(candidate));
    if (typeCode && code == typeCode)
      dtype = static_cast<qcc_dtype>(candidate);
  }
  if (dtype == QCC_DTYPE_INVALID)
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      source + ": unsupported .npy dtype '" + descr + "'");
  if (order == '>' && qcc_dtype_size(dtype) > 1)
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      source + ": big-endian .npy data ('" + descr +
                          "') is not supported; save it little-endian, e.g. "
                          "arr.astype('<" +
                          code + "')");
  return nullptr;
}

qcc_status parseNpy(const unsigned char *bytes, size_t size,
                    const std::string &source, qcc_tensor *out) {
  static const char magic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(bytes, magic, 6) != 0)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      source + ": not a .npy file (bad magic)");
  unsigned major = bytes[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = loadLe16(bytes + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        source + ": truncated .npy header");
    headerLength = loadLe32(bytes + 8);
    headerStart = 12;
  } else {
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "%s: unsupported .npy format version %u.%u",
                       source.c_str(), major, unsigned(bytes[7]));
  }
  if (headerLength > size - headerStart)
    return makeStatus(QCC_STATUS_DATA_LOSS, source + ": truncated .npy header");
  std::string headerText(reinterpret_cast<const char *>(bytes) + headerStart,
                         headerLength);
  NpyHeader header;
  std::string error;
  if (!HeaderParser(headerText).parse(header, error))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      source + ": invalid .npy header: " + error);
  qcc_dtype dtype = QCC_DTYPE_INVALID;
  if (qcc_status status = parseDescr(header.descr, source, dtype))
    return status;
  if (header.fortranOrder && header.shape.size() > 1)
    return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                      source + ": Fortran-order .npy arrays are not supported; "
                               "save with numpy.ascontiguousarray(arr)");
  if (header.shape.size() > QCC_MAX_RANK)
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "%s: rank %zu exceeds the maximum of %d", source.c_str(),
                       header.shape.size(), QCC_MAX_RANK);
  size_t dataOffset = headerStart + headerLength;
  size_t expected;
  if (!computeByteSize(dtype, header.shape.data(),
                       static_cast<uint32_t>(header.shape.size()), expected))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      source + ": .npy shape is too large");
  if (size - dataOffset != expected)
    return makeStatusF(QCC_STATUS_DATA_LOSS,
                       "%s: .npy data has %zu bytes, shape %s %s needs %zu",
                       source.c_str(), size - dataOffset,
                       formatDims(header.shape.data(),
                                  static_cast<uint32_t>(header.shape.size()))
                           .c_str(),
                       qcc_dtype_name(dtype), expected);
  if (qcc_status status =
          qcc_tensor_allocate(dtype, static_cast<uint32_t>(header.shape.size()),
                              header.shape.data(), out))
    return annotateStatus(status, source);
  if (expected)
    std::memcpy(out->data, bytes + dataOffset, expected);
  return nullptr;
}

} // namespace

//===----------------------------------------------------------------------===//
// .npz
//===----------------------------------------------------------------------===//

struct qcc_npz_t {
  std::string path;
  const unsigned char *base = nullptr;
  size_t size = 0;
  struct Entry {
    std::string name;
    uint16_t method;
    uint16_t flags;
    uint64_t compressedSize;
    uint64_t size;
    uint64_t localHeaderOffset;
  };
  std::vector<Entry> entries;

  ~qcc_npz_t() {
    if (base && size)
      ::munmap(const_cast<unsigned char *>(base), size);
  }
};

namespace {

/// Reads the central directory of the zip archive in `npz`.
qcc_status readCentralDirectory(qcc_npz &npz) {
  const unsigned char *base = npz.base;
  size_t size = npz.size;
  std::string bad = npz.path + ": not a valid .npz (zip) archive: ";
  if (size < 22)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, bad + "too small");
  size_t eocd = size - 22;
  size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  for (;; --eocd) {
    if (loadLe32(base + eocd) == 0x06054b50)
      break;
    if (eocd == lowest)
      return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                        bad + "no end of central directory record");
  }
  uint64_t count = loadLe16(base + eocd + 10);
  uint64_t directorySize = loadLe32(base + eocd + 12);
  uint64_t directoryOffset = loadLe32(base + eocd + 16);
  if ((count == 0xFFFF || directoryOffset == 0xFFFFFFFF) && eocd >= 20 &&
      loadLe32(base + eocd - 20) == 0x07064b50) {
    uint64_t record = loadLe64(base + eocd - 20 + 8);
    if (record > size - 56 || loadLe32(base + record) != 0x06064b50)
      return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                        bad + "bad zip64 end of central directory");
    count = loadLe64(base + record + 32);
    directorySize = loadLe64(base + record + 40);
    directoryOffset = loadLe64(base + record + 48);
  }
  if (directoryOffset > size || directorySize > size - directoryOffset)
    return makeStatus(QCC_STATUS_DATA_LOSS,
                      bad + "central directory out of bounds");
  size_t position = static_cast<size_t>(directoryOffset);
  size_t end = position + static_cast<size_t>(directorySize);
  for (uint64_t i = 0; i < count; ++i) {
    if (end - position < 46 || loadLe32(base + position) != 0x02014b50)
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        bad + "truncated central directory");
    const unsigned char *header = base + position;
    qcc_npz::Entry entry;
    entry.flags = loadLe16(header + 8);
    entry.method = loadLe16(header + 10);
    entry.compressedSize = loadLe32(header + 20);
    entry.size = loadLe32(header + 24);
    size_t nameLength = loadLe16(header + 28);
    size_t extraLength = loadLe16(header + 30);
    size_t commentLength = loadLe16(header + 32);
    entry.localHeaderOffset = loadLe32(header + 42);
    if (end - position < 46 + nameLength + extraLength + commentLength)
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        bad + "truncated central directory");
    entry.name.assign(reinterpret_cast<const char *>(header + 46), nameLength);
    // The zip64 extra field holds, in order, whichever of the three values
    // were saturated in the fixed header.
    const unsigned char *extra = header + 46 + nameLength;
    for (size_t at = 0; at + 4 <= extraLength;) {
      uint16_t id = loadLe16(extra + at);
      uint16_t length = loadLe16(extra + at + 2);
      if (at + 4 + length > extraLength)
        break;
      if (id == 0x0001) {
        const unsigned char *field = extra + at + 4;
        size_t left = length;
        uint64_t *targets[3] = {&entry.size, &entry.compressedSize,
                                &entry.localHeaderOffset};
        for (uint64_t *target : targets) {
          if (*target != 0xFFFFFFFF)
            continue;
          if (left < 8)
            break;
          *target = loadLe64(field);
          field += 8;
          left -= 8;
        }
      }
      at += 4 + length;
    }
    if (entry.name.size() > 4 &&
        entry.name.compare(entry.name.size() - 4, 4, ".npy") == 0)
      entry.name.resize(entry.name.size() - 4);
    npz.entries.push_back(std::move(entry));
    position += 46 + nameLength + extraLength + commentLength;
  }
  return nullptr;
}

} // namespace

extern "C" {

qcc_status qcc_tensor_allocate(qcc_dtype dtype, uint32_t rank,
                               const int64_t *dims, qcc_tensor *out) {
  if (!out || (rank && !dims))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_allocate: NULL argument");
  std::memset(out, 0, sizeof(*out));
  if (rank > QCC_MAX_RANK)
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "rank %u exceeds the maximum of %d", rank, QCC_MAX_RANK);
  size_t byteSize;
  if (!computeByteSize(dtype, dims, rank, byteSize))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "invalid dtype or shape " + formatDims(dims, rank));
  void *data = alignedAlloc(byteSize);
  if (!data)
    return makeStatusF(QCC_STATUS_RESOURCE_EXHAUSTED,
                       "out of memory allocating %zu bytes", byteSize);
  std::memset(data, 0, byteSize);
  out->dtype = dtype;
  out->rank = rank;
  for (uint32_t i = 0; i < rank; ++i)
    out->dims[i] = dims[i];
  out->data = data;
  out->byte_size = byteSize;
  return nullptr;
}

void qcc_tensor_free_data(qcc_tensor *tensor) {
  if (!tensor)
    return;
  std::free(tensor->data);
  tensor->data = nullptr;
  tensor->byte_size = 0;
}

qcc_status qcc_tensor_parse_npy(const void *bytes, size_t size,
                                qcc_tensor *out) {
  if (!bytes || !out)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_parse_npy: NULL argument");
  return parseNpy(static_cast<const unsigned char *>(bytes), size, "<memory>",
                  out);
}

qcc_status qcc_tensor_read_npy(const char *path, qcc_tensor *out) {
  if (!path || !out)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_read_npy: NULL argument");
  std::string bytes;
  if (qcc_status status = readFileBytes(path, bytes))
    return status;
  return parseNpy(reinterpret_cast<const unsigned char *>(bytes.data()),
                  bytes.size(), path, out);
}

qcc_status qcc_tensor_write_npy(const char *path, const qcc_tensor *tensor) {
  if (!path || !tensor)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_tensor_write_npy: NULL argument");
  const char *code = npyTypeCode(tensor->dtype);
  size_t byteSize;
  if (!code ||
      !computeByteSize(tensor->dtype, tensor->dims, tensor->rank, byteSize))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      std::string(path) + ": invalid tensor dtype or shape");
  if (byteSize != tensor->byte_size || (byteSize && !tensor->data))
    return makeStatusF(QCC_STATUS_INVALID_ARGUMENT,
                       "%s: tensor byte_size %zu does not match its shape "
                       "(%zu bytes)",
                       path, tensor->byte_size, byteSize);
  std::string shape = "(";
  for (uint32_t i = 0; i < tensor->rank; ++i)
    shape += std::to_string(tensor->dims[i]) + (tensor->rank == 1 ? "," : "") +
             (i + 1 < tensor->rank ? ", " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") +
                       (qcc_dtype_size(tensor->dtype) == 1 ? "|" : "<") + code +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces and a newline so that the data starts at a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xFF);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(static_cast<const char *>(tensor->data), byteSize);
  return writeFileBytes(path, bytes);
}

qcc_status qcc_npz_open(const char *path, qcc_npz **outNpz) {
  if (!path || !outNpz)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_npz_open: NULL argument");
  *outNpz = nullptr;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return makeStatus(
        err == ENOENT ? QCC_STATUS_NOT_FOUND : QCC_STATUS_INVALID_ARGUMENT,
        std::string("cannot open '") + path + "': " + errnoMessage(err));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      std::string(path) + ": not a regular file");
  }
  qcc_npz *npz = new (std::nothrow) qcc_npz();
  if (!npz) {
    ::close(fd);
    return makeStatus(QCC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  npz->path = path;
  npz->size = static_cast<size_t>(info.st_size);
  if (npz->size) {
    void *mapping = ::mmap(nullptr, npz->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      npz->size = 0;
      delete npz;
      return makeStatus(QCC_STATUS_INTERNAL, std::string("cannot map '") +
                                                 path +
                                                 "': " + errnoMessage(err));
    }
    npz->base = static_cast<const unsigned char *>(mapping);
  }
  ::close(fd);
  if (qcc_status status = readCentralDirectory(*npz)) {
    delete npz;
    return status;
  }
  *outNpz = npz;
  return nullptr;
}

void qcc_npz_close(qcc_npz *npz) { delete npz; }

size_t qcc_npz_num_entries(const qcc_npz *npz) {
  return npz ? npz->entries.size() : 0;
}

const char *qcc_npz_entry_name(const qcc_npz *npz, size_t index) {
  if (!npz || index >= npz->entries.size())
    return nullptr;
  return npz->entries[index].name.c_str();
}

qcc_status qcc_npz_read(const qcc_npz *npz, const char *name, qcc_tensor *out) {
  if (!npz || !name || !out)
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      "qcc_npz_read: NULL argument");
  std::string key = name;
  if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0)
    key.resize(key.size() - 4);
  for (const qcc_npz::Entry &entry : npz->entries) {
    if (entry.name != key)
      continue;
    std::string source = npz->path + "[" + key + "]";
    if (entry.flags & 1)
      return makeStatus(QCC_STATUS_UNIMPLEMENTED,
                        source + ": encrypted zip entries are not supported");
    if (entry.method != 0)
      return makeStatusF(
          QCC_STATUS_UNIMPLEMENTED,
          "%s: compressed .npz entries (zip method %u) are not supported; "
          "save with numpy.savez, not numpy.savez_compressed",
          source.c_str(), unsigned(entry.method));
    uint64_t local = entry.localHeaderOffset;
    if (local > npz->size || npz->size - local < 30 ||
        loadLe32(npz->base + local) != 0x04034b50)
      return makeStatus(QCC_STATUS_DATA_LOSS, source + ": bad local header");
    uint64_t dataOffset = local + 30 + loadLe16(npz->base + local + 26) +
                          loadLe16(npz->base + local + 28);
    if (dataOffset > npz->size || npz->size - dataOffset < entry.size ||
        entry.size != entry.compressedSize)
      return makeStatus(QCC_STATUS_DATA_LOSS,
                        source + ": entry data out of bounds");
    return parseNpy(npz->base + dataOffset, static_cast<size_t>(entry.size),
                    source, out);
  }
  return makeStatus(QCC_STATUS_NOT_FOUND,
                    npz->path + ": no entry named '" + key + "'");
}

} // extern "C"
