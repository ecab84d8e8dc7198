"""fp32 MatMul through the register-blocked microkernel, packed weights included.

A constant f32 weight of a MatMul with at least 3 rows is stored panel by panel
(qcc-cpu-pack-matmul-weights: panels as wide as the microkernel's block, 48 columns from 8 rows,
96 with 4, 64 with 5, 128 with 3; the last one zero-padded) and read from its panels by the
microkernel; 1-2 rows keep the row-major weight (GEMV form). The shapes cover row remainders (9,
17 rows), column tails inside the last panel (N = 100: two full panels and a 4-column masked
vector; N = 4112: a 32-column last panel), the parallel column split (>= 4M multiply-adds), M =
16 and 128, the short blocks (3-7 rows), 2 rows (not packed), and one weight shared by two
MatMuls (not packed). Each output is checked against the float64 product (relative L2 <= 1e-5), and the
2-thread output must equal the 1-thread output bit for bit (each element is summed in K order by
one block). Whether the weight was packed is checked on the weight file's size (padding).
Skipped, with a message, on a CPU without AVX-512.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import qcc_harness as H
from test_qmatmul_kernels import outputs_by_threads
from test_quantized import host_has_vnni

pytestmark = pytest.mark.skipif(not host_has_vnni(), reason="the x86-64-vnni target needs AVX-512")

# (M, K, N, panel of the packed weight; 0: not packed)
SHAPES = [(16, 256, 4112, 48), (9, 64, 100, 48), (8, 37, 48, 48), (17, 96, 100, 48), (128, 384, 100, 48),
          (7, 64, 100, 48), (5, 64, 100, 64), (4, 64, 200, 96), (3, 32, 300, 128), (2, 64, 100, 0)]


def matmul_model(rng, m, k, n, shared=False):
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    if shared:   # y = (x @ W) @ W with K = N: the same initializer used twice
        nodes = [helper.make_node("MatMul", ["x", "w"], ["t"]), helper.make_node("MatMul", ["t", "w"], ["y"])]
    else:
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"])]
    g = helper.make_graph(nodes, "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
                          [numpy_helper.from_array(w, "w")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), w


def run_both(tmp_path, model, x):
    path = tmp_path / "mm.onnx"
    onnx.save(model, path)
    prefix = tmp_path / "q" / "mm"
    r = H.compile_model(path, prefix, target="x86-64-vnni", bits=32)
    assert r.ok, f"qcc failed: {r.first_error_line()}"
    return outputs_by_threads(prefix, x, tmp_path), (tmp_path / "q" / "mm.weights").stat().st_size


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:3])))
def test_fp32_matmul_matches_float64_and_threads_agree(shape, base_seed, tmp_path):
    m, k, n, panel = shape
    rng = np.random.default_rng(base_seed + m * 7 + n)
    model, w = matmul_model(rng, m, k, n)
    x = rng.standard_normal((m, k)).astype(np.float32)
    outs, weight_bytes = run_both(tmp_path, model, x)
    expected = x.astype(np.float64) @ w.astype(np.float64)
    rel = H.rel_l2(outs[1], expected)
    assert rel <= 1e-5, f"[QCC_TEST_SEED={base_seed}] {shape}: relative L2 {rel:.2e} vs float64"
    assert np.array_equal(outs[1], outs[2]), (
        f"[QCC_TEST_SEED={base_seed}] {shape}: 2 threads differ from 1 thread, max "
        f"{np.abs(outs[1] - outs[2]).max():.3e}")
    if panel:
        padded = 4 * k * (-(-n // panel) * panel)
        assert weight_bytes >= padded, f"{shape}: weight file {weight_bytes} B, packed weight is {padded} B"
    else:   # 48-column panels would add 44 columns to N = 100
        assert weight_bytes < 4 * k * (n + 44), f"{shape}: weight file {weight_bytes} B: packed although M < 3"


def test_shared_weight_is_not_packed(base_seed, tmp_path):
    m, k = 16, 96   # N = K = 96: two full panels, so only the size of two copies would differ
    rng = np.random.default_rng(base_seed + 5)
    model, w = matmul_model(rng, m, k, k, shared=True)
    x = rng.standard_normal((m, k)).astype(np.float32)
    outs, weight_bytes = run_both(tmp_path, model, x)
    w64 = w.astype(np.float64)
    expected = x.astype(np.float64) @ w64 @ w64
    rel = H.rel_l2(outs[1], expected)
    assert rel <= 1e-5, f"[QCC_TEST_SEED={base_seed}] shared weight: relative L2 {rel:.2e} vs float64"
    assert np.array_equal(outs[1], outs[2])
    assert weight_bytes < 2 * 4 * k * k, f"shared weight stored {weight_bytes} B (more than one copy)"
