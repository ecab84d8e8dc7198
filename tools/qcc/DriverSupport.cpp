//===- DriverSupport.cpp - small helpers of the qcc driver ----------------===//

#include "DriverSupport.h"

#include "qcc/Target/Target.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace qcc {

int fail(const llvm::Twine &message) {
  llvm::errs() << "qcc: error: " << message << "\n";
  return 1;
}

void StageTimer::done(llvm::StringRef stage) {
  auto now = std::chrono::steady_clock::now();
  if (enabled)
    llvm::errs() << llvm::format(
        "qcc: %-12s %8.1f ms\n", stage.str().c_str(),
        std::chrono::duration<double, std::milli>(now - last).count());
  last = now;
}

bool parseInputShape(llvm::StringRef text, std::string &name,
                     std::vector<int64_t> &dims) {
  size_t colon = text.rfind(':');
  if (colon == llvm::StringRef::npos || colon == 0)
    return false;
  name = text.substr(0, colon).str();
  llvm::SmallVector<llvm::StringRef> parts;
  text.substr(colon + 1).split(parts, 'x');
  for (llvm::StringRef part : parts) {
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim <= 0)
      return false;
    dims.push_back(dim);
  }
  return !dims.empty();
}

std::optional<llvm::SmallVector<int64_t, 3>>
readTuning(llvm::ArrayRef<int64_t> list, llvm::StringRef flag,
           llvm::StringRef names, size_t count) {
  if (list.size() > count) {
    fail(flag + " takes at most " + llvm::Twine(count) + " numbers: " + names);
    return std::nullopt;
  }
  llvm::SmallVector<int64_t, 3> values(count, 0);
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] < 0) {
      fail(flag + " numbers must not be negative");
      return std::nullopt;
    }
    values[i] = list[i];
  }
  return values;
}

void printTargetList() {
  llvm::outs() << "Targets (-target=NAME):\n";
  llvm::outs() << llvm::format("  %-14s %s\n", "host",
                               "the best CPU target this machine runs");
  for (const TargetInfo &target : getAllTargets()) {
    std::string fast;
    for (int b : target.fastBits)
      fast += (fast.empty() ? "" : ",") + std::to_string(b);
    llvm::outs() << llvm::format("  %-14s %s; bits %s\n", target.name.c_str(),
                                 target.description.c_str(), fast.c_str());
  }
}

} // namespace qcc
