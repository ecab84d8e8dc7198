//===- ShapeOps.cpp - ONNX data movement and shape ops --------------------===//
//
// Reshapes become tensor.collapse_shape / expand_shape, slices
// tensor.extract_slice, concatenation an insert_slice chain, gathers a
// linalg.generic reading the data through tensor.extract. Shape-valued
// inputs (Reshape's shape, Slice's starts, ...) must be compile-time
// constants; the folder (ConstantFolding.cpp) makes shape subgraphs so.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

Value idx(OpBuilder &b, Location l, int64_t d) {
  return linalg::IndexOp::create(b, l, d);
}

/// ONNX Reshape target shape resolution (0 copies, -1 infers).
FailureOr<std::vector<int64_t>> resolveReshape(NodeContext &c,
                                               ArrayRef<int64_t> in,
                                               std::vector<int64_t> target,
                                               bool allowZero) {
  int64_t known = 1, inferAt = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allowZero) {
      if (i >= in.size()) {
        (void)c.fail("shape has 0 at position " + Twine(i) +
                     " beyond the input rank");
        return failure();
      }
      target[i] = in[i];
    }
    if (target[i] == -1) {
      if (inferAt >= 0) {
        (void)c.fail("shape has more than one -1");
        return failure();
      }
      inferAt = i;
      continue;
    }
    if (target[i] < 0) {
      (void)c.fail("shape has a negative dimension");
      return failure();
    }
    known *= target[i];
  }
  int64_t n = numElements(in);
  if (inferAt >= 0) {
    if (known == 0 || n % known) {
      (void)c.fail("cannot infer -1 in shape " + shapeStr(target) +
                   " for input " + shapeStr(in));
      return failure();
    }
    target[inferAt] = n / known;
  } else if (known != n) {
    (void)c.fail("cannot reshape " + shapeStr(in) + " to " + shapeStr(target));
    return failure();
  }
  return target;
}

LogicalResult handleReshape(NodeContext &c) {
  std::vector<int64_t> target;
  if (c.opset < 5) {
    target = c.attrInts("shape");
  } else {
    auto s = c.constInts(1, "shape");
    if (failed(s))
      return failure();
    target = *s;
  }
  auto r = resolveReshape(c, c.shape(0), target, c.attrInt("allowzero", 0));
  if (failed(r))
    return failure();
  c.setOutput(0, reshapeTo(c.b, c.loc, c.value(0), *r), c.dtype(0));
  return success();
}

LogicalResult handleFlatten(NodeContext &c) {
  int64_t r = c.rank(0), axis = c.attrInt("axis", 1);
  if (axis < 0)
    axis += r;
  if (axis < 0 || axis > r)
    return c.fail("axis out of range");
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i)
    (i < axis ? a : b) *= c.shape(0)[i];
  c.setOutput(0, reshapeTo(c.b, c.loc, c.value(0), {a, b}), c.dtype(0));
  return success();
}

FailureOr<std::vector<int64_t>> axesArg(NodeContext &c, size_t inputIdx,
                                        int64_t sinceOpset) {
  if (c.opset < sinceOpset)
    return c.attrInts("axes");
  if (!c.hasInput(inputIdx))
    return std::vector<int64_t>{};
  return c.constInts(inputIdx, "axes");
}

LogicalResult handleUnsqueeze(NodeContext &c) {
  auto axes = axesArg(c, 1, 13);
  if (failed(axes))
    return failure();
  int64_t outRank = c.rank(0) + axes->size();
  std::vector<bool> isNew(outRank, false);
  for (int64_t a : *axes) {
    int64_t n = a < 0 ? a + outRank : a;
    if (n < 0 || n >= outRank || isNew[n])
      return c.fail("invalid axes");
    isNew[n] = true;
  }
  std::vector<int64_t> shape;
  size_t k = 0;
  for (int64_t i = 0; i < outRank; ++i)
    shape.push_back(isNew[i] ? 1 : c.shape(0)[k++]);
  c.setOutput(0, reshapeTo(c.b, c.loc, c.value(0), shape), c.dtype(0));
  return success();
}

LogicalResult handleSqueeze(NodeContext &c) {
  auto axes = axesArg(c, 1, 13);
  if (failed(axes))
    return failure();
  int64_t r = c.rank(0);
  std::vector<bool> drop(r, false);
  if (axes->empty()) {
    for (int64_t i = 0; i < r; ++i)
      drop[i] = c.shape(0)[i] == 1;
  }
  for (int64_t a : *axes) {
    auto n = c.normAxis(a, r);
    if (failed(n))
      return failure();
    if (c.shape(0)[*n] != 1)
      return c.fail("cannot squeeze dimension " + Twine(*n) + " of size " +
                    Twine(c.shape(0)[*n]));
    drop[*n] = true;
  }
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[i])
      shape.push_back(c.shape(0)[i]);
  c.setOutput(0, reshapeTo(c.b, c.loc, c.value(0), shape), c.dtype(0));
  return success();
}

LogicalResult handleTranspose(NodeContext &c) {
  int64_t r = c.rank(0);
  std::vector<int64_t> perm = c.attrInts("perm");
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i)
      perm.push_back(i);
  if ((int64_t)perm.size() != r)
    return c.fail("perm has the wrong length");
  std::vector<bool> seen(r, false);
  for (int64_t &p : perm) {
    if (p < 0 || p >= r || seen[p])
      return c.fail("perm is not a permutation");
    seen[p] = true;
  }
  c.setOutput(0, c.transposedValue(0, perm), c.dtype(0));
  return success();
}

} // namespace

LogicalResult computeSlice(NodeContext &c, std::vector<int64_t> &off,
                           std::vector<int64_t> &size,
                           std::vector<int64_t> &step) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset < 10) {
    starts = c.attrInts("starts");
    ends = c.attrInts("ends");
    axes = c.attrInts("axes");
  } else {
    auto s = c.constInts(1, "starts");
    auto e = c.constInts(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (c.hasInput(3)) {
      auto a = c.constInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (c.hasInput(4)) {
      auto st = c.constInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  int64_t r = c.rank(0);
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return c.fail("starts/ends/axes/steps lengths differ");
  const auto &in = c.shape(0);
  off.assign(r, 0);
  size = in;
  step.assign(r, 1);
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto a = c.normAxis(axes[i], r);
    if (failed(a))
      return failure();
    if (seen[*a])
      return c.fail("repeated axis");
    seen[*a] = true;
    int64_t d = in[*a], st = steps[i];
    if (st == 0)
      return c.fail("step cannot be 0");
    auto clampi = [](int64_t v, int64_t lo, int64_t hi) {
      return std::max(lo, std::min(hi, v));
    };
    int64_t s = starts[i], e = ends[i];
    if (s < 0)
      s = s < INT64_MIN + d ? INT64_MIN : s + d;
    if (e < 0)
      e = e < INT64_MIN + d ? INT64_MIN : e + d;
    if (st > 0) {
      s = clampi(s, 0, d);
      e = clampi(e, 0, d);
    } else {
      s = clampi(s, 0, d - 1);
      e = clampi(e, -1, d - 1);
    }
    int64_t n = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
    off[*a] = s;
    size[*a] = std::max<int64_t>(n, 0);
    step[*a] = st;
  }
  return success();
}

namespace {

LogicalResult handleSlice(NodeContext &c) {
  std::vector<int64_t> off, size, step;
  if (failed(computeSlice(c, off, size, step)))
    return failure();
  int64_t r = c.rank(0);
  bool anyNeg = llvm::any_of(step, [](int64_t s) { return s < 0; });
  Value v = c.value(0);
  Value out;
  if (!anyNeg || numElements(size) == 0) {
    for (int64_t d = 0; d < r; ++d)
      if (size[d] == 0) // keep the slice valid
        off[d] = 0, step[d] = 1;
    out = extractSlice(c.b, c.loc, v, off, size, step);
  } else {
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < r; ++d)
      exprs.push_back(getAffineConstantExpr(off[d], c.ctx()) +
                      getAffineDimExpr(d, c.ctx()) * step[d]);
    AffineMap m = AffineMap::get(r, 0, exprs, c.ctx());
    out = buildGeneric(
        c.b, c.loc, ValueRange{v}, {m}, size, c.elemType(c.dtype(0)),
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
  c.setOutput(0, out, c.dtype(0));
  return success();
}

/// An index-typed, non-negative coordinate from an integer index element.
Value normIndex(OpBuilder &b, Location l, Value i, int64_t dim) {
  Type i64 = b.getI64Type();
  if (i.getType() != i64)
    i = arith::ExtSIOp::create(b, l, i64, i);
  Value zero = intConst(b, l, i64, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  Value fixed = arith::AddIOp::create(b, l, i, intConst(b, l, i64, dim));
  i = arith::SelectOp::create(b, l, neg, fixed, i);
  // Out-of-range indices are undefined in ONNX; clamp so codegen never
  // reads outside the tensor.
  i = arith::MaxSIOp::create(b, l, i, zero);
  i = arith::MinSIOp::create(b, l, i, intConst(b, l, i64, dim - 1));
  return arith::IndexCastOp::create(b, l, b.getIndexType(), i);
}

LogicalResult handleGather(NodeContext &c) {
  int64_t r = c.rank(0);
  if (r == 0)
    return c.fail("data must have rank >= 1");
  auto axis = c.normAxis(c.attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  if (!isIntDType(c.dtype(1)))
    return c.fail("indices must be int32 or int64");
  const auto &ds = c.shape(0);
  const auto &is = c.shape(1);
  int64_t dim = ds[*axis];
  if (dim == 0)
    return c.fail("cannot gather from an empty dimension");
  if (const HostTensor *h = c.host(1))
    for (int64_t k = 0; k < h->size(); ++k)
      if (h->getI(k) < -dim || h->getI(k) >= dim)
        return c.fail("index " + Twine(h->getI(k)) +
                      " out of range for dimension " + Twine(dim));
  // A constant scalar index is a slice.
  if (const HostTensor *h = c.host(1); h && h->shape.empty()) {
    int64_t i = h->getI(0);
    if (i < 0)
      i += dim;
    if (i < 0 || i >= dim)
      return c.fail("index " + Twine(h->getI(0)) + " out of range");
    std::vector<int64_t> off(r, 0), size(ds), shape;
    off[*axis] = i;
    size[*axis] = 1;
    for (int64_t d = 0; d < r; ++d)
      if (d != *axis)
        shape.push_back(ds[d]);
    Value s = extractSlice(c.b, c.loc, c.value(0), off, size);
    c.setOutput(0, reshapeTo(c.b, c.loc, s, shape), c.dtype(0));
    return success();
  }
  int64_t q = is.size();
  std::vector<int64_t> out(ds.begin(), ds.begin() + *axis);
  out.insert(out.end(), is.begin(), is.end());
  out.insert(out.end(), ds.begin() + *axis + 1, ds.end());
  int64_t outRank = out.size();
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0; k < q; ++k)
    exprs.push_back(getAffineDimExpr(*axis + k, c.ctx()));
  AffineMap m = AffineMap::get(outRank, 0, exprs, c.ctx());
  Value data = c.value(0);
  int64_t ax = *axis;
  Value res = buildGeneric(
      c.b, c.loc, ValueRange{c.value(1)}, {m}, out, c.elemType(c.dtype(0)),
      [&](OpBuilder &b, Location l, ValueRange a) {
        SmallVector<Value> coords;
        for (int64_t k = 0; k < ax; ++k)
          coords.push_back(idx(b, l, k));
        coords.push_back(normIndex(b, l, a[0], dim));
        for (int64_t k = ax + 1; k < r; ++k)
          coords.push_back(idx(b, l, k + q - 1));
        return (Value)tensor::ExtractOp::create(b, l, data, coords);
      });
  c.setOutput(0, res, c.dtype(0));
  return success();
}

LogicalResult handleGatherElements(NodeContext &c) {
  int64_t r = c.rank(0);
  auto axis = c.normAxis(c.attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  if (!isIntDType(c.dtype(1)) || c.rank(1) != r)
    return c.fail("indices must be integers of the data's rank");
  int64_t dim = c.shape(0)[*axis], ax = *axis;
  Value data = c.value(0);
  Value res = buildGeneric(
      c.b, c.loc, ValueRange{c.value(1)}, {c.b.getMultiDimIdentityMap(r)},
      c.shape(1), c.elemType(c.dtype(0)),
      [&](OpBuilder &b, Location l, ValueRange a) {
        SmallVector<Value> coords;
        for (int64_t k = 0; k < r; ++k)
          coords.push_back(k == ax ? normIndex(b, l, a[0], dim) : idx(b, l, k));
        return (Value)tensor::ExtractOp::create(b, l, data, coords);
      });
  c.setOutput(0, res, c.dtype(0));
  return success();
}

LogicalResult handleConcat(NodeContext &c) {
  SmallVector<size_t> ins;
  for (size_t i = 0; i < c.numInputs(); ++i)
    if (c.hasInput(i))
      ins.push_back(i);
  if (ins.empty())
    return c.fail("expects inputs");
  int64_t r = c.rank(ins[0]);
  auto axis = c.normAxis(c.attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  SmallVector<Value> vals;
  for (size_t i : ins) {
    if (c.rank(i) != r || c.dtype(i) != c.dtype(ins[0]))
      return c.fail("inputs differ in rank or element type");
    for (int64_t d = 0; d < r; ++d)
      if (d != *axis && c.shape(i)[d] != c.shape(ins[0])[d])
        return c.fail("input shapes " + shapeStr(c.shape(ins[0])) + " and " +
                      shapeStr(c.shape(i)) + " do not concatenate");
    vals.push_back(c.value(i));
  }
  c.setOutput(0, concatValues(c.b, c.loc, vals, *axis), c.dtype(ins[0]));
  return success();
}

LogicalResult handleSplit(NodeContext &c) {
  int64_t r = c.rank(0);
  auto axis = c.normAxis(c.attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  int64_t d = c.shape(0)[*axis];
  std::vector<int64_t> sizes;
  if (c.opset >= 13 && c.hasInput(1)) {
    auto s = c.constInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (c.opset < 13 && c.hasAttr("split")) {
    sizes = c.attrInts("split");
  } else {
    int64_t n = c.attrInt("num_outputs", c.numOutputs());
    if (n <= 0)
      return c.fail("invalid number of outputs");
    int64_t chunk = (d + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, d - i * chunk)));
  }
  if (sizes.size() != c.numOutputs())
    return c.fail("split has " + Twine(sizes.size()) + " parts for " +
                  Twine(c.numOutputs()) + " outputs");
  int64_t total = 0;
  for (int64_t s : sizes)
    total += s;
  if (total != d)
    return c.fail("split sizes do not add up to " + Twine(d));
  Value v = c.value(0);
  int64_t off = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<int64_t> o(r, 0), s(c.shape(0));
    o[*axis] = off;
    s[*axis] = sizes[i];
    c.setOutput(i, extractSlice(c.b, c.loc, v, o, s), c.dtype(0));
    off += sizes[i];
  }
  return success();
}

LogicalResult handleTile(NodeContext &c) {
  auto reps = c.constInts(1, "repeats");
  if (failed(reps))
    return failure();
  int64_t r = c.rank(0);
  if ((int64_t)reps->size() != r)
    return c.fail("repeats must have one entry per dimension");
  // Broadcast to [r0, d0, r1, d1, ...] and collapse pairs.
  std::vector<int64_t> big, out;
  SmallVector<AffineExpr> exprs;
  SmallVector<ReassociationIndices> re;
  for (int64_t i = 0; i < r; ++i) {
    if ((*reps)[i] < 0)
      return c.fail("negative repeat");
    big.push_back((*reps)[i]);
    big.push_back(c.shape(0)[i]);
    out.push_back((*reps)[i] * c.shape(0)[i]);
    exprs.push_back(getAffineDimExpr(2 * i + 1, c.ctx()));
    re.push_back({2 * i, 2 * i + 1});
  }
  AffineMap m = AffineMap::get(2 * r, 0, exprs, c.ctx());
  Value t = buildGeneric(
      c.b, c.loc, ValueRange{c.value(0)}, {m}, big, c.elemType(c.dtype(0)),
      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  if (r > 0)
    t = tensor::CollapseShapeOp::create(c.b, c.loc,
                                        c.tensorType(out, c.dtype(0)), t, re);
  c.setOutput(0, t, c.dtype(0));
  return success();
}

LogicalResult handleExpand(NodeContext &c) {
  auto s = c.constInts(1, "shape");
  if (failed(s))
    return failure();
  auto out = broadcastShapes(c.shape(0), *s);
  if (!out)
    return c.fail("cannot expand " + shapeStr(c.shape(0)) + " to " +
                  shapeStr(*s));
  if (*out == c.shape(0)) {
    c.forwardInput(0, 0);
    return success();
  }
  Value r = buildElementwise(
      c.b, c.loc, ValueRange{c.value(0)}, *out, c.elemType(c.dtype(0)),
      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  c.setOutput(0, r, c.dtype(0));
  return success();
}

LogicalResult handleShape(NodeContext &c) {
  const auto &s = c.shape(0);
  int64_t r = s.size();
  int64_t start = c.attrInt("start", 0), end = c.attrInt("end", r);
  if (start < 0)
    start += r;
  if (end < 0)
    end += r;
  start = std::max<int64_t>(0, std::min(start, r));
  end = std::max<int64_t>(0, std::min(end, r));
  int64_t n = std::max<int64_t>(0, end - start);
  HostTensor h(kInt64, {n});
  for (int64_t i = 0; i < n; ++i)
    h.ints[i] = s[start + i];
  c.setOutputHost(0, std::move(h));
  return success();
}

LogicalResult handleSize(NodeContext &c) {
  HostTensor h(kInt64, {});
  h.ints[0] = numElements(c.shape(0));
  c.setOutputHost(0, std::move(h));
  return success();
}

} // namespace

void registerShapeOps(OpTable &t) {
  t["Reshape"] = handleReshape;
  t["Flatten"] = handleFlatten;
  t["Unsqueeze"] = handleUnsqueeze;
  t["Squeeze"] = handleSqueeze;
  t["Transpose"] = handleTranspose;
  t["Slice"] = handleSlice;
  t["Gather"] = handleGather;
  t["GatherElements"] = handleGatherElements;
  t["Concat"] = handleConcat;
  t["Split"] = handleSplit;
  t["Tile"] = handleTile;
  t["Expand"] = handleExpand;
  t["Shape"] = handleShape;
  t["Size"] = handleSize;
}

} // namespace onnximport
} // namespace qcc
