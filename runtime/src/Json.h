//===- Json.h - A small strict JSON parser ----------------------*- C++ -*-===//
//
// Parses RFC 8259 JSON into a tree of values. Strict: no comments, no
// trailing commas, no duplicate keys, bounded nesting. Errors carry a line
// and column. Only what the manifest reader needs; not a general library.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_RUNTIME_SRC_JSON_H
#define QCC_RUNTIME_SRC_JSON_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qcc {
namespace runtime {
namespace json {

/// One JSON value.
class Value {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Value() = default;

  Kind getKind() const { return kind; }
  bool isNull() const { return kind == Kind::Null; }
  bool isBool() const { return kind == Kind::Bool; }
  bool isNumber() const { return kind == Kind::Number; }
  bool isString() const { return kind == Kind::String; }
  bool isArray() const { return kind == Kind::Array; }
  bool isObject() const { return kind == Kind::Object; }

  /// True for a number written without fraction or exponent that fits int64.
  bool isInteger() const { return kind == Kind::Number && integral; }

  bool getBool() const { return boolValue; }
  double getNumber() const { return numberValue; }
  int64_t getInteger() const { return integerValue; }
  const std::string &getString() const { return stringValue; }
  const std::vector<Value> &getArray() const { return arrayValue; }
  const std::vector<std::pair<std::string, Value>> &getObject() const {
    return objectValue;
  }

  /// Member `key` of an object, or nullptr (also for non-objects).
  const Value *find(const std::string &key) const;

  /// Name of a kind for messages ("string", "array", ...).
  static const char *kindName(Kind kind);

private:
  friend class Parser;

  Kind kind = Kind::Null;
  bool boolValue = false;
  bool integral = false;
  double numberValue = 0;
  int64_t integerValue = 0;
  std::string stringValue;
  std::vector<Value> arrayValue;
  std::vector<std::pair<std::string, Value>> objectValue;
};

/// Parses `text`. On failure returns false and sets `error` to
/// "line L column C: <what>".
bool parse(const std::string &text, Value &result, std::string &error);

/// Quotes and escapes `text` as a JSON string literal.
std::string quote(const std::string &text);

} // namespace json
} // namespace runtime
} // namespace qcc

#endif // QCC_RUNTIME_SRC_JSON_H
