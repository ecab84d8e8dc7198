//===- QTypes.td - q dialect types -------------------------*- tablegen -*-===//

#ifndef QCC_DIALECT_Q_IR_QTYPES_TD
#define QCC_DIALECT_Q_IR_QTYPES_TD

include "qcc/Dialect/Q/IR/QAttrs.td"

def Q_WeightType : TypeDef<Q_Dialect, "Weight"> {
  let mnemonic = "weight";
  let summary = "A quantized weight matrix in a given memory layout";
  let description = [{
    The logical shape and code type (`i2` to `i8`) of a quantized weight, its
    scheme and its layout. The storage is a byte buffer whose size follows
    from the three: `getStorageType()` gives it as a tensor of `i8`.

    ```mlir
    !q.weight<4096x4096xi4, #q.scheme<bits = 4, is_signed = true,
              granularity = per_group, axis = 0, group_size = 128,
              symmetric = true>, packed_k>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t">:$shape,
    "::mlir::IntegerType":$codeType,
    "::qcc::q::SchemeAttr":$scheme,
    "::qcc::q::Layout":$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of bytes the packed codes occupy.
    int64_t getStorageBytes() const;
    /// The storage as a tensor of i8 bytes (rank 1).
    ::mlir::RankedTensorType getStorageType() const;
    /// The logical codes as a tensor of integers of the code type.
    ::mlir::RankedTensorType getCodesType() const;
  }];
}

#endif // QCC_DIALECT_Q_IR_QTYPES_TD
