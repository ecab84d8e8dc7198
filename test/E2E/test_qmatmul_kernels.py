"""The tiled q.matmul kernels (AVX-512 VNNI, and their AVX2 forms on x86-64) on shapes that exercise
their edges.

test_quantized.py checks every recipe on a small MLP; here one MatMul per case is large enough
for the kernels' parallel (column tile, row tile) loop (M*K*N >= 4M multiply-adds) and has
row and column remainders (M not a multiple of the row tile, N/16 not a multiple of the column
tile), plus M=1 (GEMV tiles) and a bias. Each case is checked against the float64 simulation of
test_quantized.py (same RTN weights and per-token int8 activations), and the 2-thread output
must equal the 1-thread output bit for bit (each output element is computed by one tile).
x86-64 (AVX2: vpmaddwd kernels for int8 activations, 8-column blocks; weight-only int4 takes the
portable path) runs everywhere; x86-64-vnni only on a CPU with AVX-512 VNNI.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import qcc_harness as H
from test_quantized import RECIPES, fake_quant_rows, fake_quant_weight, host_has_vnni

TARGETS = ["x86-64"] + (["x86-64-vnni"] if host_has_vnni() else [])

# (M, K, N): remainders of the default tiles (4 rows; 4 or 2 column blocks) and M = 1; for the
# weight-only kernel also its panel form (8+ rows: 8 x 3 tiles, here 5 row tiles and a 1-block
# column tail) and its 2-row GEMV form.
SHAPES = [(17, 512, 528), (1, 1024, 4112), (6, 256, 80), (40, 256, 112), (2, 512, 96)]
CASES = ["int8-dynamic", "int4-g32", "int4-g128", "int4-g64-asym", "int4-weight-only", "int4-g64-asym-weight-only"]
# Recipes of this file only: {name: (qcc flags, the test_quantized recipe with the same weights)}.
LOCAL_RECIPES = {"int4-g64-asym-weight-only": (RECIPES["int4-g64-asym"][0] + ["--act=none"], "int4-g64-asym")}


def recipe_flags(recipe):
    return LOCAL_RECIPES[recipe][0] if recipe in LOCAL_RECIPES else RECIPES[recipe][0]


def matmul_model(rng, m, k, n):
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    bias = (rng.standard_normal(n) / 10).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])]
    g = helper.make_graph(nodes, "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
                          [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), w, bias


def outputs_by_threads(prefix, x, tmp_path, threads=(1, 2)):
    """{T: output y of the artifact at `prefix` on input x with T threads}."""
    inputs = H.save_inputs({"x": x}, tmp_path / "in")
    outs = {}
    for t in threads:
        od = H.fresh_dir(tmp_path / f"out{t}")
        rr = H.run_artifact(prefix, inputs, od, threads=t)
        assert rr.ok, f"qcc-run --threads {t}: {rr.first_error_line()}"
        outs[t] = H.load_outputs(od, ["y"])["y"]
    return outs


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("recipe", CASES)
@pytest.mark.parametrize("target", TARGETS)
def test_kernel_matches_simulation_and_threads_agree(target, recipe, shape, base_seed, tmp_path):
    m, k, n = shape
    rng = np.random.default_rng(base_seed + m * 7 + n)
    model, w, bias = matmul_model(rng, m, k, n)
    path = tmp_path / "mm.onnx"
    onnx.save(model, path)
    prefix = tmp_path / "q" / "mm"
    r = H.compile_model(path, prefix, target=target, bits=32, extra=recipe_flags(recipe))
    assert r.ok, f"qcc {recipe} failed: {r.first_error_line()}"
    x = rng.standard_normal((m, k)).astype(np.float32)
    outs = outputs_by_threads(prefix, x, tmp_path)
    a = fake_quant_rows(x) if "--act=none" not in recipe_flags(recipe) else x
    weights = LOCAL_RECIPES[recipe][1] if recipe in LOCAL_RECIPES else recipe
    expected = a.astype(np.float64) @ fake_quant_weight(w, weights).astype(np.float64) + bias
    rel = H.rel_l2(outs[1], expected)
    assert rel <= 2e-3, f"[QCC_TEST_SEED={base_seed}] {recipe} {shape}: relative L2 {rel:.2e} vs simulation"
    assert np.array_equal(outs[1], outs[2]), (
        f"[QCC_TEST_SEED={base_seed}] {recipe} {shape}: 2 threads differ from 1 thread, max "
        f"{np.abs(outs[1] - outs[2]).max():.3e}")
