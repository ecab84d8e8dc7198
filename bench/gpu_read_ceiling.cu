// bench/gpu_read_ceiling.cu: how fast can ONE kernel read the bytes of a
// W4A16 GEMV from cold device memory? The ceiling for the GEMV kernel's time.
//
// Reads BYTES (default: the 8192x8192 int4 g128 GEMV's codes + f16 group
// parameters, 35,651,584 bytes) with several load strategies and folds them
// (so nothing is optimised away), each launch after an L2 flush (a read of
// 256 MiB, as bench/bench_gpu.py does). Two ways to run it on the GPU
// machine (build here: nvcc 13.0 is in /usr/local/cuda/bin):
//
//   nvcc -O3 -gencode=arch=compute_90a,code=sm_90a -o read_ceiling \
//        bench/gpu_read_ceiling.cu
//   ./read_ceiling [BYTES [REPS]]   (CUDA-event medians; or under ncu:
//        ncu --clock-control none --metrics gpu__time_duration.sum -k regex:read_)
//
//   nvcc -O3 -gencode=arch=compute_90a,code=sm_90a -DQCC_READ_CEILING_LIB \
//        -shared -Xcompiler -fPIC -o libreadceiling.so bench/gpu_read_ceiling.cu
//   bench/gpu_gemv.py profile DIR --runtime LIB --read-ceiling libreadceiling.so
//        (each variant over each case's bytes, timed like the artifacts:
//        CUPTI kernel time and CUDA-event call time)
//
// Variants (each thread's loads are 16 bytes, coalesced across its warp;
// the loads are volatile asm so that ptxas keeps the depth as written):
//   read_flat<U>:  one wave of as many 8-warp blocks as fit an SM; each
//                  thread issues U independent loads before folding them,
//                  grid-stride.
//   gemv S steps D: the GEMV kernel's mapping: blocks of 8 warps, a warp
//                  reads 2 KB per step (4 loads per lane) for S steps, D
//                  steps in flight ahead of the one folded (a run-time loop,
//                  as qcc's), plus 2 x 8 bytes of "group parameters" per
//                  step loaded with their step's codes or (params late, the
//                  kernel of session 7) at the step that uses them.
//   read_bulk<S>:  one (or two) blocks per SM stream a contiguous share
//                  through an S-stage ring of 32 KB cp.async.bulk copies
//                  (sm_90) completing on mbarriers; 8 warps fold.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(x)                                                               \
  do {                                                                         \
    cudaError_t err_ = (x);                                                    \
    if (err_ != cudaSuccess) {                                                 \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,                  \
                   cudaGetErrorString(err_));                                  \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

__device__ __forceinline__ unsigned fold(uint4 v) {
  return v.x ^ v.y ^ v.z ^ v.w;
}

// A 16-byte load that the compilers neither move nor merge (volatile asm
// keeps program order): the variants' loads stay in flight as written.
__device__ __forceinline__ uint4 ld16(const uint4 *p) {
  uint4 v;
  asm volatile("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ uint2 ld8(const uint2 *p) {
  uint2 v;
  asm volatile("ld.global.nc.v2.u32 {%0, %1}, [%2];"
               : "=r"(v.x), "=r"(v.y)
               : "l"(p));
  return v;
}

__global__ void flush_kernel(const uint4 *p, size_t n, unsigned *sink) {
  unsigned acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    uint4 v = p[i];
    acc ^= v.x ^ v.w;
  }
  if (acc == 0x12345678u)
    *sink = acc;
}

template <int U>
__global__ void __launch_bounds__(256, 1) read_flat(const uint4 *p, size_t n,
                                                 float *out) {
  unsigned acc = 0;
  size_t stride = size_t(gridDim.x) * blockDim.x;
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  for (; i + (U - 1) * stride < n; i += U * stride) {
    uint4 v[U];
#pragma unroll
    for (int u = 0; u < U; ++u)
      v[u] = ld16(p + i + u * stride);
#pragma unroll
    for (int u = 0; u < U; ++u)
      acc ^= fold(v[u]);
  }
  for (; i < n; i += stride)
    acc ^= fold(ld16(p + i));
  if (acc == 0x9e3779b9u)
    out[blockIdx.x] = float(acc);
}

// codes: 512 blocks x 8 warps x 8 KB; params: 2 MB, 2 x 8 bytes per lane
// group and step. D: steps of codes in flight ahead of the one computed; P:
// the params travel with their step's codes (else they are loaded at the
// step that uses them, as in the kernel of session 7).
template <int D, bool P>
__global__ void __launch_bounds__(256, 1) read_gemv(const uint4 *codes,
                                                    const uint2 *params,
                                                    int steps, float *out) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const uint4 *base = codes + (size_t(blockIdx.x) * 8 + warp) * 128 * steps;
  const uint2 *pb = params + (size_t(blockIdx.x) * 8 + warp) * 16 * steps;
  // A run-time loop (as qcc's scf.for) with the ring carried in registers:
  // ptxas cannot hoist a later iteration's loads, so D is the real depth.
  uint4 ring[D][4];
  uint2 pr[D][2];
  unsigned acc = 0;
#pragma unroll
  for (int d = 0; d < D; ++d) {
#pragma unroll
    for (int u = 0; u < 4; ++u)
      ring[d][u] = ld16(base + (d * 4 + u) * 32 + lane);
    if (P) {
      pr[d][0] = ld8(pb + d * 16 + (lane >> 2));
      pr[d][1] = ld8(pb + d * 16 + 8 + (lane >> 2));
    }
  }
#pragma unroll 1
  for (int s = 0; s < steps; ++s) {
    uint4 cur[4];
    uint2 cp[2];
#pragma unroll
    for (int u = 0; u < 4; ++u)
      cur[u] = ring[0][u];
    cp[0] = pr[0][0];
    cp[1] = pr[0][1];
#pragma unroll
    for (int d = 0; d + 1 < D; ++d) {
#pragma unroll
      for (int u = 0; u < 4; ++u)
        ring[d][u] = ring[d + 1][u];
      pr[d][0] = pr[d + 1][0];
      pr[d][1] = pr[d + 1][1];
    }
    int next = min(s + D, steps - 1); // the last steps reload their own
#pragma unroll
    for (int u = 0; u < 4; ++u)
      ring[D - 1][u] = ld16(base + (next * 4 + u) * 32 + lane);
    if (P) {
      pr[D - 1][0] = ld8(pb + next * 16 + (lane >> 2));
      pr[D - 1][1] = ld8(pb + next * 16 + 8 + (lane >> 2));
    } else {
      cp[0] = ld8(pb + s * 16 + (lane >> 2));
      cp[1] = ld8(pb + s * 16 + 8 + (lane >> 2));
    }
#pragma unroll
    for (int u = 0; u < 4; ++u)
      acc ^= fold(cur[u]);
    acc ^= cp[0].x ^ cp[1].y;
  }
  if (acc == 0x9e3779b9u)
    out[blockIdx.x] = float(acc);
}

__device__ __forceinline__ unsigned smem(const void *p) {
  return unsigned(__cvta_generic_to_shared(p));
}

template <int S>
__global__ void __launch_bounds__(256, 1) read_bulk(const char *p, size_t n,
                                                    float *out) {
  constexpr unsigned kChunk = 32768;
  extern __shared__ __align__(128) char ring[];
  __shared__ __align__(8) unsigned long long full[S];
  // This block's contiguous share, in whole chunks (the last block takes
  // the rest; n is a multiple of kChunk here).
  size_t chunks = n / kChunk;
  size_t c0 = chunks * blockIdx.x / gridDim.x,
         c1 = chunks * (blockIdx.x + 1) / gridDim.x;
  if (threadIdx.x == 0) {
    for (int s = 0; s < S; ++s)
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem(&full[s])));
    asm volatile("fence.mbarrier_init.release.cluster;");
    asm volatile("fence.proxy.async.shared::cta;");
  }
  __syncthreads();
  auto issue = [&](size_t c) {
    int s = int((c - c0) % S);
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(
                     smem(&full[s])),
                 "r"(kChunk));
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::"
                 "bytes [%0], [%1], %2, [%3];" ::"r"(smem(ring + s * kChunk)),
                 "l"(p + c * kChunk), "r"(kChunk), "r"(smem(&full[s]))
                 : "memory");
  };
  if (threadIdx.x == 0)
    for (size_t c = c0; c < c1 && c < c0 + S; ++c)
      issue(c);
  unsigned acc = 0;
  for (size_t c = c0; c < c1; ++c) {
    int s = int((c - c0) % S);
    unsigned parity = unsigned(((c - c0) / S) & 1);
    unsigned done = 0;
    while (!done)
      asm volatile("{ .reg .pred q; mbarrier.try_wait.parity.shared::cta.b64 q, "
                   "[%1], %2; selp.u32 %0, 1, 0, q; }"
                   : "=r"(done)
                   : "r"(smem(&full[s])), "r"(parity)
                   : "memory");
    const uint4 *v = reinterpret_cast<const uint4 *>(ring + s * kChunk);
#pragma unroll
    for (int j = 0; j < int(kChunk / 16 / 256); ++j)
      acc ^= fold(v[j * 256 + threadIdx.x]);
    __syncthreads(); // the stage is read: refill it
    if (threadIdx.x == 0 && c + S < c1)
      issue(c + S);
  }
  if (acc == 0x9e3779b9u)
    out[blockIdx.x] = float(acc);
}

// The variants, for the standalone timing below and for a shared library
// (-DQCC_READ_CEILING_LIB -shared) that bench/gpu_gemv.py profile
// --read-ceiling loads to time them like the artifacts (CUPTI kernel time).
constexpr int kVariants = 11;
const char *const kNames[kVariants] = {
    "read_flat<4>", "read_flat<8>", "read_flat<16>",
    "gemv 4 steps D1, params late (s7)", "gemv 4 steps D1, params ahead",
    "gemv 4 steps D2", "gemv 8 steps D2", "gemv 8 steps D3",
    "gemv 8 steps D1", "read_bulk<6> 1 blk/SM 192 KB",
    "read_bulk<3> 2 blk/SM 96 KB"};

// Reads `bytes` (a multiple of 32 KB) at `buf`; the gemv variants take the
// first 16/17 as codes (whole blocks of 8 warps x steps x 2 KB) and the
// rest as parameters. Returns the launch's error.
static cudaError_t launchVariant(int v, const char *buf, size_t bytes,
                                 float *out, cudaStream_t stream) {
  static int sms = 0, occ[3];
  if (!sms) {
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[0], read_flat<4>, 256, 0);
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[1], read_flat<8>, 256, 0);
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[2], read_flat<16>, 256, 0);
    cudaFuncSetAttribute(read_bulk<6>,
                         cudaFuncAttributeMaxDynamicSharedMemorySize, 6 * 32768);
    cudaFuncSetAttribute(read_bulk<3>,
                         cudaFuncAttributeMaxDynamicSharedMemorySize, 3 * 32768);
  }
  const uint4 *p16 = reinterpret_cast<const uint4 *>(buf);
  size_t n16 = bytes / 16;
  auto gemv = [&](auto kernel, int steps) {
    size_t perBlock = size_t(8) * steps * 2048;
    size_t blocks = bytes / 17 * 16 / perBlock;
    kernel<<<unsigned(blocks), 256, 0, stream>>>(
        p16, reinterpret_cast<const uint2 *>(buf + blocks * perBlock), steps,
        out);
  };
  switch (v) {
  case 0: read_flat<4><<<sms * occ[0], 256, 0, stream>>>(p16, n16, out); break;
  case 1: read_flat<8><<<sms * occ[1], 256, 0, stream>>>(p16, n16, out); break;
  case 2: read_flat<16><<<sms * occ[2], 256, 0, stream>>>(p16, n16, out); break;
  case 3: gemv(read_gemv<1, false>, 4); break;
  case 4: gemv(read_gemv<1, true>, 4); break;
  case 5: gemv(read_gemv<2, true>, 4); break;
  case 6: gemv(read_gemv<2, true>, 8); break;
  case 7: gemv(read_gemv<3, true>, 8); break;
  case 8: gemv(read_gemv<1, true>, 8); break;
  case 9: read_bulk<6><<<sms, 256, 6 * 32768, stream>>>(buf, bytes, out); break;
  case 10:
    read_bulk<3><<<2 * sms, 256, 3 * 32768, stream>>>(buf, bytes, out);
    break;
  default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

#ifdef QCC_READ_CEILING_LIB
extern "C" int qcc_read_ceiling_variants() { return kVariants; }
extern "C" const char *qcc_read_ceiling_name(int v) {
  return v >= 0 && v < kVariants ? kNames[v] : "";
}
extern "C" int qcc_read_ceiling_launch(int v, const void *buf, size_t bytes,
                                       void *out, void *stream) {
  return int(launchVariant(v, static_cast<const char *>(buf), bytes / 32768 * 32768,
                           static_cast<float *>(out),
                           static_cast<cudaStream_t>(stream)));
}
#else
int main(int argc, char **argv) {
  size_t bytes = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 35651584;
  int reps = argc > 2 ? std::atoi(argv[2]) : 30;
  bytes = bytes / 32768 * 32768;
  char *buf;
  float *out;
  uint4 *flush;
  unsigned *sink;
  const size_t flushBytes = size_t(256) << 20;
  CHECK(cudaMalloc(&buf, bytes));
  CHECK(cudaMalloc(&out, 65536 * sizeof(float)));
  CHECK(cudaMalloc(&flush, flushBytes));
  CHECK(cudaMalloc(&sink, 4));
  // Not zeros (METHOD.md): a fixed non-zero pattern.
  CHECK(cudaMemset(buf, 0x5a, bytes));
  CHECK(cudaMemset(flush, 1, flushBytes));
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  std::vector<std::vector<float>> ms(kVariants);
  for (int rep = 0; rep < reps + 2; ++rep)
    for (int v = 0; v < kVariants; ++v) {
      flush_kernel<<<1056, 512>>>(flush, flushBytes / 16, sink);
      CHECK(cudaEventRecord(e0));
      CHECK(launchVariant(v, buf, bytes, out, 0));
      CHECK(cudaEventRecord(e1));
      CHECK(cudaEventSynchronize(e1));
      float t;
      CHECK(cudaEventElapsedTime(&t, e0, e1));
      if (rep >= 2)
        ms[v].push_back(t);
    }
  std::printf("%zu bytes, median of %d event-timed calls after a 256 MiB "
              "read flush\n",
              bytes, reps);
  for (int v = 0; v < kVariants; ++v) {
    std::sort(ms[v].begin(), ms[v].end());
    float med = ms[v][ms[v].size() / 2];
    std::printf("%-36s %7.2f us  %6.0f GB/s\n", kNames[v], med * 1e3,
                bytes / (med * 1e-3) / 1e9);
  }
  return 0;
}
#endif
