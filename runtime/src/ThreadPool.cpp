//===- ThreadPool.cpp - Persistent thread pool for compiled code ----------===//

#include "ThreadPool.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
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

/// The trace slot of this thread (ThreadPool::currentSlot).
static thread_local unsigned traceSlot = 0;

unsigned ThreadPool::currentSlot() { return traceSlot; }

int64_t ThreadPool::clockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool ThreadPool::spinWindowFromEnvironment(int64_t &us, std::string &error) {
  us = kDefaultSpinWindowUs;
  const char *text = std::getenv("QCC_SPIN_US");
  if (!text || !*text)
    return true;
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text, &end, 10);
  if (*text < '0' || *text > '9' || *end || errno || value > kMaxSpinWindowUs) {
    error = "QCC_SPIN_US must be a whole number of microseconds from 0 to " +
            std::to_string(kMaxSpinWindowUs) + ", got '" + text + "'";
    return false;
  }
  us = value;
  return true;
}

ThreadPool::ThreadPool(unsigned requested, int64_t spinWindowUs)
    : trace(Trace::fromEnvironment(maxThreads + 1)),
      spinWindowNs(std::max<int64_t>(0, spinWindowUs) * 1000) {
  setNumThreads(requested);
}

ThreadPool::~ThreadPool() {
  // No region may be in flight when the pool dies (the model's last
  // reference is gone), so the workers are idle.
  stopWorkers();
}

bool ThreadPool::startWorkers(unsigned count) {
  std::lock_guard<std::mutex> lock(mutex);
  stopping = false;
  stopRequested.store(false, std::memory_order_relaxed);
  for (unsigned i = 0; i < count; ++i) {
#if defined(__cpp_exceptions)
    // std::thread reports failure by throwing; keep the threads we got.
    try {
      workers.emplace_back(&ThreadPool::workerLoop, this, i + 1, generation);
    } catch (const std::system_error &) {
      return false;
    }
#else
    workers.emplace_back(&ThreadPool::workerLoop, this, i + 1, generation);
#endif
  }
  return true;
}

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
    stopRequested.store(true, std::memory_order_relaxed);
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
  if (trace) {
    int64_t now = trace->now();
    trace->record(Trace::Kind::Pool, 0, nullptr, workers.size() + 1, now, now);
  }
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
    int64_t i = regionBase + static_cast<int64_t>(index);
    if (Trace *t = trace.get()) {
      TaskFn fn = regionFn;
      int64_t start = t->now();
      fn(regionData, i);
      t->record(Trace::Kind::Index, traceSlot, reinterpret_cast<void *>(fn),
                i, start, t->now());
    } else {
      regionFn(regionData, i);
    }
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex);
      regionDone.notify_one();
    }
    word = work.load(std::memory_order_acquire);
  }
}

bool ThreadPool::spinForRegion(uint64_t seenGeneration) {
  // Models run regions back to back: watch for the next one before
  // sleeping, so that it does not pay a wake-up. For kIdleNs at least; while
  // a run is in flight up to kHotNs (a long serial stretch, or a caller that
  // forgot endRun, still lets the worker sleep); after a run until the spin
  // window since its end is over.
  constexpr int64_t kIdleNs = 50000, kHotNs = 5000000;
  int64_t start = clockNs();
  for (unsigned spin = 1;; ++spin) {
    uint64_t word = work.load(std::memory_order_relaxed);
    if (word >> 32 != static_cast<uint32_t>(seenGeneration) &&
        (word & kClosed) != kClosed)
      return true;
    if (stopRequested.load(std::memory_order_relaxed))
      return false;
    pause();
    // Read the clock every 16 pauses (0.1-2 us).
    if (spin % 16)
      continue;
    int64_t now = clockNs();
    if (now - start < kIdleNs)
      continue;
    if (activeRuns.load(std::memory_order_acquire) > 0) {
      if (now - start > kHotNs)
        return false;
    } else if (now - lastRunEnd.load(std::memory_order_relaxed) >
               spinWindowNs) {
      return false;
    }
    // Past the idle spin, offer the core now and then: when the machine
    // has more runnable threads than cores, the caller (or another
    // process) runs instead of a worker that has nothing to do.
    if (spin % 256 == 0)
      std::this_thread::yield();
  }
}

void ThreadPool::workerLoop(unsigned slot, uint64_t seenGeneration) {
  traceSlot = slot;
  for (;;) {
    spinningWorkers.fetch_add(1, std::memory_order_relaxed);
    spinForRegion(seenGeneration);
    spinningWorkers.fetch_sub(1, std::memory_order_relaxed);
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
    int64_t start = trace ? trace->now() : 0;
    for (int64_t i = 0; i < n; ++i)
      fn(data, i);
    if (trace)
      trace->record(Trace::Kind::Inline, traceSlot,
                    reinterpret_cast<void *>(fn), n, start, trace->now());
    return;
  }
  int64_t start = trace ? trace->now() : 0;
  // Regions of fewer than 2^32 - 1 indices (the claim word's index field).
  constexpr int64_t maxRegion = int64_t(1) << 31;
  for (int64_t base = 0; base < n; base += maxRegion)
    runRegion(base, std::min(maxRegion, n - base), fn, data);
  if (trace)
    trace->record(Trace::Kind::Region, traceSlot, reinterpret_cast<void *>(fn),
                  n, start, trace->now());
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
