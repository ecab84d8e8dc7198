#!/usr/bin/env python3
"""W8A8 tensor-core GEMM artifacts for the GPU machine, and their BENCHMARKS.md block.

  prepare DIR --qcc QCC   (development machine) compiles one MatMul by a
        constant [K, N] weight per case with -target=sm_80 -bits=8
        --act=dynamic (per-token int8 activations, per-channel int8 weights:
        qcc-gpu-mma-qmatmul). "check" cases keep the whole artifact plus
        inputs.npz and reference.npz (the CPU artifact of the same recipe, run
        by qcc-run next to QCC): the GPU must match it. "time" cases (the
        issue's shapes, M = 256..2048 on 4096x4096 and 4096x11008) are too big
        to carry with their weights (the device tool carries 64 MiB): only the
        PTX, plan and manifest travel, and `run` executes the plan itself on
        random weight bytes (timing only; each tile configuration they use is
        checked by a check case).
  run DIR --runtime LIB --out OUT   (GPU machine) check cases through
        bench/bench_gpu.py (qcc runtime vs reference, timed against F.linear
        fp16 and torch._int_mm); time cases through a small plan executor on
        the CUDA driver (cuModuleLoadData + cuLaunchKernel on torch's stream),
        timed the same way (CUDA events, L2 flush before each call, methods
        alternating, median). Writes OUT/gemm.json and prints a table.
  table GEMM_JSON [BENCHMARKS.md]   rewrites the "GPU kernels: tensor-core
        GEMM" block of BENCHMARKS.md.

  prepare --target sm_90a --set square: the wgmma GEMM (Hopper only) on M = 256..4096 at
        4096x4096 and 8192x8192; each check case also keeps the sm_80 (mma.sync) artifact in
        mma/, and `run` asserts the two GPU outputs are bit-identical (same int32 accumulation,
        same f32 epilogue). `table --begin-tag bench-gpu-wgmma` writes that block instead.
        `--gpu-wgmma 256,4` forces 128x256 tiles split over K in 4 (qcc --gpu-wgmma).
"""
import argparse
import ctypes
import datetime
import json
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

# (kind, M, K, N)
# The check cases cover each tile configuration (64x64 with padding of M, N and K,
# 64x128, 128x128) and both quantization kernels (rows held in registers up to K = 4096,
# read twice above).
CHECKS = [("check", 200, 1000, 600), ("check", 24, 384, 1536), ("check", 256, 1024, 4096),
          ("check", 512, 512, 4096), ("check", 64, 4160, 256)]
SETS = {
    "issue": CHECKS + [("time", m, 4096, n) for n in (4096, 11008)
                       for m in (256, 512, 1024, 2048)],
    # Each wgmma tile meets a check case: 128x64 (256 x 1024 x 4096), 128x128 (512 x 1024 x
    # 4096), 128x256 (2048 x 1024 x 2048); M = 24, 64, 200 fill too few blocks and K < 1024
    # (512 x 512 x 4096) has too few K tiles: they stay on mma.sync.
    "square": CHECKS + [("check", 512, 1024, 4096), ("check", 2048, 1024, 2048)] +
    [("time", m, k, k) for k in (4096, 8192) for m in (256, 512, 1024, 2048, 4096)],
    # SmolLM2-135M's LM head at sequence 128, its one GEMM that fills the H100 (192 blocks
    # of 128x256 on sm_90a; every other W8A8 GEMM of the model stays on mma.sync there).
    "lmhead": [("time", 128, 576, 49152)],
}
CASES = SETS["issue"]
TAGS = {"bench-gpu-gemm": "GPU kernels: tensor-core GEMM",
        "bench-gpu-wgmma": "GPU kernels: wgmma GEMM (sm_90a)"}


def case_name(kind, m, k, n):
    return "w8a8_%s_m%d_%dx%d" % (kind, m, k, n)


def matmul_model(m, k, n, seed):
    from onnx import TensorProto, helper, numpy_helper
    w = (np.random.default_rng(seed).standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def prepare(args):
    import onnx
    import qcc_harness as H
    out = Path(args.dir)
    qcc_run = Path(args.qcc).with_name("qcc-run")
    failed = []
    extra = ["--act=dynamic"]
    for kind, m, k, n in SETS[args.set]:
        # sm_90a: wgmma when 128x64 tiles give >= 128 blocks and K has >= 16 tiles of 64
        # (chooseWgmmaTile), else mma.sync.
        wgmma = (args.target == "sm_90a" and -(-m // 128) * -(-n // 64) >= 128
                 and -(-k // 64) >= 16)
        needle = ("wgmma.mma_async.sync.aligned.m64n" if wgmma else
                  "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32")
        name = case_name(kind, m, k, n)
        if args.k and not any(s in name for s in args.k.split(",")):
            continue
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        onnx.save(matmul_model(m, k, n, seed=k + n), str(folder / "model.onnx"))
        tuning = ["--gpu-wgmma=" + args.gpu_wgmma] if args.gpu_wgmma else []
        r = H.compile_model(folder / "model.onnx", folder / "model", target=args.target, bits=8,
                            extra=extra + tuning, qcc=args.qcc)
        if r.ok and args.target == "sm_90a" and kind == "check":  # mma.sync bits to compare with
            r = H.compile_model(folder / "model.onnx", folder / "mma" / "model", target="sm_80",
                                bits=8, extra=extra, qcc=args.qcc)
        if not r.ok:
            failed.append("%s: %s" % (name, r.first_error_line()))
            continue
        ptx = (folder / "model.ptx").read_text()
        mma = needle in ptx
        meta = {"title": "%s: %dx%dx%d W8A8 (per-token int8 activations, per-channel "
                         "int8 weights)" % (name, m, k, n),
                "matmul": {"M": m, "K": k, "N": n}, "kind": kind, "mma": mma,
                "target": args.target}
        if kind == "check":
            feeds = {"x": np.random.default_rng(7).standard_normal((m, k)).astype(np.float32)}
            np.savez(folder / "inputs.npz", **feeds)
            cpu = folder / "cpu" / "model"
            r = H.compile_model(folder / "model.onnx", cpu, target="host", bits=8, extra=extra,
                                qcc=args.qcc)
            run = r.ok and H.run_artifact(cpu, H.save_inputs(feeds, folder / "cpu" / "in"),
                                          folder / "cpu" / "out", qcc_run=qcc_run)
            if not r.ok or not run.ok:
                failed.append("%s: CPU reference: %s" % (name, (run or r).first_error_line()))
                continue
            np.savez(folder / "reference.npz", **H.load_outputs(folder / "cpu" / "out", ["y"]))
            shutil.rmtree(folder / "cpu")
            # Same int32 accumulations; only the f32 epilogue's rounding differs.
            meta["max_rel_l2"] = 1e-4
        else:
            os.remove(folder / "model.weights")
        os.remove(folder / "model.onnx")
        (folder / "meta.json").write_text(json.dumps(meta))
        print("%-32s %s" % (name, needle if mma else "NO %s in the PTX" % needle))
        if not mma:
            failed.append("%s: no %s" % (name, needle))
    for line in failed:
        print("failed:", line)
    return 1 if failed else 0


class Driver:
    """The few CUDA driver calls a launch plan needs."""

    def __init__(self):
        self.lib = ctypes.CDLL("libcuda.so.1")
        self.check(self.lib.cuInit(0), "cuInit")

    def check(self, status, what):
        if status != 0:
            raise RuntimeError("%s failed with CUDA error %d" % (what, status))

    def module(self, ptx):
        mod = ctypes.c_void_p()
        self.check(self.lib.cuModuleLoadData(ctypes.byref(mod), ctypes.c_char_p(
            ptx.encode() + b"\0")), "cuModuleLoadData")
        return mod

    def function(self, mod, name):
        fn = ctypes.c_void_p()
        self.check(self.lib.cuModuleGetFunction(ctypes.byref(fn), mod, name.encode()),
                   "cuModuleGetFunction " + name)
        return fn


class PlanRunner:
    """Runs an artifact's launch plan on torch tensors (weights: random bytes)."""

    def __init__(self, torch, driver, folder):
        self.torch, self.driver = torch, driver
        prefix = os.path.join(folder, "model")
        manifest = json.load(open(prefix + ".json"))
        plan = json.load(open(prefix + ".plan.json"))
        self.mod = driver.module(open(prefix + ".ptx").read())
        self.fns = [driver.function(self.mod, k) for k in plan["kernels"]]
        gen = torch.Generator(device="cuda").manual_seed(5)
        self.arena = torch.empty(max(plan["arena_bytes"], 1), dtype=torch.uint8, device="cuda")
        self.weights = torch.randint(-127, 128, (max(manifest["weights_size"], 1),),
                                     dtype=torch.int8, device="cuda", generator=gen)
        self.inputs = [torch.randn(*s["shape"], device="cuda", generator=gen)
                       for s in manifest["inputs"]]
        self.outputs = [torch.empty(*s["shape"], device="cuda") for s in manifest["outputs"]]
        self.commands = []
        for c in plan["commands"]:
            if c["op"] == "launch":
                shared = c.get("shared_bytes", 0)
                if shared > 48 * 1024:  # as the runtime does: raise the kernel's limit
                    driver.check(driver.lib.cuFuncSetAttribute(
                        self.fns[c["kernel"]], 8, ctypes.c_int(shared)),
                        "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)")
                values = [self.arg(a) for a in c["args"]]
                params = (ctypes.c_void_p * len(values))(
                    *[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in values])
                self.commands.append(("launch", self.fns[c["kernel"]], c["grid"], c["block"],
                                      c.get("shared_bytes", 0), params, values))
            elif c["op"] == "copy":
                self.commands.append(("copy", self.address(c["dst"]), self.address(c["src"]),
                                      c["bytes"]))
            elif c["op"] == "memset":
                self.commands.append(("memset", self.address(c["dst"]), c["value"], c["bytes"]))
            else:
                raise RuntimeError("unknown plan command %s" % c["op"])

    def address(self, ref):
        base = {"arena": lambda: self.arena, "weights": lambda: self.weights,
                "input": lambda: self.inputs[ref["index"]],
                "output": lambda: self.outputs[ref["index"]]}[ref["ptr"]]()
        return base.data_ptr() + ref.get("offset", 0)

    def arg(self, a):
        if "ptr" in a:
            return ctypes.c_uint64(self.address(a))
        if "i64" in a:
            return ctypes.c_int64(a["i64"])
        if "i32" in a:
            return ctypes.c_int32(a["i32"])
        if "f32" in a:
            return ctypes.c_float(a["f32"])
        raise RuntimeError("unknown plan argument %s" % a)

    def __call__(self, only=None):
        lib = self.driver.lib
        stream = ctypes.c_void_p(self.torch.cuda.current_stream().cuda_stream)
        for i, c in enumerate(self.commands):
            if only is not None and i not in only:
                continue
            if c[0] == "launch":
                _, fn, grid, block, shared, params, _ = c
                self.driver.check(lib.cuLaunchKernel(
                    fn, *[ctypes.c_uint(g) for g in grid], *[ctypes.c_uint(t) for t in block],
                    ctypes.c_uint(shared), stream, params, None), "cuLaunchKernel")
            elif c[0] == "copy":
                self.driver.check(lib.cuMemcpyDtoDAsync_v2(
                    ctypes.c_uint64(c[1]), ctypes.c_uint64(c[2]), ctypes.c_size_t(c[3]),
                    stream), "cuMemcpyDtoDAsync")
            else:
                self.driver.check(lib.cuMemsetD8Async(
                    ctypes.c_uint64(c[1]), ctypes.c_ubyte(c[2]), ctypes.c_size_t(c[3]),
                    stream), "cuMemsetD8Async")


def same_outputs(rt, folder):
    """Whether this artifact and the mma.sync one in folder/mma give bit-identical outputs on
    the check case's inputs (the int32 accumulations and the f32 epilogue are the same)."""
    import bench_gpu
    feeds = dict(np.load(folder / "inputs.npz"))
    results = []
    for prefix in (folder / "model", folder / "mma" / "model"):
        manifest = json.load(open(str(prefix) + ".json"))
        model = rt.load(str(prefix))
        try:
            ins_np = [np.ascontiguousarray(feeds[s["name"]], np.float32) for s in manifest["inputs"]]
            outs_np = [np.full(s["shape"], np.nan, np.float32) for s in manifest["outputs"]]
            ins = (bench_gpu.Tensor * len(ins_np))(*[bench_gpu.tensor_of(a, s["dtype"]) for a, s
                                                     in zip(ins_np, manifest["inputs"])])
            outs = (bench_gpu.Tensor * len(outs_np))(*[bench_gpu.tensor_of(a, s["dtype"]) for a, s
                                                       in zip(outs_np, manifest["outputs"])])
            rt.check(rt.lib.qcc_model_run(model, ins, len(ins_np), outs, len(outs_np)))
            results.append(outs_np)
        finally:
            rt.lib.qcc_model_release(model)
    return all(np.array_equal(a, b) for a, b in zip(*results))


def run(args):
    import torch
    import bench_gpu
    rt = bench_gpu.Runtime(args.runtime)
    timer = bench_gpu.Timer(torch, args.reps, args.warmup)
    device = torch.cuda.get_device_name(0)
    bandwidth = bench_gpu.copy_bandwidth(torch, timer)
    driver = Driver()
    rows = []
    folders = sorted(p for p in Path(args.dir).iterdir() if (p / "meta.json").exists())
    for folder in folders:
        meta = json.loads((folder / "meta.json").read_text())
        print("case", folder.name, flush=True)
        try:
            if meta["kind"] == "check":
                row = bench_gpu.bench_artifact(rt, torch, str(folder), args, timer, bandwidth)
                if (folder / "mma" / "model.json").exists():
                    row["same_as_mma"] = same_outputs(rt, folder)
                    row["ok"] = row.get("ok") and row["same_as_mma"]
            else:
                runner = PlanRunner(torch, driver, str(folder))
                runner()
                torch.cuda.synchronize()
                fns = {"qcc": runner}
                launches = [i for i, c in enumerate(runner.commands) if c[0] == "launch"]
                if len(launches) == 2:  # quantization, then the GEMM
                    fns["qcc quantize kernel"] = lambda: runner(only={launches[0]})
                    fns["qcc GEMM kernel"] = lambda: runner(only={launches[1]})
                notes = bench_gpu.matmul_peers(torch, meta, 8, None, fns)
                row = {"name": meta["title"], "bits": 8, "times_ms": timer.time(fns),
                       "notes": notes, "ok": bool(torch.isfinite(runner.outputs[0]).any())}
            m = meta["matmul"]
            ops = 2 * m["M"] * m["K"] * m["N"]
            row["case"], row["kind"], row["matmul"] = folder.name, meta["kind"], m
            row["tops"] = {k: ops / (v * 1e-3) / 1e12 for k, v in row["times_ms"].items()}
        except Exception as error:
            row = {"name": folder.name, "case": folder.name, "kind": meta.get("kind"),
                   "error": "%s: %s" % (type(error).__name__, str(error).splitlines()[0])}
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {"device": device, "copy_gbps": bandwidth, "rows": rows, "torch": torch.__version__,
              "date": datetime.date.today().isoformat(), "reps": args.reps}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gemm.json"), "w") as f:
        json.dump(result, f, indent=1)
    text = format_table(result)
    with open(os.path.join(args.out, "gemm.txt"), "w") as f:
        f.write(text)
    print(text)
    return 0 if all(r.get("ok") and "error" not in r for r in rows) else 1


def format_table(result):
    lines = ["Device: %s; PyTorch %s; median of %d calls per method, each after a 256 MiB L2 "
             "flush, CUDA events, methods alternating call by call. qcc = the whole artifact "
             "(per-token quantization kernel + int8 %s GEMM with its epilogue; f32 in, "
             "f32 out); fp16 F.linear = cuBLAS on fp16 inputs; torch._int_mm = int8 x int8 -> "
             "int32 only (no quantization, no scaling). TOP/s = 2MKN / time; the two kernels are also timed alone (time cases). "
             "rel-L2: check cases against the CPU artifact of the same recipe; time cases run "
             "the plan on random weights (timing only)." % (
                 result["device"], result["torch"], result["reps"],
                 "wgmma" if any(r.get("target") == "sm_90a" for r in result["rows"])
                 else "mma.sync"),
             "",
             "| case | M x K x N | rel-L2 vs CPU | qcc ms | qcc TOP/s | of which quantize / "
             "GEMM kernel ms (GEMM TOP/s) | fp16 F.linear ms (TFLOP/s) | torch._int_mm ms "
             "(TOP/s) | fp16 / qcc | _int_mm / qcc |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in result["rows"]:
        if "error" in r:
            lines.append("| %s | | FAILED: %s | | | | | | | |" % (r["case"], r["error"]))
            continue
        t, tops, m = r["times_ms"], r["tops"], r["matmul"]
        q, f, i = t.get("qcc"), t.get("torch fp16 F.linear"), t.get("torch._int_mm int8")
        qk, gk = t.get("qcc quantize kernel"), t.get("qcc GEMM kernel")
        lines.append("| %s | %dx%dx%d | %s | %.4f | %.0f | %s | %s | %s | %s | %s |" % (
            r["case"], m["M"], m["K"], m["N"],
            "%.1e%s%s" % (r["rel_l2"], "" if r["ok"] else " NO",
                          {True: ", = mma.sync", False: ", DIFFERS from mma.sync"}.get(
                              r.get("same_as_mma"), "")) if "rel_l2" in r else "-",
            q, tops["qcc"],
            "%.4f / %.4f (%.0f)" % (qk, gk, tops["qcc GEMM kernel"]) if qk else "",
            "%.4f (%.0f)" % (f, tops["torch fp16 F.linear"]) if f else "",
            "%.4f (%.0f)" % (i, tops["torch._int_mm int8"]) if i else "",
            "%.2f" % (f / q) if f else "", "%.2f" % (i / q) if i else ""))
    return "\n".join(lines) + "\n"


def kernel_table(result, peer):
    """GEMM kernels alone: this run's (wgmma) against the peer run's (mma.sync) and fp16."""
    theirs = {(r["matmul"]["M"], r["matmul"]["K"], r["matmul"]["N"]): r
              for r in peer["rows"] if "tops" in r and "qcc GEMM kernel" in r["tops"]}
    lines = ["", "GEMM kernels alone (TOP/s; the quantization kernel excluded): wgmma (sm_90a) and "
             "mma.sync (sm_80 artifact, the run after it in the same device call) against fp16 "
             "cuBLAS F.linear of each run.", "",
             "| M x K x N | wgmma kernel | mma.sync kernel | fp16 cuBLAS | wgmma / fp16 | "
             "wgmma / mma.sync | whole call: qcc / fp16 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        m = r.get("matmul", {})
        key = (m.get("M"), m.get("K"), m.get("N"))
        if "tops" not in r or "qcc GEMM kernel" not in r["tops"] or key not in theirs:
            continue
        w, f = r["tops"]["qcc GEMM kernel"], r["tops"]["torch fp16 F.linear"]
        o = theirs[key]["tops"]["qcc GEMM kernel"]
        lines.append("| %dx%dx%d | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |" % (
            key + (w, o, f, w / f, w / o, r["tops"]["qcc"] / f)))
    return "\n".join(lines) + "\n"


def table(args):
    result = json.load(open(args.gemm_json))
    # Rows of further runs (check cases too large to carry in the same device call) replace
    # or join this run's rows, in case order.
    for extra in args.extra:
        rows = {r["case"]: r for r in result["rows"]}
        rows.update({r["case"]: r for r in json.load(open(extra))["rows"]})
        result["rows"] = [rows[c] for c in sorted(rows)]
    if args.tag == "bench-gpu-wgmma":
        header = ("Date: %s; commands: `bench/gpu_gemm.py prepare DIR/gemm --qcc "
                  "build-gpu/bin/qcc --target sm_90a --set square` and `bench/gpu_gemm.py "
                  "prepare DIR/mma --qcc build-gpu/bin/qcc --set square -k time` "
                  "here, then `bench/gpu_gemm.py run DIR/gemm --runtime "
                  "<libqcc_runtime.so> --reps 30` and the same for DIR/mma in one "
                  "device call (carrying DIR), then `bench/gpu_gemm.py table "
                  "<wgmma gemm.json> --tag bench-gpu-wgmma --peer <mma gemm.json>`%s. "
                  % (result["date"], " (with `--extra <gemm.json>` for check cases run in "
                     "another device call: the 64 MiB carry limit)" if args.extra else ""))
    else:
        header = ("Date: %s; command: `bench/gpu_gemm.py prepare gpu-artifacts/mma/gemm --qcc "
                  "build-gpu2/bin/qcc` here, then `bench/gpu_gemm.py run gpu-artifacts/mma/gemm "
                  "--runtime <libqcc_runtime.so> --reps 50` on the GPU machine (device tool, "
                  "carrying gpu-artifacts/mma), then `bench/gpu_gemm.py table <gemm.json>`. "
                  % result["date"])
    begin, end = "<!-- %s:begin -->" % args.tag, "<!-- %s:end -->" % args.tag
    body = format_table(result)
    if args.peer:
        body += kernel_table(result, json.load(open(args.peer)))
    block = begin + "\n" + header + body + end
    path = Path(args.benchmarks)
    text = path.read_text()
    if begin in text:
        start, stop = text.index(begin), text.index(end) + len(end)
        text = text[:start] + block + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n## %s\n\n%s\n" % (TAGS[args.tag], block)
    path.write_text(text)
    print("updated", path)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir")
    p.add_argument("--qcc", required=True)
    p.add_argument("-k", help="only cases whose name contains one of these (comma list)")
    p.add_argument("--target", default="sm_80", choices=["sm_80", "sm_90a"])
    p.add_argument("--set", default="issue", choices=sorted(SETS))
    p.add_argument("--gpu-wgmma", help="TILE_N,SPLIT_K: qcc's --gpu-wgmma for the sm_90a "
                   "compile (forced wgmma tile columns and K splits; tuning)")
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--runtime", required=True)
    r.add_argument("--out", default=".")
    r.add_argument("--reps", type=int, default=30)
    r.add_argument("--warmup", type=int, default=3)
    t = sub.add_parser("table")
    t.add_argument("gemm_json")
    t.add_argument("benchmarks", nargs="?", default=str(ROOT / "BENCHMARKS.md"))
    t.add_argument("--tag", default="bench-gpu-gemm", choices=sorted(TAGS))
    t.add_argument("--peer", help="gemm.json of the mma.sync run to compare GEMM kernels with")
    t.add_argument("--extra", action="append", default=[],
                   help="gemm.json of another run whose rows replace or join GEMM_JSON's")
    args = parser.parse_args()
    return {"prepare": prepare, "run": run, "table": table}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
