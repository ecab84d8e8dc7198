"""A fixed, fast subset of the structured fuzzers (fuzz_onnx.py for the importer, fuzz_runtime.py
for the runtime loader): each mutation changes one field of a small valid model, artifact or input
file, and must give ONE line `qcc: error:` / `qcc-run: error:` naming the cause, with a non-zero
exit. Every case here crashed, hung, or compiled silently before the fixes of session 8, or guards
a check those fixes rely on. Mutants are deterministic (models.py seed 0; the mutation changes no
random value), so the expected messages do not depend on QCC_TEST_SEED."""
import copy
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import fuzz_onnx as F
import fuzz_runtime as R
import qcc_harness as H
from models import CASES, build_case

# (mutant name "<seed model>/<mutation>", regex the single error line must match)
ONNX_CASES = [
    ("conv/init[w].dims[0]=huge", r"initializer 'w' has shape \[1099511627776,3,3,3\] with more than 2\^40"),
    ("conv/init[w].raw_data.short", r"initializer 'w' has 431 bytes of data, expected 432"),
    ("conv/init[w].data_type=string", r"initializer 'w' has unsupported element type string"),
    ("gemm_transA/node[0](Gemm).input[0]=''", r"Gemm node 'gemm_0' \(opset 17\): required input 0 \('A'\) is empty"),
    ("gemm_transA/node[0](Gemm).input.clear", r"Gemm node 'gemm_0' .*has 0 inputs; the op takes 2 to 3"),
    ("sub_bcast/graph.output dup", r"graph output 'y' is listed twice"),
    ("gemm_transA/graph.output.clear", r"graph has no outputs"),
    ("conv/output[0].elem_type=int8", r"graph output 'y' is declared int8 but computed as float32"),
    ("reducemax/node[0](ReduceMax).keepdims=2", r"ReduceMax node 'reducemax_0'.*attribute 'keepdims' must be 0 or 1, got 2"),
    ("conv_stride2/node[0](Conv).pads:type=string", r"Conv node 'conv_0'.*attribute 'pads' is of type string, expected ints"),
    ("gemm_transA/node[0](Gemm).attribute+unknown", r"Gemm node 'gemm_0'.*unknown attribute 'zz_unknown'"),
    ("gemm_transA/external.location='../../../etc/passwd'", r"external data location '\.\./\.\./\.\./etc/passwd' of initializer 'B' is outside the model's folder"),
    ("gemm_transA/external.offset='99999999'", r"external data file 'weights\.bin' for initializer 'B' is too short"),
    ("gemm_transA/external.offset='abc'", r"initializer 'B' has external data offset 'abc', expected a non-negative integer"),
    ("conv/opset=0", r"default-domain opset 0; opsets start at 1"),
    ("conv/opset dup", r"imports the default-domain opset twice \(17 and 11\)"),
    ("gather_negative_index/init[i][3]=huge", r"Gather node 'gather_0'.*index 1099511627776 out of range for dimension 6"),
    ("slice_3d_middle/init[axes].rank+1", r"Slice node 'slice_0'.*input 'axes' must be a scalar or 1-D, got shape \[2,1\]"),
    ("slice_steps/init[steps][0]=0", r"Slice node 'slice_0'.*step cannot be 0"),
    ("constantofshape_int64/node[0](ConstantOfShape).value.t.rank+1", r"ConstantOfShape node 'cos_0'.*value must be a one-element 1-D tensor"),
    ("resize_linear_align_corners/init[sizes][0]=huge", r"Resize node 'resize_0'.*output would have shape \[1099511627776,2,8,7\] with more than 2\^40"),
    ("transpose_0213/node[0](Transpose).perm[0]=-1", r"Transpose node 'transpose_0'.*perm is not a permutation"),
    ("mlp/cycle", r"Gemm node 'gemm_1' uses undefined value 'probs'"),
    ("mlp/duplicate output name", r"Relu node 'relu_2'.*output 'gemm_1_o0' is already defined"),
    ("conv/input[0].no shape", r"input 'x' has unknown rank; pass -input-shape=x:1x"),
    ("conv/input[0].dim[0]=sym", r"input 'x' has dynamic dimension 'N'; pass -input-shape=x:1x3x8x8"),
    ("conv/input[0].dim[0]=huge", r"input 'x' has shape \[1099511627776,3,8,8\] with more than 2\^40"),
    ("conv/node[0](Conv)+strides=[0,0]", r"Conv node 'conv_0'.*invalid strides, dilations, kernel or pads"),
    ("conv/node[0](Conv)+group=0", r"Conv node 'conv_0'.*do not match group 0"),
    ("maxpool_2x2/node[0](MaxPool)+dilations=[0,0]", r"MaxPool node 'maxpool_0'.*invalid strides, dilations, kernel or pads"),
    ("split/node[0](Split).axis=huge", r"Split node 'split_0'.*axis 1099511627776 out of range for rank 3"),
    ("avgpool_3x3_pad_exclude/node[0](AveragePool).pads[3]=huge", r"AveragePool node 'averagepool_0'.*invalid strides, dilations, kernel or pads"),
    ("constantofshape/node[1](ConstantOfShape).value.t.raw_data.empty", r"ConstantOfShape node 'cos_0'.*value must hold one element"),
    ("constantofshape_default/init[s][0]=max", r"ConstantOfShape node 'cos_0'.*shape \[9223372036854775807,3,4\] has more than 2\^40"),
]
# A few through the GPU target too (compile only): the importer is shared, the error the same.
GPU_CASES = ["gemm_transA/node[0](Gemm).input.clear", "conv/init[w].dims[0]=huge", "sub_bcast/graph.output dup"]

_SEEDS: dict = {}


def _mutant(name: str):
    seed = name.split("/", 1)[0]
    if seed not in _SEEDS:
        model, _ = build_case(seed, 0)
        _SEEDS[seed] = (model, {m.name: m for m in F.mutations_for(seed, model)})
    model, muts = _SEEDS[seed]
    assert name in muts, f"mutation {name!r} is no longer generated by fuzz_onnx.py"
    return model, muts[name], CASES[seed].qcc_args


def _one_error(r: H.ToolResult, prefix: str, pattern: str):
    cls, detail = F.classify_compile(r)
    assert cls != "ok", f"accepted a malformed input\n{r.describe()}"
    assert not r.timed_out and r.returncode > 0, f"{cls}: {detail}\n{r.describe()}"
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), f"not one '{prefix}' line\n{r.describe()}"
    assert re.search(pattern, lines[0]), f"error does not match /{pattern}/: {lines[0]!r}"


@pytest.mark.parametrize("name,pattern", ONNX_CASES, ids=[c[0] for c in ONNX_CASES])
def test_onnx_mutant_refused(name, pattern, tmp_path):
    model, mut, args = _mutant(name)
    p = F.save_mutant(model, mut, tmp_path)
    r = H.compile_model(p, tmp_path / "art" / "m", extra=list(args), timeout=60)
    _one_error(r, "qcc: error:", pattern)
    assert not list((tmp_path / "art").glob("m.so")), "a refused model left an artifact"


@pytest.mark.parametrize("name", GPU_CASES)
def test_onnx_mutant_refused_gpu_target(name, tmp_path):
    model, mut, args = _mutant(name)
    p = F.save_mutant(model, mut, tmp_path)
    r = H.compile_model(p, tmp_path / "gpu" / "m", target="sm_80", extra=list(args), timeout=60)
    _one_error(r, "qcc: error:", dict(ONNX_CASES)[name])


def test_unmutated_seed_still_matches(tmp_path):
    """The checks must not refuse the valid seed: compile it and compare with onnxruntime."""
    model, feeds = build_case("conv", 0)
    p = tmp_path / "conv.onnx"
    p.write_bytes(model.SerializeToString())
    r = H.compile_model(p, tmp_path / "art" / "m", timeout=120)
    assert r.ok, r.describe()
    assert F._check_artifact(p, tmp_path, feeds, 1e-4) == ("match", "")


# ============================================================================ runtime loader
@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return R.Fixture(tmp_path_factory.mktemp("fuzzrt"))


def _rt_error(r: H.ToolResult, pattern: str):
    assert r.returncode == 1, f"exit {r.returncode}, expected 1\n{r.describe()}"
    _one_error(r, "qcc-run: error:", pattern)


def _manifest(fx, tmp_path, edit, rehash: bool):
    t = R.copy_artifact(fx.cpu, tmp_path / "a")
    man = json.loads(t.with_suffix(".json").read_text())
    edit(man)
    if rehash:
        assert R.rehash(man)
    t.with_suffix(".json").write_text(json.dumps(man))
    return H.run_artifact(t, fx.inputs, tmp_path / "out", timeout=60)


MANIFEST_CASES = [
    # (id, edit, content_hash recomputed, error regex)
    ("output shape", lambda m: m["outputs"][0]["shape"].__setitem__(0, 5), False, r"integrity"),
    ("input dtype", lambda m: m["inputs"][0].__setitem__("dtype", "x"), True, r"dtype|type"),
    ("weights_size -1", lambda m: m.__setitem__("weights_size", -1), False, r"'weights_size' must not be negative"),
    ("weights_size +1", lambda m: m.__setitem__("weights_size", m["weights_size"] + 1), False, r"size|integrity"),
    ("library path", lambda m: m.__setitem__("library", "../../../etc/passwd"), False, r"passwd|library"),
    ("format_version", lambda m: m.__setitem__("format_version", 1 << 62), False, r"format_version"),
    ("input shape negative", lambda m: m["inputs"][0]["shape"].__setitem__(0, -1), True, r"shape|dimension|negative"),
]


@pytest.mark.parametrize("edit,rehash,pattern", [c[1:] for c in MANIFEST_CASES], ids=[c[0] for c in MANIFEST_CASES])
def test_manifest_mutant_refused(fx, tmp_path, edit, rehash, pattern):
    _rt_error(_manifest(fx, tmp_path, edit, rehash), pattern)


def test_plan_pointer_past_empty_arena(fx, tmp_path):
    """A GPU plan with arena_bytes 0 but kernels reading the arena is refused while parsing (no
    GPU needed: validation comes before the CUDA driver)."""
    t = R.copy_artifact(fx.gpu, tmp_path / "g")
    plan_path = t.parent / (t.name + ".plan.json")
    plan = json.loads(plan_path.read_text())
    assert any(a.get("ptr") == "arena" for c in plan["commands"] for a in c.get("args", []))
    plan["arena_bytes"] = 0
    text = json.dumps(plan)
    plan_path.write_text(text)
    man = json.loads(t.with_suffix(".json").read_text())
    man["plan_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    assert R.rehash(man)
    t.with_suffix(".json").write_text(json.dumps(man))
    _rt_error(H.run_artifact(t, fx.inputs, tmp_path / "out", timeout=60), r"past the end of the 0-byte arena")


INPUT_CASES = ["npy descr='<f8'", "npy shape=(-1,)", f"npy shape=({1 << 62}, 32)", "npy truncated data",
               "npy header len huge", "pb dims[0]=huge", "pb raw_data short", "pb data_type=999"]


@pytest.mark.parametrize("name", INPUT_CASES)
def test_input_file_mutant_refused(fx, tmp_path, name):
    x = fx.feeds["x"]
    table = dict(R.npy_mutations(x) + R.pb_mutations(x))
    p = tmp_path / ("x.npy" if name.startswith("npy") else "x.pb")
    p.write_bytes(table[name])
    _rt_error(H.run_artifact(fx.cpu, {"x": p}, tmp_path / "out", timeout=60), r"'x'|x\.(npy|pb)")
