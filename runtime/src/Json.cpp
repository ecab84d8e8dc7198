//===- Json.cpp - A small strict JSON parser ------------------------------===//

#include "Json.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qcc {
namespace runtime {
namespace json {

const Value *Value::find(const std::string &key) const {
  if (kind != Kind::Object)
    return nullptr;
  for (const auto &member : objectValue)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

const char *Value::kindName(Kind kind) {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "boolean";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Array:
    return "array";
  case Kind::Object:
    return "object";
  }
  return "value";
}

/// Recursive-descent parser over a byte string.
class Parser {
public:
  explicit Parser(const std::string &text) : text(text) {}

  bool parseDocument(Value &result, std::string &error) {
    skipWhitespace();
    if (!parseValue(result, 0)) {
      error = formatError();
      return false;
    }
    skipWhitespace();
    if (position != text.size()) {
      fail("unexpected trailing characters after the JSON value");
      error = formatError();
      return false;
    }
    return true;
  }

private:
  /// Nesting deeper than this is refused to bound recursion.
  static constexpr int maxDepth = 200;

  bool fail(const std::string &what) {
    if (message.empty()) {
      message = what;
      errorPosition = position;
    }
    return false;
  }

  std::string formatError() const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < errorPosition && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return "line " + std::to_string(line) + " column " +
           std::to_string(column) + ": " + message;
  }

  bool atEnd() const { return position >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[position]; }

  void skipWhitespace() {
    while (!atEnd()) {
      char c = text[position];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      ++position;
    }
  }

  bool expectLiteral(const char *literal) {
    size_t length = std::strlen(literal);
    if (text.compare(position, length, literal) != 0)
      return fail("invalid literal");
    position += length;
    return true;
  }

  bool parseValue(Value &value, int depth) {
    if (depth > maxDepth)
      return fail("nesting deeper than " + std::to_string(maxDepth));
    if (atEnd())
      return fail("unexpected end of input");
    char c = peek();
    switch (c) {
    case '{':
      return parseObject(value, depth);
    case '[':
      return parseArray(value, depth);
    case '"':
      value.kind = Value::Kind::String;
      return parseString(value.stringValue);
    case 't':
      value.kind = Value::Kind::Bool;
      value.boolValue = true;
      return expectLiteral("true");
    case 'f':
      value.kind = Value::Kind::Bool;
      value.boolValue = false;
      return expectLiteral("false");
    case 'n':
      value.kind = Value::Kind::Null;
      return expectLiteral("null");
    default:
      if (c == '-' || (c >= '0' && c <= '9'))
        return parseNumber(value);
      return fail(std::string("unexpected character '") + c + "'");
    }
  }

  bool parseObject(Value &value, int depth) {
    value.kind = Value::Kind::Object;
    ++position; // '{'
    skipWhitespace();
    if (peek() == '}') {
      ++position;
      return true;
    }
    for (;;) {
      skipWhitespace();
      if (peek() != '"')
        return fail(atEnd() ? "unexpected end of input"
                            : "expected a string key");
      std::string key;
      size_t keyPosition = position;
      if (!parseString(key))
        return false;
      for (const auto &member : value.objectValue) {
        if (member.first == key) {
          position = keyPosition;
          return fail("duplicate key \"" + key + "\"");
        }
      }
      skipWhitespace();
      if (peek() != ':')
        return fail(atEnd() ? "unexpected end of input" : "expected ':'");
      ++position;
      skipWhitespace();
      value.objectValue.emplace_back(std::move(key), Value());
      if (!parseValue(value.objectValue.back().second, depth + 1))
        return false;
      skipWhitespace();
      if (peek() == ',') {
        ++position;
        continue;
      }
      if (peek() == '}') {
        ++position;
        return true;
      }
      return fail(atEnd() ? "unexpected end of input" : "expected ',' or '}'");
    }
  }

  bool parseArray(Value &value, int depth) {
    value.kind = Value::Kind::Array;
    ++position; // '['
    skipWhitespace();
    if (peek() == ']') {
      ++position;
      return true;
    }
    for (;;) {
      skipWhitespace();
      value.arrayValue.emplace_back();
      if (!parseValue(value.arrayValue.back(), depth + 1))
        return false;
      skipWhitespace();
      if (peek() == ',') {
        ++position;
        continue;
      }
      if (peek() == ']') {
        ++position;
        return true;
      }
      return fail(atEnd() ? "unexpected end of input" : "expected ',' or ']'");
    }
  }

  bool parseHex4(uint32_t &code) {
    if (position + 4 > text.size())
      return fail("truncated \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text[position++];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        code |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        code |= uint32_t(c - 'A' + 10);
      else
        return fail("invalid hex digit in \\u escape");
    }
    return true;
  }

  static void appendUtf8(std::string &out, uint32_t code) {
    if (code < 0x80) {
      out += char(code);
    } else if (code < 0x800) {
      out += char(0xC0 | (code >> 6));
      out += char(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += char(0xE0 | (code >> 12));
      out += char(0x80 | ((code >> 6) & 0x3F));
      out += char(0x80 | (code & 0x3F));
    } else {
      out += char(0xF0 | (code >> 18));
      out += char(0x80 | ((code >> 12) & 0x3F));
      out += char(0x80 | ((code >> 6) & 0x3F));
      out += char(0x80 | (code & 0x3F));
    }
  }

  bool parseString(std::string &out) {
    ++position; // opening quote
    for (;;) {
      if (atEnd())
        return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(text[position]);
      if (c == '"') {
        ++position;
        return true;
      }
      if (c < 0x20)
        return fail("control character in string");
      if (c != '\\') {
        out += char(c);
        ++position;
        continue;
      }
      ++position;
      if (atEnd())
        return fail("unterminated string");
      char escape = text[position++];
      switch (escape) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t code;
        if (!parseHex4(code))
          return false;
        if (code >= 0xD800 && code <= 0xDBFF) {
          if (text.compare(position, 2, "\\u") != 0)
            return fail("unpaired surrogate in \\u escape");
          position += 2;
          uint32_t low;
          if (!parseHex4(low))
            return false;
          if (low < 0xDC00 || low > 0xDFFF)
            return fail("unpaired surrogate in \\u escape");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
          return fail("unpaired surrogate in \\u escape");
        }
        appendUtf8(out, code);
        break;
      }
      default:
        --position;
        return fail(std::string("invalid escape '\\") + escape + "'");
      }
    }
  }

  static bool isDigit(char c) { return c >= '0' && c <= '9'; }

  bool parseNumber(Value &value) {
    size_t start = position;
    bool integral = true;
    if (peek() == '-')
      ++position;
    if (peek() == '0') {
      ++position;
      if (isDigit(peek()))
        return fail("leading zero in number");
    } else if (isDigit(peek())) {
      while (isDigit(peek()))
        ++position;
    } else {
      return fail("invalid number");
    }
    if (peek() == '.') {
      integral = false;
      ++position;
      if (!isDigit(peek()))
        return fail("expected a digit after '.'");
      while (isDigit(peek()))
        ++position;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++position;
      if (peek() == '+' || peek() == '-')
        ++position;
      if (!isDigit(peek()))
        return fail("expected a digit in exponent");
      while (isDigit(peek()))
        ++position;
    }
    std::string literal = text.substr(start, position - start);
    value.kind = Value::Kind::Number;
    value.numberValue = std::strtod(literal.c_str(), nullptr);
    if (integral) {
      errno = 0;
      long long parsed = std::strtoll(literal.c_str(), nullptr, 10);
      if (errno != ERANGE) {
        value.integral = true;
        value.integerValue = parsed;
      }
    }
    return true;
  }

  const std::string &text;
  size_t position = 0;
  std::string message;
  size_t errorPosition = 0;
};

bool parse(const std::string &text, Value &result, std::string &error) {
  result = Value();
  Parser parser(text);
  return parser.parseDocument(result, error);
}

std::string quote(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof(escape), "\\u%04x", c);
        out += escape;
      } else {
        out += char(c);
      }
    }
  }
  out += '"';
  return out;
}

} // namespace json
} // namespace runtime
} // namespace qcc
