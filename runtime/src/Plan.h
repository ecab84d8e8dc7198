//===- Plan.h - The launch plan of a GPU artifact ---------------*- C++ -*-===//
//
// Reads and checks model.plan.json (docs/ARTIFACT.md, "GPU artifacts"): the
// arena size, the kernel names and the command list. Validation is complete
// before any command can run: every region index, offset and byte count is
// checked against the arena, the weights and the manifest's I/O sizes, and
// every launch's arguments against the parameter list its PTX entry
// declares, so a tampered plan is refused instead of faulting the device or
// reading stray host memory.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_PLAN_H
#define QCC_RUNTIME_SRC_PLAN_H

#include "qcc/qcc_runtime.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qcc {
namespace runtime {

/// A device address named by the plan: a region plus a byte offset.
struct PlanPointer {
  enum class Region { Input, Output, Weights, Arena };
  Region region = Region::Arena;
  uint32_t index = 0; ///< input / output index (manifest order)
  uint64_t offset = 0;
};

/// One kernel argument.
struct PlanArg {
  enum class Kind { Pointer, I32, I64, F32 };
  Kind kind = Kind::I32;
  PlanPointer pointer;   ///< Kind::Pointer
  int64_t integer = 0;   ///< I32 / I64
  float real = 0;        ///< F32
};

/// One command of the plan.
struct PlanCommand {
  enum class Op { Launch, Copy, Memset };
  Op op = Op::Launch;
  // launch
  uint32_t kernel = 0;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t sharedBytes = 0;
  std::vector<PlanArg> args;
  // copy / memset
  PlanPointer dst, src;
  uint64_t bytes = 0;
  uint8_t value = 0;
};

/// A parsed, validated plan.
struct Plan {
  int64_t version = 0;
  uint64_t arenaBytes = 0;
  std::vector<std::string> kernels;
  std::vector<PlanCommand> commands;
  /// Per kernel, the largest shared_bytes any launch asks for.
  std::vector<uint32_t> maxSharedBytes;
};

/// The sizes a plan is checked against.
struct PlanBounds {
  uint64_t weightsBytes = 0;
  std::vector<uint64_t> inputBytes;
  std::vector<uint64_t> outputBytes;
};

/// Parameter sizes in bytes of each `.entry` of a PTX module, by name.
using PtxEntries = std::map<std::string, std::vector<uint32_t>>;

/// Reads the `.entry` declarations of PTX text. Returns false and sets
/// `error` when an entry's parameter list cannot be read.
bool parsePtxEntries(const std::string &ptx, PtxEntries &entries,
                     std::string &error);

/// Parses and validates plan `text` read from `path` (for messages) against
/// `bounds` and the module's `entries`. Returns NULL on success, else an
/// INVALID_ARGUMENT / UNIMPLEMENTED status with a one-line message
/// "invalid plan '<path>': <what>".
qcc_status parsePlan(const std::string &text, const std::string &path,
                     const PlanBounds &bounds, const PtxEntries &entries,
                     Plan &plan);

/// Largest arena the runtime accepts (1 TiB): guards size arithmetic.
constexpr uint64_t maxArenaBytes = uint64_t(1) << 40;

} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_PLAN_H
