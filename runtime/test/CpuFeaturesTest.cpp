//===- CpuFeaturesTest.cpp - Host CPU feature detection -------------------===//

#include "CpuFeatures.h"

#include <gtest/gtest.h>

using qcc::runtime::CpuFeatures;

namespace {

TEST(CpuFeatures, KnowsEveryNameOfTheContract) {
  // The names docs/ARTIFACT.md lists for target.required_features.
  for (const char *name :
       {"sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
        "avx512vl", "avx512dq", "avx512vnni", "avxvnni"})
    EXPECT_TRUE(CpuFeatures::isKnown(name)) << name;
  EXPECT_FALSE(CpuFeatures::isKnown("avx512fake"));
  EXPECT_FALSE(CpuFeatures::isKnown("AVX2"));
}

#if defined(__x86_64__) || defined(__i386__)
// __builtin_cpu_supports needs literal names, hence the macro.
#define EXPECT_AGREES_WITH_COMPILER(name)                                      \
  EXPECT_EQ(detected.has(name), __builtin_cpu_supports(name) != 0) << name

TEST(CpuFeatures, AgreesWithTheCompilersDetection) {
  __builtin_cpu_init();
  CpuFeatures detected = CpuFeatures::detect();
  EXPECT_AGREES_WITH_COMPILER("sse4.2");
  EXPECT_AGREES_WITH_COMPILER("popcnt");
  EXPECT_AGREES_WITH_COMPILER("avx");
  EXPECT_AGREES_WITH_COMPILER("avx2");
  EXPECT_AGREES_WITH_COMPILER("fma");
  EXPECT_AGREES_WITH_COMPILER("bmi2");
  EXPECT_AGREES_WITH_COMPILER("avx512f");
  EXPECT_AGREES_WITH_COMPILER("avx512bw");
  EXPECT_AGREES_WITH_COMPILER("avx512vl");
  EXPECT_AGREES_WITH_COMPILER("avx512dq");
  EXPECT_AGREES_WITH_COMPILER("avx512cd");
  EXPECT_AGREES_WITH_COMPILER("avx512vnni");
  EXPECT_AGREES_WITH_COMPILER("avx512vbmi");
  EXPECT_AGREES_WITH_COMPILER("avx512bf16");
  EXPECT_AGREES_WITH_COMPILER("avxvnni");
}

TEST(CpuFeatures, X86BaselineIsPresent) {
  CpuFeatures detected = CpuFeatures::detect();
  EXPECT_TRUE(detected.has("sse2"));
  EXPECT_STREQ(CpuFeatures::hostArch(), "x86_64");
}
#endif

TEST(CpuFeatures, Disable) {
  CpuFeatures features = CpuFeatures::detect();
  std::vector<std::string> present = features.presentNames();
  if (present.empty())
    GTEST_SKIP() << "no features detected on this architecture";
  features.disable(present.front());
  EXPECT_FALSE(features.has(present.front()));
  features.disable("not-a-feature"); // harmless
}

} // namespace
