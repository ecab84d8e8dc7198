//===- MatmulOps.cpp - ONNX MatMul and Gemm -------------------------------===//
//
// MatMul with a 2-D right operand becomes one linalg.matmul over the
// collapsed batch*M rows (the common x @ W of transformers); a batched right
// operand becomes linalg.batch_matmul after broadcasting both operands to the
// common batch shape. Gemm's transposed constant B is transposed on the host
// so the weight stays a plain [K, N] constant.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

using namespace mlir;

namespace qcc {
namespace onnximport {
namespace {

Value zeroFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                 Type elem) {
  return filledTensor(b, loc, shape, scalarConst(b, loc, elem, 0.0));
}

Value matmul2d(OpBuilder &b, Location loc, Value a, Value w) {
  auto at = cast<RankedTensorType>(a.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  SmallVector<int64_t> shape = {at.getDimSize(0), wt.getDimSize(1)};
  Value acc = zeroFilled(b, loc, shape, at.getElementType());
  return linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                  ValueRange{a, w}, ValueRange{acc})
      .getResult(0);
}

/// Broadcasts `v` (shape batch' + [r, c]) to `batch` + [r, c].
Value broadcastBatch(OpBuilder &b, Location loc, Value v,
                     ArrayRef<int64_t> batch) {
  auto vt = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> full(batch.begin(), batch.end());
  full.push_back(vt.getDimSize(vt.getRank() - 2));
  full.push_back(vt.getDimSize(vt.getRank() - 1));
  if (llvm::equal(vt.getShape(), full))
    return v;
  return buildElementwise(
      b, loc, ValueRange{v}, full, vt.getElementType(),
      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

LogicalResult handleMatMul(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (c.dtype(1) != dt)
    return c.fail("operands have different element types");
  if (dt == kBool)
    return c.fail("bool operands are not supported");
  std::vector<int64_t> as = c.shape(0), bs = c.shape(1);
  if (as.empty() || bs.empty())
    return c.fail("operands must have rank >= 1");
  bool aVec = as.size() == 1, bVec = bs.size() == 1;
  Value a = c.value(0), w = c.value(1);
  if (aVec) {
    as = {1, as[0]};
    a = reshapeTo(c.b, c.loc, a, as);
  }
  if (bVec) {
    bs = {bs[0], 1};
    w = reshapeTo(c.b, c.loc, w, bs);
  }
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  if (bs[bs.size() - 2] != k)
    return c.fail("inner dimensions differ: " + shapeStr(c.shape(0)) + " x " +
                  shapeStr(c.shape(1)));
  std::vector<int64_t> ab(as.begin(), as.end() - 2),
      bb(bs.begin(), bs.end() - 2);
  auto batch = broadcastShapes(ab, bb);
  if (!batch)
    return c.fail("batch dimensions do not broadcast: " + shapeStr(c.shape(0)) +
                  " x " + shapeStr(c.shape(1)));
  std::vector<int64_t> outFull(*batch);
  outFull.push_back(m);
  outFull.push_back(n);
  std::vector<int64_t> outShape(batch->begin(), batch->end());
  if (!aVec)
    outShape.push_back(m);
  if (!bVec)
    outShape.push_back(n);
  int64_t nb = numElements(*batch);
  Value r;
  if (bb.empty() || numElements(bb) == 1) {
    // Right operand shared by all batches: fold batch into rows.
    if (!bb.empty())
      w = reshapeTo(c.b, c.loc, w, {k, n});
    a = broadcastBatch(c.b, c.loc, a, *batch);
    a = reshapeTo(c.b, c.loc, a, {nb * m, k});
    r = matmul2d(c.b, c.loc, a, w);
  } else {
    a = reshapeTo(c.b, c.loc, broadcastBatch(c.b, c.loc, a, *batch),
                  {nb, m, k});
    w = reshapeTo(c.b, c.loc, broadcastBatch(c.b, c.loc, w, *batch),
                  {nb, k, n});
    Value acc = zeroFilled(c.b, c.loc, {nb, m, n}, c.elemType(dt));
    r = linalg::BatchMatmulOp::create(c.b, c.loc, TypeRange{acc.getType()},
                                      ValueRange{a, w}, ValueRange{acc})
            .getResult(0);
  }
  c.setOutput(0, reshapeTo(c.b, c.loc, r, outShape), dt);
  return success();
}

LogicalResult handleGemm(NodeContext &c) {
  int32_t dt = c.dtype(0);
  if (c.dtype(1) != dt || (c.hasInput(2) && c.dtype(2) != dt))
    return c.fail("operands have different element types");
  if (dt == kBool)
    return c.fail("bool operands are not supported");
  if (c.rank(0) != 2 || c.rank(1) != 2)
    return c.fail("A and B must be 2-D");
  bool ta = c.attrInt("transA", 0), tb = c.attrInt("transB", 0);
  double alpha = c.attrFloat("alpha", 1.0f), beta = c.attrFloat("beta", 1.0f);
  Value a = ta ? c.transposedValue(0, {1, 0}) : c.value(0);
  Value w = tb ? c.transposedValue(1, {1, 0}) : c.value(1);
  auto at = cast<RankedTensorType>(a.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  if (at.getDimSize(1) != wt.getDimSize(0))
    return c.fail("inner dimensions differ");
  std::vector<int64_t> out = {at.getDimSize(0), wt.getDimSize(1)};
  bool hasC = c.hasInput(2) && beta != 0.0;
  if (hasC) {
    auto bc = broadcastShapes(c.shape(2), out);
    if (!bc || *bc != out)
      return c.fail("C " + shapeStr(c.shape(2)) + " does not broadcast to " +
                    shapeStr(out));
  }
  Value y = matmul2d(c.b, c.loc, a, w);
  if (alpha != 1.0 || hasC) {
    SmallVector<Value> ins = {y};
    if (hasC)
      ins.push_back(c.value(2));
    bool isF = isFloatDType(dt);
    y = buildElementwise(
        c.b, c.loc, ins, out, c.elemType(dt),
        [&](OpBuilder &b, Location l, ValueRange v) {
          auto mul = [&](Value x, double s) -> Value {
            if (s == 1.0)
              return x;
            Value k = scalarConst(b, l, x.getType(), s);
            return isF ? (Value)arith::MulFOp::create(b, l, x, k)
                       : (Value)arith::MulIOp::create(b, l, x, k);
          };
          Value r = mul(v[0], alpha);
          if (hasC) {
            Value cc = mul(v[1], beta);
            r = isF ? (Value)arith::AddFOp::create(b, l, r, cc)
                    : (Value)arith::AddIOp::create(b, l, r, cc);
          }
          return r;
        });
  }
  c.setOutput(0, y, dt);
  return success();
}

} // namespace

void registerMatmulOps(OpTable &t) {
  t["MatMul"] = handleMatMul;
  t["Gemm"] = handleGemm;
}

} // namespace onnximport
} // namespace qcc
