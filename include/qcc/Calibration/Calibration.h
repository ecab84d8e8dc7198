//===- Calibration.h - calibration and evaluation on user data --*- C++ -*-===//
//
// Calibration runs the float model, compiled by qcc's own CPU backend and
// loaded in-process through the runtime, on the user's input sets. The
// activations of every matmul that quantization will touch are extra results
// of that build (qcc-insert-observers); each sample's values stream into
// lib/Quant observers (a histogram for the range choice, per-channel |x|
// statistics), so memory stays bounded whatever the number of samples. The
// chosen range becomes the `qcc.act_absmax` attribute of the matmul, which
// qcc-quantize-weights turns into a static activation scale.
//
// Evaluation runs the shipped artifact and the float model on the same
// inputs and compares their outputs.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CALIBRATION_CALIBRATION_H
#define QCC_CALIBRATION_CALIBRATION_H

#include "qcc/Artifact/Artifact.h"
#include "qcc/Pipelines/Pipelines.h"
#include "qcc/qcc_runtime.h"

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qcc {

class InputSets;
struct TargetInfo;

enum class CalibrationMethod { MinMax, Percentile, Entropy, Mse };

/// Parses "minmax", "percentile", "entropy" or "mse".
bool parseCalibrationMethod(llvm::StringRef text, CalibrationMethod &method);
const char *calibrationMethodName(CalibrationMethod method);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  /// Percent of |x| kept by the percentile method.
  double percentile = 99.99;
  /// Use at most this many input sets (0 = all).
  int64_t maxSamples = 0;
  /// Layers whose static int8 activations would have a signal-to-noise
  /// ratio below this (dB) quantize per token at run time instead; 0 keeps
  /// every layer static.
  double minSqnrDb = 30.0;
  /// When set, also accumulate X^T X per observed activation (what GPTQ and
  /// AWQ need) and write every layer's statistics to this folder as .npy
  /// files with an index.json.
  std::string statsDir;
  /// Which positions count: the name of an integer or bool model input
  /// ([batch, seq], 0 = padding) whose zero entries mark rows that the
  /// statistics leave out, in every observed activation with one row per
  /// entry of it. Padded positions hold activations the model computes but
  /// never uses (attention and pooling mask them); with short sentences
  /// padded to the model's length they are most rows, and ranges, channel
  /// statistics and X^T X would describe them. Empty: the input named
  /// "attention_mask", if the model has one; "none": every row counts.
  std::string tokenMask;
  /// Runtime threads (0 = all).
  unsigned numThreads = 0;
  /// Draw a progress bar on stderr (the driver sets it when stderr is a
  /// terminal).
  bool progress = false;
};

/// What calibration found for one matmul.
struct CalibrationPoint {
  int64_t id = 0;
  /// ONNX node name of the matmul.
  std::string name;
  /// Columns of the observed activations (the matmul's K).
  int64_t channels = 0;
  float min = 0, max = 0;
  /// The |x| bound the method chose (the static scale is absmax / 127).
  float absMax = 0;
  /// max over channels of mean |x| divided by the mean over channels: how
  /// much the largest input channel stands out (outliers).
  double channelOutlierRatio = 0;
  /// Signal-to-noise ratio, in dB, of these activations quantized to int8
  /// per tensor with the chosen range (estimated from the histogram).
  double sqnrDb = 0;
  /// Quantized per token at run time instead: sqnrDb < minSqnrDb.
  bool fallback = false;
  uint64_t values = 0;
  uint64_t nonFinite = 0;
};

struct CalibrationResult {
  CalibrationMethod method = CalibrationMethod::Percentile;
  double percentile = 0;
  size_t numSamples = 0;
  /// The input whose zero entries were left out (empty: none), and the
  /// positions kept / seen over all samples.
  std::string tokenMask;
  uint64_t maskedKept = 0, maskedTotal = 0;
  double compileSeconds = 0;
  double runSeconds = 0;
  /// The float model of an earlier calibration ran again (CalibrationSession)
  /// instead of a compile: compileSeconds covers only the matching.
  bool reusedModel = false;
  std::vector<CalibrationPoint> points;
};

/// The float model compiled for the host CPU into a temporary artifact and
/// loaded through the runtime. Removes its files when destroyed.
class FloatModel {
public:
  ~FloatModel();
  FloatModel(const FloatModel &) = delete;
  FloatModel &operator=(const FloatModel &) = delete;

  /// Compiles `module` (tensor level, after the tensor optimizations; it is
  /// consumed) with `options` forced to float, for `target`, and loads it
  /// with `numThreads` runtime threads.
  static std::unique_ptr<FloatModel>
  compile(mlir::ModuleOp module, const TargetInfo &target,
          const CpuPipelineOptions &options, unsigned numThreads,
          std::string &error);

  qcc_model_t *get() const { return model; }
  const ArtifactSpec &spec() const { return artifactSpec; }

private:
  FloatModel() = default;
  qcc_model_t *model = nullptr;
  std::string directory;
  ArtifactSpec artifactSpec;
};

/// The instrumented float model of a calibration, kept so that calibrating
/// again after qcc-smooth-activations / qcc-retain-outliers runs it instead
/// of compiling the rewritten model. Those passes change a calibrated
/// matmul's input only by a per-channel factor that the float model computes
/// exactly up to rounding (1/s folded into the producer, the 0/1 outlier
/// mask), recorded as `qcc.calib_channel_factor`; the rewritten input is the
/// observed one times that factor.
struct CalibrationSession {
  std::unique_ptr<FloatModel> model;
  /// The ONNX node name of each observed matmul -> the index of the model
  /// output holding its input (names that are empty or not unique are left
  /// out, so their matmuls cannot be matched).
  std::map<std::string, size_t> outputOf;
};

/// Tags the quantizable matmuls of `module` (tensor level, after the tensor
/// optimizations), compiles a float copy exposing their activations, runs it
/// over `sets` and sets `qcc.act_absmax` / `qcc.act_source` on each tagged
/// matmul. `reference`, when not null, receives the float model (its first
/// outputs are the model's), so evaluation can reuse it. `session`, when not
/// null: if it holds a model and every tagged matmul's name, shape and
/// channel factor match one of its observations, that model runs instead of
/// compiling `module` (see CalibrationSession); otherwise, and when no
/// `reference` is asked for, it receives the model compiled here. Only pass
/// a session whose model computes `module` up to per-channel factors.
mlir::LogicalResult calibrate(mlir::ModuleOp module, const TargetInfo &target,
                              const CpuPipelineOptions &pipelineOptions,
                              const InputSets &sets,
                              const CalibrationOptions &options,
                              CalibrationResult &result,
                              std::unique_ptr<FloatModel> *reference,
                              std::string &error,
                              CalibrationSession *session = nullptr);

class OwnedTensor;

/// Allocates one buffer per output of `model`.
bool allocateModelOutputs(qcc_model_t *model, std::vector<OwnedTensor> &outputs,
                          std::string &error);
/// Runs `model` once on `inputs` into `outputs` (model order).
bool runModel(qcc_model_t *model, std::vector<OwnedTensor> &inputs,
              std::vector<OwnedTensor> &outputs, std::string &error);

/// Float-vs-quantized agreement of one output over the evaluation sets.
struct OutputQuality {
  std::string name;
  double meanCosine = 0, minCosine = 0;
  double meanRelL2 = 0, maxRelL2 = 0;
  /// Fraction of rows (all but the last axis) whose argmax over the last
  /// axis agrees; negative when the output has no axis to take it over.
  double top1Agreement = -1;
  double maxAbsError = 0;
};

struct EvaluationResult {
  size_t numSamples = 0;
  std::vector<OutputQuality> outputs;
};

/// Runs `quantized` (the shipped artifact) and `reference` on every set and
/// compares their float outputs. Only the first outputs of `reference`, as
/// many as `quantized` has, are compared.
mlir::LogicalResult evaluate(qcc_model_t *quantized, qcc_model_t *reference,
                             const InputSets &sets, bool progress,
                             EvaluationResult &result, std::string &error);

} // namespace qcc

#endif // QCC_CALIBRATION_CALIBRATION_H
