//===- Passes.td - target-independent qcc passes -----------*- tablegen -*-===//

#ifndef QCC_PASSES_PASSES_TD
#define QCC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def ExternalizeWeights : Pass<"qcc-externalize-weights", "mlir::ModuleOp"> {
  let summary = "Move large constants of @main into the artifact's weight file";
  let description = [{
    Every `arith.constant` (or `q.weight_constant`) in the entry function
    whose payload is at least `min-bytes` becomes a new leading argument of
    the function. The payloads are recorded, in argument order, in the
    module attribute `qcc.weights` (an array of `{offset, value}`
    dictionaries, offsets 64-byte aligned) for the artifact writer; the
    entry point passes `weights_base + offset` for each of them. Small
    constants stay in the code where the compiler can fold them. The
    entry's original number of arguments (the model inputs) is recorded in
    `qcc.num_inputs`. Every argument of the entry is marked
    `bufferization.writable = false`: inputs belong to the caller and the
    weight file is mapped read-only.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"256",
           "Smallest constant, in bytes, moved out of the code">,
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the entry function">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def FuseElementwise : Pass<"qcc-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers into consumers that read "
                "each produced element once";
  let description = [{
    Upstream elementwise fusion merges a producer into any consumer, even one
    whose loops re-read each produced element many times (the reduction loop
    of a matmul, a broadcast): the producer's work, an `erf` of GELU say, is
    then repeated for every reuse. This pass fuses only all-parallel
    `linalg.generic` producers whose value the consumer indexes through a
    permutation of its loops and that no other op reads (a value with
    several readers, e.g. the residual stream feeding LayerNorm's mean,
    variance and normalization, stays materialized), so no work is
    duplicated, and keeps named ops (matmuls, convolutions) named for the
    microkernels.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def ConcatSlices : Pass<"qcc-concat-slices", "mlir::func::FuncOp"> {
  let summary = "Turn a concat of slices of one tensor into one indexed "
                "linalg.generic";
  let description = [{
    Rotary embeddings' rotate-half is `concat(-x[..., d/2:], x[..., :d/2])`:
    two slices of one tensor, an elementwise op on one of them and a concat,
    which bufferize to a loop for the negation and a copy per piece (three
    kernel launches on the GPU per Q or K projection and layer). When every
    piece of a concat (insert_slices filling a `tensor.empty` along one
    dimension, or `tensor.concat`) is a static unit-stride slice of the same
    tensor, or an all-parallel elementwise `linalg.generic` of one (at most
    8 pure ops, used only there), the concat becomes one all-parallel
    `linalg.generic` that computes each element's source index in that
    tensor, reads it with `tensor.extract`, and applies its piece's ops. It
    has no inputs, so qcc-fuse-elementwise then merges it into an
    elementwise consumer (rotary's `x * cos + rotate_half(x) * sin`): one
    loop in all. At most 4 pieces (each element evaluates every piece's
    ops and selects one).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def QuantizeWeights : Pass<"qcc-quantize-weights", "mlir::func::FuncOp"> {
  let summary = "Round-to-nearest quantization of constant matmul weights";
  let description = [{
    Every `linalg.matmul` whose right operand is a constant f32 `[K, N]`
    matrix becomes a `q.matmul` with a `q.weight_constant`: 8-bit weights
    symmetric per output channel, 4-bit weights in groups of `group-size`
    along K (symmetric, or asymmetric with zero points). The layout is the
    one the target's kernels read (`vnni_k4n16` / `vnni_k8n16` with `vnni`,
    else `row_major` / `packed_k`); shapes those layouts cannot hold fall
    back to the plain ones. Matmuls named by `keep-float` (substrings of the
    ONNX node name) and matrices under `min-elements` stay in float.
    Numerics come from lib/Quant.

    `weight-algo=gptq` rounds output-aware instead (GPTQ, lib/Quant/Gptq.h):
    each weight minimizes tr(dW^T H dW) for the X^T X of its activations,
    read by node name from the calibration statistics folder `stats` (the
    `qcc --calib-stats` format: index.json + `<prefix>.xtx.npy`). `clip`
    picks how each group's or channel's scale is chosen. With `stats`, the
    report also gives each layer's relative output error
    sqrt(tr(dW^T H dW) / tr(W^T H W)), and RTN's beside GPTQ's.
  }];
  let options = [
    Option<"bits", "bits", "unsigned", /*default=*/"8", "Weight bits (8 or 4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Group size along K for 4-bit weights">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric 4-bit groups (no zero points)">,
    Option<"actQuant", "act", "std::string", /*default=*/"\"dynamic\"",
           "Activations: none (weight-only), dynamic (int8 per token) or "
           "static (int8 per tensor, scale from the calibrated "
           "qcc.act_absmax attribute of each matmul)">,
    Option<"vnni", "vnni", "bool", /*default=*/"true",
           "Use the VNNI kernel layouts">,
    Option<"cpuKernelNotes", "cpu-kernel-notes", "bool", /*default=*/"true",
           "Name the CPU kernel each layer gets in its report note (off for "
           "GPU targets, whose lowering picks the kernel later)">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"4096",
           "Smallest weight (K * N) worth quantizing">,
    ListOption<"keepFloat", "keep-float", "std::string",
               "Node-name substrings of matmuls to keep in float">,
    Option<"weightAlgo", "weight-algo", "std::string", /*default=*/"\"rtn\"",
           "Rounding: rtn (round to nearest) or gptq (output-aware; needs "
           "stats)">,
    Option<"clip", "clip", "std::string", /*default=*/"\"auto\"",
           "Scale per group/channel: auto (rtn: mse for 4 bits, none for 8; "
           "gptq: none), none (full range), mse (least weight error) or act "
           "(least weight error weighted by E[x^2]; needs stats)">,
    Option<"statsDir", "stats", "std::string", /*default=*/"\"\"",
           "Calibration statistics folder (qcc --calib-stats format)">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "gptq: quantize input channels by decreasing E[x^2] (group "
           "scales then fixed up front)">,
    Option<"dampening", "dampening", "double", /*default=*/"0.01",
           "gptq: damping added to H's diagonal, as a fraction of its mean">
  ];
  let dependentDialects = ["qcc::q::QDialect", "mlir::tensor::TensorDialect",
                           "mlir::linalg::LinalgDialect"];
}

def InsertObservers : Pass<"qcc-insert-observers", "mlir::ModuleOp"> {
  let summary = "Expose the activations calibration observes as extra results";
  let description = [{
    Calibration runs the float model compiled by qcc itself and feeds the
    input of every matmul it will quantize to streaming observers
    (lib/Quant). This pass makes those inputs visible: each `linalg.matmul`
    carrying a `qcc.calib_id` integer attribute has its left operand (the
    activations) appended to the results of the entry function, with the
    result name `qcc.calib.<id>[.<id>...]` (one result per distinct value,
    listing every matmul that reads it) and dtype `float32`. The model's own
    results stay first and unchanged, so the compiled function computes the
    same outputs plus the observed tensors, one sample at a time: memory
    stays bounded whatever the number of samples.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the entry function">
  ];
}

def QuantizeEmbeddings : Pass<"qcc-quantize-embeddings", "mlir::func::FuncOp"> {
  let summary = "Store embedding tables (gathered constants) as int8 rows";
  let description = [{
    A constant f32 `[V, D]` table of at least `min-elements` values that is
    only read element-wise through `tensor.extract %table[%row, %col]` (how
    the importer lowers Gather on an embedding table) becomes an int8 table
    with one symmetric scale per row: each read fetches the int8 code and
    its row's scale and multiplies them, so only the rows a token touches
    are decoded and the weight file holds a quarter of the bytes. Tables
    read any other way (a tied LM head's matmul, say) stay f32. Each table
    is recorded in the module's `qcc.quant_report`.
  }];
  let options = [
    Option<"minElements", "min-elements", "int64_t", /*default=*/"4096",
           "Smallest table (V * D) worth quantizing">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect"];
}

def FoldEmptyTensors : Pass<"qcc-fold-empty-tensors", "mlir::func::FuncOp"> {
  let summary = "Fold away tensors with a zero-size dimension";
  let description = [{
    A tensor with a zero-size dimension holds no values. Side-effect free
    ops whose results all have no elements become `tensor.empty`; a linalg
    op with a zero-trip loop (a matmul with K = 0, a reduction over an empty
    axis) is replaced by its destinations; empty operands of `tensor.concat`
    and empty sources of `tensor.insert_slice` are dropped, and a constant
    `tensor.pad` of an empty source becomes a `linalg.fill`. Uses of empty
    function arguments read a `tensor.empty` instead, and a public
    function's empty inputs and outputs become `tensor<0xT>`, which every
    calling convention can pass. An op that still reads an empty tensor
    afterwards is an error.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def TransposeToReshape : Pass<"qcc-transpose-to-reshape", "mlir::func::FuncOp"> {
  let summary = "Turn transposes that only move unit dimensions into reshapes";
  let description = [{
    A `linalg.transpose` whose permutation keeps the dimensions of size
    other than 1 in their order only moves unit dimensions: the elements
    stay where they are in memory, so the op is a `tensor.collapse_shape` to
    those dimensions followed by a `tensor.expand_shape` to the result
    shape, views after bufferization instead of a copy (a kernel launch on
    the GPU). Attention at one token transposes `[1, 1, heads, dim]` to
    `[1, heads, 1, dim]` and back in every layer. Transposes with dynamic
    shapes or that move a dimension of size other than 1 stay.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def ConvNhwc : Pass<"qcc-conv-nhwc", "mlir::func::FuncOp"> {
  let summary = "Run convolution chains in NHWC (channels innermost)";
  let description = [{
    Every batch-1 static f32 `linalg.conv_2d_nchw_fchw`,
    `linalg.depthwise_conv_2d_nchw_chw` and `linalg.pooling_nchw_{max,sum}`
    becomes its NHWC twin (`conv_2d_nhwc_hwcf`, `depthwise_conv_2d_nhwc_hwc`,
    `pooling_nhwc_{max,sum}`) between two `linalg.transpose`s; a constant
    filter is reordered at compile time. The NHWC -> NCHW transposes are
    then moved down the chain: element-wise generics run in NHWC with the
    transpose after them, `tensor.pad` pads the NHWC source, generics with
    reductions (global pooling) read the NHWC source through their indexing
    map, and transpose pairs cancel. What is left is one transpose at the
    chain's input and, when an NCHW tensor leaves it, one at its output.
    Transposes of other permutations are left alone.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def ConvToMatmul : Pass<"qcc-conv-to-matmul", "mlir::func::FuncOp"> {
  let summary = "Rewrite 2-D convolutions as im2col + linalg.matmul";
  let description = [{
    A `linalg.conv_2d_nchw_fchw` of batch 1 on static f32 tensors becomes a
    `linalg.generic` that gathers the input patches into a
    `[C * KH * KW, OH * OW]` matrix (strides and dilations folded into its
    affine map) and a `linalg.matmul` of the `[F, C * KH * KW]` filter with
    it, so convolutions run on the matmul microkernels instead of a scalar
    seven-deep loop nest. A constant filter is transposed at compile time
    and goes right instead: `[OH * OW, C * KH * KW] x [C * KH * KW, F]`
    between two `linalg.transpose`s, the form qcc-quantize-weights
    quantizes (so Conv weights get int8/int4 like MatMul's).

    The NHWC ops qcc-conv-nhwc produces lower without transposes: a batch-1
    `linalg.conv_2d_nhwc_hwcf` gathers `[OH * OW, KH * KW * C]` patches with
    the channel innermost (a 1x1 stride-1 convolution uses the activation
    itself), multiplies them by the `[KH * KW * C, F]` filter (a constant
    one becomes a weight constant) and the product is the NHWC output;
    `linalg.depthwise_conv_2d_nhwc_hwc` and `linalg.pooling_nhwc_{max,sum}`
    on f32 become generics over (n, oh, ow, kh, kw, c), the channel loop
    innermost so it vectorises. Other convolutions are left alone.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def FoldConvAffine : Pass<"qcc-fold-conv-affine", "mlir::func::FuncOp"> {
  let summary = "Fold per-channel affine ops (BatchNorm, Mul/Add) into conv weights";
  let description = [{
    After a `linalg.conv_2d_nchw_fchw` or `linalg.depthwise_conv_2d_nchw_chw`
    with a constant f32 filter and a zero-filled init, the chain of
    single-use element-wise generics that are affine in the conv's value
    with per-channel constant coefficients (inference BatchNormalization, a
    Mul or Add by [C] / [C,1,1] constants, the conv's bias add: add, sub,
    mul, div, neg, sqrt and rsqrt of constants) is composed in double
    precision into y = a[c] * conv + b[c]. The filter's output-channel rows
    are multiplied by a at compile time and the chain becomes one `+ b[c]`
    generic (none when b is 0). The chain stops at the first generic that is
    not such a function (Relu, a residual Add).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def PadInPlace : Pass<"qcc-pad-in-place", "mlir::func::FuncOp"> {
  let summary = "Have a constant pad's producer write the padded interior";
  let description = [{
    A static `tensor.pad` with a constant value whose source is the only
    use of a destination-style op's result written into a `tensor.empty`
    (a transpose, an element-wise generic that does not read its init)
    becomes `linalg.fill` of the padded shape, an `extract_slice` of its
    interior as the producer's init, and the matching `insert_slice`. One-
    shot bufferization then writes the producer's result straight into the
    padded buffer instead of copying it there (the convolution inputs'
    pads). Run it after element-wise fusion, which would drop the init.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def SmoothActivations : Pass<"qcc-smooth-activations", "mlir::func::FuncOp"> {
  let summary = "SmoothQuant: move activation outlier channels into the weights";
  let description = [{
    For every `linalg.matmul` with a constant f32 `[K, N]` weight and a
    calibrated `qcc.act_channel_absmax` attribute (max |x| of each of the K
    input channels, set by calibration), computes per input channel
    `s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)` (max |W_j| over the rows of
    every matmul reading the same activations, which share one s; channels
    with a zero bound keep s = 1), scales the weight rows by s and the
    activations by 1/s, so the product is unchanged and int8 activations
    lose less to outlier channels. 1/s is folded into the producer of the
    activations when it is an all-parallel `linalg.generic` read only by
    these matmuls (into its per-channel constant factor, e.g. a norm's gamma,
    or as one more per-channel operand); otherwise a small elementwise op
    scales the matmul input. Smoothed matmuls are marked `qcc.smoothed` (a
    second run leaves them alone) and listed in the module's
    `qcc.smooth_report`. Runs before qcc-quantize-weights; static activation
    ranges must be calibrated on the smoothed model.
  }];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]: 0 leaves activations alone, 1 "
           "moves all their range into the weights">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def RetainOutliers : Pass<"qcc-retain-outliers", "mlir::func::FuncOp"> {
  let summary = "Mixed precision: keep activation outlier channels in float";
  let description = [{
    LLM.int8()-style outlier retention. For every `linalg.matmul` with a
    constant f32 `[K, N]` weight and a calibrated `qcc.act_channel_absmax`
    (max |x| of each input channel), picks the outlier channels of its
    input: the `count` largest (0: no limit), of those only channels whose
    max |x| exceeds `ratio` times the median channel's (0: no threshold),
    never more than K / 2. Then `Y = X W` becomes

      Y = (X * mask) W' + X[:, idx] W[idx, :]

    with `mask` zero on the kept channels (with `mask-activations`; for
    weight-only quantization X stays as it is), W' the weight with the kept
    rows zeroed (what qcc-quantize-weights then quantizes) and the second
    product a float matmul with K = #kept, marked `qcc.keep_float`, whose
    result is the main matmul's init. Matmuls reading the same activations
    share the mask and the gather of the kept columns. Processed matmuls are
    marked `qcc.outliers_kept`; their `qcc.act_channel_absmax` and
    `qcc.act_absmax` lose the kept channels. Each is listed in the module's
    `qcc.outlier_report` (channels and the bytes of their float rows). Runs
    after calibration and qcc-smooth-activations, before
    qcc-quantize-weights; static ranges and X^T X statistics should be
    calibrated again on the result.
  }];
  let options = [
    Option<"count", "count", "int64_t", /*default=*/"0",
           "Most channels kept per activation (0: no limit; needs ratio)">,
    Option<"ratio", "ratio", "double", /*default=*/"0.0",
           "Keep only channels whose calibrated max |x| exceeds ratio times "
           "the median channel's (0: no threshold; needs count)">,
    Option<"maskActivations", "mask-activations", "bool", /*default=*/"true",
           "Zero the kept channels of the quantized matmul's input (int8 "
           "activations); false for weight-only quantization">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"4096",
           "Smallest weight (K * N) considered, as qcc-quantize-weights">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def FuseOutliers : Pass<"qcc-fuse-outliers", "mlir::func::FuncOp"> {
  let summary = "Fold qcc-retain-outliers' float side product into q.matmul";
  let description = [{
    Runs after qcc-quantize-weights. qcc-retain-outliers leaves

      Y = q.matmul(X * mask, W') + linalg.matmul(X[:, idx], W[idx, :])

    (the mask, the gather of the kept columns and the side matmul marked by
    it); here each such pair becomes one `q.matmul` of X itself with
    `outlier_channels = idx` and the kept rows as its `outliers` weight: the
    activation quantization leaves the kept channels out and the lowering
    adds the float side product in the epilogue, with no masked copy of X,
    no gathered copy and no separate float matmul and add. A bias the
    original matmul accumulated into stays a separate add. Pairs whose
    activations are not masked (weight-only quantization) are left as they
    are. Ops the pass no longer needs are erased.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "qcc::q::QDialect"];
}

def AwqScale : Pass<"qcc-awq-scale", "mlir::func::FuncOp"> {
  let summary = "AWQ: per-input-channel weight scales chosen for the least "
                "output error of the rounded weights";
  let description = [{
    Activation-aware weight quantization. For every `linalg.matmul` with a
    constant f32 `[K, N]` weight that qcc-quantize-weights will quantize
    (same `bits`, `group-size`, `symmetric`, `clip`, `min-elements` and
    `keep-float`), reads the calibrated statistics of its input from `stats`
    (a `qcc --calib-stats` folder: X^T X and mean |x| per channel) and
    tries `s_j = mean|x_j|^alpha` (normalised) for alpha = i / grid,
    i = 0..grid: the weight rows are multiplied by s, rounded as the weight
    quantizer will round them, and divided by s again, and the squared
    output error `tr(dW^T H dW)` with H = X^T X decides (computed on up to
    `search-columns` evenly spaced output columns of each weight; alpha = 0,
    plain rounding, is a candidate, so the estimate never gets worse).
    Matmuls reading the same activations share one s and add their errors.
    The chosen s multiplies the weight rows and 1/s is folded into the
    producer of the activations as qcc-smooth-activations does. Processed
    matmuls are marked `qcc.awq_alpha` (a second run leaves them alone) and
    listed in the module's `qcc.smooth_report` with kind "awq", the chosen
    alpha and the relative output error of plain rounding and of AWQ.
    Runs after calibration, before qcc-quantize-weights; static activation
    ranges and X^T X statistics for GPTQ must be calibrated again on the
    result.
  }];
  let options = [
    Option<"statsDir", "stats", "std::string", /*default=*/"\"\"",
           "Calibration statistics folder (qcc --calib-stats format)">,
    Option<"bits", "bits", "unsigned", /*default=*/"4",
           "Weight bits the quantizer will use (8 or 4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Group size along K of 4-bit weights">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric 4-bit weight groups">,
    Option<"clip", "clip", "std::string", /*default=*/"\"auto\"",
           "The weight quantizer's scale choice for RTN: auto, none, mse or "
           "act">,
    Option<"grid", "grid", "int64_t", /*default=*/"20",
           "alpha takes the values i / grid, i = 0..grid">,
    Option<"searchColumns", "search-columns", "int64_t", /*default=*/"256",
           "Output columns of each weight the search measures (0: all)">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"4096",
           "Matmuls with fewer weight elements stay float (as in "
           "qcc-quantize-weights)">,
    ListOption<"keepFloat", "keep-float", "std::string",
               "Node-name substrings of matmuls kept in float">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

#endif // QCC_PASSES_PASSES_TD
