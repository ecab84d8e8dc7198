#!/usr/bin/env python3
"""Accuracy of the GPU's row reductions against a float64 reference: sequential vs warp.

The reductions of the real models (SmolLM2's RMSNorm, its masked attention Softmax, MiniLM's
LayerNormalization and mean-pooling ReduceSum), each in one small float ONNX graph at the
models' sizes, compiled three ways: `-target=sm_80 --gpu-warp-reductions=false` (one thread per
row folds the row in order), `--gpu-warp-reductions=true` (qcc-gpu-warp-reductions: 32 lanes,
each a strided partial, then an xor-shuffle butterfly) and the CPU artifact
(`-target=x86-64-vnni`, vectorized reductions). Inputs carry activation outliers like the real
models' (a few channels 100-300x the rest).

  prepare   (here) writes the graph, the three artifacts and --sets input sets under
            gpu-artifacts/reductions/ (travels), runs the CPU artifact, and keeps its outputs and
            the float64 reference in gpu-artifacts/reductions-ref/ (stays).
  run       (device) runs both GPU artifacts on every set; OUT/reductions-gpu-{seq,warp}.npz.
  report    (here) per op and variant: relative L2 error to float64 (median and max over the
            sets), max error in units of float32 rounding of the reference, and the share of
            outputs equal to the correctly rounded float32 value; --update writes the table
            into BENCHMARKS.md (block gpu-reductions).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
DIR = ROOT / "gpu-artifacts" / "reductions"        # travels to the device
REFDIR = ROOT / "gpu-artifacts" / "reductions-ref"  # stays here
BEGIN, END = "<!-- gpu-reductions:begin -->", "<!-- gpu-reductions:end -->"
VARIANTS = {"gpu-seq": ["-target=sm_80", "--gpu-warp-reductions=false"],
            "gpu-warp": ["-target=sm_80", "--gpu-warp-reductions=true"],
            "cpu": ["-target=x86-64-vnni"]}
# output: (what it is, input name, shape)
OPS = {"rms": ("SmolLM2 RMSNorm (ReduceMean of x^2 over 576)", "x_rms", [128, 576]),
       "ms": ("SmolLM2 RMSNorm's mean of x^2 alone (the reduction)", "x_rms", [128, 1]),
       "softmax": ("SmolLM2 attention Softmax (128, causal Where -1e9)", "scores", [9, 128, 128]),
       "ln": ("MiniLM LayerNormalization (384)", "x_ln", [128, 384]),
       "pool": ("MiniLM pooling ReduceSum over 128 tokens", "x_pool", [1, 128, 384])}


def build_graph(path: Path, rng) -> dict:
    """The four ops in one graph; returns the float32 constants for the reference."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    consts = {"w_rms": (1 + 0.3 * rng.standard_normal(576)).astype(np.float32),
              "g_ln": (1 + 0.2 * rng.standard_normal(384)).astype(np.float32),
              "b_ln": (0.1 * rng.standard_normal(384)).astype(np.float32),
              "causal": np.tril(np.ones((128, 128), bool)),
              "two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32),
              "minus": np.array(-1e9, np.float32), "axes": np.array([1], np.int64)}
    nodes = [
        helper.make_node("Pow", ["x_rms", "two"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[-1], keepdims=1),
        helper.make_node("Add", ["ms", "eps"], ["ms_eps"]),
        helper.make_node("Sqrt", ["ms_eps"], ["root"]),
        helper.make_node("Reciprocal", ["root"], ["rroot"]),
        helper.make_node("Mul", ["x_rms", "rroot"], ["normed"]),
        helper.make_node("Mul", ["normed", "w_rms"], ["rms"]),
        helper.make_node("Where", ["causal", "scores", "minus"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["softmax"], axis=-1),
        helper.make_node("LayerNormalization", ["x_ln", "g_ln", "b_ln"], ["ln"], axis=-1,
                         epsilon=1e-12),
        helper.make_node("ReduceSum", ["x_pool", "axes"], ["pool"], keepdims=0),
    ]
    inputs = [helper.make_tensor_value_info(OPS[o][1], TensorProto.FLOAT, OPS[o][2])
              for o in OPS if o != "ms"]
    outputs = [helper.make_tensor_value_info("rms", TensorProto.FLOAT, [128, 576]),
               helper.make_tensor_value_info("ms", TensorProto.FLOAT, [128, 1]),
               helper.make_tensor_value_info("softmax", TensorProto.FLOAT, [9, 128, 128]),
               helper.make_tensor_value_info("ln", TensorProto.FLOAT, [128, 384]),
               helper.make_tensor_value_info("pool", TensorProto.FLOAT, [1, 384])]
    graph = helper.make_graph(nodes, "reductions", inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return consts


def make_inputs(rng) -> dict:
    def outliers(shape, count, scale):
        x = rng.standard_normal(shape)
        ch = rng.choice(shape[-1], count, replace=False)
        x[..., ch] *= scale
        return x.astype(np.float32)
    return {"x_rms": outliers([128, 576], 4, rng.uniform(100, 300)),
            "scores": (3.0 * rng.standard_normal([9, 128, 128])).astype(np.float32),
            "x_ln": outliers([128, 384], 2, rng.uniform(20, 60)),
            "x_pool": (0.5 + outliers([1, 128, 384], 2, 30.0)).astype(np.float32)}


def reference(f: dict, c: dict) -> dict:
    """float64 on the float32 inputs and constants."""
    d = {k: v.astype(np.float64) for k, v in f.items()}
    x = d["x_rms"]
    rms = x / np.sqrt((x * x).mean(-1, keepdims=True) + np.float64(np.float32(1e-5)))
    rms = rms * c["w_rms"].astype(np.float64)
    s = np.where(c["causal"], d["scores"], np.float64(np.float32(-1e9)))
    e = np.exp(s - s.max(-1, keepdims=True))
    sm = e / e.sum(-1, keepdims=True)
    x = d["x_ln"]
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    ln = (x - mu) / np.sqrt(var + np.float64(np.float32(1e-12)))
    ln = ln * c["g_ln"].astype(np.float64) + c["b_ln"].astype(np.float64)
    return {"rms": rms, "ms": (d["x_rms"] ** 2).mean(-1, keepdims=True), "softmax": sm, "ln": ln, "pool": d["x_pool"].sum(1)}


def prepare(a) -> int:
    import eval_common as E
    build = Path(os.environ.get("QCC_BUILD_DIR", ROOT / "build"))
    qcc = (build if build.is_absolute() else ROOT / build) / "bin" / "qcc"
    DIR.mkdir(parents=True, exist_ok=True)
    REFDIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    consts = build_graph(DIR / "reductions.onnx", rng)
    for name, flags in VARIANTS.items():
        r = subprocess.run([str(qcc), str(DIR / "reductions.onnx"), "-bits=32", *flags,
                            "-o", str(DIR / name / "model")], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name}: qcc failed: {(r.stderr or r.stdout).strip()}")
            return 1
    sets = [make_inputs(rng) for _ in range(a.sets)]
    feeds = {k: np.stack([s[k] for s in sets]) for k in sets[0]}
    np.savez(DIR / "inputs.npz", **feeds)
    refs = [reference(s, consts) for s in sets]
    np.savez(REFDIR / "ref-float64.npz", **{k: np.stack([r[k] for r in refs]) for k in OPS})
    cpu = E.QccModel(DIR / "cpu" / "model")
    outs = [cpu.run(s) for s in sets]
    cpu.close()
    np.savez(REFDIR / "out-cpu.npz", **{k: np.stack([o[k] for o in outs]) for k in OPS})
    print(f"{DIR}: graph, {len(VARIANTS)} artifacts, {a.sets} input sets, float64 reference")
    return 0


def device_run(a) -> int:
    from bench_gpu import Runtime, Tensor, tensor_of
    import json
    rt = Runtime(a.runtime)
    feeds = dict(np.load(DIR / "inputs.npz"))
    n = len(next(iter(feeds.values())))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in VARIANTS:
        if not name.startswith("gpu"):
            continue
        prefix = DIR / name / "model"
        man = json.loads(Path(str(prefix) + ".json").read_text())
        model = rt.load(str(prefix))
        got = {s["name"]: [] for s in man["outputs"]}
        for i in range(n):
            ins_np = [np.ascontiguousarray(feeds[s["name"]][i], np.float32) for s in man["inputs"]]
            outs_np = [np.full(s["shape"], np.nan, np.float32) for s in man["outputs"]]
            ins = (Tensor * len(ins_np))(*[tensor_of(x, "float32") for x in ins_np])
            outs = (Tensor * len(outs_np))(*[tensor_of(x, "float32") for x in outs_np])
            rt.check(rt.lib.qcc_model_run(model, ins, len(ins), outs, len(outs)))
            for s, x in zip(man["outputs"], outs_np):
                got[s["name"]].append(x)
        rt.lib.qcc_model_release(model)
        # one file per variant: the device tool returns files of at most 16 MiB
        np.savez(out / f"reductions-{name}.npz", **{k: np.stack(v) for k, v in got.items()})
        print(f"{name}: {n} sets run", flush=True)
    return 0


def report(a) -> int:
    ref = dict(np.load(REFDIR / "ref-float64.npz"))
    got = {f"cpu/{k}": v for k, v in np.load(REFDIR / "out-cpu.npz").items()}
    for name in VARIANTS:
        if name.startswith("gpu"):
            got.update({f"{name}/{k}": v for k, v in
                        np.load(Path(a.fetched) / f"reductions-{name}.npz").items()})
    lines = ["| op | variant | rel-L2 to float64, median | max | max error / (eps32 x row max) | "
             "correctly rounded |", "|---|---|---:|---:|---:|---:|"]
    for op, (what, _, _) in OPS.items():
        r = ref[op]
        r32 = r.astype(np.float32)
        # error in units of float32 rounding at the row's scale (the reduction's own error)
        scale = np.finfo(np.float32).eps * np.abs(r).max(-1, keepdims=True)
        for name in VARIANTS:
            g = got[f"{name}/{op}"].astype(np.float64)
            if not np.all(np.isfinite(g)):
                lines.append(f"| {what} | {name} | non-finite | | | |")
                continue
            rels = [np.linalg.norm(g[i] - r[i]) / np.linalg.norm(r[i]) for i in range(len(r))]
            ulps = np.abs(g - r) / scale
            exact = np.mean(got[f"{name}/{op}"] == r32)
            lines.append(f"| {what} | {name} | {np.median(rels):.2e} | {max(rels):.2e} | "
                         f"{ulps.max():.1f} | {100 * exact:.1f}% |")
    text = "\n".join(lines)
    print(text)
    if a.update:
        path = ROOT / "BENCHMARKS.md"
        s = path.read_text()
        i, j = s.find(BEGIN), s.find(END)
        if i < 0 or j < i:
            print(f"{path}: no {BEGIN} block")
            return 1
        s = s[:i + len(BEGIN)] + "\n" + text + "\n" + s[j:]
        path.write_text(s)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--sets", type=int, default=8)
    pp.add_argument("--seed", type=int, default=20261122)
    pr = sub.add_parser("run")
    pr.add_argument("--runtime", required=True)
    pr.add_argument("--out", default=os.environ.get("OUT", "/tmp/qcc-gpu-out"))
    pq = sub.add_parser("report")
    pq.add_argument("fetched")
    pq.add_argument("--update", action="store_true")
    a = p.parse_args()
    return {"prepare": prepare, "run": device_run, "report": report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
