#!/usr/bin/env python3
"""W4A16 GEMV artifacts for the GPU machine, and their BENCHMARKS.md block.

  prepare DIR --qcc QCC [--target sm_80]   (development machine) for each case
        (M x K x N, int4 group size, symmetric or asymmetric, --act=none):
        DIR/<case>/model.onnx (one MatMul by a constant [K, N] weight), the artifact
        DIR/<case>/model.*, inputs.npz, reference.npz (the CPU artifact of the
        same recipe, run by qcc-run next to QCC) and meta.json (the "matmul"
        shape for the kernel-level PyTorch peers, bytes moved for GB/s, the
        2e-3 relative-L2 bound). The GPU machine then runs
        `bench/bench_gpu.py --artifacts DIR --runtime libqcc_runtime.so`.
  expand DIR   (GPU machine, before the bench) restores the files that prepare
        kept once for cases sharing them (FILE.same names the case holding FILE).
  table BENCH_JSON [BENCHMARKS.md]   rewrites the "GPU kernels" block of
        BENCHMARKS.md from the bench.json that run wrote.
  profile DIR... --runtime LIB   (GPU machine) splits each artifact's call
        into kernel time and fixed cost: the call timed with CUDA events
        (median, L2 flushed before each call) against the device durations of
        its kernels read by the PyTorch profiler (CUPTI) over the same kind of
        calls; the same for tinygemm and F.linear fp16 of the artifact's
        matmul shape, and a read-only probe of the weight bytes (f32 sum);
        for qcc and tinygemm also the host time to enqueue one call and the
        wall time per call of 200 calls back to back (no flush).
        Writes profile.json to --out and prints a table. With --read-ceiling
        LIB (bench/gpu_read_ceiling.cu built as a shared library), also the
        kernel time of each pure-read variant of that file over the case's
        codes + group parameter bytes: what a kernel that only reads those
        bytes from cold memory takes, measured the same way.
  maxnreg DIR --values N,...   (GPU machine, after expand) for each case
        DIR/<case> and each N adds DIR/<case>_nregN: the same artifact with
        every kernel's `.maxnreg` directive set to N (0: none) in model.ptx
        and the manifest's hash updated. ptxas caps registers by this
        directive alone (LLVM's PTX does not depend on it), so this times the
        compiler's nvvm.maxnreg choices without recompiling.
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
         (1, 4096, 11008, 128, True), (2, 4096, 11008, 128, True),
         (4, 4096, 11008, 128, True),
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
        r = H.compile_model(folder / "model.onnx", folder / "model", target=args.target, bits=4,
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


def set_maxnreg(ptx, n):
    """PTX text with each .entry's .maxnreg set to n (0: removed)."""
    lines = [line for line in ptx.split("\n") if not line.startswith(".maxnreg")]
    if n:
        out = []
        for line in lines:
            out.append(line)
            if line.startswith(".maxntid"):
                out.append(".maxnreg %d" % n)
        lines = out
        if sum(line.startswith(".maxnreg") for line in lines) != ptx.count(".entry"):
            raise SystemExit("maxnreg: every .entry needs a .maxntid line to place it after")
    return "\n".join(lines)


def content_hash(manifest):
    """docs/ARTIFACT.md's content hash of a cuda artifact's manifest."""
    def dims(shape):
        return "x".join(str(d) for d in shape) if shape else "scalar"
    io = "".join("%s %s %s %s\n" % (kind, t["name"], t["dtype"], dims(t["shape"]))
                 for kind, key in (("in", "inputs"), ("out", "outputs")) for t in manifest[key])
    text = "qcc-artifact-v1\n%s\n%s\nplan %s\n%s" % (
        manifest["library_sha256"], manifest["weights_sha256"], manifest["plan_sha256"], io)
    return hashlib.sha256(text.encode()).hexdigest()


def maxnreg(args):
    root = Path(args.dir)
    values = [int(v) for v in args.values.split(",")]
    for case in sorted(p.parent for p in root.glob("*/model.json")):
        if "_nreg" in case.name or (args.k and not any(s in case.name for s in args.k.split(","))):
            continue
        ptx = (case / "model.ptx").read_text()
        for n in values:
            dst = root / ("%s_nreg%d" % (case.name, n))
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(case, dst)
            text = set_maxnreg(ptx, n)
            (dst / "model.ptx").write_text(text)
            manifest = json.loads((dst / "model.json").read_text())
            manifest["library_sha256"] = hashlib.sha256(text.encode()).hexdigest()
            manifest["content_hash"] = content_hash(manifest)
            (dst / "model.json").write_text(json.dumps(manifest, indent=2))
            meta = json.loads((dst / "meta.json").read_text())
            meta["title"] += ", .maxnreg %s" % (n or "none")
            (dst / "meta.json").write_text(json.dumps(meta))
            print("maxnreg: %s" % dst.name)
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


def profile(args):
    """Kernel time vs fixed cost of each artifact's call (GPU machine)."""
    import ctypes
    import statistics
    import math
    import time
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile as torch_profile
    from bench_gpu import Runtime, Timer
    rt = Runtime(args.runtime)
    timer = Timer(torch, args.reps, 5)
    flush = timer.flush

    def kernel_times(fn):
        """Median device time (us) of each kernel fn launches per call."""
        flush.max()
        fn()
        torch.cuda.synchronize()
        with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(args.reps):
                flush.max()
                fn()
            torch.cuda.synchronize()
        per = {}
        for ev in prof.events():
            if ev.device_type != torch.autograd.DeviceType.CUDA:
                continue
            per.setdefault(ev.name, []).append(ev.time_range.elapsed_us())
        # The flush is one reduction per call: drop the kernel named like it.
        return {name: statistics.median(v) for name, v in per.items()
                if len(v) >= args.reps // 2}

    def back_to_back(fn, calls=200, rounds=5):
        """Host time to enqueue one call (Python + API; the runtime's share
        of a decode loop) and wall time per call of `calls` queued back to
        back (no flush: weights of up to 50 MB stay in L2), medians in us."""
        host, wall = [], []
        for _ in range(rounds):
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            queued = time.perf_counter()
            torch.cuda.synchronize()
            done = time.perf_counter()
            host.append((queued - start) / calls * 1e6)
            wall.append((done - start) / calls * 1e6)
        return statistics.median(host), statistics.median(wall)

    flush_names = set(kernel_times(lambda: None))
    ceiling = None
    if args.read_ceiling:
        ceiling = ctypes.CDLL(args.read_ceiling)
        ceiling.qcc_read_ceiling_name.restype = ctypes.c_char_p
        ceiling.qcc_read_ceiling_launch.argtypes = [
            ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p]
    rows = []
    for folder in args.dirs:
        for case in sorted(Path(folder).glob("*/model.json")):
            case = case.parent
            meta = json.loads((case / "meta.json").read_text())
            manifest = json.loads((case / "model.json").read_text())
            model = rt.load(str(case / "model"))
            try:
                t_in = [torch.randn(s["shape"], device="cuda") for s in manifest["inputs"]]
                t_out = [torch.empty(s["shape"], device="cuda") for s in manifest["outputs"]]
                ins = (ctypes.c_void_p * len(t_in))(*[t.data_ptr() for t in t_in])
                outs = (ctypes.c_void_p * len(t_out))(*[t.data_ptr() for t in t_out])

                # Everything but the call itself is bound once, so that the
                # enqueue time is the runtime's (plus one ctypes call).
                run, check = rt.lib.qcc_model_run_device, rt.check
                n_in, n_out = len(t_in), len(t_out)
                stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)

                def qcc_call():
                    check(run(model, ins, n_in, outs, n_out, stream))
                M, K, N = (meta["matmul"][k] for k in ("M", "K", "N"))
                group = meta.get("group_size", 128)
                w = torch.randn(N, K, device="cuda", dtype=torch.float16) / math.sqrt(K)
                xh = torch.randn(M, K, device="cuda", dtype=torch.float16)
                q = torch.randint(0, 16, (N, K), device="cuda", dtype=torch.int32)
                packed = torch.ops.aten._convert_weight_to_int4pack(
                    (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8), 8)
                scales = torch.rand(K // group, N, 2, device="cuda", dtype=torch.bfloat16)
                xb = xh.to(torch.bfloat16)
                probe = torch.randn(meta["weight_bytes"] // 4, device="cuda")
                fns = {"qcc": qcc_call,
                       "tinygemm": lambda: torch.ops.aten._weight_int4pack_mm(
                           xb, packed, group, scales),
                       "F.linear": lambda: F.linear(xh, w),
                       "read probe": lambda: probe.sum()}
                if ceiling is not None:
                    # Codes + group parameters: what the GEMV must read.
                    nbytes = meta["weight_bytes"] - 4 * M * (K + N)
                    rbuf = torch.randint(0, 1 << 30, (nbytes // 4,), device="cuda",
                                         dtype=torch.int32)
                    rout = torch.empty(1 << 16, device="cuda")

                    def read_call(v, rbuf=rbuf, rout=rout, nbytes=nbytes):
                        err = ceiling.qcc_read_ceiling_launch(
                            v, rbuf.data_ptr(), nbytes, rout.data_ptr(), stream)
                        if err:
                            raise RuntimeError("read ceiling variant %d: error %d" % (v, err))
                    for v in range(ceiling.qcc_read_ceiling_variants()):
                        name = "read " + ceiling.qcc_read_ceiling_name(v).decode()
                        fns[name] = lambda v=v: read_call(v)
                for _ in range(3):
                    qcc_call()
                torch.cuda.synchronize()
                if args.calls_only:  # under ncu: the artifact's kernels only
                    continue
                total = timer.time(fns)
                row = {"name": case.name, "M": M, "K": K, "N": N,
                       "bytes": meta["weight_bytes"], "call_ms": total, "kernels_us": {}}
                for name, fn in fns.items():
                    kt = {k: v for k, v in kernel_times(fn).items() if k not in flush_names}
                    row["kernels_us"][name] = kt
                row["enqueue_us"], row["b2b_us"] = {}, {}
                for name in ("qcc", "tinygemm"):
                    row["enqueue_us"][name], row["b2b_us"][name] = back_to_back(fns[name])
                rows.append(row)
                print(json.dumps(row), flush=True)
            finally:
                rt.lib.qcc_model_release(model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.json").write_text(json.dumps(
        {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
         "reps": args.reps, "rows": rows}, indent=1))
    print("\n| case | qcc call ms | qcc kernels us (sum) | fixed us | tinygemm call / kernel us |"
          " F.linear call / kernel us | read probe us (GB/s) | qcc kernel GB/s |"
          " enqueue us qcc / tinygemm | back-to-back us qcc / tinygemm |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        k = r["kernels_us"]
        qsum = sum(k["qcc"].values())
        probe = sum(k["read probe"].values())
        print("| %s | %.4f | %s (%.1f) | %.1f | %.1f / %.1f | %.1f / %.1f | %.1f (%.0f) | %.0f "
              "| %.1f / %.1f | %.1f / %.1f |" % (
            r["name"], r["call_ms"]["qcc"],
            ", ".join("%s %.1f" % (n[-24:], v) for n, v in k["qcc"].items()), qsum,
            r["call_ms"]["qcc"] * 1e3 - qsum,
            r["call_ms"]["tinygemm"] * 1e3, sum(k["tinygemm"].values()),
            r["call_ms"]["F.linear"] * 1e3, sum(k["F.linear"].values()),
            probe, r["bytes"] / (probe * 1e-6) / 1e9 if probe else 0,
            r["bytes"] / (qsum * 1e-6) / 1e9 if qsum else 0,
            r["enqueue_us"]["qcc"], r["enqueue_us"]["tinygemm"],
            r["b2b_us"]["qcc"], r["b2b_us"]["tinygemm"]))
    if ceiling is not None:
        print("\n| case | qcc kernel us | pure-read kernels us (call us) |")
        print("|---|---:|---|")
        for r in rows:
            k = r["kernels_us"]
            print("| %s | %.1f | %s |" % (r["name"], sum(k["qcc"].values()), "; ".join(
                "%s %.1f (%.1f)" % (n[5:], sum(k[n].values()), r["call_ms"][n] * 1e3)
                for n in k if n.startswith("read ") and n != "read probe")))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir")
    p.add_argument("--qcc", required=True)
    p.add_argument("--qcc-run", help="default: qcc-run next to --qcc")
    p.add_argument("--target", default="sm_80",
                   help="GPU target of the artifacts (sm_80, sm_86, sm_89, sm_90, sm_90a)")
    p.add_argument("-k", help="only cases whose name contains one of these (comma list)")
    p.add_argument("--case", action="append",
                   help="M,K,N,GROUP,sym|asym[,T-W-U] instead of the default cases "
                        "(repeatable; T-W-U: --gpu-gemv launch shape)")
    e = sub.add_parser("expand")
    e.add_argument("dir")
    t = sub.add_parser("table")
    t.add_argument("bench_json")
    t.add_argument("benchmarks", nargs="?", default=str(ROOT / "BENCHMARKS.md"))
    f = sub.add_parser("profile")
    f.add_argument("dirs", nargs="+")
    f.add_argument("--runtime", required=True, help="path of libqcc_runtime.so")
    f.add_argument("--out", default=".")
    f.add_argument("--reps", type=int, default=30)
    f.add_argument("--read-ceiling", metavar="LIB",
                   help="also time bench/gpu_read_ceiling.cu's pure-read kernels (shared library)")
    f.add_argument("--calls-only", action="store_true",
                   help="only call each artifact 3 times (for ncu)")
    v = sub.add_parser("maxnreg")
    v.add_argument("dir")
    v.add_argument("--values", required=True, help="comma list of register caps (0: none)")
    v.add_argument("-k", help="only cases whose name contains one of these (comma list)")
    args = parser.parse_args()
    return {"prepare": prepare, "expand": expand, "table": table,
            "profile": profile, "maxnreg": maxnreg}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
