//===- JsonTest.cpp - The strict JSON parser ------------------------------===//

#include "Json.h"

#include <gtest/gtest.h>

#include <string>

using namespace qcc::runtime;

namespace {

json::Value parseOk(const std::string &text) {
  json::Value value;
  std::string error;
  EXPECT_TRUE(json::parse(text, value, error)) << text << ": " << error;
  return value;
}

std::string parseError(const std::string &text) {
  json::Value value;
  std::string error;
  EXPECT_FALSE(json::parse(text, value, error)) << text;
  return error;
}

TEST(Json, Scalars) {
  EXPECT_TRUE(parseOk("null").isNull());
  EXPECT_TRUE(parseOk(" true ").getBool());
  EXPECT_FALSE(parseOk("false").getBool());
  EXPECT_EQ(parseOk("\"hi\"").getString(), "hi");
}

TEST(Json, Numbers) {
  json::Value value = parseOk("-12");
  EXPECT_TRUE(value.isInteger());
  EXPECT_EQ(value.getInteger(), -12);
  value = parseOk("0");
  EXPECT_TRUE(value.isInteger());
  EXPECT_EQ(value.getInteger(), 0);
  value = parseOk("9223372036854775807");
  EXPECT_TRUE(value.isInteger());
  EXPECT_EQ(value.getInteger(), INT64_MAX);
  // Too large for int64: still a number, no longer an integer.
  value = parseOk("92233720368547758070");
  EXPECT_TRUE(value.isNumber());
  EXPECT_FALSE(value.isInteger());
  value = parseOk("1.5e3");
  EXPECT_FALSE(value.isInteger());
  EXPECT_DOUBLE_EQ(value.getNumber(), 1500.0);
  value = parseOk("1.0");
  EXPECT_FALSE(value.isInteger());
  EXPECT_DOUBLE_EQ(parseOk("-0.25E-2").getNumber(), -0.0025);
}

TEST(Json, StringEscapes) {
  EXPECT_EQ(parseOk(R"("a\"b\\c\/d\b\f\n\r\t")").getString(),
            "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parseOk(R"("\u0041\u00e9\u20ac")").getString(),
            "A\xc3\xa9\xe2\x82\xac");
  // A surrogate pair becomes one 4-byte UTF-8 sequence (U+1F600).
  EXPECT_EQ(parseOk(R"("\ud83d\ude00")").getString(), "\xf0\x9f\x98\x80");
  // Raw UTF-8 passes through.
  EXPECT_EQ(parseOk("\"\xc3\xa9\"").getString(), "\xc3\xa9");
}

TEST(Json, ContainersKeepOrder) {
  json::Value value =
      parseOk(R"({"b": [1, 2, {"c": null}], "a": {}, "e": []})");
  ASSERT_TRUE(value.isObject());
  ASSERT_EQ(value.getObject().size(), 3u);
  EXPECT_EQ(value.getObject()[0].first, "b");
  EXPECT_EQ(value.getObject()[1].first, "a");
  const json::Value *b = value.find("b");
  ASSERT_TRUE(b && b->isArray());
  EXPECT_EQ(b->getArray().size(), 3u);
  EXPECT_TRUE(b->getArray()[2].find("c")->isNull());
  EXPECT_TRUE(value.find("a")->getObject().empty());
  EXPECT_TRUE(value.find("e")->getArray().empty());
  EXPECT_EQ(value.find("zzz"), nullptr);
  EXPECT_EQ(b->find("c"), nullptr); // not an object
}

TEST(Json, Errors) {
  EXPECT_NE(parseError("").find("unexpected end of input"), std::string::npos);
  EXPECT_NE(parseError("{\"a\": 1,}").find("expected a string key"),
            std::string::npos);
  EXPECT_NE(parseError("[1, 2,]").find("unexpected character ']'"),
            std::string::npos);
  EXPECT_NE(parseError("{\"a\": 1").find("unexpected end of input"),
            std::string::npos);
  EXPECT_NE(parseError("{\"a\" 1}").find("expected ':'"), std::string::npos);
  EXPECT_NE(parseError("[1 2]").find("expected ',' or ']'"), std::string::npos);
  EXPECT_NE(parseError("\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(parseError("\"a\nb\"").find("control character"),
            std::string::npos);
  EXPECT_NE(parseError("\"\\x\"").find("invalid escape"), std::string::npos);
  EXPECT_NE(parseError("\"\\u12zz\"").find("hex digit"), std::string::npos);
  EXPECT_NE(parseError("\"\\u12\"").find("truncated \\u escape"),
            std::string::npos);
  EXPECT_NE(parseError("\"\\ud83d\"").find("unpaired surrogate"),
            std::string::npos);
  EXPECT_NE(parseError("\"\\ude00\"").find("unpaired surrogate"),
            std::string::npos);
  EXPECT_NE(parseError("01").find("leading zero"), std::string::npos);
  EXPECT_NE(parseError("1.").find("digit after '.'"), std::string::npos);
  EXPECT_NE(parseError("1e").find("exponent"), std::string::npos);
  EXPECT_NE(parseError("-").find("invalid number"), std::string::npos);
  EXPECT_NE(parseError("+1").find("unexpected character"), std::string::npos);
  EXPECT_NE(parseError("tru").find("invalid literal"), std::string::npos);
  EXPECT_NE(parseError("nul").find("invalid literal"), std::string::npos);
  EXPECT_NE(parseError("{} {}").find("trailing"), std::string::npos);
  EXPECT_NE(parseError("// comment\n{}").find("unexpected character '/'"),
            std::string::npos);
  EXPECT_NE(parseError("{'a': 1}").find("expected a string key"),
            std::string::npos);
  EXPECT_NE(parseError("{\"a\": 1, \"a\": 2}").find("duplicate key \"a\""),
            std::string::npos);
  EXPECT_NE(parseError(std::string("[1,\0 2]", 7)).find("unexpected character"),
            std::string::npos);
}

TEST(Json, ErrorPositions) {
  EXPECT_EQ(parseError("{\n  \"a\": 1,\n  \"b\" 2\n}"),
            "line 3 column 7: expected ':'");
  EXPECT_EQ(parseError("[1, 2"), "line 1 column 6: unexpected end of input");
}

TEST(Json, DeepNestingIsRefusedNotCrashed) {
  std::string deep(100000, '[');
  EXPECT_NE(parseError(deep).find("nesting deeper than"), std::string::npos);
  std::string fine(150, '[');
  fine += std::string(150, ']');
  parseOk(fine);
}

TEST(Json, Quote) {
  std::string text = "a\"b\\c\n\x01";
  EXPECT_EQ(json::quote(text), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(parseOk(json::quote(text)).getString(), text);
}

} // namespace
