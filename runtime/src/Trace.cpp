//===- Trace.cpp - Optional timeline of a model's runs and regions --------===//

#include "Trace.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace qcc {
namespace runtime {

std::unique_ptr<Trace> Trace::fromEnvironment(unsigned maxSlots) {
  const char *path = std::getenv("QCC_TRACE");
  if (!path || !*path)
    return nullptr;
  return std::unique_ptr<Trace>(new (std::nothrow) Trace(path, maxSlots));
}

Trace::Trace(std::string path, unsigned maxSlots)
    : path(std::move(path)), origin(std::chrono::steady_clock::now()),
      slots(maxSlots) {}

void Trace::record(Kind kind, unsigned slot, const void *function, int64_t n,
                   int64_t start, int64_t end) {
  if (slot >= slots.size())
    return;
  Slot &s = slots[slot];
  std::lock_guard<std::mutex> lock(s.mutex);
#if defined(__cpp_exceptions)
  try {
    s.events.push_back(Event{function, n, start, end, kind});
  } catch (const std::bad_alloc &) {
    // Out of memory: the trace loses the event, the model runs on.
  }
#else
  s.events.push_back(Event{function, n, start, end, kind});
#endif
}

/// Name of the function at `address`: its dynamic symbol, or the file of
/// the object that holds it plus the offset.
static std::string functionName(const void *address) {
  if (!address)
    return "-";
  Dl_info info;
  if (!::dladdr(address, &info))
    return "?";
  char buffer[64];
  if (info.dli_sname && info.dli_saddr == address)
    return info.dli_sname;
  const char *file = info.dli_fname ? info.dli_fname : "?";
  if (const char *slash = std::strrchr(file, '/'))
    file = slash + 1;
  std::snprintf(buffer, sizeof(buffer), "+0x%" PRIxPTR,
                reinterpret_cast<uintptr_t>(address) -
                    reinterpret_cast<uintptr_t>(info.dli_fbase));
  return std::string(file) + buffer;
}

bool Trace::write(std::FILE *out) {
  static const char *const kindNames[] = {"pool", "run", "region", "inline",
                                          "index"};
  struct Line {
    const Event *event;
    unsigned slot;
  };
  std::vector<Line> lines;
  std::vector<std::pair<const void *, std::string>> names;
  for (unsigned slot = 0; slot < slots.size(); ++slot) {
    std::lock_guard<std::mutex> lock(slots[slot].mutex);
    for (const Event &event : slots[slot].events)
      lines.push_back(Line{&event, slot});
  }
  std::sort(lines.begin(), lines.end(), [](const Line &a, const Line &b) {
    return a.event->start != b.event->start ? a.event->start < b.event->start
                                            : a.slot < b.slot;
  });
  for (const Line &line : lines) {
    const Event &e = *line.event;
    auto it = std::find_if(names.begin(), names.end(), [&](const auto &p) {
      return p.first == e.function;
    });
    if (it == names.end()) {
      names.emplace_back(e.function, functionName(e.function));
      it = names.end() - 1;
    }
    if (std::fprintf(out, "%s %u %s %" PRId64 " %" PRId64 " %" PRId64 "\n",
                     kindNames[static_cast<int>(e.kind)], line.slot,
                     it->second.c_str(), e.n, e.start, e.end) < 0)
      return false;
  }
  return true;
}

Trace::~Trace() {
  // The first trace of the process replaces the file, later ones append.
  static std::atomic<bool> written{false};
  bool append = written.exchange(true);
  std::FILE *out = std::fopen(path.c_str(), append ? "a" : "w");
  if (!out) {
    std::fprintf(stderr, "qcc runtime: cannot open QCC_TRACE file '%s'\n",
                 path.c_str());
    return;
  }
  bool ok = write(out);
  if (std::fclose(out) != 0 || !ok)
    std::fprintf(stderr, "qcc runtime: cannot write QCC_TRACE file '%s'\n",
                 path.c_str());
}

} // namespace runtime
} // namespace qcc
