#!/usr/bin/env python3
"""Whole real models on the GPU: quality and forward latency of qcc -target=sm_80 artifacts.

Models (build/models, scripts/models): all-MiniLM-L6-v2 seq 128 and SmolLM2-135M with 128
tokens (s128) and one token (s1), each compiled with `-bits=8` and `-bits=4` plus
`--quantize-embeddings` (the Gather tables as int8 rows: without it the float embedding table
alone is 47 / 113 MB, more than the device tool carries).

  prepare   (here) compiles the GPU artifacts into gpu-artifacts/models/<case>/ and the CPU
            artifacts of the same recipe (the host CPU target, x86-64-vnni with VNNI; cached in QCC_EVAL_CACHE); writes
            the inputs that travel (MiniLM: --sentences WikiText-2 test sentences as
            bench/quality.py picks them; SmolLM2 s128: --windows windows of 128 test tokens;
            s1: 8 random tokens and positions), a weightless copy of each ONNX graph for the
            timing peer, and the references that stay here (gpu-artifacts/models-ref/): the
            onnxruntime float model's and the CPU artifact's outputs on the same inputs.
  pack      (here) splits everything under gpu-artifacts/models/ into parts of --part-mib
            (gpu-artifacts/models-stage/pNN/), one per device call: the models together are
            larger than one call carries. scripts/gpu/models.sh stages each part on the device.
  run       (device, scripts/gpu/models.sh) runs every case: quality inputs through
            qcc_model_run (host entry), outputs to OUT/<case>.npz (SmolLM2 s128: per-token
            negative log-likelihoods computed there in float64, and window 0's logits in fp16);
            then times qcc_model_run_device (CUDA graph replay) against the same ONNX graph in
            PyTorch eager fp16 (bench/onnx_torch.py) with random fp16 weights of the same
            shapes (the float weights do not travel; the timing does not depend on their
            values), each call after an L2 flush, median of --reps calls, methods alternating;
            and a per-kernel profile of one eager (no graph) call (torch.profiler).
  report    (here) reads the fetched files, compares with the references and writes
            OUT/report.md; --update puts it into BENCHMARKS.md (block gpu-models).

Tolerances (stated, checked by report): the GPU computes the CPU path's integer arithmetic, but
its float parts (exp, erf, sums in another order) differ in the last bits, and a dynamic int8
activation code that lands on the other side of a rounding boundary moves the next layer: so the
GPU must match the CPU artifact of the same recipe closely, not exactly. MiniLM: pooled-embedding
cosine to the CPU artifact >= 0.999 on average and >= 0.99 for every sentence, and the quality
metric (mean cosine to onnxruntime float) within 0.001 of the CPU artifact's. SmolLM2 (large
activation outliers: per-token int8 codes of its activations are sensitive to the last bit):
logits relative L2 to the CPU artifact no larger than the CPU artifact's own distance to the float
model (window 0 for s128, all 8 tokens for s1), and s128 perplexity within 1% of the CPU
artifact's.
"""
from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
# QCC_GPU_ARTIFACTS (default gpu-artifacts, relative to the checkout) keeps one user's artifacts,
# references and parts apart from another's; scripts/gpu/models.sh reads the same variable.
GA = ROOT / os.environ.get("QCC_GPU_ARTIFACTS", "gpu-artifacts")
ART = GA / "models"
REF = GA / "models-ref"
STAGE = GA / "models-stage"
BEGIN, END = "<!-- gpu-models:begin -->", "<!-- gpu-models:end -->"

# case: (model file stem, kind, qcc flags)
CASES = {
    "minilm-int8": ("minilm-l6-s128", "minilm", ["-bits=8"]),
    "minilm-int4": ("minilm-l6-s128", "minilm", ["-bits=4"]),
    "smol128-int8": ("smollm2-135m-s128", "smol", ["-bits=8"]),
    "smol128-int4": ("smollm2-135m-s128", "smol", ["-bits=4"]),
    "smol1-int8": ("smollm2-135m-s1", "random", ["-bits=8"]),
    "smol1-int4": ("smollm2-135m-s1", "random", ["-bits=4"]),
    # Row reductions on one thread per row (the default before warp reductions): perplexity
    # and closeness to the CPU artifact with the other float summation order.
    "smol128-int8-nowarp": ("smollm2-135m-s128", "smol", ["-bits=8",
                                                          "--gpu-warp-reductions=false"]),
    # Calibrated recipes (CALIB: the 16 WikiText-2 valid.txt windows of 128 tokens that
    # bench/quality.py calibrates SmolLM2 with); calibration runs on the CPU backend in qcc.
    "smol128-int4g32-gptq": ("smollm2-135m-s128", "smol", ["-bits=4", "--group-size=32",
                                                           "--weight-algo=gptq", "CALIB"]),
    "smol128-int8-static-sq-ko": ("smollm2-135m-s128", "smol", [
        "-bits=8", "--act=static", "CALIB", "--smooth=0.5", "--keep-outliers=16"]),
    "smol128-int8-dyn-sq-ko": ("smollm2-135m-s128", "smol", [
        "-bits=8", "--act=dynamic", "CALIB", "--smooth=0.5", "--keep-outliers=16"]),
}


def calib_flags(flags: list[str], stem: str) -> list[str]:
    """CALIB -> --calib=DIR: 16 WikiText-2 valid.txt windows of 128 tokens as SmolLM2 input
    sets, picked and stored as bench/quality.py does (QCC_EVAL_CACHE/calib/smollm2-valid16)."""
    if "CALIB" not in flags:
        return flags
    if not stem.startswith("smollm2"):
        raise SystemExit(f"CALIB: no calibration set for {stem}")
    import eval_common as E
    d = E.CACHE / "calib" / "smollm2-valid16"
    if not (d / "sample0015.npz").is_file():
        import build_smollm2 as BS
        tok = BS.load_tokenizer(ROOT / "build" / "models" / "smollm2-135m-tokenizer.json")
        valid_ids = BS.wikitext_ids(tok, None, "valid")
        d.mkdir(parents=True, exist_ok=True)
        for i, s in enumerate(E.token_windows(valid_ids, 16, 128)):
            np.savez(d / f"sample{i:04d}.npz", input_ids=valid_ids[None, s:s + 128])
    return [f"--calib={d}" if f == "CALIB" else f for f in flags]


def cpu_flags(flags: list[str]) -> list[str]:
    """The CPU artifact's flags for the same recipe: -bits=4 on GPU targets defaults to
    weight-only (--act=none), on the CPU to W4A8, so that is made explicit; GPU-only flags
    (--gpu-*) do not change a CPU artifact and are dropped (cases differing only in them share
    their CPU artifact)."""
    out = [f for f in flags if not f.startswith("--gpu-")]
    if "-bits=4" in out and not any(f.startswith("--act=") for f in out):
        out.append("--act=none")
    return out


EMBED = "--quantize-embeddings"
COS_MEAN = 0.999   # MiniLM: mean cosine of the embeddings to the CPU artifact's
COS_MIN = 0.99     # MiniLM: every sentence's embedding vs the CPU artifact
QUAL_DELTA = 0.001  # MiniLM: mean cosine to float, GPU vs CPU artifact
PPL_REL = 0.01     # SmolLM2 s128: perplexity within 1% of the CPU artifact's


def rel_l2(got, want) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def select(pattern: str) -> list[str]:
    """Cases named in the comma list `pattern` (a name selects itself only, another word every
    case containing it); all when empty."""
    words = pattern.split(",") if pattern else []
    return [c for c in CASES if not words or any(w == c or (w not in CASES and w in c)
                                                 for w in words)]


# ----------------------------------------------------------------------------- here: prepare
def skeleton(src: Path, dst: Path, min_elements: int = 4096) -> dict:
    """The ONNX graph with its large float initializers dropped; returns {name: shape}."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(src))
    dropped, keep = {}, []
    for init in model.graph.initializer:
        n = math.prod(init.dims)
        if init.data_type in (1, 10, 11, 16) and n >= min_elements:
            dropped[init.name] = list(init.dims)
        else:
            keep.append(numpy_helper.from_array(numpy_helper.to_array(init), init.name))
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    onnx.save(model, str(dst))
    return dropped


def quality_inputs(kind: str, stem: str, a) -> tuple[dict, dict]:
    """(inputs that travel, extra data that stays here)."""
    import eval_common as E
    if kind == "minilm":
        import build_minilm as BM
        tok = BM.load_tokenizer(128, ROOT / "build" / "models" / "minilm-l6-tokenizer.json")
        ids, mask = BM.encode(tok, E.wikitext_sentences("test", a.sentences))
        return {"input_ids": ids[:, None, :], "attention_mask": mask[:, None, :]}, {}
    if kind == "smol":
        import build_smollm2 as BS
        tok = BS.load_tokenizer(ROOT / "build" / "models" / "smollm2-135m-tokenizer.json")
        test_ids = BS.wikitext_ids(tok, None, "test")
        starts = E.token_windows(test_ids, a.windows, 128)
        ids = np.stack([test_ids[s:s + 128] for s in starts]).astype(np.int64)
        return {"input_ids": ids[:, None, :], "targets": ids[:, 1:]}, {}
    rng = np.random.default_rng(20261122)
    return {"input_ids": rng.integers(0, 49152, (8, 1, 1)).astype(np.int64),
            "position_ids": rng.integers(0, 128, (8, 1, 1)).astype(np.int64)}, {}


def nll_of(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-token negative log-likelihood of targets [S-1] under logits [S, V] (float64)."""
    lg = logits[:len(targets)].astype(np.float64)
    m = lg.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(lg - m).sum(1))
    return lse - lg[np.arange(len(targets)), targets]


def run_samples(fn, kind: str, feeds: dict, names: list[str]) -> dict:
    """Runs every sample of `feeds` through fn({name: [1,...]}) -> {output: array}."""
    n = len(next(iter(feeds.values())))
    out = {}
    if kind == "minilm":
        out["sentence_embedding"] = np.stack([
            fn({k: feeds[k][i] for k in names})["sentence_embedding"][0] for i in range(n)])
    elif kind == "smol":
        nll = []
        for i in range(n):
            logits = fn({"input_ids": feeds["input_ids"][i]})["logits"][0]
            if i == 0:
                out["logits0"] = logits.astype(np.float16)
            nll.append(nll_of(logits, feeds["targets"][i]))
        out["nll"] = np.stack(nll)
    else:
        out["logits"] = np.stack([fn({k: feeds[k][i] for k in names})["logits"]
                                  for i in range(n)]).astype(np.float32)
    return out


def prepare(a) -> int:
    import eval_common as E
    import onnxruntime as ort
    qcc = Path(os.environ.get("QCC_BUILD_DIR", ROOT / "build"))
    qcc = Path(a.qcc) if a.qcc else (qcc if qcc.is_absolute() else ROOT / qcc) / "bin" / "qcc"
    ART.mkdir(parents=True, exist_ok=True)
    REF.mkdir(parents=True, exist_ok=True)
    (ART / "peers").mkdir(exist_ok=True)
    failed = 0
    for case in select(a.k):
        stem, kind, flags = CASES[case]
        flags = calib_flags(flags, stem)
        src = ROOT / "build" / "models" / f"{stem}.onnx"
        folder = ART / case
        folder.mkdir(exist_ok=True)
        peer = ART / "peers" / f"{stem}.onnx"
        if not peer.exists():
            shapes = skeleton(src, peer)
            (ART / "peers" / f"{stem}.json").write_text(json.dumps(shapes))
        if not a.refs_only:
            t0 = time.perf_counter()
            r = subprocess.run([str(qcc), str(src), f"-target={a.target}", *flags, EMBED, *a.qcc_arg,
                                "-o", str(folder / "model")], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{case}: GPU compile failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
                failed += 1
                continue
            size = (folder / "model.weights").stat().st_size
            print(f"{case}: {a.target} artifact in {time.perf_counter() - t0:.1f} s, weights "
                  f"{size / 2**20:.1f} MiB", flush=True)
            (folder / "meta.json").write_text(json.dumps({
                "case": case, "model": stem, "kind": kind,
                "flags": [f.split("=")[0] + "=<valid16>" if f.startswith("--calib=") else f
                          for f in flags] + [EMBED] + a.qcc_arg,
                "peer": f"peers/{stem}.onnx", "weights_bytes": size}))
        feeds, _ = quality_inputs(kind, stem, a)
        names = [k for k in feeds if k != "targets"]
        np.savez(folder / "inputs.npz", **feeds)
        ref_path = REF / f"{case}.npz"
        if a.gpu_only or (ref_path.exists() and not a.fresh):
            continue
        prefix, _ = E.qcc_artifact(src, case, cpu_flags(flags) + [EMBED], fresh=a.fresh)
        cpu = E.QccModel(prefix)
        t0 = time.perf_counter()
        refs = {f"cpu_{k}": v for k, v in run_samples(cpu.run, kind, feeds, names).items()}
        cpu.close()
        print(f"{case}: CPU artifact outputs in {time.perf_counter() - t0:.1f} s", flush=True)
        float_ref = REF / f"{stem}-{kind}-float.npz"
        if not float_ref.exists():
            sess = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"],
                                        sess_options=ort_plain())
            outs = [o.name for o in sess.get_outputs()]

            def run_ort(f):
                return dict(zip(outs, sess.run(outs, f)))
            np.savez(float_ref, **run_samples(run_ort, kind, feeds, names))
        np.savez(ref_path, **refs)
    return 1 if failed else 0


def ort_plain():
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return so


def pack(a) -> int:
    """Splits a tar of gpu-artifacts/models/ into parts of --part-mib."""
    import tarfile
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    # Identical weight files (s1 and s128 of one recipe may share theirs) travel once: tar
    # stores the second as a hard link.
    seen = {}
    for case in select(a.k):
        w = ART / case / "model.weights"
        if w.is_file():
            key = (w.stat().st_size, hashlib.sha256(w.read_bytes()).hexdigest())
            if key in seen and not os.path.samefile(seen[key], w):
                w.unlink()
                os.link(seen[key], w)
                print(f"{case}: weights identical to {seen[key].parent.name}'s (hard link)")
            seen.setdefault(key, w)
    tar_path = STAGE / "models.tar"
    with tarfile.open(tar_path, "w") as tar:
        for case in ["peers"] + select(a.k):
            if (ART / case).is_dir():
                tar.add(ART / case, arcname=case)
    data_size = tar_path.stat().st_size
    digest = hashlib.sha256()
    part = a.part_mib << 20
    count = 0
    with open(tar_path, "rb") as f:
        while True:
            chunk = f.read(part)
            if not chunk:
                break
            digest.update(chunk)
            d = STAGE / f"p{count:02d}"
            d.mkdir()
            (d / f"part-{count:02d}").write_bytes(chunk)
            count += 1
    tar_path.unlink()
    for i in range(count):
        (STAGE / f"p{i:02d}" / "parts.txt").write_text(f"{count} {data_size} {digest.hexdigest()}\n")
    print(f"{data_size / 2**20:.1f} MiB in {count} parts under {STAGE}:")
    for i in range(count):
        print(f"  gpu-artifacts/models-stage/p{i:02d}")
    return 0


# ----------------------------------------------------------------------------- device: run
def host_runner(rt, model, man):
    """fn({input: array}) -> {output: array} through qcc_model_run (host buffers; outputs
    poisoned with NaN first)."""
    from bench_gpu import Tensor, np_dtype, tensor_of
    specs_in, specs_out = man["inputs"], man["outputs"]

    def host_run(feeds):
        ins_np = [np.ascontiguousarray(feeds[s["name"]], np_dtype(s["dtype"])) for s in specs_in]
        outs_np = [np.full(s["shape"], np.nan, np_dtype(s["dtype"])) for s in specs_out]
        ins = (Tensor * len(ins_np))(*[tensor_of(x, s["dtype"]) for x, s in zip(ins_np, specs_in)])
        outs = (Tensor * len(outs_np))(*[tensor_of(x, s["dtype"])
                                         for x, s in zip(outs_np, specs_out)])
        rt.check(rt.lib.qcc_model_run(model, ins, len(ins_np), outs, len(outs_np)))
        return {s["name"]: x for s, x in zip(specs_out, outs_np)}
    return host_run


def device_ab(a) -> int:
    """Two compilers' artifacts of each case (--dir: A, --dir-b: B, e.g. before and after a
    codegen change): launches per forward (plan), whether B's outputs on every quality input
    are bit-identical to A's, and forward latency of each (CUDA graph replay and eager), the
    two alternating call by call, median of --reps."""
    import torch
    from bench_gpu import Runtime, Timer, np_dtype
    rt = Runtime(a.runtime)
    timer = Timer(torch, a.reps, a.warmup)
    result = {}
    for case in select(a.k):
        dirs = {"A": Path(a.dir) / case, "B": Path(a.dir_b) / case}
        if not all((d / "model.json").exists() for d in dirs.values()):
            continue
        meta = json.loads((dirs["A"] / "meta.json").read_text())
        row, models, fns, outs = {}, [], {}, {}
        feeds = dict(np.load(dirs["A"] / "inputs.npz"))
        for key, d in dirs.items():
            man = json.loads((d / "model.json").read_text())
            plan = json.loads((d / "model.plan.json").read_text())
            row[f"{key} launches"] = sum(c["op"] == "launch" for c in plan["commands"])
            row[f"{key} copies"] = sum(c["op"] == "copy" for c in plan["commands"])
            model = rt.load(str(d / "model"))
            os.environ["QCC_CUDA_GRAPHS"] = "0"
            try:
                eager = rt.load(str(d / "model"))
            finally:
                del os.environ["QCC_CUDA_GRAPHS"]
            models += [model, eager]
            names = [s["name"] for s in man["inputs"]]
            outs[key] = run_samples(host_runner(rt, model, man), meta["kind"], feeds, names)
            first = [torch.from_numpy(np.ascontiguousarray(feeds[s["name"]][0],
                                                           np_dtype(s["dtype"]))).cuda()
                     for s in man["inputs"]]
            res = [torch.empty(s["shape"], dtype=torch.float32, device="cuda")
                   for s in man["outputs"]]
            ptrs = ((ctypes.c_void_p * len(first))(*[t.data_ptr() for t in first]),
                    (ctypes.c_void_p * len(res))(*[t.data_ptr() for t in res]), first, res)

            def call(m, p=ptrs):
                return lambda: rt.check(rt.lib.qcc_model_run_device(
                    m, p[0], len(p[2]), p[1], len(p[3]),
                    ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)))
            fns[key] = call(model)
            fns[f"{key} eager"] = call(eager)
        row["identical"] = all(np.array_equal(outs["A"][k], outs["B"][k], equal_nan=True)
                               for k in outs["A"])
        row["max_abs_diff"] = max(float(np.max(np.abs(outs["A"][k].astype(np.float64) -
                                                      outs["B"][k].astype(np.float64))))
                                  for k in outs["A"])
        row["times_ms"] = timer.time(fns)
        row["times2_ms"] = timer.time(fns)  # the same again: run-to-run spread
        for m in models:
            rt.lib.qcc_model_release(m)
        result[case] = row
        print(case, json.dumps(row), flush=True)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "gpu_ab.json").write_text(json.dumps(
        {"device": torch.cuda.get_device_name(0), "reps": a.reps, "cases": result}, indent=1))
    return 0


def device_run(a) -> int:
    import torch
    from bench_gpu import Runtime, Timer, np_dtype
    from onnx_torch import OnnxTorch, random_like_shapes
    rt = Runtime(a.runtime)
    timer = Timer(torch, a.reps, a.warmup)
    out = Path(a.out)
    root = Path(a.dir)
    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "reps": a.reps, "cases": {}}
    peers = {}
    for case in select(a.k):
        folder = root / case
        if not (folder / "model.json").exists():
            continue
        meta = json.loads((folder / "meta.json").read_text())
        man = json.loads((folder / "model.json").read_text())
        row = {"flags": meta["flags"], "weights_bytes": meta["weights_bytes"]}
        result["cases"][case] = row
        print(f"== {case}", flush=True)
        models = []
        try:
            prefix = str(folder / "model")
            t0 = time.perf_counter()
            model = rt.load(prefix)
            models.append(model)
            row["load_ms"] = (time.perf_counter() - t0) * 1e3
            specs_in, specs_out = man["inputs"], man["outputs"]
            host_run = host_runner(rt, model, man)

            feeds = dict(np.load(folder / "inputs.npz"))
            names = [s["name"] for s in specs_in]
            t0 = time.perf_counter()
            outputs = run_samples(host_run, meta["kind"], feeds, names)
            row["quality_s"] = time.perf_counter() - t0
            row["finite"] = bool(all(np.all(np.isfinite(v)) for v in outputs.values()))
            np.savez(out / f"{case}.npz", **outputs)

            # Timing on device buffers: sample 0 of the quality inputs.
            first = {s["name"]: np.ascontiguousarray(feeds[s["name"]][0], np_dtype(s["dtype"]))
                     for s in specs_in}
            t_in = [torch.from_numpy(first[s["name"]]).cuda() for s in specs_in]
            t_out = [torch.empty(s["shape"], dtype=torch.float32, device="cuda")
                     for s in specs_out]
            in_ptrs = (ctypes.c_void_p * len(t_in))(*[t.data_ptr() for t in t_in])
            out_ptrs = (ctypes.c_void_p * len(t_out))(*[t.data_ptr() for t in t_out])
            os.environ["QCC_CUDA_GRAPHS"] = "0"
            try:
                eager = rt.load(prefix)
                models.append(eager)
            finally:
                del os.environ["QCC_CUDA_GRAPHS"]

            def call(m):
                def fn():
                    rt.check(rt.lib.qcc_model_run_device(
                        m, in_ptrs, len(t_in), out_ptrs, len(t_out),
                        ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)))
                return fn
            call(model)()
            torch.cuda.synchronize()
            want = host_run(first)
            row["device_entry_matches"] = all(
                np.array_equal(t.cpu().numpy(), want[s["name"]], equal_nan=True)
                for t, s in zip(t_out, specs_out))
            fns = {"qcc": call(model), "qcc no graph": call(eager)}
            peer_key = meta["peer"]
            try:
                if peer_key not in peers:
                    shapes = json.loads((root / peer_key).with_suffix(".json").read_text())
                    peers[peer_key] = OnnxTorch(str(root / peer_key),
                                                extra_consts=random_like_shapes(shapes))
                peer = peers[peer_key]
                peer_feeds = {k: torch.from_numpy(v).cuda() for k, v in first.items()}

                def torch_call():
                    with torch.inference_mode():
                        peer(peer_feeds)
                torch_call()
                fns["torch eager fp16"] = torch_call
            except Exception as error:  # noqa: BLE001: qcc is still timed
                row["peer_error"] = f"{type(error).__name__}: {error}"
                print("torch peer unavailable:", row["peer_error"], flush=True)
            try:
                hf = hf_peer(torch, meta["model"])
                hf_feeds = {k: torch.from_numpy(v).cuda() for k, v in first.items()}

                def hf_call():
                    with torch.inference_mode():
                        hf(hf_feeds)
                hf_call()
                fns["torch transformers fp16"] = hf_call
            except Exception as error:  # noqa: BLE001: the other methods are still timed
                row["hf_error"] = f"{type(error).__name__}: {error}"
                print("transformers peer unavailable:", row["hf_error"], flush=True)
            row["times_ms"] = timer.time(fns)
            row["profile"] = profile(torch, call(eager))
            print(json.dumps({k: v for k, v in row.items() if k != "profile"}), flush=True)
        except Exception as error:  # noqa: BLE001: a failing case is reported, the rest run
            row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            print("FAILED", case, row["error"], flush=True)
        finally:
            for m in models:
                rt.lib.qcc_model_release(m)
    (out / "gpu_models.json").write_text(json.dumps(result, indent=1))
    bad = [c for c, r in result["cases"].items() if "error" in r or not r.get("finite")
           or not r.get("device_entry_matches")]
    for case, r in result["cases"].items():
        t = r.get("times_ms", {})
        print(f"{case:14s} qcc {t.get('qcc', float('nan')):8.3f} ms  no graph "
              f"{t.get('qcc no graph', float('nan')):8.3f}  torch fp16 "
              f"{t.get('torch eager fp16', float('nan')):8.3f}  {r.get('error', '')}")
    return 1 if bad else 0


def hf_peer(torch, stem: str):
    """The model as PyTorch users run it: the transformers implementation of the same
    architecture (sizes of all-MiniLM-L6-v2 / SmolLM2-135M), fp16, eager (no torch.compile),
    random weights (the real ones do not travel; the timing does not depend on them)."""
    import transformers
    torch.manual_seed(0)
    if stem.startswith("minilm"):
        cfg = transformers.BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6,
                                      num_attention_heads=12, intermediate_size=1536,
                                      max_position_embeddings=512)
        model = transformers.BertModel(cfg, add_pooling_layer=False).half().cuda().eval()

        def run(feeds):  # mean pooling and L2 normalization, as in the ONNX graph
            mask = feeds["attention_mask"]
            out = model(input_ids=feeds["input_ids"], attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)
        return run
    cfg = transformers.LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                                   num_hidden_layers=30, num_attention_heads=9,
                                   num_key_value_heads=3, max_position_embeddings=8192,
                                   rms_norm_eps=1e-5, tie_word_embeddings=True)
    model = transformers.LlamaForCausalLM(cfg).half().cuda().eval()

    def run(feeds):
        extra = {"position_ids": feeds["position_ids"]} if "position_ids" in feeds else {}
        return model(input_ids=feeds["input_ids"], use_cache=False, **extra).logits
    return run


def profile(torch, fn, calls: int = 3) -> list:
    """Per-kernel device time of `calls` eager calls: [(kernel, launches, total ms)], largest first."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile
    fn()
    torch.cuda.synchronize()
    with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    totals = {}
    for e in prof.events():
        if e.device_type.name != "CUDA":
            continue
        n, ms = totals.get(e.name, (0, 0.0))
        totals[e.name] = (n + 1, ms + e.device_time_total / 1e3)
    rows = sorted(((k, n // calls, ms / calls) for k, (n, ms) in totals.items()),
                  key=lambda r: -r[2])
    return rows[:40]


# ----------------------------------------------------------------------------- here: report
def report(a) -> int:
    res, where = None, {}
    for fetched in a.fetched:  # several device runs: a later one's cases replace earlier ones
        part = json.loads((Path(fetched) / "gpu_models.json").read_text())
        res = res or part
        for case, r in part["cases"].items():
            res["cases"][case] = r
            where[case] = Path(fetched)
    lines, failed = [], []
    rows = []
    for case, r in res["cases"].items():
        stem, kind, _ = CASES[case]
        got_dir = where[case]
        t = r.get("times_ms", {})
        q, p, e = t.get("qcc"), t.get("torch eager fp16"), t.get("qcc no graph")
        hf = t.get("torch transformers fp16")
        qual, close = "", ""
        if "error" in r:
            failed.append(f"{case}: {r['error']}")
        elif not (REF / f"{case}.npz").exists():
            close = "no CPU reference here (bench/gpu_models.py prepare --refs-only)"
        elif (got_dir / f"{case}.npz").exists():
            got = dict(np.load(got_dir / f"{case}.npz"))
            ref = dict(np.load(REF / f"{case}.npz"))
            if kind == "minilm":
                fl = dict(np.load(REF / f"{stem}-{kind}-float.npz"))["sentence_embedding"]
                g, c = got["sentence_embedding"].astype(np.float64), ref["cpu_sentence_embedding"]

                def cos(x, y):
                    return np.sum(x * y, 1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
                to_cpu, q_gpu, q_cpu = cos(g, c), cos(g, fl), cos(c, fl)
                ok = to_cpu.min() >= COS_MIN and to_cpu.mean() >= COS_MEAN and \
                    abs(q_gpu.mean() - q_cpu.mean()) <= QUAL_DELTA
                close = (f"cosine to CPU mean {to_cpu.mean():.6f}, min {to_cpu.min():.5f} "
                         f"({'ok' if ok else 'FAILED'})")
                qual = (f"mean cos to float {q_gpu.mean():.6f} (CPU artifact {q_cpu.mean():.6f}, "
                        f"{len(g)} sentences)")
            elif kind == "smol":
                flr = dict(np.load(REF / f"{stem}-{kind}-float.npz"))
                fl = flr["nll"]
                d = np.abs(got["nll"] - ref["cpu_nll"]).mean()
                ppl_g, ppl_c, ppl_f = (math.exp(x.mean()) for x in (got["nll"], ref["cpu_nll"], fl))
                rel, noise = rel_l2(got["logits0"], ref["cpu_logits0"]), \
                    rel_l2(ref["cpu_logits0"], flr["logits0"])
                ok = rel <= noise and abs(ppl_g / ppl_c - 1) <= PPL_REL
                close = (f"window-0 logits rel-L2 {rel:.3f} (CPU artifact vs float {noise:.3f}), "
                         f"mean abs dNLL {d:.3f} ({'ok' if ok else 'FAILED'})")
                # paired by window: how far the GPU's mean NLL is from the CPU artifact's,
                # against the spread of that difference between windows (standard error)
                dw = (got["nll"] - ref["cpu_nll"]).mean(1)
                se = dw.std(ddof=1) / math.sqrt(len(dw)) if len(dw) > 1 else float("nan")
                qual = (f"ppl {ppl_g:.3f} (CPU artifact {ppl_c:.3f}, float {ppl_f:.3f}, "
                        f"{got['nll'].size} tokens); mean dNLL vs CPU {dw.mean():+.4f} "
                        f"+- {se:.4f} (SE over {len(dw)} windows)")
            else:
                fl = dict(np.load(REF / f"{stem}-{kind}-float.npz"))["logits"]
                rel, noise = rel_l2(got["logits"], ref["cpu_logits"]), rel_l2(ref["cpu_logits"], fl)
                ok = rel <= noise
                close = (f"logits rel-L2 {rel:.1e} (CPU artifact vs float {noise:.3f}) over "
                         f"{len(fl)} tokens ({'ok' if ok else 'FAILED'})")
                qual = "(one position: closeness only)"
            if not ok:
                failed.append(f"{case}: {close}")
        rows.append("| %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            case, " ".join(r.get("flags", [])), r.get("weights_bytes", 0) / 2**20,
            "%.3f" % q if q else "-", "%.3f" % e if e else "-", "%.3f" % hf if hf else "-",
            "%.2f" % (hf / q) if hf and q else "-", "%.3f" % p if p else "-",
            "%.2f" % (p / q) if p and q else "-", close or r.get("error", ""), qual))
    lines.append(f"Device: {res['device']}; PyTorch {res['torch']}; date "
                 f"{time.strftime('%Y-%m-%d')}. qcc: `qcc_model_run_device` on torch tensors "
                 "(CUDA graph replay; 'no graph' = eager launches). Peers, PyTorch eager fp16 "
                 "with RANDOM weights of the same shapes (the float weights do not travel; "
                 "timing only): transformers' BertModel (+ mean pooling, normalization) / "
                 "LlamaForCausalLM with the model's sizes, and the same ONNX graph run op by "
                 "op (bench/onnx_torch.py). ratio = peer ms / qcc ms (goal: >= 2). "
                 f"Median of {res['reps']} calls per method, each after a 256 MiB L2 flush, CUDA "
                 "events, methods alternating. Quality: GPU outputs fetched back and compared "
                 "here with the CPU artifact of the same recipe (the host CPU target, same flags; "
                 "-bits=4 with --act=none, the GPU's default) "
                 "and with the float model in onnxruntime.")
    lines.append("")
    lines.append("| case | qcc flags | weights MiB | qcc ms | qcc no graph ms | transformers fp16 ms "
                 "| ratio | ONNX graph in torch fp16 ms | ratio | GPU vs CPU artifact | quality |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    lines += rows
    text = "\n".join(lines) + "\n"
    profiles = []
    for case, r in res["cases"].items():
        if r.get("profile"):
            total = sum(ms for _, _, ms in r["profile"])
            # the plan's commands per call (the artifact compiled here)
            plan_path = ART / case / "model.plan.json"
            counts = ""
            if plan_path.is_file():
                ops = [c["op"] for c in json.loads(plan_path.read_text())["commands"]]
                counts = (f"{ops.count('launch')} kernel launches + {ops.count('copy')} copies "
                          "per call; ")
            profiles.append(f"{case}: {counts}top kernels of one eager call (ms, launches): "
                            + "; ".join(f"{name[:40]} {ms:.3f} x{n}"
                                        for name, n, ms in r["profile"][:8])
                            + f" (the 40 largest total {total:.3f} ms)")
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "report.md").write_text(text + "\n" + "\n".join(profiles) + "\n")
    print(text)
    print("\n".join(profiles))
    for f in failed:
        print("FAILED", f)
    if a.update:
        path = ROOT / "BENCHMARKS.md"
        doc = path.read_text()
        block = BEGIN + "\n" + text + END
        if BEGIN in doc:
            start, stop = doc.index(BEGIN), doc.index(END) + len(END)
            doc = doc[:start] + block + doc[stop:]
        else:
            doc = doc.rstrip("\n") + "\n\n## GPU: whole models\n\nCommand: see bench/gpu_models.py " \
                "(prepare, pack here; scripts/gpu/models.sh on the device; report here).\n\n" \
                + block + "\n"
        path.write_text(doc)
        print("updated", path)
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("-k", default="", help="comma list of case-name substrings")
    p.add_argument("--sentences", type=int, default=256)
    p.add_argument("--windows", type=int, default=128)
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--refs-only", action="store_true", help="only the references kept here")
    p.add_argument("--gpu-only", action="store_true", help="only the sm_80 artifacts")
    p.add_argument("--qcc-arg", action="append", default=[], help="extra qcc flag for sm_80")
    p.add_argument("--qcc", help="qcc binary for the sm_80 artifacts (default: QCC_BUILD_DIR's)")
    p.add_argument("--target", default="sm_80", choices=["sm_80", "sm_90a"],
                   help="GPU target of the artifacts (sm_90a: W8A8 GEMMs on wgmma, H100/H200 only)")
    k = sub.add_parser("pack")
    k.add_argument("-k", default="")
    k.add_argument("--part-mib", type=int, default=56)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--runtime", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("-k", default="")
    r.add_argument("--reps", type=int, default=30)
    r.add_argument("--warmup", type=int, default=3)
    b = sub.add_parser("ab", help="(device) two compilers' artifacts: outputs and latency")
    b.add_argument("--dir", required=True, help="artifacts A (e.g. before)")
    b.add_argument("--dir-b", required=True, help="artifacts B (e.g. after)")
    b.add_argument("--runtime", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("-k", default="")
    b.add_argument("--reps", type=int, default=100)
    b.add_argument("--warmup", type=int, default=5)
    o = sub.add_parser("report")
    o.add_argument("fetched", nargs="+", help="folders of fetched device files")
    o.add_argument("--out", default=str(ROOT / "build-gpu"))
    o.add_argument("--update", action="store_true")
    a = ap.parse_args()
    return {"prepare": prepare, "pack": pack, "run": device_run, "ab": device_ab,
            "report": report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
