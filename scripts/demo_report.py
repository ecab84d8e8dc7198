#!/usr/bin/env python3
"""Helper of scripts/demo.sh: makes the demo's input and reports qcc vs onnxruntime."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))
import qcc_harness as H  # noqa: E402
from make_example_bert import example_input_ids  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    mi = sub.add_parser("make-input")
    mi.add_argument("path", type=Path)
    mi.add_argument("--seed", type=int, default=None, help="default: fresh random")
    rp = sub.add_parser("report")
    rp.add_argument("--model", required=True)
    rp.add_argument("--input", required=True, type=Path)
    rp.add_argument("--outputs", required=True, type=Path)
    rp.add_argument("--qcc-run-log", type=Path)
    rp.add_argument("--repeat", type=int, default=20)
    rp.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args(argv)

    if a.cmd == "make-input":
        ids = example_input_ids(np.random.default_rng(a.seed))
        a.path.parent.mkdir(parents=True, exist_ok=True)
        np.save(a.path, ids)
        n_pad = int((ids == 0).sum())
        print(f"{a.path}: int64 {list(ids.shape)}, ids[:8] = {ids[0, :8].tolist()}, {n_pad} padding tokens")
        return 0

    ids = np.load(a.input)
    feeds = {"input_ids": ids}
    sess = H.ort_session(a.model, threads=1, optimize=True)
    names = [o.name for o in sess.get_outputs()]
    ref = dict(zip(names, sess.run(names, feeds)))
    got = H.load_outputs(a.outputs, names)
    ok = True
    for n in names:
        g, r = got[n], ref[n]
        if g is None:
            print(f"{n}: MISSING ({a.outputs}/{H.sanitize_name(n)}.npy)")
            ok = False
            continue
        err = H.rel_l2(g, r) if g.shape == r.shape else float("inf")
        ok &= err <= 1e-5
        print(f"{n}: shape {list(g.shape)} {g.dtype}; first values {np.array2string(g.ravel()[:4], precision=5)}; "
              f"onnxruntime {np.array2string(r.ravel()[:4], precision=5)}; relative L2 error {err:.2e}"
              f" ({'ok' if err <= 1e-5 else 'ABOVE 1e-5'})")
    ort_ms = H.time_ort(sess, feeds, a.repeat, a.warmup)
    t = H.parse_timing(a.qcc_run_log.read_text()) if a.qcc_run_log and a.qcc_run_log.is_file() else None
    print(f"\ntiming, 1 thread each, median of {a.repeat} runs after {a.warmup} warm-up runs "
          f"({H.cpu_model_name()}):")
    if t:
        print(f"  qcc          {t[1]:8.3f} ms   (qcc-run's own timer around the model call)")
    else:
        print("  qcc          n/a (no timing line from qcc-run)")
    print(f"  onnxruntime  {ort_ms:8.3f} ms   (Python timer around session.run, graph optimizations on)")
    if t:
        r = t[1] / ort_ms
        print(f"  qcc / onnxruntime = {r:.2f} ({'qcc faster' if r < 1 else 'onnxruntime faster'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
