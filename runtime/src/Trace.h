//===- Trace.h - Optional timeline of a model's runs and regions -*- C++ -*-===//
//
// Set QCC_TRACE=FILE to record, for every model loaded in the process, the
// wall-clock span of each qcc_model_run, of each parallel_for region (with
// the outlined function it runs and its index count) and of each index on
// the thread that ran it. The trace is written when the model is freed: the
// first model written in a process truncates FILE, later ones append. Off
// (no QCC_TRACE) the pool holds a null Trace and pays one pointer test per
// region and per index. bench/trace_report.py reads the file.
//
// File format, one event per line, times in ns since the trace began:
//   pool 0 - THREADS T T                 (the pool's thread count from T on)
//   run  SLOT - 0 START END
//   region SLOT FUNCTION N START END     (N indices on the pool)
//   inline SLOT FUNCTION N START END     (ran on the caller: nested, busy
//                                         pool, one index or no workers)
//   index SLOT FUNCTION I START END
// SLOT is 0 for the thread that called parallel_for (or qcc_model_run) and
// 1 + w for worker w. FUNCTION is the symbol of the outlined function when
// the dynamic loader knows it, else `LIBRARY+0xOFFSET`.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_TRACE_H
#define QCC_RUNTIME_SRC_TRACE_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace qcc {
namespace runtime {

class Trace {
public:
  enum class Kind : uint8_t { Pool, Run, Region, Inline, Index };

  /// A trace writing to $QCC_TRACE, or null when the variable is unset or
  /// empty.
  static std::unique_ptr<Trace> fromEnvironment(unsigned maxSlots);

  Trace(std::string path, unsigned maxSlots);
  /// Writes the file (errors go to stderr as one line; the model's own work
  /// is not affected).
  ~Trace();

  Trace(const Trace &) = delete;
  Trace &operator=(const Trace &) = delete;

  /// Nanoseconds since the trace began.
  int64_t now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now() - origin)
        .count();
  }

  void record(Kind kind, unsigned slot, const void *function, int64_t n,
              int64_t start, int64_t end);

  /// Writes the events recorded so far to `out`, ordered by start time;
  /// returns false on an I/O error.
  bool write(std::FILE *out);

private:
  struct Event {
    const void *function;
    int64_t n;
    int64_t start;
    int64_t end;
    Kind kind;
  };
  struct Slot {
    std::mutex mutex;
    std::vector<Event> events;
  };

  std::string path;
  std::chrono::steady_clock::time_point origin;
  std::vector<Slot> slots;
};

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_TRACE_H
