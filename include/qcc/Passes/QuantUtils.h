//===- QuantUtils.h - helpers shared by the quantization passes -*- C++ -*-===//

#ifndef QCC_PASSES_QUANTUTILS_H
#define QCC_PASSES_QUANTUTILS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcc {

/// The f32 values of a constant held in a dense or dense-resource attribute;
/// nullopt for other element types or a missing blob.
std::optional<std::vector<float>> getFloatValues(mlir::ElementsAttr attr);

/// The per-input-channel max |x| that calibration set on `op` as
/// `absMax` (`qcc.act_channel_absmax`): `k` finite f32 values >= 0, else an
/// error on `op` and failure.
mlir::FailureOr<std::vector<float>> readChannelAbsMax(mlir::Operation *op,
                                                      mlir::ElementsAttr absMax,
                                                      int64_t k);

/// The ONNX node name a location carries ("" if none).
std::string getNodeName(mlir::Location loc);

/// The group size 4-bit weights with K = `k` rows get when `groupSize` is
/// asked for: `groupSize` when it divides k, else the largest smaller power
/// of two >= 8 that does (SmolLM2's K = 576 with 128 gets 64); 0 when none
/// does (the layer stays float).
int64_t fitGroupSize(int64_t k, int64_t groupSize);

/// `x * s` with `s` [N] broadcast over the last dimension of the f32 tensor
/// `x` (a per-channel scale or 0/1 mask), as a linalg.generic at `b`.
mlir::Value scaleLastDim(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                         mlir::Value s);

/// `x + y` of two f32 tensors of one shape, as a linalg.generic at `b`.
mlir::Value addTensors(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       mlir::Value y);

/// The attribute recording how a calibrated matmul's input relates to what
/// the first calibration observed there: input = observed * factor, per
/// input channel (k f32 values; absent: factor 1). Passes that rescale or
/// mask a calibrated input in a way the float model computes exactly
/// (qcc-smooth-activations, qcc-retain-outliers) compose into it, so that
/// calibrating again can run the first calibration's float model and apply
/// the factor instead of compiling the rewritten model (lib/Calibration).
inline constexpr llvm::StringLiteral kCalibChannelFactor =
    "qcc.calib_channel_factor";
/// Multiplies `op`'s kCalibChannelFactor by `factor` (k values).
void composeCalibChannelFactor(mlir::Operation *op,
                               llvm::ArrayRef<float> factor);

/// Appends one entry (a dictionary of `fields`) to the array attribute
/// `attrName` (e.g. `qcc.quant_report`) of the function holding `op`, which
/// `qcc --report` prints. Function passes write only their own function, never
/// the module: the pass manager may run them on several functions at once.
void appendReportEntry(mlir::Operation *op, llvm::StringRef attrName,
                       llvm::ArrayRef<mlir::NamedAttribute> fields);

/// Appends one layer to the `qcc.quant_report` of the function holding `op`.
inline void appendQuantReport(mlir::Operation *op,
                              llvm::ArrayRef<mlir::NamedAttribute> fields) {
  appendReportEntry(op, "qcc.quant_report", fields);
}

/// Every entry of the report attribute `attrName` in `module`: those on the
/// module itself, then each function's, in the module's order.
llvm::SmallVector<mlir::DictionaryAttr>
collectReportEntries(mlir::ModuleOp module, llvm::StringRef attrName);

} // namespace qcc

#endif // QCC_PASSES_QUANTUTILS_H
