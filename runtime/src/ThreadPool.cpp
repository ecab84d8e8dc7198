//===- ThreadPool.cpp - Persistent thread pool for compiled code ----------===//

#include "ThreadPool.h"

#include <algorithm>
#include <system_error>

namespace qcc {
namespace runtime {

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

void ThreadPool::runIndices() {
  for (;;) {
    int64_t index = nextIndex.fetch_add(1, std::memory_order_relaxed);
    if (index >= regionSize)
      return;
    regionFn(regionData, index);
  }
}

void ThreadPool::workerLoop(uint64_t seenGeneration) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      wakeWorkers.wait(
          lock, [&] { return stopping || generation != seenGeneration; });
      if (stopping)
        return;
      seenGeneration = generation;
    }
    runIndices();
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (--activeWorkers == 0)
        regionDone.notify_one();
    }
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
  {
    std::lock_guard<std::mutex> lock(mutex);
    regionFn = fn;
    regionData = data;
    regionSize = n;
    nextIndex.store(0, std::memory_order_relaxed);
    activeWorkers = static_cast<unsigned>(workers.size());
    ++generation;
  }
  wakeWorkers.notify_all();
  runIndices();
  {
    std::unique_lock<std::mutex> lock(mutex);
    regionDone.wait(lock, [&] { return activeWorkers == 0; });
    regionFn = nullptr;
    regionData = nullptr;
  }
  busy.store(false, std::memory_order_release);
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
