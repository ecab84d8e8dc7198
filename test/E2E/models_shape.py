"""Shape-op cases of test/E2E/models.py (Reshape, Transpose, Slice, Gather, Concat, Split, ...):
they register into models.CASES when models.py imports this file."""
from __future__ import annotations

import numpy as np
from onnx import helper as oh
from onnx import numpy_helper as nh

from models import case, f32, i64, make_model, normal, register, single

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
