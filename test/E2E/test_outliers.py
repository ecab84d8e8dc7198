"""End-to-end tests of mixed-precision outlier retention (--keep-outliers, qcc-retain-outliers).

A small model whose input has planted outlier channels (3 of 256, 30-60x larger than the rest)
feeds two matmuls, y1 = x @ w1 and y2 = x @ w2 (one shared gather and mask). Compiled with
-bits=8 --calib --keep-outliers=3 it must compute exactly the split: the outlier columns of x
times the float rows of w1/w2, plus int8 activations with those channels zeroed (per token, or
per tensor with the range calibrated again on the masked model) times RTN int8 weights with
those rows zeroed; int4 weight-only the same without the activation mask. Checked against a
float64 numpy simulation of that split: relative L2 <= 2e-3 (float32 accumulation order and
rare rounding ties differ). Against the float model (onnxruntime), the int8 error must drop to
under a third of plain W8A8's. The report lists the kept channels and their float bytes; bad
flag values give one-line errors.
"""
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
from recipe_harness import compile_flags as qcc, outlier_samples, run_outputs, saved_model  # noqa: E402
from test_calibration import fake_quant_static  # noqa: E402
from test_quantized import TARGETS, fake_quant_rows, fake_quant_weight, metrics  # noqa: E402

ROWS, K, N = 16, 256, 128
OUTLIERS = [3, 77, 200]  # input channels 30-60x larger than the rest


def make_model(rng: np.random.Generator) -> onnx.ModelProto:
    w1 = (rng.standard_normal((K, N)) / 16).astype(np.float32)
    w2 = (rng.standard_normal((K, N)) / 16).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["y1"], name="fc1"),
             helper.make_node("MatMul", ["x", "w2"], ["y2"], name="fc2")]
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")]
    out = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [ROWS, N]) for n in ("y1", "y2")]
    g = helper.make_graph(nodes, "outliers", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
                          out, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def samples(seed: int, n: int) -> np.ndarray:
    return outlier_samples(seed, n, ROWS, K, OUTLIERS)


@pytest.fixture(scope="module")
def model(base_seed):
    return make_model(np.random.default_rng(base_seed))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, model):
    return saved_model(tmp_path_factory, "outliers", model)


def simulate(model: onnx.ModelProto, calib: np.ndarray, x: np.ndarray, act: str, recipe: str) -> dict:
    """The split qcc computes, in float64: x[:, idx] @ w[idx] + act(x * mask) @ rtn(w * mask)."""
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    f64 = np.float64
    mask = np.ones(K, np.float32)
    mask[OUTLIERS] = 0
    xm = x * mask
    if act == "dynamic":
        xq = fake_quant_rows(xm)
    elif act == "static":
        xq = fake_quant_static(xm, float(np.abs(calib.reshape(-1, K) * mask).max()))
    else:
        xq = x  # weight-only: the zeroed rows drop the outlier channels
    out = {}
    for name in ("w1", "w2"):
        kept = w[name][OUTLIERS].astype(f64)
        wq = fake_quant_weight(w[name] * mask[:, None], recipe).astype(f64)
        out["y" + name[1]] = x[:, OUTLIERS].astype(f64) @ kept + xq.astype(f64) @ wq
    return out


def run(prefix: Path, x: np.ndarray) -> dict:
    return run_outputs(prefix, x, ["y1", "y2"])


CASES = {  # name: (flags, activations, fake_quant_weight recipe)
    "int8-dynamic": (["-bits=8", "--act=dynamic"], "dynamic", "int8-dynamic"),
    "int8-static": (["-bits=8", "--act=static", "--calib-min-sqnr=0"], "static", "int8-dynamic"),
    "int4-weight-only": (["-bits=4", "--act=none"], "none", "int4-g128"),
    # W4A8: the fused mask zeroes the kept channels' codes, so asymmetric groups' code sums skip them.
    "int4-dynamic": (["-bits=4", "--act=dynamic"], "dynamic", "int4-g128"),
    "int4-asym-dynamic": (["-bits=4", "--group-size=64", "--asym", "--act=dynamic"], "dynamic", "int4-g64-asym"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_split_matches_simulation(model_path, model, target, case, base_seed, tmp_path):
    flags, act, recipe = CASES[case]
    calib = samples(base_seed + 1, 6)
    np.savez(tmp_path / "calib.npz", x=calib)
    prefix = tmp_path / "m" / "model"
    r = qcc(model_path, prefix, *flags, "--calib", str(tmp_path / "calib.npz"), "--keep-outliers=3",
            f"--report={tmp_path / 'report.json'}", target=target)
    assert r.ok, r.first_error_line()
    x = samples(base_seed + 2, 1)[0]
    got, want = run(prefix, x), simulate(model, calib, x, act, recipe)
    for name in ("y1", "y2"):
        cos, rel = metrics(got[name], want[name])
        assert rel <= 2e-3, (f"{case} on {target}, {name} vs simulation: rel L2 {rel:.2e}, cosine {cos:.6f} "
                             f"(seed {base_seed})")

    report = json.loads((tmp_path / "report.json").read_text())
    kept = {o["name"]: o for o in report["outliers"]}
    assert set(kept) == {"fc1", "fc2"}
    for o in kept.values():
        assert o["channels"] == OUTLIERS and o["kept"] == 3
        assert o["float_bytes"] == 3 * N * 4
        assert o["activations_masked"] == (act != "none")
    layers = {la["name"]: la for la in report["layers"]}
    assert layers["fc1/outliers"]["format"] == "f32"
    assert layers["fc1"]["format"] == "int8 per-channel" if "-bits=8" in flags else layers["fc1"]["format"] != "f32"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("rows,n,bias", [(40, 300, False), (40, 528, True)])
def test_fused_split_shapes(target, rows, n, bias, base_seed, tmp_path):
    """The fused CPU form (qcc-fuse-outliers: the mask inside the activation quantization, the float
    product added after the kernel) on shapes the model above does not reach: N = 300 (not a multiple
    of 16: portable path and the scalar column tail), N = 528 with a bias (three 256-column blocks,
    the last partial, and the bias add kept beside the fused matmul), 40 rows (three 16-row blocks)."""
    rng = np.random.default_rng(base_seed + 7)
    w = (rng.standard_normal((K, n)) / 16).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y" if not bias else "t"], name="fc")]
    inits = [numpy_helper.from_array(w, "w")]
    if bias:
        nodes.append(helper.make_node("Add", ["t", "b"], ["y"], name="fc_bias"))
        inits.append(numpy_helper.from_array(b, "b"))
    g = helper.make_graph(nodes, "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, n])], inits)
    path = tmp_path / "wide.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)

    def draw(seed, count):
        r = np.random.default_rng(seed)
        x = r.standard_normal((count, rows, K)).astype(np.float32)
        x[..., OUTLIERS] *= r.uniform(30, 60, size=len(OUTLIERS)).astype(np.float32)
        return x

    np.savez(tmp_path / "calib.npz", x=draw(base_seed + 8, 4))
    prefix = tmp_path / "m" / "model"
    flags = ["-bits=8", "--act=dynamic", "--calib", str(tmp_path / "calib.npz"), "--keep-outliers=3"]
    r = qcc(path, prefix, *flags, target=target)
    assert r.ok, r.first_error_line()
    x = draw(base_seed + 9, 1)[0]
    inputs = H.save_inputs({"x": x}, tmp_path / "in")
    rr = H.run_artifact(prefix, inputs, tmp_path / "out")
    assert rr.ok, rr.first_error_line()
    got = H.load_outputs(tmp_path / "out", ["y"])["y"]
    mask = np.ones(K, np.float32)
    mask[OUTLIERS] = 0
    f64 = np.float64
    want = (x[:, OUTLIERS].astype(f64) @ w[OUTLIERS].astype(f64)
            + fake_quant_rows(x * mask).astype(f64) @ fake_quant_weight(w * mask[:, None], "int8-dynamic").astype(f64)
            + (b.astype(f64) if bias else 0.0))
    cos, rel = metrics(got, want)
    assert rel <= 2e-3, f"rows {rows}, N {n}, bias {bias} on {target}: rel L2 {rel:.2e} (seed {base_seed})"


def test_outliers_cut_the_int8_error(model_path, base_seed, tmp_path):
    """Per-token int8 against the float model (onnxruntime) on inputs with outlier channels."""
    calib = samples(base_seed + 3, 6)
    np.savez(tmp_path / "calib.npz", x=calib)
    x = samples(base_seed + 4, 1)[0]
    ref = H.ort_run(model_path, {"x": x})
    errors = {}
    for name, extra in (("plain", []), ("outliers", ["--keep-outliers=auto"])):
        prefix = tmp_path / name / "model"
        r = qcc(model_path, prefix, "-bits=8", "--act=dynamic", "--calib", str(tmp_path / "calib.npz"), *extra)
        assert r.ok, r.first_error_line()
        got = run(prefix, x)
        errors[name] = max(metrics(got[n], ref[n])[1] for n in ("y1", "y2"))
    assert errors["outliers"] < errors["plain"] / 3, f"rel L2 vs float: {errors} (seed {base_seed})"


def test_bad_outlier_flags(model_path, tmp_path):
    np.savez(tmp_path / "c.npz", x=samples(1, 2))
    calib = ["--calib", str(tmp_path / "c.npz")]
    cases = [(["-bits=8", "--keep-outliers=4"], "--keep-outliers needs per-channel activation ranges"),
             (["--keep-outliers=4"], "--keep-outliers needs -bits=8 or -bits=4"),
             (["-bits=8", *calib, "--keep-outliers=0"], "--keep-outliers needs a channel count > 0 or 'auto', got '0'"),
             (["-bits=8", *calib, "--keep-outliers=many"], "--keep-outliers needs a channel count > 0 or 'auto'"),
             (["-bits=8", *calib, "--keep-outliers=auto", "--outlier-ratio=-1"],
              "--outlier-ratio must be a number >= 0"),
             (["-bits=8", *calib, "--outlier-ratio=4"], "--outlier-ratio needs --keep-outliers=N|auto")]
    for flags, message in cases:
        r = qcc(model_path, tmp_path / "m" / "model", *flags)
        assert not r.ok and message in r.first_error_line(), (flags, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
