//===- CpuPipeline.cpp - pass pipelines of the CPU backend ----------------===//

#include "qcc/Codegen/CPU/Passes.h"
#include "qcc/Passes/Passes.h"
#include "qcc/Pipelines/Pipelines.h"
#include "qcc/Target/Target.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qcc {

void CpuPipelineOptions::setTarget(const TargetInfo &target) {
  vectorWidth = target.vectorWidthF32;
  vnni = target.hasVnni;
}

void buildSmoothingPipeline(OpPassManager &pm,
                            const CpuPipelineOptions &options) {
  if (!options.smooth)
    return;
  SmoothActivationsOptions smoothOptions;
  smoothOptions.alpha = options.smoothAlpha;
  pm.addNestedPass<func::FuncOp>(createSmoothActivations(smoothOptions));
}

void buildAwqPipeline(OpPassManager &pm, const CpuPipelineOptions &options) {
  if (!options.awq)
    return;
  AwqScaleOptions awqOptions;
  awqOptions.statsDir = options.awqStats;
  awqOptions.bits = options.bits;
  awqOptions.groupSize = options.groupSize;
  awqOptions.symmetric = options.symmetric;
  // The search rounds as qcc-quantize-weights will; GPTQ's "auto" clip is
  // the full range.
  awqOptions.clip = options.weightAlgo == "gptq" && options.weightClip == "auto"
                        ? std::string("none")
                        : options.weightClip.getValue();
  awqOptions.keepFloat.assign(options.keepFloat.begin(),
                              options.keepFloat.end());
  pm.addNestedPass<func::FuncOp>(createAwqScale(awqOptions));
}

void buildOutlierPipeline(OpPassManager &pm,
                          const CpuPipelineOptions &options) {
  if (options.outlierCount == 0 && options.outlierRatio == 0.0)
    return;
  RetainOutliersOptions outlierOptions;
  outlierOptions.count = options.outlierCount;
  outlierOptions.ratio = options.outlierRatio;
  // Weight-only: the zeroed weight rows already take the channels out.
  outlierOptions.maskActivations = options.actQuant != "none";
  pm.addNestedPass<func::FuncOp>(createRetainOutliers(outlierOptions));
}

void buildQuantizationPipeline(OpPassManager &pm,
                               const CpuPipelineOptions &options) {
  if (options.bits != 8 && options.bits != 4)
    return;
  // Matmuls smoothed or split before calibration are marked and left alone
  // here.
  buildSmoothingPipeline(pm, options);
  buildAwqPipeline(pm, options);
  buildOutlierPipeline(pm, options);
  QuantizeWeightsOptions quantOptions;
  quantOptions.bits = options.bits;
  quantOptions.groupSize = options.groupSize;
  quantOptions.symmetric = options.symmetric;
  quantOptions.actQuant = options.actQuant;
  quantOptions.vnni = options.vnni;
  quantOptions.cpuKernelNotes = options.cpuKernelNotes;
  quantOptions.weightAlgo = options.weightAlgo;
  quantOptions.clip = options.weightClip;
  quantOptions.statsDir = options.weightStats;
  quantOptions.actOrder = options.gptqActOrder;
  quantOptions.dampening = options.gptqDampening;
  quantOptions.keepFloat.assign(options.keepFloat.begin(),
                                options.keepFloat.end());
  pm.addNestedPass<func::FuncOp>(createQuantizeWeights(quantOptions));
  if (options.quantizeEmbeddings)
    pm.addNestedPass<func::FuncOp>(createQuantizeEmbeddings());
  pm.addPass(createCanonicalizerPass());
}

void buildTensorOptimizationPipeline(OpPassManager &pm,
                                     const CpuPipelineOptions &options) {
  // Tensors without elements go first: no later pass or code generator
  // then meets one.
  pm.addNestedPass<func::FuncOp>(createFoldEmptyTensors());
  // Transposes that only move unit dimensions (attention at one token)
  // become views.
  pm.addNestedPass<func::FuncOp>(createTransposeToReshape());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Inference BatchNorm and per-channel Mul/Add into the conv weights while
  // the convs are still NCHW named ops (their bias add stays one generic).
  pm.addNestedPass<func::FuncOp>(createFoldConvAffine());
  // Convolution chains in NHWC first, so im2col reads channel runs and
  // matmul results need no transposes.
  pm.addNestedPass<func::FuncOp>(createConvNhwc());
  pm.addNestedPass<func::FuncOp>(createConvToMatmul());
  if (options.fuseElementwise) {
    // Concats of slices of one tensor (rotary's rotate-half) first, as one
    // indexed loop the elementwise fusion can merge into its consumer.
    pm.addNestedPass<func::FuncOp>(createConcatSlices());
    pm.addNestedPass<func::FuncOp>(createFuseElementwise());
    pm.addPass(createCanonicalizerPass());
  }
}

void buildCpuCodegenPipeline(OpPassManager &pm,
                             const CpuPipelineOptions &options) {
  // While the weights are still in the IR: constant f32 matmul weights in
  // the order the microkernel's blocks read them.
  cpu::CpuPackMatmulWeightsOptions packOptions;
  packOptions.vectorWidth = options.vectorWidth;
  pm.addNestedPass<func::FuncOp>(cpu::createCpuPackMatmulWeights(packOptions));
  ExternalizeWeightsOptions weightOptions;
  weightOptions.minBytes = options.weightMinBytes;
  pm.addPass(createExternalizeWeights(weightOptions));

  // Producers of padded convolution inputs write the padded interior, so
  // bufferization copies nothing for the pads.
  pm.addNestedPass<func::FuncOp>(createPadInPlace());
  // Bufferize the whole module; the entry function's results become
  // caller-provided output buffers written in place.
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
  bufferization::buildBufferDeallocationPipeline(pm);

  cpu::CpuLowerQMatmulOptions qmatmulOptions;
  qmatmulOptions.vnni = options.vnni;
  pm.addPass(cpu::createCpuLowerQMatmul(qmatmulOptions));
  // Again after the kernels created their constants (packed weights, shift
  // corrections): those go to the weight file too.
  pm.addPass(createExternalizeWeights(weightOptions));
  cpu::CpuMatmulMicrokernelOptions kernelOptions;
  kernelOptions.vectorWidth = options.vectorWidth;
  // f32 matmuls from 256K multiply-adds share out (the pass's default, 4M,
  // priced in a sleeping worker's wake-up): during a run the pool's workers
  // spin between regions, so a region costs a few microseconds. SmolLM2's
  // one-token f32 projections (576x576 .. 1536x576, weights streamed from
  // DRAM) then run on both threads: 35.1 -> 26.1 ms at 2 threads, 1 thread
  // unchanged; f32 products of 0.1M multiply-adds split in isolation were
  // 1.4x slower at 2 threads, of 0.26M neutral.
  kernelOptions.parallelMinFmas = 262144;
  pm.addNestedPass<func::FuncOp>(cpu::createCpuMatmulMicrokernel(kernelOptions));
  // NHWC depthwise convolutions and pools: whole vectors over channels.
  cpu::CpuVectorizeChannelsOptions channelOptions;
  channelOptions.vectorWidth = options.vectorWidth;
  pm.addNestedPass<func::FuncOp>(
      cpu::createCpuVectorizeChannels(channelOptions));
  pm.addNestedPass<func::FuncOp>(cpu::createCpuLowerStridedCopies());
  pm.addNestedPass<func::FuncOp>(cpu::createCpuReassociateReductions());
  // Parallel dimensions become scf.parallel, which qcc-cpu-outline-parallel
  // shares out over the pool when the loop is big enough.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(cpu::createCpuApproximateMath());
  // After the last producer of scf.parallel, before anything lowers it.
  pm.addPass(cpu::createCpuOutlineParallel());
  // One function per loop nest: LLVM's time grows faster than linearly with
  // the size of a function, and a whole model is one entry function.
  pm.addPass(cpu::createCpuOutlineKernels());
  // Every layer's copy of a kernel is now the same function of its buffers.
  pm.addPass(cpu::createCpuMergeFunctions());
  // After outlining, so kernels still receive distinct allocations (and
  // their noalias arguments); buffers then share one arena, which the
  // runtime passes in and keeps from call to call.
  cpu::CpuPlanBuffersOptions planOptions;
  planOptions.arenaArgument = true;
  pm.addPass(cpu::createCpuPlanBuffers(planOptions));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(cpu::createCpuEmitEntry());
  pm.addPass(createCanonicalizerPass());
}

void buildCpuBackendPipeline(OpPassManager &pm,
                             const CpuPipelineOptions &options) {
  buildQuantizationPipeline(pm, options);
  // The CPU's q.matmul takes kept outlier channels itself (masked in the
  // activation quantization, the float product added in its epilogue); the
  // GPU lowerings do not, so there the split stays as separate ops.
  if ((options.bits == 8 || options.bits == 4) &&
      (options.outlierCount != 0 || options.outlierRatio != 0.0))
    pm.addNestedPass<func::FuncOp>(createFuseOutliers());
  buildCpuCodegenPipeline(pm, options);
}

void buildCpuFloatPipeline(OpPassManager &pm,
                           const CpuPipelineOptions &options) {
  buildTensorOptimizationPipeline(pm, options);
  buildCpuBackendPipeline(pm, options);
}

void registerPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "qcc-cpu-tensor-pipeline",
      "Tensor-level cleanup and elementwise fusion after import",
      buildTensorOptimizationPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "qcc-cpu-codegen-pipeline",
      "Lower linalg-on-tensors to the LLVM dialect with the artifact ABI",
      buildCpuCodegenPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "qcc-cpu-float-pipeline", "The whole float CPU pipeline",
      buildCpuFloatPipeline);
}

} // namespace qcc
