#!/usr/bin/env python3
"""ONNX backend node tests as qcc's op conformance suite.

Walks onnx/backend/test/data/node/*/ from the installed onnx wheel (model.onnx +
test_data_set_0/input_*.pb, output_*.pb), finds the op each test is about, and for the ops qcc
supports (`build/bin/qcc --print-supported-ops`, one op type per line; the E2E op list when that
fails) compiles the model with qcc (-target=host -bits=32), runs it with qcc-run on the .pb
inputs and compares with the expected outputs: np.allclose(rtol=1e-4, atol=1e-5) for floats with
NaN positions matching, exact for integers and bools.

A test of a supported op is *skipped* (and counted as such, with the reason) when it cannot be
expressed in qcc's artifact at all: a graph input/output of a type the artifact has no element
type for (string, bfloat16, float8, int4, complex, sequence, optional, map), or -- for the
function-expanded variants (`*_expanded`) -- a node whose op qcc does not support.

  .venv/bin/python test/Conformance/run_node_tests.py                 # all supported ops
  .venv/bin/python test/Conformance/run_node_tests.py --op Add -k bcast --verbose
  .venv/bin/python test/Conformance/run_node_tests.py --summary       # exit 1 below 95 %
  .venv/bin/python test/Conformance/run_node_tests.py --list          # discovery only

Writes the per-op table to build/conformance.md; --update-readme also replaces the block between
<!-- conformance:begin --> and <!-- conformance:end --> in README.md.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
import os
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import qcc_harness as H  # noqa: E402

GOAL = 0.95
README_BEGIN, README_END = "<!-- conformance:begin -->", "<!-- conformance:end -->"

# The E2E op list: the fallback supported set when `qcc --print-supported-ops` fails.
FALLBACK_OPS = """Add Sub Mul Div Pow Neg Abs Sqrt Exp Log Reciprocal Relu LeakyRelu Sigmoid Tanh Erf Gelu
HardSigmoid HardSwish Clip Sin Cos Floor Ceil Where Equal Less Greater LessOrEqual GreaterOrEqual Not And Or Cast
Min Max Sum Identity Dropout MatMul Gemm Conv ConvTranspose BatchNormalization MaxPool AveragePool
GlobalAveragePool Resize Flatten Concat Reshape Transpose Softmax LayerNormalization ReduceMean ReduceSum
ReduceMax ReduceMin Gather Unsqueeze Squeeze Slice Expand Shape Constant ConstantOfShape Range Trilu Split
Tile""".split()

# Directory-name stems that are not the op's name in snake case or lower case.
ALIASES = {
    "batchnorm": "BatchNormalization",
    "less_equal": "LessOrEqual",
    "greater_equal": "GreaterOrEqual",
    "sce": "SoftmaxCrossEntropyLoss",
    "nllloss": "NegativeLogLikelihoodLoss",
    "mvn": "MeanVarianceNormalization",
    "logsoftmax": "LogSoftmax",
    "basic_conv": "Conv",
    "conv_with": "Conv",
    "basic_convinteger": "ConvInteger",
    "maxpool": "MaxPool",
    "averagepool": "AveragePool",
    "globalmaxpool": "GlobalMaxPool",
    "globalaveragepool": "GlobalAveragePool",
    "constant_pad": "Pad",
    "edge_pad": "Pad",
    "reflect_pad": "Pad",
    "wrap_pad": "Pad",
    "training_dropout": "Dropout",
    "strnorm": "StringNormalizer",
    "shrink": "Shrink",
    "identity_sequence": "Identity",
    "identity_opt": "Identity",
    "cast_no_saturate": "Cast",
    "castlike": "CastLike",
    "resize": "Resize",
}

# TensorProto element types the artifact format has (ARTIFACT.md).
ARTIFACT_TYPES = {
    onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.INT8,
    onnx.TensorProto.UINT8, onnx.TensorProto.INT16, onnx.TensorProto.UINT16, onnx.TensorProto.INT32,
    onnx.TensorProto.UINT32, onnx.TensorProto.INT64, onnx.TensorProto.UINT64, onnx.TensorProto.BOOL,
}


def node_dir() -> Path:
    return Path(onnx.__file__).resolve().parent / "backend" / "test" / "data" / "node"


def camel_to_snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _stem_table() -> list[tuple[str, str]]:
    ops = {s.name for s in onnx.defs.get_all_schemas_with_history()}
    table = {}
    for op in ops:
        table.setdefault(camel_to_snake(op), op)
        table.setdefault(op.lower(), op)
    table.update(ALIASES)
    return sorted(table.items(), key=lambda kv: -len(kv[0]))  # longest stem first


_STEMS: list[tuple[str, str]] | None = None


def op_from_dirname(dirname: str) -> str | None:
    global _STEMS
    if _STEMS is None:
        _STEMS = _stem_table()
    name = dirname[len("test_"):] if dirname.startswith("test_") else dirname
    for stem, op in _STEMS:
        if name == stem or name.startswith(stem + "_"):
            return op
    return None


def _qualified(node: onnx.NodeProto) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def all_ops(graph: onnx.GraphProto) -> set[str]:
    ops = set()
    for n in graph.node:
        ops.add(_qualified(n))
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                ops |= all_ops(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    ops |= all_ops(g)
    return ops


def _type_problem(vi: onnx.ValueInfoProto) -> str | None:
    t = vi.type
    kind = t.WhichOneof("value")
    if kind != "tensor_type":
        return f"{kind or 'untyped'} input/output '{vi.name}'"
    if t.tensor_type.elem_type not in ARTIFACT_TYPES:
        return f"dtype {onnx.TensorProto.DataType.Name(t.tensor_type.elem_type)}"
    return None


@dataclass
class NodeTest:
    name: str
    path: Path
    op: str
    ops: set[str]
    opset: int
    inputs: list[tuple[str, Path]] = field(default_factory=list)    # (graph input name, .pb)
    outputs: list[tuple[str, Path]] = field(default_factory=list)   # (graph output name, .pb)
    input_shapes: list[str] = field(default_factory=list)           # -input-shape=... flags
    skip: str | None = None


@dataclass
class Result:
    test: NodeTest
    status: str               # passed | failed | skipped
    error: str = ""
    seconds: float = 0.0


def discover(root: Path, supported: set[str]) -> list[NodeTest]:
    tests = []
    for d in sorted(root.iterdir()):
        mpath = d / "model.onnx"
        data = d / "test_data_set_0"
        if not mpath.is_file() or not data.is_dir():
            continue
        try:
            m = onnx.load(str(mpath), load_external_data=False)
        except Exception as e:  # noqa: BLE001
            tests.append(NodeTest(d.name, d, "?", set(), 0, skip=f"onnx cannot load model: {e}"))
            continue
        g = m.graph
        ops = all_ops(g)
        if len(g.node) == 1:
            op = _qualified(g.node[0])
        else:
            op = op_from_dirname(d.name) or (_qualified(g.node[0]) if len({_qualified(n) for n in g.node}) == 1 else "?")
        opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 0)
        t = NodeTest(d.name, d, op, ops, opset)
        inits = {i.name for i in g.initializer}
        real_inputs = [vi for vi in g.input if vi.name not in inits]
        in_pbs = sorted(data.glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        out_pbs = sorted(data.glob("output_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        problems = [p for p in (_type_problem(v) for v in [*real_inputs, *g.output]) if p]
        if problems:
            t.skip = problems[0]
        elif len(in_pbs) != len(real_inputs) or len(out_pbs) != len(g.output):
            t.skip = (f"{len(in_pbs)} input / {len(out_pbs)} output files for {len(real_inputs)} inputs / "
                      f"{len(g.output)} outputs")
        else:
            t.inputs = [(vi.name, p) for vi, p in zip(real_inputs, in_pbs)]
            t.outputs = [(vi.name, p) for vi, p in zip(g.output, out_pbs)]
            unsupported = sorted(o for o in ops if o not in supported and o != op)
            if op in supported and unsupported:
                t.skip = "uses unsupported ops: " + ", ".join(unsupported)
            elif d.name.startswith("test_training_dropout") and "zero_ratio" not in d.name:
                t.skip = "training-mode Dropout draws random numbers"
            for vi, p in zip(real_inputs, in_pbs):
                dims = vi.type.tensor_type.shape.dim
                static = vi.type.tensor_type.HasField("shape") and all(x.HasField("dim_value") for x in dims)
                if not static:
                    tp = onnx.TensorProto()
                    tp.ParseFromString(p.read_bytes())
                    if len(tp.dims):  # qcc's -input-shape takes NAME:D0xD1...; a scalar needs none
                        t.input_shapes.append(f"-input-shape={vi.name}:" + "x".join(str(x) for x in tp.dims))
        tests.append(t)
    return tests


CONST_INPUT_RE = re.compile(r"\('([^']+)'\) must be a compile-time constant")


def load_pb(p: Path) -> np.ndarray:
    tp = onnx.TensorProto()
    tp.ParseFromString(p.read_bytes())
    return numpy_helper.to_array(tp)


def run_one(t: NodeTest, work: Path, timeout: float, keep: bool, qcc: Path, qcc_run: Path) -> Result:
    t0 = time.perf_counter()
    d = work / t.name
    d.mkdir(parents=True, exist_ok=True)
    try:
        prefix = d / "model"
        # qcc compiles static shapes: a graph input that decides a shape
        # (axes, pads, sizes, repeats) is bound at compile time with
        # --const-input, as a serving compile would bind it; the importer
        # names such inputs in its error.
        inputs = dict(t.inputs)
        bound: list[str] = []
        while True:
            r = H.compile_model(t.path / "model.onnx", prefix, target="host", bits=32,
                                extra=t.input_shapes + bound, timeout=timeout, qcc=qcc)
            m = CONST_INPUT_RE.search(r.first_error_line()) if not r.ok else None
            if not m or m.group(1) not in inputs:
                break
            bound.append(f"--const-input={m.group(1)}={inputs.pop(m.group(1))}")
        if not r.ok:
            return Result(t, "failed", "compile: " + r.first_error_line(), time.perf_counter() - t0)
        left = max(1.0, timeout - (time.perf_counter() - t0))
        out = d / "out"
        out.mkdir(exist_ok=True)
        r = H.run_artifact(prefix, inputs, out, timeout=left, qcc_run=qcc_run)
        if not r.ok:
            return Result(t, "failed", "run: " + r.first_error_line(), time.perf_counter() - t0)
        for name, pb in t.outputs:
            exp = load_pb(pb)
            f = out / f"{H.sanitize_name(name)}.npy"
            got = np.load(f, allow_pickle=False) if f.is_file() else None
            err = H.compare_allclose(got, exp)
            if err:
                return Result(t, "failed", f"compare '{name}': {err}", time.perf_counter() - t0)
        return Result(t, "passed", "", time.perf_counter() - t0)
    except Exception as e:  # noqa: BLE001 -- a harness error is a failed test, never a crash
        return Result(t, "failed", f"harness: {type(e).__name__}: {e}", time.perf_counter() - t0)
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def supported_ops(qcc: Path, override: str | None) -> tuple[set[str], str]:
    if override:
        p = Path(override)
        items = p.read_text().split() if p.is_file() else re.split(r"[,\s]+", override)
        return {x for x in items if x}, "--supported"
    r = H.run_tool([qcc, "--print-supported-ops"], timeout=60)
    if r.ok:
        ops = {l.strip() for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")}
        if ops:
            return ops, f"{qcc.name} --print-supported-ops"
    return set(FALLBACK_OPS), f"fallback list ({qcc.name} --print-supported-ops failed: {r.first_error_line()})"


def markdown(rows, totals, meta: dict) -> str:
    lines = [f"Op conformance: ONNX {meta['onnx']} backend node tests, compiled by qcc "
             f"(`-target=host -bits=32`), run by qcc-run, compared with the expected outputs "
             f"(np.allclose rtol=1e-4 atol=1e-5 for floats, exact otherwise).",
             "",
             f"Machine: {meta['machine']}; date: {meta['date']}; command: `{meta['command']}`; "
             f"supported set: {meta['source']} ({meta['n_supported']} ops).",
             "",
             "| op | passed | failed | skipped | total |",
             "|---|---:|---:|---:|---:|"]
    for op, c in rows:
        lines.append(f"| {op} | {c['passed']} | {c['failed']} | {c['skipped']} | {c['total']} |")
    p, f, s = totals["passed"], totals["failed"], totals["skipped"]
    rate = p / (p + f) if p + f else 0.0
    lines.append(f"| **total** | **{p}** | **{f}** | **{s}** | **{p + f + s}** |")
    lines += ["", f"Pass rate over the run tests of supported ops: **{100 * rate:.1f}%** ({p}/{p + f}); "
                  f"goal {100 * GOAL:.0f}%. Skipped: the test needs a type the artifact has no element type "
                  f"for, or (expanded variants) an op qcc does not support."]
    if meta.get("not_supported"):
        lines += ["", f"Tests of ops qcc does not support (not run): {meta['not_supported']}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--op", action="append", help="only this op type (repeatable)")
    ap.add_argument("-k", dest="substr", help="only test directories whose name contains this")
    ap.add_argument("--summary", action="store_true",
                    help=f"exit 1 when the pass rate < {100 * GOAL:.0f}%%")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each failure's first error line")
    ap.add_argument("--list", action="store_true", help="list discovered tests and their op, run nothing")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per test, compile + run (default 30)")
    ap.add_argument("--supported", help="override the supported set: comma list or a file with one op a line")
    ap.add_argument("--data-dir", type=Path, default=None, help="node test folder (default: the onnx wheel's)")
    ap.add_argument("--keep", action="store_true", help="keep each test's work folder (under build/conformance-work)")
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--md", type=Path, default=H.BUILD_DIR / "conformance.md")
    a = ap.parse_args(argv)

    root = a.data_dir or node_dir()
    if not root.is_dir():
        print(f"run_node_tests: error: no node tests at {root} (onnx {onnx.__version__}; need onnx<=1.22 wheel)",
              file=sys.stderr)
        return 2
    supported, source = supported_ops(H.QCC, a.supported)
    tests = discover(root, supported)
    if a.substr:
        tests = [t for t in tests if a.substr in t.name]
    if a.op:
        tests = [t for t in tests if t.op in set(a.op)]
    in_scope = [t for t in tests if t.op in supported]
    not_supported = defaultdict(int)
    for t in tests:
        if t.op not in supported:
            not_supported[t.op] += 1

    if a.list:
        for t in tests:
            flag = "RUN " if t.op in supported and not t.skip else ("SKIP" if t.op in supported else "    ")
            print(f"{flag} {t.op:28s} {t.name}{'  [' + t.skip + ']' if t.skip and t.op in supported else ''}")
        print(f"{len(tests)} tests; {len(in_scope)} of supported ops "
              f"({sum(1 for t in in_scope if not t.skip)} to run); supported set from {source}")
        return 0

    print(f"qcc conformance: {len(in_scope)} node tests of {len({t.op for t in in_scope})} supported ops "
          f"(supported set: {source}); {a.jobs} workers, {a.timeout:.0f} s per test", flush=True)
    results: list[Result] = [Result(t, "skipped", t.skip) for t in in_scope if t.skip]
    to_run = [t for t in in_scope if not t.skip]
    work_parent = H.BUILD_DIR if H.BUILD_DIR.is_dir() else Path(tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix="conformance-work-", dir=work_parent))
    t_start = time.perf_counter()
    try:
        with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            futs = [ex.submit(run_one, t, work, a.timeout, a.keep, H.QCC, H.QCC_RUN) for t in to_run]
            for i, fut in enumerate(cf.as_completed(futs), 1):
                r = fut.result()
                results.append(r)
                if a.verbose and r.status == "failed":
                    print(f"FAIL {r.test.op:24s} {r.test.name}: {r.error}", flush=True)
                elif i % 100 == 0:
                    print(f"  ... {i}/{len(to_run)} done ({time.perf_counter() - t_start:.0f} s)", flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folders kept in {work}")
    wall = time.perf_counter() - t_start

    per_op: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0, "total": 0})
    for r in results:
        c = per_op[r.test.op]
        c[r.status] += 1
        c["total"] += 1
    rows = sorted(per_op.items())
    totals = {k: sum(c[k] for _, c in rows) for k in ("passed", "failed", "skipped")}

    w = max([len(op) for op, _ in rows] + [5])
    print(f"\n{'op':<{w}}  passed  failed  skipped  total")
    for op, c in rows:
        print(f"{op:<{w}}  {c['passed']:6d}  {c['failed']:6d}  {c['skipped']:7d}  {c['total']:5d}")
    p, f, s = totals["passed"], totals["failed"], totals["skipped"]
    print(f"{'total':<{w}}  {p:6d}  {f:6d}  {s:7d}  {p + f + s:5d}")
    if a.verbose:
        skipped = [r for r in results if r.status == "skipped"]
        for r in sorted(skipped, key=lambda r: r.test.name):
            print(f"SKIP {r.test.op:24s} {r.test.name}: {r.error}")
    rate = p / (p + f) if p + f else 0.0
    print(f"\npass rate over supported ops: {100 * rate:.1f}% ({p}/{p + f}), goal {100 * GOAL:.0f}%; "
          f"{s} skipped; {wall:.0f} s wall")
    if not_supported and a.verbose:
        print("tests of unsupported ops (not run): " +
              ", ".join(f"{op} {n}" for op, n in sorted(not_supported.items())))

    meta = {"onnx": onnx.__version__, "machine": H.cpu_model_name(),
            "date": datetime.date.today().isoformat(),
            "command": "test/Conformance/run_node_tests.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "source": source, "n_supported": len(supported),
            "not_supported": f"{sum(not_supported.values())} tests of {len(not_supported)} ops" if not_supported else ""}
    md = markdown(rows, totals, meta)
    try:
        a.md.parent.mkdir(parents=True, exist_ok=True)
        a.md.write_text(md)
        print(f"wrote {a.md}")
    except OSError as e:
        print(f"run_node_tests: warning: cannot write {a.md}: {e}", file=sys.stderr)
    if a.update_readme:
        readme = H.ROOT / "README.md"
        if H.replace_block(readme, README_BEGIN, README_END, md):
            print(f"updated {readme}")
        else:
            print(f"run_node_tests: error: {readme} has no {README_BEGIN} ... {README_END} block", file=sys.stderr)
            return 2
    print(f"conformance: {p} passed, {f} failed, {s} skipped")
    if a.summary:
        if p + f == 0:
            print("run_node_tests: error: no conformance test ran", file=sys.stderr)
            return 1
        if rate < GOAL:
            print(f"run_node_tests: error: pass rate {100 * rate:.1f}% is below the goal {100 * GOAL:.0f}%",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
