"""End-to-end: models large enough for the compiled code to split its matmuls over the runtime's
thread pool (qcc-cpu-matmul-microkernel + qcc-cpu-outline-parallel; each matmul here is above the
default threshold of 4M multiply-adds) give bit-identical outputs with
--threads 1, 2 and 3, and match onnxruntime (relative L2 <= 1e-5). The cases cover each way a
matmul is split: column panels, row blocks (tall-skinny), the batch dimension, and batch x rows.
"""
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper as oh

import qcc_harness as H
from models import make_model, normal

COMPILE_TIMEOUT = 300
RUN_TIMEOUT = 120
THREADS = (1, 2, 3)


def _mlp(rng):
    # 64x256x512 then 64x512x256: column panels.
    x = normal(rng, 64, 256)
    w1, b1 = normal(rng, 256, 512, scale=0.06), normal(rng, 512)
    w2 = normal(rng, 512, 256, scale=0.04)
    nodes = [oh.make_node("MatMul", ["x", "w1"], ["h"]), oh.make_node("Add", ["h", "b1"], ["hb"]),
             oh.make_node("Relu", ["hb"], ["r"]), oh.make_node("MatMul", ["r", "w2"], ["y"])]
    return make_model(nodes, {"x": x}, ["y"], inits={"w1": w1, "b1": b1, "w2": w2}), {"x": x}


def _tall_skinny(rng):
    # 1000x128x40: one full column panel, so row blocks; ragged rows and columns.
    x = normal(rng, 1000, 128)
    w = normal(rng, 128, 40, scale=0.09)
    return make_model([oh.make_node("MatMul", ["x", "w"], ["y"])], {"x": x}, ["y"], inits={"w": w}), {"x": x}


def _batched(rng):
    # 16 x (64x128x64): the batch dimension.
    a, b = normal(rng, 16, 64, 128), normal(rng, 16, 128, 64)
    feeds = {"a": a, "b": b}
    return make_model([oh.make_node("MatMul", ["a", "b"], ["y"])], feeds, ["y"]), feeds


def _batched_rows(rng):
    # 3 x (200x128x80): batch x row blocks.
    a, b = normal(rng, 3, 200, 128), normal(rng, 3, 128, 80)
    feeds = {"a": a, "b": b}
    return make_model([oh.make_node("MatMul", ["a", "b"], ["y"])], feeds, ["y"]), feeds


def _gemv(rng):
    # 1x2048x2100: column panels of a single row, ragged columns.
    x = normal(rng, 1, 2048)
    w = normal(rng, 2048, 2100, scale=0.02)
    return make_model([oh.make_node("MatMul", ["x", "w"], ["y"])], {"x": x}, ["y"], inits={"w": w}), {"x": x}


CASES = {"mlp": _mlp, "tall_skinny": _tall_skinny, "batched": _batched, "batched_rows": _batched_rows,
         "gemv": _gemv}


@pytest.mark.parametrize("name", list(CASES))
def test_threads_identical(name, tmp_path, base_seed):
    note = f"[case {name}, QCC_TEST_SEED={base_seed}]"
    model, feeds = CASES[name](np.random.default_rng(base_seed))
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    expected = H.ort_run(str(mpath), feeds)
    prefix = tmp_path / "art" / "model"
    r = H.compile_model(mpath, prefix, target="host", bits=32, timeout=COMPILE_TIMEOUT)
    assert r.ok, f"{note} qcc failed: {r.first_error_line()}\n{r.describe()}"
    paths = H.save_inputs(feeds, tmp_path / "in")
    results = {}
    for threads in THREADS:
        out = tmp_path / f"out{threads}"
        Path(out).mkdir(parents=True, exist_ok=True)
        r = H.run_artifact(prefix, paths, out, threads=threads, timeout=RUN_TIMEOUT)
        assert r.ok, f"{note} qcc-run --threads {threads} failed: {r.first_error_line()}\n{r.describe()}"
        results[threads] = H.load_outputs(out, expected.keys())
    for out_name, exp in expected.items():
        for threads, got in results.items():
            err = H.compare_rel_l2(got[out_name], exp, 1e-5)
            assert err is None, f"{note} --threads {threads}, output '{out_name}' vs onnxruntime: {err}"
        serial = results[THREADS[0]][out_name]
        for threads in THREADS[1:]:
            assert np.array_equal(results[threads][out_name], serial), (
                f"{note} output '{out_name}' differs between --threads {THREADS[0]} and --threads {threads}")
