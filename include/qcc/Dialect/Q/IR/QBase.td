//===- QBase.td - q dialect definition ---------------------*- tablegen -*-===//
//
// The q dialect holds quantized weights and the ops that consume them. Scales
// and zero points are SSA operands, never part of a type: a 7B model has
// millions of them.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_DIALECT_Q_IR_QBASE_TD
#define QCC_DIALECT_Q_IR_QBASE_TD

include "mlir/IR/OpBase.td"

def Q_Dialect : Dialect {
  let name = "q";
  let cppNamespace = "::qcc::q";
  let summary = "Quantized tensors and the ops of quantized inference";
  let description = [{
    The `q` dialect describes low-bit (2 to 8 bit) integer weights, how they
    map back to real values (`#q.scheme`), how they are laid out in memory
    (`#q.layout`), and the ops that quantize, dequantize and multiply with
    them. Per-tensor activation quantization reuses upstream
    `!quant.uniform` types where the scale fits in the type.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerTypes();
  }];
}

class Q_Op<string mnemonic, list<Trait> traits = []>
    : Op<Q_Dialect, mnemonic, traits>;

#endif // QCC_DIALECT_Q_IR_QBASE_TD
