"""Calibration after smoothing / outlier retention reruns the first calibration's float model.

qcc-smooth-activations and qcc-retain-outliers change a calibrated matmul's input only by a
per-channel factor (1/s, the 0/1 outlier mask) that the float model computes exactly up to
rounding; they record it (`qcc.calib_channel_factor`) and the second calibration applies it to
the first model's observations instead of compiling the rewritten model (lib/Calibration,
CalibrationSession). `--eval` keeps the first model for evaluation, so with it the second
calibration compiles the rewritten model as before: the two paths must agree.

Model: y = relu((x * gamma) @ w1 + b1) @ w2 (test_smoothquant's, planted outlier channels):
1/s folds into gamma for fc1 and into the ReLU for fc2. Checked: the report says which path
ran; per-tensor ranges (rel 1e-5), SQNR (0.01 dB), fallback decisions and the X^T X / channel
statistics (--calib-stats, rel 1e-5) agree; the two artifacts' outputs agree (rel L2 1e-3:
float32 rounding order moves ranges by ~1e-6 and can move a value across an int8 rounding
boundary, one step of 1/127 of its range; seed 2904850491 gives 3.4e-4 that way, with the
ranges equal to 1e-5; a wrongly applied channel factor shows in the range checks).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
from recipe_harness import compile_flags as qcc, run_y as run, saved_model  # noqa: E402
from test_smoothquant import make_model, samples  # noqa: E402


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, base_seed):
    return saved_model(tmp_path_factory, "calib_reuse", make_model(np.random.default_rng(base_seed)))


def build(model_path: Path, work: Path, calib: Path, flags: list[str], rerun: bool) -> dict:
    """Compiles with `flags`; `rerun`: the second calibration runs the first model (no --eval)."""
    extra = [] if rerun else [f"--eval={calib}"]
    r = qcc(model_path, work / "model", "-bits=8", f"--calib={calib}", f"--report={work / 'report.json'}",
            *flags, *extra)
    assert r.ok, r.first_error_line()
    return json.loads((work / "report.json").read_text())


def stats(folder: Path) -> dict:
    return {p.name: np.load(p) for p in sorted(folder.glob("*.npy"))}


@pytest.mark.parametrize("flags", [
    ["--act=static", "--smooth=0.5", "--calib-min-sqnr=0"],
    ["--act=static", "--smooth=0.5", "--keep-outliers=2"],
    ["--act=static", "--keep-outliers=3", "--calib-min-sqnr=40"],
    ["--act=dynamic", "--smooth=0.7", "--keep-outliers=2", "--calib-stats=STATS"],
], ids=["static-smooth", "static-smooth-out2", "static-out3-fallback", "dynamic-stats"])
def test_rerun_matches_recompile(model_path, flags, base_seed, tmp_path):
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=samples(base_seed + 1, 6))
    x = samples(base_seed + 2, 1)[0]
    reports, outputs, folders = {}, {}, {}
    for rerun in (True, False):
        work = tmp_path / ("rerun" if rerun else "recompile")
        folders[rerun] = work / "stats"
        fl = [f"--calib-stats={folders[rerun]}" if f == "--calib-stats=STATS" else f for f in flags]
        reports[rerun] = build(model_path, work, calib, fl, rerun)
        outputs[rerun] = run(work / "model", x).astype(np.float64)
    assert reports[True]["calibration"]["float_model_reused"] is True
    assert reports[False]["calibration"]["float_model_reused"] is False
    a, b = reports[True]["calibration"]["activations"], reports[False]["calibration"]["activations"]
    assert [p["name"] for p in a] == [p["name"] for p in b] and a
    for p, q in zip(a, b):
        assert p["abs_max_chosen"] == pytest.approx(q["abs_max_chosen"], rel=1e-5), p["name"]
        assert p["static_sqnr_db"] == pytest.approx(q["static_sqnr_db"], abs=0.01), p["name"]
        assert p["per_token_fallback"] == q["per_token_fallback"], p["name"]
        assert p["values"] == q["values"], p["name"]
    if "--act=static" in flags and "--calib-min-sqnr=40" in flags:
        assert any(p["per_token_fallback"] for p in a)  # the fallback decision was exercised
    if any(f.startswith("--calib-stats") for f in flags):
        sa, sb = stats(folders[True]), stats(folders[False])
        assert sa.keys() == sb.keys() and any(k.endswith(".xtx.npy") for k in sa)
        for k in sa:
            np.testing.assert_allclose(sa[k], sb[k], rtol=1e-5, atol=1e-6 * float(np.abs(sb[k]).max()), err_msg=k)
    rel = np.linalg.norm(outputs[True] - outputs[False]) / np.linalg.norm(outputs[False])
    assert rel <= 1e-3, rel
