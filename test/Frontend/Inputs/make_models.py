#!/usr/bin/env python3
"""Writes the small ONNX models the importer lit tests read.

Usage: make_models.py OUTDIR [NAME ...]   (no NAME: all models)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh


def model(nodes, inputs, outputs, inits=(), opset=17, name="g"):
    g = h.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    return h.make_model(g, opset_imports=[h.make_opsetid("", opset)])


def vi(name, dt, shape):
    return h.make_tensor_value_info(name, dt, shape)


def rng(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def m_add():
    return model([h.make_node("Add", ["x", "y"], ["s"], name="add0"),
                  h.make_node("Relu", ["s"], ["r"], name="relu0")],
                 [vi("x", T.FLOAT, [2, 3]), vi("y", T.FLOAT, [3])],
                 [vi("r", T.FLOAT, None)])


def m_compare_unsigned():
    return model([h.make_node("Less", ["a", "b"], ["lt"]),
                  h.make_node("Div", ["a", "b"], ["q"]),
                  h.make_node("Cast", ["q"], ["f"], to=T.FLOAT)],
                 [vi("a", T.UINT8, [4]), vi("b", T.UINT8, [1])],
                 [vi("lt", T.BOOL, None), vi("f", T.FLOAT, None)])


def m_matmul():
    w = nh.from_array(rng(8, 16), "w")
    return model([h.make_node("MatMul", ["x", "w"], ["y"])],
                 [vi("x", T.FLOAT, [2, 4, 8])], [vi("y", T.FLOAT, None)],
                 [w])


def m_batch_matmul():
    return model([h.make_node("MatMul", ["a", "b"], ["y"])],
                 [vi("a", T.FLOAT, [3, 4, 5]), vi("b", T.FLOAT, [1, 5, 6])],
                 [vi("y", T.FLOAT, None)])


def m_gemm():
    w = nh.from_array(rng(16, 8), "w")  # [N, K], transB=1
    b = nh.from_array(rng(16), "b")
    return model([h.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1,
                              alpha=0.5)],
                 [vi("x", T.FLOAT, [4, 8])], [vi("y", T.FLOAT, None)],
                 [w, b])


def m_conv():
    w = nh.from_array(rng(8, 3, 3, 3), "w")
    b = nh.from_array(rng(8), "b")
    dw = nh.from_array(rng(8, 1, 3, 3), "dw")
    return model([h.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1],
                              strides=[2, 2]),
                  h.make_node("Conv", ["c", "dw"], ["d"], group=8,
                              auto_pad="SAME_UPPER"),
                  h.make_node("MaxPool", ["d"], ["p"], kernel_shape=[2, 2],
                              strides=[2, 2])],
                 [vi("x", T.FLOAT, [1, 3, 16, 16])], [vi("p", T.FLOAT, None)],
                 [w, b, dw])


def m_shape_fold():
    # y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))
    c0 = nh.from_array(np.array(0, np.int64), "c0")
    ax = nh.from_array(np.array([0], np.int64), "ax")
    m1 = nh.from_array(np.array([-1], np.int64), "m1")
    return model([h.make_node("Shape", ["x"], ["s"]),
                  h.make_node("Gather", ["s", "c0"], ["n"], axis=0),
                  h.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
                  h.make_node("Concat", ["n1", "m1"], ["shape"], axis=0),
                  h.make_node("Reshape", ["x", "shape"], ["y"])],
                 [vi("x", T.FLOAT, [2, 3, 4])], [vi("y", T.FLOAT, None)],
                 [c0, ax, m1])


def m_large_const():
    w = nh.from_array(rng(64, 64), "big_w")
    return model([h.make_node("Add", ["x", "big_w"], ["y"])],
                 [vi("x", T.FLOAT, [64, 64])], [vi("y", T.FLOAT, None)], [w])


def m_unsupported():
    return model([h.make_node("Det", ["x"], ["y"], name="det_0")],
                 [vi("x", T.FLOAT, [3, 3])], [vi("y", T.FLOAT, None)])


def m_bad_attr():
    return model([h.make_node("Gelu", ["x"], ["y"], name="g0",
                              approximate="cubic")],
                 [vi("x", T.FLOAT, [3])], [vi("y", T.FLOAT, None)], opset=20)


def m_dynamic():
    return model([h.make_node("Relu", ["x"], ["y"])],
                 [vi("x", T.FLOAT, ["batch", 4])], [vi("y", T.FLOAT, None)])


def m_not_const():
    return model([h.make_node("Reshape", ["x", "s"], ["y"], name="r0")],
                 [vi("x", T.FLOAT, [2, 3]), vi("s", T.INT64, [2])],
                 [vi("y", T.FLOAT, None)])


def m_no_graph():
    return onnx.ModelProto(ir_version=8)


def external(out, present):
    w = nh.from_array(rng(4, 4), "w")
    w.ClearField("raw_data")
    w.data_location = T.EXTERNAL
    for k, v in (("location", "w.bin"), ("offset", "0"), ("length", "64")):
        e = w.external_data.add()
        e.key, e.value = k, v
    if present:
        rng(4, 4).tofile(os.path.join(out, "w.bin"))
    return model([h.make_node("MatMul", ["x", "w"], ["y"])],
                 [vi("x", T.FLOAT, [2, 4])], [vi("y", T.FLOAT, None)], [w])


MODELS = {
    "add": m_add, "compare_unsigned": m_compare_unsigned, "matmul": m_matmul,
    "batch_matmul": m_batch_matmul, "gemm": m_gemm, "conv": m_conv,
    "shape_fold": m_shape_fold, "large_const": m_large_const,
    "unsupported": m_unsupported, "bad_attr": m_bad_attr,
    "dynamic": m_dynamic, "not_const": m_not_const, "no_graph": m_no_graph,
}


def main():
    out = sys.argv[1]
    names = sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for name, fn in MODELS.items():
        if names and name not in names:
            continue
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(fn().SerializeToString())
    if not names or "errors" in names:
        data = m_add().SerializeToString()
        with open(os.path.join(out, "truncated.onnx"), "wb") as f:
            f.write(data[: len(data) // 2])
        with open(os.path.join(out, "not_onnx.onnx"), "wb") as f:
            f.write(b"this is a text file, not a protobuf\n")
    if not names or "external" in names:
        ext = os.path.join(out, "ext_ok")
        miss = os.path.join(out, "ext_missing")
        os.makedirs(ext, exist_ok=True)
        os.makedirs(miss, exist_ok=True)
        with open(os.path.join(ext, "model.onnx"), "wb") as f:
            f.write(external(ext, True).SerializeToString())
        with open(os.path.join(miss, "model.onnx"), "wb") as f:
            f.write(external(miss, False).SerializeToString())


if __name__ == "__main__":
    main()
