//===- ThreadPool.cpp - Persistent thread pool for compiled code ----------===//

#include "ThreadPool.h"

#include <algorithm>
#include <system_error>

namespace qcc {
namespace runtime {

/// A spin-wait hint to the CPU.
static inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

unsigned ThreadPool::hardwareThreads() {
  unsigned count = std::thread::hardware_concurrency();
  return count ? count : 1;
}

ThreadPool::ThreadPool(unsigned requested) { setNumThreads(requested); }

ThreadPool::~ThreadPool() {
  // No region may be in flight when the pool dies (the model's last
  // reference is gone), so the workers are idle.
  stopWorkers();
}

bool ThreadPool::startWorkers(unsigned count) {
  std::lock_guard<std::mutex> lock(mutex);
  stopping = false;
  for (unsigned i = 0; i < count; ++i) {
#if defined(__cpp_exceptions)
    // std::thread reports failure by throwing; keep the threads we got.
    try {
      workers.emplace_back(&ThreadPool::workerLoop, this, generation);
    } catch (const std::system_error &) {
      return false;
    }
#else
    workers.emplace_back(&ThreadPool::workerLoop, this, generation);
#endif
  }
  return true;
}

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wakeWorkers.notify_all();
  for (std::thread &worker : workers)
    worker.join();
  workers.clear();
}

bool ThreadPool::setNumThreads(unsigned requested) {
  unsigned count = requested ? requested : hardwareThreads();
  count = std::min(count, maxThreads);
  // Own the pool: wait until no region is in flight.
  bool expected = false;
  while (
      !busy.compare_exchange_weak(expected, true, std::memory_order_acquire)) {
    expected = false;
    std::this_thread::yield();
  }
  stopWorkers();
  bool started = startWorkers(count - 1);
  numThreads.store(static_cast<unsigned>(workers.size()) + 1,
                   std::memory_order_relaxed);
  busy.store(false, std::memory_order_release);
  return started;
}

void ThreadPool::runIndices(uint32_t serial) {
  uint64_t word = work.load(std::memory_order_acquire);
  for (;;) {
    if (word >> 32 != serial)
      return;
    uint64_t index = word & kClosed;
    // A stale size only matters for a claim whose CAS fails: the caller
    // closes the region (changing `work`) before writing the next one.
    if (index >= kClosed ||
        static_cast<int64_t>(index) >=
            regionSize.load(std::memory_order_relaxed))
      return;
    if (!work.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                    std::memory_order_acquire))
      continue;
    // The index is ours: the region cannot end, so its task stays valid.
    regionFn(regionData, regionBase + static_cast<int64_t>(index));
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex);
      regionDone.notify_one();
    }
    word = work.load(std::memory_order_acquire);
  }
}

void ThreadPool::workerLoop(uint64_t seenGeneration) {
  for (;;) {
    // Models run regions back to back: watch for the next one for a few
    // tens of microseconds before sleeping, so that it does not pay a wake.
    for (int spin = 0; spin < 2048; ++spin) {
      uint64_t word = work.load(std::memory_order_relaxed);
      if (word >> 32 != static_cast<uint32_t>(seenGeneration) &&
          (word & kClosed) != kClosed)
        break;
      pause();
    }
    {
      std::unique_lock<std::mutex> lock(mutex);
      wakeWorkers.wait(
          lock, [&] { return stopping || generation != seenGeneration; });
      if (stopping)
        return;
      seenGeneration = generation;
    }
    runIndices(static_cast<uint32_t>(seenGeneration));
  }
}

void ThreadPool::parallelFor(int64_t n, TaskFn fn, void *data) {
  if (n <= 0)
    return;
  bool expected = false;
  bool owned = n > 1 && busy.compare_exchange_strong(expected, true,
                                                     std::memory_order_acquire);
  if (owned && workers.empty()) {
    busy.store(false, std::memory_order_release);
    owned = false;
  }
  if (!owned) {
    // Single item, no workers, or the pool is in use by another run or by
    // the region this call is nested in: run here.
    for (int64_t i = 0; i < n; ++i)
      fn(data, i);
    return;
  }
  // Regions of fewer than 2^32 - 1 indices (the claim word's index field).
  constexpr int64_t maxRegion = int64_t(1) << 31;
  for (int64_t base = 0; base < n; base += maxRegion)
    runRegion(base, std::min(maxRegion, n - base), fn, data);
  busy.store(false, std::memory_order_release);
}

void ThreadPool::runRegion(int64_t base, int64_t size, TaskFn fn, void *data) {
  uint32_t serial;
  {
    std::lock_guard<std::mutex> lock(mutex);
    regionFn = fn;
    regionData = data;
    regionBase = base;
    regionSize.store(size, std::memory_order_relaxed);
    pending.store(size, std::memory_order_relaxed);
    ++generation;
    serial = static_cast<uint32_t>(generation);
    work.store(uint64_t(serial) << 32, std::memory_order_release);
  }
  wakeWorkers.notify_all();
  runIndices(serial);
  // Wait for indices that workers still run; a short spin first, since the
  // last ones usually finish within microseconds of the caller's.
  for (int spin = 0; spin < 4096; ++spin) {
    if (pending.load(std::memory_order_acquire) == 0)
      break;
    pause();
  }
  if (pending.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lock(mutex);
    regionDone.wait(
        lock, [&] { return pending.load(std::memory_order_acquire) == 0; });
  }
  // Close the region before its task goes stale: a worker waking now sees
  // no index to claim.
  work.store(uint64_t(serial) << 32 | kClosed, std::memory_order_release);
}

void ThreadPool::parallelForThunk(void *pool, int64_t n,
                                  void (*fn)(void *data, int64_t index),
                                  void *data) {
  if (!fn)
    return;
  if (!pool) {
    for (int64_t i = 0; i < n; ++i)
      fn(data, i);
    return;
  }
  static_cast<ThreadPool *>(pool)->parallelFor(n, fn, data);
}

} // namespace runtime
} // namespace qcc
