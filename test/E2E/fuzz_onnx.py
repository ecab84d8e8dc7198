"""Structured mutation fuzzing of qcc's ONNX importer: bad input must give ONE line
`qcc: error: ...` and a non-zero exit, never a crash, a hang, a multi-line dump, or an artifact
that silently disagrees with onnxruntime.

Each mutant changes ONE field of a small valid model (the E2E/conformance models of models.py, the
example BERT, a conv net): tensor dims, raw_data length, data_type, external-data offsets and
lengths, attribute values and types, node inputs/outputs, graph wiring (cycles, duplicate outputs),
opset imports, model input shapes and types, integer initializer values (Reshape shapes, Gather
indices, Split sizes, Slice steps, ...). Every mutant is compiled for the CPU (and with --gpu also
`-target=sm_80`, compile only) and classified:

  error        non-zero exit, one stderr line starting `qcc: error:`     (good)
  match        exit 0, onnxruntime accepts the mutant, outputs agree       (good)
  ort-rejects  exit 0, onnxruntime refuses the mutant (listed for review)
  mismatch     exit 0, onnxruntime accepts it, outputs differ             (BUG: silent wrong output)
  run-fail     exit 0, but qcc-run fails on inputs onnxruntime accepts    (listed for review)
  bad-error    non-zero exit but not one `qcc: error:` line                (BUG)
  crash        killed by a signal                                          (BUG)
  timeout      no answer within the limit                                  (BUG)

  .venv/bin/python test/E2E/fuzz_onnx.py                  # every seed model, all mutations
  .venv/bin/python test/E2E/fuzz_onnx.py -k conv --max 40 # 40 mutants per matching seed
  .venv/bin/python test/E2E/fuzz_onnx.py --gpu -j 2       # also sm_80 compiles; 2 workers

Environment: QCC_BUILD_DIR (tools), QCC_MODEL_DIR (example_bert.onnx; default build/models).
"""
from __future__ import annotations

import argparse
import collections
import copy
import json
import os
import random
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import AttributeProto as AP  # noqa: E402
from onnx import TensorProto as TP  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

import qcc_harness as H  # noqa: E402

BAD = ("mismatch", "bad-error", "crash", "timeout")
HUGE = 1 << 40
Mutate = Callable[[onnx.ModelProto], None]


@dataclass
class Mutation:
    name: str          # "<seed>/<what>", stable across runs
    apply: Mutate      # edits a copy of the seed model in place
    external: bool = False  # save the mutant with external data (apply gets the model after that)


# ============================================================================ mutation catalogue
def _set_dim(shape_proto, i, v):
    d = shape_proto.dim[i]
    d.ClearField("dim_param")
    d.dim_value = v


def _tensor_mutations(t: onnx.TensorProto, where: str) -> list[tuple[str, Mutate]]:
    """Mutations of the initializer named t.name (looked up again in the copy)."""
    name = t.name
    out: list[tuple[str, Mutate]] = []

    def on(fn):
        def m(model):
            for x in model.graph.initializer:
                if x.name == name:
                    fn(x)
        return m

    rank = len(t.dims)
    for i in range(rank):
        for v, tag in ((0, "0"), (-1, "-1"), (HUGE, "huge"), (t.dims[i] + 1, "+1")):
            out.append((f"{where}.dims[{i}]={tag}", on(lambda x, i=i, v=v: x.dims.__setitem__(i, v))))
    out.append((f"{where}.rank+1", on(lambda x: x.dims.append(1))))
    out.append((f"{where}.rank+1(2)", on(lambda x: x.dims.append(2))))
    if rank:
        out.append((f"{where}.rank-1", on(lambda x: x.dims.pop())))
    if t.HasField("raw_data") and len(t.raw_data) > 0:
        out.append((f"{where}.raw_data.short", on(lambda x: setattr(x, "raw_data", x.raw_data[:-1]))))
        out.append((f"{where}.raw_data.half", on(lambda x: setattr(x, "raw_data", x.raw_data[: len(x.raw_data) // 2]))))
        out.append((f"{where}.raw_data.long", on(lambda x: setattr(x, "raw_data", x.raw_data + b"\0" * 8))))
        out.append((f"{where}.raw_data.empty", on(lambda x: x.ClearField("raw_data"))))
    for dt, tag in ((TP.INT64, "int64"), (TP.FLOAT, "float"), (TP.INT8, "int8"), (TP.STRING, "string"),
                    (TP.UNDEFINED, "undefined"), (TP.BOOL, "bool"), (TP.DOUBLE, "double"), (999, "999"),
                    (TP.FLOAT16, "float16"), (TP.COMPLEX64, "complex64")):
        if dt != t.data_type:
            out.append((f"{where}.data_type={tag}", on(lambda x, dt=dt: setattr(x, "data_type", dt))))
    if t.data_type in (TP.INT64, TP.INT32) and 0 < int(np.prod(t.dims, dtype=np.int64)) <= 64:
        arr = nh.to_array(t)
        for k in range(min(arr.size, 4)):
            for v, tag in ((0, "0"), (-1, "-1"), (HUGE, "huge"), (-HUGE, "-huge"), (2**63 - 1, "max"),
                           (-(2**63), "min"), (int(arr.flat[k]) + 1, "+1"), (-2, "-2")):
                def fn(x, k=k, v=v):
                    a = nh.to_array(x).copy()
                    a.flat[k] = np.array(v).astype(a.dtype)
                    x.CopyFrom(nh.from_array(a, x.name))
                out.append((f"{where}[{k}]={tag}", on(fn)))
        if arr.size >= 2:
            def dup(x):
                a = nh.to_array(x).copy()
                a.flat[1] = a.flat[0]
                x.CopyFrom(nh.from_array(a, x.name))
            out.append((f"{where}[1]=[0]", on(dup)))
    return out


def _attr_mutations(a: onnx.AttributeProto, where: str, node_index: int) -> list[tuple[str, Mutate]]:
    aname = a.name
    out: list[tuple[str, Mutate]] = []

    def on(fn):
        def m(model):
            for x in model.graph.node[node_index].attribute:
                if x.name == aname:
                    fn(x)
        return m

    def retype(x, t):
        x.Clear()
        x.name, x.type = aname, t
        if t == AP.INT:
            x.i = 1
        elif t == AP.FLOAT:
            x.f = 1.5
        elif t == AP.STRING:
            x.s = b"bogus"
        elif t == AP.INTS:
            x.ints.extend([1, 1])
        elif t == AP.FLOATS:
            x.floats.extend([1.0])
        elif t == AP.TENSOR:
            x.t.CopyFrom(nh.from_array(np.array([1.0], np.float32)))

    for t, tag in ((AP.INT, "int"), (AP.FLOAT, "float"), (AP.STRING, "string"), (AP.INTS, "ints"),
                   (AP.FLOATS, "floats"), (AP.TENSOR, "tensor")):
        if t != a.type:
            out.append((f"{where}:type={tag}", on(lambda x, t=t: retype(x, t))))
    if a.type == AP.INT:
        for v, tag in ((0, "0"), (-1, "-1"), (HUGE, "huge"), (-HUGE, "-huge"), (a.i + 1, "+1"), (2, "2"), (-2, "-2")):
            out.append((f"{where}={tag}", on(lambda x, v=v: setattr(x, "i", v))))
    elif a.type == AP.INTS:
        n = len(a.ints)
        for k in range(min(n, 4)):
            for v, tag in ((0, "0"), (-1, "-1"), (HUGE, "huge"), (-HUGE, "-huge"), (a.ints[k] + 1, "+1"), (-2, "-2")):
                out.append((f"{where}[{k}]={tag}", on(lambda x, k=k, v=v: x.ints.__setitem__(k, v))))
        if n:
            out.append((f"{where}.pop", on(lambda x: x.ints.pop())))
            out.append((f"{where}[1]=[0]", on(lambda x: x.ints.__setitem__(min(1, n - 1), x.ints[0]))))
        out.append((f"{where}.append", on(lambda x: x.ints.append(1))))
        out.append((f"{where}.empty", on(lambda x: x.ClearField("ints"))))
    elif a.type == AP.FLOAT:
        for v, tag in ((float("nan"), "nan"), (float("inf"), "inf"), (-1.0, "-1"), (0.0, "0"), (1e30, "1e30")):
            out.append((f"{where}={tag}", on(lambda x, v=v: setattr(x, "f", v))))
    elif a.type == AP.STRING:
        for v in (b"", b"bogus", a.s.upper() + b"X"):
            out.append((f"{where}={v.decode(errors='replace')!r}", on(lambda x, v=v: setattr(x, "s", v))))
    elif a.type == AP.TENSOR:
        for sub, fn in _tensor_mutations(a.t, "t"):
            def tm(x, fn=fn):
                tmp = onnx.ModelProto()
                init = tmp.graph.initializer.add()
                init.CopyFrom(x.t)
                fn(tmp)
                x.t.CopyFrom(tmp.graph.initializer[0])
            out.append((f"{where}.{sub}", on(tm)))
    return out


def _node_mutations(model: onnx.ModelProto, ni: int) -> list[tuple[str, Mutate]]:
    n = model.graph.node[ni]
    where = f"node[{ni}]({n.op_type})"
    out: list[tuple[str, Mutate]] = []
    out.append((f"{where}.input+nosuch", lambda m: m.graph.node[ni].input.append("nosuch")))
    out.append((f"{where}.input+empty", lambda m: m.graph.node[ni].input.append("")))
    if n.input:
        out.append((f"{where}.input.pop", lambda m: m.graph.node[ni].input.pop()))
        out.append((f"{where}.input.clear", lambda m: m.graph.node[ni].ClearField("input")))
        for k in range(len(n.input)):
            out.append((f"{where}.input[{k}]=nosuch", lambda m, k=k: m.graph.node[ni].input.__setitem__(k, "nosuch")))
            out.append((f"{where}.input[{k}]=''", lambda m, k=k: m.graph.node[ni].input.__setitem__(k, "")))
        if len(n.input) >= 2:
            out.append((f"{where}.input swap", lambda m: _swap(m.graph.node[ni].input, 0, 1)))
    out.append((f"{where}.output.clear", lambda m: m.graph.node[ni].ClearField("output")))
    out.append((f"{where}.output+extra", lambda m: m.graph.node[ni].output.append("extra_out")))
    out.append((f"{where}.output[0]=''", lambda m: m.graph.node[ni].output.__setitem__(0, "")))
    out.append((f"{where}.op_type=lower", lambda m: setattr(m.graph.node[ni], "op_type", n.op_type.lower())))
    out.append((f"{where}.domain=bogus", lambda m: setattr(m.graph.node[ni], "domain", "bogus.domain")))
    out.append((f"{where}.attribute+unknown", lambda m: m.graph.node[ni].attribute.append(
        onnx.helper.make_attribute("zz_unknown", 3))))
    if n.attribute:
        out.append((f"{where}.attribute.clear", lambda m: m.graph.node[ni].ClearField("attribute")))
        out.append((f"{where}.attribute dup", lambda m: m.graph.node[ni].attribute.append(
            copy.deepcopy(m.graph.node[ni].attribute[0]))))
    for a in n.attribute:
        out += _attr_mutations(a, f"{where}.{a.name}", ni)
    out += _absent_attr_mutations(model, ni, where)
    return out


def _absent_attr_mutations(model: onnx.ModelProto, ni: int, where: str) -> list[tuple[str, Mutate]]:
    """Attributes the op's schema declares but the node leaves at their default, given bad
    values (strides 0, dilations 0, negative pads, group 0, axis out of range, ...)."""
    n = model.graph.node[ni]
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    try:
        schema = onnx.defs.get_schema(n.op_type, opset, n.domain)
    except Exception:  # op unknown to this onnx version
        return []
    have = {a.name for a in n.attribute}
    out = []
    for name, a in sorted(schema.attributes.items()):
        if name in have:
            continue
        t = a.type
        if t == onnx.defs.OpSchema.AttrType.INT:
            vals = [("0", 0), ("-1", -1), ("huge", HUGE)]
        elif t == onnx.defs.OpSchema.AttrType.INTS:
            vals = [("[0,0]", [0, 0]), ("[-1,-1]", [-1, -1]), ("[huge,huge]", [HUGE, HUGE]),
                    ("[0,0,0,0]", [0, 0, 0, 0]), ("[-2,-2,-2,-2]", [-2, -2, -2, -2]), ("[5]", [5])]
        elif t == onnx.defs.OpSchema.AttrType.FLOAT:
            vals = [("nan", float("nan")), ("-1", -1.0)]
        elif t == onnx.defs.OpSchema.AttrType.STRING:
            vals = [("bogus", "bogus")]
        else:
            continue
        for tag, v in vals:
            out.append((f"{where}+{name}={tag}",
                        lambda m, name=name, v=v: m.graph.node[ni].attribute.append(onnx.helper.make_attribute(name, v))))
    return out


def _swap(seq, i, j):
    a, b = seq[i], seq[j]
    seq[i], seq[j] = b, a


def _graph_mutations(model: onnx.ModelProto) -> list[tuple[str, Mutate]]:
    g = model.graph
    out: list[tuple[str, Mutate]] = []
    out.append(("opset.missing", lambda m: m.ClearField("opset_import")))
    for v in (1, 6, 99, 0, -1):
        out.append((f"opset={v}", lambda m, v=v: [setattr(o, "version", v) for o in m.opset_import if o.domain in ("", "ai.onnx")]))
    out.append(("opset dup", lambda m: m.opset_import.append(onnx.helper.make_opsetid("", 11))))
    out.append(("ir_version=0", lambda m: setattr(m, "ir_version", 0)))
    out.append(("ir_version=99", lambda m: setattr(m, "ir_version", 99)))
    out.append(("graph.output+nosuch", lambda m: m.graph.output.append(
        onnx.helper.make_tensor_value_info("nosuch", TP.FLOAT, [1]))))
    out.append(("graph.output.clear", lambda m: m.graph.ClearField("output")))
    out.append(("graph.output dup", lambda m: m.graph.output.append(copy.deepcopy(m.graph.output[0]))))
    out.append(("graph.output=input", lambda m: m.graph.output[0].CopyFrom(m.graph.input[0]) if m.graph.input else None))
    if g.node:
        last = len(g.node) - 1
        out.append(("cycle", lambda m: m.graph.node[0].input.__setitem__(0, m.graph.node[-1].output[0])
                    if m.graph.node[0].input else None))
        out.append(("self-loop", lambda m: m.graph.node[last].input.append(m.graph.node[last].output[0])))
        out.append(("node order reversed", lambda m: _reverse_nodes(m)))
        out.append(("nodes.clear", lambda m: m.graph.ClearField("node")))
        if len(g.node) >= 2:
            out.append(("duplicate output name", lambda m: m.graph.node[1].output.__setitem__(0, m.graph.node[0].output[0])))
        out.append(("duplicate node", lambda m: m.graph.node.append(copy.deepcopy(m.graph.node[-1]))))
        out.append(("output named like input", lambda m: m.graph.node[0].output.__setitem__(0, m.graph.input[0].name)
                    if m.graph.input else None))
    if g.initializer:
        out.append(("initializer dup", lambda m: m.graph.initializer.append(copy.deepcopy(m.graph.initializer[0]))))
        out.append(("initializer named like input", lambda m: setattr(m.graph.initializer[0], "name", m.graph.input[0].name)
                    if m.graph.input else None))
    for ii, inp in enumerate(g.input):
        w = f"input[{ii}]"
        tt = inp.type.tensor_type
        out.append((f"{w}.no shape", lambda m, ii=ii: m.graph.input[ii].type.tensor_type.ClearField("shape")))
        out.append((f"{w}.no type", lambda m, ii=ii: m.graph.input[ii].ClearField("type")))
        out.append((f"{w}.rank+1", lambda m, ii=ii: m.graph.input[ii].type.tensor_type.shape.dim.add().__setattr__("dim_value", 1)))
        if tt.shape.dim:
            out.append((f"{w}.rank-1", lambda m, ii=ii: m.graph.input[ii].type.tensor_type.shape.dim.pop()))
        for di in range(len(tt.shape.dim)):
            for v, tag in ((0, "0"), (-1, "-1"), (HUGE, "huge"), (3, "3")):
                out.append((f"{w}.dim[{di}]={tag}", lambda m, ii=ii, di=di, v=v: _set_dim(m.graph.input[ii].type.tensor_type.shape, di, v)))
            out.append((f"{w}.dim[{di}]=sym", lambda m, ii=ii, di=di: setattr(m.graph.input[ii].type.tensor_type.shape.dim[di], "dim_param", "N")))
            out.append((f"{w}.dim[{di}]=unset", lambda m, ii=ii, di=di: m.graph.input[ii].type.tensor_type.shape.dim[di].Clear()))
        for dt, tag in ((TP.INT64, "int64"), (TP.FLOAT, "float"), (TP.STRING, "string"), (TP.UNDEFINED, "undefined"),
                        (TP.DOUBLE, "double"), (TP.UINT8, "uint8"), (77, "77")):
            if dt != tt.elem_type:
                out.append((f"{w}.elem_type={tag}", lambda m, ii=ii, dt=dt: setattr(m.graph.input[ii].type.tensor_type, "elem_type", dt)))
    for oi, o in enumerate(g.output):
        out.append((f"output[{oi}].elem_type=int8", lambda m, oi=oi: setattr(m.graph.output[oi].type.tensor_type, "elem_type", TP.INT8)))
        out.append((f"output[{oi}].rank+1", lambda m, oi=oi: m.graph.output[oi].type.tensor_type.shape.dim.add().__setattr__("dim_value", 7)))
    return out


def _reverse_nodes(m):
    nodes = list(m.graph.node)
    m.graph.ClearField("node")
    m.graph.node.extend(reversed(nodes))


def _external_mutations(model: onnx.ModelProto) -> list[Mutation]:
    """Mutations of the external_data entries (the model is saved with every initializer in one
    weights.bin first)."""
    if not any(int(np.prod(t.dims, dtype=np.int64)) >= 4 for t in model.graph.initializer):
        return []
    out = []

    def ext(fn):
        def m(model):
            for t in model.graph.initializer:
                if t.data_location == TP.EXTERNAL:
                    fn({e.key: e for e in t.external_data}, t)
                    return
        return m

    def setkey(key, val):
        def f(kv, t):
            if key in kv:
                kv[key].value = val
            else:
                e = t.external_data.add()
                e.key, e.value = key, val
        return f
    for key, vals in (("offset", ("-1", "99999999", "abc", "18446744073709551615", "1")),
                      ("length", ("-1", "99999999", "0", "3", "abc", "18446744073709551615")),
                      ("location", ("", "/nonexistent/w.bin", "../../../etc/passwd", "weights.bin/..", "."))):
        for v in vals:
            out.append((f"external.{key}={v!r}", ext(setkey(key, v))))
    out.append(("external.location missing", ext(lambda kv, t: [t.external_data.remove(e) for e in list(t.external_data) if e.key == "location"])))
    out.append(("external.data_location=external,no entries", ext(lambda kv, t: t.ClearField("external_data"))))
    out.append(("external.raw_data also set", ext(lambda kv, t: setattr(t, "raw_data", b"\0" * 4))))
    return [Mutation(n, f, external=True) for n, f in out]


def mutations_for(seed: str, model: onnx.ModelProto) -> list[Mutation]:
    muts: list[tuple[str, Mutate]] = list(_graph_mutations(model))
    for i, t in enumerate(model.graph.initializer):
        muts += _tensor_mutations(t, f"init[{t.name}]")
    for ni in range(len(model.graph.node)):
        muts += _node_mutations(model, ni)
    res = [Mutation(f"{seed}/{n}", f) for n, f in muts]
    res += [Mutation(f"{seed}/{m.name}", m.apply, True) for m in _external_mutations(model)]
    return res


# ============================================================================ seeds
def seed_models(filter_: str = "", base_seed: int = 0) -> dict[str, tuple[onnx.ModelProto, dict, tuple]]:
    """name -> (model, feeds, extra qcc args): every models.py case whose name contains `filter_`,
    plus the example BERT when present."""
    from models import CASES, build_case
    res = {}
    for name, c in CASES.items():
        if filter_ in name:
            m, feeds = build_case(name, base_seed)
            res[name] = (m, feeds, c.qcc_args)
    mdir = Path(os.environ.get("QCC_MODEL_DIR", H.ROOT / "build" / "models"))
    bert = mdir / "example_bert.onnx"
    if filter_ in "example_bert" and bert.is_file():
        m = onnx.load(bert)
        feeds = _feeds_for(m, np.random.default_rng(base_seed), {})
        res["example_bert"] = (m, feeds, ())
    return res


_NP = {TP.FLOAT: np.float32, TP.DOUBLE: np.float64, TP.INT64: np.int64, TP.INT32: np.int32,
       TP.INT8: np.int8, TP.UINT8: np.uint8, TP.BOOL: np.bool_, TP.FLOAT16: np.float16}


def _feeds_for(model: onnx.ModelProto, rng, like: dict) -> dict | None:
    """Inputs for `model`: the seed's arrays where the declared type/shape still fit, else fresh
    random ones of the declared (static) shape; None when a shape or type cannot be fed."""
    inits = {t.name for t in model.graph.initializer}
    feeds = {}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        tt = inp.type.tensor_type
        dt = _NP.get(tt.elem_type)
        if dt is None:
            return None
        shape = []
        for d in tt.shape.dim:
            if not d.HasField("dim_value") or d.dim_value < 0 or d.dim_value > 4096:
                shape = None
                break
            shape.append(d.dim_value)
        old = like.get(inp.name)
        if old is not None and (shape is None or list(old.shape) == shape) and old.dtype == dt:
            feeds[inp.name] = old
            continue
        if shape is None or int(np.prod(shape, dtype=np.int64)) > 1 << 20:
            return None
        if np.issubdtype(dt, np.floating):
            feeds[inp.name] = rng.standard_normal(shape).astype(dt)
        elif dt == np.bool_:
            feeds[inp.name] = rng.random(shape) > 0.5
        else:
            feeds[inp.name] = rng.integers(0, 3, shape).astype(dt)
    return feeds


# ============================================================================ classification
@dataclass
class Outcome:
    name: str
    cls: str
    detail: str


def classify_exit(r: H.ToolResult, prefix: str = "qcc: error:", exit_code: int | None = None) -> tuple[str, str]:
    """('ok'|'error'|'bad-error'|'crash'|'timeout', detail) of a tool run: 'error' is a non-zero
    exit (`exit_code` if given) with exactly one stderr line starting with `prefix`."""
    if r.timed_out:
        return "timeout", f"no answer in {r.seconds:.0f} s"
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if r.returncode < 0:
        return "crash", f"signal {-r.returncode}: " + " | ".join(lines[:3])[:300]
    if r.returncode == 0:
        return "ok", ""
    if len(lines) == 1 and lines[0].startswith(prefix) and exit_code in (None, r.returncode):
        return "error", lines[0]
    if any("Stack dump" in l or "PLEASE submit" in l or "Assertion" in l for l in lines):
        return "crash", " | ".join(lines[:3])[:300]
    return "bad-error", f"exit {r.returncode}, {len(lines)} lines: " + " | ".join(lines[:3])[:300]


def classify_compile(r: H.ToolResult) -> tuple[str, str]:
    return classify_exit(r, "qcc: error:")


def save_mutant(model: onnx.ModelProto, mut: Mutation, d: Path) -> Path:
    p = d / "m.onnx"
    m = copy.deepcopy(model)
    if mut.external:
        onnx.save_model(m, p, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        m = onnx.load(p, load_external_data=False)
    mut.apply(m)
    p.write_bytes(m.SerializeToString())
    return p


_ORT_CHILD = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[4])
import qcc_harness as H
names = json.load(open(sys.argv[2] + ".json"))
z = np.load(sys.argv[2])
sess = H.ort_session(sys.argv[1], optimize=False)
outs = [o.name for o in sess.get_outputs()]
res = sess.run(outs, {n: z[f"a{i}"] for i, n in enumerate(names)})
np.savez(sys.argv[3], **{f"a{i}": r for i, r in enumerate(res)})
json.dump(outs, open(sys.argv[3] + ".json", "w"))
"""


def _ort_outputs(path: Path, feeds: dict):
    """onnxruntime's outputs in a child process (a mutant can make onnxruntime abort), or
    (None, why)."""
    import subprocess
    d = path.parent
    np.savez(d / "feeds.npz", **{f"a{i}": np.asarray(v) for i, v in enumerate(feeds.values())})
    (d / "feeds.npz.json").write_text(json.dumps(list(feeds)))
    try:
        r = subprocess.run([sys.executable, "-c", _ORT_CHILD, str(path), str(d / "feeds.npz"), str(d / "ref.npz"),
                            str(HERE.parents[1] / "scripts")], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None, "onnxruntime did not answer in 120 s"
    if r.returncode != 0:
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        return None, (lines[-1][:200] if lines else f"onnxruntime exited with {r.returncode}")
    z = np.load(d / "ref.npz")
    names = json.loads((d / "ref.npz.json").read_text())
    return {n: z[f"a{i}"] for i, n in enumerate(names)}, None


def run_one(seed: str, model: onnx.ModelProto, feeds: dict, qcc_args, mut: Mutation, work: Path,
            gpu: bool = False, timeout: float = 60, tol: float = 1e-3) -> list[Outcome]:
    d = Path(tempfile.mkdtemp(dir=work))
    p = save_mutant(model, mut, d)
    r = H.compile_model(p, d / "art" / "m", extra=list(qcc_args), timeout=timeout)
    cls, detail = classify_compile(r)
    res = []
    if cls == "ok":
        cls, detail = _check_artifact(p, d, feeds, tol)
    res.append(Outcome(mut.name, cls, detail))
    if gpu:
        rg = H.compile_model(p, d / "gpu" / "m", target="sm_80", extra=list(qcc_args), timeout=timeout)
        gcls, gdetail = classify_compile(rg)
        res.append(Outcome(mut.name + " [sm_80]", "compiled" if gcls == "ok" else gcls, gdetail))
    _rmtree(d)
    return res


def _check_artifact(p: Path, d: Path, seed_feeds: dict, tol: float) -> tuple[str, str]:
    m = onnx.load(p, load_external_data=False)
    feeds = _feeds_for(m, np.random.default_rng(7), seed_feeds)
    if feeds is None:
        return "ort-rejects", "no inputs can be built for the declared input types/shapes"
    ref, why = _ort_outputs(p, feeds)
    if ref is None:
        return "ort-rejects", why
    (d / "in").mkdir()
    paths = {}
    for i, (n, arr) in enumerate(feeds.items()):  # np.save keeps 0-d arrays 0-d
        paths[n] = d / "in" / f"in{i}.npy"
        np.save(paths[n], np.asarray(arr), allow_pickle=False)
    rr = H.run_artifact(d / "art" / "m", paths, d / "out", timeout=60)
    if rr.timed_out or rr.returncode < 0:
        return "crash", "qcc-run: " + rr.first_error_line()
    if not rr.ok:
        return "run-fail", rr.first_error_line()
    got = H.load_outputs(d / "out", list(ref))
    for n, e in ref.items():
        err = H.compare_rel_l2(got[n], e, tol)
        if err:
            return "mismatch", f"output {n}: {err}"
    return "match", ""


def _rmtree(d: Path):
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", default="", help="substring filter on seed model names")
    ap.add_argument("--max", type=int, default=0, help="at most N mutants per seed (random sample; 0 = all)")
    ap.add_argument("--seed", type=int, default=0, help="sampling and model seed")
    ap.add_argument("--gpu", action="store_true", help="also compile each mutant for -target=sm_80")
    ap.add_argument("-j", type=int, default=1, help="parallel workers")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--json", metavar="FILE", help="write every outcome to FILE")
    ap.add_argument("--show", default=",".join(BAD + ("run-fail", "ort-rejects")),
                    help="classes whose mutants are listed (comma list)")
    a = ap.parse_args(argv)
    if not H.tools_present():
        print(f"fuzz_onnx: qcc tools not built in {H.BUILD_DIR}", file=sys.stderr)
        return 2
    seeds = seed_models(a.k, a.seed)
    jobs = []
    rnd = random.Random(a.seed)
    for s, (m, feeds, args) in seeds.items():
        ms = mutations_for(s, m)
        if a.max and len(ms) > a.max:
            ms = rnd.sample(ms, a.max)
        jobs += [(s, m, feeds, args, mu) for mu in ms]
    print(f"fuzz_onnx: {len(jobs)} mutants of {len(seeds)} seed models ({H.QCC})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="qcc-fuzz-"))
    outcomes: list[Outcome] = []
    show = set(a.show.split(","))
    with ThreadPoolExecutor(max(1, a.j)) as ex:
        futs = [ex.submit(run_one, *j, work, a.gpu, a.timeout) for j in jobs]
        for i, f in enumerate(futs):
            for o in f.result():
                outcomes.append(o)
                if o.cls in show:
                    print(f"  {o.cls:11s} {o.name}: {o.detail}", flush=True)
            if (i + 1) % 100 == 0:
                print(f"  ... {i + 1}/{len(jobs)}", flush=True)
    _rmtree(work)
    counts = collections.Counter(o.cls for o in outcomes)
    print("fuzz_onnx: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if a.json:
        Path(a.json).write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    return 1 if any(counts[c] for c in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
