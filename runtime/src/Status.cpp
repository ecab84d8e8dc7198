//===- Status.cpp - Status objects, dtypes and versions -------------------===//

#include "Status.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

struct qcc_status_t {
  qcc_status_code_t code;
  std::string message;
  /// Static statuses (out of memory) are never freed.
  bool isStatic;
};

namespace qcc {
namespace runtime {

static qcc_status_t outOfMemoryStatus = {
    QCC_STATUS_RESOURCE_EXHAUSTED, "out of memory while reporting an error",
    true};

qcc_status makeStatus(qcc_status_code_t code, const std::string &message) {
  if (code == QCC_STATUS_OK)
    return nullptr;
  auto *status = new (std::nothrow) qcc_status_t{code, message, false};
  return status ? status : &outOfMemoryStatus;
}

qcc_status makeStatusF(qcc_status_code_t code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  va_list argsCopy;
  va_copy(argsCopy, args);
  int length = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string message;
  if (length > 0) {
    message.resize(static_cast<size_t>(length) + 1);
    std::vsnprintf(&message[0], message.size(), format, argsCopy);
    message.resize(static_cast<size_t>(length));
  }
  va_end(argsCopy);
  return makeStatus(code, message);
}

qcc_status annotateStatus(qcc_status status, const std::string &prefix) {
  if (!status)
    return nullptr;
  qcc_status result = makeStatus(status->code, prefix + ": " + status->message);
  qcc_status_free(status);
  return result;
}

std::string errnoMessage(int err) { return std::strerror(err); }

std::string formatDims(const int64_t *dims, uint32_t rank) {
  if (rank == 0)
    return "scalar";
  std::string text;
  for (uint32_t i = 0; i < rank; ++i) {
    if (i)
      text += 'x';
    text += std::to_string(dims[i]);
  }
  return text;
}

bool computeByteSize(qcc_dtype dtype, const int64_t *dims, uint32_t rank,
                     size_t &byteSize) {
  size_t elementSize = qcc_dtype_size(dtype);
  if (elementSize == 0 || rank > QCC_MAX_RANK)
    return false;
  size_t total = elementSize;
  for (uint32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return false;
    if (__builtin_mul_overflow(total, static_cast<size_t>(dims[i]), &total))
      return false;
  }
  byteSize = total;
  return true;
}

void *alignedAlloc(size_t size) {
  size_t rounded = (size + 63) & ~static_cast<size_t>(63);
  if (rounded < size)
    return nullptr;
  if (rounded == 0)
    rounded = 64;
  return std::aligned_alloc(64, rounded);
}

} // namespace runtime
} // namespace qcc

using namespace qcc::runtime;

extern "C" {

const char *qcc_runtime_version(void) { return "0.1.0"; }

uint32_t qcc_runtime_artifact_format_version(void) {
  return QCC_ARTIFACT_FORMAT_VERSION;
}

qcc_status_code_t qcc_status_code(qcc_status status) {
  return status ? status->code : QCC_STATUS_OK;
}

const char *qcc_status_message(qcc_status status) {
  return status ? status->message.c_str() : "OK";
}

const char *qcc_status_code_name(qcc_status_code_t code) {
  switch (code) {
  case QCC_STATUS_OK:
    return "OK";
  case QCC_STATUS_INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case QCC_STATUS_NOT_FOUND:
    return "NOT_FOUND";
  case QCC_STATUS_DATA_LOSS:
    return "DATA_LOSS";
  case QCC_STATUS_UNIMPLEMENTED:
    return "UNIMPLEMENTED";
  case QCC_STATUS_FAILED_PRECONDITION:
    return "FAILED_PRECONDITION";
  case QCC_STATUS_RESOURCE_EXHAUSTED:
    return "RESOURCE_EXHAUSTED";
  case QCC_STATUS_INTERNAL:
    return "INTERNAL";
  case QCC_STATUS_MAX_ENUM:
    break;
  }
  return "UNKNOWN";
}

void qcc_status_free(qcc_status status) {
  if (status && !status->isStatic)
    delete status;
}

namespace {
struct DtypeRecord {
  qcc_dtype dtype;
  const char *name;
  size_t size;
};
} // namespace

static const DtypeRecord dtypeRecords[] = {
    {QCC_DTYPE_FLOAT32, "float32", 4}, {QCC_DTYPE_FLOAT64, "float64", 8},
    {QCC_DTYPE_FLOAT16, "float16", 2}, {QCC_DTYPE_INT8, "int8", 1},
    {QCC_DTYPE_UINT8, "uint8", 1},     {QCC_DTYPE_INT16, "int16", 2},
    {QCC_DTYPE_UINT16, "uint16", 2},   {QCC_DTYPE_INT32, "int32", 4},
    {QCC_DTYPE_UINT32, "uint32", 4},   {QCC_DTYPE_INT64, "int64", 8},
    {QCC_DTYPE_UINT64, "uint64", 8},   {QCC_DTYPE_BOOL, "bool", 1},
};

const char *qcc_dtype_name(qcc_dtype dtype) {
  for (const DtypeRecord &record : dtypeRecords)
    if (record.dtype == dtype)
      return record.name;
  return "invalid";
}

size_t qcc_dtype_size(qcc_dtype dtype) {
  for (const DtypeRecord &record : dtypeRecords)
    if (record.dtype == dtype)
      return record.size;
  return 0;
}

qcc_dtype qcc_dtype_from_name(const char *name) {
  if (!name)
    return QCC_DTYPE_INVALID;
  for (const DtypeRecord &record : dtypeRecords)
    if (std::strcmp(record.name, name) == 0)
      return record.dtype;
  return QCC_DTYPE_INVALID;
}

} // extern "C"
