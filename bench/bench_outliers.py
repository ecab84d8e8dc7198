#!/usr/bin/env python3
"""Run-time cost of mixed-precision outlier retention (--keep-outliers): whole-model latency of
qcc int8 (per-token dynamic activations) without and with --keep-outliers=N|auto, same machine,
same run (MEASURING.md).

Models and inputs: those of bench/bench_models.py (minilm: seq 128 batch 1; smol128: SmolLM2-135M
over 128 tokens). The channel ranges come from the calibration sets bench/quality.py writes
(CACHE/calib/minilm-valid64, smollm2-valid16; run quality.py first). Timing as bench_models.py:
--rounds rounds, each timing every method once in an order reversed every other round; qcc = the
median printed by `qcc-run --repeat N --warmup 2 --threads T`; a cell is the median over rounds;
the ratio is against plain int8 from the same rounds; each (model, threads) row first waits up to
--max-wait s for a 1-minute load average below --max-load, and the load before / after is printed
(other agents share this machine). Also prints each artifact's weight file size. Artifacts are
compiled once per compiler build (eval_common's cache: set QCC_EVAL_CACHE to a folder of your own,
or pass --fresh, after changing the compiler).

  .venv/bin/python bench/bench_outliers.py [--models minilm,smol128] [--keep 16,auto] [--threads 1,2]
        [--rounds 5] [--max-load 1.5 --max-wait 600] [--fresh]
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

H = E.H
CALIB = {"minilm": "minilm-valid64", "smol128": "smollm2-valid16"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="minilm,smol128")
    ap.add_argument("--keep", default="16,auto", help="comma list of --keep-outliers values")
    ap.add_argument("--threads", default="2", help="comma list of thread counts")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--max-load", type=float, default=1.5)
    ap.add_argument("--max-wait", type=float, default=600)
    ap.add_argument("--fresh", action="store_true", help="recompile cached artifacts")
    a = ap.parse_args(argv)
    print(f"machine: {E.machine_line()}; threads {a.threads}; rounds {a.rounds} x {a.repeat} runs")
    for name in a.models.split(","):
        if name not in CALIB:
            print(f"bench_outliers: error: unknown model {name!r} (minilm, smol128)", file=sys.stderr)
            return 2
        calib = E.CACHE / "calib" / CALIB[name]
        if not calib.is_dir():
            print(f"bench_outliers: error: {calib} missing: run bench/quality.py first", file=sys.stderr)
            return 1
        src, feeds, out_name = BMOD.model_and_feeds(name)
        ref = H.ort_run(str(src), feeds, threads=2, optimize=False)[out_name]
        work = Path(tempfile.mkdtemp(prefix=f"qcc-bench-outliers-{name}-"))
        inputs = H.save_inputs(feeds, work / "in")
        flags = {"int8": ["-bits=8", "--act=dynamic"]}
        for k in a.keep.split(","):
            flags[f"int8+keep{k}"] = ["-bits=8", "--act=dynamic", f"--calib={calib}", f"--keep-outliers={k}"]
        prefixes = {}
        for k, f in flags.items():
            prefixes[k], _ = E.qcc_artifact(src, f"bench-{k}", f, fresh=a.fresh)
            r = H.run_artifact(prefixes[k], inputs, work / "check", threads=2)
            if not r.ok:
                raise RuntimeError(f"qcc-run {name} {k}: {r.first_error_line()}")
            got = H.load_outputs(work / "check", [out_name])[out_name]
            size = Path(str(prefixes[k]) + ".weights").stat().st_size
            print(f"{name} qcc {k}: cosine vs float {BMOD.cosine(got, ref):.6f}; weights {size / 1e6:.2f} MB")
        methods = list(flags)
        for threads in (int(t) for t in a.threads.split(",")):
            times = {m: [] for m in methods}
            load0 = E.wait_quiet(a.max_load, max_wait=a.max_wait)
            for rd in range(a.rounds):
                for m in (methods if rd % 2 == 0 else methods[::-1]):
                    times[m].append(H.time_artifact(prefixes[m], inputs, work / "out", a.repeat, 2,
                                                    threads=threads))
            med = {m: statistics.median(v) for m, v in times.items()}
            print(f"{name} {threads}T (load {load0:.1f} -> {E.load_avg():.1f}): " + "; ".join(
                f"{m} {v:.2f} ms ({v / med['int8']:.3f}x)" for m, v in med.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
