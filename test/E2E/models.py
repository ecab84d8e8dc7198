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


# Shape-op and composite cases live in models_shape.py and models_composite.py; importing them
# registers them here, after the cases above. Run as a script, this module is also "models" to them.
sys.modules.setdefault("models", sys.modules[__name__])
import models_shape  # noqa: E402,F401
import models_composite  # noqa: E402,F401
from models_composite import G  # noqa: E402,F401  (the graph builder tests use)

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
