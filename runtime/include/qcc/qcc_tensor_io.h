/*===- qcc_tensor_io.h - tensor files for the qcc runtime ---------*- C -*-===*
 *
 * Readers and writers of tensor files, with no dependency beyond libc:
 *  - NumPy .npy (format versions 1, 2 and 3; little-endian or byte-order-free
 *    descriptors; C order only),
 *  - NumPy .npz (uncompressed zip archives of .npy entries, numpy.savez),
 *  - ONNX TensorProto .pb files (the protobuf wire format read by hand).
 *
 * Ownership: a tensor filled by a reader owns its `data` (64-byte aligned,
 * allocated by the runtime) and must be released with qcc_tensor_free_data().
 * Tensors passed to writers stay owned by the caller.
 *
 * Thread safety: every function is thread safe on distinct objects.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QCC_RUNTIME_INCLUDE_QCC_QCC_TENSOR_IO_H
#define QCC_RUNTIME_INCLUDE_QCC_QCC_TENSOR_IO_H

#include "qcc/qcc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Fills `out` with a new zero-initialised tensor of `dtype` and `dims`
/// (`rank` <= QCC_MAX_RANK). Free with qcc_tensor_free_data().
QCC_RUNTIME_API qcc_status qcc_tensor_allocate(qcc_dtype dtype, uint32_t rank,
                                               const int64_t *dims,
                                               qcc_tensor *out);

/// Frees the data of a tensor filled by this header's functions and clears
/// `data` and `byte_size`. NULL and already freed tensors are allowed.
QCC_RUNTIME_API void qcc_tensor_free_data(qcc_tensor *tensor);

/// Reads a .npy file.
QCC_RUNTIME_API qcc_status qcc_tensor_read_npy(const char *path,
                                               qcc_tensor *out);
/// Parses .npy bytes held in memory.
QCC_RUNTIME_API qcc_status qcc_tensor_parse_npy(const void *bytes, size_t size,
                                                qcc_tensor *out);
/// Writes `tensor` as a version 1 .npy file (little endian, C order).
QCC_RUNTIME_API qcc_status qcc_tensor_write_npy(const char *path,
                                                const qcc_tensor *tensor);

/// Reads an ONNX TensorProto .pb file. When `out_name` is not NULL it
/// receives the tensor's name (malloc'ed, free with free(); "" if unnamed).
QCC_RUNTIME_API qcc_status qcc_tensor_read_onnx_pb(const char *path,
                                                   qcc_tensor *out,
                                                   char **out_name);
/// Parses TensorProto bytes held in memory; see qcc_tensor_read_onnx_pb.
QCC_RUNTIME_API qcc_status qcc_tensor_parse_onnx_pb(const void *bytes,
                                                    size_t size,
                                                    qcc_tensor *out,
                                                    char **out_name);
/// Writes `tensor` as an ONNX TensorProto (.pb) with its data in raw_data.
/// `name` may be NULL.
QCC_RUNTIME_API qcc_status qcc_tensor_write_onnx_pb(const char *path,
                                                    const qcc_tensor *tensor,
                                                    const char *name);

/// Reads a tensor file, choosing the format by extension (.npy or .pb).
QCC_RUNTIME_API qcc_status qcc_tensor_read_file(const char *path,
                                                qcc_tensor *out);

/// An opened .npz archive.
typedef struct qcc_npz_t qcc_npz;

/// Opens an uncompressed .npz archive (numpy.savez). Entries compressed
/// with deflate (numpy.savez_compressed) are refused when read.
QCC_RUNTIME_API qcc_status qcc_npz_open(const char *path, qcc_npz **out_npz);
/// Closes an archive; NULL is allowed.
QCC_RUNTIME_API void qcc_npz_close(qcc_npz *npz);
/// Number of entries.
QCC_RUNTIME_API size_t qcc_npz_num_entries(const qcc_npz *npz);
/// Name of entry `index` without its ".npy" suffix, owned by the archive;
/// NULL when out of range.
QCC_RUNTIME_API const char *qcc_npz_entry_name(const qcc_npz *npz,
                                               size_t index);
/// Reads the entry called `name` (with or without ".npy").
QCC_RUNTIME_API qcc_status qcc_npz_read(const qcc_npz *npz, const char *name,
                                        qcc_tensor *out);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QCC_RUNTIME_INCLUDE_QCC_QCC_TENSOR_IO_H
