#!/usr/bin/env python3
"""W4A16 GEMV artifacts for the GPU machine, and their BENCHMARKS.md block.

  prepare DIR --qcc QCC   (development machine) for each case (M x K x N, int4
        group size, symmetric or asymmetric, --act=none): DIR/<case>/model.onnx
        (one MatMul by a constant [K, N] weight), the sm_80 artifact
        DIR/<case>/model.*, inputs.npz, reference.npz (the CPU artifact of the
        same recipe, run by qcc-run next to QCC) and meta.json (the "matmul"
        shape for the kernel-level PyTorch peers, bytes moved for GB/s, the
        2e-3 relative-L2 bound). The GPU machine then runs
        `bench/bench_gpu.py --artifacts DIR --runtime libqcc_runtime.so`.
  expand DIR   (GPU machine, before the bench) restores the files that prepare
        kept once for cases sharing them (FILE.same names the case holding FILE).
  table BENCH_JSON [BENCHMARKS.md]   rewrites the "GPU kernels" block of
        BENCHMARKS.md from the bench.json that run wrote.
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

# (M, K, N, group, symmetric[, --gpu-gemv launch shape "TILES,WARPS,UNROLL"])
# The device tool carries at most 64 MiB: cases of the same K x N, group and
# symmetry share one weights file (prepare keeps one copy, `expand` on the GPU
# machine restores the others); these take about 62 MB.
CASES = [(1, 8192, 8192, 128, False),
         (1, 4096, 11008, 128, True), (4, 4096, 11008, 128, True),
         (8, 4096, 11008, 128, True), (16, 4096, 11008, 128, True),
         (12, 1024, 1000, 32, False)]
BEGIN, END = "<!-- bench-gpu-kernels:begin -->", "<!-- bench-gpu-kernels:end -->"


def case_name(m, k, n, group, sym, shape=None):
    name = "w4a16_m%d_%dx%d_g%d_%s" % (m, k, n, group, "sym" if sym else "asym")
    return name + ("_gemv" + shape.replace(",", "-") if shape else "")


def parse_case(text):
    """M,K,N,GROUP,sym|asym[,T-W-U] (for --case)."""
    parts = text.split(",")
    case = [int(p) for p in parts[:4]] + [parts[4] == "sym"]
    if len(parts) > 5:
        case.append(parts[5].replace("-", ","))
    return tuple(case)


def matmul_model(k, n, seed):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = (np.random.default_rng(seed).standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "gemv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", n])],
        [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def prepare(args):
    import onnx
    import qcc_harness as H
    out = Path(args.dir)
    qcc_run = Path(args.qcc_run) if args.qcc_run else Path(args.qcc).with_name("qcc-run")
    failed = []
    shared = {}  # file name + sha256 -> case folder holding it (DIR's cases too)
    cases = [parse_case(c) for c in args.case] if args.case else CASES
    names = {case_name(*c) for c in cases}
    for folder in sorted(out.glob("*")) if out.is_dir() else []:
        for file in ("model.weights", "inputs.npz", "reference.npz"):
            if folder.name not in names and (folder / file).exists():
                digest = file + hashlib.sha256((folder / file).read_bytes()).hexdigest()
                shared.setdefault(digest, folder.name)
    for case in cases:
        m, k, n, group, sym = case[:5]
        shape = case[5] if len(case) > 5 else None
        name = case_name(m, k, n, group, sym, shape)
        if args.k and not any(s in name for s in args.k.split(",")):
            continue
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        model = matmul_model(k, n, seed=k + n)
        # Static M: the GEMV path needs at most 8 rows known at compile time.
        model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = m
        model.graph.output[0].type.tensor_type.shape.dim[0].dim_value = m
        onnx.save(model, str(folder / "model.onnx"))
        extra = ["--act=none", "--group-size=%d" % group, "--sym" if sym else "--asym"]
        gpu_extra = extra + (["--gpu-gemv=" + shape] if shape else [])
        r = H.compile_model(folder / "model.onnx", folder / "model", target="sm_80", bits=4,
                            extra=gpu_extra, qcc=args.qcc)
        if not r.ok:
            failed.append("%s: %s" % (name, r.first_error_line()))
            continue
        feeds = {"x": np.random.default_rng(7).standard_normal((m, k)).astype(np.float32)}
        np.savez(folder / "inputs.npz", **feeds)
        cpu = folder / "cpu" / "model"
        r = H.compile_model(folder / "model.onnx", cpu, target="host", bits=4, extra=extra,
                            qcc=args.qcc)
        run = r.ok and H.run_artifact(cpu, H.save_inputs(feeds, folder / "cpu" / "in"),
                                      folder / "cpu" / "out", qcc_run=qcc_run)
        if not r.ok or not run.ok:
            failed.append("%s: CPU reference: %s" % (name, (run or r).first_error_line()))
            continue
        ref = H.load_outputs(folder / "cpu" / "out", ["y"])
        shutil.rmtree(folder / "cpu")
        np.savez(folder / "reference.npz", **ref)
        # Bytes a GEMV must move: packed codes, f16 (scale, zero) per group and
        # column, activations in, outputs out.
        moved = k * n // 2 + (k // group) * n * 4 + m * k * 4 + m * n * 4
        meta = {"title": "%s: %dx%dx%d int4 g%d %s, --act=none%s" % (
            name, m, k, n, group, "sym" if sym else "asym",
            ", --gpu-gemv=" + shape if shape else ""),
            "matmul": {"M": m, "K": k, "N": n}, "group_size": group,
            "weight_bytes": moved, "max_rel_l2": 2e-3}
        (folder / "meta.json").write_text(json.dumps(meta))
        # The float model is too big to carry (the bench's peer is F.linear).
        os.remove(folder / "model.onnx")
        ptx = (folder / "model.ptx").read_text()
        print("%-44s ptx %s" % (name, "mma.sync + ld.global.nc.v4" if
                                 "mma.sync.aligned.m16n8k16" in ptx and
                                 "ld.global.nc.v4" in ptx else "generic kernel"))
        # One copy of each weights (and input, reference) file travels; `expand`
        # restores the others.
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


def expand(args):
    """Restores the weights files that prepare shared between cases."""
    root = Path(args.dir)
    for marker in sorted(root.glob("*/*.same")):
        file = marker.name[:-len(".same")]
        source = root / marker.read_text().strip() / file
        shutil.copyfile(source, marker.parent / file)
        print("expand: %s/%s <- %s" % (marker.parent.name, file, source.parent.name))
    return 0


def table(args):
    from bench_gpu import format_table
    result = json.load(open(args.bench_json))
    rows = [r for r in result["rows"] if "w4a16_m" in r.get("name", "")]
    header = ("Date: %s; command: `bench/gpu_gemv.py prepare gpu-artifacts/gemv --qcc "
              "build-gpu/bin/qcc` here (rows with `--gpu-gemv`: the same matmul with another "
              "launch shape, `--case M,K,N,G,sym|asym,T-W-U`), then `bench/gpu_gemv.py expand "
              "gpu-artifacts/gemv && bench/bench_gpu.py --artifacts gpu-artifacts/gemv` on the "
              "GPU machine (device tool), then `bench/gpu_gemv.py table <bench.json>`; PyTorch "
              "%s. rel-L2 is against the CPU artifact of the same recipe; qcc GB/s counts "
              "packed codes + f16 group parameters + activations + outputs. "
              % (result.get("date"), result.get("torch", "?")))
    block = BEGIN + "\n" + format_table(rows, result["device"], result["copy_gbps"],
                                        result.get("reps", 50), header) + END
    path = Path(args.benchmarks)
    text = path.read_text()
    if BEGIN in text:
        start, stop = text.index(BEGIN), text.index(END) + len(END)
        text = text[:start] + block + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n## GPU kernels: W4A16 GEMV\n\n" + block + "\n"
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
                   help="M,K,N,GROUP,sym|asym[,T-W-U] instead of the default cases "
                        "(repeatable; T-W-U: --gpu-gemv launch shape)")
    e = sub.add_parser("expand")
    e.add_argument("dir")
    t = sub.add_parser("table")
    t.add_argument("bench_json")
    t.add_argument("benchmarks", nargs="?", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    return {"prepare": prepare, "expand": expand, "table": table}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
