"""Small ONNX model generators for qcc's end-to-end tests (onnx.helper + numpy only).

Every entry of CASES is a Case whose build(rng) returns (onnx.ModelProto, {input name: array}).
Weights and inputs come from the generator passed in, so a case is reproducible from a seed and
fresh for every new seed. Models use opset 17 (IR version 8) unless the op needs a newer one
(Gelu: opset 20, IR 9).

  python test/E2E/models.py --list            # names
  python test/E2E/models.py --check           # onnx.checker + onnxruntime on every case
  python test/E2E/models.py --save DIR [-k S] # write DIR/<name>.onnx (+ inputs .npy)
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as oh
from onnx import numpy_helper as nh

DEFAULT_OPSET = 17
IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}

Feeds = dict  # name -> np.ndarray
Builder = Callable[[np.random.Generator], "tuple[onnx.ModelProto, Feeds]"]


@dataclass
class Case:
    name: str
    build: Builder
    ops: tuple[str, ...]               # op types this case is meant to cover
    qcc_args: tuple[str, ...] = ()     # extra compiler flags (e.g. -input-shape=...)
    tol: float = 1e-5                  # relative L2 tolerance for float outputs
    composite: bool = False


CASES: dict[str, Case] = {}


def register(name: str, ops, build: Builder, **kw) -> None:
    assert name not in CASES, name
    CASES[name] = Case(name, build, tuple(ops), **kw)


def case(name: str, ops, **kw):
    def deco(fn):
        register(name, ops, fn, **kw)
        return fn
    return deco


# ----------------------------------------------------------------------------- helpers
def np2tp(dtype) -> int:
    return oh.np_dtype_to_tensor_dtype(np.dtype(dtype))


def vi(name: str, dtype, shape) -> onnx.ValueInfoProto:
    return oh.make_tensor_value_info(name, np2tp(dtype), shape)


def init(name: str, arr) -> onnx.TensorProto:
    return nh.from_array(np.asarray(arr), name)


def make_model(nodes, feeds: Feeds, outputs, inits=None, opset: int = DEFAULT_OPSET, name="m",
               input_shapes: dict | None = None, out_types: dict | None = None) -> onnx.ModelProto:
    """Graph inputs come from `feeds` (dtype/shape of the arrays, or input_shapes[name] for
    symbolic dims); `outputs` are names (type/shape inferred) ; `inits` {name: array}."""
    input_shapes = input_shapes or {}
    ins = [vi(n, a.dtype, input_shapes.get(n, list(a.shape))) for n, a in feeds.items()]
    outs = [oh.make_tensor_value_info(o, (out_types or {}).get(o, TP.UNDEFINED), None) for o in outputs]
    g = oh.make_graph(nodes, name, ins, outs, initializer=[init(k, v) for k, v in (inits or {}).items()])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", opset)], producer_name="qcc-e2e")
    m.ir_version = IR_FOR_OPSET.get(opset, 8)
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    # keep the graph free of intermediate value_info (importers must infer themselves)
    del m.graph.value_info[:]
    onnx.checker.check_model(m, full_check=True)
    return m


def single(op: str, feeds: Feeds, inits=None, attrs=None, inputs=None, n_out: int = 1,
           opset: int = DEFAULT_OPSET, **kw):
    """One-node model. `inputs` lists the node's inputs (default: feeds then inits, in order)."""
    inits = inits or {}
    inputs = inputs if inputs is not None else [*feeds, *inits]
    outs = [f"y{i}" if n_out > 1 else "y" for i in range(n_out)]
    node = oh.make_node(op, inputs, outs, name=f"{op.lower()}_0", **(attrs or {}))
    return make_model([node], feeds, outs, inits, opset=opset, **kw), feeds


def f32(rng, *shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def normal(rng, *shape, scale=1.0):
    return (rng.standard_normal(size=shape) * scale).astype(np.float32)


def away_from_zero(rng, *shape, lo=0.5, hi=2.0):
    mag = rng.uniform(lo, hi, size=shape)
    return (mag * rng.choice([-1.0, 1.0], size=shape)).astype(np.float32)


def small_ints_f32(rng, *shape, lo=-3, hi=4):
    """Floats from a small set so that comparisons see ties."""
    return rng.integers(lo, hi, size=shape).astype(np.float32)


def i64(*vals):
    return np.array(vals, dtype=np.int64)


# ============================================================================ elementwise
BIN_SHAPES = {
    "": ((2, 3, 4), (2, 3, 4)),
    "_bcast": ((2, 3, 4), (4,)),
    "_bcast2": ((2, 1, 4), (3, 1)),
}

for op in ["Add", "Sub", "Mul", "Div"]:
    for suffix, (sa, sb) in BIN_SHAPES.items():
        def _b(rng, op=op, sa=sa, sb=sb):
            a = normal(rng, *sa)
            b = away_from_zero(rng, *sb) if op == "Div" else normal(rng, *sb)
            return single(op, {"a": a, "b": b})
        register(f"{op.lower()}{suffix}", [op], _b)

    def _bc(rng, op=op):  # second operand a constant initializer (typical of real models)
        a = normal(rng, 2, 8)
        return single(op, {"a": a}, {"c": away_from_zero(rng, 8)})
    register(f"{op.lower()}_const", [op], _bc)


@case("add_int64", ["Add"])
def _(rng):
    return single("Add", {"a": rng.integers(-100, 100, (3, 4)), "b": rng.integers(-100, 100, (4,))})


@case("mul_int32", ["Mul"])
def _(rng):
    return single("Mul", {"a": rng.integers(-50, 50, (3, 4)).astype(np.int32),
                          "b": rng.integers(-50, 50, (3, 4)).astype(np.int32)})


@case("div_int64", ["Div"])
def _(rng):
    return single("Div", {"a": rng.integers(0, 1000, (3, 4)), "b": rng.integers(1, 20, (3, 4))})


@case("sub_scalar", ["Sub"])
def _(rng):
    return single("Sub", {"a": normal(rng, 3, 5)}, {"s": np.array(1.5, np.float32)})


@case("pow", ["Pow"])
def _(rng):
    return single("Pow", {"a": f32(rng, 3, 4, lo=0.1, hi=3.0), "b": f32(rng, 3, 4, lo=-2, hi=2)})


@case("pow_const2", ["Pow"])
def _(rng):
    return single("Pow", {"a": normal(rng, 2, 3, 8)}, {"e": np.array(2.0, np.float32)})


@case("pow_const_half", ["Pow"])
def _(rng):
    return single("Pow", {"a": f32(rng, 4, 8, lo=0.0, hi=4.0)}, {"e": np.array(0.5, np.float32)})


UNARY = {
    # name: (op, input generator, attrs, opset)
    "neg": ("Neg", lambda r: normal(r, 2, 3, 4), {}, 17),
    "abs": ("Abs", lambda r: normal(r, 2, 3, 4), {}, 17),
    "sqrt": ("Sqrt", lambda r: f32(r, 2, 3, 4, lo=0.0, hi=10.0), {}, 17),
    "exp": ("Exp", lambda r: f32(r, 2, 3, 4, lo=-5, hi=5), {}, 17),
    "log": ("Log", lambda r: f32(r, 2, 3, 4, lo=0.01, hi=10), {}, 17),
    "reciprocal": ("Reciprocal", lambda r: away_from_zero(r, 2, 3, 4), {}, 17),
    "relu": ("Relu", lambda r: normal(r, 2, 3, 4), {}, 17),
    "leakyrelu": ("LeakyRelu", lambda r: normal(r, 2, 3, 4), {"alpha": 0.1}, 17),
    "sigmoid": ("Sigmoid", lambda r: normal(r, 2, 3, 4, scale=4), {}, 17),
    "tanh": ("Tanh", lambda r: normal(r, 2, 3, 4, scale=2), {}, 17),
    "erf": ("Erf", lambda r: normal(r, 2, 3, 4, scale=2), {}, 17),
    "gelu": ("Gelu", lambda r: normal(r, 2, 3, 16, scale=2), {}, 20),
    "gelu_tanh": ("Gelu", lambda r: normal(r, 2, 3, 16, scale=2), {"approximate": "tanh"}, 20),
    "hardsigmoid": ("HardSigmoid", lambda r: normal(r, 2, 3, 4, scale=4), {}, 17),
    "hardsigmoid_attrs": ("HardSigmoid", lambda r: normal(r, 2, 3, 4, scale=4),
                          {"alpha": 1.0 / 6.0, "beta": 0.5}, 17),
    "hardswish": ("HardSwish", lambda r: normal(r, 2, 3, 4, scale=4), {}, 17),
    "sin": ("Sin", lambda r: normal(r, 2, 3, 4, scale=3), {}, 17),
    "cos": ("Cos", lambda r: normal(r, 2, 3, 4, scale=3), {}, 17),
    "floor": ("Floor", lambda r: normal(r, 2, 3, 4, scale=3), {}, 17),
    "ceil": ("Ceil", lambda r: normal(r, 2, 3, 4, scale=3), {}, 17),
    "identity": ("Identity", lambda r: normal(r, 2, 3, 4), {}, 17),
    "dropout": ("Dropout", lambda r: normal(r, 2, 3, 4), {}, 17),
    "neg_int64": ("Neg", lambda r: r.integers(-100, 100, (3, 4)), {}, 17),
    "abs_int32": ("Abs", lambda r: r.integers(-100, 100, (3, 4)).astype(np.int32), {}, 17),
    "relu_4d": ("Relu", lambda r: normal(r, 1, 8, 5, 5), {}, 17),
}
for _name, (_op, _gen, _attrs, _opset) in UNARY.items():
    def _u(rng, op=_op, gen=_gen, attrs=_attrs, opset=_opset):
        return single(op, {"x": gen(rng)}, attrs=attrs, opset=opset)
    register(_name, [_op], _u)


@case("clip", ["Clip"])
def _(rng):
    return single("Clip", {"x": normal(rng, 2, 3, 4, scale=4)},
                  {"lo": np.array(-1.0, np.float32), "hi": np.array(2.5, np.float32)})


@case("clip_relu6", ["Clip"])
def _(rng):
    return single("Clip", {"x": normal(rng, 1, 4, 3, 3, scale=5)},
                  {"lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)})


@case("clip_min_only", ["Clip"])
def _(rng):
    return single("Clip", {"x": normal(rng, 3, 4)}, {"lo": np.array(0.25, np.float32)})


@case("clip_max_only", ["Clip"])
def _(rng):
    node = oh.make_node("Clip", ["x", "", "hi"], ["y"], name="clip_0")
    feeds = {"x": normal(rng, 3, 4)}
    return make_model([node], feeds, ["y"], {"hi": np.array(0.3, np.float32)}), feeds


# ============================================================================ logic / compare
for _op in ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]:
    def _c(rng, op=_op):
        return single(op, {"a": small_ints_f32(rng, 3, 4), "b": small_ints_f32(rng, 4)})
    register(_op.lower(), [_op], _c)

    def _ci(rng, op=_op):
        return single(op, {"a": rng.integers(-3, 4, (2, 5)), "b": rng.integers(-3, 4, (2, 5))})
    register(_op.lower() + "_int64", [_op], _ci)


@case("not", ["Not"])
def _(rng):
    return single("Not", {"x": rng.random((3, 4)) > 0.5})


@case("and", ["And"])
def _(rng):
    return single("And", {"a": rng.random((3, 4)) > 0.5, "b": rng.random((4,)) > 0.5})


@case("or", ["Or"])
def _(rng):
    return single("Or", {"a": rng.random((3, 4)) > 0.5, "b": rng.random((3, 4)) > 0.5})


@case("where", ["Where"])
def _(rng):
    return single("Where", {"c": rng.random((3, 4)) > 0.5, "a": normal(rng, 3, 4), "b": normal(rng, 4)})


@case("where_bcast_scalar", ["Where"])
def _(rng):
    return single("Where", {"c": rng.random((2, 1, 4)) > 0.5, "a": normal(rng, 2, 3, 4)},
                  {"neg": np.array(-1e9, np.float32)})


@case("where_int64", ["Where"])
def _(rng):
    return single("Where", {"c": rng.random((5,)) > 0.5, "a": rng.integers(0, 9, (5,)),
                            "b": rng.integers(-9, 0, (5,))})


# ============================================================================ Cast
CASTS = {
    "cast_f32_to_i64": (lambda r: normal(r, 3, 4, scale=10), TP.INT64),
    "cast_f32_to_i32": (lambda r: normal(r, 3, 4, scale=10), TP.INT32),
    "cast_i64_to_f32": (lambda r: r.integers(-1000, 1000, (3, 4)), TP.FLOAT),
    "cast_i32_to_i64": (lambda r: r.integers(-1000, 1000, (3, 4)).astype(np.int32), TP.INT64),
    "cast_bool_to_f32": (lambda r: r.random((3, 4)) > 0.5, TP.FLOAT),
    "cast_f32_to_bool": (lambda r: small_ints_f32(r, 3, 4, lo=-1, hi=2), TP.BOOL),
    "cast_i64_to_bool": (lambda r: r.integers(-1, 2, (3, 4)), TP.BOOL),
    "cast_f32_to_f64": (lambda r: normal(r, 3, 4), TP.DOUBLE),
    "cast_f32_to_f16": (lambda r: normal(r, 3, 4), TP.FLOAT16),
}
for _name, (_gen, _to) in CASTS.items():
    def _cast(rng, gen=_gen, to=_to):
        return single("Cast", {"x": gen(rng)}, attrs={"to": to})
    register(_name, ["Cast"], _cast)


@case("cast_f16_roundtrip", ["Cast"])
def _(rng):
    nodes = [oh.make_node("Cast", ["x"], ["h"], to=TP.FLOAT16, name="to_f16"),
             oh.make_node("Cast", ["h"], ["y"], to=TP.FLOAT, name="to_f32")]
    feeds = {"x": normal(rng, 4, 8)}
    return make_model(nodes, feeds, ["y"]), feeds


# ============================================================================ variadic
@case("min", ["Min"])
def _(rng):
    return single("Min", {"a": normal(rng, 2, 3, 4), "b": normal(rng, 3, 4), "c": normal(rng, 4)})


@case("max", ["Max"])
def _(rng):
    return single("Max", {"a": normal(rng, 2, 3, 4), "b": normal(rng, 2, 1, 4)})


@case("max_int64", ["Max"])
def _(rng):
    return single("Max", {"a": rng.integers(-9, 9, (3, 4)), "b": rng.integers(-9, 9, (3, 4))})


@case("sum", ["Sum"])
def _(rng):
    return single("Sum", {"a": normal(rng, 2, 3, 4), "b": normal(rng, 3, 4), "c": normal(rng, 1, 4)})


@case("sum_one", ["Sum"])
def _(rng):
    return single("Sum", {"a": normal(rng, 3, 4)})


# ============================================================================ MatMul / Gemm
@case("matmul_2d_const", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 8, 16)}, {"w": normal(rng, 16, 12, scale=0.25)})


@case("matmul_2d", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 7, 33), "b": normal(rng, 33, 5)})


@case("matmul_batched", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 2, 3, 8, 16), "b": normal(rng, 2, 3, 16, 4)})


@case("matmul_bcast_batch", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 2, 1, 8, 16), "b": normal(rng, 3, 16, 4)})


@case("matmul_3d_const", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 2, 10, 32)}, {"w": normal(rng, 32, 24, scale=0.2)})


@case("matmul_vec_left", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 16), "b": normal(rng, 16, 4)})


@case("matmul_vec_right", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 3, 8, 16), "b": normal(rng, 16)})


@case("matmul_large", ["MatMul"])
def _(rng):
    return single("MatMul", {"a": normal(rng, 64, 256)}, {"w": normal(rng, 256, 96, scale=0.1)})


GEMMS = {
    # name: (A shape, B shape, C shape or None, attrs)
    "gemm": ((4, 8), (8, 6), (6,), {}),
    "gemm_transB": ((4, 8), (6, 8), (6,), {"transB": 1}),
    "gemm_transA": ((8, 4), (8, 6), (1, 6), {"transA": 1}),
    "gemm_transA_transB_alpha_beta": ((8, 4), (6, 8), (4, 6), {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0}),
    "gemm_bias_col": ((4, 8), (8, 6), (4, 1), {"beta": 0.75}),
    "gemm_bias_scalar": ((4, 8), (8, 6), (), {}),
    "gemm_no_bias": ((4, 8), (8, 6), None, {"alpha": 2.0}),
}
for _name, (_sa, _sb, _sc, _attrs) in GEMMS.items():
    def _g(rng, sa=_sa, sb=_sb, sc=_sc, attrs=_attrs):
        inits = {"B": normal(rng, *sb, scale=0.3)}
        if sc is not None:
            inits["C"] = normal(rng, *sc)
        return single("Gemm", {"A": normal(rng, *sa)}, inits, attrs=attrs)
    register(_name, ["Gemm"], _g)


@case("gemm_all_inputs", ["Gemm"])
def _(rng):
    return single("Gemm", {"A": normal(rng, 5, 7), "B": normal(rng, 6, 7), "C": normal(rng, 5, 6)},
                  attrs={"transB": 1, "alpha": 1.5, "beta": 0.5})


# ============================================================================ Conv family
def _conv(rng, x_shape, w_shape, bias=True, **attrs):
    inits = {"w": normal(rng, *w_shape, scale=1.0 / math.sqrt(np.prod(w_shape[1:])))}
    if bias:
        inits["b"] = normal(rng, w_shape[0], scale=0.1)
    return single("Conv", {"x": normal(rng, *x_shape)}, inits, attrs=attrs)


CONVS = {
    "conv": ((1, 3, 8, 8), (4, 3, 3, 3), True, {"pads": [1, 1, 1, 1]}),
    "conv_nopad_nobias": ((1, 3, 7, 9), (5, 3, 3, 3), False, {}),
    "conv_stride2": ((1, 4, 9, 9), (6, 4, 3, 3), True, {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "conv_dilation2": ((1, 3, 10, 10), (4, 3, 3, 3), True, {"dilations": [2, 2], "pads": [2, 2, 2, 2]}),
    "conv_group2": ((1, 4, 6, 6), (6, 2, 3, 3), True, {"group": 2, "pads": [1, 1, 1, 1]}),
    "conv_depthwise": ((1, 8, 7, 7), (8, 1, 3, 3), True, {"group": 8, "pads": [1, 1, 1, 1]}),
    "conv_depthwise_stride2": ((1, 6, 8, 8), (6, 1, 3, 3), True, {"group": 6, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "conv_asym_pads": ((1, 2, 6, 5), (3, 2, 2, 3), True, {"pads": [0, 1, 1, 0]}),
    "conv_1x1": ((2, 16, 5, 5), (8, 16, 1, 1), True, {}),
    "conv_5x5_stride2": ((1, 3, 16, 16), (8, 3, 5, 5), True, {"strides": [2, 2], "pads": [2, 2, 2, 2]}),
    "conv_same_upper": ((1, 3, 8, 8), (4, 3, 3, 3), True, {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
}
for _name, (_xs, _ws, _b, _attrs) in CONVS.items():
    register(_name, ["Conv"], lambda rng, xs=_xs, ws=_ws, b=_b, a=_attrs: _conv(rng, xs, ws, b, **a))


CONVTS = {
    "convtranspose": ((1, 4, 5, 5), (4, 3, 3, 3), True, {}),
    "convtranspose_stride2": ((1, 4, 5, 5), (4, 2, 3, 3), True,
                              {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    "convtranspose_k2s2": ((1, 8, 4, 4), (8, 4, 2, 2), False, {"strides": [2, 2]}),
    "convtranspose_group2": ((1, 4, 3, 3), (4, 3, 3, 3), True, {"group": 2, "strides": [2, 2]}),
}
for _name, (_xs, _ws, _b, _attrs) in CONVTS.items():
    def _ct(rng, xs=_xs, ws=_ws, b=_b, attrs=_attrs):
        group = attrs.get("group", 1)
        inits = {"w": normal(rng, *ws, scale=0.3)}
        if b:
            inits["b"] = normal(rng, ws[1] * group, scale=0.1)
        return single("ConvTranspose", {"x": normal(rng, *xs)}, inits, attrs=attrs)
    register(_name, ["ConvTranspose"], _ct)


def _bn_params(rng, c):
    return {"scale": f32(rng, c, lo=0.5, hi=1.5), "bias": normal(rng, c, scale=0.1),
            "mean": normal(rng, c, scale=0.1), "var": f32(rng, c, lo=0.5, hi=2.0)}


@case("batchnorm", ["BatchNormalization"])
def _(rng):
    return single("BatchNormalization", {"x": normal(rng, 2, 4, 5, 5)}, _bn_params(rng, 4))


@case("batchnorm_eps", ["BatchNormalization"])
def _(rng):
    return single("BatchNormalization", {"x": normal(rng, 1, 3, 4, 6)}, _bn_params(rng, 3),
                  attrs={"epsilon": 1e-3})


POOLS = {
    "maxpool_2x2": ("MaxPool", (1, 3, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    "maxpool_3x3_s2_p1": ("MaxPool", (1, 4, 9, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "maxpool_ceil": ("MaxPool", (1, 2, 7, 7), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    "maxpool_3x3_s1": ("MaxPool", (2, 3, 6, 6), {"kernel_shape": [3, 3]}),
    "avgpool_2x2": ("AveragePool", (1, 3, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    "avgpool_3x3_pad_exclude": ("AveragePool", (1, 2, 7, 7), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "avgpool_3x3_pad_include": ("AveragePool", (1, 2, 7, 7), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                                                             "count_include_pad": 1}),
    "globalaveragepool": ("GlobalAveragePool", (2, 5, 6, 7), {}),
}
for _name, (_op, _xs, _attrs) in POOLS.items():
    register(_name, [_op], lambda rng, op=_op, xs=_xs, a=_attrs: single(op, {"x": normal(rng, *xs)}, attrs=a))


def _resize(rng, x_shape, scales=None, sizes=None, **attrs):
    inits = {}
    inputs = ["x", ""]
    if scales is not None:
        inits["scales"] = np.array(scales, np.float32)
        inputs.append("scales")
    else:
        inputs += ["", "sizes"]
        inits["sizes"] = np.array(sizes, np.int64)
    return single("Resize", {"x": normal(rng, *x_shape)}, inits, attrs=attrs, inputs=inputs)


RESIZES = {
    "resize_nearest_x2": ((1, 3, 4, 5), [1, 1, 2, 2], None,
                          {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
    "resize_nearest_sizes": ((1, 2, 4, 4), None, [1, 2, 7, 9], {"mode": "nearest"}),
    "resize_linear_x2": ((1, 3, 4, 5), [1, 1, 2, 2], None, {"mode": "linear"}),
    "resize_linear_align_corners": ((1, 2, 5, 4), None, [1, 2, 8, 7],
                                    {"mode": "linear", "coordinate_transformation_mode": "align_corners"}),
    "resize_linear_down": ((1, 2, 8, 8), None, [1, 2, 5, 3], {"mode": "linear"}),
}
for _name, (_xs, _sc, _sz, _attrs) in RESIZES.items():
    register(_name, ["Resize"], lambda rng, xs=_xs, sc=_sc, sz=_sz, a=_attrs: _resize(rng, xs, sc, sz, **a))


# ============================================================================ shape ops
@case("flatten", ["Flatten"])
def _(rng):
    return single("Flatten", {"x": normal(rng, 2, 3, 4, 5)})


@case("flatten_axis2", ["Flatten"])
def _(rng):
    return single("Flatten", {"x": normal(rng, 2, 3, 4, 5)}, attrs={"axis": 2})


@case("flatten_axis0", ["Flatten"])
def _(rng):
    return single("Flatten", {"x": normal(rng, 2, 3, 4)}, attrs={"axis": 0})


@case("concat", ["Concat"])
def _(rng):
    return single("Concat", {"a": normal(rng, 2, 3, 4), "b": normal(rng, 2, 1, 4), "c": normal(rng, 2, 5, 4)},
                  attrs={"axis": 1})


@case("concat_last_const", ["Concat"])
def _(rng):
    return single("Concat", {"a": normal(rng, 3, 4)}, {"k": normal(rng, 3, 2)}, attrs={"axis": -1})


@case("concat_int64", ["Concat"])
def _(rng):
    return single("Concat", {"a": rng.integers(0, 9, (2,)), "b": rng.integers(0, 9, (3,))}, attrs={"axis": 0})


@case("reshape", ["Reshape"])
def _(rng):
    return single("Reshape", {"x": normal(rng, 2, 3, 4)}, {"s": i64(6, 4)})


@case("reshape_zero_neg1", ["Reshape"])
def _(rng):
    return single("Reshape", {"x": normal(rng, 2, 3, 4)}, {"s": i64(0, -1)})


@case("reshape_4d", ["Reshape"])
def _(rng):
    return single("Reshape", {"x": normal(rng, 1, 16, 32)}, {"s": i64(1, 16, 4, 8)})


@case("transpose", ["Transpose"])
def _(rng):
    return single("Transpose", {"x": normal(rng, 2, 3, 4)})


@case("transpose_0213", ["Transpose"])
def _(rng):
    return single("Transpose", {"x": normal(rng, 2, 3, 4, 5)}, attrs={"perm": [0, 2, 1, 3]})


@case("transpose_0231", ["Transpose"])
def _(rng):
    return single("Transpose", {"x": normal(rng, 1, 3, 4, 5)}, attrs={"perm": [0, 2, 3, 1]})


@case("softmax", ["Softmax"])
def _(rng):
    return single("Softmax", {"x": normal(rng, 2, 3, 10, scale=3)})


@case("softmax_axis1", ["Softmax"])
def _(rng):
    return single("Softmax", {"x": normal(rng, 2, 5, 3, 4)}, attrs={"axis": 1})


@case("softmax_large", ["Softmax"])
def _(rng):
    return single("Softmax", {"x": f32(rng, 4, 64, lo=-60, hi=60)}, attrs={"axis": -1})


@case("layernorm", ["LayerNormalization"])
def _(rng):
    return single("LayerNormalization", {"x": normal(rng, 2, 5, 16, scale=2)},
                  {"g": f32(rng, 16, lo=0.5, hi=1.5), "b": normal(rng, 16, scale=0.1)}, attrs={"axis": -1})


@case("layernorm_no_bias_eps", ["LayerNormalization"])
def _(rng):
    return single("LayerNormalization", {"x": normal(rng, 3, 32)}, {"g": f32(rng, 32, lo=0.5, hi=1.5)},
                  attrs={"epsilon": 1e-3})


@case("layernorm_axis_neg2", ["LayerNormalization"])
def _(rng):
    return single("LayerNormalization", {"x": normal(rng, 2, 4, 6)},
                  {"g": f32(rng, 4, 6, lo=0.5, hi=1.5), "b": normal(rng, 4, 6)}, attrs={"axis": -2})


REDUCES = {
    # name: (op, x shape, axes or None, keepdims)
    "reducemean": ("ReduceMean", (2, 3, 4), [-1], 1),
    "reducemean_multi": ("ReduceMean", (2, 3, 4, 5), [2, 3], 0),
    "reducemean_all": ("ReduceMean", (3, 4), None, 1),
    "reducesum": ("ReduceSum", (2, 3, 4), [1], 0),
    "reducesum_keep": ("ReduceSum", (2, 3, 4), [0, 2], 1),
    "reducesum_all": ("ReduceSum", (3, 5), None, 0),
    "reducemax": ("ReduceMax", (2, 3, 4), [-1], 1),
    "reducemax_all": ("ReduceMax", (4, 5), None, 0),
    "reducemin": ("ReduceMin", (2, 3, 4), [1], 0),
}
for _name, (_op, _xs, _axes, _kd) in REDUCES.items():
    def _r(rng, op=_op, xs=_xs, axes=_axes, kd=_kd):
        if op == "ReduceSum":  # axes is an input since opset 13
            # Shifted by 1: a sum of zero-mean values can cancel to near 0, where the relative
            # error measures the summation order (seed 686525427: 0.01978683 vs 0.01978713).
            inits = {"axes": np.array(axes, np.int64)} if axes is not None else {}
            return single(op, {"x": normal(rng, *xs) + np.float32(1)}, inits, attrs={"keepdims": kd})
        attrs = {"keepdims": kd}
        if axes is not None:
            attrs["axes"] = axes
        return single(op, {"x": normal(rng, *xs)}, attrs=attrs)
    register(_name, [_op], _r)


@case("reducesum_int64", ["ReduceSum"])
def _(rng):
    return single("ReduceSum", {"x": rng.integers(-50, 50, (3, 4))}, {"axes": i64(1)}, attrs={"keepdims": 0})


@case("gather_embedding", ["Gather"])
def _(rng):
    return single("Gather", {"ids": rng.integers(0, 10, (2, 3))}, {"table": normal(rng, 10, 4)},
                  inputs=["table", "ids"])


@case("gather_axis1", ["Gather"])
def _(rng):
    return single("Gather", {"x": normal(rng, 3, 5, 4), "i": rng.integers(0, 5, (2,))}, attrs={"axis": 1})


@case("gather_scalar_index", ["Gather"])
def _(rng):
    return single("Gather", {"x": normal(rng, 3, 5, 4)}, {"i": np.array(2, np.int64)}, attrs={"axis": 1})


@case("gather_negative_index", ["Gather"])
def _(rng):
    return single("Gather", {"x": normal(rng, 6, 3)}, {"i": i64(-1, 0, -6, 2)})


@case("gather_int32_index", ["Gather"])
def _(rng):
    return single("Gather", {"x": normal(rng, 6, 3), "i": rng.integers(0, 6, (4,)).astype(np.int32)})


@case("unsqueeze", ["Unsqueeze"])
def _(rng):
    return single("Unsqueeze", {"x": normal(rng, 3, 4)}, {"axes": i64(0, 3)})


@case("unsqueeze_neg", ["Unsqueeze"])
def _(rng):
    return single("Unsqueeze", {"x": normal(rng, 3, 4)}, {"axes": i64(-1)})


@case("squeeze", ["Squeeze"])
def _(rng):
    return single("Squeeze", {"x": normal(rng, 3, 1, 4, 1)}, {"axes": i64(1)})


@case("squeeze_all", ["Squeeze"])
def _(rng):
    return single("Squeeze", {"x": normal(rng, 1, 3, 1, 4)})


SLICES = {
    # name: (x shape, starts, ends, axes, steps)
    "slice": ((5, 6), [1, 0], [3, 4], [0, 1], None),
    "slice_steps": ((8, 6), [0, 1], [8, 6], [0, 1], [2, 2]),
    "slice_negative": ((5, 6), [-1], [-6], [1], [-1]),
    "slice_neg_start": ((4, 10), [-3], [10000], [1], None),
    "slice_int_max_end": ((2, 7, 3), [2], [np.iinfo(np.int64).max], [1], None),
    "slice_no_axes": ((4, 5), [1, 2], [3, 5], None, None),
    "slice_3d_middle": ((2, 9, 4), [1, 0], [8, 2], [1, 2], [3, 1]),
}
for _name, (_xs, _st, _en, _ax, _sp) in SLICES.items():
    def _s(rng, xs=_xs, st=_st, en=_en, ax=_ax, sp=_sp):
        inits = {"starts": np.array(st, np.int64), "ends": np.array(en, np.int64)}
        inputs = ["x", "starts", "ends"]
        if ax is not None:
            inits["axes"] = np.array(ax, np.int64)
            inputs.append("axes")
        if sp is not None:
            if ax is None:
                inputs.append("")
            inits["steps"] = np.array(sp, np.int64)
            inputs.append("steps")
        return single("Slice", {"x": normal(rng, *xs)}, inits, inputs=inputs)
    register(_name, ["Slice"], _s)


@case("expand", ["Expand"])
def _(rng):
    return single("Expand", {"x": normal(rng, 3, 1)}, {"s": i64(2, 3, 4)})


@case("expand_same_rank", ["Expand"])
def _(rng):
    return single("Expand", {"x": normal(rng, 1, 4)}, {"s": i64(3, 1)})


@case("shape", ["Shape"])
def _(rng):
    return single("Shape", {"x": normal(rng, 2, 3, 4)})


@case("shape_start_end", ["Shape"])
def _(rng):
    return single("Shape", {"x": normal(rng, 2, 3, 4, 5)}, attrs={"start": 1, "end": -1})


@case("constant", ["Constant", "Add"])
def _(rng):
    c = normal(rng, 3, 4)
    nodes = [oh.make_node("Constant", [], ["c"], value=nh.from_array(c), name="const_0"),
             oh.make_node("Add", ["x", "c"], ["y"], name="add_0")]
    feeds = {"x": normal(rng, 3, 4)}
    return make_model(nodes, feeds, ["y"]), feeds


@case("constant_value_float", ["Constant", "Mul"])
def _(rng):
    nodes = [oh.make_node("Constant", [], ["c"], value_float=0.125, name="const_0"),
             oh.make_node("Mul", ["x", "c"], ["y"], name="mul_0")]
    feeds = {"x": normal(rng, 3, 4)}
    return make_model(nodes, feeds, ["y"]), feeds


@case("constant_value_ints", ["Constant", "Reshape"])
def _(rng):
    nodes = [oh.make_node("Constant", [], ["s"], value_ints=[4, 3], name="const_0"),
             oh.make_node("Reshape", ["x", "s"], ["y"], name="reshape_0")]
    feeds = {"x": normal(rng, 3, 4)}
    return make_model(nodes, feeds, ["y"]), feeds


@case("constantofshape", ["ConstantOfShape", "Shape", "Add"])
def _(rng):
    nodes = [oh.make_node("Shape", ["x"], ["s"], name="shape_0"),
             oh.make_node("ConstantOfShape", ["s"], ["c"], value=nh.from_array(np.array([1.5], np.float32)),
                          name="cos_0"),
             oh.make_node("Add", ["x", "c"], ["y"], name="add_0")]
    feeds = {"x": normal(rng, 2, 3)}
    return make_model(nodes, feeds, ["y"]), feeds


@case("constantofshape_default", ["ConstantOfShape", "Add"])
def _(rng):
    nodes = [oh.make_node("ConstantOfShape", ["s"], ["c"], name="cos_0"),
             oh.make_node("Add", ["x", "c"], ["y"], name="add_0")]
    feeds = {"x": normal(rng, 3, 4)}
    return make_model(nodes, feeds, ["y"], {"s": i64(2, 3, 4)}), feeds


@case("constantofshape_int64", ["ConstantOfShape", "Mul"])
def _(rng):
    nodes = [oh.make_node("ConstantOfShape", ["s"], ["c"], value=nh.from_array(np.array([3], np.int64)),
                          name="cos_0"),
             oh.make_node("Mul", ["x", "c"], ["y"], name="mul_0")]
    feeds = {"x": rng.integers(-5, 5, (4,))}
    return make_model(nodes, feeds, ["y"], {"s": i64(4)}), feeds


@case("range_float", ["Range", "Add"])
def _(rng):
    nodes = [oh.make_node("Range", ["start", "limit", "delta"], ["r"], name="range_0"),
             oh.make_node("Add", ["x", "r"], ["y"], name="add_0")]
    feeds = {"x": normal(rng, 2, 8)}
    inits = {"start": np.array(-1.0, np.float32), "limit": np.array(3.0, np.float32),
             "delta": np.array(0.5, np.float32)}
    return make_model(nodes, feeds, ["y"], inits), feeds


@case("range_int64_from_shape", ["Range", "Shape", "Gather"])
def _(rng):
    nodes = [oh.make_node("Shape", ["x"], ["s"], name="shape_0"),
             oh.make_node("Gather", ["s", "one"], ["n"], axis=0, name="gather_0"),
             oh.make_node("Range", ["zero", "n", "one"], ["y"], name="range_0")]
    feeds = {"x": normal(rng, 2, 7)}
    inits = {"zero": np.array(0, np.int64), "one": np.array(1, np.int64)}
    return make_model(nodes, feeds, ["y"], inits), feeds


@case("trilu_upper", ["Trilu"])
def _(rng):
    return single("Trilu", {"x": normal(rng, 5, 5)})


@case("trilu_lower_k", ["Trilu"])
def _(rng):
    return single("Trilu", {"x": normal(rng, 2, 4, 6)}, {"k": np.array(-1, np.int64)}, attrs={"upper": 0})


@case("trilu_upper_k1", ["Trilu"])
def _(rng):
    return single("Trilu", {"x": normal(rng, 6, 4)}, {"k": np.array(1, np.int64)})


@case("split", ["Split"])
def _(rng):
    return single("Split", {"x": normal(rng, 2, 6, 3)}, {"split": i64(2, 4)}, attrs={"axis": 1}, n_out=2)


@case("split_equal", ["Split"])
def _(rng):
    return single("Split", {"x": normal(rng, 3, 9)}, attrs={"axis": -1}, n_out=3)


@case("tile", ["Tile"])
def _(rng):
    return single("Tile", {"x": normal(rng, 2, 3, 1)}, {"r": i64(2, 1, 3)})


@case("tile_int64", ["Tile"])
def _(rng):
    return single("Tile", {"x": rng.integers(0, 9, (2, 2))}, {"r": i64(1, 3)})


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


# ============================================================================ coverage
REQUIRED_OPS = """Add Sub Mul Div Pow Neg Abs Sqrt Exp Log Reciprocal Relu LeakyRelu Sigmoid Tanh Erf Gelu
HardSigmoid HardSwish Clip Sin Cos Floor Ceil Where Equal Less Greater LessOrEqual GreaterOrEqual Not And Or Cast
Min Max Sum Identity Dropout MatMul Gemm Conv ConvTranspose BatchNormalization MaxPool AveragePool
GlobalAveragePool Resize Flatten Concat Reshape Transpose Softmax LayerNormalization ReduceMean ReduceSum
ReduceMax ReduceMin Gather Unsqueeze Squeeze Slice Expand Shape Constant ConstantOfShape Range Trilu Split
Tile""".split()


def ops_in_model(m: onnx.ModelProto) -> set[str]:
    return {n.op_type for n in m.graph.node}


def seed_for(name: str, base: int) -> int:
    import zlib
    return (zlib.crc32(name.encode()) ^ (base * 0x9E3779B1)) & 0xFFFFFFFF


def build_case(name: str, base_seed: int = 0):
    c = CASES[name]
    return c.build(np.random.default_rng(seed_for(name, base_seed)))


def _main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--check", action="store_true", help="checker + onnxruntime on each model, op coverage")
    ap.add_argument("--save", metavar="DIR")
    ap.add_argument("-k", default="", help="substring filter on case names")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    names = [n for n in CASES if a.k in n]
    if a.list:
        for n in names:
            print(n)
    if a.check or a.save:
        import onnxruntime as ort
        covered = set()
        for n in names:
            m, feeds = build_case(n, a.seed)
            covered |= ops_in_model(m)
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
            outs = sess.run(None, feeds)
            print(f"{n:34s} ok  opset {m.opset_import[0].version}  nodes {len(m.graph.node):3d}  "
                  f"outputs {[tuple(o.shape) for o in outs]}")
            if a.save:
                d = Path(a.save)
                d.mkdir(parents=True, exist_ok=True)
                onnx.save(m, d / f"{n}.onnx")
                for k, v in feeds.items():
                    np.save(d / f"{n}.{k}.npy", v)
        missing = [o for o in REQUIRED_OPS if o not in covered] if not a.k else []
        print(f"{len(names)} models; ops covered: {len(covered)}; required ops missing: {missing or 'none'}")
        return 1 if missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(_main())
