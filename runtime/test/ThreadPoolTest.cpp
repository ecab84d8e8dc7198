//===- ThreadPoolTest.cpp - ThreadPool region semantics --------------------===//

#include "ThreadPool.h"

#include "ArtifactWriter.h"
#include "qcc/qcc_runtime.h"

#include <gtest/gtest.h>

#include <ctime>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <set>
#include <string>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using qcc::runtime::ThreadPool;

namespace {

/// Counts how often each index of a region ran.
struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(int64_t n) : hits(static_cast<size_t>(n)) {}
  static void task(void *data, int64_t i) {
    static_cast<Counts *>(data)->hits[static_cast<size_t>(i)].fetch_add(1);
  }
  bool eachOnce() const {
    for (const auto &h : hits)
      if (h.load() != 1)
        return false;
    return true;
  }
};

TEST(ThreadPoolTest, EveryIndexRunsOnceOverManyRegions) {
  ThreadPool pool(4);
  ASSERT_EQ(pool.getNumThreads(), 4u);
  // Back-to-back regions of varying sizes: workers that wake late for one
  // region must not run indices of the next with the old task.
  for (int round = 0; round < 2000; ++round) {
    int64_t n = 1 + round % 37;
    Counts counts(n);
    pool.parallelFor(n, &Counts::task, &counts);
    ASSERT_TRUE(counts.eachOnce()) << "round " << round << " n " << n;
  }
}

/// A task whose indices take a while, so that workers hold indices when the
/// caller runs out of them.
struct Slow {
  std::atomic<int64_t> sum{0};
  static void task(void *data, int64_t i) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    static_cast<Slow *>(data)->sum.fetch_add(i + 1);
  }
};

TEST(ThreadPoolTest, ReturnsOnlyWhenWorkersFinished) {
  ThreadPool pool(3);
  for (int round = 0; round < 20; ++round) {
    Slow slow;
    pool.parallelFor(12, &Slow::task, &slow);
    // Every index's effect is visible when parallelFor returns.
    EXPECT_EQ(slow.sum.load(), 12 * 13 / 2);
  }
}

struct Nested {
  ThreadPool *pool;
  Counts inner{64 * 8};
  static void innerTask(void *data, int64_t i) { Counts::task(data, i); }
  static void task(void *data, int64_t i) {
    auto *self = static_cast<Nested *>(data);
    // A nested region runs on the calling thread (the pool is owned).
    struct Offset {
      Counts *counts;
      int64_t base;
    } offset{&self->inner, i * 8};
    self->pool->parallelFor(
        8,
        [](void *d, int64_t j) {
          auto *o = static_cast<Offset *>(d);
          Counts::task(o->counts, o->base + j);
        },
        &offset);
  }
};

TEST(ThreadPoolTest, NestedRegionsRunOnTheCaller) {
  ThreadPool pool(2);
  Nested nested;
  nested.pool = &pool;
  pool.parallelFor(64, &Nested::task, &nested);
  EXPECT_TRUE(nested.inner.eachOnce());
}

/// Runs `body` on `callers` threads while the pool is resized to each of
/// `sizes`; `body` returns false when a region missed or repeated an index.
template <typename Body>
void resizeUnderCallers(ThreadPool &pool, int callers,
                        std::initializer_list<unsigned> sizes, Body body) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < callers; ++t)
    threads.emplace_back([&] {
      if (!body())
        failed = true;
    });
  for (unsigned n : sizes) {
    EXPECT_TRUE(pool.setNumThreads(n));
    EXPECT_EQ(pool.getNumThreads(), n);
  }
  for (std::thread &t : threads)
    t.join();
  EXPECT_FALSE(failed.load());
}

TEST(ThreadPoolTest, ConcurrentCallersAndResize) {
  ThreadPool pool(3);
  resizeUnderCallers(pool, 3, {1u, 4u, 2u}, [&] {
    bool ok = true;
    for (int round = 0; round < 300; ++round) {
      Counts counts(50);
      pool.parallelFor(50, &Counts::task, &counts);
      ok &= counts.eachOnce();
    }
    return ok;
  });
}

/// Records which threads ran a region's indices.
struct Runners {
  std::vector<std::thread::id> ids;
  explicit Runners(int64_t n) : ids(static_cast<size_t>(n)) {}
  static void task(void *data, int64_t i) {
    // Long enough that a spinning worker claims some of the indices.
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (std::chrono::steady_clock::now() < until) {
    }
    static_cast<Runners *>(data)->ids[static_cast<size_t>(i)] =
        std::this_thread::get_id();
  }
};

TEST(ThreadPoolTest, RegionsInsideARunWithLongSerialGaps) {
  ThreadPool pool(2);
  pool.beginRun();
  // Serial stretches longer than the idle spin between regions: the workers
  // keep spinning (or sleep after the hot limit) and still serve every
  // region exactly once.
  bool workerRan = false;
  // At least 40 rounds; more (up to 400) while the worker has not run an
  // index yet: on a loaded machine it may not get a CPU for a while.
  for (int round = 0; round < 40 || (!workerRan && round < 400); ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(round % 4 ? 100 : 5000));
    Runners runners(16);
    pool.parallelFor(16, &Runners::task, &runners);
    for (std::thread::id id : runners.ids) {
      ASSERT_NE(id, std::thread::id());
      workerRan |= id != std::this_thread::get_id();
    }
  }
  pool.endRun();
  // Regions of 16 x 50 us: the worker joins some of them, whether it was
  // spinning or asleep when each opened.
  EXPECT_TRUE(workerRan);
}

TEST(ThreadPoolTest, OverlappingRunsAndResizeWhileHot) {
  ThreadPool pool(3);
  // Workers that spin in a run's hot window stop for a resize.
  resizeUnderCallers(pool, 2, {2u, 4u, 1u, 3u}, [&] {
    bool ok = true;
    for (int run = 0; run < 50; ++run) {
      pool.beginRun();
      for (int region = 0; region < 10; ++region) {
        Counts counts(1 + region * 7);
        pool.parallelFor(1 + region * 7, &Counts::task, &counts);
        ok &= counts.eachOnce();
      }
      pool.endRun();
    }
    return ok;
  });
}

TEST(ThreadPoolTest, DestroyedWhileARunIsMarked) {
  // A pool freed with a run still marked (a caller that never called
  // endRun) must still stop its spinning workers.
  auto pool = std::make_unique<ThreadPool>(4);
  pool->beginRun();
  Counts counts(8);
  pool->parallelFor(8, &Counts::task, &counts);
  EXPECT_TRUE(counts.eachOnce());
  pool.reset();
}

TEST(ThreadPoolTest, TraceRecordsRegionsAndIndices) {
  std::string path = ::testing::TempDir() + "qcc_threadpool_trace.txt";
  std::remove(path.c_str());
  ASSERT_EQ(::setenv("QCC_TRACE", path.c_str(), 1), 0);
  {
    ThreadPool pool(2);
    ::unsetenv("QCC_TRACE");
    ASSERT_NE(pool.getTrace(), nullptr);
    Counts counts(6);
    pool.parallelFor(6, &Counts::task, &counts);
    pool.parallelFor(1, &Counts::task, &counts);
    EXPECT_EQ(counts.hits[0].load(), 2);
  }
  std::FILE *file = std::fopen(path.c_str(), "r");
  ASSERT_NE(file, nullptr);
  int pools = 0, regions = 0, inlines = 0, indices = 0;
  std::set<unsigned> slots;
  char kind[16], function[256];
  unsigned slot;
  long long n, start, end;
  while (std::fscanf(file, "%15s %u %255s %lld %lld %lld", kind, &slot,
                     function, &n, &start, &end) == 6) {
    EXPECT_LE(start, end);
    std::string k = kind;
    pools += k == "pool";
    if (k == "region") {
      ++regions;
      EXPECT_EQ(n, 6);
    }
    inlines += k == "inline";
    if (k == "index") {
      ++indices;
      slots.insert(slot);
      EXPECT_GE(n, 0);
      EXPECT_LT(n, 6);
    }
  }
  std::fclose(file);
  std::remove(path.c_str());
  EXPECT_EQ(pools, 1);
  EXPECT_EQ(regions, 1);
  EXPECT_EQ(inlines, 1);
  EXPECT_EQ(indices, 6);
  for (unsigned s : slots)
    EXPECT_LT(s, 2u);
}

TEST(ThreadPoolTest, NoTraceWithoutTheVariable) {
  ::unsetenv("QCC_TRACE");
  ThreadPool pool(2);
  EXPECT_EQ(pool.getTrace(), nullptr);
}

/// Milliseconds of CPU this process uses while the calling thread sleeps
/// `ms` (what the pool's workers burn meanwhile).
double cpuMsWhileSleeping(int ms) {
  timespec a, b;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

/// One marked run of two regions.
void oneRun(ThreadPool &pool) {
  pool.beginRun();
  for (int region = 0; region < 2; ++region) {
    Counts counts(16);
    pool.parallelFor(16, &Counts::task, &counts);
    ASSERT_TRUE(counts.eachOnce());
  }
  pool.endRun();
}

/// Waits up to `ms` for the pool to have `count` spinning workers.
bool waitForSpinning(const ThreadPool &pool, unsigned count, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (pool.getSpinningWorkers() != count) {
    if (std::chrono::steady_clock::now() > end)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// The idle bound: 30 runs of these tests at a load of 6 on 2 CPUs used
// 0.07 ms or less of CPU in 100 ms once the pool slept. A worker that never
// went to sleep fails it; one that did not spin the window fails the
// spinning check (the worker only has to get a CPU once in 60 ms to count).
TEST(ThreadPoolTest, WorkersSpinForTheWindowAfterARunThenSleep) {
  ThreadPool pool(2, 300000); // 300 ms
  oneRun(pool);
  // Inside the window, long past the idle spin (50 us), the worker still
  // spins, waiting for the next run.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(waitForSpinning(pool, 1, 60));
  // Past it (and past the idle spin) it sleeps: no CPU.
  EXPECT_TRUE(waitForSpinning(pool, 0, 2000));
  EXPECT_LT(cpuMsWhileSleeping(100), 5.0);
}

TEST(ThreadPoolTest, NoSpinWindowSleepsRightAfterARun) {
  ThreadPool pool(2, 0);
  oneRun(pool);
  // Only the idle spin (tens of microseconds) follows the run.
  EXPECT_TRUE(waitForSpinning(pool, 0, 2000));
  EXPECT_LT(cpuMsWhileSleeping(100), 5.0);
}

TEST(ThreadPoolTest, DefaultWindowGoesIdleAndRunsStayCorrect) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.getSpinWindowNs(), ThreadPool::kDefaultSpinWindowUs * 1000);
  // Back-to-back runs, runs a little apart and resizes: every index once.
  for (int run = 0; run < 200; ++run) {
    oneRun(pool);
    if (run % 50 == 49)
      EXPECT_TRUE(pool.setNumThreads(2 + run % 3));
    if (run % 7 == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(400));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_LT(cpuMsWhileSleeping(100), 5.0);
}

TEST(ThreadPoolTest, DestroyedInsideTheSpinWindow) {
  auto pool = std::make_unique<ThreadPool>(4, ThreadPool::kMaxSpinWindowUs);
  oneRun(*pool);
  auto start = std::chrono::steady_clock::now();
  pool.reset(); // stops the spinning workers at once
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(50));
}

/// Sets QCC_SPIN_US (or unsets it for null) for one scope.
struct SpinEnv {
  explicit SpinEnv(const char *value) {
    if (value)
      ::setenv("QCC_SPIN_US", value, 1);
    else
      ::unsetenv("QCC_SPIN_US");
  }
  ~SpinEnv() { ::unsetenv("QCC_SPIN_US"); }
};

TEST(ThreadPoolTest, SpinWindowFromTheEnvironment) {
  int64_t us = -1;
  std::string error;
  for (const char *unset : {static_cast<const char *>(nullptr), ""}) {
    SpinEnv env(unset);
    EXPECT_TRUE(ThreadPool::spinWindowFromEnvironment(us, error));
    EXPECT_EQ(us, ThreadPool::kDefaultSpinWindowUs);
  }
  for (auto [text, value] : {std::pair<const char *, int64_t>{"0", 0},
                             {"250", 250},
                             {"100000", ThreadPool::kMaxSpinWindowUs}}) {
    SpinEnv env(text);
    EXPECT_TRUE(ThreadPool::spinWindowFromEnvironment(us, error)) << text;
    EXPECT_EQ(us, value);
  }
  for (const char *bad : {"abc", "-1", "12us", " 5", "100001",
                          "99999999999999999999999"}) {
    SpinEnv env(bad);
    error.clear();
    EXPECT_FALSE(ThreadPool::spinWindowFromEnvironment(us, error)) << bad;
    EXPECT_NE(error.find("QCC_SPIN_US"), std::string::npos);
    EXPECT_NE(error.find(bad), std::string::npos);
  }
}

TEST(ThreadPoolTest, ModelLoadRejectsABadSpinWindow) {
  std::string error;
  std::string prefix = qcc::test::writeArtifact(
      qcc::test::parallelModelDesc(QCC_FIXTURE_PARALLEL), ::testing::TempDir(),
      "qcc_threadpool_spin", error);
  ASSERT_FALSE(prefix.empty()) << error;
  qcc_load_options options;
  qcc_load_options_init(&options);
  options.num_threads = 2;
  {
    SpinEnv env("fast");
    qcc_model *model = nullptr;
    qcc_status status = qcc_model_load(prefix.c_str(), &options, &model);
    ASSERT_NE(status, nullptr);
    EXPECT_EQ(qcc_status_code(status), QCC_STATUS_INVALID_ARGUMENT);
    std::string message = qcc_status_message(status);
    qcc_status_free(status);
    EXPECT_NE(message.find("QCC_SPIN_US"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(model, nullptr);
  }
  SpinEnv env("0");
  qcc_model *model = nullptr;
  qcc_status status = qcc_model_load(prefix.c_str(), &options, &model);
  EXPECT_EQ(status, nullptr) << qcc_status_message(status);
  qcc_status_free(status);
  qcc_model_release(model);
  for (const char *ext : {".json", ".so", ".weights"})
    std::remove((prefix + ext).c_str());
}

} // namespace
