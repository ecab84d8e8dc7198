//===- QuantizeEmbeddings.cpp - int8 rows for gathered tables --------------===//
//
// The importer lowers Gather on a constant table to a linalg.generic that
// reads `tensor.extract %table[%row, %col]`. Such a table is stored as int8
// codes with one symmetric scale per row; every read decodes one element.
//
//===----------------------------------------------------------------------===//

#include "qcc/Passes/Passes.h"

#include "qcc/Passes/QuantUtils.h"

#include "qcc/Quant/Metrics.h"
#include "qcc/Quant/Rtn.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>

namespace qcc {
#define GEN_PASS_DEF_QUANTIZEEMBEDDINGS
#include "qcc/Passes/Passes.h.inc"
} // namespace qcc

using namespace mlir;
namespace qnum = qcc::quant;

namespace {

/// The node name of the first reader of the table (the Gather), else the
/// constant's own.
std::string tableName(arith::ConstantOp table) {
  for (Operation *user : table->getUsers()) {
    Operation *op = user;
    while (op && qcc::getNodeName(op->getLoc()).empty())
      op = op->getParentOp();
    if (op)
      return qcc::getNodeName(op->getLoc());
  }
  return qcc::getNodeName(table.getLoc());
}

struct QuantizeEmbeddingsPass
    : public qcc::impl::QuantizeEmbeddingsBase<QuantizeEmbeddingsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (minElements < 1) {
      getOperation().emitError("qcc-quantize-embeddings: min-elements must "
                               "be at least 1, got ")
          << static_cast<int64_t>(minElements);
      return signalPassFailure();
    }
    SmallVector<arith::ConstantOp> tables;
    getOperation().walk([&](arith::ConstantOp cst) {
      auto type = dyn_cast<RankedTensorType>(cst.getType());
      if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
          type.getNumElements() < minElements || cst->use_empty())
        return;
      for (Operation *user : cst->getUsers()) {
        auto extract = dyn_cast<tensor::ExtractOp>(user);
        if (!extract || extract.getTensor() != cst.getResult())
          return;
      }
      tables.push_back(cst);
    });
    for (arith::ConstantOp table : tables)
      if (failed(quantize(table)))
        return signalPassFailure();
  }

  LogicalResult quantize(arith::ConstantOp table) {
    auto type = cast<RankedTensorType>(table.getType());
    int64_t rows = type.getShape()[0], cols = type.getShape()[1];
    std::optional<std::vector<float>> values =
        qcc::getFloatValues(cast<ElementsAttr>(table.getValue()));
    // Tables holding inf or NaN (attention masks read element-wise, say)
    // are not embeddings: they stay f32.
    if (!values || !llvm::all_of(*values, [](float v) { return std::isfinite(v); }))
      return success();
    // Per row = per output channel of the transposed [D, V] matrix, so
    // lib/Quant's per-channel RTN computes it with axis 0 of [V, D].
    qnum::Scheme scheme =
        qnum::Scheme::perChannel(8, /*symmetric=*/true, /*axis=*/0);
    qnum::QuantParams params;
    std::vector<int32_t> codes;
    if (qnum::Status st =
            qnum::quantizeRtn(values->data(), rows, cols, scheme, params, codes);
        !st)
      return table.emitOpError("embedding quantization failed: ")
             << st.message;
    if (static_cast<int64_t>(params.scales.size()) != rows)
      return table.emitOpError("expected one scale per row, got ")
             << params.scales.size();
    std::vector<int8_t> bytes(codes.begin(), codes.end());
    std::vector<float> restored(values->size());
    double relError = 0.0;
    if (qnum::dequantize(codes.data(), rows, cols, scheme, params,
                         restored.data()))
      relError =
          qnum::compareTensors(values->data(), restored.data(), values->size())
              .relL2;

    OpBuilder b(table);
    Location loc = table.getLoc();
    auto codeType = RankedTensorType::get({rows, cols}, b.getI8Type());
    Value qtable = arith::ConstantOp::create(
        b, loc,
        DenseResourceElementsAttr::get(
            codeType, "qcc_qembedding",
            HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<char>(
                reinterpret_cast<const char *>(bytes.data()), bytes.size()))));
    Value scales = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({rows}, b.getF32Type()),
                               ArrayRef<float>(params.scales)));

    std::string name = tableName(table);
    for (Operation *user : llvm::make_early_inc_range(table->getUsers())) {
      auto extract = cast<tensor::ExtractOp>(user);
      OpBuilder ub(extract);
      Location eloc = extract.getLoc();
      ValueRange indices = extract.getIndices();
      Value code = tensor::ExtractOp::create(ub, eloc, qtable, indices);
      Value scale = tensor::ExtractOp::create(ub, eloc, scales, indices[0]);
      Value asFloat = arith::SIToFPOp::create(ub, eloc, ub.getF32Type(), code);
      Value value = arith::MulFOp::create(ub, eloc, asFloat, scale);
      extract.replaceAllUsesWith(value);
      extract.erase();
    }
    Builder rb(table.getContext());
    qcc::appendQuantReport(
        qtable.getDefiningOp(),
        {rb.getNamedAttr("name", rb.getStringAttr(name)),
         rb.getNamedAttr("format", rb.getStringAttr("int8 per-row (embedding)")),
         rb.getNamedAttr("k", rb.getI64IntegerAttr(rows)),
         rb.getNamedAttr("n", rb.getI64IntegerAttr(cols)),
         rb.getNamedAttr("bytes_before", rb.getI64IntegerAttr(rows * cols * 4)),
         rb.getNamedAttr("bytes_after",
                         rb.getI64IntegerAttr(rows * cols + rows * 4)),
         rb.getNamedAttr("weight_rel_error", rb.getF64FloatAttr(relError)),
         rb.getNamedAttr("activations", rb.getStringAttr("gathered rows")),
         rb.getNamedAttr("note",
                         rb.getStringAttr("rows decoded where read"))});
    table.erase();
    return success();
  }
};

} // namespace
