//===- Report.h - qcc's --report writer and quality table -------*- C++ -*-===//
//
// The per-layer quantization report (--report=FILE.json and the table on
// stdout) and the --eval quality table of the qcc driver.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_TOOLS_QCC_REPORT_H
#define QCC_TOOLS_QCC_REPORT_H

#include "qcc/Calibration/Calibration.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

namespace qcc {

/// Writes text to `path`, or stdout for "-"; returns the exit code.
int writeText(llvm::StringRef path,
              llvm::function_ref<void(llvm::raw_ostream &)> fn);

/// Writes the per-layer quantization report (the `qcc.quant_report` and
/// `qcc.smooth_report` entries the quantization passes leave on each
/// function, plus calibration and --eval results when given) as JSON to `path`, and a table
/// on stdout; returns the exit code.
int writeReport(mlir::ModuleOp module, llvm::StringRef path,
                double compileSeconds, int64_t weightFileBytes,
                const CalibrationResult *calib, const EvaluationResult *eval);

/// Prints the float-vs-artifact comparison of --eval.
void printQuality(const EvaluationResult &eval);

} // namespace qcc

#endif // QCC_TOOLS_QCC_REPORT_H
