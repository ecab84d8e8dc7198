"""Bad inputs: each must fail with a non-zero exit and ONE line on stderr that starts with
`qcc: error:` (compiler) or `qcc-run: error:` (runtime, exit 1) and names the cause."""
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper as oh

import qcc_harness as H
from models import build_case, make_model, normal


def expect_error(r: H.ToolResult, prefix: str, *must_contain: str, any_of: str | None = None,
                 exit_code: int | None = None) -> str:
    assert not r.timed_out, f"timed out\n{r.describe()}"
    assert r.returncode != 0, f"expected failure, got exit 0\n{r.describe()}"
    assert r.returncode > 0, f"crashed (signal {-r.returncode}) instead of reporting an error\n{r.describe()}"
    if exit_code is not None:
        assert r.returncode == exit_code, f"exit code {r.returncode}, expected {exit_code}\n{r.describe()}"
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one stderr line, got {len(lines)}\n{r.describe()}"
    msg = lines[0]
    assert msg.startswith(prefix), f"stderr must start with '{prefix}': {msg!r}"
    for s in must_contain:
        assert s.lower() in msg.lower(), f"error should mention {s!r}: {msg!r}"
    if any_of:
        assert re.search(any_of, msg, re.I), f"error should match /{any_of}/: {msg!r}"
    return msg


def qcc_error(r, *must, any_of=None):
    return expect_error(r, "qcc: error:", *must, any_of=any_of)


def qcc_run_error(r, *must, any_of=None):
    return expect_error(r, "qcc-run: error:", *must, any_of=any_of, exit_code=1)


def compile_(model_path, tmp_path, **kw):
    return H.compile_model(model_path, tmp_path / "art" / "model", timeout=120, **kw)


# ============================================================================ compiler
def test_truncated_model(tmp_path, base_seed):
    model, _ = build_case("cnn_small", base_seed)
    data = model.SerializeToString()
    p = tmp_path / "truncated.onnx"
    p.write_bytes(data[: len(data) // 2])
    qcc_error(compile_(p, tmp_path), "truncated.onnx",
              any_of=r"pars|invalid|truncat|corrupt|malformed|not an? (valid )?onnx")


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.onnx"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    qcc_error(compile_(p, tmp_path), "noise.onnx",
              any_of=r"pars|invalid|corrupt|malformed|not an? (valid )?onnx|graph")


def test_text_file(tmp_path):
    p = tmp_path / "readme.txt"
    p.write_text("this is not an ONNX model\n" * 20)
    qcc_error(compile_(p, tmp_path), "readme.txt",
              any_of=r"pars|invalid|corrupt|malformed|not an? (valid )?onnx|graph")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    qcc_error(compile_(p, tmp_path), "empty.onnx")


def test_missing_model_file(tmp_path):
    qcc_error(compile_(tmp_path / "nope.onnx", tmp_path), "nope.onnx")


def test_missing_external_data(tmp_path, base_seed):
    model, _ = build_case("mlp", base_seed)
    d = tmp_path / "ext"
    d.mkdir()
    onnx.save_model(model, d / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    (d / "weights.bin").unlink()
    qcc_error(compile_(d / "model.onnx", tmp_path), "weights.bin")


def _det_model(rng):
    node = oh.make_node("Det", ["x"], ["y"], name="my_det_node")
    feeds = {"x": normal(rng, 3, 3)}
    return make_model([node], feeds, ["y"])


def test_unsupported_op(tmp_path, base_seed):
    p = tmp_path / "det.onnx"
    onnx.save(_det_model(np.random.default_rng(base_seed)), p)
    msg = qcc_error(compile_(p, tmp_path), "Det", "my_det_node", "opset")
    assert "17" in msg, f"error should give the opset version (17): {msg!r}"


def test_custom_domain_op(tmp_path):
    node = oh.make_node("FancyOp", ["x"], ["y"], name="fancy_1", domain="com.example")
    g = oh.make_graph([node], "g", [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 2])],
                      [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 2])])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17), oh.make_opsetid("com.example", 1)])
    m.ir_version = 8
    p = tmp_path / "custom.onnx"
    onnx.save(m, p)
    qcc_error(compile_(p, tmp_path), "FancyOp", "fancy_1", "com.example")


def _good_model(tmp_path, base_seed):
    model, _ = build_case("mlp", base_seed)
    p = tmp_path / "mlp.onnx"
    onnx.save(model, p)
    return p


def test_gpu_target_below_sm80_refused(tmp_path, base_seed):
    # GPU targets start at sm_80 (test_gpu_compile.py compiles for those); older ones are unknown.
    r = H.compile_model(_good_model(tmp_path, base_seed), tmp_path / "art" / "m", target="sm_75", timeout=120)
    qcc_error(r, "sm_75")


def test_unknown_target(tmp_path, base_seed):
    r = H.compile_model(_good_model(tmp_path, base_seed), tmp_path / "art" / "m", target="z80-turbo", timeout=120)
    qcc_error(r, "z80-turbo")


def test_unsupported_bits_refused(tmp_path, base_seed):
    # 32, 8 and 4 are the precisions; anything else is refused clearly.
    r = H.compile_model(_good_model(tmp_path, base_seed), tmp_path / "art" / "m", bits=5, timeout=120)
    qcc_error(r, "bits")


def test_input_shape_unknown_name(tmp_path, base_seed):
    r = H.compile_model(_good_model(tmp_path, base_seed), tmp_path / "art" / "m",
                        extra=["-input-shape=nosuch:1x16"], timeout=120)
    qcc_error(r, "nosuch")


def test_no_partial_artifact_on_error(tmp_path):
    p = tmp_path / "bad.onnx"
    p.write_bytes(b"\x00garbage")
    r = H.compile_model(p, tmp_path / "art" / "model", timeout=120)
    assert r.returncode != 0
    left = sorted(x.name for x in (tmp_path / "art").glob("model.*")) if (tmp_path / "art").exists() else []
    assert not [x for x in left if x.endswith((".so", ".json"))], f"failed compile left files: {left}"


# ============================================================================ runtime
@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """A compiled MLP (has weights) and matching inputs, shared by the runtime tests."""
    if not H.tools_present():
        pytest.skip("qcc tools not built")
    d = tmp_path_factory.mktemp("artifact")
    model, feeds = build_case("mlp", 1234)
    onnx.save(model, d / "mlp.onnx")
    prefix = d / "art" / "model"
    r = H.compile_model(d / "mlp.onnx", prefix, timeout=300)
    if not r.ok:
        pytest.fail(f"qcc failed to compile the MLP: {r.first_error_line()}\n{r.describe()}", pytrace=False)
    paths = H.save_inputs(feeds, d / "in")
    return prefix, feeds, paths


def _copy_artifact(prefix: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for f in prefix.parent.glob(prefix.name + ".*"):
        shutil.copy(f, dest / f.name)
    return dest / prefix.name


def _run(prefix, inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return H.run_artifact(prefix, inputs, out, timeout=60)


def test_runtime_ok(artifact, tmp_path):
    prefix, feeds, paths = artifact
    r = _run(prefix, paths, tmp_path)
    assert r.ok, r.describe()


def test_wrong_input_shape(artifact, tmp_path):
    prefix, feeds, paths = artifact
    p = tmp_path / "x_bad.npy"
    np.save(p, np.zeros((5, 32), np.float32) + 0.5)
    qcc_run_error(_run(prefix, {"x": p}, tmp_path), "x", any_of=r"shape")


def test_wrong_input_rank(artifact, tmp_path):
    prefix, feeds, paths = artifact
    p = tmp_path / "x_bad.npy"
    np.save(p, np.ones((4, 32, 1), np.float32))
    qcc_run_error(_run(prefix, {"x": p}, tmp_path), "x", any_of=r"shape|rank")


def test_wrong_input_dtype(artifact, tmp_path):
    prefix, feeds, paths = artifact
    p = tmp_path / "x_f64.npy"
    np.save(p, feeds["x"].astype(np.float64))
    qcc_run_error(_run(prefix, {"x": p}, tmp_path), "x", any_of=r"dtype|type|float64|double")


def test_missing_input(artifact, tmp_path):
    prefix, feeds, paths = artifact
    qcc_run_error(_run(prefix, {}, tmp_path), "x", any_of=r"missing|no input|not given|required")


def test_unknown_input(artifact, tmp_path):
    prefix, feeds, paths = artifact
    qcc_run_error(_run(prefix, {**paths, "bogus": paths["x"]}, tmp_path), "bogus")


def test_unreadable_input_file(artifact, tmp_path):
    prefix, feeds, paths = artifact
    p = tmp_path / "junk.npy"
    p.write_bytes(b"definitely not npy")
    qcc_run_error(_run(prefix, {"x": p}, tmp_path), "junk.npy")


def test_missing_artifact(tmp_path, artifact):
    _, _, paths = artifact
    qcc_run_error(_run(tmp_path / "nothing" / "model", paths, tmp_path), "nothing")


def _flip_byte(p: Path, where: float = 0.5):
    b = bytearray(p.read_bytes())
    if not b:
        pytest.skip(f"{p.name} is empty (weights live in the .so): nothing to tamper with")
    i = int(len(b) * where)
    b[i] ^= 0x01
    p.write_bytes(bytes(b))


def test_tampered_library(artifact, tmp_path):
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    _flip_byte(t.with_suffix(".so"))
    qcc_run_error(_run(t, paths, tmp_path), "integrity")


def test_tampered_weights(artifact, tmp_path):
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    _flip_byte(t.with_suffix(".weights"), 0.3)
    qcc_run_error(_run(t, paths, tmp_path), "integrity")


def test_truncated_weights(artifact, tmp_path):
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    w = t.with_suffix(".weights")
    if w.stat().st_size < 64:
        pytest.skip("weights file too small to truncate")
    w.write_bytes(w.read_bytes()[:-64])
    qcc_run_error(_run(t, paths, tmp_path), any_of=r"integrity|size")


def test_tampered_manifest_shape(artifact, tmp_path):
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    j = t.with_suffix(".json")
    man = json.loads(j.read_text())
    man["outputs"][0]["shape"][0] += 1
    j.write_text(json.dumps(man, indent=2))
    qcc_run_error(_run(t, paths, tmp_path), "integrity")


def _forge(t: Path, edit) -> None:
    """Rewrites t's manifest with `edit` and recomputes content_hash, as a deliberate forger
    would (test/E2E/fuzz_runtime.py's rehash: the runtime's formula)."""
    from fuzz_runtime import rehash
    j = t.with_suffix(".json")
    man = json.loads(j.read_text())
    edit(man)
    assert rehash(man)
    j.write_text(json.dumps(man, indent=2))


@pytest.mark.parametrize("field", ["inputs", "outputs"])
def test_forged_manifest_shape(artifact, tmp_path, field):
    """The library names the I/O it was compiled for: a manifest with another shape and every
    hash recomputed is refused at load, before any buffer of the wrong size reaches the code."""
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    _forge(t, lambda man: man[field][0]["shape"].__setitem__(0, man[field][0]["shape"][0] + 3))
    kind = "in" if field == "inputs" else "out"
    msg = qcc_run_error(_run(t, paths, tmp_path), "integrity", "does not describe library")
    assert re.search(rf"manifest says '{kind} \S+ float32 7x", msg), msg


def test_forged_weights(artifact, tmp_path):
    """A shorter weight file with its size and digest rewritten in the manifest: the library
    knows how many weight bytes it reads."""
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    w = t.with_suffix(".weights")
    data = w.read_bytes()[:-64]
    w.write_bytes(data)

    def edit(man):
        man["weights_size"] = len(data)
        man["weights_sha256"] = hashlib.sha256(data).hexdigest()
    _forge(t, edit)
    qcc_run_error(_run(t, paths, tmp_path), "integrity", f"weights {len(data)}")


def test_manifest_format_version(artifact, tmp_path):
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    j = t.with_suffix(".json")
    man = json.loads(j.read_text())
    man["format_version"] = 999
    j.write_text(json.dumps(man, indent=2))
    qcc_run_error(_run(t, paths, tmp_path), "999", any_of=r"version")


def test_manifest_not_json(artifact, tmp_path):
    prefix, feeds, paths = artifact
    t = _copy_artifact(prefix, tmp_path / "t")
    t.with_suffix(".json").write_text("{ not json")
    qcc_run_error(_run(t, paths, tmp_path), "model.json")
