//===- GpuPipeline.h - pass pipelines of the GPU backend ---------*- C++ -*-===//

#ifndef QCC_PIPELINES_GPUPIPELINE_H
#define QCC_PIPELINES_GPUPIPELINE_H

#include "qcc/Pipelines/Pipelines.h"

namespace qcc {

struct GpuPipelineOptions : public mlir::PassPipelineOptions<GpuPipelineOptions> {
  Option<unsigned> bits{*this, "bits",
                        llvm::cl::desc("Weight bits: 32 (float), 8 or 4"),
                        llvm::cl::init(32)};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("Group size of 4-bit weights"),
                            llvm::cl::init(128)};
  Option<bool> symmetric{*this, "symmetric",
                         llvm::cl::desc("Symmetric 4-bit weight groups"),
                         llvm::cl::init(true)};
  Option<std::string> weightClip{
      *this, "weight-clip",
      llvm::cl::desc("Weight scale choice: auto, none or mse (as on the CPU)"),
      llvm::cl::init("auto")};
  Option<std::string> actQuant{
      *this, "act",
      llvm::cl::desc("Activations of quantized matmuls: none or dynamic"),
      llvm::cl::init("dynamic")};
  ListOption<std::string> keepFloat{
      *this, "keep-float",
      llvm::cl::desc("Node-name substrings of matmuls kept in float")};
  Option<bool> quantizeEmbeddings{
      *this, "quantize-embeddings",
      llvm::cl::desc("Store Gather tables as int8 rows with one scale each"),
      llvm::cl::init(false)};
  Option<bool> warpReductions{
      *this, "warp-reductions",
      llvm::cl::desc("Row reductions on a warp per row "
                     "(qcc-gpu-warp-reductions)"),
      llvm::cl::init(true)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of elementwise launches"),
      llvm::cl::init(256)};
  Option<int64_t> matmulTile{
      *this, "matmul-tile",
      llvm::cl::desc("Output tile edge of the matmul kernel (0: no tiled "
                     "matmul kernel)"),
      llvm::cl::init(64)};
  Option<int64_t> gemvTiles{
      *this, "gemv-tiles",
      llvm::cl::desc("W4A16 GEMV: 16-column tiles per warp (0: default)"),
      llvm::cl::init(0)};
  Option<int64_t> gemvWarps{
      *this, "gemv-warps",
      llvm::cl::desc("W4A16 GEMV: warps per block (0: default)"),
      llvm::cl::init(0)};
  Option<int64_t> gemvUnroll{
      *this, "gemv-unroll",
      llvm::cl::desc("W4A16 GEMV: 128-bit code loads per tile and step "
                     "(0: default)"),
      llvm::cl::init(0)};
  Option<bool> wgmma{
      *this, "wgmma",
      llvm::cl::desc("W8A8 GEMM on Hopper's wgmma.mma_async (target sm_90a)"),
      llvm::cl::init(false)};
  Option<int64_t> wgmmaTileN{
      *this, "wgmma-tile-n",
      llvm::cl::desc("wgmma GEMM: columns per block tile (0: automatic)"),
      llvm::cl::init(0)};
  Option<int64_t> wgmmaSplitK{
      *this, "wgmma-split-k",
      llvm::cl::desc("wgmma GEMM: blocks per output tile over K (0: "
                     "automatic)"),
      llvm::cl::init(0)};

  /// Sets the options of the shared front (tensor optimization,
  /// quantization) in `front`.
  void frontOptions(CpuPipelineOptions &front) const;
};

/// From linalg-on-tensors to host code that is only a launch plan (kernel
/// launches, contiguous copies, arena buffers) and one gpu.module
/// `qcc_kernels` in the NVVM/LLVM dialects (bare-pointer memrefs).
void buildGpuCodegenPipeline(mlir::OpPassManager &pm,
                             const GpuPipelineOptions &options);

/// Quantization (with `front`'s recipe: calibrated scales, GPTQ/AWQ
/// statistics, smoothing, kept outlier channels, all on the CPU's front) and
/// GPU codegen: what `qcc -target=sm_XX --calib ...` runs after calibrating
/// the tensor-optimized module on the CPU backend. Kept outlier channels stay
/// a separate float matmul (no qcc-fuse-outliers: the GPU q.matmul
/// lowerings refuse the fused form).
void buildGpuBackendPipeline(mlir::OpPassManager &pm,
                             const CpuPipelineOptions &front,
                             const GpuPipelineOptions &options);

/// Tensor optimization, quantization and GPU codegen: what
/// `qcc -target=sm_XX` runs.
void buildGpuPipeline(mlir::OpPassManager &pm,
                      const GpuPipelineOptions &options);

/// Registers the GPU pipelines with the pass registry (for qcc-opt).
void registerGpuPipelines();

} // namespace qcc

#endif // QCC_PIPELINES_GPUPIPELINE_H
