//===- ConstantFolding.cpp - host evaluation of constant nodes ------------===//
//
// Nodes whose inputs are all small compile-time constants are evaluated here
// so that shape subgraphs (Shape -> Gather -> Concat -> Reshape, ...) reach
// the ops that need constant shapes as constants. Floats are computed in
// double and rounded to the element type after each op (exact for f32/f16
// +,-,*,/,sqrt); integers wrap to their width.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

#include <cmath>

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

/// Strides of `in` broadcast into `out` (0 on broadcast dims).
std::vector<int64_t> bcastStrides(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  size_t r = out.size(), ir = in.size();
  std::vector<int64_t> st(r, 0);
  int64_t s = 1;
  for (int64_t i = ir - 1; i >= 0; --i) {
    size_t od = r - ir + i;
    st[od] = (in[i] == 1 && out[od] != 1) ? 0 : s;
    s *= in[i];
  }
  return st;
}

/// Calls fn(outIndex, inputOffsets) for every element of `out`.
void forEachBroadcast(ArrayRef<const HostTensor *> ins, ArrayRef<int64_t> out,
                      llvm::function_ref<void(int64_t, ArrayRef<int64_t>)> fn) {
  std::vector<std::vector<int64_t>> st;
  for (const HostTensor *t : ins)
    st.push_back(bcastStrides(t->shape, out));
  int64_t n = numElements(out), r = out.size();
  std::vector<int64_t> idx(r, 0), offs(ins.size(), 0);
  for (int64_t o = 0; o < n; ++o) {
    for (size_t k = 0; k < ins.size(); ++k) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d)
        off += idx[d] * st[k][d];
      offs[k] = off;
    }
    fn(o, offs);
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
}

std::vector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (int64_t d = (int64_t)shape.size() - 2; d >= 0; --d)
    st[d] = st[d + 1] * shape[d + 1];
  return st;
}

/// Reorders host data: out[i] = in[map(i)] where map is given per output
/// multi-index.
HostTensor gatherHost(const HostTensor &in, std::vector<int64_t> outShape,
                      llvm::function_ref<int64_t(ArrayRef<int64_t>)> srcOf) {
  HostTensor r(in.dtype, outShape);
  int64_t n = r.size(), rank = outShape.size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < n; ++o) {
    int64_t s = srcOf(idx);
    if (in.isFloat())
      r.floats[o] = in.floats[s];
    else
      r.ints[o] = in.ints[s];
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d])
        break;
      idx[d] = 0;
    }
  }
  return r;
}

enum class EK {
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Pow,
  Min,
  Max,
  Eq,
  Lt,
  Gt,
  Le,
  Ge,
  And,
  Or,
  Xor,
  Neg,
  Abs,
  Sqrt,
  Floor,
  Ceil,
  Not,
  Sign,
  Where
};

FailureOr<bool> foldElementwise(NodeContext &c, EK k) {
  std::vector<const HostTensor *> ins;
  for (size_t i = 0; i < c.numInputs(); ++i)
    if (c.hasInput(i))
      ins.push_back(c.host(i));
  if (ins.empty())
    return false;
  std::vector<int64_t> out = ins[0]->shape;
  for (const HostTensor *t : ins) {
    auto b = broadcastShapes(out, t->shape);
    if (!b)
      return false; // let the handler diagnose
    out = *b;
  }
  if (numElements(out) > kMaxFoldElements)
    return false;
  bool cmp =
      k == EK::Eq || k == EK::Lt || k == EK::Gt || k == EK::Le || k == EK::Ge;
  const HostTensor &a0 = *ins[k == EK::Where ? 1 : 0];
  int32_t dt = a0.dtype;
  int32_t outDT = cmp ? kBool : dt;
  if (k == EK::Where && ins.size() == 3 && ins[1]->dtype != ins[2]->dtype)
    return false;
  if (!cmp && k != EK::Where && k != EK::Pow)
    for (const HostTensor *t : ins)
      if (t->dtype != dt)
        return false;
  bool f = isFloatDType(dt), u = isUnsignedDType(dt);
  int64_t fmod = c.attrInt("fmod", 0);
  HostTensor r(outDT, out);
  bool ok = true;
  forEachBroadcast(ins, out, [&](int64_t o, ArrayRef<int64_t> off) {
    if (!ok)
      return;
    if (k == EK::Where) {
      const HostTensor &src = ins[0]->ints[off[0]] ? *ins[1] : *ins[2];
      int64_t so = ins[0]->ints[off[0]] ? off[1] : off[2];
      if (f)
        r.floats[o] = src.floats[so];
      else
        r.ints[o] = src.ints[so];
      return;
    }
    if (f || k == EK::Pow) {
      double x = ins[0]->getF(off[0]);
      double y = ins.size() > 1 ? ins[1]->getF(off[1]) : 0;
      double v = 0;
      switch (k) {
      case EK::Add:
        v = x + y;
        break;
      case EK::Sub:
        v = x - y;
        break;
      case EK::Mul:
        v = x * y;
        break;
      case EK::Div:
        v = x / y;
        break;
      case EK::Mod:
        v = std::fmod(x, y);
        if (!fmod && v != 0 && ((v < 0) != (y < 0)))
          v += y;
        break;
      case EK::Pow:
        v = std::pow(x, y);
        break;
      case EK::Min:
        v = std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
        break;
      case EK::Max:
        v = std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
        break;
      case EK::Eq:
        r.ints[o] = x == y;
        return;
      case EK::Lt:
        r.ints[o] = x < y;
        return;
      case EK::Gt:
        r.ints[o] = x > y;
        return;
      case EK::Le:
        r.ints[o] = x <= y;
        return;
      case EK::Ge:
        r.ints[o] = x >= y;
        return;
      case EK::Neg:
        v = -x;
        break;
      case EK::Abs:
        v = std::fabs(x);
        break;
      case EK::Sqrt:
        v = std::sqrt(x);
        break;
      case EK::Floor:
        v = std::floor(x);
        break;
      case EK::Ceil:
        v = std::ceil(x);
        break;
      case EK::Sign:
        v = x > 0 ? 1 : x < 0 ? -1 : 0;
        break;
      default:
        ok = false;
        return;
      }
      if (k == EK::Pow && !isFloatDType(dt)) {
        r.setF(o, v);
        return;
      }
      r.setF(o, v);
      return;
    }
    int64_t x = ins[0]->ints[off[0]];
    int64_t y = ins.size() > 1 ? ins[1]->ints[off[1]] : 0;
    uint64_t ux = x, uy = y;
    int64_t v = 0;
    switch (k) {
    case EK::Add:
      v = (int64_t)(ux + uy);
      break;
    case EK::Sub:
      v = (int64_t)(ux - uy);
      break;
    case EK::Mul:
      v = (int64_t)(ux * uy);
      break;
    case EK::Div:
      if (y == 0 || (!u && x == INT64_MIN && y == -1)) {
        ok = false;
        return;
      }
      v = u ? (int64_t)(ux / uy) : x / y;
      break;
    case EK::Mod:
      if (y == 0 || (!u && y == -1)) {
        v = 0;
        if (y == 0) {
          ok = false;
          return;
        }
        break;
      }
      if (u) {
        v = (int64_t)(ux % uy);
      } else {
        v = x % y;
        if (!fmod && v != 0 && ((v < 0) != (y < 0)))
          v += y;
      }
      break;
    case EK::Min:
      v = u ? (int64_t)std::min(ux, uy) : std::min(x, y);
      break;
    case EK::Max:
      v = u ? (int64_t)std::max(ux, uy) : std::max(x, y);
      break;
    case EK::Eq:
      v = x == y;
      break;
    case EK::Lt:
      v = u ? ux < uy : x < y;
      break;
    case EK::Gt:
      v = u ? ux > uy : x > y;
      break;
    case EK::Le:
      v = u ? ux <= uy : x <= y;
      break;
    case EK::Ge:
      v = u ? ux >= uy : x >= y;
      break;
    case EK::And:
      v = x && y;
      break;
    case EK::Or:
      v = x || y;
      break;
    case EK::Xor:
      v = (x != 0) != (y != 0);
      break;
    case EK::Not:
      v = !x;
      break;
    case EK::Neg:
      v = (int64_t)(0 - ux);
      break;
    case EK::Abs:
      v = u ? x : (x < 0 ? (int64_t)(0 - ux) : x);
      break;
    case EK::Sign:
      v = u ? (x != 0) : (x > 0) - (x < 0);
      break;
    default:
      ok = false;
      return;
    }
    r.setI(o, v);
  });
  if (!ok)
    return false;
  c.setOutputHost(0, std::move(r));
  return true;
}

FailureOr<bool> foldReduce(NodeContext &c, StringRef op) {
  const HostTensor &x = *c.host(0);
  if (x.dtype == kBool)
    return false;
  int64_t r = x.shape.size();
  std::vector<int64_t> axes;
  int64_t since = op == "ReduceSum" ? 13 : 18;
  if (c.opset < since)
    axes = c.attrInts("axes");
  else if (c.hasInput(1)) {
    for (int64_t i = 0; i < c.host(1)->size(); ++i)
      axes.push_back(c.host(1)->getI(i));
  }
  bool noop = c.attrInt("noop_with_empty_axes", 0);
  if (axes.empty() && noop) {
    c.forwardInput(0, 0);
    return true;
  }
  std::vector<bool> red(r, axes.empty());
  for (int64_t a : axes) {
    int64_t n = a < 0 ? a + r : a;
    if (n < 0 || n >= r)
      return false;
    red[n] = true;
  }
  std::vector<int64_t> keep(x.shape);
  for (int64_t d = 0; d < r; ++d)
    if (red[d])
      keep[d] = 1;
  HostTensor out(x.dtype, keep);
  int64_t n = out.size();
  std::vector<bool> init(n, false);
  std::vector<double> accF(n, 0);
  std::vector<int64_t> accI(n, 0);
  std::vector<int64_t> kst = stridesOf(keep);
  std::vector<int64_t> idx(r, 0);
  bool f = x.isFloat();
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < r; ++d)
      o += (red[d] ? 0 : idx[d]) * kst[d];
    if (f) {
      double v = x.floats[i];
      if (!init[o])
        accF[o] = v;
      else if (op == "ReduceSum")
        accF[o] += v;
      else if (op == "ReduceProd")
        accF[o] *= v;
      else if (op == "ReduceMax")
        accF[o] = std::max(accF[o], v);
      else
        accF[o] = std::min(accF[o], v);
    } else {
      int64_t v = x.ints[i];
      if (!init[o])
        accI[o] = v;
      else if (op == "ReduceSum")
        accI[o] += v;
      else if (op == "ReduceProd")
        accI[o] *= v;
      else if (op == "ReduceMax")
        accI[o] = std::max(accI[o], v);
      else
        accI[o] = std::min(accI[o], v);
    }
    init[o] = true;
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++idx[d] < x.shape[d])
        break;
      idx[d] = 0;
    }
  }
  for (int64_t o = 0; o < n; ++o) {
    if (!init[o]) {
      if (op == "ReduceSum" || op == "ReduceProd") {
        accF[o] = op == "ReduceProd";
        accI[o] = op == "ReduceProd";
      } else {
        return false;
      }
    }
    if (f)
      out.setF(o, accF[o]);
    else
      out.setI(o, accI[o]);
  }
  if (!c.attrInt("keepdims", 1)) {
    std::vector<int64_t> s;
    for (int64_t d = 0; d < r; ++d)
      if (!red[d])
        s.push_back(x.shape[d]);
    out.shape = s;
  }
  c.setOutputHost(0, std::move(out));
  return true;
}

} // namespace

FailureOr<bool> tryFoldNode(NodeContext &c) {
  StringRef op = c.opType();
  bool anyInput = false;
  for (size_t i = 0; i < c.numInputs(); ++i) {
    if (!c.hasInput(i))
      continue;
    anyInput = true;
    if (!c.host(i))
      return false;
  }
  if (!anyInput || c.numOutputs() != 1 || !c.hasOutput(0))
    return false;
  const HostTensor &x = *c.host(0);

  static const llvm::StringMap<EK> ew = {
      {"Add", EK::Add},           {"Sub", EK::Sub},     {"Mul", EK::Mul},
      {"Div", EK::Div},           {"Mod", EK::Mod},     {"Pow", EK::Pow},
      {"Min", EK::Min},           {"Max", EK::Max},     {"Equal", EK::Eq},
      {"Less", EK::Lt},           {"Greater", EK::Gt},  {"LessOrEqual", EK::Le},
      {"GreaterOrEqual", EK::Ge}, {"And", EK::And},     {"Or", EK::Or},
      {"Xor", EK::Xor},           {"Neg", EK::Neg},     {"Abs", EK::Abs},
      {"Sqrt", EK::Sqrt},         {"Floor", EK::Floor}, {"Ceil", EK::Ceil},
      {"Not", EK::Not},           {"Sign", EK::Sign},   {"Where", EK::Where}};
  auto it = ew.find(op);
  if (it != ew.end()) {
    if ((op == "Min" || op == "Max") && c.numInputs() != 2)
      return false;
    if (op == "Where" && c.host(0)->dtype != kBool)
      return false;
    return foldElementwise(c, it->second);
  }
  if (op == "Cast" || op == "CastLike") {
    int32_t to = op == "Cast" ? (int32_t)c.attrInt("to", 0)
                              : (c.hasInput(1) ? c.dtype(1) : 0);
    if (!isSupportedDType(to))
      return false;
    c.setOutputHost(0, x.castTo(to));
    return true;
  }
  if (op == "Identity") {
    c.forwardInput(0, 0);
    return true;
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
      op == "Unsqueeze") {
    // Same data, new shape: let the handler work out the shape (its IR on
    // the materialized constant dies unused).
    static const OpTable t = [] {
      OpTable t;
      registerShapeOps(t);
      return t;
    }();
    if (failed(t.lookup(op)(c)))
      return failure();
    TensorInfo *o = c.out(0);
    if (!o)
      return failure();
    HostTensor data = x;
    data.shape = o->shape;
    c.setOutputHost(0, std::move(data));
    return true;
  }
  if (op == "Transpose") {
    int64_t r = x.shape.size();
    std::vector<int64_t> perm = c.attrInts("perm");
    if (perm.empty())
      for (int64_t i = r - 1; i >= 0; --i)
        perm.push_back(i);
    if ((int64_t)perm.size() != r)
      return false;
    std::vector<int64_t> outShape, st = stridesOf(x.shape);
    for (int64_t &p : perm) {
      if (p < 0 || p >= r)
        return false;
      outShape.push_back(x.shape[p]);
    }
    c.setOutputHost(0, gatherHost(x, outShape, [&](ArrayRef<int64_t> idx) {
                      int64_t s = 0;
                      for (int64_t d = 0; d < r; ++d)
                        s += idx[d] * st[perm[d]];
                      return s;
                    }));
    return true;
  }
  if (op == "Slice") {
    std::vector<int64_t> off, size, step;
    if (failed(computeSlice(c, off, size, step)))
      return failure();
    std::vector<int64_t> st = stridesOf(x.shape);
    c.setOutputHost(0, gatherHost(x, size, [&](ArrayRef<int64_t> idx) {
                      int64_t s = 0;
                      for (size_t d = 0; d < idx.size(); ++d)
                        s += (off[d] + idx[d] * step[d]) * st[d];
                      return s;
                    }));
    return true;
  }
  if (op == "Gather") {
    const HostTensor &ind = *c.host(1);
    int64_t r = x.shape.size();
    int64_t axis = c.attrInt("axis", 0);
    if (axis < 0)
      axis += r;
    if (axis < 0 || axis >= r || ind.isFloat())
      return false;
    int64_t dim = x.shape[axis];
    for (int64_t v : ind.ints)
      if (v < -dim || v >= dim)
        return c.fail("index " + Twine(v) + " out of range for dimension " +
                      Twine(dim));
    std::vector<int64_t> out(x.shape.begin(), x.shape.begin() + axis);
    out.insert(out.end(), ind.shape.begin(), ind.shape.end());
    out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
    if (numElements(out) > kMaxFoldElements)
      return false;
    std::vector<int64_t> st = stridesOf(x.shape), ist = stridesOf(ind.shape);
    int64_t q = ind.shape.size();
    c.setOutputHost(0, gatherHost(x, out, [&](ArrayRef<int64_t> idx) {
                      int64_t ii = 0;
                      for (int64_t k = 0; k < q; ++k)
                        ii += idx[axis + k] * ist[k];
                      int64_t v = ind.ints[ii];
                      if (v < 0)
                        v += dim;
                      int64_t s = v * st[axis];
                      for (int64_t d = 0; d < axis; ++d)
                        s += idx[d] * st[d];
                      for (int64_t d = axis + 1; d < r; ++d)
                        s += idx[d + q - 1] * st[d];
                      return s;
                    }));
    return true;
  }
  if (op == "Concat") {
    std::vector<const HostTensor *> ins;
    for (size_t i = 0; i < c.numInputs(); ++i)
      if (c.hasInput(i))
        ins.push_back(c.host(i));
    int64_t r = ins[0]->shape.size();
    int64_t axis = c.attrInt("axis", 0);
    if (axis < 0)
      axis += r;
    if (axis < 0 || axis >= r)
      return false;
    std::vector<int64_t> out = ins[0]->shape;
    out[axis] = 0;
    for (const HostTensor *t : ins) {
      if ((int64_t)t->shape.size() != r || t->dtype != ins[0]->dtype)
        return false;
      for (int64_t d = 0; d < r; ++d)
        if (d != axis && t->shape[d] != ins[0]->shape[d])
          return false;
      out[axis] += t->shape[axis];
    }
    HostTensor res(ins[0]->dtype, out);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= out[d];
    for (int64_t d = axis + 1; d < r; ++d)
      inner *= out[d];
    int64_t o = 0;
    for (int64_t i = 0; i < outer; ++i)
      for (const HostTensor *t : ins) {
        int64_t chunk = t->shape[axis] * inner;
        for (int64_t j = 0; j < chunk; ++j, ++o) {
          if (res.isFloat())
            res.floats[o] = t->floats[i * chunk + j];
          else
            res.ints[o] = t->ints[i * chunk + j];
        }
      }
    c.setOutputHost(0, std::move(res));
    return true;
  }
  if (op == "Expand") {
    const HostTensor &s = *c.host(1);
    std::vector<int64_t> shape;
    for (int64_t i = 0; i < s.size(); ++i)
      shape.push_back(s.getI(i));
    auto out = broadcastShapes(x.shape, shape);
    if (!out || numElements(*out) > kMaxFoldElements)
      return false;
    HostTensor res(x.dtype, *out);
    const HostTensor *xp = &x;
    forEachBroadcast({xp}, *out, [&](int64_t o, ArrayRef<int64_t> off) {
      if (res.isFloat())
        res.floats[o] = x.floats[off[0]];
      else
        res.ints[o] = x.ints[off[0]];
    });
    c.setOutputHost(0, std::move(res));
    return true;
  }
  if (op == "ReduceSum" || op == "ReduceProd" || op == "ReduceMax" ||
      op == "ReduceMin")
    return foldReduce(c, op);
  return false;
}

} // namespace onnximport
} // namespace qcc
