//===- Report.cpp - qcc's --report writer and quality table ---------------===//
//
// The per-layer quantization report (--report=FILE.json and the table on
// stdout) and the --eval quality table of the qcc driver.
//
//===----------------------------------------------------------------------===//

#include "Report.h"
#include "qcc/Passes/QuantUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace qcc;

namespace {

/// The entries of the `qcc.smooth_report` attributes whose "kind" is
/// `kind` ("smooth": qcc-smooth-activations, "awq": qcc-awq-scale).
SmallVector<DictionaryAttr> channelScalingEntries(ModuleOp module,
                                                  StringRef kind) {
  SmallVector<DictionaryAttr> entries;
  for (DictionaryAttr d : collectReportEntries(module, "qcc.smooth_report")) {
    auto k = d.getAs<StringAttr>("kind");
    if ((k ? k.getValue() : StringRef("smooth")) == kind)
      entries.push_back(d);
  }
  return entries;
}

/// A per-layer number of a channel-scaling table: the report field, its
/// header on stdout and its JSON key.
struct ScalingColumn {
  StringRef field, header, jsonKey;
};

/// The entries of `qcc.smooth_report` of one kind ("smooth":
/// qcc-smooth-activations, "awq": qcc-awq-scale) as the JSON array
/// `arrayName` and a table on stdout: per matmul alpha, the range of s, the
/// kind's own two numbers (`extra`) and where 1/s went.
void writeChannelScalingReport(ModuleOp module, llvm::json::OStream &out,
                               StringRef kind, StringRef arrayName,
                               StringRef title,
                               const ScalingColumn (&extra)[2]) {
  SmallVector<DictionaryAttr> layers = channelScalingEntries(module, kind);
  if (layers.empty())
    return;
  llvm::outs() << llvm::format("%-40s %6s %10s %10s %12s %12s  %s\n",
                               title.str().c_str(), "alpha", "s min", "s max",
                               extra[0].header.str().c_str(),
                               extra[1].header.str().c_str(), "1/s placed");
  out.attributeArray(arrayName, [&] {
    for (DictionaryAttr d : layers) {
      auto num = [&](StringRef key) {
        return d.getAs<FloatAttr>(key).getValueAsDouble();
      };
      StringRef name = d.getAs<StringAttr>("name").getValue();
      StringRef placement = d.getAs<StringAttr>("placement").getValue();
      llvm::outs() << llvm::format(
          "%-40s %6.2f %10.4g %10.4g %12.5g %12.5g  %s\n", name.str().c_str(),
          num("alpha"), num("scale_min"), num("scale_max"),
          num(extra[0].field), num(extra[1].field), placement.str().c_str());
      out.object([&] {
        out.attribute("name", name);
        out.attribute("alpha", num("alpha"));
        out.attribute("k", d.getAs<IntegerAttr>("k").getInt());
        out.attribute("matmuls_sharing_s",
                      d.getAs<IntegerAttr>("shared_with").getInt() + 1);
        out.attribute("scale_min", num("scale_min"));
        out.attribute("scale_max", num("scale_max"));
        for (const ScalingColumn &column : extra)
          out.attribute(column.jsonKey, num(column.field));
        out.attribute("placement", placement);
      });
    }
  });
}

/// SmoothQuant: the largest |x| of each smoothed activation before and after.
void writeSmoothReport(ModuleOp module, llvm::json::OStream &out) {
  writeChannelScalingReport(
      module, out, "smooth", "smoothing", "smoothed layer",
      {{"act_absmax_before", "|x| before", "act_absmax_before"},
       {"act_absmax_after", "|x| after", "act_absmax_after"}});
}

/// AWQ: the relative output error of plain rounding and with the AWQ scales.
void writeAwqReport(ModuleOp module, llvm::json::OStream &out) {
  writeChannelScalingReport(
      module, out, "awq", "awq", "awq layer",
      {{"output_error_rtn", "err rtn", "output_rel_error_rtn"},
       {"output_error_awq", "err awq", "output_rel_error_awq"}});
}

/// The `qcc.outlier_report` entries (qcc-retain-outliers): per
/// matmul the activation channels kept in float and the bytes of their
/// float weight rows.
void writeOutlierReport(ModuleOp module, llvm::json::OStream &out) {
  SmallVector<DictionaryAttr> layers =
      collectReportEntries(module, "qcc.outlier_report");
  if (layers.empty())
    return;
  llvm::outs() << llvm::format("%-40s %6s %6s %12s %12s %12s  %s\n",
                               "outlier layer", "K", "kept", "float bytes",
                               "|x| before", "|x| after", "channels");
  int64_t totalBytes = 0, totalKept = 0;
  out.attributeArray("outliers", [&] {
    for (Attribute attr : layers) {
      auto d = cast<DictionaryAttr>(attr);
      auto num = [&](StringRef key) {
        return d.getAs<FloatAttr>(key).getValueAsDouble();
      };
      auto integer = [&](StringRef key) {
        return d.getAs<IntegerAttr>(key).getInt();
      };
      StringRef name = d.getAs<StringAttr>("name").getValue();
      std::string channels;
      std::vector<int64_t> list;
      for (Attribute c : d.getAs<ArrayAttr>("channels")) {
        list.push_back(cast<IntegerAttr>(c).getInt());
        channels += (channels.empty() ? "" : ",") + std::to_string(list.back());
      }
      totalBytes += integer("float_bytes");
      totalKept += integer("kept");
      llvm::outs() << llvm::format(
          "%-40s %6lld %6lld %12lld %12.4g %12.4g  %s\n", name.str().c_str(),
          static_cast<long long>(integer("k")),
          static_cast<long long>(integer("kept")),
          static_cast<long long>(integer("float_bytes")),
          num("act_absmax_before"), num("act_absmax_after"), channels.c_str());
      out.object([&] {
        out.attribute("name", name);
        out.attribute("k", integer("k"));
        out.attribute("n", integer("n"));
        out.attribute("kept", integer("kept"));
        out.attributeArray("channels", [&] {
          for (int64_t c : list)
            out.value(c);
        });
        out.attribute("float_bytes", integer("float_bytes"));
        out.attribute("act_absmax_before", num("act_absmax_before"));
        out.attribute("act_absmax_after", num("act_absmax_after"));
        out.attribute("activations_masked",
                      d.getAs<BoolAttr>("masked").getValue());
        out.attribute("capped_at_half_k",
                      d.getAs<BoolAttr>("capped").getValue());
      });
    }
  });
  llvm::outs() << llvm::format("outlier channels kept in float: %lld over "
                               "%zu matmuls, %lld bytes of float weight "
                               "rows\n",
                               static_cast<long long>(totalKept),
                               layers.size(),
                               static_cast<long long>(totalBytes));
}

} // namespace

/// Writes the per-layer quantization report (the `qcc.quant_report` entries
/// that qcc-quantize-weights leaves on each function) as JSON to `path`, and a table
/// on stdout.
int qcc::writeReport(ModuleOp module, llvm::StringRef path, double compileSeconds,
                int64_t weightFileBytes, const CalibrationResult *calib,
                const EvaluationResult *eval) {
  SmallVector<DictionaryAttr> layers =
      collectReportEntries(module, "qcc.quant_report");
  int64_t before = 0, after = 0, elements = 0, quantized = 0;
  std::string json;
  llvm::raw_string_ostream os(json);
  llvm::json::OStream out(os, 2);
  llvm::outs() << llvm::format("%-40s %-18s %12s %12s %10s  %s\n", "layer",
                               "format", "bytes before", "bytes after",
                               "weight err", "note");
  out.object([&] {
    out.attributeArray("layers", [&] {
      for (DictionaryAttr attr : layers) {
        auto d = cast<DictionaryAttr>(attr);
        auto str = [&](StringRef key) {
          return d.getAs<StringAttr>(key).getValue();
        };
        auto num = [&](StringRef key) {
          return d.getAs<IntegerAttr>(key).getInt();
        };
        double err = d.getAs<FloatAttr>("weight_rel_error").getValueAsDouble();
        before += num("bytes_before");
        after += num("bytes_after");
        elements += num("k") * num("n");
        quantized += str("format") != "f32";
        llvm::outs() << llvm::format("%-40s %-18s %12lld %12lld %10.4f  %s\n",
                                     str("name").str().c_str(),
                                     str("format").str().c_str(),
                                     (long long)num("bytes_before"),
                                     (long long)num("bytes_after"), err,
                                     str("note").str().c_str());
        out.object([&] {
          out.attribute("name", str("name"));
          out.attribute("format", str("format"));
          out.attribute("shape", llvm::json::Array{num("k"), num("n")});
          out.attribute("bits", str("format") == "f32"
                                    ? 32
                                    : (str("format").starts_with("int8") ? 8 : 4));
          out.attribute("weight_bytes_before", num("bytes_before"));
          out.attribute("weight_bytes_after", num("bytes_after"));
          out.attribute("weight_rel_error", err);
          out.attribute("activations", str("activations"));
          out.attribute("note", str("note"));
          if (auto algo = d.getAs<StringAttr>("weight_algo"))
            out.attribute("weight_algo", algo.getValue());
          for (StringRef key : {"output_rel_error", "output_rel_error_rtn"})
            if (auto value = d.getAs<FloatAttr>(key))
              out.attribute(key, value.getValueAsDouble());
        });
      }
    });
    double bitsPerWeight = elements ? 8.0 * after / elements : 0.0;
    out.attributeObject("totals", [&] {
      out.attribute("matmul_layers", (int64_t)layers.size());
      out.attribute("quantized_layers", quantized);
      out.attribute("matmul_weight_bytes_before", before);
      out.attribute("matmul_weight_bytes_after", after);
      out.attribute("matmul_bits_per_weight", bitsPerWeight);
      out.attribute("weight_file_bytes", weightFileBytes);
      out.attribute("weight_file_bytes_float_estimate",
                    weightFileBytes - after + before);
      out.attribute("compile_seconds", compileSeconds);
      if (calib)
        out.attribute("calibration_seconds",
                      calib->compileSeconds + calib->runSeconds);
    });
    if (calib)
      out.attributeObject("calibration", [&] {
        out.attribute("method", calibrationMethodName(calib->method));
        if (calib->method == CalibrationMethod::Percentile)
          out.attribute("percentile", calib->percentile);
        out.attribute("samples", (int64_t)calib->numSamples);
        if (!calib->tokenMask.empty()) {
          // Padding positions (mask 0) count in no statistic.
          out.attribute("token_mask", calib->tokenMask);
          out.attribute("positions_kept", (int64_t)calib->maskedKept);
          out.attribute("positions_total", (int64_t)calib->maskedTotal);
        }
        out.attribute("float_model_compile_seconds", calib->compileSeconds);
        out.attribute("float_model_reused", calib->reusedModel);
        out.attribute("run_seconds", calib->runSeconds);
        out.attributeArray("activations", [&] {
          for (const CalibrationPoint &p : calib->points)
            out.object([&] {
              out.attribute("name", p.name);
              out.attribute("channels", p.channels);
              out.attribute("min", p.min);
              out.attribute("max", p.max);
              out.attribute("abs_max_chosen", p.absMax);
              out.attribute("channel_outlier_ratio", p.channelOutlierRatio);
              out.attribute("static_sqnr_db", p.sqnrDb);
              out.attribute("per_token_fallback", p.fallback);
              out.attribute("values", (int64_t)p.values);
              out.attribute("non_finite", (int64_t)p.nonFinite);
            });
        });
      });
    writeSmoothReport(module, out);
    writeAwqReport(module, out);
    writeOutlierReport(module, out);
    if (eval)
      out.attributeObject("quality", [&] {
        out.attribute("samples", (int64_t)eval->numSamples);
        out.attributeArray("outputs", [&] {
          for (const OutputQuality &q : eval->outputs)
            out.object([&] {
              out.attribute("name", q.name);
              out.attribute("mean_cosine", q.meanCosine);
              out.attribute("min_cosine", q.minCosine);
              out.attribute("mean_rel_l2", q.meanRelL2);
              out.attribute("max_rel_l2", q.maxRelL2);
              out.attribute("max_abs_error", q.maxAbsError);
              if (q.top1Agreement >= 0)
                out.attribute("top1_agreement", q.top1Agreement);
            });
        });
      });
  });
  os << "\n";
  llvm::outs() << llvm::format(
      "total: %lld of %lld matmul layers quantized; matmul weights %lld -> "
      "%lld bytes (%.2f bits/weight); weight file %lld bytes; compile %.1f s\n",
      (long long)quantized, (long long)layers.size(),
      (long long)before, (long long)after,
      elements ? 8.0 * after / elements : 0.0, (long long)weightFileBytes,
      compileSeconds);
  return writeText(path, [&](llvm::raw_ostream &file) { file << json; });
}

/// Prints the float-vs-artifact comparison of --eval.
void qcc::printQuality(const EvaluationResult &eval) {
  llvm::outs() << llvm::format("quality vs float over %zu input sets:\n",
                               eval.numSamples);
  llvm::outs() << llvm::format("  %-32s %12s %12s %12s %12s\n", "output",
                               "mean cosine", "min cosine", "mean rel L2",
                               "top-1 agree");
  for (const OutputQuality &q : eval.outputs) {
    std::string top1 = q.top1Agreement >= 0
                           ? llvm::formatv("{0:P1}", q.top1Agreement).str()
                           : "-";
    llvm::outs() << llvm::format("  %-32s %12.6f %12.6f %12.3e %12s\n",
                                 q.name.c_str(), q.meanCosine, q.minCosine,
                                 q.meanRelL2, top1.c_str());
  }
}

/// Writes text to `path`, or stdout for "-".
int qcc::writeText(llvm::StringRef path,
                   llvm::function_ref<void(llvm::raw_ostream &)> fn) {
  std::error_code ec;
  llvm::ToolOutputFile out(path.empty() ? "-" : path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    llvm::errs() << "qcc: error: cannot write '" << path << "': " << ec.message()
                 << "\n";
    return 1;
  }
  fn(out.os());
  out.keep();
  return 0;
}
