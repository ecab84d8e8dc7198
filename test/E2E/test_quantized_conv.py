"""Quantized convolutions: Conv weights get int8/int4 like MatMul's (qcc-conv-to-matmul puts a
constant filter right of an im2col matmul, which qcc-quantize-weights quantizes).

Checked against a float64 numpy model that applies exactly qcc's quantization to the im2col
matmul (weights [KH*KW*C, F] rounded per output channel or per group along K; activations per
output pixel, i.e. per patch row, for --act=dynamic), and against onnxruntime's float model by
cosine; the report must list both convolutions as quantized."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
import qcc_harness as H  # noqa: E402
from test_quantized import (RECIPES, TARGETS, compile_and_run, fake_quant_rows,  # noqa: E402
                            fake_quant_weight, metrics)

CONV_RECIPES = ["int8-dynamic", "int8-weight-only", "int4-g32"]


def make_cnn(rng: np.random.Generator) -> onnx.ModelProto:
    """x[1,32,12,12] -> Conv 3x3 pad 1 (64, bias) -> Relu -> Conv 3x3 stride 2 pad 1 (32)."""
    w1 = (rng.standard_normal((64, 32, 3, 3)) / 17).astype(np.float32)
    b1 = (rng.standard_normal(64) / 10).astype(np.float32)
    w2 = (rng.standard_normal((32, 64, 3, 3)) / 24).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], kernel_shape=[3, 3], pads=[1] * 4, name="conv1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2"], ["y"], kernel_shape=[3, 3], pads=[1] * 4, strides=[2, 2],
                              name="conv2")]
    inits = [numpy_helper.from_array(v, n) for n, v in (("w1", w1), ("b1", b1), ("w2", w2))]
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 12, 12])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, 6, 6])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def im2col(x: np.ndarray, k: int, stride: int, pad: int) -> tuple[np.ndarray, int, int]:
    """[1, C, H, W] -> patches [OH*OW, k*k*C] (column order kh, kw, c: qcc-conv-nhwc runs convolutions in
    NHWC, so a patch row is k*k contiguous channel runs and int4 groups run along that order)."""
    xp = np.pad(x[0], ((0, 0), (pad, pad), (pad, pad)))
    c, h, w = xp.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    cols = np.empty((oh * ow, c * k * k), x.dtype)
    for i in range(oh):
        for j in range(ow):
            cols[i * ow + j] = xp[:, i * stride:i * stride + k, j * stride:j * stride + k].transpose(1, 2, 0).reshape(-1)
    return cols, oh, ow


def simulate(model: onnx.ModelProto, x: np.ndarray, recipe: str) -> np.ndarray:
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    act = "--act=none" not in RECIPES[recipe][0]

    def conv(a, filt, bias, stride):
        cols, oh, ow = im2col(a, 3, stride, 1)
        cols = fake_quant_rows(cols) if act else cols
        wkn = filt.transpose(0, 2, 3, 1).reshape(filt.shape[0], -1).T.copy()
        y = cols.astype(np.float64) @ fake_quant_weight(wkn, recipe).astype(np.float64)
        if bias is not None:
            y = y + bias
        return y.T.reshape(1, filt.shape[0], oh, ow).astype(np.float32)

    h = np.maximum(conv(x, w["w1"], w["b1"], 1), 0)
    return conv(h, w["w2"], None, 2)


@pytest.fixture(scope="module")
def cnn(tmp_path_factory, base_seed):
    model = make_cnn(np.random.default_rng(base_seed + 11))
    path = tmp_path_factory.mktemp("cnn") / "cnn.onnx"
    onnx.save(model, path)
    return model, path


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("recipe", CONV_RECIPES)
def test_conv_quantized(cnn, recipe, target, base_seed, tmp_path):
    model, path = cnn
    x = np.random.default_rng(base_seed + 12).standard_normal((1, 32, 12, 12)).astype(np.float32)
    report = tmp_path / "report.json"
    compile_and_run(path, tmp_path / "q" / "cnn", {"x": x}, RECIPES[recipe][0] + [f"--report={report}"], target)
    got = H.load_outputs(tmp_path / "q" / "out", ["y"])["y"]
    rel = H.rel_l2(got, simulate(model, x, recipe))
    assert rel <= 2e-3, f"[QCC_TEST_SEED={base_seed}] {recipe} on {target}: relative L2 {rel:.2e} vs simulation"
    cos, _ = metrics(got, H.ort_run(path, {"x": x})["y"])
    min_cos = RECIPES[recipe][1]
    assert cos >= min_cos, f"[QCC_TEST_SEED={base_seed}] {recipe} on {target}: cosine {cos:.5f} < {min_cos}"
    layers = {l["name"]: l for l in json.loads(report.read_text())["layers"]}
    for name, k in (("conv1", 32 * 9), ("conv2", 64 * 9)):
        assert layers[name]["bits"] in (4, 8), layers[name]
        assert layers[name]["weight_bytes_before"] == k * (64 if name == "conv1" else 32) * 4
