"""End-to-end: the CPU pipeline shares f32 matmuls out over the runtime's pool from 256K
multiply-adds (lib/Pipelines/CpuPipeline.cpp sets qcc-cpu-matmul-microkernel parallel-min-fmas;
the pass's own default is 4M). One-token decoder projections such as SmolLM2's 576x576 and
576x1536 products fall between the two: a QCC_TRACE of a 2-thread run must show them as a pool
region, a 576x192 product (0.11M) must stay serial, and the outputs must be bit-identical at 1, 2
and 3 threads and match onnxruntime (relative L2 <= 1e-5).
"""
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper as oh

import qcc_harness as H
from models import make_model, normal

# (rows, K, N) and whether the product is shared out.
CASES = {"gemv_576x576": (1, 576, 576, True), "gemv_576x1536": (1, 576, 1536, True),
         "gemv2_1536x576": (2, 1536, 576, True), "gemv_576x192": (1, 576, 192, False)}
THREADS = (1, 2, 3)


def _pool_regions(trace: Path) -> tuple[int, int]:
    """(runs, pool regions opened by the caller) in a QCC_TRACE file."""
    runs = regions = 0
    for line in trace.read_text().splitlines():
        kind, slot = line.split()[:2]
        runs += kind == "run"
        regions += kind == "region" and slot == "0"
    return runs, regions


@pytest.mark.parametrize("name", list(CASES))
def test_small_matmul_threads(name, tmp_path, base_seed, monkeypatch):
    m, k, n, shared = CASES[name]
    note = f"[case {name}, QCC_TEST_SEED={base_seed}]"
    rng = np.random.default_rng(base_seed)
    x, w = normal(rng, m, k), normal(rng, k, n, scale=k ** -0.5)
    model = make_model([oh.make_node("MatMul", ["x", "w"], ["y"])], {"x": x}, ["y"], inits={"w": w})
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    expected = H.ort_run(str(mpath), {"x": x})["y"]
    prefix = tmp_path / "art" / "model"
    r = H.compile_model(mpath, prefix, target="host", bits=32, timeout=300)
    assert r.ok, f"{note} qcc failed: {r.first_error_line()}\n{r.describe()}"
    paths = H.save_inputs({"x": x}, tmp_path / "in")
    results = {}
    for threads in THREADS:
        out = tmp_path / f"out{threads}"
        out.mkdir()
        trace = tmp_path / f"trace{threads}.txt"
        monkeypatch.setenv("QCC_TRACE", str(trace))
        r = H.run_artifact(prefix, paths, out, threads=threads, repeat=3, timeout=120)
        assert r.ok, f"{note} qcc-run --threads {threads} failed: {r.first_error_line()}\n{r.describe()}"
        results[threads] = H.load_outputs(out, ["y"])["y"]
        runs, regions = _pool_regions(trace)
        if threads == 2:
            # One region per run when the product is shared out, none when it stays serial.
            assert runs >= 3 and regions == (runs if shared else 0), (
                f"{note} {runs} runs opened {regions} pool regions at 2 threads; expected "
                f"{'one per run' if shared else 'none'} for {m}x{k}x{n}")
    for threads, got in results.items():
        err = H.compare_rel_l2(got, expected, 1e-5)
        assert err is None, f"{note} --threads {threads} vs onnxruntime: {err}"
        assert np.array_equal(got, results[1]), f"{note} --threads {threads} differs from --threads 1"
