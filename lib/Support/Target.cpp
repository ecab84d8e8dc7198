//===- Target.cpp - compilation targets -----------------------------------===//

#include "qcc/Target/Target.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

using namespace qcc;

static std::vector<TargetInfo> buildTargets() {
  std::vector<TargetInfo> targets;
  const char *triple = "x86_64-unknown-linux-gnu";

  TargetInfo avx2;
  avx2.name = "x86-64";
  avx2.description =
      "x86-64 with AVX2 and FMA (x86-64-v3); int8 through vpmaddwd, no VNNI";
  avx2.triple = triple;
  avx2.cpu = "x86-64-v3";
  avx2.requiredFeatures = {"avx", "avx2", "fma", "f16c"};
  avx2.vectorWidthF32 = 8;
  // AVX2 q.matmul kernels (QMatmulKernelsAvx2.cpp) for int8 and int4.
  avx2.fastBits = {32, 8, 4};
  targets.push_back(avx2);

  TargetInfo avx512 = avx2;
  avx512.name = "x86-64-avx512";
  avx512.description = "x86-64 with AVX-512 F/BW/DQ/VL (x86-64-v4)";
  avx512.cpu = "x86-64-v4";
  avx512.llvmFeatures = "-prefer-256-bit";
  avx512.requiredFeatures = {"avx",      "avx2",     "fma",     "f16c",
                             "avx512f",  "avx512bw", "avx512vl", "avx512dq"};
  avx512.vectorWidthF32 = 16;
  targets.push_back(avx512);

  TargetInfo vnni = avx512;
  vnni.name = "x86-64-vnni";
  vnni.description = "x86-64-v4 with AVX-512 VNNI (vpdpbusd int8 dot products)";
  vnni.llvmFeatures = "-prefer-256-bit,+avx512vnni";
  vnni.requiredFeatures.push_back("avx512vnni");
  vnni.hasVnni = true;
  vnni.fastBits = {32, 8, 4};
  targets.push_back(vnni);

  for (int sm : {80, 86, 89, 90}) {
    TargetInfo gpu;
    gpu.name = "sm_" + std::to_string(sm);
    gpu.kind = TargetKind::Gpu;
    gpu.description = "NVIDIA GPU of compute capability " +
                      std::to_string(sm / 10) + "." + std::to_string(sm % 10) +
                      " or newer (PTX)";
    gpu.triple = "nvptx64-nvidia-cuda";
    gpu.cpu = gpu.name;
    gpu.llvmFeatures = "+ptx80";
    gpu.smVersion = sm;
    gpu.fastBits = {16, 8, 4};
    targets.push_back(gpu);
  }
  // Hopper's architecture-specific features (wgmma): the W8A8 GEMM runs on
  // warpgroup MMA; the PTX loads only on compute capability 9.0.
  TargetInfo hopper = targets.back();
  hopper.name = "sm_90a";
  hopper.description = "NVIDIA GPU of compute capability exactly 9.0 (H100, "
                       "H200: PTX with wgmma)";
  hopper.cpu = hopper.name;
  hopper.archSpecific = true;
  targets.push_back(hopper);
  return targets;
}

llvm::ArrayRef<TargetInfo> qcc::getAllTargets() {
  static const std::vector<TargetInfo> targets = buildTargets();
  return targets;
}

const TargetInfo *qcc::lookupTarget(llvm::StringRef name) {
  if (name == "host") {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    auto has = [&](llvm::StringRef f) { return features.lookup(f); };
    if (has("avx512f") && has("avx512bw") && has("avx512vl") &&
        has("avx512dq"))
      return lookupTarget(has("avx512vnni") ? "x86-64-vnni" : "x86-64-avx512");
    return lookupTarget("x86-64");
  }
  for (const TargetInfo &target : getAllTargets())
    if (target.name == name)
      return &target;
  return nullptr;
}

bool qcc::hostRuns(const TargetInfo &target) {
  if (target.kind != TargetKind::Cpu)
    return false;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return llvm::all_of(target.requiredFeatures, [&](const std::string &f) {
    return features.lookup(f);
  });
}
