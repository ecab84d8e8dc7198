//===- ChannelScaling.h - per-input-channel rescaling of matmuls -*- C++ -*-===//
//
// What SmoothQuant (qcc-smooth-activations) and AWQ (qcc-awq-scale) share:
// for matmuls Y = X W that read the same activations X [M, K], multiply the
// weight rows by s [K] and divide the activations by s, which leaves Y
// unchanged in exact arithmetic. The passes differ only in how they choose
// s.
//
// The division by s costs nothing at run time where it can: it is folded
// into the producer of the activations when that is an all-parallel
// linalg.generic (after qcc-fuse-elementwise a RMSNorm / LayerNorm, a gated
// activation) whose value reaches only the rescaled matmuls (through
// reshapes that keep the channel axis last): into its per-channel constant
// multiply (the norm's gamma) when its result is `x * gamma[c]`, else as one
// more per-channel constant operand it multiplies by. Where the activations
// come from elsewhere or also feed other ops, a small elementwise op scales
// the matmul input (one pass over M x K values).
//
//===----------------------------------------------------------------------===//

#ifndef QCC_PASSES_CHANNELSCALING_H
#define QCC_PASSES_CHANNELSCALING_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <optional>
#include <string>
#include <vector>

namespace qcc {

/// A matmul whose input channels can be rescaled: canonical maps
/// ([M, K] x [K, N]), f32 activations, a constant f32 [K, N] weight.
struct ScalableMatmul {
  mlir::linalg::MatmulOp op;
  mlir::arith::ConstantOp weight;
  int64_t k = 0, n = 0;
};

/// `op` as a ScalableMatmul, or nullopt when it is not one.
std::optional<ScalableMatmul> matchScalableMatmul(mlir::linalg::MatmulOp op);

/// The value `value` reshapes with the channel axis kept (following such
/// reshapes up): matmuls with the same root read the same activations.
mlir::Value traceChannelRoot(mlir::Value value);

/// A constant f32 tensor holding `values`: dense when small (readable in
/// tests), a resource blob named `blobName` when large.
mlir::Value makeF32Constant(mlir::OpBuilder &b, mlir::Location loc,
                            llvm::ArrayRef<int64_t> shape,
                            llvm::ArrayRef<float> values,
                            llvm::StringRef blobName);

/// Rescales `members`, which all read `root` (through channel-keeping
/// reshapes) with K = scale.size() channels: the activations are divided by
/// `scale` (folded into the producer where it can, see the file comment)
/// and each member's weight becomes `weights[i]` (its [K, N] values,
/// row-major, as read by the caller) with row j multiplied by scale[j].
/// `root` may be erased. Returns where 1/s went, for reports.
std::string applyChannelScale(mlir::Value root,
                              llvm::ArrayRef<ScalableMatmul> members,
                              llvm::ArrayRef<float> scale,
                              std::vector<std::vector<float>> &weights);

/// Appends one layer (a dictionary of `fields`) to the `qcc.smooth_report`
/// array attribute of the module holding `op`, which `qcc --report` prints.
void appendSmoothReport(mlir::Operation *op,
                        llvm::ArrayRef<mlir::NamedAttribute> fields);

} // namespace qcc

#endif // QCC_PASSES_CHANNELSCALING_H
