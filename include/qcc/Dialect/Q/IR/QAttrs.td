//===- QAttrs.td - q dialect attributes --------------------*- tablegen -*-===//

#ifndef QCC_DIALECT_Q_IR_QATTRS_TD
#define QCC_DIALECT_Q_IR_QATTRS_TD

include "qcc/Dialect/Q/IR/QBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Q_Granularity : I32EnumAttr<"Granularity", "quantization granularity", [
    I32EnumAttrCase<"PerTensor", 0, "per_tensor">,
    I32EnumAttrCase<"PerChannel", 1, "per_channel">,
    I32EnumAttrCase<"PerGroup", 2, "per_group">]> {
  let cppNamespace = "::qcc::q";
  let genSpecializedAttr = 0;
}

def Q_Layout : I32EnumAttr<"Layout", "memory layout of a quantized weight", [
    // One code per byte, logical row-major order.
    I32EnumAttrCase<"RowMajor", 0, "row_major">,
    // Sub-byte codes packed along the reduction axis, low bits first.
    I32EnumAttrCase<"PackedK", 1, "packed_k">,
    // Blocks of 4 K-values x 16 output columns, the operand order of
    // vpdpbusd (one zmm of weights per 4 K-steps).
    I32EnumAttrCase<"VnniK4N16", 2, "vnni_k4n16">,
    // 4-bit codes for vpdpbusd: blocks of 8 K-values x 16 output columns in
    // 64 bytes; byte 4*j + b holds K-value b of column j in its low nibble
    // and K-value 4 + b in its high nibble.
    I32EnumAttrCase<"VnniK8N16", 3, "vnni_k8n16">]> {
  let cppNamespace = "::qcc::q";
  let genSpecializedAttr = 0;
}

def Q_ActQuant : I32EnumAttr<"ActQuant", "activation quantization mode", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"StaticPerTensor", 1, "static_per_tensor">,
    I32EnumAttrCase<"DynamicPerToken", 2, "dynamic_per_token">]> {
  let cppNamespace = "::qcc::q";
  let genSpecializedAttr = 0;
}

def Q_GranularityAttr : EnumAttr<Q_Dialect, Q_Granularity, "granularity"> {
  let assemblyFormat = "`<` $value `>`";
}
def Q_LayoutAttr : EnumAttr<Q_Dialect, Q_Layout, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}
def Q_ActQuantAttr : EnumAttr<Q_Dialect, Q_ActQuant, "act_quant"> {
  let assemblyFormat = "`<` $value `>`";
}

def Q_SchemeAttr : AttrDef<Q_Dialect, "Scheme"> {
  let mnemonic = "scheme";
  let summary = "How integer codes map to real values";
  let description = [{
    `real = scale * (code - zero_point)`, with one scale per tensor, per
    channel along `axis`, or per group of `group_size` consecutive elements
    along `axis`. Symmetric schemes have no zero points.

    ```mlir
    #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0,
              group_size = 128, symmetric = false>
    ```
  }];
  let parameters = (ins
    "unsigned":$bits,
    "bool":$is_signed,
    "::qcc::q::Granularity":$granularity,
    "int64_t":$axis,
    "int64_t":$group_size,
    "bool":$symmetric);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Smallest and largest code of this scheme.
    int64_t getMinCode() const;
    int64_t getMaxCode() const;
  }];
}

#endif // QCC_DIALECT_Q_IR_QATTRS_TD
