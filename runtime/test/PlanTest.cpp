//===- PlanTest.cpp - PTX entry signatures and launch plan validation -----===//
//
// Runs everywhere (no GPU, no driver): every way a plan can point outside
// its regions or disagree with the PTX must be refused with a message.
//
//===----------------------------------------------------------------------===//

#include "CudaArtifact.h"
#include "Plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace qcc::runtime;
using namespace qcc::test;

namespace {

struct Outcome {
  qcc_status_code_t code;
  std::string message;
};

PlanBounds testBounds() {
  PlanBounds bounds;
  bounds.weightsBytes = 4032;
  bounds.inputBytes = {4000, 4000};
  bounds.outputBytes = {4000, 4000, 16};
  return bounds;
}

PtxEntries testEntries() {
  PtxEntries entries;
  std::string error;
  EXPECT_TRUE(parsePtxEntries(cudaTestPtx(), entries, error)) << error;
  return entries;
}

Outcome parse(const std::string &text, Plan &plan) {
  qcc_status status =
      parsePlan(text, "m.plan.json", testBounds(), testEntries(), plan);
  Outcome outcome{qcc_status_code(status), qcc_status_message(status)};
  qcc_status_free(status);
  return outcome;
}

/// The test plan with the first `from` replaced by `to`.
std::string tampered(const std::string &from, const std::string &to) {
  std::string text = cudaTestPlan();
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

} // namespace

TEST(PtxEntries, ReadsParameterSizes) {
  PtxEntries entries = testEntries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries["qcc_test_axpb"],
            (std::vector<uint32_t>{8, 8, 8, 8, 4, 4}));
  EXPECT_EQ(entries["qcc_test_scale"], (std::vector<uint32_t>{8, 8, 4, 8}));
}

TEST(PtxEntries, AttributesArraysCommentsAndNoParameters) {
  std::string ptx = ".version 8.0\n.target sm_90\n"
                    "// .entry commented_out(.param .u32 x)\n"
                    "/* .entry also_commented() */\n"
                    ".visible .entry k1(.param .u64 .ptr .global .align 16 p,"
                    " .param .align 8 .b8 blob[24], .param .s16 h)\n{ ret; }\n"
                    ".entry k2\n{ ret; }\n"
                    ".func helper(.param .b32 v) { ret; }\n";
  PtxEntries entries;
  std::string error;
  ASSERT_TRUE(parsePtxEntries(ptx, entries, error)) << error;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries["k1"], (std::vector<uint32_t>{8, 24, 2}));
  EXPECT_TRUE(entries["k2"].empty());

  entries.clear();
  EXPECT_FALSE(parsePtxEntries(".entry bad(.param .u64 p", entries, error));
  EXPECT_NE(error.find("not closed"), std::string::npos) << error;
  EXPECT_FALSE(parsePtxEntries(".entry bad(.param .struct p)", entries, error));
  EXPECT_NE(error.find("no scalar type"), std::string::npos) << error;
}

TEST(Plan, ParsesTheTestPlan) {
  Plan plan;
  Outcome outcome = parse(cudaTestPlan(), plan);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  EXPECT_EQ(plan.arenaBytes, 8192u);
  ASSERT_EQ(plan.kernels.size(), 2u);
  ASSERT_EQ(plan.commands.size(), 6u);
  const PlanCommand &launch = plan.commands[1];
  EXPECT_EQ(launch.op, PlanCommand::Op::Launch);
  EXPECT_EQ(launch.grid[0], 4u);
  EXPECT_EQ(launch.block[0], 256u);
  ASSERT_EQ(launch.args.size(), 6u);
  EXPECT_EQ(launch.args[1].pointer.region, PlanPointer::Region::Input);
  EXPECT_EQ(launch.args[1].pointer.index, 1u);
  EXPECT_EQ(launch.args[4].kind, PlanArg::Kind::F32);
  EXPECT_EQ(launch.args[4].real, 0.5f);
  EXPECT_EQ(launch.args[5].integer, 1000);
  EXPECT_EQ(plan.commands[2].args[3].kind, PlanArg::Kind::I64);
  EXPECT_EQ(plan.commands[2].args[1].pointer.offset, 4096u);
  EXPECT_EQ(plan.commands[4].op, PlanCommand::Op::Copy);
  EXPECT_EQ(plan.commands[4].dst.index, 1u);
  EXPECT_EQ(plan.commands[5].value, 7u);
}

TEST(Plan, RefusesTamperedPlans) {
  struct Case {
    const char *from, *to, *expected;
  };
  const Case cases[] = {
      // Versions and sizes.
      {"\"plan_version\": 1", "\"plan_version\": 2", "plan_version 2"},
      {"\"arena_bytes\": 8192", "\"arena_bytes\": -1", "'arena_bytes' is -1"},
      {"\"arena_bytes\": 8192", "\"arena_bytes\": 4096",
       "exceeds the 4096-byte arena"},
      {"\"arena_bytes\": 8192", "\"arena_bytes\": 1e6", "must be an integer"},
      // Kernels.
      {"\"qcc_test_scale\"]", "\"qcc_test_missing\"]",
       "kernel 'qcc_test_missing' is not an .entry"},
      {"\"kernel\": 1", "\"kernel\": 2", "'commands[2].kernel' is 2"},
      {"\"kernel\": 1", "\"kernel\": -1", "'commands[2].kernel' is -1"},
      // Launch shapes.
      {"\"grid\": [4, 1, 1]", "\"grid\": [0, 1, 1]", "grid[0]' is 0"},
      {"\"grid\": [4, 1, 1]", "\"grid\": [4, 1]", "must hold 3 integers"},
      {"\"grid\": [4, 1, 1]", "\"grid\": [4, 70000, 1]", "grid[1]' is 70000"},
      {"\"block\": [256, 1, 1]", "\"block\": [256, 8, 1]",
       "more than 1024 threads"},
      {"\"block\": [256, 1, 1]", "\"block\": [2048, 1, 1]",
       "block[0]' is 2048"},
      {"\"shared_bytes\": 0", "\"shared_bytes\": 99999999",
       "'commands[1].shared_bytes' is 99999999"},
      // Arguments against the PTX signature.
      {", {\"i32\": 1000}]", "]", "has 5 arguments but kernel 'qcc_test_axpb' "
                                  "takes 6"},
      {"{\"i32\": 1000}", "{\"i64\": 1000}",
       "passes 8 bytes but parameter 5 of kernel 'qcc_test_axpb' has 4"},
      {"{\"f32\": 0.5}", "{\"ptr\": \"arena\"}",
       "passes 8 bytes but parameter 4"},
      {"{\"i32\": 1000}", "{\"i32\": 5000000000}", "outside"},
      {"{\"i32\": 1000}", "{\"u32\": 1000}", "unknown argument kind 'u32'"},
      {"{\"i32\": 1000}", "{\"i32\": 1000, \"f32\": 1}", "must be a pointer"},
      {"{\"f32\": 0.5}", "{\"f32\": \"half\"}", "must be a number"},
      // Regions, indices and offsets.
      {"{\"ptr\": \"input\", \"index\": 1, \"offset\": 0}",
       "{\"ptr\": \"input\", \"index\": 2, \"offset\": 0}",
       "'commands[1].args[1].index' is 2 but the model has 2 inputs"},
      {"{\"ptr\": \"input\", \"index\": 1, \"offset\": 0}",
       "{\"ptr\": \"input\", \"index\": 1, \"offset\": 4001}",
       "exceeds the 4000-byte input"},
      {"{\"ptr\": \"weights\", \"offset\": 0}",
       "{\"ptr\": \"weights\", \"offset\": 9223372036854775807}",
       "exceeds the 4032-byte weights"},
      {"{\"ptr\": \"weights\", \"offset\": 0}",
       "{\"ptr\": \"host\", \"offset\": 0}", "unknown region 'host'"},
      {"{\"ptr\": \"weights\", \"offset\": 0}",
       "{\"ptr\": \"weights\", \"offset\": 0, \"stride\": 4}",
       "unknown key 'stride'"},
      {"{\"ptr\": \"input\", \"index\": 0, \"offset\": 0}",
       "{\"ptr\": \"input\", \"index\": 0, \"offset\": -8}", "is -8"},
      // Copies and memsets.
      {"\"bytes\": 4000}", "\"bytes\": 4001}",
       "'commands[3].dst' range output 0 + 0 + 4001 bytes exceeds the "
       "4000-byte output"},
      {"\"bytes\": 16, \"value\": 7", "\"bytes\": 17, \"value\": 7",
       "exceeds the 16-byte output"},
      {"\"bytes\": 16, \"value\": 7", "\"bytes\": 16, \"value\": 256",
       "'commands[5].value' is 256"},
      {"\"dst\": {\"ptr\": \"arena\", \"offset\": 0}, \"bytes\": 8192",
       "\"dst\": {\"ptr\": \"weights\", \"offset\": 0}, \"bytes\": 64",
       "writes to the read-only weights"},
      {"\"dst\": {\"ptr\": \"output\", \"index\": 1}",
       "\"dst\": {\"ptr\": \"input\", \"index\": 1}",
       "writes to the read-only input"},
      {"\"dst\": {\"ptr\": \"output\", \"index\": 1}, \"src\": {\"ptr\": "
       "\"arena\", \"offset\": 4096}",
       "\"dst\": {\"ptr\": \"arena\", \"offset\": 2048}, \"src\": {\"ptr\": "
       "\"arena\", \"offset\": 4096}",
       "copies between overlapping bytes"},
      {"\"bytes\": 4000}", "\"bytes\": 18446744073709551615}",
       "must be an integer"},
      {"\"op\": \"copy\"", "\"op\": \"exec\"", "'commands[3].op' is unknown"},
      // Structure.
      {"\"commands\": [", "\"commands\": 3, \"x\": [",
       "field 'commands' must be an array"},
      {"{\"op\": \"memset\", \"dst\"", "{\"dst\"", "missing field "
                                                   "'commands[0].op'"},
  };
  for (const Case &c : cases) {
    Plan plan;
    Outcome outcome = parse(tampered(c.from, c.to), plan);
    EXPECT_NE(outcome.code, QCC_STATUS_OK) << c.to;
    EXPECT_NE(outcome.message.find(c.expected), std::string::npos)
        << "replacing " << c.from << " with " << c.to << " gave: "
        << outcome.message;
    EXPECT_EQ(outcome.message.find('\n'), std::string::npos);
  }
}

TEST(Plan, RefusesMalformedJsonAndEveryTruncation) {
  Plan plan;
  Outcome outcome = parse("[1, 2]", plan);
  EXPECT_NE(outcome.message.find("top level must be an object"),
            std::string::npos);
  // No prefix of a valid plan may be accepted or crash the parser.
  std::string text = cudaTestPlan();
  for (size_t length = 0; length + 2 < text.size(); length += 7) {
    Plan partial;
    outcome = parse(text.substr(0, length), partial);
    EXPECT_NE(outcome.code, QCC_STATUS_OK) << length;
  }
}

TEST(Plan, AcceptsSpecialFloatsAndUnsigned32) {
  Plan plan;
  std::string text = tampered("{\"f32\": 0.5}", "{\"f32\": \"-inf\"}");
  size_t at = text.find("{\"i32\": 1000}");
  text.replace(at, 13, "{\"i32\": 4294967295}");
  Outcome outcome = parse(text, plan);
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  EXPECT_TRUE(std::isinf(plan.commands[1].args[4].real));
  EXPECT_EQ(plan.commands[1].args[5].integer, 4294967295LL);
}
