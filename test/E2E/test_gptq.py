"""End-to-end tests of output-aware weight rounding (--weight-algo=gptq, --weight-clip).

A small MLP whose inputs are correlated (a few latent factors with channel scales spread over
30x, the structure GPTQ exploits) is compiled from ONNX with RTN and with GPTQ, calibrated on one
draw of inputs and compared with the float artifact on a held-out draw: GPTQ's output error must
be below RTN's (measured: about half of it or less), and the per-layer report must say which
algorithm ran and show the same ordering on the calibration data. Bad flag combinations give a
one-line error. The random seed comes from conftest (QCC_TEST_SEED).
"""
from __future__ import annotations

import json
import os
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
from held_out import float_reference, held_out_error  # noqa: E402
from test_quantized import TARGETS  # noqa: E402

ROWS, K, HIDDEN, OUT = 32, 256, 384, 128


def make_model(rng: np.random.Generator) -> onnx.ModelProto:
    """x[32,256] -> MatMul(384) -> Relu -> MatMul(128)."""
    w1 = (rng.standard_normal((K, HIDDEN)) / 16).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, OUT)) / 20).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, OUT])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def correlated_inputs(seed: int, mixing: np.ndarray, n: int) -> np.ndarray:
    """n sets of [ROWS, K]: 6 latent factors through a fixed mixing, plus small noise."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, ROWS, mixing.shape[0]))
    return (z @ mixing + 0.1 * rng.standard_normal((n, ROWS, K))).astype(np.float32)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, base_seed):
    root = tmp_path_factory.mktemp("gptq")
    rng = np.random.default_rng(base_seed)
    path = root / "mlp.onnx"
    onnx.save(make_model(rng), path)
    scales = 1 + 29 * rng.permutation(K) / K
    mixing = rng.standard_normal((6, K)) * scales
    np.savez(root / "calib.npz", x=correlated_inputs(base_seed + 1, mixing, 16))
    held_out = correlated_inputs(base_seed + 2, mixing, 4)
    want = float_reference(path, root, held_out)
    return dict(root=root, path=path, calib=root / "calib.npz", held_out=held_out, want=want)


def compile_with(setup, name: str, target: str, bits: int, *flags: str) -> tuple[Path, dict]:
    prefix = setup["root"] / f"{name}-{target}" / "model"
    report = prefix.parent / "report.json"
    r = H.compile_model(setup["path"], prefix, target=target, bits=bits,
                        extra=["--act=none", f"--report={report}", *flags])
    assert r.ok, f"{name}: {r.first_error_line()}"
    return prefix, {layer["name"]: layer for layer in json.loads(report.read_text())["layers"]}


RECIPES = {"int4 g32": (4, ["--group-size=32"]),
           "int4 g128 asym": (4, ["--group-size=128", "--asym"]),
           "int8": (8, [])}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("recipe", list(RECIPES))
def test_gptq_beats_rtn_on_held_out_data(setup, target, recipe, base_seed):
    bits, flags = RECIPES[recipe]
    calib = ["--calib", str(setup["calib"])]
    rtn, rtn_layers = compile_with(setup, f"rtn-{recipe}", target, bits, *flags, *calib)
    gptq, gptq_layers = compile_with(setup, f"gptq-{recipe}", target, bits, *flags, *calib,
                                     "--weight-algo=gptq")
    e_rtn, e_gptq = held_out_error(setup, rtn), held_out_error(setup, gptq)
    assert e_gptq < 0.8 * e_rtn, (f"{recipe} on {target}: held-out rel L2 gptq {e_gptq:.4g} vs rtn "
                                  f"{e_rtn:.4g} (seed {base_seed})")
    for name in ("fc1", "fc2"):
        layer = gptq_layers[name]
        assert layer["weight_algo"] == "gptq"
        assert layer["activations"] == "float (weight-only)"  # --calib did not force static
        assert layer["output_rel_error"] < layer["output_rel_error_rtn"], layer
        assert layer["note"].startswith("gptq: output error")
        assert rtn_layers[name]["weight_algo"] == "rtn"
        assert "output_rel_error" not in rtn_layers[name]  # no statistics asked for


def test_activation_weighted_clip_and_stats_folder(setup, base_seed):
    """--weight-clip=act reads E[x^2] from calibration; with --calib-stats the statistics stay
    where the user put them and the report gives RTN's output error."""
    stats = setup["root"] / "stats"
    prefix, layers = compile_with(setup, "act-clip", "x86-64", 4, "--group-size=32", "--calib",
                                  str(setup["calib"]), "--weight-clip=act", "--calib-stats", str(stats))
    assert (stats / "index.json").is_file()
    assert layers["fc1"]["weight_algo"] == "rtn" and 0 < layers["fc1"]["output_rel_error"] < 0.2
    e = held_out_error(setup, prefix)
    assert e < 0.2, f"act-weighted clip: held-out rel L2 {e:.4g} (seed {base_seed})"


def test_temporary_statistics_are_removed(setup, tmp_path):
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    r = H.run_tool([H.QCC, setup["path"], "-target=x86-64", "-bits=4", "-o", tmp_path / "m" / "model",
                    "--calib", setup["calib"], "--act=none", "--weight-algo=gptq"],
                   env={"TMPDIR": str(tmp)}, timeout=600)
    assert r.ok, r.first_error_line()
    assert list(tmp.iterdir()) == [], os.listdir(tmp)


def test_bad_weight_algo_flags(setup, tmp_path):
    calib = ["--calib", str(setup["calib"])]
    cases = [(4, ["--weight-algo=gptq"], "--weight-algo=gptq needs calibration inputs: --calib PATH"),
             (4, ["--weight-algo=awq", *calib], "unknown --weight-algo='awq' (rtn or gptq)"),
             (4, ["--weight-clip=act"], "--weight-clip=act needs calibration inputs"),
             (4, ["--weight-clip=half"], "unknown --weight-clip='half'"),
             (32, ["--weight-algo=gptq"], "need -bits=8 or -bits=4"),
             (4, ["--weight-algo=gptq", "--gptq-dampening=0", *calib], "--gptq-dampening must be > 0")]
    for bits, flags, message in cases:
        r = H.compile_model(setup["path"], tmp_path / "m" / "model", target="x86-64", bits=bits, extra=flags)
        assert not r.ok, (flags, "accepted")
        assert message in r.first_error_line(), (flags, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_smoothing_then_gptq_reads_smoothed_statistics(setup, tmp_path):
    """--smooth rescales the weights, so GPTQ's X^T X must come from the smoothed model: with the
    statistics in a temporary folder (no --calib-stats) the driver must calibrate again after
    smoothing, exactly as it does for --calib-stats, so both give the same weights byte for byte."""
    weights = []
    for name, extra in (("tmp", []), ("kept", ["--calib-stats", str(tmp_path / "stats")])):
        prefix = tmp_path / name / "model"
        r = H.compile_model(setup["path"], prefix, target="x86-64", bits=8,
                            extra=["--act=dynamic", "--calib", str(setup["calib"]), "--smooth=0.5",
                                   "--weight-algo=gptq", *extra])
        assert r.ok, f"{name}: {r.first_error_line()}"
        weights.append(prefix.with_suffix(".weights").read_bytes())
    assert weights[0] == weights[1], "GPTQ after --smooth used statistics of the unsmoothed model"
