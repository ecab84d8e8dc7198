#!/usr/bin/env python3
"""Quantized convolutions: qcc -bits=8 / -bits=4 against onnxruntime's dynamic int8 (ConvInteger)
and both float models, same machine, same run.

Models (random weights; speed does not depend on the values): the small CNN of bench_fp32.py
(1x3x224x224, stride-2 stem, depthwise, 1x1 and 3x3 convs) and a ResNet basic block at 56x56
(two 3x3 64->64 convs with BatchNorm, Relu and the residual add). For each thread count, every
method is timed once per round, the order reversed every other round; a cell is the median over
rounds of each round's median of N calls after warm-up, both sides timed in one Python process
around each call: qcc through the runtime C API (eval_common.time_qcc, inputs and outputs bound
once), onnxruntime through run_with_iobinding (eval_common.time_ort_bound); --qcc-run restores the
older method (the median `qcc-run --repeat N` prints against plain session.run). cos: cosine of the outputs against
onnxruntime's float model on the same input. Conv weights quantized by qcc are listed from its
--report (layers with K*N < 4096 and depthwise convolutions stay float).

  .venv/bin/python bench/bench_conv.py [--rounds 5] [--repeat 20] [--threads 1,2] [--realtime] [--qcc-run]

--realtime times at SCHED_FIFO priority 1 (root only; eval_common.realtime: qcc-run and the
onnxruntime sessions' threads inherit it, compiles stay at normal priority), so that other
processes' load hardly takes the CPUs from the timed calls.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "test" / "E2E"))
sys.path.insert(0, str(ROOT / "bench"))
import qcc_harness as H  # noqa: E402
from bench_fp32 import cnn  # noqa: E402
from eval_common import QccModel, load_avg, realtime, time_ort_bound, time_qcc  # noqa: E402
from models import G, normal  # noqa: E402

QCC_METHODS = {"qcc fp32": ["-bits=32"], "qcc int8": ["-bits=8", "--act=dynamic"],
               "qcc int4 g32": ["-bits=4", "--group-size=32"]}


def resnet_block(rng):
    g = G(rng)
    h = g.op("Relu", g.bn(g.conv("x", 64, 64, 3, bias=False), 64))
    h = g.bn(g.conv(h, 64, 64, 3, bias=False), 64)
    g.out("y", g.op("Relu", g.op("Add", h, "x")))
    feeds = {"x": normal(rng, 1, 64, 56, 56)}
    return g.model(feeds, ["y"]), feeds


MODELS = {"small CNN 1x3x224x224": cnn, "ResNet basic block 1x64x56x56": resnet_block}


def cosine(a, b) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def time_methods(a, t, src, ort_q, prefixes, inputs, feeds, title):
    """Per-round medians (ms) of every method at t threads, the order reversed every other round;
    None when a qcc run gives no timing."""
    sessions = {"ort fp32": H.ort_session(str(src), threads=t, optimize=True),
                "ort int8 (ConvInteger)": H.ort_session(str(ort_q), threads=t, optimize=True)}
    times = {k: [] for k in list(QCC_METHODS) + list(sessions)}
    order = list(times)
    loaded = {} if a.qcc_run else {label: QccModel(prefixes[label], threads=t) for label in QCC_METHODS}
    for rnd in range(a.rounds):
        for label in (order if rnd % 2 == 0 else order[::-1]):
            H.settle()  # the previous method's spinning workers must not share this one's CPUs
            if label in sessions:
                times[label].append(H.time_ort(sessions[label], feeds, a.repeat, a.warmup) if a.qcc_run
                                    else time_ort_bound(sessions[label], feeds, a.repeat, a.warmup))
                continue
            if label in loaded:
                times[label].append(time_qcc(loaded[label], feeds, a.repeat, a.warmup))
                continue
            rq = H.run_artifact(prefixes[label], inputs, prefixes[label].parent / "out", repeat=a.repeat,
                                warmup=a.warmup, threads=t)
            tq = H.parse_timing(rq.stdout) if rq.ok else None
            if tq is None:
                print(f"bench_conv: error: {title} {label}: no timing", file=sys.stderr)
                return None
            times[label].append(tq[1])
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--realtime", action="store_true", help="time at SCHED_FIFO priority 1 (root only)")
    ap.add_argument("--qcc-run", action="store_true",
                    help="time qcc by one qcc-run process per round and onnxruntime by plain session.run")
    a = ap.parse_args(argv)
    if not H.tools_present():
        print(f"bench_conv: error: {H.QCC} / {H.QCC_RUN} not built (run scripts/setup.sh)", file=sys.stderr)
        return 1
    from onnxruntime.quantization import QuantType, quantize_dynamic
    work = Path(tempfile.mkdtemp(prefix="qcc-bench-conv-"))
    threads = [int(t) for t in a.threads.split(",") if t]
    print(f"load average at the start {load_avg():.2f}" + ("; timed at SCHED_FIFO priority 1" if a.realtime else ""))
    header = "| model | T | " + " | ".join(list(QCC_METHODS) + ["ort fp32", "ort int8 (ConvInteger)"]) + \
             " | qcc int8 / ort int8 | quantized convs |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for title, builder in MODELS.items():
        model, feeds = builder(np.random.default_rng(0))
        d = work / title.split()[0]
        d.mkdir()
        src = d / "model.onnx"
        onnx.save(model, src)
        ort_q = d / "ort_int8.onnx"
        quantize_dynamic(str(src), str(ort_q), weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
        ref = H.ort_run(str(src), feeds)
        name = next(iter(ref))
        inputs = H.save_inputs(feeds, d / "in")
        prefixes, cos, quantized = {}, {}, ""
        for label, flags in QCC_METHODS.items():
            prefix = d / label.replace(" ", "_") / "m"
            report = prefix.parent / "report.json"
            r = H.compile_model(src, prefix, target="host", bits=32, extra=flags + [f"--report={report}"])
            if not r.ok:
                print(f"bench_conv: error: {title} {label}: {r.first_error_line()}", file=sys.stderr)
                return 1
            rr = H.run_artifact(prefix, inputs, prefix.parent / "out")
            cos[label] = cosine(H.load_outputs(prefix.parent / "out", [name])[name], ref[name]) if rr.ok else float("nan")
            if label == "qcc int8":
                layers = json.loads(report.read_text())["layers"]
                quantized = f"{sum(1 for l in layers if l['bits'] == 8)} of {len(layers)}"
            prefixes[label] = prefix
        cos["ort fp32"] = 1.0
        cos["ort int8 (ConvInteger)"] = cosine(H.ort_run(str(ort_q), feeds)[name], ref[name])
        for t in threads:
            with realtime(a.realtime):
                times = time_methods(a, t, src, ort_q, prefixes, inputs, feeds, title)
            if times is None:
                return 1
            med = {k: statistics.median(v) for k, v in times.items()}
            cells = [f"{med[k]:.3f} (cos {cos[k]:.4f})" for k in times]
            lines.append(f"| {title} | {t} | " + " | ".join(cells) +
                         f" | {med['qcc int8'] / med['ort int8 (ConvInteger)']:.2f} | {quantized} |")
            print(lines[-1], flush=True)
    print(f"load average at the end {load_avg():.2f}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
