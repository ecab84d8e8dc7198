#!/usr/bin/env python3
"""Run-time cost of SmoothQuant (--smooth): whole-model latency of qcc int8 (per-token dynamic
activations) without and with --smooth, next to onnxruntime's int8 quantize_dynamic (per-channel
weights, the like-for-like peer), same machine, same run (MEASURING.md).

Models and inputs: those of bench/bench_models.py (minilm: seq 128 batch 1; smol128: SmolLM2-135M
over 128 tokens). --smooth takes its channel ranges from the calibration sets bench/quality.py
writes (CACHE/calib/minilm-valid64, smollm2-valid16; run quality.py first) and the per-model
alpha of quality.py's "+ SmoothQuant" rows. Timing as bench_models.py: --rounds rounds, each
timing every method once in an order reversed every other round; qcc = the median printed by
`qcc-run --repeat N --warmup 2 --threads T`, onnxruntime = median of N session.run calls; a cell
is the median over rounds; the 1-minute load average before / after is printed (other agents
share this machine).

  .venv/bin/python bench/bench_smooth.py [--models minilm,smol128] [--threads 2] [--rounds 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_models as BMOD  # noqa: E402
import eval_common as E  # noqa: E402
import quality as Q  # noqa: E402

H = E.H
CALIB = {"minilm": ("minilm-valid64", Q.SMOOTH_MINILM), "smol128": ("smollm2-valid16", Q.SMOOTH_SMOL)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="minilm,smol128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args(argv)
    print(f"machine: {E.machine_line()}; threads {a.threads}; rounds {a.rounds} x {a.repeat} runs")
    for name in a.models.split(","):
        if name not in CALIB:
            print(f"bench_smooth: error: unknown model {name!r} (minilm, smol128)", file=sys.stderr)
            return 2
        calib_name, alpha = CALIB[name]
        calib = E.CACHE / "calib" / calib_name
        if not calib.is_dir():
            print(f"bench_smooth: error: {calib} missing: run bench/quality.py first", file=sys.stderr)
            return 1
        src, feeds, out_name = BMOD.model_and_feeds(name)
        ref = H.ort_run(str(src), feeds, threads=2, optimize=False)[out_name]
        work = Path(tempfile.mkdtemp(prefix=f"qcc-bench-smooth-{name}-"))
        inputs = H.save_inputs(feeds, work / "in")
        flags = {"int8": ["-bits=8", "--act=dynamic"],
                 "int8+smooth": ["-bits=8", "--act=dynamic", f"--calib={calib}", f"--smooth={alpha}"]}
        prefixes = {}
        for k, f in flags.items():
            prefixes[k], _ = E.qcc_artifact(src, f"bench-{k}", f)
            r = H.run_artifact(prefixes[k], inputs, work / "check", threads=2)
            got = H.load_outputs(work / "check", [out_name])[out_name]
            print(f"{name} qcc {k}: cosine vs float {BMOD.cosine(got, ref):.6f}")
        methods = list(flags)
        try:  # the peer's quantizer can fail (SmolLM2: an invalid model); say so, go on
            ort_path, _ = E.ort_model(src, "int8dyn")
            sess = H.ort_session(str(ort_path), threads=a.threads, optimize=True)
            methods.append("ort int8")
        except Exception as e:  # noqa: BLE001
            print(f"{name}: onnxruntime int8 not available: {str(e).splitlines()[0][:120]}")
        times = {m: [] for m in methods}
        load0 = E.load_avg()
        for rd in range(a.rounds):
            for m in (methods if rd % 2 == 0 else methods[::-1]):
                if m == "ort int8":
                    times[m].append(H.time_ort(sess, feeds, a.repeat, 2))
                    H.settle()  # onnxruntime's spinning workers must not share the next qcc-run's CPUs
                    continue
                times[m].append(H.time_artifact(prefixes[m], inputs, work / "out", a.repeat, 2,
                                                threads=a.threads))
        med = {m: statistics.median(v) for m, v in times.items()}
        print(f"{name} (alpha {alpha}; load {load0:.1f} -> {E.load_avg():.1f}): " + "; ".join(
            f"{m} {v:.2f} ms" for m, v in med.items()) +
            f"; smooth / plain {med['int8+smooth'] / med['int8']:.3f}" +
            (f"; ort / qcc+smooth {med['ort int8'] / med['int8+smooth']:.2f}, ort / qcc "
             f"{med['ort int8'] / med['int8']:.2f}" if "ort int8" in med else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
