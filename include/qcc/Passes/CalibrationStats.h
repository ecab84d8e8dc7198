//===- CalibrationStats.h - reading a --calib-stats folder ------*- C++ -*-===//
//
// Calibration can write what it observed of every quantizable matmul's
// input (lib/Calibration, `qcc --calib-stats DIR`): per observed activation
// `<prefix>.mean_square.npy` [K] f64 (E[x_k^2]), `<prefix>.xtx.npy` [K, K]
// f64 (the mean of x^T x over rows), and more, with `index.json` naming the
// matmuls (ONNX node names) each prefix describes:
//
//   {"samples": 16, "activations": [
//      {"file_prefix": "0", "rows": 2048, "layers": ["q_proj", "k_proj"]}]}
//
// Weight quantization reads X^T X back by layer name: GPTQ's Hessian, and
// its diagonal for the activation-weighted clip; AWQ reads X^T X and
// `<prefix>.mean_abs.npy` [K] f64 (E[|x_k|]).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_PASSES_CALIBRATIONSTATS_H
#define QCC_PASSES_CALIBRATIONSTATS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qcc {

class CalibrationStats {
public:
  /// Reads `dir`/index.json. Null with `error` set when it is missing or
  /// malformed.
  static std::unique_ptr<CalibrationStats> open(llvm::StringRef dir,
                                                std::string &error);

  /// The file prefix holding the statistics of the matmul named `layer`;
  /// "" with `error` set when the index does not list it, or lists it under
  /// two prefixes.
  std::string lookup(llvm::StringRef layer, std::string &error) const;

  /// Reads `<prefix>.xtx.npy` into `out` (row-major [k, k]); fails when the
  /// file is missing or is not a [k, k] float64 array.
  bool loadGram(llvm::StringRef prefix, int64_t k, std::vector<double> &out,
                std::string &error) const;

  /// Reads `<prefix>.mean_abs.npy` (mean |x| per channel, AWQ's activation
  /// statistic) into `out`; fails unless it is a [k] float64 array.
  bool loadMeanAbs(llvm::StringRef prefix, int64_t k, std::vector<double> &out,
                   std::string &error) const;

  const std::string &getDirectory() const { return directory; }

private:
  CalibrationStats() = default;
  bool loadArray(llvm::StringRef prefix, llvm::StringRef suffix,
                 llvm::ArrayRef<int64_t> dims, std::vector<double> &out,
                 std::string &error) const;

  std::string directory;
  /// Layer name -> file prefix; "" marks a name listed under two prefixes.
  llvm::StringMap<std::string> prefixes;
};

} // namespace qcc

#endif // QCC_PASSES_CALIBRATIONSTATS_H
