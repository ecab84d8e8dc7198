#!/usr/bin/env python3
"""Build qcc's bundled example model: a small BERT-style encoder in plain ONNX (opset 17).

vocab 1000, hidden 64, 2 layers, 4 heads, FFN 256, sequence 128; GELU via Erf,
LayerNormalization, Softmax attention with the padding mask taken from the input (token id 0 =
padding), a tanh pooler over the first token. Deterministic random weights (seed 0).

Input:  input_ids          int64   [1, 128]
Output: last_hidden_state  float32 [1, 128, 64]
        pooled             float32 [1, 64]

  python scripts/models/make_example_bert.py [-o build/models/example_bert.onnx] [--force]

The file is cached: it is rebuilt only when missing, older than this script, or with --force.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as oh
from onnx import numpy_helper as nh

VOCAB, HIDDEN, LAYERS, HEADS, FFN, SEQ, MAX_POS = 1000, 64, 2, 4, 256, 128, 512
PAD_ID = 0
OPSET, IR_VERSION = 17, 8


def build(seed: int = 0, vocab=VOCAB, hidden=HIDDEN, layers=LAYERS, heads=HEADS, ffn=FFN, seq=SEQ) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    hd = hidden // heads
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    counter = [0]

    def const(name, arr):
        inits.append(nh.from_array(np.asarray(arr), name))
        return name

    def w(name, *shape, scale=0.02):
        return const(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    def op(op_type, *inputs, out=None, **attrs):
        counter[0] += 1
        name = f"/{op_type}_{counter[0]}"
        out = out or f"{name}_out"
        nodes.append(oh.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out

    def linear(x, prefix, din, dout):
        return op("Add", op("MatMul", x, w(f"{prefix}.weight", din, dout, scale=1.0 / math.sqrt(din))),
                  w(f"{prefix}.bias", dout))

    def layernorm(x, prefix):
        g = const(f"{prefix}.weight", (1.0 + 0.1 * rng.standard_normal(hidden)).astype(np.float32))
        b = w(f"{prefix}.bias", hidden)
        return op("LayerNormalization", x, g, b, axis=-1, epsilon=1e-12)

    half = const("half", np.array(0.5, np.float32))
    one = const("one", np.array(1.0, np.float32))
    sqrt2 = const("sqrt2", np.array(math.sqrt(2.0), np.float32))

    # embeddings: word + position (+ token type 0), LayerNorm
    words = op("Gather", w("embeddings.word_embeddings.weight", vocab, hidden, scale=0.5), "input_ids", axis=0)
    pos_table = (rng.standard_normal((MAX_POS, hidden)) * 0.1).astype(np.float32)
    pos = const("embeddings.position_embeddings.sliced", pos_table[:seq][None])               # [1, S, H]
    tok = w("embeddings.token_type_embeddings.row0", hidden, scale=0.1)
    h = layernorm(op("Add", op("Add", words, pos), tok), "embeddings.LayerNorm")

    # additive mask from the input: (1 - (ids != PAD)) * -10000, shaped [1, 1, 1, S]
    keep = op("Cast", op("Not", op("Equal", "input_ids", const("pad_id", np.array(PAD_ID, np.int64)))), to=TP.FLOAT)
    keep = op("Unsqueeze", keep, const("mask_axes", np.array([1, 2], np.int64)))
    mask = op("Mul", op("Sub", one, keep), const("neg_big", np.array(-10000.0, np.float32)))

    split_shape = const("split_shape", np.array([1, seq, heads, hd], np.int64))
    merge_shape = const("merge_shape", np.array([1, seq, hidden], np.int64))
    scale = const("attn_scale", np.array(1.0 / math.sqrt(hd), np.float32))
    for l in range(layers):
        p = f"encoder.layer.{l}"
        q = op("Transpose", op("Reshape", linear(h, f"{p}.attention.self.query", hidden, hidden), split_shape),
               perm=[0, 2, 1, 3])
        k = op("Transpose", op("Reshape", linear(h, f"{p}.attention.self.key", hidden, hidden), split_shape),
               perm=[0, 2, 3, 1])
        v = op("Transpose", op("Reshape", linear(h, f"{p}.attention.self.value", hidden, hidden), split_shape),
               perm=[0, 2, 1, 3])
        scores = op("Add", op("Mul", op("MatMul", q, k), scale), mask)
        probs = op("Softmax", scores, axis=-1)
        ctx = op("Reshape", op("Transpose", op("MatMul", probs, v), perm=[0, 2, 1, 3]), merge_shape)
        h = layernorm(op("Add", linear(ctx, f"{p}.attention.output.dense", hidden, hidden), h),
                      f"{p}.attention.output.LayerNorm")
        f = linear(h, f"{p}.intermediate.dense", hidden, ffn)
        f = op("Mul", op("Mul", f, half), op("Add", op("Erf", op("Div", f, sqrt2)), one))     # GELU (erf)
        f = linear(f, f"{p}.output.dense", ffn, hidden)
        h = layernorm(op("Add", f, h), f"{p}.output.LayerNorm")

    nodes.append(oh.make_node("Identity", [h], ["last_hidden_state"], name="/output_last_hidden_state"))
    cls = op("Gather", h, const("cls_index", np.array(0, np.int64)), axis=1)                     # [1, H]
    op("Tanh", linear(cls, "pooler.dense", hidden, hidden), out="pooled")

    graph = oh.make_graph(
        nodes, "example_bert",
        [oh.make_tensor_value_info("input_ids", TP.INT64, [1, seq])],
        [oh.make_tensor_value_info("last_hidden_state", TP.FLOAT, [1, seq, hidden]),
         oh.make_tensor_value_info("pooled", TP.FLOAT, [1, hidden])],
        initializer=inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET)], producer_name="qcc-example",
                          doc_string=f"qcc example BERT: vocab {vocab}, hidden {hidden}, {layers} layers, "
                                     f"{heads} heads, seq {seq}, seed {seed}")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def example_input_ids(rng: np.random.Generator, seq: int = SEQ, vocab: int = VOCAB) -> np.ndarray:
    """Random token ids in [1, vocab) with a random amount of trailing padding (id 0)."""
    ids = rng.integers(1, vocab, size=(1, seq), dtype=np.int64)
    n_pad = int(rng.integers(0, seq // 4))
    if n_pad:
        ids[0, seq - n_pad:] = PAD_ID
    return ids


def ensure(path: Path, force: bool = False) -> Path:
    path = Path(path)
    if force or not path.is_file() or path.stat().st_mtime < Path(__file__).stat().st_mtime:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        onnx.save(build(), tmp)
        tmp.replace(path)
    return path


def main(argv=None) -> int:
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", type=Path, default=root / "build" / "models" / "example_bert.onnx")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--check", action="store_true", help="run onnxruntime on a random input")
    a = ap.parse_args(argv)
    p = ensure(a.output, a.force)
    print(f"{p} ({p.stat().st_size / 1e6:.2f} MB)")
    if a.check:
        import onnxruntime as ort
        s = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
        outs = s.run(None, {"input_ids": example_input_ids(np.random.default_rng(1))})
        print("onnxruntime outputs:", [o.shape for o in outs], "pooled[:4] =", outs[1][0, :4])
    return 0


if __name__ == "__main__":
    sys.exit(main())
