/*===- qcc_runtime.h - qcc runtime C API --------------------------*- C -*-===*
 *
 * The qcc runtime loads an artifact written by the qcc compiler (see
 * docs/ARTIFACT.md), verifies its integrity and the hardware it needs, and
 * runs it on caller-provided tensors.
 *
 * Conventions (shared by every function below):
 *  - Objects are opaque handles. Ownership follows create/retain/release: a
 *    handle returned through an `out` parameter carries one reference that the
 *    caller must release.
 *  - Every call that can fail returns a `qcc_status`. NULL means success; a
 *    non-NULL status carries a code and a one-line message and must be freed
 *    with qcc_status_free().
 *  - Strings returned by the runtime are owned by the object they come from
 *    and live as long as it does, unless stated otherwise.
 *  - Thread safety is documented per function.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QCC_RUNTIME_INCLUDE_QCC_QCC_RUNTIME_H
#define QCC_RUNTIME_INCLUDE_QCC_QCC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define QCC_RUNTIME_API
#else
#define QCC_RUNTIME_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Versions
 *===----------------------------------------------------------------------===*/

/// The artifact format version this runtime reads (docs/ARTIFACT.md).
#define QCC_ARTIFACT_FORMAT_VERSION 1
/// The ABI version of `qcc_artifact_main` and `qcc_exec_context`.
#define QCC_ARTIFACT_ABI_VERSION 2

/// Returns the runtime version, e.g. "0.1.0". Thread safe; static storage.
QCC_RUNTIME_API const char *qcc_runtime_version(void);

/// Returns the artifact format version this runtime reads (1). Thread safe.
QCC_RUNTIME_API uint32_t qcc_runtime_artifact_format_version(void);

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

/// Outcome classes. Values are stable. (The type carries a `_t` suffix
/// because `qcc_status_code` is the accessor function.)
typedef enum qcc_status_code_e {
  QCC_STATUS_OK = 0,
  /// The caller passed something wrong: a bad argument, tensor or manifest.
  QCC_STATUS_INVALID_ARGUMENT = 1,
  /// A file or a named entity does not exist.
  QCC_STATUS_NOT_FOUND = 2,
  /// Data is corrupt or was tampered with (integrity check failed, truncated).
  QCC_STATUS_DATA_LOSS = 3,
  /// A format, version or target kind this runtime does not read.
  QCC_STATUS_UNIMPLEMENTED = 4,
  /// The machine cannot run this artifact (missing CPU features, wrong arch).
  QCC_STATUS_FAILED_PRECONDITION = 5,
  /// Out of memory or another resource.
  QCC_STATUS_RESOURCE_EXHAUSTED = 6,
  /// A failure inside the runtime or the system (mmap, dlopen, threads).
  QCC_STATUS_INTERNAL = 7,
  /* Not a code: widens the enum's range of valid values. */
  QCC_STATUS_MAX_ENUM = 0x7FFFFFFF,
} qcc_status_code_t;

/// Aliases used in the documentation of the artifact contract.
#define QCC_STATUS_INTEGRITY QCC_STATUS_DATA_LOSS
#define QCC_STATUS_UNSUPPORTED_FORMAT QCC_STATUS_UNIMPLEMENTED

/// Opaque status; NULL is success.
typedef struct qcc_status_t *qcc_status;

/// Returns the code of `status` (QCC_STATUS_OK for NULL).
QCC_RUNTIME_API qcc_status_code_t qcc_status_code(qcc_status status);

/// Returns the message of `status` ("OK" for NULL). Owned by the status.
QCC_RUNTIME_API const char *qcc_status_message(qcc_status status);

/// Returns the name of a code, e.g. "INVALID_ARGUMENT". Static storage.
QCC_RUNTIME_API const char *qcc_status_code_name(qcc_status_code_t code);

/// Frees `status`; NULL is allowed.
QCC_RUNTIME_API void qcc_status_free(qcc_status status);

/*===----------------------------------------------------------------------===*
 * Element types and tensors
 *===----------------------------------------------------------------------===*/

/// Element types of the artifact contract. Values are stable.
typedef enum qcc_dtype {
  QCC_DTYPE_INVALID = 0,
  QCC_DTYPE_FLOAT32 = 1,
  QCC_DTYPE_FLOAT64 = 2,
  QCC_DTYPE_FLOAT16 = 3, /* IEEE half */
  QCC_DTYPE_INT8 = 4,
  QCC_DTYPE_UINT8 = 5,
  QCC_DTYPE_INT16 = 6,
  QCC_DTYPE_UINT16 = 7,
  QCC_DTYPE_INT32 = 8,
  QCC_DTYPE_UINT32 = 9,
  QCC_DTYPE_INT64 = 10,
  QCC_DTYPE_UINT64 = 11,
  QCC_DTYPE_BOOL = 12, /* one byte, 0 or 1 */
  /* Not a dtype: makes every non-negative int a valid value of the enum
     for C++ callers and the runtime. */
  QCC_DTYPE_MAX_ENUM = 0x7FFFFFFF,
} qcc_dtype;

/// Returns the manifest name of `dtype` ("float32", ...) or "invalid".
QCC_RUNTIME_API const char *qcc_dtype_name(qcc_dtype dtype);
/// Returns the size in bytes of one element of `dtype` (0 for invalid).
QCC_RUNTIME_API size_t qcc_dtype_size(qcc_dtype dtype);
/// Returns the dtype named `name` ("float32", ...) or QCC_DTYPE_INVALID.
QCC_RUNTIME_API qcc_dtype qcc_dtype_from_name(const char *name);

/// The highest rank a tensor may have.
#define QCC_MAX_RANK 8

/// A dense row-major tensor whose memory belongs to the caller. `byte_size`
/// must equal the product of `dims` times the element size.
typedef struct qcc_tensor {
  qcc_dtype dtype;
  uint32_t rank;
  int64_t dims[QCC_MAX_RANK];
  void *data;
  size_t byte_size;
} qcc_tensor;

/// Describes one input or output of a model.
typedef struct qcc_tensor_info {
  /// Name from the manifest, owned by the model.
  const char *name;
  qcc_dtype dtype;
  uint32_t rank;
  int64_t dims[QCC_MAX_RANK];
  /// Number of elements times the element size.
  size_t byte_size;
} qcc_tensor_info;

/*===----------------------------------------------------------------------===*
 * Execution context passed to compiled code (docs/ARTIFACT.md, version 2)
 *===----------------------------------------------------------------------===*/

/// The layout `qcc_artifact_main` receives as its first argument.
typedef struct qcc_exec_context {
  uint32_t abi_version; /* 2 */
  uint32_t num_threads; /* threads the pool may use for this call (>= 1) */
  void *pool;           /* opaque runtime thread pool */
  /* Runs fn(data, i) for i in [0, n) on the pool, returns when all are done. */
  void (*parallel_for)(void *pool, int64_t n, void (*fn)(void *data, int64_t i),
                       void *data);
  /* Scratch memory for the call's intermediate tensors: at least
     qcc_artifact_arena_bytes() bytes, 64-byte aligned, used by this call
     only (NULL when that is 0). The runtime keeps it between calls. */
  void *arena;
  uint64_t arena_bytes;
} qcc_exec_context;

/*===----------------------------------------------------------------------===*
 * Models
 *===----------------------------------------------------------------------===*/

/// A loaded, verified artifact. Reference counted.
typedef struct qcc_model_t qcc_model;

/// Options of qcc_model_load. Initialise with qcc_load_options_init() so that
/// fields added later get their defaults.
typedef struct qcc_load_options {
  /// Threads used by the model's pool, the calling thread included;
  /// 0 = all hardware threads. Clamped to 1024.
  uint32_t num_threads;
  /// GPU (`kind: cuda`) artifacts: the CUDA device ordinal to run on
  /// (default 0). CPU artifacts ignore it.
  uint32_t device;
  /// Reserved, must be zero.
  uint32_t reserved[6];
} qcc_load_options;

/// Sets every field of `options` to its default.
QCC_RUNTIME_API void qcc_load_options_init(qcc_load_options *options);

/// Loads the artifact `<artifact_prefix>.json` (+ its library and weights):
/// parses the manifest, checks the format and version, recomputes the
/// SHA-256 of the library and weights files and the content hash, checks the
/// CPU features the target requires (cpuid, and OS support of AVX/AVX-512
/// state), maps the weights read-only and dlopen()s the library.
/// GPU (`kind: cuda`) artifacts: also hashes and validates the launch plan,
/// loads the CUDA driver (dlopen of libcuda.so.1, or $QCC_CUDA_DRIVER),
/// checks the device's compute capability, JIT-compiles the PTX and uploads
/// the weights to the device once. Fails with a one-line message when the
/// driver or a GPU is missing, the GPU is too old, the driver rejects the
/// PTX (the message carries the JIT log) or device memory runs out.
/// `options` may be NULL. On success `*out_model` holds one reference.
/// Thread safe (distinct calls share nothing but the dynamic loader).
QCC_RUNTIME_API qcc_status qcc_model_load(const char *artifact_prefix,
                                          const qcc_load_options *options,
                                          qcc_model **out_model);

/// Adds a reference. Thread safe.
QCC_RUNTIME_API void qcc_model_retain(qcc_model *model);
/// Drops a reference; the last one unloads the model. NULL is allowed.
/// Thread safe, but no call on the model may be running or follow when the
/// last reference goes.
QCC_RUNTIME_API void qcc_model_release(qcc_model *model);

/// Number of inputs / outputs. Thread safe.
QCC_RUNTIME_API size_t qcc_model_num_inputs(const qcc_model *model);
QCC_RUNTIME_API size_t qcc_model_num_outputs(const qcc_model *model);

/// Describes input / output `index`. Thread safe.
QCC_RUNTIME_API qcc_status qcc_model_input_info(const qcc_model *model,
                                                size_t index,
                                                qcc_tensor_info *out_info);
QCC_RUNTIME_API qcc_status qcc_model_output_info(const qcc_model *model,
                                                 size_t index,
                                                 qcc_tensor_info *out_info);

/// Finds the index of the input / output called `name` (NOT_FOUND if none).
/// Thread safe.
QCC_RUNTIME_API qcc_status qcc_model_find_input(const qcc_model *model,
                                                const char *name,
                                                size_t *out_index);
QCC_RUNTIME_API qcc_status qcc_model_find_output(const qcc_model *model,
                                                 const char *name,
                                                 size_t *out_index);

/// The manifest text as read from disk. Owned by the model. Thread safe.
QCC_RUNTIME_API const char *qcc_model_manifest_json(const qcc_model *model);
/// The verified content hash (lowercase hex). Owned by the model.
QCC_RUNTIME_API const char *qcc_model_content_hash(const qcc_model *model);
/// The target name from the manifest ("" when absent). Owned by the model.
QCC_RUNTIME_API const char *qcc_model_target_name(const qcc_model *model);
/// The target kind from the manifest: "cpu" or "cuda". Owned by the model.
QCC_RUNTIME_API const char *qcc_model_target_kind(const qcc_model *model);

/// Sets the threads the model's pool uses, the caller included
/// (0 = all hardware threads). Thread safe: waits for a parallel region in
/// flight to finish.
QCC_RUNTIME_API qcc_status qcc_model_set_num_threads(qcc_model *model,
                                                     uint32_t num_threads);
/// Threads the model's pool uses, the caller included (>= 1).
QCC_RUNTIME_API uint32_t qcc_model_num_threads(const qcc_model *model);

/// Runs the model once. `inputs` / `outputs` follow manifest order; every
/// tensor's dtype, rank, dims and byte_size must match the manifest. Buffers
/// that are not 64-byte aligned are staged through aligned scratch memory.
/// Outputs are written completely.
///
/// Thread safe: several threads may run one model at once (each call keeps
/// its own state; concurrent calls must use distinct output buffers). When
/// the pool is busy with another call (or inside a parallel region of this
/// call), parallel regions run on the calling thread; `num_threads` in the
/// context is then an upper bound, not a promise. Zero-byte tensors may have
/// NULL data; the compiled code still receives a valid aligned pointer.
QCC_RUNTIME_API qcc_status qcc_model_run(qcc_model *model,
                                         const qcc_tensor *inputs,
                                         size_t num_inputs, qcc_tensor *outputs,
                                         size_t num_outputs);

/// GPU (`kind: cuda`) models only: runs on device memory. `d_inputs` /
/// `d_outputs` hold one CUDA device pointer per manifest input / output
/// (dense row-major, the manifest's dtype and shape, in the device's primary
/// context, e.g. PyTorch tensors' data_ptr()); outputs are written
/// completely. The run is enqueued after the work already on `stream` (a
/// CUstream / cudaStream_t; NULL is the legacy default stream) and the call
/// returns without waiting: synchronize the stream before reading outputs.
/// Repeated calls on the same buffers replay a CUDA graph. The stream must
/// not be capturing a graph. Thread safe (concurrent calls use distinct
/// scratch memory).
QCC_RUNTIME_API qcc_status qcc_model_run_device(qcc_model *model,
                                                const void *const *d_inputs,
                                                size_t num_inputs,
                                                void *const *d_outputs,
                                                size_t num_outputs,
                                                void *stream);

/*===----------------------------------------------------------------------===*
 * Artifact hashing
 *===----------------------------------------------------------------------===*/

/// SHA-256 of `size` bytes as 64 lowercase hex digits and a NUL in `hex`:
/// the digest the manifest records. The compiler writes artifacts with these
/// same functions, so both sides of the contract hash identically. Thread
/// safe.
QCC_RUNTIME_API void qcc_sha256_hex(const void *data, size_t size,
                                    char hex[65]);

/// SHA-256 of a file's contents (streamed; any size) into `hex` as above.
/// Fails with NOT_FOUND or DATA_LOSS naming the file. Thread safe.
QCC_RUNTIME_API qcc_status qcc_sha256_file_hex(const char *path, char hex[65]);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QCC_RUNTIME_INCLUDE_QCC_QCC_RUNTIME_H
