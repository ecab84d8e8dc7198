//===- NodeChecks.cpp - node checks shared by every op handler ------------===//
//
// Before a node reaches its handler, the driver checks it against the ONNX
// operator schema of the model's opset (known to the linked libonnx): the
// number of inputs and outputs, required inputs present, attributes known,
// of the declared type, not repeated, and required ones given. After the
// handler, every output must have a non-negative shape of a sane size. Each
// failure is one error line naming node, op and the offending field, so a
// malformed model never reaches a handler that would read a default in place
// of a mistyped attribute or index past an input list.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include <onnx/defs/schema.h>

#include <set>

using namespace mlir;

namespace qcc {
namespace onnximport {

namespace {

const char *attrTypeName(int t) {
  switch (t) {
  case onnx::AttributeProto::FLOAT:
    return "float";
  case onnx::AttributeProto::INT:
    return "int";
  case onnx::AttributeProto::STRING:
    return "string";
  case onnx::AttributeProto::TENSOR:
    return "tensor";
  case onnx::AttributeProto::GRAPH:
    return "graph";
  case onnx::AttributeProto::SPARSE_TENSOR:
    return "sparse tensor";
  case onnx::AttributeProto::TYPE_PROTO:
    return "type";
  case onnx::AttributeProto::FLOATS:
    return "floats";
  case onnx::AttributeProto::INTS:
    return "ints";
  case onnx::AttributeProto::STRINGS:
    return "strings";
  case onnx::AttributeProto::TENSORS:
    return "tensors";
  case onnx::AttributeProto::GRAPHS:
    return "graphs";
  default:
    return "undefined";
  }
}

/// Newest default-domain opset whose schemas the linked libonnx holds.
int64_t schemaMaxOpset() {
  static int64_t v = [] {
    const auto &m = onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
                        .Map();
    auto it = m.find(onnx::ONNX_DOMAIN);
    return it == m.end() ? (int64_t)-1 : (int64_t)it->second.second;
  }();
  return v;
}

} // namespace

/// Largest tensor (elements) the importer accepts anywhere: 2^40.
constexpr int64_t kMaxTensorElements = int64_t(1) << 40;

LogicalResult checkShapeSize(ArrayRef<int64_t> shape, std::string &why) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      why = "a negative dimension";
      return failure();
    }
    if (d != 0 && n > kMaxTensorElements / d) {
      n = kMaxTensorElements + 1;
      continue;
    }
    n *= d;
  }
  bool zero = llvm::is_contained(shape, 0);
  if (!zero && n > kMaxTensorElements) {
    why = "more than 2^40 elements";
    return failure();
  }
  return success();
}

LogicalResult checkNodeSchema(NodeContext &nc) {
  const onnx::NodeProto &node = nc.node;
  // Names defined twice break SSA form (onnxruntime refuses such graphs).
  std::set<std::string> outs;
  for (const std::string &o : node.output()) {
    if (o.empty())
      continue;
    if (!outs.insert(o).second || nc.imp.values.count(o))
      return nc.fail("output '" + o + "' is already defined");
  }
  std::set<std::string> seen;
  for (const auto &a : node.attribute()) {
    if (!seen.insert(a.name()).second)
      return nc.fail("attribute '" + a.name() + "' is given twice");
    // Flags: onnxruntime reads some as `!= 0` and others as `== 1`, so any
    // other value has no agreed meaning.
    static const char *const flags[] = {
        "keepdims",    "noop_with_empty_axes", "transA",    "transB",
        "ceil_mode",   "count_include_pad",    "allowzero", "upper",
        "exclusive",   "reverse",              "largest",   "sorted",
        "training_mode", "select_last_index",  "exclude_outside",
        "storage_order"};
    if (a.type() == onnx::AttributeProto::INT && a.i() != 0 && a.i() != 1 &&
        llvm::is_contained(flags, StringRef(a.name())))
      return nc.fail("attribute '" + a.name() + "' must be 0 or 1, got " +
                     Twine(a.i()));
  }

  // At an opset newer than libonnx knows, the newest known schema still
  // gives the leading required inputs and the least numbers of inputs and
  // outputs (later opsets only added optional inputs and attributes).
  bool exact = nc.opset <= schemaMaxOpset();
  const onnx::OpSchema *s = onnx::OpSchemaRegistry::Schema(
      node.op_type(), (int)(exact ? nc.opset : schemaMaxOpset()),
      onnx::ONNX_DOMAIN);
  if (!s) {
    // Unknown to libonnx at any version (a newer op): its handler checks.
    if (!exact ||
        !onnx::OpSchemaRegistry::Schema(node.op_type(), onnx::ONNX_DOMAIN))
      return success();
    return nc.fail("the op does not exist in opset " + Twine(nc.opset));
  }
  auto range = [](int lo, int hi) {
    return std::to_string(lo) + (hi == lo ? "" : " to " + std::to_string(hi));
  };
  int nIn = node.input_size(), nOut = node.output_size();
  if (nIn < s->min_input() || (exact && nIn > s->max_input()))
    return nc.fail("has " + Twine(nIn) + " inputs; the op takes " +
                   range(s->min_input(), s->max_input()));
  if (nOut < s->min_output() || (exact && nOut > s->max_output()))
    return nc.fail("has " + Twine(nOut) + " outputs; the op gives " +
                   range(s->min_output(), s->max_output()));
  const auto &formals = s->inputs();
  for (int i = 0; i < nIn; ++i) {
    if (!node.input(i).empty())
      continue;
    const onnx::OpSchema::FormalParameter *f = nullptr;
    if ((size_t)i < formals.size())
      f = &formals[i];
    else if (!formals.empty() &&
             formals.back().GetOption() == onnx::OpSchema::Variadic)
      f = &formals.back();
    if (f ? f->GetOption() != onnx::OpSchema::Optional : exact)
      return nc.fail("required input " + Twine(i) +
                     (f ? " ('" + f->GetName() + "')" : std::string()) +
                     " is empty");
  }
  if (!node.output_size() || node.output(0).empty())
    return nc.fail("first output has no name");
  if (!exact)
    return success();

  const auto &decl = s->attributes();
  for (const auto &a : node.attribute()) {
    auto it = decl.find(a.name());
    if (it == decl.end())
      return nc.fail("unknown attribute '" + a.name() + "'");
    int want = it->second.type;
    if ((int)a.type() != want)
      return nc.fail("attribute '" + a.name() + "' is of type " +
                     attrTypeName(a.type()) + ", expected " +
                     attrTypeName(want));
  }
  for (const auto &kv : decl)
    if (kv.second.required && !seen.count(kv.first))
      return nc.fail("required attribute '" + kv.first + "' is missing");
  return success();
}

LogicalResult checkNodeOutputs(NodeContext &nc) {
  for (size_t i = 0; i < nc.numOutputs(); ++i) {
    TensorInfo *t = nc.out(i);
    if (!t)
      continue;
    std::string why;
    if (failed(checkShapeSize(t->shape, why)))
      return nc.fail("output " + Twine(i) + " ('" + nc.node.output(i) +
                     "') would have shape " + shapeStr(t->shape) + " with " +
                     why);
  }
  return success();
}

} // namespace onnximport
} // namespace qcc
