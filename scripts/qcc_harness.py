"""Shared Python helpers for qcc's tests, conformance runner, demo and benchmarks.

Drives the product's command-line tools (build/bin/qcc, build/bin/qcc-run) as subprocesses and
compares against onnxruntime. Python here is test/benchmark infrastructure only.

Environment: QCC_BUILD_DIR overrides the build folder (default <repo>/build).
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = Path(os.environ.get("QCC_BUILD_DIR", ROOT / "build"))
if not BUILD_DIR.is_absolute():
    BUILD_DIR = ROOT / BUILD_DIR
QCC = BUILD_DIR / "bin" / "qcc"
QCC_RUN = BUILD_DIR / "bin" / "qcc-run"

_TIMING_RE = re.compile(r"qcc-run:\s*(\d+)\s+runs?,\s*median\s+([0-9.eE+-]+)\s*ms,\s*min\s+([0-9.eE+-]+)\s*ms")


def tools_present() -> bool:
    return QCC.is_file() and os.access(QCC, os.X_OK) and QCC_RUN.is_file() and os.access(QCC_RUN, os.X_OK)


def sanitize_name(name: str) -> str:
    """File name qcc-run uses for an output: chars outside [A-Za-z0-9._-] become '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


@dataclass
class ToolResult:
    cmd: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def first_error_line(self) -> str:
        if self.timed_out:
            return f"timed out after {self.seconds:.1f} s"
        lines = [l.strip() for l in (self.stderr or "").splitlines() if l.strip()]
        for line in lines:  # prefer the tool's own error line over a crash dump's preamble
            if "error:" in line:
                return line
        if lines:
            return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
        for line in (self.stdout or "").splitlines():
            if line.strip():
                return line.strip()
        return f"exit code {self.returncode}, no output"

    def describe(self) -> str:
        return (f"$ {' '.join(map(str, self.cmd))}\n-> exit {self.returncode}"
                f"{' (timed out)' if self.timed_out else ''} in {self.seconds:.2f} s\n"
                f"--- stderr ---\n{self.stderr}\n--- stdout ---\n{self.stdout}")


def run_tool(cmd: Sequence[str | os.PathLike], timeout: float | None = None,
             env: Mapping[str, str] | None = None) -> ToolResult:
    cmd = [str(c) for c in cmd]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=None if env is None else {**os.environ, **env},
                           stdin=subprocess.DEVNULL, errors="replace")
        return ToolResult(cmd, p.returncode, p.stdout, p.stderr, time.perf_counter() - t0)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return ToolResult(cmd, -9, out, err, time.perf_counter() - t0, timed_out=True)
    except OSError as e:  # tool missing / not executable
        return ToolResult(cmd, 127, "", f"cannot run {cmd[0]}: {e}", time.perf_counter() - t0)


def compile_model(model: str | os.PathLike, out_prefix: str | os.PathLike, target: str = "host",
                  bits: int = 32, extra: Iterable[str] = (), timeout: float | None = 600,
                  qcc: str | os.PathLike = QCC) -> ToolResult:
    Path(out_prefix).parent.mkdir(parents=True, exist_ok=True)
    cmd = [qcc, model, f"-target={target}", f"-bits={bits}", "-o", out_prefix, *extra]
    return run_tool(cmd, timeout=timeout)


def run_artifact(prefix: str | os.PathLike, inputs: Mapping[str, str | os.PathLike],
                 out_dir: str | os.PathLike, repeat: int | None = None, warmup: int | None = None,
                 threads: int | None = None, timeout: float | None = 600,
                 qcc_run: str | os.PathLike = QCC_RUN) -> ToolResult:
    cmd: list = [qcc_run, prefix]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    cmd += ["--output-dir", out_dir]
    if repeat is not None:
        cmd += ["--repeat", str(repeat)]
    if warmup is not None:
        cmd += ["--warmup", str(warmup)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    return run_tool(cmd, timeout=timeout)


def parse_timing(stdout: str) -> tuple[int, float, float] | None:
    """`qcc-run: <N> runs, median <x> ms, min <y> ms` -> (N, median_ms, min_ms)."""
    m = _TIMING_RE.search(stdout or "")
    if not m:
        return None
    return int(m.group(1)), float(m.group(2)), float(m.group(3))


def time_artifact(prefix: str | os.PathLike, inputs: Mapping[str, str | os.PathLike], out_dir: str | os.PathLike,
                  repeat: int, warmup: int, threads: int | None = None, timeout: float = 1800) -> float:
    """Median milliseconds of `qcc-run --repeat --warmup` on the artifact at `prefix`; a failed run
    raises RuntimeError with qcc-run's first error line."""
    r = run_artifact(prefix, inputs, out_dir, repeat=repeat, warmup=warmup, threads=threads, timeout=timeout)
    tm = parse_timing(r.stdout) if r.ok else None
    if tm is None:
        raise RuntimeError(f"qcc-run {prefix}: {r.first_error_line()}")
    return tm[1]


def save_inputs(feeds: Mapping[str, np.ndarray], folder: str | os.PathLike) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, (name, arr) in enumerate(feeds.items()):
        p = folder / f"in{i}_{sanitize_name(name)}.npy"
        np.save(p, np.ascontiguousarray(arr), allow_pickle=False)
        paths[name] = p
    return paths


def load_outputs(out_dir: str | os.PathLike, names: Iterable[str]) -> dict[str, np.ndarray | None]:
    res = {}
    for n in names:
        p = Path(out_dir) / f"{sanitize_name(n)}.npy"
        res[n] = np.load(p, allow_pickle=False) if p.is_file() else None
    return res


# ----------------------------------------------------------------------------- onnxruntime
def ort_session(model: str | os.PathLike | bytes, threads: int = 1, optimize: bool = True):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.log_severity_level = 3
    src = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def ort_run(model, feeds: Mapping[str, np.ndarray], threads: int = 1, optimize: bool = False):
    """Reference outputs as {name: array}. Default: no graph optimizations (plain op semantics)."""
    sess = ort_session(model, threads=threads, optimize=optimize)
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, dict(feeds))
    return dict(zip(names, outs))


def time_ort(sess, feeds: Mapping[str, np.ndarray], repeat: int, warmup: int) -> float:
    """Median milliseconds of session.run measured in Python (includes binding overhead)."""
    for _ in range(warmup):
        sess.run(None, dict(feeds))
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, dict(feeds))
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def settle(limit_s: float = 2.0, window_s: float = 0.01, busy: float = 0.05) -> float:
    """Waits until this process uses less than `busy` of a CPU over a `window_s` sleep (onnxruntime's
    intra-op workers keep spinning for a while after session.run returns and would share the CPUs
    with a qcc-run started right away), at most `limit_s`; returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        c0 = time.process_time()
        time.sleep(window_s)
        if time.process_time() - c0 < busy * window_s:
            break
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- comparisons
def rel_l2(actual: np.ndarray, expected: np.ndarray) -> float:
    a = np.asarray(actual, dtype=np.float64).ravel()
    e = np.asarray(expected, dtype=np.float64).ravel()
    finite = np.isfinite(e) & np.isfinite(a)
    a, e = a[finite], e[finite]
    den = float(np.linalg.norm(e))
    num = float(np.linalg.norm(a - e))
    if den == 0.0:
        return num
    return num / den


def compare_rel_l2(actual, expected, tol: float = 1e-5) -> str | None:
    """None when equal within tolerance, else a description. Floats: relative L2 (non-finite
    positions must match exactly); ints/bools: exact."""
    if actual is None:
        return "output file missing"
    if actual.shape != expected.shape:
        return f"shape {list(actual.shape)} != expected {list(expected.shape)}"
    if actual.dtype != expected.dtype:
        return f"dtype {actual.dtype} != expected {expected.dtype}"
    if np.issubdtype(expected.dtype, np.floating):
        nf_e, nf_a = ~np.isfinite(expected), ~np.isfinite(actual)
        if not np.array_equal(nf_e, nf_a) or not np.array_equal(expected[nf_e], actual[nf_a], equal_nan=True):
            return f"non-finite values differ ({int(nf_a.sum())} vs expected {int(nf_e.sum())})"
        err = rel_l2(actual, expected)
        if not (err <= tol):
            a, e = np.atleast_1d(actual), np.atleast_1d(expected)  # 0-d outputs index as [0]
            diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
            diff[~np.isfinite(diff)] = 0
            idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
            return (f"relative L2 error {err:.3e} > {tol:.0e}; max abs diff {diff.max() if diff.size else 0:.3e} "
                    f"at {tuple(int(i) for i in idx)} (got {a[idx] if diff.size else ''}, "
                    f"expected {e[idx] if diff.size else ''})")
        return None
    if not np.array_equal(actual, expected):
        bad = int(np.sum(actual != expected))
        return f"{bad} of {expected.size} elements differ (exact match required for {expected.dtype})"
    return None


def compare_allclose(actual, expected, rtol: float = 1e-4, atol: float = 1e-5) -> str | None:
    """Conformance rule: np.allclose for floats (NaN positions must match), exact otherwise."""
    if actual is None:
        return "output file missing"
    if actual.shape != expected.shape:
        return f"shape {list(actual.shape)} != expected {list(expected.shape)}"
    if actual.dtype != expected.dtype:
        return f"dtype {actual.dtype} != expected {expected.dtype}"
    if np.issubdtype(expected.dtype, np.floating):
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
            bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
            idx = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
            return (f"{int(bad.sum())} of {e.size} elements not close (rtol={rtol}, atol={atol}); "
                    f"first at {tuple(int(i) for i in idx)}: got {a[idx]!r}, expected {e[idx]!r}")
        return None
    if not np.array_equal(actual, expected):
        return f"{int(np.sum(actual != expected))} of {expected.size} elements differ (exact)"
    return None


def cpu_model_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def replace_block(path: Path, begin: str, end: str, content: str, create: str | None = None) -> bool:
    """Replace the text between marker lines `begin` and `end` in `path`. If the file is missing
    and `create` is given, write `create` (which must contain the markers) first. Returns False
    when the markers are not found."""
    if not path.exists():
        if create is None:
            return False
        path.write_text(create)
    text = path.read_text()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0 or j < i:
        return False
    new = text[:i + len(begin)] + "\n" + content.rstrip("\n") + "\n" + text[j:]
    path.write_text(new)
    return True


def fresh_dir(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.exists():
        shutil.rmtree(p)
    p.mkdir(parents=True)
    return p
