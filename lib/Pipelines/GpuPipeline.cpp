//===- GpuPipeline.cpp - pass pipelines of the GPU backend ----------------===//

#include "qcc/Pipelines/GpuPipeline.h"

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Codegen/GPU/Passes.h"
#include "qcc/Passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qcc {

void GpuPipelineOptions::frontOptions(CpuPipelineOptions &front) const {
  front.vnni = false;
  front.cpuKernelNotes = false;
  front.bits = bits;
  front.groupSize = groupSize;
  front.symmetric = symmetric;
  front.weightClip = weightClip;
  front.actQuant = actQuant;
  front.quantizeEmbeddings = quantizeEmbeddings;
  std::vector<std::string> keep(keepFloat.begin(), keepFloat.end());
  front.keepFloat = keep;
}

void buildGpuCodegenPipeline(OpPassManager &pm,
                             const GpuPipelineOptions &options) {
  // Every non-splat constant goes to the weight file: kernels cannot read
  // host globals.
  ExternalizeWeightsOptions weightOptions;
  weightOptions.minBytes = 1;
  pm.addPass(createExternalizeWeights(weightOptions));

  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferizeOptions.bufferAlignment = 64;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  // Quantized matmuls read their packed weights from the weight file too.
  // W8A8 ones go to the int8 tensor cores (qcc-gpu-mma-qmatmul) first,
  // W4A16 ones with more rows than the GEMV takes to the W4A16 GEMM.
  gpu::GpuMmaQMatmulOptions mmaOptions;
  mmaOptions.wgmma = options.wgmma;
  mmaOptions.wgmmaTileN = options.wgmmaTileN;
  mmaOptions.wgmmaSplitK = options.wgmmaSplitK;
  pm.addPass(gpu::createGpuMmaQMatmul(mmaOptions));
  pm.addPass(gpu::createGpuW4A16Gemm());
  gpu::GpuLowerQMatmulOptions qmatmulOptions;
  qmatmulOptions.gemvTiles = options.gemvTiles;
  qmatmulOptions.gemvWarps = options.gemvWarps;
  qmatmulOptions.gemvUnroll = options.gemvUnroll;
  pm.addPass(gpu::createGpuLowerQMatmul(qmatmulOptions));
  pm.addPass(createExternalizeWeights(weightOptions));

  // Everything becomes kernels; the arena plan replaces deallocation.
  pm.addNestedPass<func::FuncOp>(gpu::createGpuPrepareBuffers());
  if (options.matmulTile > 0) {
    gpu::GpuTileMatmulOptions matmulOptions;
    matmulOptions.tile = options.matmulTile;
    pm.addNestedPass<func::FuncOp>(gpu::createGpuTileMatmul(matmulOptions));
  }
  if (options.warpReductions)
    pm.addNestedPass<func::FuncOp>(gpu::createGpuInterchangeReductions());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  if (options.warpReductions) {
    gpu::GpuWarpReductionsOptions warpOptions;
    warpOptions.blockSize = options.blockSize;
    pm.addNestedPass<func::FuncOp>(gpu::createGpuWarpReductions(warpOptions));
  }
  // Every expansion but roundeven's: math.roundeven becomes __nv_rintf and
  // then llvm.roundeven (qcc-gpu-resolve-libdevice), one cvt.rni.f32.f32,
  // where its expansion took ~33 instructions per value (the W8A8
  // quantization kernel's rounding of every activation).
  math::MathExpandOpsPassOptions expandOptions;
  expandOptions.opMnemonics = {"sinh",  "cosh",  "tanh",  "tan",   "asinh",
                               "acosh", "atanh", "fma",   "ceil",  "exp2",
                               "powf",  "fpowi", "round", "rsqrt", "ctlz",
                               "clampf"};
  pm.addNestedPass<func::FuncOp>(math::createMathExpandOpsPass(expandOptions));
  pm.addNestedPass<func::FuncOp>(cpu::createCpuApproximateMath());
  gpu::GpuMapToLaunchesOptions launchOptions;
  launchOptions.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(gpu::createGpuMapToLaunches(launchOptions));
  pm.addPass(gpu::createGpuOutlineKernels());
  pm.addPass(gpu::createGpuPlanMemory());
  pm.addPass(createCanonicalizerPass());

  // Kernels to NVVM with bare-pointer memrefs.
  OpPassManager &kernels = pm.nest<mlir::gpu::GPUModuleOp>();
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  ConvertGpuOpsToNVVMOpsOptions nvvmOptions;
  nvvmOptions.useBarePtrCallConv = true;
  nvvmOptions.indexBitwidth = 64;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvmOptions));
  // wgmma.mma_async has no LLVM intrinsic form here: inline PTX.
  if (options.wgmma)
    kernels.addPass(createConvertNVVMToLLVMPass());
  kernels.addPass(gpu::createGpuResolveLibdevice());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  kernels.addPass(createCanonicalizerPass());
}

void buildGpuBackendPipeline(OpPassManager &pm, const CpuPipelineOptions &front,
                             const GpuPipelineOptions &options) {
  buildQuantizationPipeline(pm, front);
  buildGpuCodegenPipeline(pm, options);
}

void buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options) {
  CpuPipelineOptions front;
  options.frontOptions(front);
  buildTensorOptimizationPipeline(pm, front);
  buildGpuBackendPipeline(pm, front, options);
}

void registerGpuPipelines() {
  PassPipelineRegistration<GpuPipelineOptions>(
      "qcc-gpu-codegen-pipeline",
      "Lower linalg-on-tensors to a launch plan and NVVM kernels",
      buildGpuCodegenPipeline);
  PassPipelineRegistration<GpuPipelineOptions>(
      "qcc-gpu-pipeline", "The whole GPU pipeline", buildGpuPipeline);
}

} // namespace qcc
