"""End-to-end tests of SmoothQuant (--smooth[=ALPHA], qcc-smooth-activations).

A small model with outlier input channels, y = relu((x * gamma) @ w1 + b1) @ w2, is compiled
with -bits=8 --calib --smooth and checked against a float64 numpy simulation of exactly what qcc
computes: per matmul s_j = max|X_j|^alpha / max_n|W_jn|^(1 - alpha) from min/max calibration,
1/s folded into gamma (first matmul) or multiplied into the ReLU's result (second), the weights
W' = s W quantized per output channel, and static int8 activations with the scale max|X/s| / 127
calibrated again on the smoothed model. Relative L2 <= 2e-3 (float32 rounding order and rare
rounding ties differ). A second test checks that smoothing lowers the error against the float
model on the same outlier inputs (dynamic per-token int8), and bad flags give one-line errors.
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
from recipe_harness import compile_flags as qcc, outlier_samples, run_y as run, saved_model  # noqa: E402
from test_calibration import fake_quant_static  # noqa: E402
from test_quantized import TARGETS, fake_quant_weight, metrics  # noqa: E402

ROWS, K, HID, N = 16, 256, 512, 128
OUTLIERS = [3, 77, 200]  # input channels 30-60x larger than the rest


def make_model(rng: np.random.Generator) -> onnx.ModelProto:
    gamma = (1 + 0.2 * rng.standard_normal(K)).astype(np.float32)
    w1 = (rng.standard_normal((K, HID)) / 16).astype(np.float32)
    b1 = (rng.standard_normal(HID) / 10).astype(np.float32)
    w2 = (rng.standard_normal((HID, N)) / 22).astype(np.float32)
    nodes = [helper.make_node("Mul", ["x", "gamma"], ["n"], name="norm"),
             helper.make_node("MatMul", ["n", "w1"], ["h"], name="fc1"),
             helper.make_node("Add", ["h", "b1"], ["hb"], name="bias1"),
             helper.make_node("Relu", ["hb"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    inits = [numpy_helper.from_array(v, n) for n, v in
             (("gamma", gamma), ("w1", w1), ("b1", b1), ("w2", w2))]
    g = helper.make_graph(nodes, "smooth", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, N])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def samples(seed: int, n: int) -> np.ndarray:
    return outlier_samples(seed, n, ROWS, K, OUTLIERS)


@pytest.fixture(scope="module")
def model(base_seed):
    return make_model(np.random.default_rng(base_seed))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, model):
    return saved_model(tmp_path_factory, "smooth", model)


def smooth_scales(act_absmax: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """qcc-smooth-activations' s (float64, then stored as float32)."""
    wmax = np.abs(w.astype(np.float64)).max(axis=1)
    x = act_absmax.astype(np.float64)
    ok = (x > 0) & (wmax > 0)
    s = np.ones_like(x)
    s[ok] = x[ok] ** alpha / wmax[ok] ** (1 - alpha)
    return np.clip(s, 1e-5, 1e5)


def simulate(model: onnx.ModelProto, calib: np.ndarray, x: np.ndarray, alpha: float) -> np.ndarray:
    """Static int8 after smoothing, as qcc computes it."""
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    f64 = np.float64
    rows = calib.reshape(-1, K)

    def hidden(a1, w1):
        return np.maximum(a1.astype(f64) @ w1.astype(f64) + w["b1"], 0).astype(np.float32)

    # First calibration (float model): per-channel max |x| of each matmul input.
    n = rows * w["gamma"]
    s1 = smooth_scales(np.abs(n).max(axis=0), w["w1"], alpha)
    s2 = smooth_scales(np.abs(hidden(n, w["w1"])).max(axis=0), w["w2"], alpha)
    inv1, inv2 = (1.0 / s1).astype(np.float32), (1.0 / s2).astype(np.float32)
    gamma1 = (w["gamma"] * inv1).astype(np.float32)          # 1/s folded into gamma
    w1 = (w["w1"] * s1.astype(np.float32)[:, None]).astype(np.float32)
    w2 = (w["w2"] * s2.astype(np.float32)[:, None]).astype(np.float32)
    # Second calibration (smoothed float model): per-tensor ranges.
    a1 = rows * gamma1
    absmax1 = float(np.abs(a1).max())
    absmax2 = float(np.abs(hidden(a1, w1) * inv2).max())
    q1 = fake_quant_weight(w1, "int8-dynamic").astype(f64)
    q2 = fake_quant_weight(w2, "int8-dynamic").astype(f64)
    h = np.maximum(fake_quant_static(x * gamma1, absmax1).astype(f64) @ q1 + w["b1"], 0).astype(np.float32)
    return fake_quant_static(h * inv2, absmax2).astype(f64) @ q2


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("alpha", [0.5, 0.8])
def test_smoothed_static_int8_matches_simulation(model_path, model, target, alpha, base_seed, tmp_path):
    calib = samples(base_seed + 1, 6)
    np.savez(tmp_path / "calib.npz", x=calib)
    prefix = tmp_path / "m" / "model"
    r = qcc(model_path, prefix, "-bits=8", "--calib", str(tmp_path / "calib.npz"), "--calib-min-sqnr=0",
            f"--smooth={alpha}", f"--report={tmp_path / 'report.json'}", target=target)
    assert r.ok, r.first_error_line()
    x = samples(base_seed + 2, 1)[0]
    cos, rel = metrics(run(prefix, x), simulate(model, calib, x, alpha))
    assert rel <= 2e-3, f"smoothed static int8 vs simulation: rel L2 {rel:.2e}, cosine {cos:.6f} (seed {base_seed})"

    report = json.loads((tmp_path / "report.json").read_text())
    smoothed = {s["name"]: s for s in report["smoothing"]}
    assert set(smoothed) == {"fc1", "fc2"}
    assert smoothed["fc1"]["placement"].startswith("folded into the producer's per-channel constant")
    assert smoothed["fc2"]["placement"].startswith("folded into the producer (one multiply")
    assert all(s["alpha"] == pytest.approx(alpha) for s in smoothed.values())
    # The ranges calibrated again after smoothing are what the static scales use.
    acts = {a["name"]: a for a in report["calibration"]["activations"]}
    assert acts["fc1"]["abs_max_chosen"] < 0.5 * float(np.abs(calib * numpy_helper.to_array(
        next(i for i in model.graph.initializer if i.name == "gamma"))).max())


def test_smoothing_reduces_error_on_outlier_channels(model_path, base_seed, tmp_path):
    """Per-token int8 against the float model (onnxruntime) on inputs with outlier channels:
    smoothing must cut the error substantially."""
    calib = samples(base_seed + 3, 6)
    np.savez(tmp_path / "calib.npz", x=calib)
    x = samples(base_seed + 4, 1)[0]
    ref = H.ort_run(model_path, {"x": x})["y"]
    errors = {}
    for name, extra in (("plain", []), ("smooth", ["--smooth"])):
        prefix = tmp_path / name / "model"
        r = qcc(model_path, prefix, "-bits=8", "--act=dynamic", "--calib", str(tmp_path / "calib.npz"), *extra)
        assert r.ok, r.first_error_line()
        errors[name] = metrics(run(prefix, x), ref)[1]
    assert errors["smooth"] < 0.5 * errors["plain"], f"rel L2 vs float: {errors} (seed {base_seed})"


def test_bad_smooth_flags(model_path, tmp_path):
    np.savez(tmp_path / "c.npz", x=samples(1, 2))
    calib = ["--calib", str(tmp_path / "c.npz")]
    cases = [(["-bits=8", "--smooth"], "--smooth needs per-channel activation ranges"),
             (["-bits=8", *calib, "--smooth=1.5"], "--smooth=ALPHA needs a number in [0, 1], got '1.5'"),
             (["-bits=8", *calib, "--smooth=abc"], "--smooth=ALPHA needs a number in [0, 1], got 'abc'"),
             (["-bits=8", *calib, "--act=none", "--smooth"], "--smooth balances int8 activations")]
    for flags, message in cases:
        r = qcc(model_path, tmp_path / "m" / "model", *flags)
        assert not r.ok and message in r.first_error_line(), (flags, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
