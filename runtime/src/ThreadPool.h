//===- ThreadPool.h - Persistent thread pool for compiled code --*- C++ -*-===//
//
// The pool behind `qcc_exec_context.parallel_for`. Workers persist for the
// life of the pool and sleep on a condition variable between regions. One
// parallel region runs at a time; a region requested while another is in
// flight (a concurrent qcc_model_run, or a nested parallel_for) runs on the
// calling thread, so the pool can never deadlock on itself.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_THREADPOOL_H
#define QCC_RUNTIME_SRC_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace qcc {
namespace runtime {

/// A fixed set of worker threads plus the calling thread.
class ThreadPool {
public:
  using TaskFn = void (*)(void *data, int64_t index);

  /// Requests above this many threads are clamped to it.
  static constexpr unsigned maxThreads = 1024;

  /// Creates a pool using `numThreads` threads including the caller
  /// (0 = all hardware threads, at most maxThreads).
  explicit ThreadPool(unsigned numThreads);
  ~ThreadPool();

  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Runs fn(data, i) for i in [0, n); returns when all calls are done.
  void parallelFor(int64_t n, TaskFn fn, void *data);

  /// Threads used, the caller included (>= 1).
  unsigned getNumThreads() const {
    return numThreads.load(std::memory_order_relaxed);
  }

  /// Restarts the workers with a new count; waits for a region in flight.
  /// Returns false when threads cannot be created (the pool then runs on
  /// the caller only).
  bool setNumThreads(unsigned numThreads);

  /// C entry point stored in qcc_exec_context.parallel_for.
  static void parallelForThunk(void *pool, int64_t n,
                               void (*fn)(void *data, int64_t index),
                               void *data);

  /// Hardware threads of this machine (>= 1).
  static unsigned hardwareThreads();

private:
  bool startWorkers(unsigned count);
  void stopWorkers();
  /// Serves regions newer than `seenGeneration` (the generation when the
  /// worker was created, so a region started before the thread first runs
  /// is not missed).
  void workerLoop(uint64_t seenGeneration);
  /// Takes indices of the current region until none are left.
  void runIndices();

  std::atomic<unsigned> numThreads{1};
  /// Set while a region (or a resize) owns the workers.
  std::atomic<bool> busy{false};

  std::mutex mutex;
  std::condition_variable wakeWorkers;
  std::condition_variable regionDone;
  std::vector<std::thread> workers;
  /// Incremented for every region; workers wake when it changes.
  uint64_t generation = 0;
  bool stopping = false;
  /// Workers still inside the current region.
  unsigned activeWorkers = 0;

  // The current region.
  TaskFn regionFn = nullptr;
  void *regionData = nullptr;
  int64_t regionSize = 0;
  std::atomic<int64_t> nextIndex{0};
};

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_THREADPOOL_H
