//===- ThreadPoolTest.cpp - ThreadPool region semantics --------------------===//

#include "ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

TEST(ThreadPoolTest, ConcurrentCallersAndResize) {
  ThreadPool pool(3);
  std::atomic<bool> failed{false};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int round = 0; round < 300; ++round) {
        Counts counts(50);
        pool.parallelFor(50, &Counts::task, &counts);
        if (!counts.eachOnce())
          failed = true;
      }
    });
  for (unsigned threads : {1u, 4u, 2u}) {
    EXPECT_TRUE(pool.setNumThreads(threads));
    EXPECT_EQ(pool.getNumThreads(), threads);
  }
  for (std::thread &c : callers)
    c.join();
  EXPECT_FALSE(failed.load());
}

} // namespace
