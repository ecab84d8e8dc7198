//===- Pipelines.h - the only place pass order lives ------------*- C++ -*-===//

#ifndef QCC_PIPELINES_PIPELINES_H
#define QCC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace qcc {

struct TargetInfo;

struct CpuPipelineOptions : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> vectorWidth{*this, "vector-width",
                              llvm::cl::desc("f32 lanes per vector register"),
                              llvm::cl::init(16)};
  Option<int64_t> weightMinBytes{
      *this, "weight-min-bytes",
      llvm::cl::desc("Smallest constant moved into the weight file"),
      llvm::cl::init(256)};
  Option<bool> fuseElementwise{*this, "fuse-elementwise",
                               llvm::cl::desc("Fuse elementwise linalg ops"),
                               llvm::cl::init(true)};
  Option<bool> vnni{*this, "vnni",
                    llvm::cl::desc("The target has AVX-512 VNNI"),
                    llvm::cl::init(true)};
  Option<bool> cpuKernelNotes{
      *this, "cpu-kernel-notes",
      llvm::cl::desc("Report notes name the CPU kernel of each layer"),
      llvm::cl::init(true)};
  Option<unsigned> bits{*this, "bits",
                        llvm::cl::desc("Weight bits: 32 (float), 8 or 4"),
                        llvm::cl::init(32)};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("Group size of 4-bit weights"),
                            llvm::cl::init(128)};
  Option<bool> symmetric{*this, "symmetric",
                         llvm::cl::desc("Symmetric 4-bit weight groups"),
                         llvm::cl::init(true)};
  Option<std::string> actQuant{
      *this, "act",
      llvm::cl::desc("Activations of quantized matmuls: none, dynamic or static "
                     "(static needs calibrated ranges)"),
      llvm::cl::init("dynamic")};
  Option<bool> quantizeEmbeddings{
      *this, "quantize-embeddings",
      llvm::cl::desc("Store gathered embedding tables as int8 rows"),
      llvm::cl::init(false)};
  ListOption<std::string> keepFloat{
      *this, "keep-float",
      llvm::cl::desc("Node-name substrings of matmuls kept in float")};
  Option<bool> smooth{
      *this, "smooth",
      llvm::cl::desc("SmoothQuant before weight quantization (needs the "
                     "calibrated qcc.act_channel_absmax of each matmul)"),
      llvm::cl::init(false)};
  Option<double> smoothAlpha{
      *this, "smooth-alpha",
      llvm::cl::desc("SmoothQuant migration strength in [0, 1]"),
      llvm::cl::init(0.5)};
  Option<int64_t> outlierCount{
      *this, "outlier-count",
      llvm::cl::desc("qcc-retain-outliers: most activation channels kept in "
                     "float per matmul input (0 with outlier-ratio 0: off)"),
      llvm::cl::init(0)};
  Option<double> outlierRatio{
      *this, "outlier-ratio",
      llvm::cl::desc("qcc-retain-outliers: keep channels whose calibrated "
                     "max |x| exceeds this times the median channel's"),
      llvm::cl::init(0.0)};
  Option<std::string> weightAlgo{
      *this, "weight-algo",
      llvm::cl::desc("Weight rounding: rtn or gptq (needs weight-stats)"),
      llvm::cl::init("rtn")};
  Option<std::string> weightClip{
      *this, "weight-clip",
      llvm::cl::desc("Weight scale choice: auto, none, mse or act (needs "
                     "weight-stats)"),
      llvm::cl::init("auto")};
  Option<std::string> weightStats{
      *this, "weight-stats",
      llvm::cl::desc("Calibration statistics folder (--calib-stats format) "
                     "for gptq, weight-clip=act and the report's output "
                     "errors"),
      llvm::cl::init("")};
  Option<bool> gptqActOrder{
      *this, "gptq-act-order",
      llvm::cl::desc("GPTQ: input channels by decreasing E[x^2]"),
      llvm::cl::init(false)};
  Option<double> gptqDampening{
      *this, "gptq-dampening",
      llvm::cl::desc("GPTQ: damping as a fraction of mean(diag(X^T X))"),
      llvm::cl::init(0.01)};
  Option<bool> awq{
      *this, "awq",
      llvm::cl::desc("AWQ per-input-channel weight scales before weight "
                     "quantization (needs awq-stats)"),
      llvm::cl::init(false)};
  Option<std::string> awqStats{
      *this, "awq-stats",
      llvm::cl::desc("Calibration statistics folder (--calib-stats format) "
                     "AWQ reads X^T X and mean |x| from"),
      llvm::cl::init("")};

  /// Sets the options that follow from `target`.
  void setTarget(const TargetInfo &target);
};

/// Tensor-level cleanup and fusion right after import: canonicalization,
/// CSE and elementwise fusion on linalg-on-tensors.
void buildTensorOptimizationPipeline(mlir::OpPassManager &pm,
                                     const CpuPipelineOptions &options);

/// From linalg-on-tensors (after import and quantization) to the LLVM
/// dialect with the artifact's entry points: weight externalization,
/// bufferization with outputs as parameters, deallocation, microkernels,
/// loops, and conversion to LLVM.
void buildCpuCodegenPipeline(mlir::OpPassManager &pm,
                             const CpuPipelineOptions &options);

/// Weight quantization (when `bits` is 8 or 4): float matmuls with constant
/// weights become q.matmul.
void buildQuantizationPipeline(mlir::OpPassManager &pm,
                               const CpuPipelineOptions &options);

/// SmoothQuant channel smoothing (when `smooth` is set): part of the
/// quantization pipeline; the driver also runs it alone before calibrating
/// static activation ranges on the smoothed model.
void buildSmoothingPipeline(mlir::OpPassManager &pm,
                            const CpuPipelineOptions &options);

/// AWQ channel scaling (when `awq` is set): part of the quantization
/// pipeline, after smoothing; the driver also runs it alone before
/// calibrating static ranges or GPTQ's X^T X on the rescaled model.
void buildAwqPipeline(mlir::OpPassManager &pm,
                      const CpuPipelineOptions &options);

/// Mixed-precision outlier retention (when outlier-count or outlier-ratio
/// is set): part of the quantization pipeline, after smoothing; the driver
/// also runs it alone before calibrating again on the split model.
void buildOutlierPipeline(mlir::OpPassManager &pm,
                          const CpuPipelineOptions &options);

/// Tensor optimization, quantization and codegen: what `qcc -target=x86-64*`
/// runs.
/// Quantization (when options.bits is 8 or 4) and codegen: everything after
/// the tensor-level optimizations. Calibration runs between the two.
void buildCpuBackendPipeline(mlir::OpPassManager &pm,
                             const CpuPipelineOptions &options);

void buildCpuFloatPipeline(mlir::OpPassManager &pm,
                           const CpuPipelineOptions &options);

/// Registers the pipelines above with the pass registry (for qcc-opt).
void registerPipelines();

} // namespace qcc

#endif // QCC_PIPELINES_PIPELINES_H
