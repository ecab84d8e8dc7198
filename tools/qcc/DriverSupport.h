//===- DriverSupport.h - small helpers of the qcc driver --------*- C++ -*-===//
//
// Error printing, stage timing and the parsing of a few command-line values
// for tools/qcc/qcc.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_TOOLS_QCC_DRIVERSUPPORT_H
#define QCC_TOOLS_QCC_DRIVERSUPPORT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcc {

/// Prints `qcc: error: ...` and returns the exit code.
int fail(const llvm::Twine &message);

/// Prints the time since the previous stage on stderr when enabled (-v).
class StageTimer {
public:
  explicit StageTimer(bool enabled) : enabled(enabled) {}
  void done(llvm::StringRef stage);

private:
  bool enabled;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

/// Parses NAME:1x128 (the name may itself contain ':').
bool parseInputShape(llvm::StringRef text, std::string &name,
                     std::vector<int64_t> &dims);

/// Reads a GPU tuning list (--gpu-gemv, --gpu-wgmma): at most `count`
/// non-negative numbers, the missing ones 0 (automatic). Prints the error
/// (naming `flag` and the fields `names`) and returns nothing otherwise.
std::optional<llvm::SmallVector<int64_t, 3>>
readTuning(llvm::ArrayRef<int64_t> list, llvm::StringRef flag,
           llvm::StringRef names, size_t count);

/// Prints the targets -target accepts (--print-targets).
void printTargetList();

} // namespace qcc

#endif // QCC_TOOLS_QCC_DRIVERSUPPORT_H
