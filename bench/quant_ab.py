"""A/B of qcc compilers on one bench_quant row: old vs new artifact in the same process.

  .venv/bin/python bench/quant_ab.py --shape 1536,384,128 --prec int8 old=/tmp/qcc-old new=build/bin/qcc
  (a variant is NAME=QCC_BINARY[:ENV=VALUE;...] or NAME=@ARTIFACT_PREFIX)

Builds bench_quant.py's MatMul row x[M,K] @ W[K,N] (same seed), compiles it with every variant
(the same flags as bench_quant's --prec method), prints each artifact's cosine against the float64
reference and whether its output is bit-identical to the first variant's, then times all variants
and the row's onnxruntime peer the way bench_quant does (QccModel + time_qcc, run_with_iobinding),
at SCHED_FIFO (root), --rounds alternating rounds (order reversed every other round); prints per
thread count each method's median of the round medians, its ratio to onnxruntime and its range.
"""
import argparse, os, sys, statistics, subprocess, time
from pathlib import Path
import numpy as np
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE)); sys.path.insert(0, str(HERE.parent / "scripts"))
import bench_quant as BQ
import eval_common as E
import qcc_harness as H
import onnx

ap = argparse.ArgumentParser()
ap.add_argument("--shape", default="1536,384,128")
ap.add_argument("--prec", default="int8", choices=list(BQ.QCC_FLAGS), help="bench_quant method")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--rounds", type=int, default=7)
ap.add_argument("--repeat", type=int, default=30)
ap.add_argument("--work", default="/tmp/qcc-quant-ab")
ap.add_argument("variants", nargs="+", help="name=QCCBIN[:ENV=VAL;ENV=VAL] or name=@prefix (existing artifact)")
a = ap.parse_args()
k, n, m = map(int, a.shape.split(","))
rng = np.random.default_rng(1000 * k + 10 * n + m)
model, feeds, W = BQ.build_matmul(rng, m, k, n)
d = Path(a.work) / f"k{k}_n{n}_m{m}"; d.mkdir(parents=True, exist_ok=True)
mp = d / "model.onnx"; onnx.save(model, mp)
bits, extra = BQ.QCC_FLAGS[a.prec]
prefixes = {}
for v in a.variants:
    name, spec = v.split("=", 1)
    if spec.startswith("@"):
        prefixes[name] = Path(spec[1:]); continue
    qcc, _, envs = spec.partition(":")
    env = dict(os.environ)
    for e in filter(None, envs.split(";")):
        kk, vv = e.split("=", 1); env[kk] = vv
    prefix = d / f"{a.prec}_{name}" / "model"; prefix.parent.mkdir(exist_ok=True)
    cmd = [qcc, str(mp), "-target=x86-64-vnni", f"-bits={bits}", "-o", str(prefix), *extra]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode: print(r.stderr); sys.exit(1)
    prefixes[name] = prefix
ortp = d / f"ort_{a.prec}.onnx"
if a.prec == "int8": BQ.ort_int8(mp, ortp)
elif a.prec == "fp32": ortp = mp
else: BQ.ort_int4(mp, ortp, *{"int4": (4, True), "int4w": (None, True), "int4a": (4, False)}[a.prec])
ref = feeds["x"].astype(np.float64) @ W
outs = {}
for name, p in prefixes.items():
    mm = E.QccModel(p, threads=1); outs[name] = mm.run(feeds)["y"]; mm.close()
    print(f"{name}: cos {BQ.cosine(outs[name], ref):.6f} identical-to-first {np.array_equal(outs[name], next(iter(outs.values())))} maxdiff {np.max(np.abs(outs[name]-next(iter(outs.values())))):.3g}")
print(f"load {os.getloadavg()}")
for t in map(int, a.threads.split(",")):
    with E.realtime(True):
        qm = {nm: E.QccModel(p, threads=t) for nm, p in prefixes.items()}
        sess = H.ort_session(str(ortp), threads=t, optimize=True)
        meds = {nm: [] for nm in list(qm) + ["ort"]}
        for rd in range(a.rounds):
            order = list(qm) + ["ort"]
            if rd % 2: order.reverse()
            for nm in order:
                if nm == "ort": meds[nm].append(E.time_ort_bound(sess, feeds, a.repeat, 3))
                else: meds[nm].append(E.time_qcc(qm[nm], feeds, a.repeat, 3))
                H.settle()
        for mm in qm.values(): mm.close()
    o = statistics.median(meds["ort"])
    print(f"T={t} " + "  ".join(f"{nm} {statistics.median(v):.4f} ({statistics.median(v)/o:.3f}; {min(v):.4f}-{max(v):.4f})" for nm, v in meds.items()), flush=True)
print(f"load {os.getloadavg()}")
