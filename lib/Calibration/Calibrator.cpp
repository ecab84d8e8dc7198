//===- Calibrator.cpp - activation ranges from the user's data ------------===//

#include "qcc/Calibration/Calibration.h"

#include "qcc/Calibration/InputSets.h"
#include "qcc/Passes/Passes.h"
#include "qcc/Passes/QuantUtils.h"
#include "qcc/Quant/Histogram.h"
#include "qcc/Quant/Observers.h"
#include "qcc/Target/Target.h"
#include "qcc/qcc_tensor_io.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>
#include <set>
#include <cstring>
#include <cmath>

using namespace mlir;
using namespace qcc;
namespace qnum = qcc::quant;

namespace {

std::string takeMessage(qcc_status status) {
  std::string message = qcc_status_message(status);
  qcc_status_free(status);
  return message;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// A matmul that qcc-quantize-weights may quantize: a constant f32 right
/// operand on tensors. (Its own checks decide; observing a few more is
/// harmless.)
bool isCandidate(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics() || op.getInputs().size() != 2 ||
      op->hasAttr("qcc.keep_float")) // stays float whatever it sees
    return false;
  auto weight = op.getInputs()[1].getDefiningOp<arith::ConstantOp>();
  auto input = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
  return weight && input && input.hasStaticShape() &&
         input.getElementType().isF32();
}

/// True where the `count` unsigned integers of width sizeof(T) at `data` are
/// non-zero (any signedness: only zero matters).
template <typename T>
void markNonZero(const char *data, size_t count, std::vector<uint8_t> &keep) {
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    keep[i] = v != 0;
  }
}

/// Reads the mask input `t` (an integer or bool tensor) into `keep`: true for
/// each non-zero entry. False for another dtype.
bool readTokenMask(const qcc_tensor &t, std::vector<uint8_t> &keep) {
  size_t size = qcc_dtype_size(static_cast<qcc_dtype>(t.dtype));
  if (size == 0)
    return false;
  size_t count = t.byte_size / size;
  keep.assign(count, 0);
  const char *data = static_cast<const char *>(t.data);
  switch (t.dtype) {
  case QCC_DTYPE_INT8:
  case QCC_DTYPE_UINT8:
  case QCC_DTYPE_BOOL:
    markNonZero<uint8_t>(data, count, keep);
    return true;
  case QCC_DTYPE_INT16:
  case QCC_DTYPE_UINT16:
    markNonZero<uint16_t>(data, count, keep);
    return true;
  case QCC_DTYPE_INT32:
  case QCC_DTYPE_UINT32:
    markNonZero<uint32_t>(data, count, keep);
    return true;
  case QCC_DTYPE_INT64:
  case QCC_DTYPE_UINT64:
    markNonZero<uint64_t>(data, count, keep);
    return true;
  default:
    return false;
  }
}

/// One observed activation: a model output, the per-channel factor that
/// turns it into what the matmuls `ids` read (null: none), and those ids.
struct Observation {
  size_t output = 0;
  DenseElementsAttr factor;
  std::vector<int64_t> ids;
};

/// Maps each tagged matmul to an observation of `session`'s model: the output
/// that observed the matmul of the same name, with the matmul's channel
/// factor (matmuls with the same output and factor share one). False when a
/// matmul has no match: an unknown or ambiguous name, another shape, a
/// factor that is not `K` f32 values.
bool matchSession(const CalibrationSession &session,
                  std::vector<linalg::MatmulOp> &matmuls,
                  const std::vector<CalibrationPoint> &points,
                  std::vector<Observation> &observed) {
  observed.clear();
  const std::vector<TensorSignature> &outs = session.model->spec().outputs;
  std::map<std::pair<size_t, const void *>, size_t> slot;
  for (size_t id = 0; id < matmuls.size(); ++id) {
    auto it = session.outputOf.find(points[id].name);
    if (it == session.outputOf.end() || it->second >= outs.size())
      return false;
    auto type = cast<RankedTensorType>(matmuls[id].getInputs()[0].getType());
    const TensorSignature &out = outs[it->second];
    if (out.dtype != "float32" ||
        llvm::ArrayRef<int64_t>(out.shape) != type.getShape())
      return false;
    DenseElementsAttr factor;
    if (Attribute attr = matmuls[id]->getAttr(kCalibChannelFactor)) {
      factor = dyn_cast<DenseElementsAttr>(attr);
      if (!factor || !factor.getElementType().isF32() ||
          factor.getNumElements() != type.getShape().back())
        return false;
    }
    auto [pos, inserted] = slot.insert(
        {{it->second, factor.getAsOpaquePointer()}, observed.size()});
    if (inserted)
      observed.push_back({it->second, factor, {}});
    observed[pos->second].ids.push_back(static_cast<int64_t>(id));
  }
  return true;
}

/// "\r[=====>    ] 37/128 what" on stderr.
void drawProgress(llvm::StringRef what, size_t done, size_t total) {
  constexpr int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  llvm::errs() << "\r" << what << " [";
  for (int i = 0; i < width; ++i)
    llvm::errs() << (i < filled ? '=' : i == filled ? '>' : ' ');
  llvm::errs() << "] " << done << "/" << total;
  if (done == total)
    llvm::errs() << "\n";
}

/// Output buffers of a loaded model, allocated once.
bool allocateOutputs(qcc_model_t *model, std::vector<OwnedTensor> &outputs,
                     std::string &error) {
  outputs.clear();
  outputs.resize(qcc_model_num_outputs(model));
  for (size_t i = 0; i < outputs.size(); ++i) {
    qcc_tensor_info info;
    if (qcc_status st = qcc_model_output_info(model, i, &info)) {
      error = takeMessage(st);
      return false;
    }
    if (qcc_status st = qcc_tensor_allocate(info.dtype, info.rank, info.dims,
                                            &outputs[i].get())) {
      error = takeMessage(st);
      return false;
    }
  }
  return true;
}

/// Writes `data` as a .npy of `dims`.
bool writeNpy(const std::string &path, qcc_dtype dtype,
              std::vector<int64_t> dims, const void *data, size_t bytes,
              std::string &error) {
  qcc_tensor t;
  std::memset(&t, 0, sizeof(t));
  t.dtype = dtype;
  t.rank = static_cast<uint32_t>(dims.size());
  std::copy(dims.begin(), dims.end(), t.dims);
  t.data = const_cast<void *>(data);
  t.byte_size = bytes;
  if (qcc_status st = qcc_tensor_write_npy(path.c_str(), &t)) {
    error = "--calib-stats: " + takeMessage(st);
    return false;
  }
  return true;
}

/// The statistics of every observed activation, for later passes (GPTQ's
/// Hessian, AWQ's channel scales): per layer `<i>.mean_abs.npy` [K] f64,
/// `<i>.max_abs.npy` [K] f32, `<i>.mean_square.npy` [K] f64 and, when
/// accumulated, `<i>.xtx.npy` [K, K] f64 (the mean of x^T x over rows), and
/// index.json naming the layers each file describes.
bool writeStatistics(
    const std::string &dir, const CalibrationResult &result,
    const std::vector<Observation> &observed,
    const std::vector<qnum::ChannelAbsObserver> &channels,
    const std::vector<qnum::GramObserver> &grams, std::string &error) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    error = "--calib-stats: cannot create '" + dir + "': " + ec.message();
    return false;
  }
  std::string index;
  llvm::raw_string_ostream os(index);
  llvm::json::OStream json(os, 2);
  json.object([&] {
    json.attribute("samples", static_cast<int64_t>(result.numSamples));
    json.attributeArray("activations", [&] {
      for (size_t o = 0; o < observed.size(); ++o) {
        std::string stem = dir + "/" + std::to_string(o);
        int64_t k = channels[o].getNumChannels();
        std::vector<double> meanAbs = channels[o].getMeanAbs();
        std::vector<float> maxAbs = channels[o].getMaxAbs();
        std::vector<double> meanSq = channels[o].getMeanSquare();
        if (!error.empty())
          return;
        if (!writeNpy(stem + ".mean_abs.npy", QCC_DTYPE_FLOAT64, {k},
                      meanAbs.data(), meanAbs.size() * 8, error) ||
            !writeNpy(stem + ".max_abs.npy", QCC_DTYPE_FLOAT32, {k},
                      maxAbs.data(), maxAbs.size() * 4, error) ||
            !writeNpy(stem + ".mean_square.npy", QCC_DTYPE_FLOAT64, {k},
                      meanSq.data(), meanSq.size() * 8, error))
          return;
        if (!grams.empty()) {
          std::vector<double> xtx = grams[o].getMatrix(/*mean=*/true);
          if (!writeNpy(stem + ".xtx.npy", QCC_DTYPE_FLOAT64, {k, k},
                        xtx.data(), xtx.size() * 8, error))
            return;
        }
        json.object([&] {
          json.attribute("file_prefix", std::to_string(o));
          json.attribute("rows", channels[o].getNumRows());
          json.attributeArray("layers", [&] {
            for (int64_t id : observed[o].ids)
              json.value(result.points[id].name);
          });
        });
      }
    });
  });
  if (!error.empty())
    return false;
  std::error_code ec;
  llvm::raw_fd_ostream file(dir + "/index.json", ec);
  if (ec) {
    error = "--calib-stats: cannot write index.json: " + ec.message();
    return false;
  }
  file << index << "\n";
  return true;
}

} // namespace

namespace qcc {

bool runModel(qcc_model_t *model, std::vector<OwnedTensor> &inputs,
              std::vector<OwnedTensor> &outputs, std::string &error) {
  std::vector<qcc_tensor> in, out;
  for (OwnedTensor &t : inputs)
    in.push_back(t.get());
  for (OwnedTensor &t : outputs)
    out.push_back(t.get());
  if (qcc_status st =
          qcc_model_run(model, in.data(), in.size(), out.data(), out.size())) {
    error = takeMessage(st);
    return false;
  }
  return true;
}

bool allocateModelOutputs(qcc_model_t *model, std::vector<OwnedTensor> &outputs,
                          std::string &error) {
  return allocateOutputs(model, outputs, error);
}

bool parseCalibrationMethod(llvm::StringRef text, CalibrationMethod &method) {
  if (text == "minmax")
    method = CalibrationMethod::MinMax;
  else if (text == "percentile")
    method = CalibrationMethod::Percentile;
  else if (text == "entropy")
    method = CalibrationMethod::Entropy;
  else if (text == "mse")
    method = CalibrationMethod::Mse;
  else
    return false;
  return true;
}

const char *calibrationMethodName(CalibrationMethod method) {
  switch (method) {
  case CalibrationMethod::MinMax:
    return "minmax";
  case CalibrationMethod::Percentile:
    return "percentile";
  case CalibrationMethod::Entropy:
    return "entropy";
  case CalibrationMethod::Mse:
    return "mse";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// FloatModel
//===----------------------------------------------------------------------===//

FloatModel::~FloatModel() {
  qcc_model_release(model);
  if (!directory.empty())
    llvm::sys::fs::remove_directories(directory);
}

std::unique_ptr<FloatModel>
FloatModel::compile(ModuleOp module, const TargetInfo &requested,
                    const CpuPipelineOptions &options, unsigned numThreads,
                    std::string &error) {
  // The float model runs here, on the compiling machine: cross-compiling
  // for a CPU this machine lacks (x86-64-vnni on an AVX2 host) calibrates
  // with the host's best CPU target instead.
  const TargetInfo *runnable =
      hostRuns(requested) ? &requested : lookupTarget("host");
  if (!runnable || !hostRuns(*runnable)) {
    error = "no CPU target runs on this machine to calibrate with (the "
            "float model needs at least x86-64 with AVX2 and FMA)";
    return nullptr;
  }
  const TargetInfo &target = *runnable;
  std::unique_ptr<FloatModel> result(new FloatModel());
  ArtifactSpec &spec = result->artifactSpec;
  spec.sourceModelPath = "calibration";
  spec.sourceModelSha256 = std::string(64, '0');
  spec.target = &target;
  spec.bits = 32;
  if (failed(readSignature(module, "main", spec, error)))
    return nullptr;

  std::string firstError;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
      firstError = d.str();
    return success();
  });
  PassManager pm(module.getContext());
  CpuPipelineOptions floatOptions;
  floatOptions.setTarget(target);
  floatOptions.weightMinBytes = options.weightMinBytes;
  floatOptions.fuseElementwise = options.fuseElementwise;
  floatOptions.bits = 32;
  buildCpuBackendPipeline(pm, floatOptions);
  if (failed(pm.run(module))) {
    error = "compiling the float model for calibration failed: " +
            (firstError.empty() ? std::string("unknown error") : firstError);
    return nullptr;
  }

  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("qcc-calib", dir)) {
    error = "cannot create a temporary folder: " + ec.message();
    return nullptr;
  }
  result->directory = dir.str().str();
  std::string prefix = result->directory + "/float";
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateAndOptimize(module, llvmContext, target, error);
  if (!llvmModule ||
      failed(emitObjectFile(*llvmModule, target, prefix + ".o", error)) ||
      failed(linkSharedObject(prefix + ".o", prefix + ".so", error)) ||
      failed(writeArtifactFiles(module, spec, prefix, error)))
    return nullptr;
  qcc_load_options loadOptions;
  qcc_load_options_init(&loadOptions);
  loadOptions.num_threads = numThreads;
  if (qcc_status st =
          qcc_model_load(prefix.c_str(), &loadOptions, &result->model)) {
    error = "cannot load the float model for calibration: " + takeMessage(st);
    return nullptr;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// calibrate
//===----------------------------------------------------------------------===//

LogicalResult calibrate(ModuleOp module, const TargetInfo &target,
                        const CpuPipelineOptions &pipelineOptions,
                        const InputSets &sets,
                        const CalibrationOptions &options,
                        CalibrationResult &result,
                        std::unique_ptr<FloatModel> *reference,
                        std::string &error, CalibrationSession *session) {
  auto compileStart = std::chrono::steady_clock::now();
  result = CalibrationResult();
  result.method = options.method;
  result.percentile = options.percentile;
  auto entry = module.lookupSymbol<func::FuncOp>("main");
  if (!entry) {
    error = "calibration: the module has no @main";
    return failure();
  }
  Builder b(module.getContext());
  std::vector<linalg::MatmulOp> matmuls;
  entry.walk([&](linalg::MatmulOp op) {
    if (!isCandidate(op))
      return;
    op->setAttr("qcc.calib_id", b.getI64IntegerAttr(matmuls.size()));
    CalibrationPoint point;
    point.id = static_cast<int64_t>(matmuls.size());
    point.name = getNodeName(op.getLoc());
    point.channels =
        cast<RankedTensorType>(op.getInputs()[0].getType()).getShape().back();
    result.points.push_back(point);
    matmuls.push_back(op);
  });
  auto untag = [&] {
    for (linalg::MatmulOp op : matmuls)
      op->removeAttr("qcc.calib_id");
  };
  if (matmuls.empty()) {
    untag();
    return success(); // Nothing to calibrate: every matmul stays float.
  }

  std::vector<Observation> observed;
  std::unique_ptr<FloatModel> model;
  FloatModel *runner = nullptr;
  if (session && session->model && !reference &&
      matchSession(*session, matmuls, result.points, observed)) {
    untag();
    runner = session->model.get();
    result.reusedModel = true;
  } else {
    observed.clear();
    // This model observes the inputs as they are: channel factors recorded
    // so far describe another model.
    for (linalg::MatmulOp op : matmuls)
      op->removeAttr(kCalibChannelFactor);
    OwningOpRef<ModuleOp> copy = module.clone();
    untag();
    {
      PassManager pm(module.getContext());
      pm.addPass(createInsertObservers());
      if (failed(pm.run(*copy))) {
        error = "calibration: inserting observers failed";
        return failure();
      }
    }
    unsigned modelOutputs = entry.getFunctionType().getNumResults();
    model = FloatModel::compile(*copy, target, pipelineOptions,
                                options.numThreads, error);
    if (!model)
      return failure();
    runner = model.get();
    // Output index -> ids of the matmuls that read it.
    const std::vector<TensorSignature> &outs = model->spec().outputs;
    for (size_t i = modelOutputs; i < outs.size(); ++i) {
      llvm::StringRef name = outs[i].name;
      if (!name.consume_front("qcc.calib.")) {
        error = "calibration: unexpected output '" + outs[i].name + "'";
        return failure();
      }
      llvm::SmallVector<llvm::StringRef> ids;
      name.split(ids, '.');
      std::vector<int64_t> parsed;
      for (llvm::StringRef id : ids) {
        int64_t value;
        if (id.getAsInteger(10, value) || value < 0 ||
            value >= static_cast<int64_t>(matmuls.size())) {
          error = "calibration: bad observer output '" + outs[i].name + "'";
          return failure();
        }
        parsed.push_back(value);
      }
      observed.push_back({i, DenseElementsAttr(), parsed});
    }
  }
  result.compileSeconds = secondsSince(compileStart);
  const std::vector<TensorSignature> &outs = runner->spec().outputs;

  // The input marking padding positions (CalibrationOptions::tokenMask).
  const std::vector<TensorSignature> &ins = runner->spec().inputs;
  int maskInput = -1;
  int64_t maskEntries = 0;
  if (options.tokenMask != "none") {
    std::string wanted =
        options.tokenMask.empty() ? "attention_mask" : options.tokenMask;
    for (size_t i = 0; i < ins.size(); ++i)
      if (ins[i].name == wanted)
        maskInput = static_cast<int>(i);
    if (maskInput < 0 && !options.tokenMask.empty()) {
      error = "calibration: the token mask '" + wanted +
              "' is not an input of the model";
      return failure();
    }
    if (maskInput >= 0) {
      const std::string &dtype = ins[maskInput].dtype;
      if (dtype == "float32" || dtype == "float64" || dtype == "float16") {
        if (!options.tokenMask.empty()) {
          error = "calibration: the token mask '" + wanted + "' is " + dtype +
                  ", not an integer or bool input";
          return failure();
        }
        maskInput = -1; // an unrelated float input of that name
      } else {
        maskEntries = 1;
        for (int64_t d : ins[maskInput].shape)
          maskEntries *= d;
        result.tokenMask = wanted;
      }
    }
  }
  std::vector<uint8_t> keepRow;
  std::vector<float> keptRows, scaledRows, factors;

  auto runStart = std::chrono::steady_clock::now();
  std::vector<qnum::HistogramObserver> histograms(observed.size());
  std::vector<qnum::ChannelAbsObserver> channels;
  for (const Observation &obs : observed)
    channels.emplace_back(outs[obs.output].shape.back());
  std::vector<qnum::GramObserver> grams;
  if (!options.statsDir.empty())
    for (const Observation &obs : observed)
      grams.emplace_back(outs[obs.output].shape.back());
  std::vector<OwnedTensor> inputs, outputs;
  if (!allocateOutputs(runner->get(), outputs, error))
    return failure();
  size_t total = sets.size();
  if (options.maxSamples > 0 && static_cast<size_t>(options.maxSamples) < total)
    total = static_cast<size_t>(options.maxSamples);
  for (size_t s = 0; s < total; ++s) {
    if (!sets.load(s, inputs, error))
      return failure();
    if (!runModel(runner->get(), inputs, outputs, error)) {
      error = "calibration: running input set '" + sets.label(s) +
              "' failed: " + error;
      return failure();
    }
    int64_t kept = 0;
    if (maskInput >= 0) {
      if (!readTokenMask(inputs[maskInput].get(), keepRow) ||
          static_cast<int64_t>(keepRow.size()) != maskEntries) {
        error = "calibration: cannot read the token mask '" +
                result.tokenMask + "' of input set '" + sets.label(s) + "'";
        return failure();
      }
      for (uint8_t k : keepRow)
        kept += k;
      result.maskedKept += static_cast<uint64_t>(kept);
      result.maskedTotal += static_cast<uint64_t>(maskEntries);
    }
    for (size_t o = 0; o < observed.size(); ++o) {
      const qcc_tensor &t = outputs[observed[o].output].get();
      int64_t cols = t.rank ? t.dims[t.rank - 1] : 1;
      int64_t rows = static_cast<int64_t>(t.byte_size / sizeof(float)) / cols;
      const float *data = static_cast<const float *>(t.data);
      if (DenseElementsAttr factor = observed[o].factor) {
        // What the rewritten matmul reads: the observed input times the
        // channel factor (matchSession checked its length).
        factors.assign(factor.getValues<float>().begin(),
                       factor.getValues<float>().end());
        scaledRows.resize(static_cast<size_t>(rows * cols));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c)
            scaledRows[r * cols + c] = data[r * cols + c] * factors[c];
        data = scaledRows.data();
      }
      // One row per position: keep the real tokens' rows only (a sample of
      // padding alone adds nothing).
      if (maskInput >= 0 && rows == maskEntries) {
        if (kept == 0)
          continue;
        if (kept < rows) {
          keptRows.resize(static_cast<size_t>(kept * cols));
          int64_t next = 0;
          for (int64_t r = 0; r < rows; ++r)
            if (keepRow[r])
              std::memcpy(keptRows.data() + (next++) * cols, data + r * cols,
                          sizeof(float) * static_cast<size_t>(cols));
          data = keptRows.data();
          rows = kept;
        }
      }
      if (qnum::Status st = histograms[o].observe(data, rows, cols); !st) {
        error = "calibration: " + st.message;
        return failure();
      }
      if (qnum::Status st = channels[o].observe(data, rows, cols); !st) {
        error = "calibration: " + st.message;
        return failure();
      }
      if (!grams.empty())
        if (qnum::Status st = grams[o].observe(data, rows, cols); !st) {
          error = "calibration: " + st.message;
          return failure();
        }
    }
    if (options.progress)
      drawProgress("calibrating", s + 1, total);
  }
  result.numSamples = total;
  result.runSeconds = secondsSince(runStart);

  qnum::Scheme int8 = qnum::Scheme::perTensor(8, /*symmetric=*/true);
  std::string source = std::string(calibrationMethodName(options.method));
  if (options.method == CalibrationMethod::Percentile)
    source += " " + llvm::formatv("{0}", options.percentile).str();
  source += ", " + std::to_string(total) + " samples";
  for (size_t o = 0; o < observed.size(); ++o) {
    const qnum::HistogramObserver &h = histograms[o];
    double absMax = h.getMaxAbs();
    switch (options.method) {
    case CalibrationMethod::MinMax:
      break;
    case CalibrationMethod::Percentile:
      absMax = h.getAbsPercentile(options.percentile);
      break;
    case CalibrationMethod::Entropy:
      absMax = h.getEntropyThreshold(128);
      break;
    case CalibrationMethod::Mse:
      absMax = h.getMseRange(int8).hi;
      break;
    }
    // Per input channel max |x|: what qcc-smooth-activations balances.
    std::vector<float> channelMax = channels[o].getMaxAbs();
    auto channelMaxAttr = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(channelMax.size())},
                              b.getF32Type()),
        llvm::ArrayRef<float>(channelMax));
    std::vector<double> meanAbs = channels[o].getMeanAbs();
    double sum = 0, peak = 0;
    for (double v : meanAbs) {
      sum += v;
      peak = std::max(peak, v);
    }
    double ratio = sum > 0 ? peak / (sum / meanAbs.size()) : 0.0;
    // Signal-to-noise ratio of int8 per tensor with the chosen range, from
    // the histogram's exact per-bin error and the observed mean square.
    std::vector<double> meanSquare = channels[o].getMeanSquare();
    double power = 0;
    for (double v : meanSquare)
      power += v / meanSquare.size();
    qnum::ScaleZeroPoint params;
    params.scale = absMax > 0 ? static_cast<float>(absMax / 127.0) : 1.0f;
    params.zeroPoint = 0;
    double noise = h.estimateMse(params, int8);
    double sqnrDb = noise > 0 && power > 0 ? 10.0 * std::log10(power / noise)
                                           : 99.0;
    for (int64_t id : observed[o].ids) {
      CalibrationPoint &point = result.points[id];
      point.sqnrDb = sqnrDb;
      point.min = h.getMin();
      point.max = h.getMax();
      point.absMax = static_cast<float>(absMax);
      point.channelOutlierRatio = ratio;
      point.values = h.getTotal();
      point.nonFinite = h.getNumNonFinite();
      matmuls[id]->setAttr("qcc.act_absmax",
                           b.getF32FloatAttr(static_cast<float>(absMax)));
      matmuls[id]->setAttr("qcc.act_source", b.getStringAttr(source));
      matmuls[id]->setAttr("qcc.act_channel_absmax", channelMaxAttr);
      matmuls[id]->setAttr("qcc.act_sqnr_db", b.getF32FloatAttr(sqnrDb));
      // Where one scale for the whole tensor loses too much (outlier
      // channels, long tails), the layer quantizes per token at run time.
      if (options.minSqnrDb > 0 && sqnrDb < options.minSqnrDb) {
        point.fallback = true;
        matmuls[id]->setAttr("qcc.act_fallback", b.getStringAttr("dynamic"));
      }
    }
  }
  if (!options.statsDir.empty() &&
      !writeStatistics(options.statsDir, result, observed, channels, grams,
                       error))
    return failure();
  if (reference)
    *reference = std::move(model);
  else if (session && model) {
    session->model = std::move(model);
    session->outputOf.clear();
    std::set<std::string> ambiguous;
    for (const Observation &obs : observed)
      for (int64_t id : obs.ids) {
        const std::string &name = result.points[id].name;
        auto [it, inserted] = session->outputOf.insert({name, obs.output});
        if (name.empty() || (!inserted && it->second != obs.output))
          ambiguous.insert(name);
      }
    for (const std::string &name : ambiguous)
      session->outputOf.erase(name);
  }
  return success();
}

} // namespace qcc
