//===- QOps.td - q dialect ops -----------------------------*- tablegen -*-===//

#ifndef QCC_DIALECT_Q_IR_QOPS_TD
#define QCC_DIALECT_Q_IR_QOPS_TD

include "qcc/Dialect/Q/IR/QBase.td"
include "qcc/Dialect/Q/IR/QAttrs.td"
include "qcc/Dialect/Q/IR/QTypes.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"

def Q_FloatTensor : RankedTensorOf<[F16, BF16, F32]>;
def Q_ScaleTensor : RankedTensorOf<[F16, BF16, F32]>;
def Q_CodeTensor : RankedTensorOf<[AnySignlessInteger, quant_QuantizedType]>;
def Q_IntTensor : RankedTensorOf<[AnySignlessInteger]>;
def Q_FloatShaped : AnyTypeOf<[RankedTensorOf<[F16, BF16, F32]>,
                               MemRefRankOf<[F16, BF16, F32], [0, 1, 2, 3, 4, 5, 6]>]>;
def Q_ScaleShaped : AnyTypeOf<[RankedTensorOf<[F16, BF16, F32]>,
                               MemRefRankOf<[F16, BF16, F32], [0, 1, 2, 3, 4, 5, 6]>]>;
def Q_IntShaped : AnyTypeOf<[RankedTensorOf<[AnySignlessInteger]>,
                             MemRefRankOf<[AnySignlessInteger], [0, 1, 2, 3, 4, 5, 6]>]>;
def Q_Weight : Type<CPred<"::llvm::isa<::qcc::q::WeightType>($_self)">,
                    "quantized weight", "::qcc::q::WeightType">;

def Q_QuantizeOp : Q_Op<"quantize", [Pure, AttrSizedOperandSegments]> {
  let summary = "Float tensor to integer codes";
  let description = [{
    `code = clamp(round_half_even(x / scale) + zero_point, min, max)`.
    Scales (and zero points for asymmetric schemes) are operands shaped by the
    scheme's granularity: a rank-0 tensor per tensor, one value per channel
    along `axis`, or one per group of `group_size` along `axis` (the axis
    dimension divided by the group size, the other dimensions kept).
    When the result's element type is an upstream `!quant.uniform` type, the
    scale lives in the type and no operands nor scheme are given.

    ```mlir
    %q = q.quantize %x, %s {scheme = #q.scheme<bits = 8, is_signed = true,
           granularity = per_channel, axis = 1, group_size = 0,
           symmetric = true>} : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xi8>
    %t = q.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.5:3>>
    ```
  }];
  let arguments = (ins Q_FloatTensor:$input,
                       Optional<Q_ScaleTensor>:$scales,
                       Optional<Q_IntTensor>:$zero_points,
                       OptionalAttr<Q_SchemeAttr>:$scheme);
  let results = (outs Q_CodeTensor:$result);
  let assemblyFormat = [{
    $input (`,` $scales^)? (`,` $zero_points^)? attr-dict `:` type($input)
    (`,` type($scales)^)? (`,` type($zero_points)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Q_DequantizeOp : Q_Op<"dequantize", [Pure, AttrSizedOperandSegments]> {
  let summary = "Integer codes to a float tensor";
  let description = [{
    `x = scale * (code - zero_point)`; the inverse mapping of `q.quantize`,
    with the same operand rules.

    ```mlir
    %x = q.dequantize %q, %s {scheme = #q.scheme<bits = 8, is_signed = true,
           granularity = per_tensor, axis = 0, group_size = 0,
           symmetric = true>} : tensor<4x8xi8>, tensor<f32> -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Q_CodeTensor:$input,
                       Optional<Q_ScaleTensor>:$scales,
                       Optional<Q_IntTensor>:$zero_points,
                       OptionalAttr<Q_SchemeAttr>:$scheme);
  let results = (outs Q_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $scales^)? (`,` $zero_points^)? attr-dict `:` type($input)
    (`,` type($scales)^)? (`,` type($zero_points)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Q_WeightConstantOp : Q_Op<"weight_constant", [Pure, ConstantLike]> {
  let summary = "A quantized weight whose packed bytes are known";
  let description = [{
    Holds the storage bytes of a `!q.weight` as a rank-1 `i8` elements
    attribute whose size must equal the type's storage size.

    ```mlir
    %w = q.weight_constant dense<0> : tensor<16xi8> -> !q.weight<4x8xi4,
           #q.scheme<bits = 4, is_signed = true, granularity = per_group,
           axis = 0, group_size = 4, symmetric = true>, packed_k>
    ```
  }];
  let arguments = (ins ElementsAttr:$storage);
  let results = (outs Q_Weight:$result);
  let assemblyFormat = "$storage attr-dict `->` qualified(type($result))";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Q_PackOp : Q_Op<"pack", [Pure]> {
  let summary = "Integer codes into a packed quantized weight";
  let description = [{
    Packs a tensor of codes (one per element, in the scheme's code range)
    into the weight type's layout. Folds when the codes are constant.

    ```mlir
    %w = q.pack %codes : tensor<4x8xi8> -> !q.weight<4x8xi4,
           #q.scheme<bits = 4, is_signed = true, granularity = per_group,
           axis = 0, group_size = 4, symmetric = true>, packed_k>
    ```
  }];
  let arguments = (ins Q_IntTensor:$codes);
  let results = (outs Q_Weight:$result);
  let assemblyFormat = "$codes attr-dict `:` type($codes) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Q_UnpackOp : Q_Op<"unpack", [Pure]> {
  let summary = "A packed quantized weight back to one code per element";
  let description = [{
    ```mlir
    %c = q.unpack %w : !q.weight<4x8xi4, #q.scheme<bits = 4, is_signed = true,
           granularity = per_group, axis = 0, group_size = 4,
           symmetric = true>, packed_k> -> tensor<4x8xi8>
    ```
  }];
  let arguments = (ins Q_Weight:$weight);
  let results = (outs Q_IntTensor:$codes);
  let assemblyFormat = "$weight attr-dict `:` qualified(type($weight)) `->` type($codes)";
  let hasVerifier = 1;
}

def Q_NumThreadsOp : Q_Op<"num_threads", [Pure]> {
  let summary = "Threads that run the current call of the compiled model";
  let description = [{
    The `num_threads` of the call's `qcc_exec_context` (docs/ARTIFACT.md),
    at least 1, for code that picks a variant by the threads sharing the
    machine's memory bandwidth. `qcc-cpu-outline-parallel` replaces it:
    with the context's field in the entry function, with 1 elsewhere (code
    that has no context runs on one thread).

    ```mlir
    %threads = q.num_threads
    ```
  }];
  let results = (outs Index:$result);
  let assemblyFormat = "attr-dict";
}

def Q_MatmulOp : Q_Op<"matmul", [AttrSizedOperandSegments,
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Float activations times a quantized weight";
  let description = [{
    `init[..., m, n] = sum_k act(input)[..., m, k] * dequant(weight)[k, n]
    (+ bias[n])`. The weight is `[K, N]`; its scales (and zero points for
    asymmetric schemes) are operands shaped by the scheme: rank 0 per tensor,
    `[N]` per output channel (`axis = 1`), `[K / group_size, N]` per group
    along K (`axis = 0`). `act_quant` says whether the activations are
    quantized to int8 too: per tensor with the static `act_scale` operand, or
    per token at run time.

    Outlier channels (LLM.int8()-style mixed precision, qcc-fuse-outliers):
    with `outlier_channels` (strictly increasing input channels in [0, K))
    and the f32 `outlier_weight` `[#channels, N]`, those channels of the
    input are treated as zero by the quantized product (they are left out of
    the activation quantization: codes 0, not part of the per-token absmax)
    and `input[..., m, channels] * outlier_weight` is added in float:
    `init = act(input * mask) * dequant(weight) + input[..., channels] *
    outlier_weight (+ bias)`.

    The op is in destination-passing style: on tensors it returns the
    updated `init` (whose contents are overwritten, not accumulated); after
    bufferization it writes the `init` buffer and has no result.

    ```mlir
    %y = q.matmul %x, %w scales(%s) zero_points(%z) bias(%b) outs(%init)
           {act_quant = #q.act_quant<none>}
           : (tensor<1x4xf32>, !q.weight<4x8xi4, #q.scheme<bits = 4,
              is_signed = false, granularity = per_group, axis = 0,
              group_size = 2, symmetric = false>, packed_k>, tensor<2x8xf32>,
              tensor<2x8xi8>, tensor<8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
    ```
  }];
  let arguments = (ins Q_FloatShaped:$input,
                       Q_Weight:$weight,
                       Q_ScaleShaped:$scales,
                       Optional<Q_IntShaped>:$zero_points,
                       Optional<Q_FloatShaped>:$bias,
                       Optional<Q_ScaleShaped>:$act_scale,
                       Optional<Q_FloatShaped>:$outlier_weight,
                       Q_FloatShaped:$init,
                       DefaultValuedAttr<Q_ActQuantAttr,
                         "::qcc::q::ActQuant::None">:$act_quant,
                       OptionalAttr<DenseI64ArrayAttr>:$outlier_channels);
  let results = (outs Variadic<Q_FloatTensor>:$result);
  let assemblyFormat = [{
    $input `,` $weight `scales` `(` $scales `)`
    (`zero_points` `(` $zero_points^ `)`)?
    (`bias` `(` $bias^ `)`)?
    (`act_scale` `(` $act_scale^ `)`)?
    (`outliers` `(` $outlier_weight^ `)`)?
    `outs` `(` $init `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
  }];
  let hasVerifier = 1;
}

#endif // QCC_DIALECT_Q_IR_QOPS_TD
