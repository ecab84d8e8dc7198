#!/usr/bin/env python3
"""Why int4 rounding recipes rank as they do on SmolLM2-135M (issue 3): weight-only recipes
simulated in onnxruntime with fake-quantized (quantized, then dequantized) float weights, which
is what a qcc weight-only artifact computes (the 'rtn' numbers reproduce bench/quality.py's qcc
rows to the third decimal: full-range RTN g32 52.766, g128 55.889).

  .venv/bin/python bench/smol_rounding.py structure   # GGUF Q4_1 provenance of the float weights
  .venv/bin/python bench/smol_rounding.py rtn         # perplexity per rounding rule / format
  .venv/bin/python bench/smol_rounding.py share [--calib-windows 16]   # first token's share of tr(X^T X)
  .venv/bin/python bench/smol_rounding.py gptq [--group 32] [--skip-first 1]   # slow (K x N loops)

Perplexity: the 32 WikiText-2 test windows of 128 tokens of `bench/quality.py --windows 32`;
calibration: its 16 valid.txt windows. Matmul weights are the MatMul initializers (the tied LM
head is a Gemm and stays float, as in the quality table's weight-only rows). Groups run along K;
a K that the group size does not divide takes the largest power of two that does (qcc's rule).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts" / "models"))
import build_smollm2 as BS  # noqa: E402
import eval_common as E  # noqa: E402

S = 128


class Model:
    def __init__(self, calib_windows: int = 16):
        import onnx
        from onnx import numpy_helper
        info = BS.ensure_model(S, run_check=False, quiet=True)
        self.onnx = onnx.load(info["onnx"])
        inits = {i.name: i for i in self.onnx.graph.initializer}
        self.matmuls = [(n.input[0], n.input[1]) for n in self.onnx.graph.node
                        if n.op_type == "MatMul" and n.input[1] in inits]
        self.weights = {w: numpy_helper.to_array(inits[w]) for _, w in self.matmuls}
        tok = BS.load_tokenizer(info["tokenizer"])
        test_ids, valid_ids = BS.wikitext_ids(tok, None, "test"), BS.wikitext_ids(tok, None, "valid")
        self.feeds = [test_ids[None, s:s + S] for s in E.token_windows(test_ids, 32, S)]
        self.targets = [test_ids[s + 1:s + S] for s in E.token_windows(test_ids, 32, S)]
        self.calib = [valid_ids[None, s:s + S] for s in E.token_windows(valid_ids, calib_windows, S)]

    def session(self, replace=None, extra_outputs=()):
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper
        m = onnx.ModelProto()
        m.CopyFrom(self.onnx)
        for init in m.graph.initializer:
            if replace and init.name in replace:
                init.CopyFrom(numpy_helper.from_array(replace[init.name].astype(np.float32), init.name))
        for name in extra_outputs:
            m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])

    def perplexity(self, replace=None) -> float:
        sess, nll, n = self.session(replace), 0.0, 0
        for f, tgt in zip(self.feeds, self.targets):
            lg = sess.run(["logits"], {"input_ids": f})[0][0, :S - 1].astype(np.float64)
            mx = lg.max(1, keepdims=True)
            nll += float(np.sum(mx[:, 0] + np.log(np.exp(lg - mx).sum(1)) - lg[np.arange(S - 1), tgt]))
            n += S - 1
        return math.exp(nll / n)

    def activations(self):
        """Per matmul input: the calibration windows' [S, K] activations, one window at a time."""
        names = sorted({x for x, _ in self.matmuls})
        sess = self.session(extra_outputs=names)
        for f in self.calib:
            yield dict(zip(names, (o.reshape(-1, o.shape[-1]).astype(np.float64)
                                   for o in sess.run(names, {"input_ids": f}))))


def fit_group(k: int, g: int) -> int:
    while g >= 8 and k % g:
        g //= 2
    return g


def rounding(x: np.ndarray, rule: str) -> np.ndarray:
    """Where ties go: "even" is qcc's (lib/Quant/Rtn.cpp: nearbyint); "up" is onnxruntime's
    MatMulNBits (MLAS adds the zero point 8 before roundf, so x.5 goes up: its g32 codes differ
    from this rule's at 75 of SmolLM2's 106M weights, from "even"'s at 37283); "down" the mirror."""
    if rule == "even":
        return np.rint(x)
    if rule == "up":
        return np.floor(x + 0.5)
    return np.ceil(x - 0.5)


def full_range_scale(b: np.ndarray) -> np.ndarray:
    """The end with the larger magnitude maps to -8 (qcc --weight-clip=none, MatMulNBits sym)."""
    mx, mn = b.max(-2, keepdims=True), b.min(-2, keepdims=True)
    s = (np.where(np.abs(mn) >= np.abs(mx), mn, mx) / -8.0).astype(np.float32).astype(np.float64)
    s[s == 0] = 1
    return s


def fake_quant(w: np.ndarray, g: int, fmt: str, rule: str = "even") -> np.ndarray:
    k, n = w.shape
    g = fit_group(k, g)
    b = w.reshape(k // g, g, n).astype(np.float64)
    if fmt == "sym":
        s = full_range_scale(b)
        out = np.clip(rounding(b / s, rule), -8, 7) * s
    elif fmt == "asym":  # integer zero point, range widened to contain 0 (qcc --asym, MatMulNBits asym)
        lo, hi = np.minimum(b.min(1, keepdims=True), 0), np.maximum(b.max(1, keepdims=True), 0)
        s = ((hi - lo) / 15).astype(np.float32).astype(np.float64)
        s[s == 0] = 1
        z = np.clip(rounding(-lo / s, rule), 0, 15)
        out = (np.clip(rounding(b / s, rule) + z, 0, 15) - z) * s
    else:  # "min": lo + d * q with a float offset (GGUF Q4_1's own form)
        lo, hi = b.min(1, keepdims=True), b.max(1, keepdims=True)
        d = (hi - lo) / 15
        d[d == 0] = 1
        out = lo + np.clip(rounding((b - lo) / d, rule), 0, 15) * d
    return out.reshape(k, n).astype(np.float32)


def gptq(w: np.ndarray, h: np.ndarray, g: int, damp: float = 0.01) -> np.ndarray:
    """Textbook GPTQ (identity order, full-range symmetric group scales chosen from the updated
    rows when a group starts, lazy block updates), as lib/Quant/Gptq.cpp computes it."""
    w = w.astype(np.float64).copy()
    k, n = w.shape
    g = fit_group(k, g)
    h = h.copy()
    dead = np.diag(h) <= 0
    h[dead, dead] = 1
    w[dead, :] = 0
    h[np.diag_indices(k)] += damp * np.mean(np.diag(h))
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    q = np.zeros_like(w)
    for b0 in range(0, k, 128):
        b1 = min(k, b0 + 128)
        err = np.zeros((b1 - b0, n))
        for i in range(b0, b1):
            if i % g == 0:
                s = full_range_scale(w[i:i + g])[0]
            q[i] = np.clip(np.rint(w[i] / s), -8, 7) * s
            e = (w[i] - q[i]) / u[i, i]
            w[i + 1:b1] -= np.outer(u[i, i + 1:b1], e)
            err[i - b0] = e
        w[b1:] -= u[b0:b1, b1:].T @ err
    return q.astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["structure", "rtn", "share", "gptq"])
    ap.add_argument("--group", type=int, default=32)
    ap.add_argument("--skip-first", type=int, default=0, help="gptq: leave the first N tokens of each window out of X^T X")
    ap.add_argument("--calib-windows", type=int, default=16, help="share, gptq: valid.txt windows (quality.py: 16)")
    a = ap.parse_args(argv)
    m = Model(a.calib_windows)
    if a.what == "structure":
        counts = []
        for w in m.weights.values():  # [K, N]; GGUF blocks of 32 run along K
            k, n = w.shape
            b = np.sort(w.reshape(k // 32, 32, n), axis=1)
            counts.append((1 + (np.diff(b, axis=1) != 0).sum(1)).ravel())
        c = np.concatenate(counts)
        print(f"{len(m.weights)} matmul weights: distinct values per block of 32 along K: max {c.max()}, "
              f"mean {c.mean():.2f} (a Q4_1 block holds at most 16)")
    elif a.what == "rtn":
        print(f"float: {m.perplexity():.3f}", flush=True)
        for g in (32, 128):
            for fmt, rule in (("sym", "even"), ("sym", "up"), ("sym", "down"), ("asym", "even"), ("min", "even")):
                rep = {k: fake_quant(v, g, fmt, rule) for k, v in m.weights.items()}
                print(f"g{g} {fmt:4s} ties {rule:4s}: {m.perplexity(rep):.3f}", flush=True)
    elif a.what == "share":
        first, total, peak = {}, {}, {}
        for acts in m.activations():
            for name, x in acts.items():
                first[name] = first.get(name, 0) + (x[0] ** 2).sum()
                total[name] = total.get(name, 0) + (x ** 2).sum()
                p = peak.get(name, (0, 0))
                peak[name] = (max(p[0], np.abs(x[0]).max()), max(p[1], np.abs(x[1:]).max()))
        rows = sorted(((first[n] / total[n], n) for n in total), reverse=True)
        for share, name in rows[:8]:
            print(f"{name}: first token {share:.3f} of tr(X^T X), max|x| first {peak[name][0]:.1f} "
                  f"other tokens {peak[name][1]:.1f}")
        print(f"median over {len(rows)} inputs: {np.median([r[0] for r in rows]):.4f} (1/128 = {1 / 128:.4f})")
    else:
        hs: dict[str, np.ndarray] = {}
        for acts in m.activations():
            for name, x in acts.items():
                x = x[a.skip_first:]
                hs[name] = hs.get(name, 0) + x.T @ x
        rep = {w: gptq(m.weights[w], hs[x], a.group) for x, w in m.matmuls}
        print(f"GPTQ g{a.group}, first {a.skip_first} tokens left out of X^T X: {m.perplexity(rep):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
