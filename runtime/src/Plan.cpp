//===- Plan.cpp - The launch plan of a GPU artifact -----------------------===//

#include "Plan.h"

#include "Json.h"
#include "Status.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

namespace qcc {
namespace runtime {

namespace {

//===----------------------------------------------------------------------===//
// PTX entry signatures
//===----------------------------------------------------------------------===//

/// PTX text without comments (line and block comments become spaces).
std::string stripComments(const std::string &ptx) {
  std::string text;
  text.reserve(ptx.size());
  for (size_t i = 0; i < ptx.size(); ++i) {
    if (ptx.compare(i, 2, "//") == 0) {
      while (i < ptx.size() && ptx[i] != '\n')
        ++i;
      text += '\n';
    } else if (ptx.compare(i, 2, "/*") == 0) {
      size_t end = ptx.find("*/", i + 2);
      i = end == std::string::npos ? ptx.size() : end + 1;
      text += ' ';
    } else {
      text += ptx[i];
    }
  }
  return text;
}

bool isIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         c == '%' || c == '.';
}

/// Size in bytes of a PTX fundamental type directive (".u32" -> 4), or 0.
uint32_t ptxTypeSize(const std::string &type) {
  if (type.size() < 3 || type[0] != '.')
    return 0;
  char kind = type[1];
  if (kind != 'u' && kind != 's' && kind != 'b' && kind != 'f')
    return 0;
  const std::string bits = type.substr(2);
  if (bits == "8")
    return 1;
  if (bits == "16")
    return 2;
  if (bits == "32")
    return 4;
  if (bits == "64")
    return 8;
  return 0;
}

/// Reads one parameter declaration (".param .u64 .ptr .align 8 name[2]").
bool parsePtxParam(const std::string &declaration, uint32_t &size,
                   std::string &error) {
  std::vector<std::string> tokens;
  std::string token;
  for (char c : declaration + " ") {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!token.empty())
        tokens.push_back(token);
      token.clear();
    } else {
      token += c;
    }
  }
  if (tokens.empty() || tokens[0] != ".param") {
    error = "parameter '" + declaration + "' does not start with .param";
    return false;
  }
  uint32_t elementSize = 0;
  for (size_t i = 1; i < tokens.size() && !elementSize; ++i)
    elementSize = ptxTypeSize(tokens[i]);
  if (!elementSize) {
    error = "parameter '" + declaration + "' has no scalar type";
    return false;
  }
  uint64_t count = 1;
  const std::string &name = tokens.back();
  size_t open = name.find('[');
  if (open != std::string::npos) {
    char *end = nullptr;
    unsigned long long parsed =
        std::strtoull(name.c_str() + open + 1, &end, 10);
    if (!end || *end != ']' || parsed == 0 || parsed > 65536) {
      error = "parameter '" + declaration + "' has a bad array size";
      return false;
    }
    count = parsed;
  }
  size = static_cast<uint32_t>(elementSize * count);
  return true;
}

//===----------------------------------------------------------------------===//
// JSON field access
//===----------------------------------------------------------------------===//

/// Collects the first error while reading the plan.
class Reader {
public:
  const std::string &error() const { return firstError; }
  bool ok() const { return firstError.empty(); }
  bool fail(const std::string &message) {
    if (firstError.empty())
      firstError = message;
    return false;
  }

  const json::Value *member(const json::Value &object, const char *key,
                            json::Value::Kind kind, const std::string &where,
                            bool required) {
    const json::Value *value = object.find(key);
    if (!value) {
      if (required)
        fail("missing field '" + where + key + "'");
      return nullptr;
    }
    if (value->getKind() != kind) {
      fail("field '" + where + key + "' must be " +
           (kind == json::Value::Kind::Array ? "an " : "a ") +
           json::Value::kindName(kind));
      return nullptr;
    }
    return value;
  }

  /// An integer member in [minimum, maximum].
  bool integer(const json::Value &object, const char *key,
               const std::string &where, int64_t minimum, int64_t maximum,
               bool required, int64_t &out) {
    const json::Value *value = object.find(key);
    if (!value) {
      if (required)
        return fail("missing field '" + where + key + "'");
      return true;
    }
    return integerValue(*value, where + key, minimum, maximum, out);
  }

  bool integerValue(const json::Value &value, const std::string &name,
                    int64_t minimum, int64_t maximum, int64_t &out) {
    if (!value.isInteger())
      return fail("field '" + name + "' must be an integer");
    if (value.getInteger() < minimum || value.getInteger() > maximum)
      return fail("field '" + name + "' is " +
                  std::to_string(value.getInteger()) + ", outside [" +
                  std::to_string(minimum) + ", " + std::to_string(maximum) +
                  "]");
    out = value.getInteger();
    return true;
  }

private:
  std::string firstError;
};

constexpr int64_t int64Max = std::numeric_limits<int64_t>::max();

const char *regionName(PlanPointer::Region region) {
  switch (region) {
  case PlanPointer::Region::Input:
    return "input";
  case PlanPointer::Region::Output:
    return "output";
  case PlanPointer::Region::Weights:
    return "weights";
  case PlanPointer::Region::Arena:
    return "arena";
  }
  return "?";
}

/// Bytes of the region `pointer` names (its index already checked).
uint64_t regionBytes(const PlanPointer &pointer, const PlanBounds &bounds,
                     uint64_t arenaBytes) {
  switch (pointer.region) {
  case PlanPointer::Region::Input:
    return bounds.inputBytes[pointer.index];
  case PlanPointer::Region::Output:
    return bounds.outputBytes[pointer.index];
  case PlanPointer::Region::Weights:
    return bounds.weightsBytes;
  case PlanPointer::Region::Arena:
    return arenaBytes;
  }
  return 0;
}

std::string describe(const PlanPointer &pointer) {
  std::string text = regionName(pointer.region);
  if (pointer.region == PlanPointer::Region::Input ||
      pointer.region == PlanPointer::Region::Output)
    text += " " + std::to_string(pointer.index);
  return text + " + " + std::to_string(pointer.offset);
}

/// Reads {"ptr": region, "index": i, "offset": o} and checks the region, the
/// index and that `offset + bytes` lies inside it.
bool readPointer(Reader &reader, const json::Value &object,
                 const std::string &where, const PlanBounds &bounds,
                 uint64_t arenaBytes, uint64_t bytes, PlanPointer &pointer) {
  const json::Value *region =
      reader.member(object, "ptr", json::Value::Kind::String, where, true);
  if (!region)
    return false;
  const std::string &name = region->getString();
  size_t regionCount = 1;
  if (name == "input") {
    pointer.region = PlanPointer::Region::Input;
    regionCount = bounds.inputBytes.size();
  } else if (name == "output") {
    pointer.region = PlanPointer::Region::Output;
    regionCount = bounds.outputBytes.size();
  } else if (name == "weights") {
    pointer.region = PlanPointer::Region::Weights;
  } else if (name == "arena") {
    pointer.region = PlanPointer::Region::Arena;
  } else {
    return reader.fail("'" + where + "ptr' names unknown region '" + name +
                       "' (expected input, output, weights or arena)");
  }
  int64_t index = 0, offset = 0;
  if (!reader.integer(object, "index", where, 0, int64Max, false, index) ||
      !reader.integer(object, "offset", where, 0, int64Max, false, offset))
    return false;
  if (static_cast<uint64_t>(index) >= regionCount)
    return reader.fail("'" + where + "index' is " + std::to_string(index) +
                       " but the model has " + std::to_string(regionCount) +
                       " " + name + (regionCount == 1 ? "" : "s"));
  pointer.index = static_cast<uint32_t>(index);
  pointer.offset = static_cast<uint64_t>(offset);
  uint64_t size = regionBytes(pointer, bounds, arenaBytes);
  std::string at = where.empty() || where.back() != '.'
                       ? where
                       : where.substr(0, where.size() - 1);
  if (pointer.offset > size || bytes > size - pointer.offset)
    return reader.fail("'" + at + "' range " + describe(pointer) + " + " +
                       std::to_string(bytes) + " bytes exceeds the " +
                       std::to_string(size) + "-byte " + name);
  return true;
}

bool readDims(Reader &reader, const json::Value &command, const char *key,
              const std::string &where, const int64_t (&limits)[3],
              uint32_t (&dims)[3]) {
  const json::Value *list =
      reader.member(command, key, json::Value::Kind::Array, where, true);
  if (!list)
    return false;
  if (list->getArray().size() != 3)
    return reader.fail("field '" + where + key + "' must hold 3 integers");
  for (size_t i = 0; i < 3; ++i) {
    int64_t value = 0;
    if (!reader.integerValue(list->getArray()[i],
                             where + key + "[" + std::to_string(i) + "]", 1,
                             limits[i], value))
      return false;
    dims[i] = static_cast<uint32_t>(value);
  }
  return true;
}

bool readArg(Reader &reader, const json::Value &entry, const std::string &where,
             const PlanBounds &bounds, uint64_t arenaBytes, PlanArg &arg) {
  if (!entry.isObject())
    return reader.fail("'" + where + "' must be an object");
  if (entry.find("ptr")) {
    arg.kind = PlanArg::Kind::Pointer;
    for (const auto &member : entry.getObject())
      if (member.first != "ptr" && member.first != "index" &&
          member.first != "offset")
        return reader.fail("'" + where + "' has unknown key '" + member.first +
                           "'");
    if (!readPointer(reader, entry, where + ".", bounds, arenaBytes, 0,
                     arg.pointer))
      return false;
    // A kernel reads or writes at least one byte behind each pointer it
    // gets; only an input or output may be empty (a tensor of zero
    // elements, never dereferenced).
    uint64_t size = regionBytes(arg.pointer, bounds, arenaBytes);
    bool mayBeEmpty = size == 0 &&
                      (arg.pointer.region == PlanPointer::Region::Input ||
                       arg.pointer.region == PlanPointer::Region::Output);
    if (arg.pointer.offset >= size && !mayBeEmpty)
      return reader.fail("'" + where + "' points at " +
                         describe(arg.pointer) + ", past the end of the " +
                         std::to_string(size) + "-byte " +
                         entry.find("ptr")->getString());
    return true;
  }
  if (entry.getObject().size() != 1)
    return reader.fail("'" + where +
                       "' must be a pointer or one of {\"i32\": n}, "
                       "{\"i64\": n}, {\"f32\": x}");
  const std::string &key = entry.getObject()[0].first;
  const json::Value &value = entry.getObject()[0].second;
  std::string name = where + "." + key;
  if (key == "i32") {
    arg.kind = PlanArg::Kind::I32;
    // Unsigned 32-bit values are accepted too (the bits are what is passed).
    return reader.integerValue(value, name, std::numeric_limits<int32_t>::min(),
                               std::numeric_limits<uint32_t>::max(),
                               arg.integer);
  }
  if (key == "i64") {
    arg.kind = PlanArg::Kind::I64;
    return reader.integerValue(value, name, std::numeric_limits<int64_t>::min(),
                               int64Max, arg.integer);
  }
  if (key == "f32") {
    arg.kind = PlanArg::Kind::F32;
    if (value.isNumber()) {
      arg.real = static_cast<float>(value.getNumber());
      return true;
    }
    if (value.isString()) {
      const std::string &text = value.getString();
      if (text == "nan")
        arg.real = std::numeric_limits<float>::quiet_NaN();
      else if (text == "inf")
        arg.real = std::numeric_limits<float>::infinity();
      else if (text == "-inf")
        arg.real = -std::numeric_limits<float>::infinity();
      else
        return reader.fail("field '" + name + "' must be a number, \"nan\", " +
                           "\"inf\" or \"-inf\"");
      return true;
    }
    return reader.fail("field '" + name + "' must be a number");
  }
  return reader.fail("'" + where + "' has unknown argument kind '" + key +
                     "' (expected ptr, i32, i64 or f32)");
}

uint32_t argBytes(const PlanArg &arg) {
  return arg.kind == PlanArg::Kind::I32 || arg.kind == PlanArg::Kind::F32 ? 4
                                                                          : 8;
}

bool readLaunch(Reader &reader, const json::Value &command,
                const std::string &where, const PlanBounds &bounds,
                const PtxEntries &entries, Plan &plan, PlanCommand &out) {
  int64_t kernel = 0, shared = 0;
  if (plan.kernels.empty())
    return reader.fail("'" + where + "' launches a kernel but 'kernels' is "
                                     "empty");
  if (!reader.integer(command, "kernel", where, 0,
                      static_cast<int64_t>(plan.kernels.size()) - 1, true,
                      kernel))
    return false;
  out.kernel = static_cast<uint32_t>(kernel);
  static const int64_t gridLimits[3] = {std::numeric_limits<int32_t>::max(),
                                        65535, 65535};
  static const int64_t blockLimits[3] = {1024, 1024, 64};
  if (!readDims(reader, command, "grid", where, gridLimits, out.grid) ||
      !readDims(reader, command, "block", where, blockLimits, out.block))
    return false;
  if (uint64_t(out.block[0]) * out.block[1] * out.block[2] > 1024)
    return reader.fail("'" + where + "block' has more than 1024 threads");
  if (!reader.integer(command, "shared_bytes", where, 0, 1 << 20, false,
                      shared))
    return false;
  out.sharedBytes = static_cast<uint32_t>(shared);
  uint32_t &maxShared = plan.maxSharedBytes[out.kernel];
  if (out.sharedBytes > maxShared)
    maxShared = out.sharedBytes;

  const json::Value *args =
      reader.member(command, "args", json::Value::Kind::Array, where, true);
  if (!args)
    return false;
  const std::string &name = plan.kernels[out.kernel];
  const std::vector<uint32_t> &params = entries.at(name);
  if (args->getArray().size() != params.size())
    return reader.fail("'" + where + "args' has " +
                       std::to_string(args->getArray().size()) +
                       " arguments but kernel '" + name + "' takes " +
                       std::to_string(params.size()));
  uint64_t paramBytes = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    std::string argWhere = where + "args[" + std::to_string(i) + "]";
    PlanArg arg;
    if (!readArg(reader, args->getArray()[i], argWhere, bounds,
                 plan.arenaBytes, arg))
      return false;
    if (argBytes(arg) != params[i])
      return reader.fail("'" + argWhere + "' passes " +
                         std::to_string(argBytes(arg)) +
                         " bytes but parameter " + std::to_string(i) +
                         " of kernel '" + name + "' has " +
                         std::to_string(params[i]));
    paramBytes += params[i];
    out.args.push_back(arg);
  }
  if (paramBytes > 4096)
    return reader.fail("'" + where + "' passes " + std::to_string(paramBytes) +
                       " bytes of parameters, more than 4096");
  return true;
}

bool readCommand(Reader &reader, const json::Value &command,
                 const std::string &where, const PlanBounds &bounds,
                 const PtxEntries &entries, Plan &plan) {
  if (!command.isObject())
    return reader.fail("'" + where + "' must be an object");
  std::string prefix = where + ".";
  const json::Value *op =
      reader.member(command, "op", json::Value::Kind::String, prefix, true);
  if (!op)
    return false;
  PlanCommand out;
  const std::string &name = op->getString();
  if (name == "launch") {
    out.op = PlanCommand::Op::Launch;
    if (!readLaunch(reader, command, prefix, bounds, entries, plan, out))
      return false;
  } else if (name == "copy" || name == "memset") {
    out.op = name == "copy" ? PlanCommand::Op::Copy : PlanCommand::Op::Memset;
    int64_t bytes = 0, value = 0;
    if (!reader.integer(command, "bytes", prefix, 0, int64Max, true, bytes))
      return false;
    out.bytes = static_cast<uint64_t>(bytes);
    const json::Value *dst = reader.member(
        command, "dst", json::Value::Kind::Object, prefix, true);
    if (!dst || !readPointer(reader, *dst, prefix + "dst.", bounds,
                             plan.arenaBytes, out.bytes, out.dst))
      return false;
    if (out.dst.region == PlanPointer::Region::Input ||
        out.dst.region == PlanPointer::Region::Weights)
      return reader.fail("'" + prefix + "dst' writes to the read-only " +
                         regionName(out.dst.region));
    if (out.op == PlanCommand::Op::Copy) {
      const json::Value *src = reader.member(
          command, "src", json::Value::Kind::Object, prefix, true);
      if (!src || !readPointer(reader, *src, prefix + "src.", bounds,
                               plan.arenaBytes, out.bytes, out.src))
        return false;
      bool sameBuffer =
          out.src.region == out.dst.region && out.src.index == out.dst.index;
      if (sameBuffer && out.bytes &&
          out.src.offset < out.dst.offset + out.bytes &&
          out.dst.offset < out.src.offset + out.bytes)
        return reader.fail("'" + where + "' copies between overlapping bytes");
    } else {
      if (!reader.integer(command, "value", prefix, 0, 255, true, value))
        return false;
      out.value = static_cast<uint8_t>(value);
    }
  } else {
    return reader.fail("'" + prefix + "op' is unknown: '" + name +
                       "' (expected launch, copy or memset)");
  }
  plan.commands.push_back(std::move(out));
  return true;
}

} // namespace

bool parsePtxEntries(const std::string &ptx, PtxEntries &entries,
                     std::string &error) {
  std::string text = stripComments(ptx);
  size_t at = 0;
  while ((at = text.find(".entry", at)) != std::string::npos) {
    bool startsToken = at == 0 || !isIdentifierChar(text[at - 1]);
    at += 6;
    if (!startsToken || (at < text.size() && isIdentifierChar(text[at])))
      continue;
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])))
      ++at;
    size_t nameStart = at;
    while (at < text.size() && isIdentifierChar(text[at]))
      ++at;
    std::string name = text.substr(nameStart, at - nameStart);
    if (name.empty()) {
      error = "an .entry has no name";
      return false;
    }
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])))
      ++at;
    std::vector<uint32_t> params;
    if (at < text.size() && text[at] == '(') {
      size_t close = text.find(')', at);
      if (close == std::string::npos) {
        error = "the parameter list of entry '" + name + "' is not closed";
        return false;
      }
      std::string list = text.substr(at + 1, close - at - 1);
      at = close + 1;
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos)
          comma = list.size();
        std::string declaration = list.substr(start, comma - start);
        start = comma + 1;
        bool blank = true;
        for (char c : declaration)
          blank = blank && std::isspace(static_cast<unsigned char>(c));
        if (blank)
          continue;
        uint32_t size = 0;
        if (!parsePtxParam(declaration, size, error)) {
          error = "entry '" + name + "': " + error;
          return false;
        }
        params.push_back(size);
      }
    }
    entries[name] = std::move(params);
  }
  return true;
}

qcc_status parsePlan(const std::string &text, const std::string &path,
                     const PlanBounds &bounds, const PtxEntries &entries,
                     Plan &plan) {
  std::string prefix = "invalid plan '" + path + "': ";
  json::Value root;
  std::string jsonError;
  if (!json::parse(text, root, jsonError))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "not valid JSON: " + jsonError);
  if (!root.isObject())
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT,
                      prefix + "top level must be an object");
  Reader reader;
  if (!reader.integer(root, "plan_version", "", 0, int64Max, true,
                      plan.version))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, prefix + reader.error());
  if (plan.version != 1)
    return makeStatusF(QCC_STATUS_UNIMPLEMENTED,
                       "plan '%s' has plan_version %lld; this runtime reads "
                       "plan_version 1",
                       path.c_str(), static_cast<long long>(plan.version));
  int64_t arenaBytes = 0;
  if (!reader.integer(root, "arena_bytes", "", 0,
                      static_cast<int64_t>(maxArenaBytes), true, arenaBytes))
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, prefix + reader.error());
  plan.arenaBytes = static_cast<uint64_t>(arenaBytes);

  const json::Value *kernels =
      reader.member(root, "kernels", json::Value::Kind::Array, "", true);
  if (kernels) {
    for (const json::Value &kernel : kernels->getArray()) {
      if (!kernel.isString() || kernel.getString().empty()) {
        reader.fail("'kernels' must hold non-empty strings");
        break;
      }
      if (!entries.count(kernel.getString())) {
        reader.fail("kernel '" + kernel.getString() +
                    "' is not an .entry of the PTX module");
        break;
      }
      plan.kernels.push_back(kernel.getString());
    }
  }
  plan.maxSharedBytes.assign(plan.kernels.size(), 0);
  const json::Value *commands =
      reader.ok()
          ? reader.member(root, "commands", json::Value::Kind::Array, "", true)
          : nullptr;
  if (commands) {
    size_t index = 0;
    for (const json::Value &command : commands->getArray())
      if (!readCommand(reader, command,
                       "commands[" + std::to_string(index++) + "]", bounds,
                       entries, plan))
        break;
  }
  if (!reader.ok())
    return makeStatus(QCC_STATUS_INVALID_ARGUMENT, prefix + reader.error());
  return nullptr;
}

} // namespace runtime
} // namespace qcc
