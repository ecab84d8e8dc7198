/* machine_limits.c - this machine's limits for the quantized benchmark.
 *
 * Built and run by bench/bench_quant.py (clang -O2 -mavx512f -mavx512bw
 * -mavx512vnni -pthread). Prints one `name threads value` line per
 * measurement:
 *   dram_read_gbs T  read bandwidth of a buffer far larger than the caches
 *                    (AVX-512 loads summed, T threads on disjoint halves),
 *                    on 2 MiB pages where the kernel gives them
 *                    (MADV_HUGEPAGE): the weights a GEMV streams are a
 *                    mapped file, which Linux 6.x maps with large folios
 *                    (2 MiB, FilePmdMapped in /proc/meminfo), and on 4 KiB
 *                    pages one thread read about half as fast (page walks
 *                    every 4 KiB), below what the kernels reach;
 *   l3_read_gbs T    the same on a buffer that fits the L3 (16 MiB, read
 *                    repeatedly): the limit for weights that stay cached;
 *   vnni_gops T      vpdpbusd zmm throughput, 2 * 64 int8 ops per
 *                    instruction, 16 independent accumulators per thread.
 * Built without AVX-512 (clang -O2 -mavx2 -mfma -pthread, for AVX2 hosts),
 * the reads use ymm loads and the third line is instead
 *   madd_gops T      vpmaddwd + vpaddd ymm throughput, 2 * 16 ops per
 *                    pair (the AVX2 int8 kernels' inner step), 12
 *                    independent accumulators per thread (each pair
 *                    reads its accumulator, so no pair is loop-invariant).
 * Each value is the best of several timed repetitions (a limit, not a
 * typical run). Usage: machine_limits [max_threads] [dram_mib]
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

typedef struct {
  const char *base;
  size_t bytes;
  int passes;
  long iters;
  pthread_barrier_t *barrier;
  double seconds;
  long long sink;
} Job;

#ifdef __AVX512F__
static void *readJob(void *arg) {
  Job *job = arg;
  pthread_barrier_wait(job->barrier);
  double t0 = now();
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (int p = 0; p < job->passes; ++p)
    for (size_t i = 0; i < job->bytes; i += 256) {
      const char *q = job->base + i;
      a0 = _mm512_add_epi64(a0, _mm512_load_si512(q));
      a1 = _mm512_add_epi64(a1, _mm512_load_si512(q + 64));
      a2 = _mm512_add_epi64(a2, _mm512_load_si512(q + 128));
      a3 = _mm512_add_epi64(a3, _mm512_load_si512(q + 192));
    }
  job->seconds = now() - t0;
  a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
  job->sink = _mm512_reduce_add_epi64(a0);
  return NULL;
}

static void *vnniJob(void *arg) {
  Job *job = arg;
  __m512i w = _mm512_set1_epi32((int)job->sink), x = _mm512_set1_epi32(0x01020304);
  __m512i c[16];
  for (int j = 0; j < 16; ++j)
    c[j] = _mm512_set1_epi32(j);
  pthread_barrier_wait(job->barrier);
  double t0 = now();
  for (long i = 0; i < job->iters; ++i)
    for (int j = 0; j < 16; ++j)
      c[j] = _mm512_dpbusd_epi32(c[j], x, w);
  job->seconds = now() - t0;
  long long s = 0;
  for (int j = 0; j < 16; ++j)
    s += _mm512_reduce_add_epi32(c[j]);
  job->sink = s;
  return NULL;
}
#define OPS_NAME "vnni_gops"
#define OPS_PER_ITER (2.0 * 64 * 16)
#define opsJob vnniJob
#else
static void *readJob(void *arg) {
  Job *job = arg;
  pthread_barrier_wait(job->barrier);
  double t0 = now();
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int p = 0; p < job->passes; ++p)
    for (size_t i = 0; i < job->bytes; i += 256) {
      const char *q = job->base + i;
      a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)q));
      a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(q + 32)));
      a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(q + 64)));
      a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(q + 96)));
      a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(q + 128)));
      a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(q + 160)));
      a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(q + 192)));
      a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(q + 224)));
    }
  job->seconds = now() - t0;
  a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  long long lanes[4];
  _mm256_storeu_si256((__m256i *)lanes, a0);
  job->sink = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  return NULL;
}

static void *maddJob(void *arg) {
  Job *job = arg;
  __m256i x = _mm256_set1_epi32((int)job->sink);
  __m256i c[12];
  for (int j = 0; j < 12; ++j)
    c[j] = _mm256_set1_epi32(j);
  pthread_barrier_wait(job->barrier);
  double t0 = now();
  for (long i = 0; i < job->iters; ++i)
    for (int j = 0; j < 12; ++j)
      c[j] = _mm256_add_epi32(c[j], _mm256_madd_epi16(c[j], x));
  job->seconds = now() - t0;
  int lanes[8];
  long long s = 0;
  for (int j = 0; j < 12; ++j) {
    _mm256_storeu_si256((__m256i *)lanes, c[j]);
    s += lanes[0];
  }
  job->sink = s;
  return NULL;
}
#define OPS_NAME "madd_gops"
#define OPS_PER_ITER (2.0 * 16 * 12)
#define opsJob maddJob
#endif

/* Runs `fn` on `threads` threads; returns the slowest thread's seconds. */
static double runJobs(void *(*fn)(void *), Job *jobs, int threads) {
  pthread_t tid[64];
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, threads);
  for (int t = 0; t < threads; ++t) {
    jobs[t].barrier = &barrier;
    pthread_create(&tid[t], NULL, fn, &jobs[t]);
  }
  double worst = 0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(tid[t], NULL);
    if (jobs[t].seconds > worst)
      worst = jobs[t].seconds;
  }
  pthread_barrier_destroy(&barrier);
  return worst;
}

static double readGbs(const char *buf, size_t bytes, int passes, int threads,
                      int reps) {
  Job jobs[64];
  double best = 0;
  size_t share = bytes / threads / 256 * 256;
  for (int r = 0; r < reps; ++r) {
    memset(jobs, 0, sizeof(jobs));
    for (int t = 0; t < threads; ++t) {
      jobs[t].base = buf + t * share;
      jobs[t].bytes = share;
      jobs[t].passes = passes;
    }
    double s = runJobs(readJob, jobs, threads);
    double gbs = (double)share * threads * passes / s / 1e9;
    if (gbs > best)
      best = gbs;
  }
  return best;
}

int main(int argc, char **argv) {
  int maxThreads = argc > 1 ? atoi(argv[1]) : 2;
  size_t dramBytes = (size_t)(argc > 2 ? atoi(argv[2]) : 512) << 20;
  if (maxThreads < 1 || maxThreads > 64 || dramBytes < (64u << 20)) {
    fprintf(stderr, "machine_limits: error: usage: machine_limits "
                    "[threads 1-64] [dram MiB >= 64]\n");
    return 2;
  }
  size_t hugePage = 2u << 20;
  char *buf = aligned_alloc(hugePage, (dramBytes + hugePage - 1) / hugePage * hugePage);
  if (!buf) {
    fprintf(stderr, "machine_limits: error: cannot allocate %zu MiB\n",
            dramBytes >> 20);
    return 1;
  }
  // A hint: without transparent huge pages the buffer stays on 4 KiB pages.
  (void)madvise(buf, dramBytes, MADV_HUGEPAGE);
  for (size_t i = 0; i < dramBytes; ++i)
    buf[i] = (char)(i * 7);
  for (int t = 1; t <= maxThreads; ++t) {
    printf("dram_read_gbs %d %.1f\n", t, readGbs(buf, dramBytes, 1, t, 5));
    size_t l3 = 16u << 20;
    printf("l3_read_gbs %d %.1f\n", t, readGbs(buf, l3, 8, t, 5));
    Job jobs[64];
    double best = 0;
    for (int r = 0; r < 5; ++r) {
      memset(jobs, 0, sizeof(jobs));
      for (int k = 0; k < t; ++k) {
        jobs[k].iters = 2000000;
        jobs[k].sink = 0x7f7f7f7f;
      }
      double s = runJobs(opsJob, jobs, t);
      double gops = OPS_PER_ITER * jobs[0].iters * t / s / 1e9;
      if (gops > best)
        best = gops;
    }
    printf(OPS_NAME " %d %.0f\n", t, best);
    fflush(stdout);
  }
  free(buf);
  return 0;
}
