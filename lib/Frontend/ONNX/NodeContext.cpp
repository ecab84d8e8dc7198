//===- NodeContext.cpp - what an op handler sees of the importer ----------===//

#include "Importer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <cstring>
#include <map>

using namespace mlir;

namespace qcc {
namespace onnximport {

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

TensorInfo &NodeContext::in(size_t i) { return imp.values.at(node.input(i)); }

Value NodeContext::value(size_t i) {
  TensorInfo &t = in(i);
  if (!t.value)
    t.value = imp.materialize(t, node.input(i));
  return t.value;
}

const HostTensor *NodeContext::host(size_t i) {
  if (!hasInput(i))
    return nullptr;
  return in(i).host.get();
}

int64_t NodeContext::resourceThreshold() const {
  return imp.options.resourceThresholdBytes;
}

Value NodeContext::transposedValue(size_t i, ArrayRef<int64_t> perm) {
  TensorInfo &t = in(i);
  bool identity = true;
  for (size_t k = 0; k < perm.size(); ++k)
    identity &= perm[k] == (int64_t)k;
  if (identity || !t.isConstant())
    return transposeValue(b, loc, value(i), perm);
  // Permute the bytes on the host: weights stay plain constants. This holds
  // even when the constant is already in the IR (a tied embedding that a
  // Gather read before the LM head's Gemm transposes it): a second, permuted
  // copy in the weight file costs bytes once, a transpose in the code costs
  // a pass over the whole table on every run.
  const std::vector<int64_t> &s = t.shape;
  int64_t r = s.size(), n = numElements(s), eb = dtypeBytes(t.dtype);
  std::shared_ptr<RawBuffer> src = t.raw ? t.raw : hostToRaw(*t.host);
  std::vector<int64_t> outShape(r), inStride(r, 1);
  for (int64_t d = r - 2; d >= 0; --d)
    inStride[d] = inStride[d + 1] * s[d + 1];
  for (int64_t d = 0; d < r; ++d)
    outShape[d] = s[perm[d]];
  auto dst = std::make_shared<RawBuffer>(n * eb);
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < n; ++o) {
    int64_t off = 0;
    for (int64_t d = 0; d < r; ++d)
      off += idx[d] * inStride[perm[d]];
    std::memcpy(dst->data + o * eb, src->data + off * eb, eb);
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d])
        break;
      idx[d] = 0;
    }
  }
  TensorInfo nt;
  nt.dtype = t.dtype;
  nt.shape = outShape;
  nt.raw = dst;
  return imp.materialize(nt, node.input(i) + "_t");
}

const HostTensor *NodeContext::requireConst(size_t i, StringRef what) {
  if (!hasInput(i)) {
    (void)fail("missing input '" + what + "'");
    return nullptr;
  }
  const HostTensor *h = host(i);
  if (!h)
    (void)fail("input '" + what + "' ('" + node.input(i) +
               "') must be a compile-time constant");
  return h;
}

FailureOr<std::vector<int64_t>> NodeContext::constInts(size_t i,
                                                       StringRef what) {
  const HostTensor *h = requireConst(i, what);
  if (!h)
    return failure();
  if (h->shape.size() > 1)
    return fail("input '" + what + "' must be a scalar or 1-D, got shape " +
                shapeStr(h->shape));
  if (!isIntDType(h->dtype) && h->dtype != kBool)
    return fail("input '" + what + "' must be an integer tensor, got " +
                dtypeName(h->dtype));
  std::vector<int64_t> r;
  for (int64_t k = 0; k < h->size(); ++k)
    r.push_back(h->getI(k));
  return r;
}

FailureOr<std::vector<double>> NodeContext::constFloats(size_t i,
                                                        StringRef what) {
  const HostTensor *h = requireConst(i, what);
  if (!h)
    return failure();
  if (h->shape.size() > 1)
    return fail("input '" + what + "' must be a scalar or 1-D, got shape " +
                shapeStr(h->shape));
  std::vector<double> r;
  for (int64_t k = 0; k < h->size(); ++k)
    r.push_back(h->getF(k));
  return r;
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::attrInt(StringRef name, int64_t def) const {
  const auto *a = attr(name);
  if (!a)
    return def;
  if (a->type() == onnx::AttributeProto::FLOAT)
    return (int64_t)a->f();
  return a->i();
}

float NodeContext::attrFloat(StringRef name, float def) const {
  const auto *a = attr(name);
  if (!a)
    return def;
  if (a->type() == onnx::AttributeProto::INT)
    return (float)a->i();
  return a->f();
}

std::string NodeContext::attrString(StringRef name, StringRef def) const {
  const auto *a = attr(name);
  if (!a)
    return def.str();
  return a->s();
}

std::vector<int64_t> NodeContext::attrInts(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<float> NodeContext::attrFloats(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

LogicalResult NodeContext::fail(const Twine &msg) {
  if (imp.error.empty())
    imp.error = (node.op_type() + " node '" + node.name() + "' (opset " +
                 Twine(opset) + "): " + msg)
                    .str();
  return failure();
}

LogicalResult NodeContext::unsupportedAttr(const Twine &what) {
  if (imp.error.empty())
    imp.error = ("unsupported attribute '" + what + "' on " + node.op_type() +
                 " (node '" + node.name() + "', opset " + Twine(opset) + ")")
                    .str();
  return failure();
}

void NodeContext::setOutput(size_t i, Value v, int32_t dt) {
  if (!hasOutput(i))
    return;
  TensorInfo t;
  t.dtype = dt;
  auto rt = cast<RankedTensorType>(v.getType());
  t.shape.assign(rt.getShape().begin(), rt.getShape().end());
  t.value = v;
  imp.values[node.output(i)] = std::move(t);
}

TensorInfo *NodeContext::out(size_t i) {
  if (!hasOutput(i))
    return nullptr;
  auto it = imp.values.find(node.output(i));
  return it == imp.values.end() ? nullptr : &it->second;
}

void NodeContext::forwardInput(size_t out, size_t i) {
  if (!hasOutput(out))
    return;
  TensorInfo t = in(i);
  imp.values[node.output(out)] = std::move(t);
}

void NodeContext::setOutputHost(size_t i, HostTensor h) {
  if (!hasOutput(i))
    return;
  TensorInfo t;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.host = std::make_shared<HostTensor>(std::move(h));
  imp.values[node.output(i)] = std::move(t);
}

FailureOr<int64_t> NodeContext::normAxis(int64_t axis, int64_t r) {
  int64_t a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= std::max<int64_t>(r, 1) || (r == 0 && a != 0)) {
    (void)fail("axis " + Twine(axis) + " out of range for rank " + Twine(r));
    return failure();
  }
  return a;
}

} // namespace onnximport
} // namespace qcc
