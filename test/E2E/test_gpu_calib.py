"""Calibrated recipes on GPU targets (no GPU needed): `qcc -target=sm_80 --calib ...` calibrates on
the CPU backend exactly as the CPU target does, then runs the GPU pipeline on the calibrated
module. Checked here: the GPU artifact's report holds the same calibration (per-layer chosen
ranges), SmoothQuant scales, kept outlier channels and per-layer weight errors as the
x86-64-vnni artifact of the same recipe and calibration set (the front is shared; relative
tolerance 1e-6 for float printing), the recipe reaches the kernels (static int8 scales: no
per-token absmax pass; kept channels: a float matmul launch more per split matmul), and the PTX
assembles when ptxas is found. GPU runs of these recipes: bench/gpu_models.py (smol128-*-gptq,
-sq-ko cases). `--eval` stays refused for GPU targets (it runs the artifact on this machine).
"""
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

import qcc_harness as H
from models import build_case
from test_gpu_compile import assemble, check_artifact

RECIPES = {
    "int8-static-smooth-outliers": ("-bits=8", "--act=static", "--smooth=0.5", "--keep-outliers=4"),
    "int8-dynamic-smooth-outliers": ("-bits=8", "--act=dynamic", "--smooth=0.5", "--keep-outliers=4"),
    "int4-gptq": ("-bits=4", "--group-size=32", "--weight-algo=gptq", "--act=none"),
    "int4-awq": ("-bits=4", "--group-size=32", "--awq", "--act=none"),
}


@pytest.fixture(scope="module")
def llama(tmp_path_factory, base_seed):
    d = tmp_path_factory.mktemp("gpu-calib")
    model, _ = build_case("llama_layer", base_seed)
    mpath = d / "model.onnx"
    onnx.save(model, mpath)
    rng = np.random.default_rng(base_seed + 17)
    calib = d / "calib"
    calib.mkdir()
    for i in range(6):
        x = rng.standard_normal((1, 16, 64)).astype(np.float32)
        x[..., [5, 40]] *= 12.0  # two outlier channels, as LLM activations have
        np.savez(calib / f"sample{i:04d}.npz", x=x)
    return mpath, calib


def compile_report(mpath, prefix, target, recipe, calib):
    report = Path(f"{prefix}.report.json")
    bits = int(recipe[0].split("=")[1])
    r = H.compile_model(mpath, prefix, target=target, bits=bits,
                        extra=(*recipe[1:], f"--calib={calib}", f"--report={report}"), timeout=300)
    assert r.ok, f"qcc -target={target} {' '.join(recipe)} --calib failed: {r.first_error_line()}\n{r.describe()}"
    return json.loads(report.read_text())


def close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-6, abs=1e-9)
    return a == b


def same_entries(gpu, cpu, keys, what):
    assert [e["name"] for e in gpu] == [e["name"] for e in cpu], f"{what}: other layers"
    for g, c in zip(gpu, cpu):
        for k in keys:
            assert close(g.get(k), c.get(k)), f"{what} {g['name']}.{k}: GPU {g.get(k)} vs CPU {c.get(k)}"


@pytest.mark.parametrize("name", list(RECIPES))
def test_calibrated_recipe_matches_cpu_front(name, llama, tmp_path):
    mpath, calib = llama
    recipe = RECIPES[name]
    gpu = compile_report(mpath, tmp_path / "gpu" / "model", "sm_80", recipe, calib)
    cpu = compile_report(mpath, tmp_path / "cpu" / "model", "x86-64-vnni", recipe, calib)
    assert gpu["calibration"]["samples"] == 6
    same_entries(gpu["calibration"]["activations"], cpu["calibration"]["activations"],
                 ("channels", "min", "max", "abs_max_chosen"), "calibration")
    layers = lambda rep: [l for l in rep["layers"] if l["bits"] != 32 or "/outliers" in l["name"]]
    same_entries(layers(gpu), layers(cpu), ("format", "bits", "weight_rel_error", "weight_algo"), "layer")
    assert any(l["bits"] == int(recipe[0][-1]) for l in gpu["layers"]), "nothing was quantized"
    if "--smooth=0.5" in recipe:
        assert gpu.get("smoothing"), "no SmoothQuant entries in the GPU report"
        same_entries(gpu["smoothing"], cpu["smoothing"], ("scale_min", "scale_max", "act_absmax_after"),
                     "smoothing")
    if "--keep-outliers=4" in recipe:
        assert gpu.get("outliers"), "no kept outlier channels in the GPU report"
        same_entries(gpu["outliers"], cpu["outliers"], ("channels", "kept"), "outliers")
        assert all(o["kept"] == 4 for o in gpu["outliers"]), gpu["outliers"]
    if "--weight-algo=gptq" in recipe:
        assert all(l["weight_algo"] == "gptq" for l in gpu["layers"] if l["bits"] == 4)
    prefix = tmp_path / "gpu" / "model"
    _, plan, ptx = check_artifact(prefix, 80)
    assemble(Path(f"{prefix}.ptx"), 80)


def launches(prefix):
    plan = json.loads(Path(f"{prefix}.plan.json").read_text())
    return [c for c in plan["commands"] if c["op"] == "launch"]


def test_recipe_reaches_the_kernels(llama, tmp_path):
    # Kept outlier channels stay a separate float matmul on the GPU (the q.matmul lowerings
    # refuse the fused form): more launches than the same recipe without them; static int8
    # activations skip the per-token absmax reduction of the dynamic recipe, so the PTX differs.
    mpath, calib = llama
    seen = {}
    for name, recipe in {"static": ("-bits=8", "--act=static"),
                         "dynamic": ("-bits=8", "--act=dynamic"),
                         "static-ko": ("-bits=8", "--act=static", "--keep-outliers=4")}.items():
        prefix = tmp_path / name / "model"
        compile_report(mpath, prefix, "sm_80", recipe, calib)
        seen[name] = (len(launches(prefix)), Path(f"{prefix}.ptx").read_text())
    assert seen["static-ko"][0] > seen["static"][0], {k: v[0] for k, v in seen.items()}
    assert seen["static"][1] != seen["dynamic"][1], "static and dynamic int8 gave the same kernels"


def test_eval_refused_for_gpu_targets(llama, tmp_path):
    mpath, calib = llama
    r = H.compile_model(mpath, tmp_path / "m", target="sm_80", bits=8,
                        extra=(f"--calib={calib}", f"--eval={calib}"))
    assert not r.ok and "--eval runs the artifact on this machine's CPU" in r.first_error_line(), r.describe()
