//===- qcc.cpp - the qcc compiler driver ----------------------------------===//
//
// qcc model.onnx -target=x86-64-vnni -bits=32 -o out/model
//
// Imports the ONNX model, runs the target's pipeline (lib/Pipelines) and
// writes the artifact (docs/ARTIFACT.md). --emit stops after a stage.
//
//===----------------------------------------------------------------------===//

#include "qcc/Artifact/Artifact.h"
#include "qcc/Artifact/GpuArtifact.h"
#include "qcc/Calibration/Calibration.h"
#include "qcc/Calibration/InputSets.h"
#include "qcc/Frontend/ONNX/OnnxImporter.h"
#include "qcc/InitAll.h"
#include "qcc/Pipelines/GpuPipeline.h"
#include "qcc/Pipelines/Pipelines.h"
#include "qcc/Target/Target.h"

#include "DriverSupport.h"
#include "Report.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

using namespace mlir;
using namespace qcc;
namespace cl = llvm::cl;

namespace {

enum class EmitKind { Mlir, LoweredMlir, Llvm, Obj, So };

cl::OptionCategory qccCategory("qcc options");

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("<model.onnx | imported.mlir>"),
                               cl::cat(qccCategory));
cl::opt<std::string> outputPrefix(
    "o",
    cl::desc("Output prefix: writes PREFIX.so, .json, .weights, .h; with "
             "--emit=mlir|lowered-mlir|llvm a file name, '-' for stdout"),
    cl::value_desc("prefix"), cl::cat(qccCategory));
cl::opt<std::string> targetName(
    "target", cl::desc("Target to compile for (see --print-targets)"),
    cl::init("host"), cl::cat(qccCategory));
cl::opt<int> bits("bits",
                  cl::desc("Weight precision: 32 (float), 8 or 4 (quantized)"),
                  cl::init(32), cl::cat(qccCategory));
cl::list<std::string> constInputs(
    "const-input",
    cl::desc("Bind a model input to the TensorProto (.pb) in FILE at compile "
             "time, e.g. a shape or axes input (repeatable)"),
    cl::value_desc("name=file"), cl::cat(qccCategory));
cl::opt<std::string> actMode(
    "act",
    cl::desc("Activations of quantized matmuls: dynamic (int8 per token; "
             "the default, except -bits=4 on GPU targets: none), none "
             "(weight-only), static (needs --calib)"),
    cl::init("dynamic"), cl::cat(qccCategory));
cl::opt<int> groupSize("group-size",
                       cl::desc("Group size along K of 4-bit weights "
                                "(32, 64 or 128)"),
                       cl::init(128), cl::cat(qccCategory));
cl::opt<bool> asymmetric("asym",
                         cl::desc("Asymmetric 4-bit groups (zero points)"),
                         cl::cat(qccCategory));
cl::opt<bool> symmetricFlag("sym", cl::desc("Symmetric 4-bit groups (default)"),
                            cl::cat(qccCategory));
cl::list<std::string> keepFloat(
    "keep-float",
    cl::desc("Keep matmuls whose ONNX node name contains PATTERN in float "
             "(repeatable or comma-separated)"),
    cl::value_desc("pattern"), cl::CommaSeparated, cl::cat(qccCategory));
cl::list<int64_t> gpuGemv(
    "gpu-gemv",
    cl::desc("GPU W4A16 GEMV launch shape TILES,WARPS,UNROLL (0: default; "
             "for tuning)"),
    cl::value_desc("t,w,u"), cl::CommaSeparated, cl::Hidden,
    cl::cat(qccCategory));
cl::list<int64_t> gpuWgmma(
    "gpu-wgmma",
    cl::desc("sm_90a W8A8 GEMM block tile columns and K splits "
             "TILE_N,SPLIT_K (0: automatic; for tuning)"),
    cl::value_desc("n,s"), cl::CommaSeparated, cl::Hidden,
    cl::cat(qccCategory));
cl::opt<bool> gpuWarpReductions(
    "gpu-warp-reductions",
    cl::desc("GPU: row reductions (LayerNorm, softmax, RMSNorm, pooling) of "
             "at least 64 elements on a warp per row (default on; =false: "
             "one thread per row)"),
    cl::init(true), cl::cat(qccCategory));
cl::opt<bool> quantizeEmbeddings(
    "quantize-embeddings",
    cl::desc("With -bits=8|4, also store embedding tables (constant tables "
             "read by Gather) as int8 with one scale per row"),
    cl::cat(qccCategory));
cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Static shape of a model input, NAME:1x128 (repeatable)"),
    cl::value_desc("name:dims"), cl::cat(qccCategory));
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("Stop after a stage"), cl::init(EmitKind::So),
    cl::values(clEnumValN(EmitKind::Mlir, "mlir", "imported MLIR"),
               clEnumValN(EmitKind::LoweredMlir, "lowered-mlir",
                          "MLIR after the target pipeline (LLVM dialect)"),
               clEnumValN(EmitKind::Llvm, "llvm", "optimized LLVM IR"),
               clEnumValN(EmitKind::Obj, "obj",
                          "object file PREFIX.o (+ PREFIX.weights)"),
               clEnumValN(EmitKind::So, "so", "the full artifact (default)")),
    cl::cat(qccCategory));
cl::opt<bool> printTargets("print-targets", cl::desc("List targets and exit"),
                           cl::cat(qccCategory));
cl::opt<bool> printSupportedOps(
    "print-supported-ops",
    cl::desc("List the ONNX op types the importer supports and exit"),
    cl::cat(qccCategory));
cl::opt<bool> keepObject("keep-obj", cl::desc("Keep PREFIX.o beside the .so"),
                         cl::cat(qccCategory));
cl::opt<std::string> reportPath(
    "report",
    cl::desc("Write a JSON report of what quantization did per layer to FILE "
             "and print a summary table"),
    cl::value_desc("file"), cl::cat(qccCategory));
cl::opt<std::string> calibPath(
    "calib",
    cl::desc("Calibrate activation ranges on the input sets in PATH (a .npz, "
             "or a folder of .npz files or of .pb/.npy folders); implies "
             "--act=static unless --act is given"),
    cl::value_desc("path"), cl::cat(qccCategory));
cl::opt<std::string> calibMethodName(
    "calib-method",
    cl::desc("How calibration picks each activation range: minmax "
             "(default), percentile, entropy (KL) or mse"),
    cl::init("minmax"), cl::cat(qccCategory));
cl::opt<double> calibPercentile(
    "calib-percentile",
    cl::desc("Percent of |x| kept by --calib-method=percentile"),
    cl::init(99.99), cl::cat(qccCategory));
cl::opt<int> calibSamples(
    "calib-samples",
    cl::desc("Use at most N calibration input sets (0 = all)"), cl::init(0),
    cl::cat(qccCategory));
cl::opt<double> calibMinSqnr(
    "calib-min-sqnr",
    cl::desc("With --act=static, layers whose calibrated per-tensor int8 "
             "activations would have a signal-to-noise ratio below DB "
             "quantize per token at run time instead (default 30; 0 keeps "
             "all static)"),
    cl::value_desc("dB"), cl::init(30.0), cl::cat(qccCategory));
cl::opt<std::string> calibTokenMask(
    "calib-token-mask",
    cl::desc("Integer input whose zero entries mark padding positions that "
             "calibration leaves out (default: the input named "
             "attention_mask, if any; 'none': every position counts)"),
    cl::value_desc("input"), cl::init(""), cl::cat(qccCategory));
cl::opt<std::string> calibStats(
    "calib-stats",
    cl::desc("Also accumulate X^T X per quantized matmul input and write all "
             "calibration statistics (.npy per layer + index.json) to DIR"),
    cl::value_desc("dir"), cl::cat(qccCategory));
cl::opt<std::string> smoothFlag(
    "smooth",
    cl::desc("SmoothQuant: before quantizing, move outlier activation "
             "channels into the weights with strength ALPHA in [0, 1] "
             "(default 0.5); needs --calib and int8 activations"),
    cl::value_desc("alpha"), cl::ValueOptional, cl::cat(qccCategory));
cl::opt<std::string> keepOutliersFlag(
    "keep-outliers",
    cl::desc("Mixed precision: per quantized matmul input, keep the N "
             "activation channels with the largest calibrated max |x| (and "
             "their weight rows) in float, or 'auto': those above "
             "--outlier-ratio times the median channel, at most 64; needs "
             "--calib"),
    cl::value_desc("N|auto"), cl::cat(qccCategory));
cl::opt<double> outlierRatio(
    "outlier-ratio",
    cl::desc("With --keep-outliers: only channels whose max |x| exceeds R "
             "times the median channel's (default 6 for auto, 0 for N)"),
    cl::value_desc("R"), cl::init(0.0), cl::cat(qccCategory));
cl::opt<std::string> evalPath(
    "eval",
    cl::desc("Compare the artifact with the float model on the input sets in "
             "PATH (same layouts as --calib): cosine, relative L2, top-1 "
             "agreement"),
    cl::value_desc("path"), cl::cat(qccCategory));
cl::opt<bool> verbose("v", cl::desc("Print the time of each stage on stderr"),
                      cl::cat(qccCategory));
cl::opt<std::string> weightAlgo(
    "weight-algo",
    cl::desc("How weights are rounded: rtn (round to nearest, default) or "
             "gptq (output-aware, from the calibrated X^T X of each layer's "
             "input; needs --calib)"),
    cl::init("rtn"), cl::cat(qccCategory));
cl::opt<std::string> weightClip(
    "weight-clip",
    cl::desc("Scale of each weight group/channel: auto (default: rtn int4 "
             "searches the least weight error, otherwise the full range), "
             "none (full range), mse (least weight error) or act (least "
             "weight error weighted by the calibrated E[x^2]; needs --calib)"),
    cl::init("auto"), cl::cat(qccCategory));
// On by default: measured better on both real models (BENCHMARKS.md, "Issue 3
// quality goals"): channels with large activations are rounded first, while
// the rest can still absorb their error.
cl::opt<bool> gptqActOrder(
    "gptq-act-order",
    cl::desc("GPTQ: quantize input channels by decreasing E[x^2], group "
             "scales fixed from the original weights (default on; "
             "--gptq-act-order=false: input order)"),
    cl::init(true), cl::cat(qccCategory));
cl::opt<double> gptqDampening(
    "gptq-dampening",
    cl::desc("GPTQ: damping added to the diagonal of X^T X, as a fraction of "
             "its mean (default 0.01)"),
    cl::init(0.01), cl::Hidden, cl::cat(qccCategory));
cl::opt<bool> awqFlag(
    "awq",
    cl::desc("AWQ: before rounding the weights, scale each input channel's "
             "weight row by mean|x|^alpha (the activations by the inverse), "
             "alpha searched per layer for the least output error on the "
             "calibrated X^T X; needs --calib, composes with --weight-algo "
             "and --weight-clip"),
    cl::cat(qccCategory));

/// A folder removed with its contents when this goes out of scope.
struct TemporaryDirectory {
  std::string path;
  std::error_code create(llvm::StringRef prefix) {
    llvm::SmallString<128> dir;
    std::error_code ec = llvm::sys::fs::createUniqueDirectory(prefix, dir);
    if (!ec)
      path = dir.str().str();
    return ec;
  }
  ~TemporaryDirectory() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "qcc " << QCC_VERSION_STRING << " (LLVM/MLIR " << LLVM_VERSION_STRING
       << ")\n";
  });
  cl::HideUnrelatedOptions(qccCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qcc: compile ONNX models to native code\n\n"
      "  qcc model.onnx -target=x86-64-vnni -bits=32 -o out/model\n");

  if (printTargets) {
    printTargetList();
    return 0;
  }
  if (printSupportedOps) {
    for (const std::string &op : getSupportedOnnxOps())
      llvm::outs() << op << "\n";
    return 0;
  }
  if (inputPath.empty())
    return fail("no input model; usage: qcc model.onnx -o out/model");

  const TargetInfo *target = lookupTarget(targetName);
  if (!target)
    return fail("unknown target '" + targetName +
                "'; qcc --print-targets lists them");
  if (target->kind == TargetKind::Gpu && !evalPath.empty())
    return fail("--eval runs the artifact on this machine's CPU; a GPU "
                "target's artifact needs a GPU (bench/gpu_models.py measures "
                "its quality there)");
  if (bits != 32 && bits != 8 && bits != 4)
    return fail("-bits=" + llvm::Twine(bits.getValue()) +
                " is not a supported precision (32, 8 or 4)");
  if (!calibPath.empty() && actMode.getNumOccurrences() == 0)
    actMode = "static";
  // GPU targets run int4 weights on the f16 tensor cores (W4A16 GEMV and
  // GEMM); W4A8 has no tensor-core path there, so -bits=4 is weight-only
  // unless --act says otherwise.
  if (target->kind == TargetKind::Gpu && bits == 4 &&
      actMode.getNumOccurrences() == 0)
    actMode = "none";
  if (actMode == "static" && calibPath.empty())
    return fail("--act=static needs calibration inputs: --calib PATH");
  if (quantizeEmbeddings && bits == 32)
    return fail("--quantize-embeddings needs -bits=8 or -bits=4");
  if (!calibPath.empty() && bits == 32)
    return fail("--calib calibrates quantized activations; use it with "
                "-bits=8 or -bits=4");
  CalibrationOptions calibOptions;
  if (!parseCalibrationMethod(calibMethodName, calibOptions.method))
    return fail("unknown --calib-method='" + calibMethodName +
                "' (minmax, percentile, entropy or mse)");
  if (!(calibPercentile > 0.0 && calibPercentile <= 100.0))
    return fail("--calib-percentile must be in (0, 100]");
  if (calibSamples < 0)
    return fail("--calib-samples must be >= 0");
  calibOptions.percentile = calibPercentile;
  calibOptions.maxSamples = calibSamples;
  if (calibMinSqnr < 0)
    return fail("--calib-min-sqnr must be >= 0");
  calibOptions.minSqnrDb = calibMinSqnr;
  calibOptions.statsDir = calibStats;
  calibOptions.tokenMask = calibTokenMask;
  if (calibTokenMask.getNumOccurrences() > 0 && calibPath.empty())
    return fail("--calib-token-mask needs --calib PATH");
  if (calibTokenMask.getNumOccurrences() > 0 && calibTokenMask.empty())
    return fail("--calib-token-mask needs an input name or 'none'");
  if (!calibStats.empty() && calibPath.empty())
    return fail("--calib-stats needs --calib PATH");
  if (weightAlgo != "rtn" && weightAlgo != "gptq")
    return fail("unknown --weight-algo='" + weightAlgo + "' (rtn or gptq)");
  if (weightClip != "auto" && weightClip != "none" && weightClip != "mse" &&
      weightClip != "act")
    return fail("unknown --weight-clip='" + weightClip +
                "' (auto, none, mse or act)");
  if ((weightAlgo != "rtn" || weightClip != "auto") && bits == 32)
    return fail("--weight-algo and --weight-clip need -bits=8 or -bits=4");
  if (weightAlgo == "gptq" && calibPath.empty())
    return fail("--weight-algo=gptq needs calibration inputs: --calib PATH");
  if (weightClip == "act" && calibPath.empty())
    return fail("--weight-clip=act needs calibration inputs: --calib PATH");
  if (!(gptqDampening > 0.0))
    return fail("--gptq-dampening must be > 0");
  if (awqFlag && bits == 32)
    return fail("--awq needs -bits=8 or -bits=4");
  if (awqFlag && calibPath.empty())
    return fail("--awq needs calibration inputs: --calib PATH");
  if (awqFlag && smoothFlag.getNumOccurrences() > 0)
    return fail("--awq and --smooth both rescale input channels; use one");
  // GPTQ and the activation-weighted clip read X^T X from calibration's
  // statistics folder: the user's --calib-stats, else a temporary one.
  TemporaryDirectory statsTemp;
  if ((weightAlgo == "gptq" || weightClip == "act" || awqFlag) &&
      calibStats.empty()) {
    if (std::error_code ec = statsTemp.create("qcc-calib-stats"))
      return fail("cannot create a temporary folder: " + ec.message());
    calibOptions.statsDir = statsTemp.path;
  }
  calibOptions.progress = llvm::sys::Process::StandardErrIsDisplayed();
  if (!evalPath.empty() && (emitKind != EmitKind::So || target->kind != TargetKind::Cpu))
    return fail("--eval runs the artifact: it needs --emit=so and a CPU target");
  if (actMode != "dynamic" && actMode != "none" && actMode != "static")
    return fail("unknown --act='" + actMode + "' (dynamic, none or static)");
  bool smooth = smoothFlag.getNumOccurrences() > 0;
  double smoothAlpha = 0.5;
  if (smooth) {
    if (!smoothFlag.empty() &&
        (llvm::StringRef(smoothFlag).getAsDouble(smoothAlpha) ||
         !(smoothAlpha >= 0.0 && smoothAlpha <= 1.0)))
      return fail("--smooth=ALPHA needs a number in [0, 1], got '" +
                  smoothFlag + "'");
    if (calibPath.empty())
      return fail("--smooth needs per-channel activation ranges: calibrate "
                  "with --calib PATH");
    if (actMode == "none")
      return fail("--smooth balances int8 activations; it needs "
                  "--act=dynamic or --act=static");
  }
  int64_t outlierCount = 0;
  double outlierThreshold = outlierRatio;
  bool keepOutliers = keepOutliersFlag.getNumOccurrences() > 0;
  if (keepOutliers) {
    if (keepOutliersFlag == "auto") {
      outlierCount = 64;
      if (outlierRatio.getNumOccurrences() == 0)
        outlierThreshold = 6.0;
    } else if (llvm::StringRef(keepOutliersFlag).getAsInteger(10,
                                                             outlierCount) ||
               outlierCount <= 0) {
      return fail("--keep-outliers needs a channel count > 0 or 'auto', got "
                  "'" + keepOutliersFlag + "'");
    }
    if (bits == 32)
      return fail("--keep-outliers needs -bits=8 or -bits=4");
    if (calibPath.empty())
      return fail("--keep-outliers needs per-channel activation ranges: "
                  "calibrate with --calib PATH");
  }
  if (!(outlierRatio >= 0.0) || !std::isfinite(outlierRatio))
    return fail("--outlier-ratio must be a number >= 0");
  if (outlierRatio.getNumOccurrences() > 0 && !keepOutliers)
    return fail("--outlier-ratio needs --keep-outliers=N|auto");
  // The driver recalibrates after retention but the pipeline scales first,
  // so the two would pick channels on different models.
  if (keepOutliers && awqFlag)
    return fail("--awq and --keep-outliers cannot be combined yet (AWQ's "
                "scales and the kept channels would come from different "
                "calibrations)");
  if (groupSize != 32 && groupSize != 64 && groupSize != 128)
    return fail("--group-size=" + llvm::Twine(groupSize.getValue()) +
                " is not supported (32, 64 or 128)");
  if (asymmetric && symmetricFlag)
    return fail("--sym and --asym exclude each other");
  bool toFile = emitKind == EmitKind::Obj || emitKind == EmitKind::So;
  if (toFile && (outputPrefix.empty() || outputPrefix == "-"))
    return fail("-o PREFIX is required to write an artifact");

  OnnxImportOptions importOptions;
  for (const std::string &spec : inputShapes) {
    std::string name;
    std::vector<int64_t> dims;
    if (!parseInputShape(spec, name, dims))
      return fail("malformed -input-shape='" + spec +
                  "'; expected NAME:DxDx... with positive dimensions");
    importOptions.inputShapes[name] = dims;
  }

  for (const std::string &spec : constInputs) {
    size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      return fail("malformed --const-input='" + spec +
                  "'; expected NAME=FILE.pb");
    importOptions.constantInputFiles[spec.substr(0, eq)] = spec.substr(eq + 1);
  }

  StageTimer timer(verbose);
  auto compileStart = std::chrono::steady_clock::now();
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // The first error diagnostic becomes the one `qcc: error:` line of the
  // failing stage; later ones are usually consequences of it.
  std::string firstDiagnostic;
  ScopedDiagnosticHandler diagHandler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error ||
        !firstDiagnostic.empty())
      return success();
    firstDiagnostic = diag.str();
    std::string loc;
    llvm::raw_string_ostream os(loc);
    diag.getLocation().print(os);
    if (!loc.empty() && loc != "loc(unknown)")
      firstDiagnostic += " at " + loc;
    return success();
  });

  std::string error;
  ArtifactSpec spec;
  spec.sourceModelPath = inputPath;
  spec.target = target;
  spec.bits = bits;
  FailureOr<std::string> modelHash = sha256File(inputPath, error);
  if (failed(modelHash))
    return fail(error);
  spec.sourceModelSha256 = *modelHash;

  // A .mlir input skips the importer: it must hold what the importer would
  // produce (func.func @main with qcc.name / qcc.dtype attributes).
  OwningOpRef<ModuleOp> module;
  if (llvm::StringRef(inputPath).ends_with(".mlir")) {
    module = parseSourceFile<ModuleOp>(inputPath, &context);
    if (!module)
      return fail("cannot parse '" + inputPath + "' as MLIR: " +
                  firstDiagnostic);
  } else {
    module = importOnnxModel(context, inputPath, importOptions, error);
    if (!module)
      return fail(error);
  }
  timer.done("import");
  if (emitKind == EmitKind::Mlir)
    return writeText(outputPrefix, [&](llvm::raw_ostream &os) {
      module->print(os);
      os << "\n";
    });
  if (failed(readSignature(*module, "main", spec, error)))
    return fail(error);

  // GPU targets end in PTX kernels and a launch plan, no host code
  // (docs/ARTIFACT.md, "GPU artifacts"); they share the front (tensor
  // optimizations, calibration on the CPU backend, quantization) with the
  // CPU targets.
  bool gpu = target->kind == TargetKind::Gpu;
  PassManager pm(&context);
  CpuPipelineOptions pipelineOptions;
  GpuPipelineOptions gpuOptions;
  if (gpu) {
    gpuOptions.bits = bits;
    gpuOptions.groupSize = groupSize;
    gpuOptions.symmetric = !asymmetric;
    gpuOptions.weightClip = weightClip;
    gpuOptions.actQuant = actMode;
    gpuOptions.quantizeEmbeddings = quantizeEmbeddings;
    gpuOptions.warpReductions = gpuWarpReductions;
    gpuOptions.wgmma = target->archSpecific && target->smVersion == 90;
    std::vector<std::string> keep(keepFloat.begin(), keepFloat.end());
    gpuOptions.keepFloat = keep;
    auto gemv = readTuning(gpuGemv, "--gpu-gemv", "TILES,WARPS,UNROLL", 3);
    auto wgmma = readTuning(gpuWgmma, "--gpu-wgmma", "TILE_N,SPLIT_K", 2);
    if (!gemv || !wgmma)
      return 1;
    gpuOptions.gemvTiles = (*gemv)[0];
    gpuOptions.gemvWarps = (*gemv)[1];
    gpuOptions.gemvUnroll = (*gemv)[2];
    gpuOptions.wgmmaTileN = (*wgmma)[0];
    gpuOptions.wgmmaSplitK = (*wgmma)[1];
    gpuOptions.frontOptions(pipelineOptions);
  } else {
    pipelineOptions.setTarget(*target);
    pipelineOptions.bits = bits;
    pipelineOptions.groupSize = groupSize;
    pipelineOptions.symmetric = !asymmetric;
    pipelineOptions.actQuant = actMode;
    pipelineOptions.quantizeEmbeddings = quantizeEmbeddings;
    std::vector<std::string> keepPatterns(keepFloat.begin(), keepFloat.end());
    pipelineOptions.keepFloat = keepPatterns;
  }
  // Calibration runs the float model on a CPU: the host's best CPU target
  // for GPU targets.
  const TargetInfo *calibTarget = gpu ? lookupTarget("host") : target;
  if (!calibTarget)
    return fail("no CPU target runs on this machine to calibrate with");
  pipelineOptions.weightAlgo = weightAlgo;
  pipelineOptions.weightClip = weightClip;
  // Statistics only AWQ asked for describe the model before it rescales:
  // the weight quantizer does not read them.
  bool awqOnlyStats = awqFlag && calibStats.empty() && weightAlgo != "gptq" &&
                      weightClip != "act";
  pipelineOptions.weightStats = awqOnlyStats ? "" : calibOptions.statsDir;
  pipelineOptions.awq = awqFlag;
  pipelineOptions.awqStats = calibOptions.statsDir;
  pipelineOptions.gptqActOrder = gptqActOrder;
  pipelineOptions.gptqDampening = gptqDampening;
  pipelineOptions.smooth = smooth;
  pipelineOptions.smoothAlpha = smoothAlpha;
  pipelineOptions.outlierCount = outlierCount;
  pipelineOptions.outlierRatio = outlierThreshold;
  // Calibration and evaluation need the float model after the tensor-level
  // optimizations, so the pipeline runs in two parts around them.
  std::unique_ptr<FloatModel> floatModel;
  std::unique_ptr<InputSets> evalSets;
  CalibrationResult calibResult;
  bool calibrated = false;
  if (!calibPath.empty() || !evalPath.empty()) {
    PassManager front(&context);
    buildTensorOptimizationPipeline(front, pipelineOptions);
    if (failed(front.run(*module)))
      return fail("the " + target->name + " pipeline failed: " +
                  (firstDiagnostic.empty() ? "unknown error" : firstDiagnostic));
    if (!evalPath.empty()) {
      evalSets = InputSets::open(evalPath, spec.inputs, error);
      if (!evalSets)
        return fail("--eval: " + error);
    }
    if (!calibPath.empty()) {
      std::unique_ptr<InputSets> sets =
          InputSets::open(calibPath, spec.inputs, error);
      if (!sets)
        return fail("--calib: " + error);
      // The instrumented float model stays loaded for the calibration after
      // smoothing / outlier retention, which reruns it (CalibrationSession).
      CalibrationSession calibSession;
      bool keepSession = (smooth || keepOutliers) &&
                         (actMode == "static" || !calibOptions.statsDir.empty());
      if (failed(calibrate(*module, *calibTarget, pipelineOptions, *sets,
                           calibOptions, calibResult,
                           evalSets ? &floatModel : nullptr, error,
                           keepSession ? &calibSession : nullptr)))
        return fail(error);
      calibrated = true;
      timer.done("calibrate");
      // Static scales and the X^T X statistics (--calib-stats, or the
      // temporary folder GPTQ and --weight-clip=act read) must describe the
      // smoothed and split activations: smooth, keep the outlier channels
      // (chosen from the smoothed ranges), then calibrate again (processed
      // matmuls are marked, so the quantization pipeline leaves them be).
      bool recalibrate =
          actMode == "static" || !calibOptions.statsDir.empty();
      if ((smooth && (recalibrate || keepOutliers)) || keepOutliers) {
        PassManager rewrite(&context);
        if (smooth)
          buildSmoothingPipeline(rewrite, pipelineOptions);
        buildOutlierPipeline(rewrite, pipelineOptions);
        if (failed(rewrite.run(*module)))
          return fail(std::string(smooth ? "smoothing" : "outlier retention") +
                      " failed: " +
                      (firstDiagnostic.empty() ? std::string("unknown error")
                                               : firstDiagnostic));
        if (recalibrate) {
          if (failed(calibrate(*module, *calibTarget, pipelineOptions, *sets,
                               calibOptions, calibResult, nullptr, error,
                               &calibSession)))
            return fail(error);
          timer.done("recalibrate");
        }
      }
      // AWQ rescales weight rows and activations: static ranges and the
      // X^T X the weight quantizer reads must describe the rescaled model:
      // scale, then calibrate again (scaled matmuls are marked, so the
      // quantization pipeline leaves them be).
      if (awqFlag &&
          (actMode == "static" || !pipelineOptions.weightStats.empty())) {
        PassManager scaling(&context);
        buildAwqPipeline(scaling, pipelineOptions);
        if (failed(scaling.run(*module)))
          return fail("awq failed: " + (firstDiagnostic.empty()
                                            ? std::string("unknown error")
                                            : firstDiagnostic));
        if (failed(calibrate(*module, *calibTarget, pipelineOptions, *sets,
                             calibOptions, calibResult, nullptr, error)))
          return fail(error);
        timer.done("awq+recalibrate");
      }
    }
    if (evalSets && !floatModel) {
      OwningOpRef<ModuleOp> copy = module->clone();
      floatModel = FloatModel::compile(*copy, *target, pipelineOptions, 0, error);
      if (!floatModel)
        return fail("--eval: " + error);
      timer.done("float-model");
    }
    if (gpu)
      buildGpuBackendPipeline(pm, pipelineOptions, gpuOptions);
    else
      buildCpuBackendPipeline(pm, pipelineOptions);
  } else if (gpu) {
    buildGpuPipeline(pm, gpuOptions);
  } else {
    buildCpuFloatPipeline(pm, pipelineOptions);
  }
  if (failed(pm.run(*module)))
    return fail("the " + target->name + " pipeline failed: " +
                (firstDiagnostic.empty() ? "unknown error" : firstDiagnostic));
  timer.done("pipeline");
  if (emitKind == EmitKind::LoweredMlir)
    return writeText(outputPrefix, [&](llvm::raw_ostream &os) {
      module->print(os);
      os << "\n";
    });
  if (gpu) {
    GpuEmitKind gpuEmit = emitKind == EmitKind::Llvm  ? GpuEmitKind::LlvmIr
                          : emitKind == EmitKind::Obj ? GpuEmitKind::Ptx
                                                      : GpuEmitKind::Artifact;
    if (failed(emitGpuArtifact(*module, spec, outputPrefix, gpuEmit, error)))
      return fail(error);
    timer.done("ptx+plan");
    if (reportPath.empty() || gpuEmit != GpuEmitKind::Artifact)
      return 0;
    uint64_t weightBytes = 0;
    llvm::sys::fs::file_size(outputPrefix + ".weights", weightBytes);
    return writeReport(*module, reportPath,
                       std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - compileStart)
                           .count(),
                       static_cast<int64_t>(weightBytes),
                       calibrated ? &calibResult : nullptr, nullptr);
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateAndOptimize(*module, llvmContext, *target, error);
  if (!llvmModule)
    return fail(error);
  // The library names the I/O it was compiled for, so a manifest that
  // describes other shapes or another weight file is refused at load.
  addIoSignatureSymbol(*llvmModule,
                       ioSignatureText(spec, weightFileBytes(*module)));
  timer.done("llvm-opt");
  if (emitKind == EmitKind::Llvm)
    return writeText(outputPrefix,
                     [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });

  llvm::SmallString<256> dir(outputPrefix.getValue());
  llvm::sys::path::remove_filename(dir);
  if (!dir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dir))
      return fail("cannot create '" + dir + "': " + ec.message());
  std::string objectPath = outputPrefix + ".o";
  // A failed compile leaves no partial artifact behind.
  auto failAndClean = [&](const llvm::Twine &message) {
    for (const char *ext : {".o", ".so", ".weights", ".json", ".h"})
      llvm::sys::fs::remove(outputPrefix + ext);
    return fail(message);
  };
  if (failed(emitObjectFile(*llvmModule, *target, objectPath, error)))
    return failAndClean(error);
  timer.done("codegen");
  if (emitKind == EmitKind::Obj)
    return 0;
  std::string soPath = outputPrefix + ".so";
  if (failed(linkSharedObject(objectPath, soPath, error)))
    return failAndClean(error);
  if (!keepObject)
    llvm::sys::fs::remove(objectPath);
  timer.done("link");
  if (failed(writeArtifactFiles(*module, spec, outputPrefix, error)))
    return failAndClean(error);
  timer.done("write");
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - compileStart)
                       .count();
  EvaluationResult evalResult;
  if (evalSets) {
    qcc_model *shipped = nullptr;
    if (qcc_status st = qcc_model_load(outputPrefix.c_str(), nullptr, &shipped)) {
      std::string message = qcc_status_message(st);
      qcc_status_free(st);
      return fail("--eval: cannot run the artifact on this machine: " + message);
    }
    LogicalResult evaluated =
        evaluate(shipped, floatModel->get(), *evalSets,
                 calibOptions.progress, evalResult, error);
    qcc_model_release(shipped);
    if (failed(evaluated))
      return fail(error);
    timer.done("evaluate");
    printQuality(evalResult);
  }
  if (!reportPath.empty()) {
    uint64_t weightBytes = 0;
    llvm::sys::fs::file_size(outputPrefix + ".weights", weightBytes);
    return writeReport(*module, reportPath, seconds,
                       static_cast<int64_t>(weightBytes),
                       calibrated ? &calibResult : nullptr,
                       evalSets ? &evalResult : nullptr);
  }
  return 0;
}
