#!/usr/bin/env python3
"""Checks and times qcc GPU artifacts on the GPU machine (scripts/gpu/check.sh).

For every artifact folder under --artifacts (gpu-artifacts/<name>/ holding
model.json + model.ptx + model.plan.json + model.weights, model.onnx, and
optionally inputs.npz, reference.npz and meta.json written where the
artifacts were compiled):

  correctness  qcc (host entry qcc_model_run, and device entry
               qcc_model_run_device, which must agree) against the onnxruntime
               CPU reference (reference.npz, else computed here): relative L2
               per output; a float artifact (bits 32/16) must reach <= 2e-3,
               quantized ones report cosine and relative L2 (meta.json may set
               "max_rel_l2").
  speed        qcc through qcc_model_run_device on torch tensors (CUDA graph
               replay), against PyTorch eager fp16 of the same ONNX graph
               (bench/onnx_torch.py) and, for single-MatMul artifacts
               (meta.json "matmul": {"M", "K", "N"}), against F.linear fp16
               (cuBLAS), torch._int_mm (int8) and _weight_int4pack_mm (int4).
               Each timed call follows an L2 flush (a 256 MiB read), is timed
               with CUDA events, and the median of --reps calls is reported,
               methods alternating call by call. The device-to-device copy
               bandwidth is measured once as the ceiling for weight streaming.

Writes bench.json and bench.txt (a markdown table) to --out. On the
development machine, `bench/bench_gpu.py --update /work/.device/N/bench.json`
rewrites the GPU block of BENCHMARKS.md from a fetched bench.json.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import re
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

QCC_MAX_RANK = 8
DTYPES = {"float32": 1, "float64": 2, "float16": 3, "int8": 4, "uint8": 5,
          "int16": 6, "uint16": 7, "int32": 8, "uint32": 9, "int64": 10,
          "uint64": 11, "bool": 12}


class LoadOptions(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_uint32), ("device", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32 * 6)]


class Tensor(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_uint32),
                ("dims", ctypes.c_int64 * QCC_MAX_RANK), ("data", ctypes.c_void_p),
                ("byte_size", ctypes.c_size_t)]


class Runtime:
    """ctypes binding of the C API (runtime/include/qcc/qcc_runtime.h)."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.qcc_model_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(LoadOptions),
                                       ctypes.POINTER(ctypes.c_void_p)]
        lib.qcc_model_load.restype = ctypes.c_void_p
        lib.qcc_status_message.argtypes = [ctypes.c_void_p]
        lib.qcc_status_message.restype = ctypes.c_char_p
        lib.qcc_status_free.argtypes = [ctypes.c_void_p]
        lib.qcc_model_release.argtypes = [ctypes.c_void_p]
        lib.qcc_model_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(Tensor), ctypes.c_size_t,
                                      ctypes.POINTER(Tensor), ctypes.c_size_t]
        lib.qcc_model_run.restype = ctypes.c_void_p
        lib.qcc_model_run_device.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.c_void_p]
        lib.qcc_model_run_device.restype = ctypes.c_void_p
        self.lib = lib

    def check(self, status):
        if status:
            message = self.lib.qcc_status_message(status).decode()
            self.lib.qcc_status_free(status)
            raise RuntimeError(message)

    def load(self, prefix):
        options = LoadOptions()
        model = ctypes.c_void_p()
        self.check(self.lib.qcc_model_load(prefix.encode(), ctypes.byref(options),
                                           ctypes.byref(model)))
        return model


def tensor_of(array, dtype_name):
    t = Tensor()
    t.dtype = DTYPES[dtype_name]
    t.rank = array.ndim
    for i, d in enumerate(array.shape):
        t.dims[i] = d
    t.data = array.ctypes.data
    t.byte_size = array.nbytes
    return t


def np_dtype(name):
    return np.bool_ if name == "bool" else np.dtype(name)


def make_inputs(manifest, meta, rng):
    feeds = {}
    for spec in manifest["inputs"]:
        name, shape, dt = spec["name"], spec["shape"], spec["dtype"]
        if dt.startswith("float"):
            feeds[name] = rng.standard_normal(shape).astype(np_dtype(dt))
        elif "mask" in name:
            feeds[name] = np.ones(shape, np_dtype(dt))
        elif "type" in name:
            feeds[name] = np.zeros(shape, np_dtype(dt))
        else:
            high = meta.get("vocab", {}).get(name, meta.get("int_high", 100))
            feeds[name] = rng.integers(0, high, shape).astype(np_dtype(dt))
    return feeds


def rel_l2(got, want):
    got, want = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    if not np.all(np.isfinite(got)):
        return float("inf")
    denominator = np.linalg.norm(want)
    return float(np.linalg.norm(got - want) / (denominator if denominator else 1.0))


def cosine(got, want):
    got, want = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    return float(got @ want / max(np.linalg.norm(got) * np.linalg.norm(want), 1e-300))


class Timer:
    """Per-call CUDA-event timing after an L2 flush; methods alternate."""

    def __init__(self, torch, reps, warmup):
        self.torch = torch
        self.reps = reps
        self.warmup = warmup
        # A read of 256 MiB evicts L2 and leaves it clean: a memset (a write)
        # would leave 50 MB of dirty lines that the timed call's own misses
        # write back, halving the bandwidth a weight-streaming kernel sees.
        self.flush = torch.ones(64 << 20, dtype=torch.int32, device="cuda")

    def time(self, fns):
        torch = self.torch
        for fn in fns.values():
            for _ in range(self.warmup):
                fn()
        torch.cuda.synchronize()
        times = {name: [] for name in fns}
        events = []
        for _ in range(self.reps):
            for name, fn in fns.items():
                self.flush.max()
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                events.append((name, start, end))
            if len(events) >= 64:
                torch.cuda.synchronize()
                for name, start, end in events:
                    times[name].append(start.elapsed_time(end))
                events = []
        torch.cuda.synchronize()
        for name, start, end in events:
            times[name].append(start.elapsed_time(end))
        return {name: statistics.median(v) for name, v in times.items()}


def copy_bandwidth(torch, timer):
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = timer.time({"copy": lambda: dst.copy_(src)})["copy"]
    return 2 * src.numel() / (ms * 1e-3) / 1e9


def matmul_peers(torch, meta, bits, x, timer_fns):
    """Adds the kernel-level PyTorch peers of a single MatMul artifact."""
    import torch.nn.functional as F
    M, K, N = (meta["matmul"][k] for k in ("M", "K", "N"))
    w = torch.randn(N, K, device="cuda", dtype=torch.float16) / math.sqrt(K)
    xh = torch.randn(M, K, device="cuda", dtype=torch.float16)
    timer_fns["torch fp16 F.linear"] = lambda: F.linear(xh, w)
    notes = []
    if bits == 8:
        if M > 16 and K % 8 == 0 and N % 8 == 0:
            a8 = torch.randint(-127, 127, (M, K), device="cuda", dtype=torch.int8)
            b8 = torch.randint(-127, 127, (K, N), device="cuda", dtype=torch.int8)
            timer_fns["torch._int_mm int8"] = lambda: torch._int_mm(a8, b8)
        else:
            notes.append("_int_mm needs M > 16")
    if bits == 4:
        try:
            group = meta.get("group_size", 128)
            q = torch.randint(0, 16, (N, K), device="cuda", dtype=torch.int32)
            packed_u8 = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)
            packed = torch.ops.aten._convert_weight_to_int4pack(packed_u8, 8)
            scales = torch.rand(K // group, N, 2, device="cuda", dtype=torch.bfloat16)
            xb = xh.to(torch.bfloat16)
            torch.ops.aten._weight_int4pack_mm(xb, packed, group, scales)
            timer_fns["torch int4 tinygemm"] = \
                lambda: torch.ops.aten._weight_int4pack_mm(xb, packed, group, scales)
        except Exception as error:  # the op's signature moves between releases
            notes.append("_weight_int4pack_mm unavailable: %s" % str(error).splitlines()[0])
    return notes


def bench_artifact(rt, torch, folder, args, timer, bandwidth):
    prefix = os.path.join(folder, "model")
    manifest = json.load(open(prefix + ".json"))
    meta_path = os.path.join(folder, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    name = meta.get("title", os.path.basename(folder.rstrip("/")))
    bits = int(manifest.get("bits", 32))
    row = {"name": name, "bits": bits, "target": manifest["target"].get("name")}
    rng = np.random.default_rng(1234)
    inputs_path = os.path.join(folder, "inputs.npz")
    feeds = dict(np.load(inputs_path)) if os.path.exists(inputs_path) \
        else make_inputs(manifest, meta, rng)
    # Row-independent matmuls may store fewer rows (meta "tile_rows": the
    # artifact's rows): inputs and reference repeat them.
    tile = meta.get("tile_rows")

    def tiled(a):
        return np.tile(a, (-(-tile // a.shape[0]), 1))[:tile] if tile else a
    feeds = {k: tiled(v) for k, v in feeds.items()}
    onnx_path = os.path.join(folder, "model.onnx")
    ref_path = os.path.join(folder, "reference.npz")
    out_specs = manifest["outputs"]
    if os.path.exists(ref_path):
        ref = np.load(ref_path)
        reference = [tiled(ref[o["name"]]) for o in out_specs]
    else:
        import onnxruntime as ort
        session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        reference = session.run([o["name"] for o in out_specs],
                                {k: v for k, v in feeds.items() if k in names})

    eager_models = []
    start = time.perf_counter()
    model = rt.load(prefix)
    row["load_ms"] = (time.perf_counter() - start) * 1e3
    try:
        in_arrays = [np.ascontiguousarray(feeds[s["name"]], np_dtype(s["dtype"]))
                     for s in manifest["inputs"]]
        out_arrays = [np.full(s["shape"], np.nan if s["dtype"].startswith("float") else 0,
                              np_dtype(s["dtype"])) for s in out_specs]
        ins = (Tensor * len(in_arrays))(*[tensor_of(a, s["dtype"]) for a, s in
                                          zip(in_arrays, manifest["inputs"])])
        outs = (Tensor * len(out_arrays))(*[tensor_of(a, s["dtype"]) for a, s in
                                            zip(out_arrays, out_specs)])
        for _ in range(2):  # eager, then graph replay: both must be right
            rt.check(rt.lib.qcc_model_run(model, ins, len(in_arrays), outs, len(out_arrays)))
        row["rel_l2"] = max(rel_l2(g, w) for g, w in zip(out_arrays, reference))
        row["cosine"] = min(cosine(g, w) for g, w in zip(out_arrays, reference))
        limit = meta.get("max_rel_l2", 2e-3 if bits >= 16 else None)
        row["limit"] = limit
        row["ok"] = limit is None or row["rel_l2"] <= limit

        # Device entry on torch tensors: must match the host entry.
        t_in = [torch.from_numpy(a).cuda() for a in in_arrays]
        t_out = [torch.from_numpy(np.zeros_like(a)).cuda() for a in out_arrays]
        in_ptrs = (ctypes.c_void_p * len(t_in))(*[t.data_ptr() for t in t_in])
        out_ptrs = (ctypes.c_void_p * len(t_out))(*[t.data_ptr() for t in t_out])

        def qcc_call():
            rt.check(rt.lib.qcc_model_run_device(
                model, in_ptrs, len(t_in), out_ptrs, len(t_out),
                ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)))
        qcc_call()
        torch.cuda.synchronize()
        row["device_entry_matches"] = all(
            np.array_equal(t.cpu().numpy(), a, equal_nan=True)
            for t, a in zip(t_out, out_arrays))
        row["ok"] = row["ok"] and row["device_entry_matches"]

        fns = {"qcc": qcc_call}
        notes = []
        # The same artifact without graph replay: what capturing saves.
        os.environ["QCC_CUDA_GRAPHS"] = "0"
        try:
            eager_model = rt.load(prefix)
        finally:
            del os.environ["QCC_CUDA_GRAPHS"]
        eager_models.append(eager_model)

        def qcc_eager_call():
            rt.check(rt.lib.qcc_model_run_device(
                eager_model, in_ptrs, len(t_in), out_ptrs, len(t_out),
                ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)))
        fns["qcc no graph"] = qcc_eager_call
        try:
            from onnx_torch import OnnxTorch
            peer = OnnxTorch(onnx_path)
            peer_feeds = {s["name"]: torch.from_numpy(a).cuda() if not s["dtype"].startswith(
                "float") else torch.from_numpy(a).cuda().half()
                for a, s in zip(in_arrays, manifest["inputs"])}
            with torch.inference_mode():
                peer_out = peer(peer_feeds)
            row["torch_rel_l2"] = max(rel_l2(p.float().cpu().numpy(), w)
                                      for p, w in zip(peer_out, reference))

            def torch_call():
                with torch.inference_mode():
                    peer(peer_feeds)
            fns["torch eager fp16"] = torch_call
        except Exception as error:
            notes.append("torch eager peer unavailable: %s: %s" % (type(error).__name__, error))
        if "matmul" in meta:
            notes += matmul_peers(torch, meta, bits, None, fns)
        times = timer.time(fns)
        row["times_ms"] = times
        row["notes"] = notes
        if "weight_bytes" in meta:
            row["qcc_gbps"] = meta["weight_bytes"] / (times["qcc"] * 1e-3) / 1e9
            row["floor_ms"] = meta["weight_bytes"] / (bandwidth * 1e9) * 1e3
        if "matmul" in meta:
            m = meta["matmul"]
            row["qcc_tops"] = 2 * m["M"] * m["K"] * m["N"] / (times["qcc"] * 1e-3) / 1e12
    finally:
        rt.lib.qcc_model_release(model)
        for eager_model in eager_models:
            rt.lib.qcc_model_release(eager_model)
    return row


def format_table(rows, device, bandwidth, reps, header=""):
    lines = [header + "Device: %s; device-to-device copy bandwidth (read+write) %.0f GB/s. "
             "Timing: median of %d calls per method, each call after an L2 flush (a read of 256 MiB), "
             "timed with CUDA events, methods alternating call by call; qcc = "
             "`qcc_model_run_device` on torch tensors (CUDA graph replay); torch eager fp16 = "
             "the same ONNX graph run op by op in PyTorch fp16 (bench/onnx_torch.py). "
             "rel-L2: qcc outputs vs onnxruntime CPU on the same inputs (float artifacts "
             "must reach <= 2e-3)." % (device, bandwidth, reps),
             "",
             "| artifact | bits | rel-L2 vs ort | ok | qcc ms | qcc without graph ms | "
             "torch eager fp16 ms | ratio torch/qcc | other peers (ms) | qcc GB/s | load ms |",
             "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append("| %s | | | FAILED: %s | | | | | | | |" % (r["name"], r["error"]))
            continue
        t = r.get("times_ms", {})
        q, p, e = t.get("qcc"), t.get("torch eager fp16"), t.get("qcc no graph")
        others = ", ".join("%s %.4f" % (k, v) for k, v in t.items()
                           if k not in ("qcc", "torch eager fp16", "qcc no graph"))
        lines.append("| %s | %d | %.2e | %s | %s | %s | %s | %s | %s | %s | %.0f |" % (
            r["name"], r["bits"], r["rel_l2"], "yes" if r["ok"] else "NO",
            "%.4f" % q if q else "", "%.4f" % e if e else "", "%.4f" % p if p else "",
            "%.2f" % (p / q) if p and q else "", others,
            "%.0f" % r["qcc_gbps"] if "qcc_gbps" in r else "", r["load_ms"]))
    return "\n".join(lines) + "\n"


def update_benchmarks(bench_json, path):
    """Rewrites the bench-gpu block of BENCHMARKS.md from a bench.json."""
    result = json.load(open(bench_json))
    header = "Date: %s; command: `%s` through the device tool (one call builds, tests, " \
        "checks and times); PyTorch %s. " % (result.get("date", "2026-11-22"),
                                             result.get("command", "scripts/gpu/check.sh"),
                                             result.get("torch", "?"))
    table = format_table(result["rows"], result["device"], result["copy_gbps"],
                         result.get("reps", 50), header)
    text = open(path).read()
    begin, end = "<!-- bench-gpu:begin -->", "<!-- bench-gpu:end -->"
    block = begin + "\n" + table + end
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n## GPU: qcc vs PyTorch\n\nCommand: " \
            "`scripts/gpu/check.sh` on the GPU machine (device tool), then " \
            "`bench/bench_gpu.py --update <fetched bench.json>` here.\n\n" + block + "\n"
    open(path, "w").write(text)
    print("updated", path)
    return 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--update":
        return update_benchmarks(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else
                                 os.path.join(HERE, "..", "BENCHMARKS.md"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default=os.path.join(HERE, "..", "gpu-artifacts"))
    parser.add_argument("--runtime", required=True, help="path of libqcc_runtime.so")
    parser.add_argument("--out", default=".")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10 calls per method")
    parser.add_argument("--update", metavar="BENCH_JSON",
                        help="(dev machine) rewrite BENCHMARKS.md's GPU block from it")
    args = parser.parse_args()
    if args.quick:
        args.reps = 10
    import torch
    rt = Runtime(args.runtime)
    timer = Timer(torch, args.reps, args.warmup)
    device = torch.cuda.get_device_name(0)
    bandwidth = copy_bandwidth(torch, timer)
    print("device %s, copy bandwidth %.0f GB/s" % (device, bandwidth))
    folders = sorted(os.path.join(args.artifacts, d) for d in os.listdir(args.artifacts)
                     if os.path.exists(os.path.join(args.artifacts, d, "model.json"))) \
        if os.path.isdir(args.artifacts) else []
    rows = []
    for folder in folders:
        print("artifact", folder, flush=True)
        try:
            row = bench_artifact(rt, torch, folder, args, timer, bandwidth)
        except Exception as error:
            row = {"name": os.path.basename(folder), "error": "%s: %s" % (
                type(error).__name__, str(error).splitlines()[0] if str(error) else "")}
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {"device": device, "copy_gbps": bandwidth, "rows": rows,
              "torch": torch.__version__}
    result["date"] = datetime.date.today().isoformat()
    result["reps"] = args.reps
    result["command"] = "scripts/gpu/check.sh"
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    table = format_table(rows, device, bandwidth, args.reps) if rows else \
        "Device: %s; copy bandwidth %.0f GB/s; no artifacts in %s\n" % (
            device, bandwidth, args.artifacts)
    with open(os.path.join(args.out, "bench.txt"), "w") as f:
        f.write(table)
    print(table)
    failed = [r for r in rows if "error" in r or not r.get("ok")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
