#!/usr/bin/env python3
"""W4A16 GEMM artifacts (more than 16 rows) for the GPU machine, and their
BENCHMARKS.md block.

  prepare DIR --qcc QCC   (development machine) for each case (M x K x N, int4
        group size, symmetric or asymmetric, --act=none): DIR/<case>/ with the
        sm_80 artifact of one MatMul by a constant [K, N] weight at M rows,
        inputs.npz and reference.npz for the first min(M, 67) rows (the CPU
        artifact of the same recipe, run by qcc-run next to QCC; the bench
        repeats them to M rows: meta "tile_rows", 67 rows straddle every
        block tile) and meta.json (the "matmul" shape for the kernel-level
        PyTorch peers F.linear fp16 and _weight_int4pack_mm, bytes moved, the
        2e-3 relative-L2 bound). Files equal between cases travel once
        (`bench/gpu_gemv.py expand DIR` restores them on the GPU machine).
        Then `bench/bench_gpu.py --artifacts DIR --runtime libqcc_runtime.so`
        there.
  table BENCH_JSON... [--benchmarks BENCHMARKS.md]   rewrites the W4A16 GEMM
        block of BENCHMARKS.md from the bench.json files of the runs.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from gpu_gemv import matmul_model  # noqa: E402

STORED_ROWS = 67
# Speed: the shapes at M = 16 (the GEMV) .. 1024; exactness: odd
# shapes and every group size (asymmetric too).
SHAPES = [(4096, 4096), (4096, 11008), (8192, 8192)]
SPEED = [(m, k, n, 128, True) for k, n in SHAPES for m in (16, 32, 64, 128, 256, 1024)]
CHECK = [(48, 1024, 1000, 32, False), (17, 2048, 1536, 64, False),
         (300, 1024, 768, 128, True), (100, 512, 4104, 16, True),
         (24, 4096, 11008, 128, False)]
BEGIN, END = "<!-- bench-gpu-w4gemm:begin -->", "<!-- bench-gpu-w4gemm:end -->"


def case_name(m, k, n, group, sym):
    return "w4gemm_m%d_%dx%d_g%d_%s" % (m, k, n, group, "sym" if sym else "asym")


def parse_case(text):
    """M,K,N,GROUP,sym|asym."""
    parts = text.split(",")
    return tuple(int(p) for p in parts[:4]) + (parts[4] == "sym",)


def prepare(args):
    import onnx
    import qcc_harness as H
    out = Path(args.dir)
    qcc_run = Path(args.qcc_run) if args.qcc_run else Path(args.qcc).with_name("qcc-run")
    cases = [parse_case(c) for c in args.case] if args.case else SPEED + CHECK
    failed, shared = [], {}
    for m, k, n, group, sym in cases:
        name = case_name(m, k, n, group, sym)
        if args.k and not any(s in name for s in args.k.split(",")):
            continue
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        extra = ["--act=none", "--group-size=%d" % group, "--sym" if sym else "--asym"]
        rows = min(m, STORED_ROWS)
        for file in ("model.onnx", "cpu.onnx"):
            model = matmul_model(k, n, seed=k + n)
            r_m = m if file == "model.onnx" else rows
            model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = r_m
            model.graph.output[0].type.tensor_type.shape.dim[0].dim_value = r_m
            onnx.save(model, str(folder / file))
        r = H.compile_model(folder / "model.onnx", folder / "model", target="sm_80", bits=4,
                            extra=extra, qcc=args.qcc)
        if not r.ok:
            failed.append("%s: %s" % (name, r.first_error_line()))
            continue
        feeds = {"x": np.random.default_rng(7).standard_normal((rows, k)).astype(np.float32)}
        np.savez(folder / "inputs.npz", **feeds)
        cpu = folder / "cpu" / "model"
        r = H.compile_model(folder / "cpu.onnx", cpu, target="host", bits=4, extra=extra,
                            qcc=args.qcc)
        run = r.ok and H.run_artifact(cpu, H.save_inputs(feeds, folder / "cpu" / "in"),
                                      folder / "cpu" / "out", qcc_run=qcc_run)
        if not r.ok or not run.ok:
            failed.append("%s: CPU reference: %s" % (name, (run or r).first_error_line()))
            continue
        np.savez(folder / "reference.npz", **H.load_outputs(folder / "cpu" / "out", ["y"]))
        shutil.rmtree(folder / "cpu")
        # Bytes the GEMM must move: packed codes, f16 (scale, zero) per group
        # and column, f32 activations in, f32 outputs out.
        moved = k * n // 2 + (k // group) * n * 4 + m * k * 4 + m * n * 4
        meta = {"title": "%s: %dx%dx%d int4 g%d %s, --act=none" % (
            name, m, k, n, group, "sym" if sym else "asym"),
            "matmul": {"M": m, "K": k, "N": n}, "group_size": group,
            "weight_bytes": moved, "max_rel_l2": 2e-3}
        if rows < m:
            meta["tile_rows"] = m
        (folder / "meta.json").write_text(json.dumps(meta))
        # The float models are too big to carry (the bench's peer is F.linear).
        os.remove(folder / "model.onnx")
        os.remove(folder / "cpu.onnx")
        ptx = (folder / "model.ptx").read_text()
        kind = ("GEMM (cp.async + ldmatrix + mma.sync)" if "cp.async" in ptx and
                "ldmatrix" in ptx and "mma.sync.aligned.m16n8k16" in ptx else
                "GEMV (mma.sync)" if "mma.sync.aligned.m16n8k16" in ptx else "generic kernel")
        print("%-40s %s" % (name, kind))
        for file in ("model.weights", "inputs.npz", "reference.npz"):
            path, marker = folder / file, folder / (file + ".same")
            digest = file + hashlib.sha256(path.read_bytes()).hexdigest()
            if marker.exists():
                marker.unlink()
            if digest in shared:
                path.unlink()
                marker.write_text(shared[digest] + "\n")
            else:
                shared[digest] = name
    for line in failed:
        print("failed:", line)
    return 1 if failed else 0


def table(args):
    from bench_gpu import format_table
    rows, result = [], None
    for path in args.bench_json:
        result = json.load(open(path))
        rows += [r for r in result["rows"] if "w4gemm_m" in r.get("name", "")]
    header = ("Date: %s; command: `bench/gpu_w4gemm.py prepare gpu-w4gemm --qcc "
              "build-gpu/bin/qcc [-k FILTER]` here (the carried folder holds 64 MiB: one "
              "weight matrix per run), then `bench/gpu_gemv.py expand gpu-w4gemm && "
              "bench/bench_gpu.py --artifacts gpu-w4gemm` on the GPU machine (device tool), "
              "then `bench/gpu_w4gemm.py table <bench.json>...`; PyTorch %s. rel-L2 is against "
              "the CPU artifact of the same recipe (67 stored rows repeated to M); M = 16 is "
              "the GEMV. " % (result.get("date"), result.get("torch", "?")))
    block = BEGIN + "\n" + format_table(rows, result["device"], result["copy_gbps"],
                                        result.get("reps", 50), header) + END
    path = Path(args.benchmarks)
    text = path.read_text()
    if BEGIN in text:
        start, stop = text.index(BEGIN), text.index(END) + len(END)
        text = text[:start] + block + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n## GPU kernels: W4A16 GEMM\n\n" + block + "\n"
    path.write_text(text)
    print("updated", path)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir")
    p.add_argument("--qcc", required=True)
    p.add_argument("--qcc-run", help="default: qcc-run next to --qcc")
    p.add_argument("-k", help="only cases whose name contains one of these (comma list)")
    p.add_argument("--case", action="append",
                   help="M,K,N,GROUP,sym|asym instead of the default cases (repeatable)")
    t = sub.add_parser("table")
    t.add_argument("bench_json", nargs="+")
    t.add_argument("--benchmarks", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    return {"prepare": prepare, "table": table}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
