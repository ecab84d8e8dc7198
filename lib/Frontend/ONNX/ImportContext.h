//===- ImportContext.h - Per-node helpers of the ONNX importer --*- C++ -*-===//
//
// Internal to lib/Frontend/ONNX. The driver (OnnxImporter.cpp) walks the
// graph; for each node it hands a NodeContext to the handler registered for
// the node's op type. Handlers read inputs (as SSA values or, when known at
// compile time, as host tensors), read attributes, and set outputs.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_LIB_FRONTEND_ONNX_IMPORTCONTEXT_H
#define QCC_LIB_FRONTEND_ONNX_IMPORTCONTEXT_H

#include "qcc/Frontend/ONNX/OnnxImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qcc {
namespace onnximport {

/// ONNX TensorProto element types used here (values of
/// onnx::TensorProto_DataType).
enum DType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
};

bool isSupportedDType(int32_t dt);
bool isFloatDType(int32_t dt);
bool isUnsignedDType(int32_t dt);
/// Signed or unsigned integer, not bool.
bool isIntDType(int32_t dt);
int64_t dtypeBytes(int32_t dt);
int64_t dtypeBits(int32_t dt);
std::string dtypeName(int32_t dt);
mlir::Type mlirElemType(mlir::MLIRContext *ctx, int32_t dt);

int64_t numElements(llvm::ArrayRef<int64_t> shape);
/// Fails (with the reason in `why`) on a negative dimension or more than
/// 2^40 elements (NodeChecks.cpp).
mlir::LogicalResult checkShapeSize(llvm::ArrayRef<int64_t> shape,
                                   std::string &why);
std::string shapeStr(llvm::ArrayRef<int64_t> shape);

/// A small tensor known at compile time. Integer and bool data live in
/// `ints` (unsigned 64-bit values bit-cast), float data in `floats`.
struct HostTensor {
  int32_t dtype = kFloat;
  std::vector<int64_t> shape;
  std::vector<int64_t> ints;
  std::vector<double> floats;

  HostTensor() = default;
  HostTensor(int32_t dtype, std::vector<int64_t> shape);
  bool isFloat() const { return isFloatDType(dtype); }
  int64_t size() const { return numElements(shape); }
  double getF(int64_t i) const;
  int64_t getI(int64_t i) const;
  /// Stores `v` after rounding/wrapping it to the element type.
  void setF(int64_t i, double v);
  void setI(int64_t i, int64_t v);
  /// Converts every element to `dt` with ONNX Cast semantics.
  HostTensor castTo(int32_t dt) const;
};

/// Wraps/normalizes an integer to the width and signedness of `dt`.
int64_t wrapInt(int64_t v, int32_t dt);
/// Rounds a double through the storage precision of float type `dt`.
double roundFloat(double v, int32_t dt);

/// Raw little-endian element bytes in MLIR's dense layout (bool: one byte
/// per element), 64-byte aligned, owned until handed to an MLIR blob.
struct RawBuffer {
  char *data = nullptr;
  size_t size = 0;
  bool owned = false;
  explicit RawBuffer(size_t size);
  ~RawBuffer();
  RawBuffer(const RawBuffer &) = delete;
  RawBuffer &operator=(const RawBuffer &) = delete;
};

/// Host tensor -> raw bytes and back.
std::shared_ptr<RawBuffer> hostToRaw(const HostTensor &t);
HostTensor rawToHost(const char *data, int32_t dtype,
                     llvm::ArrayRef<int64_t> shape);

/// One ONNX value during import.
struct TensorInfo {
  int32_t dtype = kUndefined;
  std::vector<int64_t> shape;
  /// Materialized SSA value; null until needed for constants.
  mlir::Value value;
  /// Compile-time contents when small enough to fold.
  std::shared_ptr<HostTensor> host;
  /// Compile-time contents of an initializer too large to fold.
  std::shared_ptr<RawBuffer> raw;
  bool isConstant() const { return host || raw; }
};

/// Largest tensor (in elements) evaluated on the host.
constexpr int64_t kMaxFoldElements = 65536;

class Importer;

/// What a handler sees of one node.
class NodeContext {
public:
  NodeContext(Importer &imp, const onnx::NodeProto &node, int64_t opset,
              mlir::OpBuilder &b, mlir::Location loc)
      : imp(imp), node(node), opset(opset), b(b), loc(loc) {}

  Importer &imp;
  const onnx::NodeProto &node;
  int64_t opset;
  mlir::OpBuilder &b;
  mlir::Location loc;

  llvm::StringRef opType() const { return node.op_type(); }
  mlir::MLIRContext *ctx() const { return b.getContext(); }

  size_t numInputs() const { return node.input_size(); }
  /// Input present (index in range and name not empty).
  bool hasInput(size_t i) const {
    return i < (size_t)node.input_size() && !node.input(i).empty();
  }
  size_t numOutputs() const { return node.output_size(); }
  bool hasOutput(size_t i) const {
    return i < (size_t)node.output_size() && !node.output(i).empty();
  }
  /// Input `i`; callers check hasInput first (the driver checks that
  /// referenced names exist).
  TensorInfo &in(size_t i);
  int32_t dtype(size_t i) { return in(i).dtype; }
  const std::vector<int64_t> &shape(size_t i) { return in(i).shape; }
  int64_t rank(size_t i) { return (int64_t)in(i).shape.size(); }
  /// SSA value of input `i` (materializes constants).
  mlir::Value value(size_t i);
  /// Host contents of input `i` if it is a small compile-time constant.
  const HostTensor *host(size_t i);
  /// Input `i` permuted by `perm`: computed on the host when the input is a
  /// compile-time constant (weights), else a linalg.transpose.
  mlir::Value transposedValue(size_t i, llvm::ArrayRef<int64_t> perm);
  /// Threshold for resource blobs (importer option).
  int64_t resourceThreshold() const;
  /// Integer contents of a constant input; fails with a diagnostic naming
  /// `what` when the input is not a compile-time constant.
  mlir::FailureOr<std::vector<int64_t>> constInts(size_t i,
                                                  llvm::StringRef what);
  mlir::FailureOr<std::vector<double>> constFloats(size_t i,
                                                   llvm::StringRef what);
  /// Host contents of input `i`, or null after a diagnostic naming `what`
  /// when it is missing or not a compile-time constant.
  const HostTensor *requireConst(size_t i, llvm::StringRef what);

  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t attrInt(llvm::StringRef name, int64_t def) const;
  float attrFloat(llvm::StringRef name, float def) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef def) const;
  std::vector<int64_t> attrInts(llvm::StringRef name) const;
  std::vector<float> attrFloats(llvm::StringRef name) const;

  /// Sets error "<op> node '<name>' (opset N): <msg>" and returns failure.
  mlir::LogicalResult fail(const llvm::Twine &msg);
  /// Sets error "unsupported attribute '<what>' on <op> (node ..., opset N)".
  mlir::LogicalResult unsupportedAttr(const llvm::Twine &what);

  void setOutput(size_t i, mlir::Value v, int32_t dtype);
  void setOutputHost(size_t i, HostTensor t);
  /// The value set for output `i`, or null.
  TensorInfo *out(size_t i);
  /// Output `out` is input `i` (Identity and friends).
  void forwardInput(size_t out, size_t i);

  /// Normalizes a possibly negative axis; fails when out of range.
  mlir::FailureOr<int64_t> normAxis(int64_t axis, int64_t rank);

  /// Element type helpers.
  mlir::Type elemType(int32_t dt) { return mlirElemType(ctx(), dt); }
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape, int32_t dt) {
    return mlir::RankedTensorType::get(shape, elemType(dt));
  }
};

using OpHandler = std::function<mlir::LogicalResult(NodeContext &)>;
using OpTable = llvm::StringMap<OpHandler>;

void registerElementwiseOps(OpTable &t);
void registerShapeOps(OpTable &t);
void registerGenerateOps(OpTable &t);
void registerMatmulOps(OpTable &t);
void registerNormOps(OpTable &t);
void registerConvPoolOps(OpTable &t);
void registerResizeOps(OpTable &t);

/// Host evaluation of `ctx`'s node when all its inputs are known. Returns
/// true when the outputs were set, false when folding does not apply, and
/// failure on a diagnosed error.
mlir::FailureOr<bool> tryFoldNode(NodeContext &ctx);

/// Slice parameters (offset, size, step per dim) with ONNX clamping.
mlir::LogicalResult computeSlice(NodeContext &c, std::vector<int64_t> &off,
                                 std::vector<int64_t> &size,
                                 std::vector<int64_t> &step);

//===----------------------------------------------------------------------===//
// IR building helpers (Builders.cpp)
//===----------------------------------------------------------------------===//

using BodyFn = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>;

/// numpy broadcast of two shapes; nullopt when incompatible.
std::optional<std::vector<int64_t>> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                                    llvm::ArrayRef<int64_t> b);

mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> shape, mlir::Type elem);
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<int64_t> shape, mlir::Value scalar);
/// Scalar constant of `elem` (float or integer type) with value `v`.
mlir::Value scalarConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type elem,
                        double v);
mlir::Value intConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type elem,
                     int64_t v);
mlir::Value indexConst(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// Map of an input of shape `inShape` broadcast (numpy rules) to an
/// iteration space of rank `outRank` whose sizes are `outShape`.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             llvm::ArrayRef<int64_t> inShape,
                             llvm::ArrayRef<int64_t> outShape);

/// All-parallel linalg.generic over `outShape` with explicit maps for
/// `inputs` (the output map is the identity).
mlir::Value buildGeneric(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::ValueRange inputs,
                         llvm::ArrayRef<mlir::AffineMap> maps,
                         llvm::ArrayRef<int64_t> outShape, mlir::Type outElem,
                         BodyFn body);
/// Elementwise op with numpy broadcasting of `inputs` to `outShape`.
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::ValueRange inputs,
                             llvm::ArrayRef<int64_t> outShape,
                             mlir::Type outElem, BodyFn body);

/// Reduction of `x` over sorted `axes`; the result drops those dims. `init`
/// is the scalar neutral value; `combine(acc, elem)` the combiner.
mlir::Value
buildReduce(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
            llvm::ArrayRef<int64_t> axes, mlir::Value init,
            llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::Value, mlir::Value)>
                combine);
/// Map from an iteration space of rank `rank` to a tensor that lacks the
/// (sorted) `axes`.
mlir::AffineMap dropDimsMap(mlir::MLIRContext *ctx, int64_t rank,
                            llvm::ArrayRef<int64_t> axes);

/// Reshape via collapse_shape / expand_shape (static shapes).
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> shape);
mlir::Value transposeValue(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value v, llvm::ArrayRef<int64_t> perm);
/// Static extract_slice with unit strides unless given.
mlir::Value extractSlice(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                         llvm::ArrayRef<int64_t> offsets,
                         llvm::ArrayRef<int64_t> sizes,
                         llvm::ArrayRef<int64_t> strides = {});
/// Concatenation through insert_slice into an empty tensor.
mlir::Value concatValues(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<mlir::Value> vals, int64_t axis);
/// Pads with a scalar constant; negative pads crop.
mlir::Value padConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                        llvm::ArrayRef<int64_t> low,
                        llvm::ArrayRef<int64_t> high, mlir::Value padValue);

/// Scalar conversion with ONNX Cast semantics.
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       int32_t from, int32_t to);
/// Broadcasting cast of a whole tensor (no-op if types agree).
mlir::Value castTensor(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       int32_t from, int32_t to);

/// Largest / smallest value of the element type (inf for floats).
mlir::Value lowestValue(mlir::OpBuilder &b, mlir::Location loc, int32_t dtype);
mlir::Value highestValue(mlir::OpBuilder &b, mlir::Location loc, int32_t dtype);

/// Materializes a host tensor as arith.constant (resource blob when large).
mlir::Value hostConstant(mlir::OpBuilder &b, mlir::Location loc,
                         const HostTensor &t, int64_t resourceThreshold,
                         llvm::StringRef blobName = "qcc_const");
/// `s` made a valid resource key.
std::string sanitizeKey(llvm::StringRef s);

} // namespace onnximport
} // namespace qcc

#endif // QCC_LIB_FRONTEND_ONNX_IMPORTCONTEXT_H
