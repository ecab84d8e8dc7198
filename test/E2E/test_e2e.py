"""End-to-end: every model in models.CASES is compiled by qcc (-target=host -bits=32), run by
qcc-run, and compared with onnxruntime (CPU, fp32) on the same fresh random inputs:
relative L2 error <= 1e-5 for float outputs, exact match for integer/bool outputs, shapes and
dtypes must match. Also: the artifact's manifest and integrity fields, external data, -input-shape,
threads, timing line, determinism.
"""
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

import qcc_harness as H
from models import CASES, G, build_case, make_model, normal

COMPILE_TIMEOUT = 300
RUN_TIMEOUT = 120


def _seed_note(name, seed):
    return f"[case {name}, QCC_TEST_SEED={seed}]"


def compile_ok(model_path, prefix, extra=()):
    r = H.compile_model(model_path, prefix, target="host", bits=32, extra=extra, timeout=COMPILE_TIMEOUT)
    if not r.ok:
        pytest.fail(f"qcc failed to compile {Path(model_path).name}: {r.first_error_line()}\n{r.describe()}",
                    pytrace=False)
    return r


def run_ok(prefix, input_paths, out_dir, **kw):
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    r = H.run_artifact(prefix, input_paths, out_dir, timeout=RUN_TIMEOUT, **kw)
    if not r.ok:
        pytest.fail(f"qcc-run failed: {r.first_error_line()}\n{r.describe()}", pytrace=False)
    return r


def check_outputs(out_dir, expected, tol, note):
    got = H.load_outputs(out_dir, expected.keys())
    errors = []
    for name, exp in expected.items():
        err = H.compare_rel_l2(got[name], exp, tol)
        if err:
            errors.append(f"output '{name}' ({H.sanitize_name(name)}.npy): {err}")
    assert not errors, f"{note} mismatch vs onnxruntime:\n  " + "\n  ".join(errors)
    return got


def compile_and_check(model, feeds, tmp_path, extra=(), tol=1e-5, note="", threads=None):
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    expected = H.ort_run(str(mpath), feeds)
    prefix = tmp_path / "art" / "model"
    compile_ok(mpath, prefix, extra)
    paths = H.save_inputs(feeds, tmp_path / "in")
    out = tmp_path / "out"
    run_ok(prefix, paths, out, threads=threads)
    return check_outputs(out, expected, tol, note), prefix


# ----------------------------------------------------------------------------- every model
@pytest.mark.parametrize("name", list(CASES))
def test_model(name, tmp_path, base_seed):
    c = CASES[name]
    model, feeds = build_case(name, base_seed)
    compile_and_check(model, feeds, tmp_path, extra=c.qcc_args, tol=c.tol, note=_seed_note(name, base_seed))


# ----------------------------------------------------------------------------- artifact contract
def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _dims(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


@pytest.mark.parametrize("name", ["mlp", "cast_f32_to_f16", "reducesum_all"])
def test_manifest(name, tmp_path, base_seed):
    model, feeds = build_case(name, base_seed)
    _, prefix = compile_and_check(model, feeds, tmp_path, note=_seed_note(name, base_seed))
    folder = prefix.parent
    for ext in (".so", ".json", ".weights", ".h"):
        assert (folder / f"model{ext}").is_file(), f"artifact file model{ext} missing"
    man = json.loads((folder / "model.json").read_text())
    assert man["format"] == "qcc-artifact" and man["format_version"] == 1
    assert man["bits"] == 32
    assert man["target"]["kind"] == "cpu"
    lib, weights = folder / man["library"], folder / man["weights"]
    assert man["library_sha256"] == _sha256(lib)
    assert man["weights_sha256"] == _sha256(weights)
    assert man["weights_size"] == weights.stat().st_size
    assert man["source_model_sha256"] == _sha256(tmp_path / "model.onnx")
    # I/O signature matches the model
    exp_in = [(n, str(a.dtype), list(a.shape)) for n, a in feeds.items()]
    got_in = [(i["name"], i["dtype"], i["shape"]) for i in man["inputs"]]
    assert got_in == exp_in
    expected = H.ort_run(str(tmp_path / "model.onnx"), feeds)
    exp_out = [(n, str(a.dtype), list(a.shape)) for n, a in expected.items()]
    got_out = [(o["name"], o["dtype"], o["shape"]) for o in man["outputs"]]
    assert got_out == exp_out
    # content hash as ARTIFACT.md defines it
    io = "".join(f"in {i['name']} {i['dtype']} {_dims(i['shape'])}\n" for i in man["inputs"])
    io += "".join(f"out {o['name']} {o['dtype']} {_dims(o['shape'])}\n" for o in man["outputs"])
    text = f"qcc-artifact-v1\n{man['library_sha256']}\n{man['weights_sha256']}\n{io}"
    assert man["content_hash"] == hashlib.sha256(text.encode()).hexdigest()


def test_weights_size_sane(tmp_path, base_seed):
    model, feeds = build_case("cnn_small", base_seed)
    _, prefix = compile_and_check(model, feeds, tmp_path, note=_seed_note("cnn_small", base_seed))
    man = json.loads(prefix.with_suffix(".json").read_text())
    init_bytes = sum(onnx.numpy_helper.to_array(t).nbytes for t in model.graph.initializer)
    # weights may be repacked/padded (64-byte aligned tensors) or live in the .so, but not blow up
    assert man["weights_size"] == prefix.with_suffix(".weights").stat().st_size
    assert man["weights_size"] <= 4 * init_bytes + 64 * (len(model.graph.initializer) + 1) + 65536


# ----------------------------------------------------------------------------- runtime behaviour
def test_threads_match(tmp_path, base_seed):
    model, feeds = build_case("cnn_small", base_seed)
    compile_and_check(model, feeds, tmp_path, threads=2, note=_seed_note("cnn_small", base_seed) + " --threads 2")


def test_repeat_prints_timing(tmp_path, base_seed):
    model, feeds = build_case("mlp", base_seed)
    _, prefix = compile_and_check(model, feeds, tmp_path)
    paths = H.save_inputs(feeds, tmp_path / "in2")
    r = run_ok(prefix, paths, tmp_path / "out2", repeat=5, warmup=2)
    t = H.parse_timing(r.stdout)
    assert t is not None, f"no 'qcc-run: <N> runs, median <x> ms, min <y> ms' line in stdout:\n{r.stdout}"
    n, med, mn = t
    assert n == 5 and 0 <= mn <= med


def test_deterministic(tmp_path, base_seed):
    model, feeds = build_case("bert_layer", base_seed)
    _, prefix = compile_and_check(model, feeds, tmp_path)
    paths = H.save_inputs(feeds, tmp_path / "in2")
    run_ok(prefix, paths, tmp_path / "o1")
    run_ok(prefix, paths, tmp_path / "o2", repeat=3)
    for f in sorted((tmp_path / "o1").glob("*.npy")):
        a, b = np.load(f), np.load(tmp_path / "o2" / f.name)
        assert np.array_equal(a, b), f"{f.name}: two runs of the same artifact differ"


def test_special_output_names(tmp_path, base_seed):
    rng = np.random.default_rng(base_seed)
    from onnx import helper as oh
    nodes = [oh.make_node("Relu", ["x"], ["out/relu:0"], name="r"),
             oh.make_node("Neg", ["x"], ["out.neg-1"], name="n")]
    feeds = {"x": normal(rng, 3, 4)}
    model = make_model(nodes, feeds, ["out/relu:0", "out.neg-1"])
    compile_and_check(model, feeds, tmp_path)
    assert (tmp_path / "out" / "out_relu_0.npy").is_file()


# ----------------------------------------------------------------------------- external data
def test_external_data(tmp_path, base_seed):
    model, feeds = build_case("mlp", base_seed)
    expected = H.ort_run(model.SerializeToString(), feeds)
    d = tmp_path / "ext"
    d.mkdir()
    mpath = d / "model.onnx"
    onnx.save_model(model, mpath, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=0)
    assert (d / "model.onnx.data").is_file()
    assert mpath.stat().st_size < 4096, "weights should be in the external file"
    # compile from another working directory: the data path is relative to the model's folder
    prefix = tmp_path / "art" / "model"
    compile_ok(mpath, prefix)
    paths = H.save_inputs(feeds, tmp_path / "in")
    run_ok(prefix, paths, tmp_path / "out")
    check_outputs(tmp_path / "out", expected, 1e-5, "[external data]")


# ----------------------------------------------------------------------------- -input-shape
def test_input_shape_static_manifest(tmp_path, base_seed):
    rng = np.random.default_rng(base_seed)
    g = G(rng)
    g.out("y", g.op("Relu", g.linear("x", 16, 8)))
    feeds = {"x": normal(rng, 1, 16)}
    model = g.model(feeds, ["y"], input_shapes={"x": ["batch", 16]})
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    _, prefix = compile_and_check(model, feeds, tmp_path, extra=("-input-shape=x:1x16",))
    man = json.loads(prefix.with_suffix(".json").read_text())
    assert man["inputs"][0]["shape"] == [1, 16]
    assert man["outputs"][0]["shape"] == [1, 8]


def test_input_shape_other_batch(tmp_path, base_seed):
    rng = np.random.default_rng(base_seed)
    g = G(rng)
    g.out("y", g.op("Softmax", g.linear("x", 16, 8), axis=-1))
    feeds = {"x": normal(rng, 3, 16)}
    model = g.model(feeds, ["y"], input_shapes={"x": ["batch", 16]})
    compile_and_check(model, feeds, tmp_path, extra=("-input-shape=x:3x16",))
