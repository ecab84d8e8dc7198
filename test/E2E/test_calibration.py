"""End-to-end tests of calibration (--calib, --act=static) and evaluation (--eval).

The calibrated artifact is checked against a float64 numpy simulation of exactly the
quantization qcc applies (per-channel int8 weights, int8 activations per tensor with the scale
max|x| / 127 that min/max calibration picks from the calibration sets), with relative L2 <= 2e-3
(float32 accumulation order and rare rounding ties differ). Every input-set layout --calib takes
is exercised, and every kind of bad calibration data must give a one-line error.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
import qcc_harness as H  # noqa: E402
from recipe_harness import compile_flags as qcc, run_y as run, saved_model  # noqa: E402
from test_quantized import TARGETS, fake_quant_weight, make_mlp, metrics, rne  # noqa: E402

ROWS = 16


@pytest.fixture(scope="module")
def mlp_model(base_seed):
    return make_mlp(np.random.default_rng(base_seed), rows=ROWS)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory, mlp_model):
    return saved_model(tmp_path_factory, "calib-mlp", mlp_model)


def calib_samples(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, ROWS, 256)) * 0.8).astype(np.float32)


def fake_quant_static(x: np.ndarray, absmax: float) -> np.ndarray:
    s = np.float32(np.float64(np.float32(absmax)) / 127.0)
    s = s if s > 0 else np.float32(1)
    inv = np.float32(1) / s
    return (np.clip(rne(x * inv), -128, 127) * s).astype(np.float32)


def simulate_static(model: onnx.ModelProto, calib: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The MLP with static int8 activations calibrated by min/max on `calib`."""
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    w1 = fake_quant_weight(w["w1"].T.copy(), "int8-dynamic").astype(np.float64)
    w2 = fake_quant_weight(w["w2"], "int8-dynamic").astype(np.float64)

    def hidden(a):
        return np.maximum(a.astype(np.float64) @ w["w1"].T.astype(np.float64) + w["b1"], 0).astype(np.float32)

    absmax1 = float(np.abs(calib).max())
    absmax2 = float(max(np.abs(hidden(c)).max() for c in calib))
    h = np.maximum(fake_quant_static(x, absmax1).astype(np.float64) @ w1 + w["b1"], 0).astype(np.float32)
    return np.tanh(fake_quant_static(h, absmax2).astype(np.float64) @ w2 + w["b2"])


@pytest.mark.parametrize("target", TARGETS)
def test_static_int8_matches_simulation(mlp, mlp_model, target, base_seed, tmp_path):
    calib = calib_samples(base_seed + 1, 12)
    np.savez(tmp_path / "calib.npz", x=calib)
    prefix = tmp_path / "m" / "model"
    r = qcc(mlp, prefix, "-bits=8", "--calib", str(tmp_path / "calib.npz"), "--calib-method=minmax",
            "--calib-min-sqnr=0", f"--report={tmp_path / 'report.json'}", target=target)
    assert r.ok, r.first_error_line()
    x = (np.random.default_rng(base_seed + 2).standard_normal((ROWS, 256)) * 0.7).astype(np.float32)
    got = run(prefix, x)
    want = simulate_static(mlp_model, calib, x)
    cos, rel = metrics(got, want)
    assert rel <= 2e-3, f"static int8 vs simulation: rel L2 {rel:.2e}, cosine {cos:.6f} (seed {base_seed})"

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["calibration"]["method"] == "minmax"
    assert report["calibration"]["samples"] == 12
    acts = {a["name"]: a for a in report["calibration"]["activations"]}
    assert acts["fc1"]["abs_max_chosen"] == pytest.approx(float(np.abs(calib).max()), rel=1e-6)
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["fc2"]["activations"].startswith("int8 per tensor, static (minmax, 12 samples")


def test_low_sqnr_layers_fall_back_to_per_token(mlp, base_seed, tmp_path):
    """A layer whose static scale would lose too much runs per token: with the bar at 99 dB
    every layer does, and the artifact computes exactly what --act=dynamic computes."""
    np.savez(tmp_path / "calib.npz", x=calib_samples(base_seed + 7, 4))
    x = calib_samples(base_seed + 8, 1)[0]
    r = qcc(mlp, tmp_path / "s" / "model", "-bits=8", "--calib", str(tmp_path / "calib.npz"),
            "--calib-min-sqnr=99", f"--report={tmp_path / 'r.json'}")
    assert r.ok, r.first_error_line()
    r = qcc(mlp, tmp_path / "d" / "model", "-bits=8", "--act=dynamic")
    assert r.ok, r.first_error_line()
    np.testing.assert_array_equal(run(tmp_path / "s" / "model", x), run(tmp_path / "d" / "model", x))
    report = json.loads((tmp_path / "r.json").read_text())
    assert all(a["per_token_fallback"] for a in report["calibration"]["activations"])
    assert all(layer["activations"].startswith("int8 per token (run time): static per-tensor SQNR would be")
               for layer in report["layers"])


def test_default_min_sqnr_is_30_db(mlp, base_seed, tmp_path):
    """The default --calib-min-sqnr is 30 dB: a layer calibrated at 25-30 dB goes per token unless
    the bar is lowered. fc1's input: unit Gaussians and one value 18.6x their deviation, so the
    per-tensor scale 18.6 / 127 leaves about 52.9 - 20 log10(18.6) = 27.5 dB."""
    calib = np.random.default_rng(base_seed + 9).standard_normal((4, ROWS, 256)).astype(np.float32)
    calib[0, 3, 17] = 18.6
    np.savez(tmp_path / "calib.npz", x=calib)
    fallback = {}
    for name, flags in (("default", []), ("25", ["--calib-min-sqnr=25"])):
        r = qcc(mlp, tmp_path / name / "model", "-bits=8", "--calib", str(tmp_path / "calib.npz"), *flags,
                f"--report={tmp_path / (name + '.json')}")
        assert r.ok, r.first_error_line()
        acts = {a["name"]: a for a in json.loads((tmp_path / (name + ".json")).read_text())["calibration"]["activations"]}
        assert 25 < acts["fc1"]["static_sqnr_db"] < 30, acts["fc1"]["static_sqnr_db"]
        fallback[name] = acts["fc1"]["per_token_fallback"]
    assert fallback == {"default": True, "25": False}


@pytest.mark.parametrize("method", ["percentile", "entropy", "mse"])
def test_calibration_methods_stay_close_to_float(mlp, mlp_model, method, base_seed, tmp_path):
    np.savez(tmp_path / "calib.npz", x=calib_samples(base_seed + 3, 8))
    prefix = tmp_path / "m" / "model"
    r = qcc(mlp, prefix, "-bits=8", "--calib", str(tmp_path / "calib.npz"), f"--calib-method={method}",
            f"--report={tmp_path / 'r.json'}", target="host")
    assert r.ok, r.first_error_line()
    x = calib_samples(base_seed + 4, 1)[0]
    import onnxruntime as ort
    sess = ort.InferenceSession(str(mlp), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"x": x})[0]
    cos, rel = metrics(run(prefix, x), ref)
    # KL calibration clips post-ReLU activations hard on small sample counts (it trades
    # outliers for resolution by design), so it gets a looser bound.
    min_cos, max_rel = (0.98, 0.2) if method == "entropy" else (0.999, 0.05)
    assert cos >= min_cos and rel <= max_rel, \
        f"{method}: cosine {cos:.6f}, rel L2 {rel:.3e} (seed {base_seed})"
    report = json.loads((tmp_path / "r.json").read_text())
    acts = report["calibration"]["activations"]
    # Clipping methods never pick more than the observed maximum.
    assert all(a["abs_max_chosen"] <= max(-a["min"], a["max"]) * (1 + 1e-6) for a in acts)


def write_layouts(root: Path, samples: np.ndarray) -> dict[str, Path]:
    """The same sets in each layout --calib reads."""
    layouts = {}
    npz_dir = root / "npz-folder"
    npz_dir.mkdir(parents=True)
    for i, s in enumerate(samples):
        np.savez(npz_dir / f"set{i}.npz", x=s)
    layouts["npz-folder"] = npz_dir
    pb_dir = root / "onnx-test-data"
    for i, s in enumerate(samples):
        d = pb_dir / f"test_data_set_{i}"
        d.mkdir(parents=True)
        (d / "input_0.pb").write_bytes(numpy_helper.from_array(s, "x").SerializeToString())
        # Expected outputs in the same folder are ignored.
        (d / "output_0.pb").write_bytes(numpy_helper.from_array(s[:, :4], "y").SerializeToString())
    layouts["onnx-test-data"] = pb_dir
    npy_dir = root / "npy-folders"
    for i, s in enumerate(samples):
        d = npy_dir / f"{i:03d}"
        d.mkdir(parents=True)
        np.save(d / "x.npy", s)
    layouts["npy-folders"] = npy_dir
    return layouts


def test_every_layout_gives_the_same_calibration(mlp, base_seed, tmp_path):
    samples = calib_samples(base_seed + 5, 3)
    layouts = write_layouts(tmp_path / "data", samples)
    np.savez(tmp_path / "stacked.npz", x=samples)
    layouts["stacked-npz"] = tmp_path / "stacked.npz"
    chosen = {}
    for name, path in layouts.items():
        report = tmp_path / f"{name}.json"
        r = qcc(mlp, tmp_path / name / "model", "-bits=8", "--calib", str(path), "--calib-method=minmax",
                f"--report={report}", target="x86-64")
        assert r.ok, f"{name}: {r.first_error_line()}"
        cal = json.loads(report.read_text())["calibration"]
        assert cal["samples"] == 3, name
        chosen[name] = [a["abs_max_chosen"] for a in cal["activations"]]
    first = next(iter(chosen.values()))
    for name, values in chosen.items():
        assert values == first, f"{name} calibrated differently: {values} vs {first}"


@pytest.mark.parametrize("target", ["x86-64-avx512", "x86-64-vnni"])
def test_calibration_for_a_cpu_this_machine_lacks(mlp, target, base_seed, tmp_path):
    """Calibration runs the float model on the compiling machine: for a target whose features
    the host lacks (x86-64-vnni built on an AVX2 machine) it runs the host's best CPU target and
    calibrates to the same ranges as the portable x86-64 target (float32 rounding aside)."""
    samples = calib_samples(base_seed + 6, 2)
    np.savez(tmp_path / "calib.npz", x=samples)
    chosen = {}
    for t in ("x86-64", target):
        report = tmp_path / f"{t}.json"
        r = qcc(mlp, tmp_path / t / "model", "-bits=8", "--calib", str(tmp_path / "calib.npz"),
                "--calib-method=minmax", f"--report={report}", target=t)
        assert r.ok, f"{t}: {r.first_error_line()}"
        chosen[t] = [a["abs_max_chosen"] for a in json.loads(report.read_text())["calibration"]["activations"]]
    assert len(chosen[target]) == len(chosen["x86-64"]) > 0
    np.testing.assert_allclose(chosen[target], chosen["x86-64"], rtol=1e-5)


def test_eval_reports_quality(mlp, base_seed, tmp_path):
    np.savez(tmp_path / "eval.npz", x=calib_samples(base_seed + 6, 4))
    prefix = tmp_path / "m" / "model"
    report = tmp_path / "r.json"
    r = qcc(mlp, prefix, "-bits=4", "--group-size=32", "--eval", str(tmp_path / "eval.npz"),
            f"--report={report}", target="host")
    assert r.ok, r.first_error_line()
    assert "quality vs float over 4 input sets" in r.stdout
    q = json.loads(report.read_text())["quality"]
    assert q["samples"] == 4
    (out,) = q["outputs"]
    assert out["name"] == "y"
    assert 0.98 <= out["mean_cosine"] <= 1.0 and out["min_cosine"] <= out["mean_cosine"]
    assert 0.0 < out["mean_rel_l2"] < 0.25
    assert 0.5 <= out["top1_agreement"] <= 1.0

    # The float compile agrees with itself.
    r = qcc(mlp, tmp_path / "f" / "model", "--eval", str(tmp_path / "eval.npz"),
            f"--report={tmp_path / 'f.json'}", target="host")
    assert r.ok, r.first_error_line()


BAD = [
    # (what, files to write: name -> array or None for a folder, flags, expected message part)
    ("missing input", {"a.npz": {"y": np.zeros((ROWS, 256), np.float32)}}, [], "no entry for model input 'x'"),
    ("wrong dtype", {"a.npz": {"x": np.zeros((ROWS, 256), np.float64)}}, [], "is float64; the model expects float32"),
    ("wrong shape", {"a.npz": {"x": np.zeros((ROWS, 128), np.float32)}}, [], "has shape [16x128]"),
    ("extra tensor", {"a.npz": {"x": np.zeros((ROWS, 256), np.float32), "z": np.zeros(3, np.float32)}}, [],
     "'z' is not an input of the model"),
    ("empty folder", {}, [], "no input sets in"),
]


@pytest.mark.parametrize("what,files,flags,message", BAD, ids=[b[0] for b in BAD])
def test_bad_calibration_data(mlp, tmp_path, what, files, flags, message):
    data = tmp_path / "calib"
    data.mkdir()
    for name, arrays in files.items():
        np.savez(data / name, **arrays)
    r = qcc(mlp, tmp_path / "m" / "model", "-bits=8", "--calib", str(data), *flags)
    assert not r.ok, f"{what}: qcc accepted bad calibration data"
    line = r.first_error_line()
    assert message in line, f"{what}: {line}"
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_bad_calibration_flags(mlp, tmp_path):
    np.savez(tmp_path / "c.npz", x=calib_samples(1, 2))
    cases = [(["-bits=8", "--act=static"], "--act=static needs calibration inputs"),
             (["--calib", str(tmp_path / "c.npz")], "use it with -bits=8 or -bits=4"),
             (["-bits=8", "--calib", str(tmp_path / "c.npz"), "--calib-method=best"], "unknown --calib-method"),
             (["-bits=8", "--calib", str(tmp_path / "nope")], "cannot read"),
             (["-bits=8", "--calib", str(tmp_path / "c.npz"), "--calib-percentile=0"], "--calib-percentile")]
    for flags, message in cases:
        r = qcc(mlp, tmp_path / "m" / "model", *flags)
        assert not r.ok and message in r.first_error_line(), (flags, r.stderr)


def test_calibration_statistics_for_later_passes(mlp, base_seed, tmp_path):
    """--calib-stats writes per-layer channel statistics and X^T X (GPTQ/AWQ inputs)."""
    calib = calib_samples(base_seed + 9, 5)
    np.savez(tmp_path / "calib.npz", x=calib)
    stats = tmp_path / "stats"
    r = qcc(mlp, tmp_path / "m" / "model", "-bits=8", "--calib", str(tmp_path / "calib.npz"),
            "--calib-stats", str(stats))
    assert r.ok, r.first_error_line()
    index = json.loads((stats / "index.json").read_text())
    assert index["samples"] == 5
    entry = next(a for a in index["activations"] if a["layers"] == ["fc1"])
    rows = calib.reshape(-1, 256).astype(np.float64)
    assert entry["rows"] == rows.shape[0]
    prefix = stats / entry["file_prefix"]
    np.testing.assert_allclose(np.load(f"{prefix}.xtx.npy"), rows.T @ rows / rows.shape[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.load(f"{prefix}.mean_abs.npy"), np.abs(rows).mean(axis=0), rtol=1e-9)
    np.testing.assert_array_equal(np.load(f"{prefix}.max_abs.npy"), np.abs(calib).reshape(-1, 256).max(axis=0))


def test_quantized_embeddings(base_seed, tmp_path):
    """--quantize-embeddings stores a Gather table as int8 rows: the output equals a numpy
    simulation of per-row symmetric int8, and the weight file shrinks accordingly."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(base_seed + 10)
    table = rng.standard_normal((512, 64)).astype(np.float32)
    table[7] *= 50  # rows with very different ranges each get their own scale
    w = (rng.standard_normal((64, 32)) / 8).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
         helper.make_node("Tanh", ["e"], ["y"], name="tanh")], "emb",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 64])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "w")])
    path = tmp_path / "emb.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    ids = rng.integers(0, 512, (1, 16)).astype(np.int64)
    ids[0, 0] = 7
    report = tmp_path / "r.json"
    prefix = tmp_path / "q" / "model"
    r = qcc(path, prefix, "-bits=8", "--quantize-embeddings", f"--report={report}")
    assert r.ok, r.first_error_line()
    H.save_inputs({"ids": ids}, tmp_path / "in")
    r = H.run_artifact(prefix, H.save_inputs({"ids": ids}, tmp_path / "in"), tmp_path / "out")
    assert r.ok, r.first_error_line()
    got = np.load(tmp_path / "out" / "y.npy")
    s = (np.abs(table).max(axis=1) / np.float32(127)).astype(np.float32)
    deq = (np.clip(rne(table / s[:, None]), -128, 127) * s[:, None]).astype(np.float32)
    np.testing.assert_allclose(got, np.tanh(deq[ids]), rtol=2e-6, atol=2e-6)
    layer = json.loads(report.read_text())["layers"][0]
    assert layer["format"] == "int8 per-row (embedding)" and layer["name"] == "embed"
    assert layer["weight_bytes_after"] == 512 * 64 + 512 * 4
    assert (tmp_path / "q" / "model.weights").stat().st_size < table.nbytes / 3
    r = qcc(path, tmp_path / "f" / "model", "--quantize-embeddings")
    assert not r.ok and "needs -bits=8 or -bits=4" in r.first_error_line()


def test_tied_embedding_head_is_transposed_at_compile_time(base_seed, tmp_path):
    """A table read by a Gather and, transposed, by the LM head's Gemm (tied embeddings, as in
    SmolLM2) is permuted once at compile time: no transpose runs per call (it cost SmolLM2's
    one-token forward 1.4 s), and the head is an ordinary quantizable matmul."""
    from onnx import TensorProto, helper
    import onnxruntime as ort
    rng = np.random.default_rng(base_seed + 11)
    table = (rng.standard_normal((256, 64)) / 4).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
         helper.make_node("Reshape", ["e", "shape"], ["h"], name="flat"),
         helper.make_node("Gemm", ["h", "table"], ["y"], transB=1, name="lm_head")], "tied",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 256])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array([4, 64], np.int64), "shape")])
    path = tmp_path / "tied.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    r = H.run_tool([H.QCC, path, "--emit=mlir", "-o", "-"])
    assert r.ok, r.first_error_line()
    assert "linalg.transpose" not in r.stdout
    ids = rng.integers(0, 256, (1, 4)).astype(np.int64)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
    for flags, tol in (([], 1e-5), (["-bits=8", f"--report={tmp_path / 'r.json'}"], 0.05)):
        prefix = tmp_path / ("q" if flags else "f") / "model"
        r = qcc(path, prefix, *flags)
        assert r.ok, r.first_error_line()
        out = tmp_path / ("oq" if flags else "of")
        r = H.run_artifact(prefix, H.save_inputs({"ids": ids}, tmp_path / "in"), out)
        assert r.ok, r.first_error_line()
        _, rel = metrics(np.load(out / "y.npy"), ref)
        assert rel <= tol, f"{flags}: rel L2 {rel:.2e}"
    layers = json.loads((tmp_path / "r.json").read_text())["layers"]
    assert any(layer["name"] == "lm_head" and layer["format"] == "int8 per-channel" for layer in layers)


def masked_mlp(tmp_path: Path, mlp_model) -> Path:
    """The MLP with an extra int64 input attention_mask [1, ROWS] (read by nothing): calibration
    takes its zero entries as padding positions."""
    m = onnx.ModelProto()
    m.CopyFrom(mlp_model)
    m.graph.input.append(onnx.helper.make_tensor_value_info("attention_mask", onnx.TensorProto.INT64, [1, ROWS]))
    path = tmp_path / "masked.onnx"
    onnx.save(m, path)
    return path


def test_padding_positions_are_left_out(mlp_model, base_seed, tmp_path):
    """Rows whose attention_mask entry is 0 (padding) count in no statistic: X^T X, channel bounds
    and the calibrated range describe the real tokens only; --calib-token-mask=none counts all."""
    model = masked_mlp(tmp_path, mlp_model)
    calib = calib_samples(base_seed + 21, 4)
    mask = np.ones((4, 1, ROWS), np.int64)
    for i, real in enumerate((16, 5, 9, 1)):
        mask[i, 0, real:] = 0
    calib[mask[:, 0, :] == 0] = 50.0  # padding rows: far outside the real rows' range
    np.savez(tmp_path / "calib.npz", x=calib, attention_mask=mask)
    kept = calib[mask[:, 0, :] != 0].astype(np.float64)
    for flags, rows in (([], kept), (["--calib-token-mask=none"], calib.reshape(-1, 256).astype(np.float64)),
                        (["--calib-token-mask=attention_mask"], kept)):
        stats, report = tmp_path / f"stats{len(flags)}{len(rows)}", tmp_path / f"r{len(flags)}{len(rows)}.json"
        r = qcc(model, tmp_path / "m" / "model", "-bits=8", "--calib", str(tmp_path / "calib.npz"),
                "--act=static", "--calib-min-sqnr=0", "--calib-stats", str(stats), f"--report={report}", *flags)
        assert r.ok, r.first_error_line()
        entry = next(a for a in json.loads((stats / "index.json").read_text())["activations"]
                     if a["layers"] == ["fc1"])
        assert entry["rows"] == rows.shape[0], flags
        prefix = stats / entry["file_prefix"]
        np.testing.assert_allclose(np.load(f"{prefix}.xtx.npy"), rows.T @ rows / rows.shape[0], rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_array_equal(np.load(f"{prefix}.max_abs.npy"), np.abs(rows).max(axis=0).astype(np.float32))
        cal = json.loads(report.read_text())["calibration"]
        act = next(a for a in cal["activations"] if a["name"] == "fc1")
        assert act["abs_max_chosen"] == pytest.approx(float(np.abs(rows).max()), rel=1e-6), flags
        assert act["values"] == rows.size, flags
        if flags != ["--calib-token-mask=none"]:
            assert (cal["token_mask"], cal["positions_kept"], cal["positions_total"]) == \
                ("attention_mask", len(kept), 4 * ROWS)
        else:
            assert "token_mask" not in cal


def test_bad_token_mask(mlp_model, tmp_path):
    model = masked_mlp(tmp_path, mlp_model)
    np.savez(tmp_path / "c.npz", x=calib_samples(3, 2), attention_mask=np.ones((2, 1, ROWS), np.int64))
    cases = [(["--calib-token-mask=nope"], "the token mask 'nope' is not an input of the model"),
             (["--calib-token-mask=x"], "the token mask 'x' is float32, not an integer or bool input"),
             (["--calib-token-mask="], "--calib-token-mask needs an input name or 'none'")]
    for flags, message in cases:
        r = qcc(model, tmp_path / "m" / "model", "-bits=8", "--calib", str(tmp_path / "c.npz"), *flags)
        assert not r.ok and message in r.first_error_line(), (flags, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = qcc(model, tmp_path / "m" / "model", "-bits=8", "--calib-token-mask=attention_mask")
    assert not r.ok and "--calib-token-mask needs --calib PATH" in r.first_error_line(), r.stderr
