#!/usr/bin/env python3
"""Every end-to-end model on a real GPU: compile here, run on the GPU machine.

  prepare DIR   (development machine) for every case of models.py: DIR/<case>/model.onnx,
                the sm_80 artifact DIR/<case>/model.*, inputs.npz and reference.npz
                (onnxruntime CPU on the case's own inputs), with seed --seed. With --bits 8|4
                the reference is the CPU artifact of the same recipe run by qcc-run here.
  check DIR --runtime libqcc_runtime.so   (GPU machine) runs each artifact through the runtime's
                host entry qcc_model_run twice (eager, then CUDA-graph replay), output buffers
                poisoned first, and compares with the reference: relative L2 <= 2e-3 for float
                outputs (the issue's GPU bound), exact for integer and bool outputs.
                Prints one line per failure and a summary; exit 1 on any failure.

Needs only numpy on the GPU machine (the runtime binding is bench/bench_gpu.py's).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOL = 2e-3


def prepare(args):
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT / "scripts"))
    import onnx
    import qcc_harness as H
    from models import CASES, build_case
    out = Path(args.dir)
    names = [n for n in CASES if not args.k or any(k in n for k in args.k.split(","))]
    failed = []
    for name in names:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        model, feeds = build_case(name, args.seed)
        onnx.save(model, folder / "model.onnx")
        extra = [*CASES[name].qcc_args, *args.qcc_arg]
        r = H.compile_model(folder / "model.onnx", folder / "model", target=args.target,
                            bits=args.bits, extra=extra, qcc=args.qcc)
        if not r.ok:
            failed.append(f"{name}: {r.first_error_line()}")
            continue
        np.savez(folder / "inputs.npz", **feeds)
        if args.bits == 32:
            ref = H.ort_run(str(folder / "model.onnx"), feeds)
        else:
            # Quantized: the CPU artifact of the same recipe is the reference (every target
            # computes the same numbers; test_quantized.py checks the CPU against float64).
            # -bits=4 on GPU targets defaults to weight-only, on the CPU to W4A8: say it.
            cpu_extra = [f for f in extra if not f.startswith("--gpu-")]
            if args.bits == 4 and not any(f.startswith("--act=") for f in cpu_extra):
                cpu_extra.append("--act=none")
            cpu = folder / "cpu" / "model"
            r = H.compile_model(folder / "model.onnx", cpu, target="host", bits=args.bits,
                                extra=cpu_extra, qcc=args.qcc)
            run = r.ok and H.run_artifact(cpu, H.save_inputs(feeds, folder / "cpu" / "in"),
                                          folder / "cpu" / "out", qcc_run=Path(args.qcc).with_name("qcc-run"))
            if not r.ok or not run.ok:
                failed.append(f"{name}: CPU reference: {(run or r).first_error_line()}")
                continue
            out_names = [o.name for o in onnx.load(str(folder / "model.onnx")).graph.output]
            ref = H.load_outputs(folder / "cpu" / "out", out_names)
            shutil.rmtree(folder / "cpu")
        np.savez(folder / "reference.npz", **ref)
    for line in failed:
        print("compile failed:", line)
    print(f"prepared {len(names) - len(failed)} of {len(names)} cases in {out}")
    return 1 if failed else 0


def check(args):
    sys.path.insert(0, str(ROOT / "bench"))
    import json
    from bench_gpu import Runtime, Tensor, np_dtype, tensor_of
    rt = Runtime(args.runtime)
    folders = sorted(p for p in Path(args.dir).iterdir() if (p / "model.json").exists())
    failures, passed = [], 0
    start = time.perf_counter()
    for folder in folders:
        prefix = str(folder / "model")
        man = json.load(open(prefix + ".json"))
        feeds = dict(np.load(folder / "inputs.npz"))
        ref = dict(np.load(folder / "reference.npz"))
        try:
            model = rt.load(prefix)
        except RuntimeError as e:
            failures.append(f"{folder.name}: load: {e}")
            continue
        try:
            ins_np = [np.ascontiguousarray(feeds[s["name"]], np_dtype(s["dtype"])) for s in man["inputs"]]
            outs_np = [np.full(s["shape"], np.nan if s["dtype"].startswith("float") else 0x5A,
                               np_dtype(s["dtype"])) for s in man["outputs"]]
            ins = (Tensor * max(len(ins_np), 1))(*[tensor_of(a, s["dtype"]) for a, s in zip(ins_np, man["inputs"])])
            outs = (Tensor * len(outs_np))(*[tensor_of(a, s["dtype"]) for a, s in zip(outs_np, man["outputs"])])
            worst = ""
            for attempt in ("eager", "replay"):
                for a in outs_np:
                    a.fill(np.nan if a.dtype.kind == "f" else 0x5A)
                rt.check(rt.lib.qcc_model_run(model, ins, len(ins_np), outs, len(outs_np)))
                for s, got in zip(man["outputs"], outs_np):
                    want = ref[s["name"]]
                    if got.shape != want.shape:
                        worst = f"{attempt}: output {s['name']} shape {got.shape} != {want.shape}"
                    elif got.dtype.kind == "f":
                        g, w = got.astype(np.float64), want.astype(np.float64)
                        denom = np.linalg.norm(w)
                        err = np.linalg.norm(g - w) / (denom if denom > 0 else 1.0)
                        if not np.isfinite(err) or err > TOL:
                            worst = f"{attempt}: output {s['name']} rel L2 {err:.3g} > {TOL}"
                    elif not np.array_equal(got, want.astype(got.dtype)):
                        worst = f"{attempt}: output {s['name']} differs in {int((got != want).sum())} elements"
                if worst:
                    break
            if worst:
                failures.append(f"{folder.name}: {worst}")
            else:
                passed += 1
        except RuntimeError as e:
            failures.append(f"{folder.name}: run: {e}")
        finally:
            rt.lib.qcc_model_release(model)
    for line in failures:
        print("FAIL", line)
    print(f"gpu-e2e: {passed} passed, {len(failures)} failed of {len(folders)} "
          f"({time.perf_counter() - start:.1f} s)")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target", default="sm_80")
    p.add_argument("--qcc", default=str(ROOT / os.environ.get("QCC_BUILD_DIR", "build") / "bin" / "qcc"))
    p.add_argument("-k", default="", help="comma list of case-name substrings")
    p.add_argument("--bits", type=int, default=32,
                   help="8 or 4: quantized, checked against the CPU artifact of the same recipe")
    p.add_argument("--qcc-arg", action="append", default=[], help="extra qcc flag (repeatable)")
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--runtime", required=True)
    args = ap.parse_args()
    return prepare(args) if args.cmd == "prepare" else check(args)


if __name__ == "__main__":
    sys.exit(main())
