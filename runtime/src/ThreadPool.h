//===- ThreadPool.h - Persistent thread pool for compiled code --*- C++ -*-===//
//
// The pool behind `qcc_exec_context.parallel_for`. Workers persist for the
// life of the pool. Between regions a worker spins (with the CPU's pause
// hint) watching for the next one: for a few tens of microseconds, while a
// model run is in flight (beginRun/endRun) for as long as the run lasts (at
// most a few milliseconds without a region), since a forward pass opens
// hundreds of regions back to back and a sleeping worker joins each one late
// by a wake-up, and after a run for the spin window (QCC_SPIN_US, default
// kDefaultSpinWindowUs), so that back-to-back runs find it awake too. Spin
// times are read from a clock, not counted in pauses (a pause takes 5 to
// 150 cycles depending on the CPU). Otherwise it sleeps on a condition
// variable, using no CPU. One
// parallel region runs at a time; a region requested while another is in
// flight (a concurrent qcc_model_run, or a nested parallel_for) runs on the
// calling thread, so the pool can never deadlock on itself.
//
// A region ends when its last index has run, not when every worker has
// checked in: a worker that the OS wakes late (another process holds its
// core) finds the region closed and goes back to sleep, and the caller, who
// took the indices meanwhile, does not wait for it. Indices are claimed by
// compare-and-swap on one word holding the region's serial number and the
// next index, so a late worker can never claim an index of a region it did
// not read the task of.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_THREADPOOL_H
#define QCC_RUNTIME_SRC_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "Trace.h"

namespace qcc {
namespace runtime {

/// A fixed set of worker threads plus the calling thread.
class ThreadPool {
public:
  using TaskFn = void (*)(void *data, int64_t index);

  /// Requests above this many threads are clamped to it.
  static constexpr unsigned maxThreads = 1024;

  /// The default post-run spin window, in microseconds.
  static constexpr int64_t kDefaultSpinWindowUs = 1000;
  /// Largest accepted spin window (0.1 s).
  static constexpr int64_t kMaxSpinWindowUs = 100000;

  /// Creates a pool using `numThreads` threads including the caller
  /// (0 = all hardware threads, at most maxThreads). After each run the
  /// workers spin for `spinWindowUs` microseconds before sleeping.
  explicit ThreadPool(unsigned numThreads,
                      int64_t spinWindowUs = kDefaultSpinWindowUs);

  /// Reads QCC_SPIN_US (decimal microseconds, 0..kMaxSpinWindowUs) into
  /// `us`, or kDefaultSpinWindowUs when it is unset or empty. Returns false,
  /// with a one-line message in `error`, when it is malformed.
  static bool spinWindowFromEnvironment(int64_t &us, std::string &error);
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

  /// Marks a model run in flight: until the matching endRun, idle workers
  /// keep spinning for the next region instead of sleeping. Runs may nest
  /// and overlap (a count).
  void beginRun() { activeRuns.fetch_add(1, std::memory_order_relaxed); }
  /// Ends a run; idle workers keep spinning for the spin window after it.
  void endRun() {
    lastRunEnd.store(clockNs(), std::memory_order_relaxed);
    activeRuns.fetch_sub(1, std::memory_order_release);
  }

  /// The post-run spin window in nanoseconds.
  int64_t getSpinWindowNs() const { return spinWindowNs; }

  /// Workers spinning for the next region right now (the others run
  /// indices or sleep).
  unsigned getSpinningWorkers() const {
    return spinningWorkers.load(std::memory_order_relaxed);
  }

  /// C entry point stored in qcc_exec_context.parallel_for.
  static void parallelForThunk(void *pool, int64_t n,
                               void (*fn)(void *data, int64_t index),
                               void *data);

  /// Hardware threads of this machine (>= 1).
  static unsigned hardwareThreads();

  /// The QCC_TRACE recorder (Trace.h), or null when tracing is off.
  Trace *getTrace() const { return trace.get(); }
  /// The trace slot of the calling thread: 1 + w on worker w, else 0.
  static unsigned currentSlot();

private:
  /// A monotonic clock in nanoseconds (cheap: the vDSO).
  static int64_t clockNs();
  /// Spins until a region newer than `seenGeneration` opens (true) or the
  /// spin is over (false: the worker should sleep).
  bool spinForRegion(uint64_t seenGeneration);
  bool startWorkers(unsigned count);
  void stopWorkers();
  /// Serves regions newer than `seenGeneration` (the generation when the
  /// worker was created, so a region started before the thread first runs
  /// is not missed).
  void workerLoop(unsigned slot, uint64_t seenGeneration);
  /// Runs indices of region `serial` until none are left (or another
  /// region is current).
  void runIndices(uint32_t serial);
  /// Runs fn(data, base + i) for i in [0, size) on the caller and the
  /// workers; the caller owns the pool.
  void runRegion(int64_t base, int64_t size, TaskFn fn, void *data);

  /// Created before the workers, destroyed after them.
  std::unique_ptr<Trace> trace;
  std::atomic<unsigned> numThreads{1};
  /// Model runs in flight (beginRun/endRun).
  std::atomic<int> activeRuns{0};
  /// clockNs() when the last run ended (endRun).
  std::atomic<int64_t> lastRunEnd{INT64_MIN / 2};
  /// How long idle workers spin after a run.
  const int64_t spinWindowNs;
  /// Workers inside spinForRegion.
  std::atomic<unsigned> spinningWorkers{0};
  /// Mirrors `stopping` for spinning workers, which do not hold the mutex.
  std::atomic<bool> stopRequested{false};
  /// Set while a region (or a resize) owns the workers.
  std::atomic<bool> busy{false};

  std::mutex mutex;
  std::condition_variable wakeWorkers;
  std::condition_variable regionDone;
  std::vector<std::thread> workers;
  /// Incremented for every region; workers wake when it changes.
  uint64_t generation = 0;
  bool stopping = false;
  // The current region: its task, written by the caller before the region
  // opens and read only by a thread holding one of its unfinished indices.
  TaskFn regionFn = nullptr;
  void *regionData = nullptr;
  int64_t regionBase = 0;
  std::atomic<int64_t> regionSize{0};
  /// (serial number of the region) << 32 | next index to claim; an index
  /// of kClosed means no region is open.
  std::atomic<uint64_t> work{kClosed};
  static constexpr uint64_t kClosed = 0xffffffffu;
  /// Indices of the current region not finished yet.
  std::atomic<int64_t> pending{0};
};

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_THREADPOOL_H
