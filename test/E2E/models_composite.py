"""Composite cases of test/E2E/models.py (small networks: MLPs, attention, conv nets, ...): they
register into models.CASES when models.py imports this file."""
from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as oh
from onnx import numpy_helper as nh

from models import DEFAULT_OPSET, _bn_params, case, f32, make_model, normal, register

# ============================================================================ composites
class G:
    """Tiny graph builder: g.op('MatMul', a, b) -> output name."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, np.ndarray] = {}
        self.n = 0

    def op(self, op_type, *inputs, n_out=1, **attrs):
        self.n += 1
        outs = [f"{op_type.lower()}_{self.n}_o{i}" for i in range(n_out)]
        self.nodes.append(oh.make_node(op_type, list(inputs), outs, name=f"{op_type.lower()}_{self.n}", **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, name, arr):
        name = f"{name}_{len(self.inits)}"
        self.inits[name] = np.asarray(arr)
        return name

    def w(self, name, *shape, scale=None):
        scale = scale if scale is not None else 1.0 / math.sqrt(shape[0] if len(shape) else 1)
        return self.const(name, normal(self.rng, *shape, scale=scale))

    def out(self, name, src):
        self.nodes.append(oh.make_node("Identity", [src], [name], name=f"out_{name}"))
        return name

    def model(self, feeds, outputs, opset=DEFAULT_OPSET, input_shapes=None):
        return make_model(self.nodes, feeds, outputs, self.inits, opset=opset, input_shapes=input_shapes)

    # building blocks
    def linear(self, x, din, dout, bias=True):
        y = self.op("MatMul", x, self.w("W", din, dout))
        return self.op("Add", y, self.const("b", normal(self.rng, dout, scale=0.05))) if bias else y

    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True):
        pad = k // 2 if pad is None else pad
        w = self.const("cw", normal(self.rng, cout, cin // group, k, k, scale=1.0 / math.sqrt(cin // group * k * k)))
        ins = [x, w] + ([self.const("cb", normal(self.rng, cout, scale=0.05))] if bias else [])
        return self.op("Conv", *ins, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group)

    def bn(self, x, c):
        p = _bn_params(self.rng, c)
        return self.op("BatchNormalization", x, *(self.const(k, v) for k, v in p.items()))

    def i64(self, *v):
        return self.const("i", np.array(v, np.int64))

    def scalar(self, v, dtype=np.float32):
        return self.const("s", np.array(v, dtype))


@case("mlp", ["Gemm", "Relu"], composite=True)
def _(rng):
    g = G(rng)
    h = g.op("Gemm", "x", g.w("W1", 32, 64), g.const("b1", normal(rng, 64, scale=0.1)))
    h = g.op("Relu", h)
    h = g.op("Gemm", h, g.w("W2", 10, 64, scale=0.125), g.const("b2", normal(rng, 10, scale=0.1)), transB=1)
    g.out("logits", h)
    g.out("probs", g.op("Softmax", h, axis=-1))
    feeds = {"x": normal(rng, 4, 32)}
    return g.model(feeds, ["logits", "probs"]), feeds


@case("mlp_matmul_gelu", ["MatMul", "Add", "Erf", "Mul", "Div"], composite=True)
def _(rng):
    g = G(rng)
    h = g.linear("x", 48, 96)
    e = g.op("Erf", g.op("Div", h, g.scalar(math.sqrt(2.0))))
    h = g.op("Mul", g.op("Mul", h, g.scalar(0.5)), g.op("Add", e, g.scalar(1.0)))
    g.out("y", g.linear(h, 96, 48))
    feeds = {"x": normal(rng, 2, 8, 48)}
    return g.model(feeds, ["y"]), feeds


@case("cnn_small", ["Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm"],
      composite=True)
def _(rng):
    g = G(rng)
    h = g.op("Relu", g.bn(g.conv("x", 3, 8, 3), 8))
    h = g.op("MaxPool", h, kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Relu", g.bn(g.conv(h, 8, 16, 3, bias=False), 16))
    h = g.op("MaxPool", h, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    h = g.op("Relu", g.bn(g.conv(h, 16, 32, 3, stride=2), 32))
    h = g.op("Flatten", g.op("GlobalAveragePool", h))
    g.out("logits", g.op("Gemm", h, g.w("fc", 10, 32, scale=0.2), g.const("fcb", normal(rng, 10, scale=0.1)), transB=1))
    feeds = {"x": normal(rng, 1, 3, 32, 32)}
    return g.model(feeds, ["logits"]), feeds


@case("mobilenet_block", ["Conv", "HardSwish", "HardSigmoid", "Clip", "ConvTranspose", "Resize", "AveragePool",
                          "Concat", "Flatten", "GlobalAveragePool", "Mul", "Add", "Relu"], composite=True)
def _(rng):
    g = G(rng)
    c = 8
    x = "x"
    h = g.op("HardSwish", g.bn(g.conv(x, c, 2 * c, 1), 2 * c))                           # expand
    h = g.op("Clip", g.conv(h, 2 * c, 2 * c, 3, group=2 * c), g.scalar(0.0), g.scalar(6.0))  # depthwise + ReLU6
    se = g.op("GlobalAveragePool", h)                                                      # squeeze-excite
    se = g.op("Relu", g.conv(se, 2 * c, 4, 1))
    se = g.op("HardSigmoid", g.conv(se, 4, 2 * c, 1), alpha=1.0 / 6.0, beta=0.5)
    h = g.op("Mul", h, se)
    h = g.op("Add", g.conv(h, 2 * c, c, 1), x)                                             # project + residual
    up1 = g.op("ConvTranspose", h, g.w("ctw", c, 4, 2, 2, scale=0.3), g.const("ctb", normal(rng, 4, scale=0.1)),
               strides=[2, 2])
    up2 = g.op("Resize", h, "", g.const("sc", np.array([1, 1, 2, 2], np.float32)), mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    cat = g.op("Concat", up1, up2, axis=1)                                                  # [1, 12, 32, 32]
    p = g.op("AveragePool", cat, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])  # [1, 12, 16, 16]
    r = g.op("Resize", p, "", "", g.const("sz", np.array([1, 12, 12, 12], np.int64)), mode="linear")
    g.out("features", r)
    g.out("flat", g.op("Flatten", g.op("GlobalAveragePool", r)))
    feeds = {"x": normal(rng, 1, c, 16, 16)}
    return g.model(feeds, ["features", "flat"]), feeds


def _layernorm(g: G, x, hdim, decomposed: bool, eps=1e-5):
    gamma = g.const("ln_g", f32(g.rng, hdim, lo=0.5, hi=1.5))
    beta = g.const("ln_b", normal(g.rng, hdim, scale=0.1))
    if not decomposed:
        return g.op("LayerNormalization", x, gamma, beta, axis=-1, epsilon=eps)
    mean = g.op("ReduceMean", x, axes=[-1], keepdims=1)
    d = g.op("Sub", x, mean)
    var = g.op("ReduceMean", g.op("Pow", d, g.scalar(2.0)), axes=[-1], keepdims=1)
    y = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps))))
    return g.op("Add", g.op("Mul", y, gamma), beta)


def _gelu_erf(g: G, x):
    e = g.op("Erf", g.op("Div", x, g.scalar(math.sqrt(2.0))))
    return g.op("Mul", g.op("Mul", x, g.op("Add", e, g.scalar(1.0))), g.scalar(0.5))


def bert_layer(rng, decomposed_ln: bool, seq=16, hidden=32, heads=4, ffn=64, symbolic=False):
    """HF-export-like BERT encoder layer: dynamic shape subgraphs, Where mask, Gelu via Erf."""
    g = G(rng)
    hd = hidden // heads
    x, am = "x", "attention_mask"
    # position embeddings sliced to the sequence length taken from Shape
    shp = g.op("Shape", x)
    b = g.op("Unsqueeze", g.op("Gather", shp, g.const("i0", np.array(0, np.int64)), axis=0), g.i64(0))
    s = g.op("Unsqueeze", g.op("Gather", shp, g.const("i1", np.array(1, np.int64)), axis=0), g.i64(0))
    pos = g.op("Slice", g.w("pos", 64, hidden, scale=0.1), g.i64(0), s, g.i64(0))
    h = _layernorm(g, g.op("Add", x, pos), hidden, decomposed_ln)
    # mask [B, S] int64 -> [B, 1, 1, S] bool, expanded to [B, heads, S, S]
    m = g.op("Cast", g.op("Unsqueeze", am, g.i64(1, 2)), to=TP.BOOL)
    m = g.op("Expand", m, g.op("Concat", b, g.i64(heads), s, s, axis=0))
    split_shape = g.op("Concat", b, s, g.i64(heads), g.i64(hd), axis=0)

    def heads_of(t, perm):
        return g.op("Transpose", g.op("Reshape", t, split_shape), perm=perm)

    q = heads_of(g.linear(h, hidden, hidden), [0, 2, 1, 3])
    k = heads_of(g.linear(h, hidden, hidden), [0, 2, 3, 1])
    v = heads_of(g.linear(h, hidden, hidden), [0, 2, 1, 3])
    sc = g.op("Div", g.op("MatMul", q, k), g.scalar(math.sqrt(hd)))
    sc = g.op("Where", m, sc, g.scalar(-1e9))
    p = g.op("Softmax", sc, axis=-1)
    ctx = g.op("Transpose", g.op("MatMul", p, v), perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", ctx, g.op("Concat", b, s, g.i64(hidden), axis=0))
    h = _layernorm(g, g.op("Add", g.linear(ctx, hidden, hidden), h), hidden, decomposed_ln)
    f = g.linear(_gelu_erf(g, g.linear(h, hidden, ffn)), ffn, hidden)
    out = _layernorm(g, g.op("Add", f, h), hidden, decomposed_ln)
    g.out("hidden", out)
    cls = g.op("Squeeze", g.op("Slice", out, g.i64(0), g.i64(1), g.i64(1)), g.i64(1))
    g.out("pooled", g.op("Tanh", g.linear(cls, hidden, hidden)))
    mask = np.ones((1, seq), np.int64)
    mask[0, seq - int(rng.integers(1, seq // 2)):] = 0
    feeds = {"x": normal(rng, 1, seq, hidden), "attention_mask": mask}
    shapes = {"x": ["batch", "seq", hidden], "attention_mask": ["batch", "seq"]} if symbolic else None
    return g.model(feeds, ["hidden", "pooled"], input_shapes=shapes), feeds


BERT_OPS = ["LayerNormalization", "Reshape", "Transpose", "MatMul", "Softmax", "Where", "Cast", "Unsqueeze",
            "Squeeze", "Slice", "Expand", "Shape", "Gather", "Concat", "Erf", "Tanh"]
register("bert_layer", BERT_OPS, lambda rng: bert_layer(rng, False), composite=True)
register("bert_layer_decomposed_ln", BERT_OPS[1:] + ["ReduceMean", "Sub", "Pow", "Sqrt", "Div"],
         lambda rng: bert_layer(rng, True), composite=True)


def llama_layer(rng, seq=16, hidden=64, heads=4, inter=128, symbolic=False):
    g = G(rng)
    hd = hidden // heads
    x = "x"

    def rmsnorm(t):
        ms = g.op("ReduceMean", g.op("Pow", t, g.scalar(2.0)), axes=[-1], keepdims=1)
        inv = g.op("Reciprocal", g.op("Sqrt", g.op("Add", ms, g.scalar(1e-6))))
        return g.op("Mul", g.op("Mul", t, inv), g.const("rms_w", f32(rng, hidden, lo=0.5, hi=1.5)))

    shp = g.op("Shape", x)
    s_scalar = g.op("Gather", shp, g.const("i1", np.array(1, np.int64)), axis=0)
    s = g.op("Unsqueeze", s_scalar, g.i64(0))
    # rotary tables from positions = Range(0, S)
    pos = g.op("Range", g.const("z", np.array(0, np.int64)), s_scalar, g.const("o", np.array(1, np.int64)))
    posf = g.op("Cast", g.op("Unsqueeze", pos, g.i64(1)), to=TP.FLOAT)                   # [S, 1]
    inv_freq = (1.0 / (10000.0 ** (np.arange(0, hd, 2, dtype=np.float64) / hd))).astype(np.float32)
    freqs = g.op("Mul", posf, g.const("inv_freq", inv_freq[None, :]))                    # [S, hd/2]
    emb = g.op("Concat", freqs, freqs, axis=-1)                                           # [S, hd]
    cos, sin = g.op("Cos", emb), g.op("Sin", emb)
    # causal mask two ways (Trilu/Equal and Range/Less), combined with Or -> [S, S] bool "masked"
    ones = g.op("ConstantOfShape", g.op("Concat", s, s, axis=0), value=nh.from_array(np.array([1.0], np.float32)))
    m1 = g.op("Equal", g.op("Trilu", ones, upper=0), g.scalar(0.0))
    m2 = g.op("Less", g.op("Unsqueeze", pos, g.i64(1)), g.op("Unsqueeze", pos, g.i64(0)))
    masked = g.op("Or", m1, m2)
    bias = g.op("Where", masked, g.scalar(-1e9), g.scalar(0.0))                          # [S, S]

    h = rmsnorm(x)
    split = g.op("Concat", g.i64(1), s, g.i64(heads), g.i64(hd), axis=0)

    def proj_heads(t):
        return g.op("Transpose", g.op("Reshape", g.linear(t, hidden, hidden, bias=False), split), perm=[0, 2, 1, 3])

    def rope(t):
        lo = g.op("Slice", t, g.i64(0), g.i64(hd // 2), g.i64(-1))
        hi = g.op("Slice", t, g.i64(hd // 2), g.i64(hd), g.i64(-1))
        rot = g.op("Concat", g.op("Neg", hi), lo, axis=-1)
        return g.op("Add", g.op("Mul", t, cos), g.op("Mul", rot, sin))

    q, k, v = rope(proj_heads(h)), rope(proj_heads(h)), proj_heads(h)
    sc = g.op("Mul", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2])), g.scalar(1.0 / math.sqrt(hd)))
    p = g.op("Softmax", g.op("Add", sc, bias), axis=-1)
    ctx = g.op("Reshape", g.op("Transpose", g.op("MatMul", p, v), perm=[0, 2, 1, 3]),
               g.op("Concat", g.i64(1), s, g.i64(hidden), axis=0))
    h1 = g.op("Add", x, g.linear(ctx, hidden, hidden, bias=False))
    t = rmsnorm(h1)
    gate = g.linear(t, hidden, inter, bias=False)
    up = g.linear(t, hidden, inter, bias=False)
    act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up)
    g.out("y", g.op("Add", h1, g.linear(act, inter, hidden, bias=False)))
    feeds = {"x": normal(rng, 1, seq, hidden)}
    shapes = {"x": [1, "seq", hidden]} if symbolic else None
    return g.model(feeds, ["y"], input_shapes=shapes), feeds


register("llama_layer", ["Pow", "ReduceMean", "Add", "Sqrt", "Reciprocal", "Mul", "Sin", "Cos", "Slice", "Neg",
                         "Concat", "Sigmoid", "Trilu", "Where", "Range", "Less", "Equal", "Or", "ConstantOfShape",
                         "MatMul", "Softmax", "Reshape", "Transpose", "Cast", "Unsqueeze", "Shape", "Gather"],
         llama_layer, composite=True)


# ----------------------------------------------------------------------------- dynamic dims
# Models with symbolic dims, compiled with -input-shape=NAME:DIMS (the feeds have those dims).
@case("dynamic_batch_mlp", ["MatMul", "Add", "Relu"], qcc_args=("-input-shape=x:1x16",))
def _(rng):
    g = G(rng)
    g.out("y", g.op("Relu", g.linear("x", 16, 8)))
    feeds = {"x": normal(rng, 1, 16)}
    return g.model(feeds, ["y"], input_shapes={"x": ["batch", 16]}), feeds


register("dynamic_bert_layer", BERT_OPS, lambda rng: bert_layer(rng, False, symbolic=True), composite=True,
         qcc_args=("-input-shape=x:1x16x32", "-input-shape=attention_mask:1x16"))
register("dynamic_llama_layer", ["Range", "Trilu"], lambda rng: llama_layer(rng, symbolic=True), composite=True,
         qcc_args=("-input-shape=x:1x16x64",))
