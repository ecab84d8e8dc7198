#!/usr/bin/env python3
"""Why SmolLM2's FFN down projections resist static int8 activations: a float64 simulation of one
layer at a time (BENCHMARKS.md, "Issue 3 quality goals", all-static int8).

For each FFN down projection (input: the SiLU-gate product, K = 1536) the float model runs in
onnxruntime over calibration windows (valid.txt, picked as bench/quality.py picks its 16) and test
windows (every 4th of quality.py's 64 test windows). Each recipe is fitted on the calibration
activations the way qcc fits it (SmoothQuant s_j = max|x_j|^a / max|w_j|^(1-a); the N channels with
the largest smoothed max|x| kept in float; the per-tensor static scale = the largest remaining
smoothed |x| / 127, times --margin; weights int8 per output channel) and then applied to the
calibration activations themselves (in-sample) and to the test activations (out-of-sample). Cell:
SQNR in dB of the layer output X W (10 log10 of |Y|^2 / |Y_q - Y|^2); "dyn": per-token absmax
scales (what `--calib-min-sqnr` falls back to). --tokens adds, per layer, the calibrated static
range next to the test tokens' absmax (median, 99th percentile, max) after smoothing and masking.

  .venv/bin/python bench/smol_static.py [--calib-windows 16] [--layers 0,3,6,...] [--recipes 0.5:16,0.9:16]
        [--margin 1.0] [--tokens]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_common as E  # noqa: E402

S = 128


def activations(model_path: Path, windows: list[np.ndarray], layers: list[int]):
    """{layer: (inputs [tokens, K], weight [K, N])} of the down projections over `windows`."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
    m = onnx.load(str(model_path))
    inits = {i.name: i for i in m.graph.initializer}
    picked = {}
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits and n.input[1].endswith("down_proj"):
            layer = int(n.input[1].split(".")[1])
            if layer in layers:
                picked[layer] = (n.input[0], numpy_helper.to_array(inits[n.input[1]]).astype(np.float64))
    for name, _ in picked.values():
        m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [picked[layer][0] for layer in sorted(picked)]
    rows = {layer: [] for layer in picked}
    for ids in windows:
        outs = sess.run(names, {"input_ids": ids[None]})
        for layer, o in zip(sorted(picked), outs):
            rows[layer].append(o.reshape(-1, o.shape[-1]).astype(np.float64))
    return {layer: (np.concatenate(rows[layer]), picked[layer][1]) for layer in picked}


def int8_weight(w):
    s = np.abs(w).max(0, keepdims=True) / 127
    s[s == 0] = 1
    return np.round(w / s).clip(-127, 127) * s


def fit(xc, w, alpha, keep, margin):
    xmax, wmax = np.abs(xc).max(0), np.abs(w).max(1)
    s = np.clip(xmax ** alpha / np.maximum(wmax, 1e-12) ** (1 - alpha), 1e-5, 1e5) if alpha > 0 else np.ones_like(xmax)
    smax = xmax / s
    idx = np.argsort(-smax)[:keep]
    mask = np.ones_like(s)
    mask[idx] = 0
    return s, idx, mask, (smax * mask).max() * margin


def sqnr(x, w, recipe, dynamic=False):
    s, idx, mask, amax = recipe
    xs, ws = x / s, w * s[:, None]
    xm = xs * mask
    if dynamic:
        d = np.abs(xm).max(1, keepdims=True) / 127
        d[d == 0] = 1
        xq = np.round(xm / d) * d
    else:
        d = amax / 127
        xq = np.round(xm / d).clip(-127, 127) * d
    y = x @ w
    e = xq @ int8_weight(ws * mask[:, None]) + xs[:, idx] @ ws[idx] - y
    return 10 * np.log10((y ** 2).sum() / (e ** 2).sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calib-windows", type=int, default=16)
    ap.add_argument("--layers", default="0,3,6,9,11,12,15,18,21,24,27,28,29")
    ap.add_argument("--recipes", default="0.5:16,0.7:16,0.9:16,0.5:64,0:16",
                    help="comma list of ALPHA:KEPT (ALPHA 0: no smoothing)")
    ap.add_argument("--margin", type=float, default=1.0, help="static range = calibrated max times this")
    ap.add_argument("--tokens", action="store_true")
    a = ap.parse_args(argv)
    import build_smollm2 as BS
    info = BS.ensure_model(S, run_check=False, quiet=True)
    tok = BS.load_tokenizer(info["tokenizer"])
    valid, test = BS.wikitext_ids(tok, None, "valid"), BS.wikitext_ids(tok, None, "test")
    cwin = [valid[s:s + S] for s in E.token_windows(valid, a.calib_windows, S)]
    twin = [test[s:s + S] for s in E.token_windows(test, 64, S)[::4]]
    layers = [int(x) for x in a.layers.split(",")]
    cal = activations(Path(info["onnx"]), cwin, layers)
    tst = activations(Path(info["onnx"]), twin, layers)
    recipes = [(float(r.split(":")[0]), int(r.split(":")[1])) for r in a.recipes.split(",")]
    print(f"SmolLM2 down projections: {a.calib_windows} calibration windows, {len(twin)} test windows, margin {a.margin}")
    print("| layer | " + " | ".join(f"a={al} kept {k}: in / out" for al, k in recipes) + " | dyn a=0.5 kept 16: out |")
    print("|---" * (len(recipes) + 2) + "|")
    for layer in sorted(cal):
        xc, w = cal[layer]
        xt = tst[layer][0]
        cells = []
        for al, k in recipes:
            r = fit(xc, w, al, k, a.margin)
            cells.append(f"{sqnr(xc, w, r):.1f} / {sqnr(xt, w, r):.1f}")
        cells.append(f"{sqnr(xt, w, fit(xc, w, 0.5, 16, 1.0), dynamic=True):.1f}")
        print(f"| {layer} | " + " | ".join(cells) + " |")
    if a.tokens:
        print("\n| layer | static range (a=0.5, 16 kept) | test token absmax: median | p99 | max |")
        print("|---|---:|---:|---:|---:|")
        for layer in sorted(cal):
            xc, w = cal[layer]
            s, idx, mask, amax = fit(xc, w, 0.5, 16, 1.0)
            t = np.abs(tst[layer][0] / s * mask).max(1)
            print(f"| {layer} | {amax:.2f} | {np.median(t):.2f} | {np.percentile(t, 99):.2f} | {t.max():.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
