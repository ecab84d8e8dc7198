"""End-to-end tests of quantized compiles (-bits=8|4) against the float model.

Quantization changes the numbers, so the comparison is by metrics, not equality (MEASURING.md):
cosine similarity and relative L2 of the outputs against onnxruntime running the float model on
the same fresh random inputs, plus the size of the weight file against the float compile's.
Each recipe runs on the VNNI target (vpdpbusd kernels, when this CPU has VNNI) and on plain
x86-64 (AVX2 vpmaddwd kernels for int8 activations, the portable path otherwise).
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
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
sys.path.insert(0, str(HERE.parents[1] / "scripts" / "models"))
import qcc_harness as H  # noqa: E402
from make_example_bert import build as build_bert, example_input_ids  # noqa: E402

# (flags, minimum cosine, maximum relative L2) against the float model.
RECIPES = {
    "int8-dynamic": (["-bits=8", "--act=dynamic"], 0.999, 0.05),
    "int8-weight-only": (["-bits=8", "--act=none"], 0.9995, 0.03),
    "int4-g32": (["-bits=4", "--group-size=32"], 0.98, 0.20),
    "int4-g128": (["-bits=4", "--group-size=128"], 0.975, 0.23),
    "int4-g64-asym": (["-bits=4", "--group-size=64", "--asym"], 0.98, 0.20),
    "int4-weight-only": (["-bits=4", "--act=none"], 0.975, 0.23),
}


def host_has_vnni() -> bool:
    try:
        return "avx512_vnni" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def make_mlp(rng: np.random.Generator, rows: int = 16) -> onnx.ModelProto:
    """x[rows,256] -> Gemm(512, transB) -> Relu -> MatMul(256) + bias -> Tanh."""
    w1 = (rng.standard_normal((512, 256)) / 16).astype(np.float32)
    b1 = (rng.standard_normal(512) / 10).astype(np.float32)
    w2 = (rng.standard_normal((512, 256)) / 22).astype(np.float32)
    b2 = (rng.standard_normal(256) / 10).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w2"], ["m"], name="fc2"),
             helper.make_node("Add", ["m", "b2"], ["a"], name="bias2"),
             helper.make_node("Tanh", ["a"], ["y"], name="tanh")]
    inits = [numpy_helper.from_array(v, n) for n, v in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, 256])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def rne(x: np.ndarray) -> np.ndarray:
    return np.round(x)  # numpy rounds half to even, like the kernels


def fake_quant_weight(w: np.ndarray, recipe) -> np.ndarray:
    """RTN of a [K, N] weight as lib/Quant does it, dequantized (float32 math). int4
    (quantizeWeightRtn): per group, the clip ratio in 1, 0.98, ..., 0.82 with the smallest squared
    error; symmetric scales are "full range" (the larger end of the shrunk range maps to -8, so the
    scale is negative when that end is positive)."""
    flags = RECIPES[recipe][0] if isinstance(recipe, str) else recipe
    if "-bits=8" in flags:
        # chooseScaleZeroPoint / quantizeValue: the scale divides in double and rounds to float,
        # the codes divide in double (a float32 division can flip a rounding tie).
        s = (np.abs(w).max(axis=0).astype(np.float64) / 127).astype(np.float32)
        s = np.where(s == 0, np.float32(1), s).astype(np.float32)
        q = np.clip(rne(w.astype(np.float64) / s.astype(np.float64)), -128, 127)
        return (q.astype(np.float32) * s).astype(np.float32)
    g = next((int(f.split("=")[1]) for f in flags if f.startswith("--group-size")), 128)
    k, n = w.shape
    wg = w.reshape(k // g, g, n)
    asym = "--asym" in flags
    qmin, qmax = (0, 15) if asym else (-8, 7)
    lo0 = wg.min(axis=1).astype(np.float64)
    hi0 = wg.max(axis=1).astype(np.float64)
    best = best_err = None
    for i in range(10):
        ratio = 1 - i / 50
        lo, hi = lo0 * ratio, hi0 * ratio
        if asym:
            lo, hi = np.minimum(lo, 0), np.maximum(hi, 0)
            s = ((hi - lo) / 15).astype(np.float32)
            s = np.where(s > 0, s, np.float32(1))
            z = np.clip(rne(-lo / s.astype(np.float64)), 0, 15)
        else:
            end = np.where(np.abs(lo) >= np.abs(hi), lo, hi)
            s = (end / -8).astype(np.float32)
            s = np.where(s == 0, np.float32(1), s)
            z = np.zeros_like(lo)
        q = np.clip(rne(wg.astype(np.float64) / s[:, None, :]) + z[:, None, :], qmin, qmax)
        d = ((q - z[:, None, :]).astype(np.float32) * s[:, None, :]).astype(np.float32)
        err = ((wg.astype(np.float64) - d) ** 2).sum(axis=1)
        if best is None:
            best, best_err = d, err
        else:
            better = err < best_err
            best_err = np.where(better, err, best_err)
            best = np.where(better[:, None, :], d, best)
    return best.reshape(k, n)


def fake_quant_rows(x: np.ndarray) -> np.ndarray:
    """Dynamic per-token int8 activations: scale max|row| / 127."""
    m = np.abs(x).max(axis=-1, keepdims=True)
    m = np.where(m == 0, np.float32(127), m)
    inv = np.float32(127) / m
    return (np.clip(rne(x * inv), -128, 127) * (m / np.float32(127))).astype(np.float32)


def simulate_mlp(model: onnx.ModelProto, x: np.ndarray, recipe: str) -> np.ndarray:
    """The MLP with exactly the quantization qcc applies, in float64."""
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    act = "--act=none" not in RECIPES[recipe][0]
    def linear(a, wkn):
        a = fake_quant_rows(a) if act else a
        return a.astype(np.float64) @ fake_quant_weight(wkn, recipe).astype(np.float64)
    h = np.maximum(linear(x, w["w1"].T.copy()) + w["b1"], 0).astype(np.float32)
    return np.tanh(linear(h, w["w2"]) + w["b2"])


def metrics(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    a = actual.astype(np.float64).ravel()
    e = expected.astype(np.float64).ravel()
    cos = float(a @ e / (np.linalg.norm(a) * np.linalg.norm(e)))
    return cos, float(np.linalg.norm(a - e) / np.linalg.norm(e))


def compile_and_run(model_path: Path, prefix: Path, feeds: dict, flags: list[str], target: str):
    r = H.compile_model(model_path, prefix, target=target, bits=32, extra=flags)
    if not r.ok:
        pytest.fail(f"qcc {' '.join(flags)} failed: {r.first_error_line()}", pytrace=False)
    inputs = H.save_inputs(feeds, prefix.parent / "in")
    r = H.run_artifact(prefix, inputs, prefix.parent / "out")
    if not r.ok:
        pytest.fail(f"qcc-run failed: {r.first_error_line()}", pytrace=False)
    return r


@pytest.fixture(scope="module")
def mlp_model(base_seed):
    return make_mlp(np.random.default_rng(base_seed))


@pytest.fixture(scope="module")
def mlp(tmp_path_factory, mlp_model):
    path = tmp_path_factory.mktemp("mlp") / "mlp.onnx"
    onnx.save(mlp_model, path)
    return path


TARGETS = ["x86-64"] + (["x86-64-vnni"] if host_has_vnni() else [])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_mlp_quantized_matches_float(mlp, recipe, target, base_seed, tmp_path):
    flags, min_cos, max_rel = RECIPES[recipe]
    # "-bits" in the recipe overrides the harness's -bits=32 (last one wins).
    x = np.random.default_rng(base_seed + 1).standard_normal((16, 256)).astype(np.float32)
    expected = H.ort_run(mlp, {"x": x})["y"]
    prefix = tmp_path / "q" / "mlp"
    compile_and_run(mlp, prefix, {"x": x}, flags, target)
    got = H.load_outputs(tmp_path / "q" / "out", ["y"])["y"]
    cos, rel = metrics(got, expected)
    assert cos >= min_cos and rel <= max_rel, (
        f"[QCC_TEST_SEED={base_seed}] {recipe} on {target}: cosine {cos:.5f} (>= {min_cos}), "
        f"relative L2 {rel:.4f} (<= {max_rel})")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_mlp_kernels_match_simulated_quantization(mlp, mlp_model, recipe, target, base_seed, tmp_path):
    """Tight check of the kernels: a float64 numpy model that applies exactly the same RTN
    weights and per-token activation quantization. Differences left: float32 accumulation order
    and the odd activation rounding tie (x * (127 / max) against x / scale)."""
    x = np.random.default_rng(base_seed + 3).standard_normal((16, 256)).astype(np.float32)
    expected = simulate_mlp(mlp_model, x, recipe)
    compile_and_run(mlp, tmp_path / "q" / "mlp", {"x": x}, RECIPES[recipe][0], target)
    got = H.load_outputs(tmp_path / "q" / "out", ["y"])["y"]
    rel = H.rel_l2(got, expected)
    assert rel <= 2e-3, f"[QCC_TEST_SEED={base_seed}] {recipe} on {target}: relative L2 {rel:.2e} vs simulation"


@pytest.mark.parametrize("target", TARGETS)
def test_int8_activation_row_absmax(target, base_seed, tmp_path):
    """The per-token activation scale takes the row's max |x| wherever it is: a negative extreme in
    the vector part, an extreme in the K tail (K = 200 = 12 x 16 + 8), negative there, signed
    zeros, an all-zero row (scale 1, zero output). Each row of one MatMul is checked against the
    exact simulation: a missed extreme would clip the row's codes at +-127 and move it by far more
    than the tolerance."""
    rng = np.random.default_rng(base_seed + 4)
    k, n = 200, 64
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    x = rng.standard_normal((5, k)).astype(np.float32)
    x[0, 37] = -40.0          # negative extreme, vector part
    x[1, 195] = 50.0          # extreme in the tail
    x[2, :] = 0.0
    x[2, ::3] = -0.0          # all-zero row with signed zeros
    x[3, 190] = -45.0         # negative extreme in the tail
    x[3, 5] = -0.0
    x[4, 0] = 30.0            # first element
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, n])],
                          [numpy_helper.from_array(w, "w")])
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    compile_and_run(path, tmp_path / "q" / "mm", {"x": x}, RECIPES["int8-dynamic"][0], target)
    got = H.load_outputs(tmp_path / "q" / "out", ["y"])["y"]
    expected = fake_quant_rows(x).astype(np.float64) @ fake_quant_weight(w, "int8-dynamic").astype(np.float64)
    assert np.all(got[2] == 0), f"{target}: zero row gave {got[2][:4]}"
    for r in (0, 1, 3, 4):
        err = np.abs(got[r] - expected[r]).max() / np.abs(expected[r]).max()
        assert err <= 1e-5, f"[QCC_TEST_SEED={base_seed}] {target} row {r}: max error {err:.2e} vs simulation"


# (M, K, N, flags) of single MatMuls for the kernels' edges: the AVX2 kernels' 8-column blocks and
# column tiles (N = 8, 24, 40: N % 16 == 8), their row tiles (4 rows: M = 1, 3, 5, 9, 33), int8 K
# not a multiple of 4 (padded with zero codes), int4 groups 32 / 64 / 128 symmetric and asymmetric,
# and a product large enough for the parallel tile loop (64 x 256 x 256). N = 20 takes the portable
# path there; weight-only int4 (f32 activations) last. K * N >= 4096, the smallest weight qcc
# quantizes.
KERNEL_EDGES = [
    (1, 259, 24, ["-bits=8", "--act=dynamic"]),
    (5, 130, 40, ["-bits=8", "--act=dynamic"]),
    (33, 513, 8, ["-bits=8", "--act=dynamic"]),
    (64, 256, 256, ["-bits=8", "--act=dynamic"]),
    (3, 208, 20, ["-bits=8", "--act=dynamic"]),
    (1, 192, 24, ["-bits=4", "--group-size=32"]),
    (9, 192, 40, ["-bits=4", "--group-size=64"]),
    (5, 640, 8, ["-bits=4", "--group-size=128"]),
    (3, 192, 24, ["-bits=4", "--group-size=32", "--asym"]),
    (64, 256, 256, ["-bits=4", "--group-size=64", "--asym"]),
    (3, 192, 24, ["-bits=4", "--group-size=32", "--act=none"]),
    (7, 256, 40, ["-bits=4", "--group-size=64", "--asym", "--act=none"]),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("m,k,n,flags", KERNEL_EDGES, ids=lambda v: "_".join(v) if isinstance(v, list) else str(v))
def test_kernel_edges_match_simulation(m, k, n, flags, target, base_seed, tmp_path):
    """Each row of one MatMul against the exact simulation (float64 over the same codes): the
    int8-activation kernels' sums are exact integers, so only the float32 scale products differ
    (weight-only: float32 sums)."""
    rng = np.random.default_rng(base_seed + 5 + k + n + m)
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    x = rng.standard_normal((m, k)).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
                          [numpy_helper.from_array(w, "w")])
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    compile_and_run(path, tmp_path / "q" / "mm", {"x": x}, flags, target)
    got = H.load_outputs(tmp_path / "q" / "out", ["y"])["y"]
    a = x if "--act=none" in flags else fake_quant_rows(x)
    expected = a.astype(np.float64) @ fake_quant_weight(w, flags).astype(np.float64)
    for r in range(m):
        err = np.abs(got[r] - expected[r]).max() / np.abs(expected[r]).max()
        assert err <= 2e-5, (f"[QCC_TEST_SEED={base_seed}] {target} {m}x{k}x{n} {' '.join(flags)} row {r}: "
                             f"max error {err:.2e} vs simulation")


@pytest.mark.parametrize("recipe,max_ratio", [("int8-dynamic", 0.30), ("int4-g128", 0.20)])
def test_weight_file_shrinks(mlp, recipe, max_ratio, tmp_path):
    """The quantized weight file is at most max_ratio of the float one (scales included)."""
    r = H.compile_model(mlp, tmp_path / "f" / "m", target="x86-64-vnni" if host_has_vnni() else "x86-64")
    assert r.ok, r.first_error_line()
    r = H.compile_model(mlp, tmp_path / "q" / "m", target="x86-64-vnni" if host_has_vnni() else "x86-64",
                        extra=RECIPES[recipe][0])
    assert r.ok, r.first_error_line()
    f = json.loads((tmp_path / "f" / "m.json").read_text())["weights_size"]
    q = json.loads((tmp_path / "q" / "m.json").read_text())["weights_size"]
    assert q <= max_ratio * f, f"{recipe}: weights {q} bytes vs float {f} bytes (ratio {q / f:.3f})"


@pytest.mark.parametrize("recipe,min_cos", [("int8-dynamic", 0.999), ("int4-g32", 0.95)])
def test_example_bert_quantized(recipe, min_cos, base_seed, tmp_path):
    """The bundled BERT-style encoder: hidden states stay close to the float model's."""
    model_path = tmp_path / "bert.onnx"
    onnx.save(build_bert(), model_path)
    ids = example_input_ids(np.random.default_rng(base_seed + 2))
    expected = H.ort_run(model_path, {"input_ids": ids})
    target = "x86-64-vnni" if host_has_vnni() else "x86-64"
    compile_and_run(model_path, tmp_path / "q" / "bert", {"input_ids": ids}, RECIPES[recipe][0], target)
    got = H.load_outputs(tmp_path / "q" / "out", expected.keys())
    for name, exp in expected.items():
        cos, rel = metrics(got[name], exp)
        assert cos >= min_cos, f"[QCC_TEST_SEED={base_seed}] {recipe} {name}: cosine {cos:.5f} < {min_cos}"


def test_bad_quantization_flags(mlp, tmp_path):
    for flags, needle in [(["-bits=3"], "bits"), (["-bits=4", "--group-size=48"], "group-size"),
                          (["-bits=8", "--act=static"], "calib"), (["-bits=4", "--sym", "--asym"], "asym")]:
        r = H.compile_model(mlp, tmp_path / "m", extra=flags)
        assert not r.ok and needle in r.first_error_line(), (flags, r.first_error_line())


def test_report(mlp, tmp_path):
    """--report lists every matmul with its format, sizes and weight error."""
    report = tmp_path / "report.json"
    r = H.compile_model(mlp, tmp_path / "m", extra=["-bits=4", "--group-size=32", f"--report={report}",
                                                    "--keep-float=fc2"])
    assert r.ok, r.first_error_line()
    data = json.loads(report.read_text())
    layers = {l["name"]: l for l in data["layers"]}
    assert set(layers) == {"fc1", "fc2"}, layers.keys()
    assert layers["fc1"]["bits"] == 4 and layers["fc1"]["format"] == "int4 g32 sym"
    assert layers["fc1"]["weight_bytes_before"] == 256 * 512 * 4
    assert layers["fc1"]["weight_bytes_after"] == 256 * 512 // 2 + (256 // 32) * 512 * 4
    assert 0.05 < layers["fc1"]["weight_rel_error"] < 0.2
    assert layers["fc2"]["bits"] == 32 and "keep-float" in layers["fc2"]["note"]
    assert data["totals"]["quantized_layers"] == 1 and data["totals"]["compile_seconds"] > 0
    assert "total: 1 of 2 matmul layers quantized" in r.stdout


def test_report_gpu_target(mlp, tmp_path):
    """GPU targets write --report too, and take --weight-clip (the MSE clip search of the default
    gives a smaller weight error than the full range)."""
    errors = {}
    for clip in ("auto", "none"):
        report = tmp_path / f"report-{clip}.json"
        r = H.compile_model(mlp, tmp_path / clip / "m", target="sm_80", bits=4,
                            extra=["--group-size=32", f"--weight-clip={clip}", f"--report={report}"])
        assert r.ok, r.first_error_line()
        assert (tmp_path / clip / "m.ptx").is_file()
        data = json.loads(report.read_text())
        layers = {l["name"]: l for l in data["layers"]}
        assert set(layers) == {"fc1", "fc2"}, layers.keys()
        assert layers["fc1"]["format"] == "int4 g32 sym"
        assert layers["fc1"]["activations"] == "float (weight-only)"  # -bits=4 on GPUs: W4A16
        assert "GPU lowering" in layers["fc1"]["note"] and "AVX" not in layers["fc1"]["note"]
        assert data["totals"]["quantized_layers"] == 2
        errors[clip] = layers["fc1"]["weight_rel_error"]
    assert errors["auto"] < errors["none"], errors
