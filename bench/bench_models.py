#!/usr/bin/env python3
"""Whole-model latency of qcc against onnxruntime (CPU), same machine, same run (MEASURING.md).

Models (built and cached by scripts/models):
  minilm    all-MiniLM-L6-v2, seq 128, batch 1 (a real WikiText-2 sentence, padded to 128)
  smol128   SmolLM2-135M, one forward over 128 tokens (a real WikiText-2 test window)
  smol1     SmolLM2-135M, one decode-shaped forward of 1 token (the s1 model, position 127)
Methods: qcc (`-target=x86-64-vnni`, or --target) fp32, int8 (-bits=8, per-token dynamic int8 activations),
int4 (-bits=4 --group-size=128, W4A8); onnxruntime fp32, int8 quantize_dynamic (per-channel
QInt8 weights on the weight MatMul/Gemm nodes, like qcc) and as shipped ("defaults": its default
op set, per-tensor weights), MatMulNBitsQuantizer int4 RTN block 128 symmetric with
accuracy_level unset (fp32 compute) and 4 ("a4": int8 activations, W4A8 like qcc), and "a4 +
head": the same after rewriting Gemm(transB=1) as MatMul so that SmolLM2's LM head is int4 too
(MatMulNBits leaves Gemm nodes in float; qcc quantizes them).

Timing: both runtimes in this one Python process, timed the same way. For each thread count T
every qcc artifact is loaded once through the runtime's C API (eval_common.QccModel, T threads)
next to the onnxruntime sessions (intra_op T, inter_op 1, graph optimizations on); --rounds
rounds, a round times every method once, in an order that alternates qcc/onnxruntime and is
reversed every other round: W warm-up calls then N calls back to back, each timed in Python
around the one call with inputs and outputs bound once (qcc_model_run through ctypes,
eval_common.time_qcc; onnxruntime run_with_iobinding, eval_common.time_ort_bound); the value is
the median of the N calls. After every method the script waits until this process is idle
(H.settle(): onnxruntime's workers, and qcc's for QCC_SPIN_US, spin after a run). --qcc-run
times qcc by one `qcc-run --repeat N --warmup W --threads T` process per round instead (its own
timer) and onnxruntime by plain session.run, the method before session 8. A cell is the median
over rounds; speedup = onnxruntime /
qcc (> 1: qcc faster). Before timing, each output is compared with onnxruntime fp32 on the same
input (fp32: rel-L2; quantized: cosine). Measured only when the 1-minute load average is below
--max-load (other agents share the machine); each row records the load before and after.

  .venv/bin/python bench/bench_models.py [--models minilm,smol128,smol1] [--threads 1,2]
        [--rounds 5] [--repeat 10] [--quick] [--update] [--qcc-run] [--realtime]

--realtime times at SCHED_FIFO priority 1 (root only; compiles stay at normal priority), so that
other processes on a shared machine do not take the CPUs from the timed calls; both runtimes alike.

Artifacts are cached under build/eval-cache (keyed by model + options). Writes
build/bench_models.md; --update replaces the block between <!-- bench-models:begin --> and
<!-- bench-models:end --> in BENCHMARKS.md (section "Whole-model speed").
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_common as E  # noqa: E402

H = E.H
BEGIN, END = "<!-- bench-models:begin -->", "<!-- bench-models:end -->"
SECTION = f"""## Whole-model speed

Command: `.venv/bin/python bench/bench_models.py --update`

{BEGIN}
(not measured yet)
{END}
"""
QCC = {"fp32": ["-bits=32"], "int8": ["-bits=8", "--act=dynamic"], "int4": ["-bits=4", "--group-size=128"]}
ORT = {"fp32": "fp32", "int8": "int8dyn", "int8-def": "int8dyn_all", "int4": "int4g128", "int4-a4": "int4g128a4",
       "int4-a4h": "int4g128a4h"}
ORT_LABEL = {"fp32": "fp32", "int8": "int8", "int8-def": "int8 defaults", "int4": "int4", "int4-a4": "int4 a4",
             "int4-a4h": "int4 a4+head"}
TIMING = {"in-process": "both runtimes in the script's one process, each call timed around it with inputs and "
                         "outputs bound once (qcc_model_run via ctypes, onnxruntime run_with_iobinding)",
          "qcc-run": "qcc by one qcc-run process per round (its own timer), onnxruntime by session.run in Python"}
TIMING.update({k + "-rt": v + ", at SCHED_FIFO priority 1 (--realtime: other processes got at most 5% of the CPUs "
               "during the timed calls)" for k, v in list(TIMING.items())})
MODELS = {
    "minilm": "all-MiniLM-L6-v2, seq 128, batch 1",
    "smol128": "SmolLM2-135M, forward over 128 tokens",
    "smol1": "SmolLM2-135M, decode-shaped forward of 1 token",
}


def model_and_feeds(name: str):
    if name == "minilm":
        import build_minilm as BM
        info = BM.ensure_model(128, run_check=False, quiet=True)
        tok = BM.load_tokenizer(128, info["tokenizer"])
        ids, mask = BM.encode(tok, E.wikitext_sentences("test", 1))
        return Path(info["onnx"]), {"input_ids": ids, "attention_mask": mask}, "sentence_embedding"
    import build_smollm2 as BS
    seq = 128 if name == "smol128" else 1
    info = BS.ensure_model(seq, run_check=False, quiet=True)
    ids = BS.wikitext_ids(BS.load_tokenizer(info["tokenizer"]), 4096, "test")
    if seq == 128:
        return Path(info["onnx"]), {"input_ids": ids[None, 1024:1152]}, "logits"
    return Path(info["onnx"]), {"input_ids": ids[None, 1151:1152], "position_ids": np.array([[127]], np.int64)}, \
        "logits"


def cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) if np.all(np.isfinite(a)) else -math.inf


def bench_model(name, a, log):
    src, feeds, out_name = model_and_feeds(name)
    ref = H.ort_run(str(src), feeds, threads=2, optimize=False)[out_name]
    work = Path(tempfile.mkdtemp(prefix=f"qcc-bench-models-{name}-"))
    inputs = H.save_inputs(feeds, work / "in")
    prefixes, check, compile_s, ort_paths = {}, {}, {}, {}
    for p in a.precisions:
        try:
            prefix, meta = E.qcc_artifact(src, f"bench-{p}", QCC[p], target=a.target, log=log)
        except RuntimeError as e:
            log(f"  qcc {p}: {e}")
            check["qcc", p] = f"compile failed: {str(e)[:120]}"
            continue
        compile_s[p] = meta["compile_s"]
        od = H.fresh_dir(work / f"check-{p}")
        r = H.run_artifact(prefix, inputs, od, threads=2, timeout=900)
        got = H.load_outputs(od, [out_name])[out_name] if r.ok else None
        if got is None:
            check["qcc", p] = f"run failed: {r.first_error_line()}"
            continue
        check["qcc", p] = (H.rel_l2(got, ref), cosine(got, ref))
        prefixes[p] = prefix
    ort_kinds = [k for k in ORT if k.split("-")[0] in a.precisions and (k != "int4-a4h" or name != "minilm")]
    for k in list(ort_kinds):
        try:
            ort_paths[k], _ = E.ort_model(src, ORT[k], log=log)
            got = H.ort_run(str(ort_paths[k]), feeds, threads=2, optimize=True)[out_name]
        except Exception as e:  # noqa: BLE001: the peer's own quantizer can fail; say so, go on
            check["ort", k] = "failed: " + str(e).splitlines()[0][:100]
            ort_kinds.remove(k)
            continue
        check["ort", k] = (H.rel_l2(got, ref), cosine(got, ref))
    log(f"{name}: check vs onnxruntime fp32 (rel-L2, cosine): " + "; ".join(
        f"{s} {p} " + (v if isinstance(v, str) else f"{v[0]:.1e}, {v[1]:.5f}") for (s, p), v in check.items()))
    rows = []
    methods = [("qcc", p) for p in a.precisions if p in prefixes] + [("ort", k) for k in ort_kinds]
    for t in a.threads:
        # Under --realtime other processes hardly share the CPUs: no need to wait for them.
        la0 = E.load_avg() if a.realtime else E.wait_quiet(a.max_load, max_wait=a.max_wait, log=log)
        with E.realtime(a.realtime):
            sess = {k: H.ort_session(str(ort_paths[k]), threads=t, optimize=True) for k in ort_kinds}
            qm = {} if a.qcc_run else {p: E.QccModel(prefixes[p], threads=t) for p in prefixes}
            times = {m: [] for m in methods}
            for rd in range(a.rounds):
                order = [m for p in a.precisions for m in ([("qcc", p)] + [("ort", k) for k in ort_kinds
                                                                            if k.split("-")[0] == p])
                         if m in times]
                if rd % 2:
                    order.reverse()
                for s, p in order:
                    if s == "qcc" and a.qcc_run:
                        times[s, p].append(H.time_artifact(prefixes[p], inputs, work / "out", a.repeat, a.warmup,
                                                           threads=t))
                    elif s == "qcc":
                        times[s, p].append(E.time_qcc(qm[p], feeds, a.repeat, a.warmup))
                    elif a.qcc_run:
                        times[s, p].append(H.time_ort(sess[p], feeds, a.repeat, a.warmup))
                    else:
                        times[s, p].append(E.time_ort_bound(sess[p], feeds, a.repeat, a.warmup))
                    # Spinning workers (onnxruntime's, qcc's spin window) must not share the next method's CPUs.
                    H.settle()
            for m_ in qm.values():
                m_.close()
        la1 = E.load_avg()
        med = {m: statistics.median(v) for m, v in times.items()}
        row = dict(model=name, threads=t, rounds=a.rounds, repeat=a.repeat, warmup=a.warmup,
                   timing=("qcc-run" if a.qcc_run else "in-process") + ("-rt" if a.realtime else ""), med={f"{s}:{p}": v for (s, p), v in med.items()},
                   load=(round(la0, 2), round(la1, 2)), compile_s=compile_s,
                   check={f"{s}:{p}": v for (s, p), v in check.items()})
        rows.append(row)
        log(f"{name} T={t} (load {la0:.2f} -> {la1:.2f}): " + "  ".join(f"{s} {p} {v:.3f}" for (s, p), v in med.items()))
    return rows


def render(res: dict) -> str:
    precs = [p for p in QCC if any(k.split(":")[1].split("-")[0] == p for r in res["rows"] for k in r["med"])]
    lines = [f"Machine: {res['machine']}; date: {res['date']}; command: `{res['command']}`; onnxruntime "
             f"{res['ort']} (CPU, graph optimizations on); rounds: {res['rounds']}, {res['repeat']} timed runs "
             f"per method per round after {res['warmup']} warm-ups.", "",
             "Methods and timing: see the docstring of bench/bench_models.py. Timing: "
             f"{res['timing']}. Cells: median latency in ms; "
             "speedup = onnxruntime / qcc at the same precision (> 1: qcc faster; int4 against the "
             "onnxruntime int4 variants: default, a4 = accuracy_level 4 (int8 activations, the like-for-like "
             "W4A8 peer), a4+head = also the LM head in int4). load: the 1-minute load average before / after "
             "the row (a row waits up to --max-wait for a load below "
             f"{res['max_load']}; a higher load means other work shared the 2 cores and the row is noisy). Goals (issue 3): MiniLM int8 latency <= onnxruntime int8; SmolLM2 int4 "
             ">= 1.3x onnxruntime MatMulNBits int4.", ""]
    head = ["model", "T"]
    for p in precs:
        head += [f"qcc {p}"] + [f"ort {ORT_LABEL[k]}" for k in ORT if k.split("-")[0] == p]
    head += ["speedups", "load", "qcc compile s"]
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 4) + ["---"] * 3) + "|"]
    for r in res["rows"]:
        m = r["med"]
        cells = [MODELS[r["model"]], str(r["threads"])]
        sp = []
        for p in precs:
            cells.append(f"{m[f'qcc:{p}']:.2f}" if f"qcc:{p}" in m else "n/a")
            for k in ORT:
                if k.split("-")[0] != p:
                    continue
                v = m.get(f"ort:{k}")
                cells.append("-" if v is None else f"{v:.2f}")
                if v is not None and f"qcc:{p}" in m:
                    sp.append(f"{ORT_LABEL[k]} {v / m[f'qcc:{p}']:.2f}x")
        cells += ["; ".join(sp), f"{r['load'][0]:.1f} / {r['load'][1]:.1f}",
                  ", ".join(f"{p} {s:.0f}" for p, s in r["compile_s"].items())]
        lines.append("| " + " | ".join(cells) + " |")
    noisy = [r for r in res["rows"] if max(r["load"]) >= res["max_load"] and not r.get("timing", "").endswith("-rt")]
    if noisy:
        lines += ["", f"**Noisy:** {len(noisy)} of {len(res['rows'])} rows were measured at a load average >= "
                  f"{res['max_load']} (other agents' builds shared the 2 cores); their ratios are indicative only. "
                  "Rerun `bench/bench_models.py --update` on a quiet machine."]
    lines += ["", "Check before timing (each model's output vs onnxruntime fp32 on the timed input; rel-L2, cosine): "
              + "; ".join(f"{MODELS[mn].split(',')[0]} {mn[4:] if mn.startswith('smol') else ''} ".replace("  ", " ")
                          + ", ".join(f"{k} " + (v if isinstance(v, str) else f"{v[0]:.1e} / {v[1]:.4f}")
                                      for k, v in ck.items())
                          for mn, ck in res["checks"].items()) + "."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="minilm,smol128,smol1")
    ap.add_argument("--precisions", default="fp32,int8,int4")
    ap.add_argument("--target", default="x86-64-vnni",
                    help="qcc -target (x86-64: AVX2 hosts without VNNI); --update is for x86-64-vnni only")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 5)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per method per round (default 10)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--max-load", type=float, default=1.5, help="wait until the load average is below this")
    ap.add_argument("--max-wait", type=float, default=1800,
                    help="seconds to wait for a quiet machine before measuring anyway (the load is recorded)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 rounds x 3 runs, MiniLM only, 2 threads")
    ap.add_argument("--render", action="store_true",
                    help="measure nothing: write the table from the stored results (build/eval-cache/results)")
    ap.add_argument("--update", action="store_true", help="replace the block in BENCHMARKS.md")
    ap.add_argument("--realtime", action="store_true",
                    help="time at SCHED_FIFO priority 1 (root; other processes' load then hardly shares the CPUs)")
    ap.add_argument("--qcc-run", action="store_true",
                    help="time qcc by one qcc-run process per round, onnxruntime by plain session.run "
                         "(the method before session 8)")
    ap.add_argument("--md", type=Path, default=E.ROOT / "build" / "bench_models.md")
    a = ap.parse_args(argv)
    if a.quick and "--models" not in " ".join(argv if argv is not None else sys.argv[1:]):
        a.models = "minilm"
    a.rounds = a.rounds or (2 if a.quick else 5)
    a.repeat = a.repeat or (3 if a.quick else 10)
    a.threads = [int(t) for t in (("2" if a.quick else a.threads).split(",")) if t]
    a.precisions = [p for p in a.precisions.split(",") if p]
    models = [m for m in a.models.split(",") if m]
    bad = [m for m in models if m not in MODELS] + [p for p in a.precisions if p not in QCC]
    if bad:
        print(f"bench_models: error: unknown model or precision {bad[0]!r}", file=sys.stderr)
        return 2
    if a.update and a.target != "x86-64-vnni":
        print("bench_models: error: --update writes the x86-64-vnni table; use --md for other targets",
              file=sys.stderr)
        return 2
    if not H.tools_present():
        print(f"bench_models: error: {H.QCC} / {H.QCC_RUN} not built (run scripts/setup.sh)", file=sys.stderr)
        return 1
    import onnxruntime as ort

    def log(msg):
        print(msg, flush=True)

    results_dir = E.CACHE / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    cmd = "bench/bench_models.py " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    for name in ([] if a.render else models):
        rows = bench_model(name, a, log)
        stored = dict(model=name, rows=rows, date=datetime.date.today().isoformat(), command=cmd.strip())
        (results_dir / f"speed-{name}{'-quick' if a.quick else ''}.json").write_text(json.dumps(stored, indent=1))
    # The table shows the latest stored run of each model (models may be measured one at a time).
    all_rows, checks, cmds, dates = [], {}, [], []
    for name in MODELS:
        p = results_dir / f"speed-{name}{'-quick' if a.quick else ''}.json"
        if p.is_file():
            s = json.loads(p.read_text())
            all_rows += s["rows"]
            checks[name] = s["rows"][0]["check"] if s["rows"] else {}
            if s["command"] not in cmds:
                cmds.append(s["command"])
            dates.append(s["date"])
    def span(key):
        vals = sorted({r.get(key) for r in all_rows if r.get(key) is not None})
        return "/".join(map(str, vals)) or "?"

    res = dict(machine=E.machine_line(), date=max(dates) if dates else "", command="`, `".join(cmds),
               ort=ort.__version__, rounds=span("rounds"), repeat=span("repeat"), warmup=span("warmup"),
               timing="; ".join(TIMING[v] for v in sorted({r.get("timing", "qcc-run") for r in all_rows})) or "?",
               max_load=a.max_load,
               precisions=a.precisions, rows=all_rows, checks=checks)
    text = render(res)
    a.md.parent.mkdir(parents=True, exist_ok=True)
    a.md.write_text(text + "\n")
    print("\n" + text)
    if a.update:
        path = E.ROOT / "BENCHMARKS.md"
        if not H.replace_block(path, BEGIN, END, text):
            with open(path, "a") as f:
                f.write("\n" + SECTION.replace("(not measured yet)", text))
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
