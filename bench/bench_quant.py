#!/usr/bin/env python3
"""Quantized matmul speed of qcc against onnxruntime (CPU), same machine, same run.

Rows: MatMul x[M,K] @ W[K,N] (W an fp32 initializer, random normal, scale 1/sqrt(K)) for
(K,N) in {(4096,4096), (384,1536), (1536,384)} (the latter two: all-MiniLM-L6-v2's FFN) and
M in {1, 16, 128}, plus one cold-weights GEMV row (M=1, 8 independent 4096x4096 weights side by
side, more bytes than the L3 holds, so its GB/s are DRAM reads; key k4096_n4096_m1_x8). Each row is
compiled five times with qcc (`-target=x86-64-vnni`), each next to its onnxruntime peer made from the
same ONNX file:
  fp32    `-bits=32`                                  vs the fp32 model;
  int8    `-bits=8` (per-channel weights, int8 per-token dynamic activations, vpdpbusd)
          vs `quantize_dynamic(weight_type=QInt8)` (DynamicQuantizeLinear + MatMulInteger);
  int4    `-bits=4 --group-size=128` (symmetric groups, int8 activations: W4A8)
          vs `MatMulNBitsQuantizer(block_size=128, is_symmetric=True, accuracy_level=4)` (int8
          activations too);
  int4w   `-bits=4 --group-size=128 --act=none` (weight-only: f32 activations)
          vs the same MatMulNBits with accuracy_level unset (fp32 compute);
  int4a   `-bits=4 --group-size=128 --asym` (zero points, W4A8)
          vs MatMulNBits is_symmetric=False, accuracy_level=4.

Correctness first (a fast wrong answer is not a result): each qcc artifact's output on a fresh
random input vs the float64 reference x @ W: fp32 needs rel-L2 <= 1e-5, int8 cosine > 0.999, the
int4 ones cosine > 0.99; a row below that is reported as FAILED and not timed.

Timing: both runtimes in this one Python process. For each row and thread count T, each qcc
artifact is loaded once through the runtime's C API (eval_common.QccModel, T threads) next to its
onnxruntime session (intra_op_num_threads=T, inter_op 1, graph optimizations on); --rounds rounds,
one round times every method one after the other (qcc/ort blocks, the order alternating qcc/ort
and reversed every other round). A block is W warm-up calls then N timed calls back to back, each
timed in Python (perf_counter) around the one call, inputs and outputs bound once on both sides:
qcc_model_run through ctypes (eval_common.time_qcc), onnxruntime's run_with_iobinding
(eval_common.time_ort_bound); the block's value is the median of its N calls. A cell is the median
over rounds of the block medians; ratio = qcc / onnxruntime (< 1: qcc faster); the spread of the
qcc/ort ratio over the rounds is reported too. After every block the script waits until this
process is idle again (H.settle()): onnxruntime's intra-op workers keep spinning after a run
returns (allow_spinning, its default), and so do qcc's for QCC_SPIN_US; a block started right away
would share the CPUs with them. --qcc-run restores the older method: qcc = the median printed by
one `qcc-run --repeat N --warmup W --threads T` process per block, onnxruntime = plain session.run
(feeds converted and outputs allocated per call).

Limits: bench/machine_limits.c (built with clang here) measures DRAM read bandwidth (512 MiB
buffer), L3-resident read bandwidth (16 MiB) and the vpdpbusd peak, for 1..T threads; M=1 rows
show achieved weight-read GB/s next to them, M=128 rows int8 GOP/s next to the peak.

  .venv/bin/python bench/bench_quant.py [--rounds 5] [--repeat 20] [--threads 1,2] [-k k384,k4096_n4096_m1]
                                        [--prec int4,int4a] [--target x86-64] [--quick] [--update] [--qcc-run]
                                        [--realtime]

--target x86-64 compiles for AVX2 hosts without VNNI (the vpmaddwd kernels; the int8 compute limit is
then machine_limits.c's vpmaddwd probe). --update is meant for the x86-64-vnni table only.

--realtime times every block at SCHED_FIFO priority 1 (root only; compiles stay at normal
priority), so that other processes on a shared machine do not take the CPUs from the timed calls;
both runtimes get it alike.

Writes build/bench_quant.md; --update also replaces the block between <!-- bench-quant:begin -->
and <!-- bench-quant:end --> in BENCHMARKS.md (adding the section after the fp32 block if needed).
"""
from __future__ import annotations

import argparse
import datetime
import math
import re
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "test" / "E2E"))
import qcc_harness as H  # noqa: E402
from models import G, normal  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import eval_common as E  # noqa: E402

GROUP = 128
COS_MIN = {"int8": 0.999, "int4": 0.99, "int4w": 0.99, "int4a": 0.99}
FP32_REL_L2 = 1e-5

SHAPES = [(4096, 4096), (384, 1536), (1536, 384)]
MS = [1, 16, 128]
# Cold-weights GEMV: COLD_COPIES independent K x N weights side by side (y = concat_i(x @ W_i)), so
# one call reads them all once and more weight bytes than the L3 holds (int4: 8 x 8.4 MB = 67 MB,
# twice a 32 MB L3) run between two reads of the same weight: the M=1 GB/s of this row are DRAM
# numbers, the goal's measure.
COLD = (4096, 4096)
COLD_COPIES = 8
QUICK_SHAPES = [(4096, 4096), (384, 1536)]
QUICK_MS = [1, 128]
PRECS = ["fp32", "int8", "int4", "int4w", "int4a"]
GS = f"--group-size={GROUP}"
QCC_FLAGS = {"fp32": (32, []), "int8": (8, []), "int4": (4, [GS]), "int4w": (4, [GS, "--act=none"]),
             "int4a": (4, [GS, "--asym"])}
# onnxruntime peer of each qcc method: how its model is made from the float model.
PEER_DESC = {"fp32": "fp32 model", "int8": "quantize_dynamic QInt8",
             "int4": "MatMulNBits sym a4", "int4w": "MatMulNBits sym (fp32 compute)",
             "int4a": "MatMulNBits asym a4"}
LABEL = {"fp32": "fp32", "int8": "int8", "int4": "int4 W4A8", "int4w": "int4 weight-only",
         "int4a": "int4 asym W4A8"}

BEGIN, END = "<!-- bench-quant:begin -->", "<!-- bench-quant:end -->"
FP32_END = "<!-- bench-fp32:end -->"
SECTION = f"""## Quantized matmuls: qcc vs onnxruntime

Command: `.venv/bin/python bench/bench_quant.py --update`

{BEGIN}
(not measured yet)
{END}
"""
BENCHMARKS_TEMPLATE = f"""# qcc benchmarks

Every number here is generated by a script in this repository; rerun it to reproduce. Never edit
the blocks between the markers by hand.

{SECTION}"""


def row_key(k, n, m, copies=1):
    return f"k{k}_n{n}_m{m}" + (f"_x{copies}" if copies > 1 else "")


def build_matmul(rng, m, k, n, copies=1):
    """(model, feeds, W as float64 [K, N * copies]): y = x @ W, or with copies > 1 the concatenation of
    x @ W_i over independent weights W_i."""
    g = G(rng)
    names = [g.w(f"W{i}" if copies > 1 else "W", k, n) for i in range(copies)]
    if copies == 1:
        g.out("y", g.op("MatMul", "x", names[0]))
    else:
        g.out("y", g.op("Concat", *[g.op("MatMul", "x", w) for w in names], axis=-1))
    feeds = {"x": normal(rng, m, k)}
    W = np.concatenate([g.inits[w] for w in names], axis=1).astype(np.float64)
    return g.model(feeds, ["y"]), feeds, W


def ort_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


def ort_int4(src: Path, dst: Path, accuracy_level, symmetric: bool = True) -> None:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    q = MatMulNBitsQuantizer(onnx.load(str(src)), block_size=GROUP, is_symmetric=symmetric,
                             accuracy_level=accuracy_level)
    q.process()
    q.model.save_model_to_file(str(dst), False)


def cosine(a, b) -> float:
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / den if den > 0 and np.all(np.isfinite(a)) else -math.inf


def weight_bytes(prec, k, n) -> int:
    if prec == "fp32":
        return 4 * k * n
    if prec == "int8":
        return k * n + 4 * n                         # int8 weights + one fp32 scale per column
    zp = 4 if prec == "int4a" else 0                 # asym: an int32 zero point per group too
    return k * n // 2 + (4 + zp) * n * math.ceil(k / GROUP)  # packed nibbles + fp32 scale per group


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 5; >= 5 for reported numbers)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per round per method (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up runs per round per method")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("-k", default="",
                    help="only rows whose key (e.g. k4096_n4096_m1) matches this regular expression (a comma list: "
                         "any of them; k4096_n4096_m1$ leaves out the cold row k4096_n4096_m1_x8)")
    ap.add_argument("--target", default="x86-64-vnni",
                    help="qcc -target (default x86-64-vnni; x86-64 for AVX2 hosts without VNNI, whose int8 "
                         "compute limit is then the vpmaddwd probe)")
    ap.add_argument("--prec", default=",".join(PRECS),
                    help=f"comma list of the methods to compile and time (default all: {','.join(PRECS)})")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 2 rounds x 10 runs, shapes 4096x4096 and 384x1536, M in {1,128}")
    ap.add_argument("--update", action="store_true", help="replace the block in BENCHMARKS.md")
    ap.add_argument("--realtime", action="store_true",
                    help="time at SCHED_FIFO priority 1 (root; other processes' load then hardly shares the CPUs)")
    ap.add_argument("--qcc-run", action="store_true",
                    help="time qcc by one qcc-run process per block and onnxruntime by plain session.run "
                         "(the method of the tables before session 8)")
    ap.add_argument("--md", type=Path, default=H.BUILD_DIR / "bench_quant.md")
    ap.add_argument("--keep", type=Path, default=None, help="keep models/artifacts in this folder")
    a = ap.parse_args(argv)
    rounds = a.rounds if a.rounds is not None else (2 if a.quick else 5)
    precs = [p for p in PRECS if p in a.prec.split(",")]
    unknown = sorted(set(a.prec.split(",")) - set(PRECS))
    if unknown or not precs:
        print(f"bench_quant: error: --prec takes a comma list of {','.join(PRECS)}, got {a.prec!r}", file=sys.stderr)
        return 1
    if a.update and a.target != "x86-64-vnni":
        print("bench_quant: error: --update writes the x86-64-vnni table; use --md for other targets", file=sys.stderr)
        return 1
    if a.update and precs != PRECS:
        print("bench_quant: error: --update needs every method (no --prec)", file=sys.stderr)
        return 1
    repeat = a.repeat if a.repeat is not None else (10 if a.quick else 20)
    if not H.tools_present():
        print(f"bench_quant: error: {H.QCC} / {H.QCC_RUN} not built (run scripts/setup.sh)", file=sys.stderr)
        return 1
    import onnxruntime as ort
    threads = [int(t) for t in a.threads.split(",") if t]
    work = a.keep or Path(tempfile.mkdtemp(prefix="qcc-bench-quant-"))
    work.mkdir(parents=True, exist_ok=True)
    with E.realtime(a.realtime):
        limits = measure_limits(work, max(threads), vnni=a.target == "x86-64-vnni")
    if limits is None:
        print("bench_quant: error: cannot build or run bench/machine_limits.c (needs clang; AVX-512 VNNI for "
              "-target=x86-64-vnni, else AVX2)",
              file=sys.stderr)
        return 1
    print("machine limits: " + ", ".join(f"{n} T={t} {v:g}" for (n, t), v in sorted(limits.items())), flush=True)
    shapes, ms = (QUICK_SHAPES, QUICK_MS) if a.quick else (SHAPES, MS)
    specs = [(k, n, m, 1) for (k, n) in shapes for m in ms]
    if not a.quick:
        specs.append((*COLD, 1, COLD_COPIES))
    rows, failures = [], []
    for (k, n, m, copies) in specs:
        key = row_key(k, n, m, copies)
        if not any(re.search(f, key) for f in a.k.split(",")):
            continue
        rng = np.random.default_rng(1000 * k + 10 * n + m + copies - 1)
        model, feeds, W = build_matmul(rng, m, k, n, copies)
        d = work / key
        d.mkdir(exist_ok=True)
        mpath = d / "model.onnx"
        onnx.save(model, mpath)

        # ---- build everything
        ort_paths = {p: d / f"ort_{p}.onnx" for p in PRECS}
        ort_paths["fp32"] = mpath
        if "int8" in precs:
            ort_int8(mpath, ort_paths["int8"])
        for p, level, sym in (("int4", 4, True), ("int4w", None, True), ("int4a", 4, False)):
            if p in precs:
                ort_int4(mpath, ort_paths[p], level, symmetric=sym)
        prefixes, compile_s, bad = {}, {}, []
        for p in precs:
            bits, extra = QCC_FLAGS[p]
            prefix = d / f"qcc_{p}" / "model"
            r = H.compile_model(mpath, prefix, target=a.target, bits=bits, extra=extra, timeout=1800)
            if not r.ok:
                bad.append(f"qcc {p} compile failed: {r.first_error_line()}")
                continue
            prefixes[p], compile_s[p] = prefix, r.seconds

        # ---- correctness on a fresh input (not the timing input), outputs poisoned first
        cx = {"x": normal(np.random.default_rng(rng.integers(1 << 31)), m, k)}
        ref = cx["x"].astype(np.float64) @ W
        cin = H.save_inputs(cx, d / "check_in")
        cos, ort_cos, rel = {}, {}, math.inf
        for p, prefix in prefixes.items():
            od = H.fresh_dir(d / f"check_out_{p}")
            rr = H.run_artifact(prefix, cin, od, threads=1, timeout=600)
            got = H.load_outputs(od, ["y"])["y"] if rr.ok else None
            if got is None or got.shape != ref.shape:
                bad.append(f"qcc {p} run: " + (rr.first_error_line() if not rr.ok else
                                               f"output {None if got is None else got.shape} != {ref.shape}"))
                continue
            cos[p] = cosine(got, ref)
            if p == "fp32":
                rel = H.rel_l2(got, ref) if np.all(np.isfinite(got)) else math.inf
                if not rel <= FP32_REL_L2:
                    bad.append(f"qcc fp32 rel-L2 {rel:.2e} > {FP32_REL_L2:.0e}")
            elif not cos[p] > COS_MIN[p]:
                bad.append(f"qcc {p} cosine {cos[p]:.5f} <= {COS_MIN[p]}")
        for p in precs:
            if p == "fp32":
                continue
            ort_cos[p] = cosine(H.ort_run(str(ort_paths[p]), cx, optimize=True)["y"], ref)
        print(f"{key}: check qcc fp32 rel-L2 {rel:.1e}; cosine qcc (ort) " +
              ", ".join(f"{p} {cos.get(p, math.nan):.5f} ({ort_cos[p]:.5f})" for p in precs if p != "fp32") +
              "; compile s " + ", ".join(f"{p} {s_:.2f}" for p, s_ in compile_s.items()), flush=True)
        if bad:
            msg = f"{key}: FAILED: " + "; ".join(bad)
            print("!" * 8 + " " + msg, flush=True)
            failures.append(msg)
            continue

        # ---- timing
        inputs = H.save_inputs(feeds, d / "in")
        out_dir = d / "out"
        out_dir.mkdir(exist_ok=True)
        for t in threads:
            with E.realtime(a.realtime):
                sess = {p: H.ort_session(str(ort_paths[p]), threads=t, optimize=True) for p in precs}
                qm = {} if a.qcc_run else {p: E.QccModel(prefixes[p], threads=t) for p in precs}
                meds = {(s_, p): [] for s_ in ("qcc", "ort") for p in precs}
                settles = []
                err = None
                for rd in range(rounds):
                    order = [(s_, p) for p in precs for s_ in (("qcc", "ort") if rd % 2 == 0 else ("ort", "qcc"))]
                    if rd % 2:
                        order.reverse()
                    for s_, p in order:
                        if s_ == "qcc" and not a.qcc_run:
                            meds[s_, p].append(E.time_qcc(qm[p], feeds, repeat, a.warmup))
                            H.settle()
                        elif s_ == "qcc":
                            rq = H.run_artifact(prefixes[p], inputs, out_dir, repeat=repeat, warmup=a.warmup,
                                                threads=t, timeout=1800)
                            tq = H.parse_timing(rq.stdout) if rq.ok else None
                            if tq is None:
                                err = f"qcc-run {p} --threads {t}: " + (rq.first_error_line() if not rq.ok
                                                                        else "no timing line")
                                break
                            meds[s_, p].append(tq[1])
                        else:
                            meds[s_, p].append(H.time_ort(sess[p], feeds, repeat, a.warmup) if a.qcc_run
                                               else E.time_ort_bound(sess[p], feeds, repeat, a.warmup))
                            settles.append(H.settle())
                    if err:
                        break
                for m_ in qm.values():
                    m_.close()
                if err:
                    failures.append(f"{key}: {err}")
                    print(f"!!!!!!!! {key}: {err}", flush=True)
                    continue
                med = {sp: statistics.median(v) for sp, v in meds.items()}
                spread = {p: (min(q / o for q, o in zip(meds["qcc", p], meds["ort", p])),
                              max(q / o for q, o in zip(meds["qcc", p], meds["ort", p]))) for p in precs}
                row = dict(key=key, k=k, n=n * copies, copies=copies, m=m, threads=t, med=med, spread=spread, cos=cos,
                           ort_cos=ort_cos, compile=compile_s, limits=limits)
                rows.append(row)
                print(f"{key:18s} T={t}: " + "  ".join(
                    f"{p} {med['qcc', p]:.3f}/{med['ort', p]:.3f} ({med['qcc', p] / med['ort', p]:4.2f})"
                    for p in precs) + "  " + limit_cell(row) +
                    f"  settle after ort max {max(settles, default=0) * 1e3:.0f} ms", flush=True)
                if copies > 1:  # the cold GEMV: every round's qcc read rate against this run's DRAM probe
                    dram = limits["dram_read_gbs", t]
                    for p in precs:
                        gbs = [weight_bytes(p, k, n * copies) / ms / 1e6 for ms in meds["qcc", p]]
                        print(f"  {p} qcc per round: " + ", ".join(f"{g:.1f} GB/s ({100 * g / dram:.0f}%)" for g in gbs),
                              flush=True)

    cmd = "bench/bench_quant.py " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    lim = ", ".join(f"{t} thread{'s' if t > 1 else ''}: DRAM {limits['dram_read_gbs', t]:.1f} GB/s, "
                    f"L3 {limits['l3_read_gbs', t]:.1f} GB/s, {_ops_probe(limits)[1]} "
                    f"{limits[_ops_probe(limits)[0], t]:.0f} GOP/s" for t in threads)
    lines = [f"Machine: {H.cpu_model_name()} ({_ncpu()} logical CPUs); date: {datetime.date.today().isoformat()}; "
             f"target: {a.target}; command: `{cmd.strip()}`; threads: {', '.join(map(str, threads))}; rounds: {rounds}; "
             f"onnxruntime {ort.__version__} (CPU, graph optimizations on); load average at the start "
             f"{_load():.2f} (MEASURING.md: compare ratios, not absolute times, when other work runs)" +
             ("; timed at SCHED_FIFO priority 1 (--realtime: other processes got at most 5% of the CPUs "
              "during the timed calls)." if a.realtime else "."),
             "",
             f"Measured limits (bench/machine_limits.c, best of 5): {lim}.",
             "",
             f"MatMul x[M,K] @ W[K,N], W a random-normal fp32 initializer. Each cell: qcc ms / onnxruntime ms "
             f"(ratio qcc/ort; < 1: qcc faster); the pairs: " +
             "; ".join(f"{LABEL[p]}: qcc `-bits={QCC_FLAGS[p][0]}{''.join(' ' + f for f in QCC_FLAGS[p][1])}` vs "
                       f"ort {PEER_DESC[p]}" for p in PRECS) +
             f" (qcc int8 activations are per-token dynamic). Median over {rounds} rounds; a round times all "
             f"methods one after the other (order alternating qcc/ort, reversed every other round). " +
             (f"qcc = the median printed by one `qcc-run --repeat {repeat} --warmup {a.warmup} --threads T` process "
              f"per round (its own timer around the model call), onnxruntime = median of {repeat} `session.run` "
              f"calls after {a.warmup} warm-up calls (timed in Python, so it includes ~10-50 us of binding overhead "
              f"per call), intra_op_num_threads=T, inter_op 1." if a.qcc_run else
              f"Both runtimes are timed in the one Python process of the script, the same way: each artifact is "
              f"loaded once (runtime C API through ctypes, T threads) next to its onnxruntime session "
              f"(intra_op_num_threads=T, inter_op 1); per round and method, {a.warmup} warm-up calls then {repeat} "
              f"timed calls back to back, each timed with perf_counter around the one call, inputs and outputs bound "
              f"once (qcc_model_run; onnxruntime run_with_iobinding); the round's value is the median of the "
              f"{repeat} calls, and the script waits for its own CPU use to stop after every block.") +
             f" spread: the lowest and highest per-round ratio of the int8 pair.",
             "",
             f"limit: for M=1, weight bytes / time (int8: K*N + 4N, int4: K*N/2 + 4 per group of {GROUP}, +4 more "
             f"for asym) in GB/s and as % of the measured DRAM read bandwidth at T threads. The runs repeat on the "
             f"same weights, so weights that fit the caches ({_caches()} per cpu0) stay there: the MiniLM shapes "
             f"and 4096x4096 int8 (16.8 MB) / int4 (8.5 MB) fit a 32 MB L3 and can beat DRAM (the L3 read limit "
             f"is above). The row `{COLD[0]} x {COLD[1]} x {COLD_COPIES} (cold)` is y = concat_i(x @ W_i) over "
             f"{COLD_COPIES} independent {COLD[0]}x{COLD[1]} weights (int4 {COLD_COPIES * weight_bytes('int4', *COLD) / 1e6:.0f} MB, "
             f"int8 {COLD_COPIES * weight_bytes('int8', *COLD) / 1e6:.0f} MB, more than the L3), so its M=1 GB/s are "
             f"DRAM reads: the goal's measure (int4 GEMV >= 80% of DRAM). For M=128, int8 GOP/s = 2*M*K*N / time and % of the measured {_ops_probe(limits)[1]} peak at T threads. "
             f"cos: cosine of qcc's outputs vs the float64 reference (onnxruntime's in parentheses); a row must "
             f"pass > {COS_MIN['int8']} (int8) / > {COS_MIN['int4']} (int4) and fp32 rel-L2 <= {FP32_REL_L2:.0e} "
             f"to be timed.",
             "",
             "| K x N | M | T | " + " | ".join(f"{LABEL[p]} ms (ratio)" for p in PRECS) +
             " | int8 spread | limit | cos " + ", ".join(PRECS[1:]) + " |",
             "|---|---:|---:|" + "---:|" * len(PRECS) + "---|---|---|"]
    for r in rows:
        md_ = r["med"]
        cells = [f"{md_['qcc', p]:.3f} / {md_['ort', p]:.3f} ({md_['qcc', p] / md_['ort', p]:.2f})"
                 if p in precs else "-" for p in PRECS]
        c, oc = r["cos"], r["ort_cos"]
        sp = r["spread"].get("int8", (math.nan, math.nan))
        shape = (f"{r['k']} x {r['n'] // r['copies']} x {r['copies']} (cold)" if r["copies"] > 1
                 else f"{r['k']} x {r['n']}")
        lines.append(f"| {shape} | {r['m']} | {r['threads']} | " + " | ".join(cells) +
                     f" | {sp[0]:.2f}-{sp[1]:.2f} | {limit_cell(r)} | " +
                     ", ".join(f"{c[p]:.4f} ({oc[p]:.4f})" if p in precs else "-" for p in PRECS[1:]) + " |")
    if failures:
        lines += ["", "FAILED / not measured: " + "; ".join(failures)]
    md = "\n".join(lines) + "\n"
    a.md.parent.mkdir(parents=True, exist_ok=True)
    a.md.write_text(md)
    print(f"\n{md}\nwrote {a.md}")
    if a.update:
        path = ROOT / "BENCHMARKS.md"
        if not update_benchmarks(path, md):
            print(f"bench_quant: error: malformed {BEGIN} block in {path}", file=sys.stderr)
            return 1
        print(f"updated {path}")
    if failures:
        print(f"bench_quant: {len(failures)} row(s) FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


def _ops_probe(limits) -> tuple[str, str]:
    """(key, label) of the int8 compute limit machine_limits.c measured: vpdpbusd, or vpmaddwd on AVX2."""
    return ("vnni_gops", "vpdpbusd") if any(k == "vnni_gops" for k, _ in limits) else ("madd_gops", "vpmaddwd")


def measure_limits(work: Path, max_threads: int, vnni: bool = True) -> dict | None:
    """{(name, threads): value} from bench/machine_limits.c, built here with clang (AVX-512 VNNI, or AVX2
    when not `vnni`); None on failure."""
    import shutil
    import subprocess
    cc = next((c for c in ("clang-22", "clang", "cc") if shutil.which(c)), None)
    if cc is None:
        return None
    exe = work / "machine_limits"
    flags = ["-O2", "-mavx512f", "-mavx512bw", "-mavx512vnni", "-pthread"] if vnni else \
        ["-O2", "-mavx2", "-mfma", "-pthread"]
    r = subprocess.run([cc, *flags, str(ROOT / "bench" / "machine_limits.c"), "-o", str(exe)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return None
    r = subprocess.run([str(exe), str(max_threads), "512"], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return None
    out = {}
    for line in r.stdout.splitlines():
        name, t, v = line.split()
        out[name, int(t)] = float(v)
    return out


def update_benchmarks(path: Path, md: str) -> bool:
    """Replace the bench-quant block of BENCHMARKS.md; add the section after the fp32 block (or at the
    end) when it is missing. False when the markers are malformed."""
    if H.replace_block(path, BEGIN, END, md, create=BENCHMARKS_TEMPLATE):
        return True
    text = path.read_text()
    if BEGIN in text or END in text:
        return False
    i = text.find(FP32_END)
    if i >= 0:
        j = i + len(FP32_END)
        rest = text[j:].lstrip("\n")
        text = text[:j] + "\n\n" + SECTION + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + SECTION
    path.write_text(text)
    return H.replace_block(path, BEGIN, END, md)


def limit_cell(r) -> str:
    k, n, m, t, med, lim = r["k"], r["n"], r["m"], r["threads"], r["med"], r["limits"]
    if m == 1:
        dram = lim["dram_read_gbs", t]
        def gbs(p):
            return weight_bytes(p, k, n) / (med["qcc", p] * 1e-3) / 1e9
        return ", ".join(f"{p} {gbs(p):.1f} GB/s ({100 * gbs(p) / dram:.0f}%)" for p in PRECS[1:]
                         if ("qcc", p) in med)
    if m == 128 and ("qcc", "int8") in med:
        peak = lim[_ops_probe(lim)[0], t]
        def gops(s_):
            return 2.0 * m * k * n / (med[s_, "int8"] * 1e-3) / 1e9
        return f"int8 {gops('qcc'):.0f} GOP/s ({100 * gops('qcc') / peak:.0f}%), ort {gops('ort'):.0f}"
    return ""


def _load() -> float:
    import os
    try:
        return os.getloadavg()[0]
    except OSError:
        return math.nan


def _caches() -> str:
    """'L2 2M per core, L3 32M' from sysfs (cpu0), or 'sizes unknown'."""
    out = []
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    try:
        for idx in sorted(base.glob("index*")):
            lvl = (idx / "level").read_text().strip()
            if lvl in ("2", "3") and (idx / "type").read_text().strip() == "Unified":
                out.append(f"L{lvl} {(idx / 'size').read_text().strip()}")
    except OSError:
        pass
    return ", ".join(out) if out else "sizes unknown"


def _ncpu() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
