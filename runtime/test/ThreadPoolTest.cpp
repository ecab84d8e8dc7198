//===- ThreadPoolTest.cpp - ThreadPool region semantics --------------------===//

#include "ThreadPool.h"

#include <gtest/gtest.h>

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
  for (int round = 0; round < 40; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(round % 4 ? 100 : 5000));
    Runners runners(16);
    pool.parallelFor(16, &Runners::task, &runners);
    for (std::thread::id id : runners.ids) {
      ASSERT_NE(id, std::thread::id());
      workerRan |= id != std::this_thread::get_id();
    }
  }
  pool.endRun();
  // 40 regions of 16 x 50 us: the worker joins some of them, whether it
  // was spinning or asleep when each opened.
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

} // namespace
