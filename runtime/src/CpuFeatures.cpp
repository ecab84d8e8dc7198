//===- CpuFeatures.cpp - Host CPU feature detection -----------------------===//

#include "CpuFeatures.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define QCC_RUNTIME_X86 1
#endif

namespace qcc {
namespace runtime {

namespace {

/// Which register of which cpuid leaf holds a feature bit.
enum class Reg { Eax, Ebx, Ecx, Edx };
/// OS state a feature needs besides its cpuid bit.
enum class OsState { None, Avx, Avx512, Amx };

struct FeatureRecord {
  const char *name;
  unsigned leaf;
  unsigned subleaf;
  Reg reg;
  unsigned bit;
  OsState osState;
};

/// GCC __builtin_cpu_supports names and their cpuid bits (Intel SDM vol. 2A,
/// table 3-8 and leaf 07H).
const FeatureRecord featureRecords[] = {
    {"mmx", 1, 0, Reg::Edx, 23, OsState::None},
    {"sse", 1, 0, Reg::Edx, 25, OsState::None},
    {"sse2", 1, 0, Reg::Edx, 26, OsState::None},
    {"sse3", 1, 0, Reg::Ecx, 0, OsState::None},
    {"pclmul", 1, 0, Reg::Ecx, 1, OsState::None},
    {"ssse3", 1, 0, Reg::Ecx, 9, OsState::None},
    {"fma", 1, 0, Reg::Ecx, 12, OsState::Avx},
    {"cmpxchg16b", 1, 0, Reg::Ecx, 13, OsState::None},
    {"sse4.1", 1, 0, Reg::Ecx, 19, OsState::None},
    {"sse4.2", 1, 0, Reg::Ecx, 20, OsState::None},
    {"movbe", 1, 0, Reg::Ecx, 22, OsState::None},
    {"popcnt", 1, 0, Reg::Ecx, 23, OsState::None},
    {"aes", 1, 0, Reg::Ecx, 25, OsState::None},
    {"xsave", 1, 0, Reg::Ecx, 26, OsState::None},
    {"osxsave", 1, 0, Reg::Ecx, 27, OsState::None},
    {"avx", 1, 0, Reg::Ecx, 28, OsState::Avx},
    {"f16c", 1, 0, Reg::Ecx, 29, OsState::Avx},
    {"rdrnd", 1, 0, Reg::Ecx, 30, OsState::None},
    {"bmi", 7, 0, Reg::Ebx, 3, OsState::None},
    {"avx2", 7, 0, Reg::Ebx, 5, OsState::Avx},
    {"bmi2", 7, 0, Reg::Ebx, 8, OsState::None},
    {"avx512f", 7, 0, Reg::Ebx, 16, OsState::Avx512},
    {"avx512dq", 7, 0, Reg::Ebx, 17, OsState::Avx512},
    {"rdseed", 7, 0, Reg::Ebx, 18, OsState::None},
    {"adx", 7, 0, Reg::Ebx, 19, OsState::None},
    {"avx512ifma", 7, 0, Reg::Ebx, 21, OsState::Avx512},
    {"avx512cd", 7, 0, Reg::Ebx, 28, OsState::Avx512},
    {"sha", 7, 0, Reg::Ebx, 29, OsState::None},
    {"avx512bw", 7, 0, Reg::Ebx, 30, OsState::Avx512},
    {"avx512vl", 7, 0, Reg::Ebx, 31, OsState::Avx512},
    {"avx512vbmi", 7, 0, Reg::Ecx, 1, OsState::Avx512},
    {"avx512vbmi2", 7, 0, Reg::Ecx, 6, OsState::Avx512},
    {"gfni", 7, 0, Reg::Ecx, 8, OsState::None},
    {"vaes", 7, 0, Reg::Ecx, 9, OsState::Avx},
    {"vpclmulqdq", 7, 0, Reg::Ecx, 10, OsState::Avx},
    {"avx512vnni", 7, 0, Reg::Ecx, 11, OsState::Avx512},
    {"avx512bitalg", 7, 0, Reg::Ecx, 12, OsState::Avx512},
    {"avx512vpopcntdq", 7, 0, Reg::Ecx, 14, OsState::Avx512},
    {"avx512vp2intersect", 7, 0, Reg::Edx, 8, OsState::Avx512},
    {"amx-bf16", 7, 0, Reg::Edx, 22, OsState::Amx},
    {"avx512fp16", 7, 0, Reg::Edx, 23, OsState::Avx512},
    {"amx-tile", 7, 0, Reg::Edx, 24, OsState::Amx},
    {"amx-int8", 7, 0, Reg::Edx, 25, OsState::Amx},
    {"avxvnni", 7, 1, Reg::Eax, 4, OsState::Avx},
    {"avx512bf16", 7, 1, Reg::Eax, 5, OsState::Avx512},
    {"avxifma", 7, 1, Reg::Eax, 23, OsState::Avx},
    {"avxvnniint8", 7, 1, Reg::Edx, 4, OsState::Avx},
};

#ifdef QCC_RUNTIME_X86
/// Reads XCR0 (which register states the OS saves on context switches).
uint64_t readXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}
#endif

} // namespace

const char *CpuFeatures::hostArch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__i386__)
  return "i386";
#else
  return "unknown";
#endif
}

CpuFeatures CpuFeatures::detect() {
  CpuFeatures features;
#ifdef QCC_RUNTIME_X86
  unsigned maxLeaf = __get_cpuid_max(0, nullptr);
  unsigned leaf1[4] = {0, 0, 0, 0};
  if (maxLeaf >= 1)
    __get_cpuid(1, &leaf1[0], &leaf1[1], &leaf1[2], &leaf1[3]);
  unsigned leaf7[4] = {0, 0, 0, 0}, leaf7s1[4] = {0, 0, 0, 0};
  if (maxLeaf >= 7) {
    __cpuid_count(7, 0, leaf7[0], leaf7[1], leaf7[2], leaf7[3]);
    if (leaf7[0] >= 1)
      __cpuid_count(7, 1, leaf7s1[0], leaf7s1[1], leaf7s1[2], leaf7s1[3]);
  }
  // XCR0 bits: 1 SSE, 2 AVX (YMM upper halves), 5-7 AVX-512 (opmask,
  // ZMM_Hi256, Hi16_ZMM), 17-18 AMX (XTILECFG, XTILEDATA).
  bool osxsave = (leaf1[2] >> 27) & 1;
  uint64_t xcr0 = osxsave ? readXcr0() : 0;
  bool osAvx = (xcr0 & 0x6) == 0x6;
  bool osAvx512 = osAvx && (xcr0 & 0xE0) == 0xE0;
  bool osAmx = (xcr0 & 0x60000) == 0x60000;
  for (const FeatureRecord &record : featureRecords) {
    const unsigned *regs = record.leaf == 1      ? leaf1
                           : record.subleaf == 0 ? leaf7
                                                 : leaf7s1;
    if (!((regs[static_cast<int>(record.reg)] >> record.bit) & 1))
      continue;
    if ((record.osState == OsState::Avx && !osAvx) ||
        (record.osState == OsState::Avx512 && !osAvx512) ||
        (record.osState == OsState::Amx && !osAmx))
      continue;
    features.present.push_back(record.name);
  }
  std::sort(features.present.begin(), features.present.end());
#endif
  return features;
}

const CpuFeatures &CpuFeatures::host() {
  static const CpuFeatures cached = [] {
    CpuFeatures features = detect();
    if (const char *disabled =
            std::getenv("QCC_RUNTIME_DISABLE_CPU_FEATURES")) {
      std::string list = disabled;
      size_t start = 0;
      while (start <= list.size()) {
        size_t end = list.find(',', start);
        if (end == std::string::npos)
          end = list.size();
        features.disable(list.substr(start, end - start));
        start = end + 1;
      }
    }
    return features;
  }();
  return cached;
}

bool CpuFeatures::isKnown(const std::string &name) {
  for (const FeatureRecord &record : featureRecords)
    if (name == record.name)
      return true;
  return false;
}

std::vector<std::string> CpuFeatures::knownNames() {
  std::vector<std::string> names;
  for (const FeatureRecord &record : featureRecords)
    names.push_back(record.name);
  return names;
}

bool CpuFeatures::has(const std::string &name) const {
  return std::binary_search(present.begin(), present.end(), name);
}

std::vector<std::string> CpuFeatures::presentNames() const { return present; }

void CpuFeatures::disable(const std::string &name) {
  auto it = std::lower_bound(present.begin(), present.end(), name);
  if (it != present.end() && *it == name)
    present.erase(it);
}

} // namespace runtime
} // namespace qcc
