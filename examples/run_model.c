/*===- run_model.c - Minimal C client of the qcc runtime ------------------===*
 *
 * Loads a qcc artifact, prints its I/O signature, fills the inputs with
 * deterministic pseudo-random values (integers in [0, 100), floats in
 * [-1, 1), booleans 0/1), runs it once and prints the first values of each
 * output.
 *
 *   usage: run_model ARTIFACT_PREFIX      (e.g. out/model for out/model.json)
 *
 * Build against an installed runtime (cmake --install <build> --prefix
 * /opt/qcc):
 *
 *   cmake -S examples -B build-example -DCMAKE_PREFIX_PATH=/opt/qcc
 *   cmake --build build-example
 *   ./build-example/run_model out/model
 *
 * or by hand (the runtime is C++, so link its C++ standard library):
 *
 *   cc -std=c99 -I/opt/qcc/include examples/run_model.c \
 *      /opt/qcc/lib/libqcc_runtime.a -lstdc++ -lpthread -ldl -lm -o run_model
 *
 *===----------------------------------------------------------------------===*/

#include "qcc/qcc_runtime.h"
#include "qcc/qcc_tensor_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small xorshift generator: the same inputs on every machine. */
static uint64_t randomState = 0x9E3779B97F4A7C15ull;

static uint64_t nextRandom(void) {
  randomState ^= randomState << 13;
  randomState ^= randomState >> 7;
  randomState ^= randomState << 17;
  return randomState;
}

static void printDims(const int64_t *dims, uint32_t rank) {
  uint32_t i;
  if (rank == 0) {
    printf("scalar");
    return;
  }
  for (i = 0; i < rank; ++i)
    printf(i ? "x%lld" : "%lld", (long long)dims[i]);
}

static void fillTensor(qcc_tensor *tensor) {
  size_t count = tensor->byte_size / qcc_dtype_size(tensor->dtype);
  size_t i;
  for (i = 0; i < count; ++i) {
    uint64_t r = nextRandom();
    double unit = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    switch (tensor->dtype) {
    case QCC_DTYPE_FLOAT32:
      ((float *)tensor->data)[i] = (float)(unit * 2.0 - 1.0);
      break;
    case QCC_DTYPE_FLOAT64:
      ((double *)tensor->data)[i] = unit * 2.0 - 1.0;
      break;
    case QCC_DTYPE_FLOAT16:
      /* Halves of the form +-(1 + m/1024) * 2^-1: in [-1, -0.5] u [0.5, 1). */
      ((uint16_t *)tensor->data)[i] =
          (uint16_t)(((r & 1) << 15) | (14u << 10) | ((r >> 1) & 0x3FF));
      break;
    case QCC_DTYPE_BOOL:
      ((uint8_t *)tensor->data)[i] = (uint8_t)(r & 1);
      break;
    case QCC_DTYPE_INT8:
    case QCC_DTYPE_UINT8:
      ((uint8_t *)tensor->data)[i] = (uint8_t)(r % 100);
      break;
    case QCC_DTYPE_INT16:
    case QCC_DTYPE_UINT16:
      ((uint16_t *)tensor->data)[i] = (uint16_t)(r % 100);
      break;
    case QCC_DTYPE_INT32:
    case QCC_DTYPE_UINT32:
      ((uint32_t *)tensor->data)[i] = (uint32_t)(r % 100);
      break;
    case QCC_DTYPE_INT64:
    case QCC_DTYPE_UINT64:
      ((uint64_t *)tensor->data)[i] = r % 100;
      break;
    default:
      break;
    }
  }
}

static void printValues(const qcc_tensor *tensor) {
  size_t count = tensor->byte_size / qcc_dtype_size(tensor->dtype);
  size_t i;
  printf("[");
  for (i = 0; i < count && i < 6; ++i) {
    if (i)
      printf(", ");
    switch (tensor->dtype) {
    case QCC_DTYPE_FLOAT32:
      printf("%g", ((const float *)tensor->data)[i]);
      break;
    case QCC_DTYPE_FLOAT64:
      printf("%g", ((const double *)tensor->data)[i]);
      break;
    case QCC_DTYPE_INT64:
      printf("%lld", (long long)((const int64_t *)tensor->data)[i]);
      break;
    case QCC_DTYPE_INT32:
      printf("%d", ((const int32_t *)tensor->data)[i]);
      break;
    case QCC_DTYPE_INT8:
      printf("%d", ((const int8_t *)tensor->data)[i]);
      break;
    case QCC_DTYPE_UINT8:
    case QCC_DTYPE_BOOL:
      printf("%u", ((const uint8_t *)tensor->data)[i]);
      break;
    default:
      printf("0x%llx", (unsigned long long)((const uint8_t *)tensor->data)[i]);
      break;
    }
  }
  printf(count > 6 ? ", ...]\n" : "]\n");
}

/* Prints and frees a failed status; returns 1. */
static int report(qcc_status status) {
  fprintf(stderr, "run_model: %s: %s\n",
          qcc_status_code_name(qcc_status_code(status)),
          qcc_status_message(status));
  qcc_status_free(status);
  return 1;
}

int main(int argc, char **argv) {
  qcc_model *model = NULL;
  qcc_tensor *inputs = NULL, *outputs = NULL;
  qcc_status status;
  size_t numInputs, numOutputs, i;
  int exitCode = 1;

  if (argc != 2) {
    fprintf(stderr, "usage: %s ARTIFACT_PREFIX\n", argv[0]);
    return 2;
  }
  printf("qcc runtime %s (artifact format %u)\n", qcc_runtime_version(),
         qcc_runtime_artifact_format_version());
  status = qcc_model_load(argv[1], NULL, &model);
  if (status)
    return report(status);

  numInputs = qcc_model_num_inputs(model);
  numOutputs = qcc_model_num_outputs(model);
  inputs = (qcc_tensor *)calloc(numInputs + 1, sizeof(qcc_tensor));
  outputs = (qcc_tensor *)calloc(numOutputs + 1, sizeof(qcc_tensor));
  if (!inputs || !outputs)
    goto done;

  printf("model %s, target '%s', %u threads\n", argv[1],
         qcc_model_target_name(model), qcc_model_num_threads(model));
  for (i = 0; i < numInputs + numOutputs; ++i) {
    int isInput = i < numInputs;
    size_t index = isInput ? i : i - numInputs;
    qcc_tensor_info info;
    status = isInput ? qcc_model_input_info(model, index, &info)
                     : qcc_model_output_info(model, index, &info);
    if (!status)
      status = qcc_tensor_allocate(info.dtype, info.rank, info.dims,
                                   isInput ? &inputs[index] : &outputs[index]);
    if (status) {
      report(status);
      goto done;
    }
    printf("  %s %s: %s ", isInput ? "input " : "output", info.name,
           qcc_dtype_name(info.dtype));
    printDims(info.dims, info.rank);
    printf("\n");
    if (isInput)
      fillTensor(&inputs[index]);
  }

  status = qcc_model_run(model, inputs, numInputs, outputs, numOutputs);
  if (status) {
    report(status);
    goto done;
  }
  for (i = 0; i < numOutputs; ++i) {
    qcc_tensor_info info;
    qcc_status_free(qcc_model_output_info(model, i, &info));
    printf("%s = ", info.name);
    printValues(&outputs[i]);
  }
  exitCode = 0;

done:
  for (i = 0; inputs && i < numInputs; ++i)
    qcc_tensor_free_data(&inputs[i]);
  for (i = 0; outputs && i < numOutputs; ++i)
    qcc_tensor_free_data(&outputs[i]);
  free(inputs);
  free(outputs);
  qcc_model_release(model);
  return exitCode;
}
