"""A/B of qcc compilers on a whole real model for this machine's CPU: old vs new artifact in one
process.

  .venv/bin/python bench/models_ab.py --model smol1 --prec int4 old=/tmp/qcc-old new=build/bin/qcc

(a variant is NAME=QCC_BINARY or NAME=@ARTIFACT_PREFIX). The models and inputs are
bench_models.py's (--model minilm | smol128 | smol1), the flags its --prec row's (fp32, int8,
int4), the target this machine's (eval_common.host_cpu_target). Prints whether each variant's
output is bit-identical to the first one's (and the largest difference), then per thread count
each variant's median over --rounds rounds (order reversed every other round) of the round's
median of --repeat calls (eval_common.time_qcc, inputs and outputs bound once), at SCHED_FIFO
when run as root, with its ratio to the first variant and its range.
"""
import argparse
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))
sys.path.insert(0, str(HERE.parent / "scripts" / "models"))
import bench_models as BM  # noqa: E402
import eval_common as E  # noqa: E402
import qcc_harness as H  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smol1", choices=list(BM.MODELS))
    ap.add_argument("--prec", default="int4", choices=list(BM.QCC))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--work", default="/tmp/qcc-models-ab")
    ap.add_argument("variants", nargs="+", help="name=QCC_BINARY or name=@ARTIFACT_PREFIX")
    a = ap.parse_args()
    model, feeds, out_name = BM.model_and_feeds(a.model)
    target = E.host_cpu_target()
    prefixes = {}
    for v in a.variants:
        name, spec = v.split("=", 1)
        if spec.startswith("@"):
            prefixes[name] = Path(spec[1:])
            continue
        prefix = Path(a.work) / f"{a.model}_{a.prec}_{name}" / "model"
        prefix.parent.mkdir(parents=True, exist_ok=True)
        cmd = [spec, str(model), f"-target={target}", *BM.QCC[a.prec], "-o", str(prefix)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            print(f"{name}: compile failed: {r.stderr.strip()}")
            return 1
        prefixes[name] = prefix
    outs = {}
    for name, prefix in prefixes.items():
        m = E.QccModel(prefix, threads=1)
        outs[name] = m.run(feeds)[out_name]
        m.close()
    first = next(iter(outs.values()))
    for name, o in outs.items():
        print(f"{name}: identical to the first {np.array_equal(o, first)}, max abs diff "
              f"{float(np.max(np.abs(o.astype(np.float64) - first))):.3g}")
    base = next(iter(prefixes))
    for t in map(int, a.threads.split(",")):
        with E.realtime(True):
            models = {nm: E.QccModel(p, threads=t) for nm, p in prefixes.items()}
            meds = {nm: [] for nm in models}
            for rd in range(a.rounds):
                order = list(models)
                if rd % 2:
                    order.reverse()
                for nm in order:
                    meds[nm].append(E.time_qcc(models[nm], feeds, a.repeat, 3))
                    H.settle()
            for m in models.values():
                m.close()
        b = statistics.median(meds[base])
        print(f"{a.model} {a.prec} {target} T={t} " + "  ".join(
            f"{nm} {statistics.median(v):.3f} ms ({statistics.median(v) / b:.3f}; "
            f"{min(v):.3f}-{max(v):.3f})" for nm, v in meds.items()), flush=True)
    print(f"load {E.load_avg():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
