"""Shared pieces of bench/quality.py and bench/bench_models.py (real-model evaluation).

- QccModel: runs a qcc artifact in-process through the runtime's C API (ctypes on a shared build
  of runtime/, made on demand under build/eval-cache/runtime-so), so that hundreds of inputs run
  without starting qcc-run each time.
- qcc_artifact / ort_model: compiled qcc artifacts and onnxruntime-quantized models, cached under
  build/eval-cache, keyed by the source model (its builder stamp, else its bytes) and the options.
- Real text: WikiText-2 sentences (MiniLM) and token windows (SmolLM2), chosen deterministically.

QCC_BUILD_DIR picks the qcc build (default build/), as for every script using qcc_harness.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "models"))
import qcc_harness as H  # noqa: E402

# QCC_EVAL_CACHE moves the artifact / model / result cache (tests use a fresh one); the shared
# runtime build stays in <QCC_BUILD_DIR>/eval-cache/runtime-so (build/eval-cache/runtime-so by
# default), so that a checkout's build folders each load a runtime of their own ninja state.
CACHE = Path(os.environ.get("QCC_EVAL_CACHE", ROOT / "build" / "eval-cache"))
# Cached CPU artifacts of another artifact ABI do not load: they are recompiled.
ABI_VERSION = int(re.search(r"#define QCC_ARTIFACT_ABI_VERSION (\d+)",
                            (ROOT / "runtime" / "include" / "qcc" / "qcc_runtime.h").read_text()).group(1))
RUNTIME_SO_DIR = H.BUILD_DIR / "eval-cache" / "runtime-so"
WIKITEXT = ROOT.parent / "shared" / "data" / "wikitext-2"


# ----------------------------------------------------------------------------- cache keys
def _sha(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def model_identity(model: Path) -> str:
    """The builder's stamp key when the model has one (scripts/models), else the file bytes."""
    stamp = Path(str(model) + ".stamp.json")
    if stamp.is_file():
        try:
            key = json.loads(stamp.read_text()).get("key")
            if key:
                return f"stamp:{key}"
        except (OSError, ValueError):
            pass
    parts = [file_digest(model)]
    data = Path(str(model) + ".data")
    if data.is_file():
        parts.append(file_digest(data))
    return "bytes:" + _sha(*parts)


def dir_digest(folder: Path) -> str:
    return _sha(*[f"{p.name}:{file_digest(p)}" for p in sorted(Path(folder).iterdir()) if p.is_file()])


# ----------------------------------------------------------------------------- qcc artifacts
def qcc_version() -> str:
    r = H.run_tool([H.QCC, "--version"], timeout=60)
    m = re.search(r"[0-9]+\.[0-9]+[^\s]*", r.stdout + r.stderr)
    return m.group(0) if m else "?"


def host_cpu_target() -> str:
    """The concrete name of `-target=host` on this machine (artifact cache keys must not say
    "host": a cache may outlive the machine)."""
    try:
        flags = set(re.findall(r"\S+", Path("/proc/cpuinfo").read_text()))
    except OSError:
        flags = set()
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "x86-64-vnni" if "avx512_vnni" in flags else "x86-64-avx512"
    return "x86-64"


def qcc_artifact(model: Path, label: str, flags: list[str], target: str | None = None,
                 fresh: bool = False, timeout: float = 3600, log=print) -> tuple[Path, dict]:
    """Compile (or reuse) `model` with `qcc -target=T FLAGS`; returns (prefix, meta). `flags` must
    hold every option that changes the artifact (a --calib folder is keyed by its contents)."""
    target = target or host_cpu_target()
    key_flags = []
    for f in flags:
        if f.startswith("--calib="):
            key_flags.append("--calib#" + dir_digest(Path(f.split("=", 1)[1])))
        else:
            key_flags.append(f)
    key = _sha(model_identity(model), target, *key_flags)[:16]
    d = CACHE / "qcc" / f"{model.stem}-{key}"  # label-free: rows with the same flags share it
    prefix, meta_path = d / "model", d / "meta.json"
    if not fresh and meta_path.is_file() and Path(str(prefix) + ".json").is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("abi", 1) == ABI_VERSION:
            if meta.get("qcc_mtime", 0) < os.path.getmtime(H.QCC):
                log(f"  note: cached {d.name} was compiled by an older qcc build ({meta.get('date')}); "
                    "--fresh recompiles")
            return prefix, meta
        log(f"  note: cached {d.name} has artifact ABI {meta.get('abi', 1)}, the runtime {ABI_VERSION}: "
            "recompiling")
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    cmd = [H.QCC, model, f"-target={target}", *flags, "-o", prefix]
    log(f"  compiling {model.name} [{label}]: qcc {' '.join(str(c) for c in cmd[2:])}")
    r = H.run_tool(cmd, timeout=timeout)
    if not r.ok:
        raise RuntimeError(f"qcc failed on {model.name} [{label}]: {r.first_error_line()}")
    meta = {"label": label, "flags": flags, "target": target, "compile_s": round(r.seconds, 2),
            "qcc": str(H.QCC), "qcc_mtime": os.path.getmtime(H.QCC), "date": time.strftime("%Y-%m-%d %H:%M"),
            "abi": ABI_VERSION}
    meta_path.write_text(json.dumps(meta, indent=1))
    log(f"  compiled in {r.seconds:.1f} s")
    return prefix, meta


def artifact_weight_bytes(prefix: Path) -> int:
    p = Path(str(prefix) + ".weights")
    return p.stat().st_size if p.is_file() else 0


# ----------------------------------------------------------------------------- runtime via ctypes
_MAX_RANK = 8
_DTYPES = {1: np.float32, 2: np.float64, 3: np.float16, 4: np.int8, 5: np.uint8, 6: np.int16,
           7: np.uint16, 8: np.int32, 9: np.uint32, 10: np.int64, 11: np.uint64, 12: np.bool_}


class _Tensor(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_uint32), ("dims", ctypes.c_int64 * _MAX_RANK),
                ("data", ctypes.c_void_p), ("byte_size", ctypes.c_size_t)]


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_uint32),
                ("dims", ctypes.c_int64 * _MAX_RANK), ("byte_size", ctypes.c_size_t)]


class _LoadOptions(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_uint32), ("reserved", ctypes.c_uint32 * 7)]


_LIB = None


def runtime_lib_path() -> Path:
    """A shared build of runtime/ (QCC_RUNTIME_LIB, else built here on demand; ninja no-ops when
    it is up to date)."""
    env = os.environ.get("QCC_RUNTIME_LIB")
    if env:
        return Path(env)
    bdir = RUNTIME_SO_DIR
    if not (bdir / "build.ninja").is_file():
        cc = [f"-DCMAKE_C_COMPILER={shutil.which('clang-22')}", f"-DCMAKE_CXX_COMPILER={shutil.which('clang++-22')}"] \
            if shutil.which("clang++-22") else []
        subprocess.run(["cmake", "-G", "Ninja", "-S", ROOT / "runtime", "-B", bdir, "-DCMAKE_BUILD_TYPE=Release",
                        "-DQCC_RUNTIME_SHARED=ON", "-DQCC_RUNTIME_BUILD_TESTS=OFF", *cc],
                       check=True, capture_output=True)
    r = subprocess.run(["ninja", "-C", bdir, "-j2", "qcc_runtime"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("building the shared qcc runtime failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
    libs = sorted(bdir.glob("**/libqcc_runtime.so"))
    if not libs:
        raise RuntimeError(f"no libqcc_runtime.so under {bdir}")
    return libs[0]


def _lib():
    global _LIB
    if _LIB is None:
        lib = ctypes.CDLL(str(runtime_lib_path()))
        vp = ctypes.c_void_p
        lib.qcc_status_message.restype = ctypes.c_char_p
        lib.qcc_status_message.argtypes = [vp]
        lib.qcc_status_free.argtypes = [vp]
        lib.qcc_load_options_init.argtypes = [ctypes.POINTER(_LoadOptions)]
        lib.qcc_model_load.restype = vp
        lib.qcc_model_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(_LoadOptions), ctypes.POINTER(vp)]
        lib.qcc_model_release.argtypes = [vp]
        for f in ("qcc_model_num_inputs", "qcc_model_num_outputs"):
            getattr(lib, f).restype = ctypes.c_size_t
            getattr(lib, f).argtypes = [vp]
        for f in ("qcc_model_input_info", "qcc_model_output_info"):
            getattr(lib, f).restype = vp
            getattr(lib, f).argtypes = [vp, ctypes.c_size_t, ctypes.POINTER(_TensorInfo)]
        lib.qcc_model_set_num_threads.restype = vp
        lib.qcc_model_set_num_threads.argtypes = [vp, ctypes.c_uint32]
        lib.qcc_model_run.restype = vp
        lib.qcc_model_run.argtypes = [vp, ctypes.POINTER(_Tensor), ctypes.c_size_t, ctypes.POINTER(_Tensor),
                                      ctypes.c_size_t]
        _LIB = lib
    return _LIB


def _check(status, what: str):
    if status:
        lib = _lib()
        msg = lib.qcc_status_message(status).decode(errors="replace")
        lib.qcc_status_free(status)
        raise RuntimeError(f"{what}: {msg}")


def aligned_empty(shape, dtype, alignment: int = 64) -> np.ndarray:
    """An uninitialized C-contiguous array whose data starts on an `alignment`-byte boundary (the
    runtime copies a buffer that is not 64-byte aligned into one that is, on every call)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + alignment, np.uint8)
    offset = -raw.ctypes.data % alignment
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


class QccModel:
    """A loaded artifact; run(feeds) -> {output name: array}. Inputs by name, outputs fresh arrays."""

    def __init__(self, prefix: Path, threads: int = 0):
        lib = _lib()
        opts = _LoadOptions()
        lib.qcc_load_options_init(ctypes.byref(opts))
        opts.num_threads = threads
        self._h = ctypes.c_void_p()
        _check(lib.qcc_model_load(str(prefix).encode(), ctypes.byref(opts), ctypes.byref(self._h)),
               f"loading {prefix}")
        self.inputs = [self._info(lib.qcc_model_input_info, i) for i in range(lib.qcc_model_num_inputs(self._h))]
        self.outputs = [self._info(lib.qcc_model_output_info, i) for i in range(lib.qcc_model_num_outputs(self._h))]

    def _info(self, fn, i):
        info = _TensorInfo()
        _check(fn(self._h, i, ctypes.byref(info)), "tensor info")
        return info.name.decode(), _DTYPES[info.dtype], tuple(info.dims[:info.rank]), info.dtype

    def set_threads(self, n: int):
        _check(_lib().qcc_model_set_num_threads(self._h, n), "set threads")

    @staticmethod
    def _tensor(arr: np.ndarray, code: int) -> _Tensor:
        t = _Tensor()
        t.dtype, t.rank = code, arr.ndim
        for i, d in enumerate(arr.shape):
            t.dims[i] = d
        t.data, t.byte_size = arr.ctypes.data, arr.nbytes
        return t

    def run(self, feeds: dict) -> dict:
        keep, ins = [], (_Tensor * len(self.inputs))()
        for i, (name, dt, shape, code) in enumerate(self.inputs):
            if name not in feeds:
                raise KeyError(f"missing input {name}")
            a = np.ascontiguousarray(feeds[name], dtype=dt)
            if a.shape != shape:
                raise ValueError(f"input {name}: shape {a.shape} != {shape}")
            keep.append(a)
            ins[i] = self._tensor(a, code)
        res, outs = {}, (_Tensor * len(self.outputs))()
        for i, (name, dt, shape, code) in enumerate(self.outputs):
            res[name] = np.empty(shape, dt)
            res[name].fill(np.nan if np.issubdtype(dt, np.floating) else 0)  # poison
            outs[i] = self._tensor(res[name], code)
        _check(_lib().qcc_model_run(self._h, ins, len(self.inputs), outs, len(self.outputs)), "run")
        return res

    def timed_call(self, feeds: dict):
        """A no-argument function running the model once on `feeds`, the way run() does but with
        the input and output tensors bound once, in 64-byte aligned copies (no per-call Python
        conversion, no staging copy in the runtime): what time_qcc times."""
        lib, keep = _lib(), []
        ins = (_Tensor * len(self.inputs))()
        for i, (name, dt, shape, code) in enumerate(self.inputs):
            a = np.asarray(feeds[name], dtype=dt)
            if a.shape != shape:
                raise ValueError(f"input {name}: shape {a.shape} != {shape}")
            keep.append(aligned_empty(shape, dt))
            keep[-1][...] = a
            ins[i] = self._tensor(keep[-1], code)
        outs = (_Tensor * len(self.outputs))()
        for i, (name, dt, shape, code) in enumerate(self.outputs):
            keep.append(aligned_empty(shape, dt))
            outs[i] = self._tensor(keep[-1], code)
        h, n_in, n_out, run = self._h, len(self.inputs), len(self.outputs), lib.qcc_model_run

        def call():
            _check(run(h, ins, n_in, outs, n_out), "run")
        call.keep = (keep, ins, outs)  # the buffers live as long as the function
        return call

    def close(self):
        if self._h:
            _lib().qcc_model_release(self._h)
            self._h = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown)
            pass


class realtime:
    """`with realtime(on):` runs the block with this thread at SCHED_FIFO priority 1 (threads it
    starts inherit it: load qcc models and onnxruntime sessions inside the block), so that other
    processes' load does not take the CPUs from the timed calls; back to SCHED_OTHER after. Needs
    root or CAP_SYS_NICE; Linux's RT throttling still leaves other processes 5% of each CPU."""

    def __init__(self, on: bool = True):
        self.on = on

    def __enter__(self):
        if self.on:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            except (OSError, AttributeError) as e:
                raise RuntimeError(f"--realtime: cannot switch to SCHED_FIFO ({e})") from e
        return self

    def __exit__(self, *exc):
        if self.on:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        return False


def time_qcc(model: QccModel, feeds: dict, repeat: int, warmup: int) -> float:
    """Median milliseconds of `repeat` in-process qcc_model_run calls after `warmup` ones, timed in
    Python around each call (perf_counter) like H.time_ort times session.run; the calls run back to
    back, inputs and outputs bound once (QccModel.timed_call)."""
    call = model.timed_call(feeds)
    for _ in range(warmup):
        call()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ts))


def time_ort_bound(sess, feeds: dict, repeat: int, warmup: int) -> float:
    """Median milliseconds of `repeat` session.run_with_iobinding calls after `warmup` ones, inputs
    and outputs bound once to numpy buffers (the counterpart of time_qcc: no per-call conversion of
    the feeds nor allocation of the outputs); timed in Python around each call."""
    binding = sess.io_binding()
    keep = []
    for name, value in feeds.items():
        keep.append(np.ascontiguousarray(value))
        binding.bind_cpu_input(name, keep[-1])
    # The output shapes of one plain run on these feeds.
    names = [o.name for o in sess.get_outputs()]
    for name, value in zip(names, sess.run(names, dict(feeds))):
        keep.append(np.empty_like(value))
        binding.bind_output(name, "cpu", 0, keep[-1].dtype, keep[-1].shape, keep[-1].ctypes.data)
    for _ in range(warmup):
        sess.run_with_iobinding(binding)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run_with_iobinding(binding)
        ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ts))


# ----------------------------------------------------------------------------- onnxruntime peers
def weight_matmuls(model) -> list[str]:
    """Names of the MatMul/Gemm nodes whose B operand is an initializer (what qcc quantizes), less
    those whose B also feeds another node (SmolLM2's LM head shares the tied embedding table with
    the Gather): onnxruntime's quantize_dynamic/static rewrite a shared initializer for every
    consumer and the model then fails to load, so those stay float in the onnxruntime int8 rows."""
    inits = {i.name for i in model.graph.initializer}
    uses: dict[str, int] = {}
    for n in model.graph.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    names = [n.name for n in model.graph.node
             if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1 and n.input[1] in inits
             and uses[n.input[1]] == 1]
    if len(set(names)) != len(names) or not all(names):
        raise RuntimeError("weight matmuls need unique node names")
    return names


def ort_note(path: Path) -> str:
    """What ort_model had to change in a model (e.g. per-tensor instead of per-channel), or ''."""
    meta = Path(str(path) + ".meta.json")
    return json.loads(meta.read_text()).get("note", "") if meta.is_file() else ""


def ort_model(src: Path, kind: str, calib_reader_fn=None, calib_key: str = "", fresh: bool = False,
              log=print) -> tuple[Path, float]:
    """onnxruntime's own quantizers on `src` (cached); returns (path, seconds to quantize).
    kinds: fp32; int8dyn (quantize_dynamic, per-channel QInt8 weights, weight matmuls only, like
    qcc); int8dyn_all (quantize_dynamic with its defaults: default op set, per-tensor weights); int8static (quantize_static QDQ, per-channel QInt8
    weights, QUInt8 activations, MinMax over calib_reader_fn(), weight matmuls only);
    int4g{G}[a4][h] (MatMulNBitsQuantizer RTN, symmetric, block G; a4: accuracy_level=4; h: Gemm
    nodes rewritten as MatMul first (gemm_to_matmul) so that they are quantized too)."""
    if kind == "fp32":
        return src, 0.0
    import onnx
    note = ""
    key = _sha(model_identity(src), kind, calib_key, _ort_version(), "v2")[:16]
    d = CACHE / "ort"
    d.mkdir(parents=True, exist_ok=True)
    dst = d / f"{src.stem}-{kind}-{key}.onnx"
    if dst.is_file() and not fresh:
        return dst, json.loads(Path(str(dst) + ".meta.json").read_text())["seconds"]
    for stale in d.glob(f"{src.stem}-{kind}-*.onnx"):  # other builds of this kind (an older key)
        stale.unlink()
        Path(str(stale) + ".meta.json").unlink(missing_ok=True)
    log(f"  onnxruntime quantizer: {src.name} -> {kind}")
    tmp = d / f"tmp-{os.getpid()}-{dst.name}"
    t0 = time.perf_counter()
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    big = (src.stat().st_size + (Path(str(src) + ".data").stat().st_size
                                 if Path(str(src) + ".data").is_file() else 0)) > 1_500_000_000
    if kind in ("int8dyn", "int8dyn_all"):
        nodes = None if kind == "int8dyn_all" else weight_matmuls(onnx.load(str(src), load_external_data=False))
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, nodes_to_quantize=nodes,
                         per_channel=kind == "int8dyn", use_external_data_format=big)
        if kind == "int8dyn":
            try:  # onnxruntime's per-channel MatMul output can fail its own shape inference
                H.ort_session(str(tmp), threads=1, optimize=True)
            except Exception as e:  # noqa: BLE001
                note = f"per-tensor weights: onnxruntime cannot load its per-channel model ({str(e)[:80]})"
                log(f"  {note}")
                quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, nodes_to_quantize=nodes,
                                 per_channel=False, use_external_data_format=big)
    elif kind == "int8static":
        nodes = weight_matmuls(onnx.load(str(src), load_external_data=False))
        quantize_static(str(src), str(tmp), calib_reader_fn(), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=["MatMul", "Gemm"], nodes_to_quantize=nodes, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        use_external_data_format=big)
    elif (m := re.fullmatch(r"int4g(\d+)(a4)?(h)?", kind)):
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
        model = onnx.load(str(src))
        if m.group(3):
            gemm_to_matmul(model)
        q = MatMulNBitsQuantizer(model, block_size=int(m.group(1)), is_symmetric=True,
                                 accuracy_level=4 if m.group(2) else None)
        q.process()
        q.model.save_model_to_file(str(tmp), big)
    else:
        raise ValueError(f"unknown onnxruntime model kind {kind}")
    secs = time.perf_counter() - t0
    os.replace(tmp, dst)
    if Path(str(tmp) + ".data").is_file():
        raise RuntimeError("external data for quantized models is not handled")
    Path(str(dst) + ".meta.json").write_text(json.dumps({"kind": kind, "seconds": round(secs, 2), "note": note}))
    return dst, secs


def gemm_to_matmul(model) -> int:
    """Rewrite Gemm(A, B[, C]) with alpha = beta = 1, transA = 0 and B an initializer as
    MatMul(A, B') (+ Add C), B' = B^T when transB: the same function, in the form onnxruntime's
    MatMulNBits quantizer handles. Returns the number of rewritten nodes."""
    import onnx
    from onnx import helper, numpy_helper
    inits = {i.name: i for i in model.graph.initializer}
    new_nodes, count = [], 0
    for n in model.graph.node:
        at = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        if (n.op_type != "Gemm" or n.input[1] not in inits or at.get("transA", 0) or at.get("alpha", 1.0) != 1.0
                or at.get("beta", 1.0) != 1.0):
            new_nodes.append(n)
            continue
        b = numpy_helper.to_array(inits[n.input[1]])
        if at.get("transB", 0):
            b = np.ascontiguousarray(b.T)
        bname = n.input[1] + "_kxn"
        model.graph.initializer.append(numpy_helper.from_array(b, bname))
        has_c = len(n.input) > 2 and n.input[2]
        mm_out = n.output[0] + "_mm" if has_c else n.output[0]
        new_nodes.append(helper.make_node("MatMul", [n.input[0], bname], [mm_out], name=n.name + "_matmul"))
        if has_c:
            new_nodes.append(helper.make_node("Add", [mm_out, n.input[2]], [n.output[0]], name=n.name + "_bias"))
        count += 1
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    used = {i for n in model.graph.node for i in n.input}
    keep = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    onnx.checker.check_model(model) if model.ByteSize() < 2_000_000_000 else None
    return count


def _ort_version() -> str:
    import onnxruntime
    return onnxruntime.__version__


# ----------------------------------------------------------------------------- real text
def wikitext_sentences(split: str, n: int, min_words: int = 8, max_words: int = 60) -> list[str]:
    """n sentences spread evenly over a WikiText-2 split: the non-heading lines are cut into
    sentences at ' . ', those of min..max words without '<unk>' kept (in file order, WikiText's
    tokenization marks undone), and every k-th taken (k = count // n) so that the picks cover the
    whole file. Deterministic."""
    text = (WIKITEXT / f"{split}.txt").read_text(encoding="utf-8")
    sents = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("="):
            continue
        for part in re.split(r"(?<= \.) ", s):
            words = part.split()
            if min_words <= len(words) <= max_words and "<unk>" not in part:
                sents.append(detokenize(part))
    if len(sents) < n:
        raise RuntimeError(f"only {len(sents)} sentences in {split}.txt")
    step = len(sents) // n
    return [sents[i * step] for i in range(n)]


def detokenize(s: str) -> str:
    """Undo WikiText's tokenization marks: ' @-@ ' -> '-', ' @,@ ' -> ',', ' , ' -> ', ', ..."""
    s = s.strip()
    for a, b in ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), (" ,", ","), (" .", "."), (" ;", ";"),
                 (" :", ":"), (" 's", "'s"), ("( ", "("), (" )", ")"), (" n't", "n't")):
        s = s.replace(a, b)
    return s


def token_windows(ids: np.ndarray, n: int, length: int) -> list[int]:
    """Start offsets of n non-overlapping windows of `length` tokens spread evenly over ids."""
    total = len(ids) // length
    if total < n:
        raise RuntimeError(f"only {total} windows of {length} tokens")
    step = total // n
    return [i * step * length for i in range(n)]


def machine_line() -> str:
    return f"{H.cpu_model_name()} ({os.cpu_count()} logical CPUs)"


def load_avg() -> float:
    return os.getloadavg()[0]


def wait_quiet(limit: float = 1.5, max_wait: float = 1800, log=print) -> float:
    """Wait (up to max_wait s) until the 1-minute load average is below limit; returns it."""
    t0 = time.time()
    la = load_avg()
    warned = False
    while la >= limit and time.time() - t0 < max_wait:
        if not warned:
            log(f"  load {la:.2f} >= {limit}: waiting for a quiet machine")
            warned = True
        time.sleep(20)
        la = load_avg()
    return la
