"""Structured mutation fuzzing of qcc's runtime loader (qcc-run, through the C API): a tampered
artifact or input file must give ONE line `qcc-run: error: ...` and exit 1, never a crash, a hang,
or outputs that differ from the untouched artifact's.

Mutations, one field at a time:
  manifest   every JSON leaf of a CPU artifact's manifest (deleted, null, wrong type, negative,
             huge, empty, path-like strings; arrays emptied or extended), twice: as is (the
             integrity check may catch it) and with content_hash recomputed, so that the field
             reaches the loader's own checks
  plan       every JSON leaf of a GPU (sm_80) artifact's plan.json, with plan_sha256 and
             content_hash recomputed: the plan is parsed and validated before the CUDA driver is
             touched, so without a GPU a plan that passes validation ends at "CUDA driver ... not
             found" (class `parsed`)
  npy, pb    input headers: dtype descr, shape, fortran_order, header length, magic version,
             truncated or extended data; TensorProto dims, data_type, raw_data length
  options    --threads values

Classes: error (good), ok (exit 0 and outputs equal the untouched run's: the field is not used),
parsed (GPU plan accepted), mismatch / bad-error / crash / timeout (BUGS). A CPU manifest whose
I/O fields or weight size were rewritten with content_hash recomputed is refused too: the library
exports the I/O and weight size it was compiled for (qcc_artifact_io_signature), so its bad
outcomes count as bugs like any other.

  .venv/bin/python test/E2E/fuzz_runtime.py [-k manifest] [--max N] [-j 2]
"""
from __future__ import annotations

import argparse
import collections
import copy
import hashlib
import json
import shutil
import struct
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

import fuzz_onnx as F  # noqa: E402
import qcc_harness as H  # noqa: E402

BAD = ("mismatch", "bad-error", "crash", "timeout")


# ============================================================================ JSON mutations
def _leaves(v, path=()):
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _leaves(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v[:3]):  # the first few elements of long lists
            yield from _leaves(x, path + (i,))


def _replacements(v):
    out = [("null", None), ("[]", []), ("{}", {}), ("true", True)]
    if isinstance(v, bool):
        out += [("0", 0), ('"true"', "true")]
    elif isinstance(v, int):
        out += [("-1", -1), ("0", 0), ("+1", v + 1), ("huge", 1 << 62), ("2^64", 1 << 64),
                ("-huge", -(1 << 62)), ("1.5", 1.5), ("1e300", 1e300), ('"1"', str(v))]
    elif isinstance(v, float):
        out += [("-1", -1.0), ("0", 0), ("nan", float("nan")), ("1e300", 1e300)]
    elif isinstance(v, str):
        out += [('""', ""), ('"x"', "x"), ("../path", "../../../etc/passwd"), ("0", 0),
                ("long", "a" * 5000), ("nul", "a\u0000b")]
    elif isinstance(v, list):
        out = [("null", None), ("{}", {}), ("0", 0)]
        if v:
            out += [("pop", v[:-1]), ("dup", v + [v[-1]]), ("rev", v[::-1])]
        out += [("append -1", v + [-1]), ("append huge", v + [1 << 62])]
    elif isinstance(v, dict):
        out = [("null", None), ("[]", []), ("0", 0), ("+key", {**v, "zz_extra": 1})]
    return out


def json_mutations(doc) -> list[tuple[str, object]]:
    """(name, mutated document) for every leaf and replacement, plus deleted keys."""
    res = []
    for path, v in _leaves(doc):
        if not path:
            continue
        where = ".".join(map(str, path))
        for tag, new in _replacements(v):
            d = copy.deepcopy(doc)
            _set(d, path, new)
            res.append((f"{where}={tag}", d))
        if isinstance(path[-1], str):
            d = copy.deepcopy(doc)
            parent = d
            for p in path[:-1]:
                parent = parent[p]
            del parent[path[-1]]
            res.append((f"{where} deleted", d))
    return res


def _set(d, path, v):
    for p in path[:-1]:
        d = d[p]
    d[path[-1]] = v


def rehash(man: dict) -> bool:
    """Recomputes content_hash (the runtime's formula, runtime/src/Manifest.cpp) when the fields it
    covers are still well-formed; False otherwise."""
    try:
        io = ""
        for kind, key in (("in", "inputs"), ("out", "outputs")):
            for t in man[key]:
                dims = "x".join(str(int(d)) for d in t["shape"]) if t["shape"] else "scalar"
                io += f"{kind} {t['name']} {t['dtype']} {dims}\n"
        plan = f"plan {man['plan_sha256']}\n" if man.get("plan_sha256") else ""
        text = f"qcc-artifact-v1\n{man['library_sha256']}\n{man['weights_sha256']}\n{plan}{io}"
    except (KeyError, TypeError, ValueError):
        return False
    man["content_hash"] = hashlib.sha256(text.encode()).hexdigest()
    return True


# ============================================================================ input-file mutations
def npy_mutations(arr: np.ndarray) -> list[tuple[str, bytes]]:
    import io
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    good = buf.getvalue()
    hlen = struct.unpack("<H", good[8:10])[0]
    header = good[10:10 + hlen].decode("latin1")
    data = good[10 + hlen:]

    def with_header(h: str, ver=b"\x01\x00") -> bytes:
        h = h.rstrip("\n")
        pad = (64 - (10 + len(h) + 1) % 64) % 64
        h = h + " " * pad + "\n"
        return b"\x93NUMPY" + ver + struct.pack("<H", len(h)) + h.encode("latin1") + data

    shape = str(tuple(arr.shape))
    res = []
    for descr in ("<f8", "<f2", ">f4", "|u1", "<i8", "|b1", "O", "<c8", "<U4", "", "<f4x", "V4"):
        res.append((f"npy descr={descr!r}", with_header(header.replace("'<f4'", repr(descr)))))
    for sh in ("()", "(-1,)", f"({1 << 62}, 32)", "(4, 32, 1)", "(32, 4)", "(4,)", "(0, 32)", "(4, 32",
               "('a', 32)", f"({1 << 31}, {1 << 31})", "(4, -32)"):
        res.append((f"npy shape={sh}", with_header(header.replace(shape, sh))))
    res.append(("npy fortran_order=True", with_header(header.replace("False", "True"))))
    res.append(("npy fortran_order=1", with_header(header.replace("False", "1"))))
    res.append(("npy header not a dict", with_header("[1, 2, 3]")))
    res.append(("npy header missing shape", with_header("{'descr': '<f4', 'fortran_order': False}")))
    res.append(("npy header garbage", with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 32), }}}")))
    res.append(("npy magic v2", good[:6] + b"\x02\x00" + struct.pack("<I", hlen) + good[10:]))
    res.append(("npy magic v9", good[:6] + b"\x09\x00" + good[8:]))
    res.append(("npy header len huge", good[:8] + struct.pack("<H", 65535) + good[10:]))
    res.append(("npy header len 0", good[:8] + struct.pack("<H", 0) + good[10:]))
    res.append(("npy truncated data", good[:-4]))
    res.append(("npy truncated header", good[:20]))
    res.append(("npy extra data", good + b"\0" * 16))
    res.append(("npy magic only", good[:10]))
    return res


def pb_mutations(arr: np.ndarray) -> list[tuple[str, bytes]]:
    t = nh.from_array(arr, "x")
    res = []

    def mut(name, fn):
        x = copy.deepcopy(t)
        fn(x)
        res.append((f"pb {name}", x.SerializeToString()))
    mut("dims[0]=-1", lambda x: x.dims.__setitem__(0, -1))
    mut("dims[0]=huge", lambda x: x.dims.__setitem__(0, 1 << 62))
    mut("dims rank+1", lambda x: x.dims.append(1))
    mut("dims cleared", lambda x: x.ClearField("dims"))
    mut("data_type=double", lambda x: setattr(x, "data_type", onnx.TensorProto.DOUBLE))
    mut("data_type=string", lambda x: setattr(x, "data_type", onnx.TensorProto.STRING))
    mut("data_type=999", lambda x: setattr(x, "data_type", 999))
    mut("raw_data short", lambda x: setattr(x, "raw_data", x.raw_data[:-4]))
    mut("raw_data long", lambda x: setattr(x, "raw_data", x.raw_data + b"\0" * 4))
    mut("raw_data cleared", lambda x: x.ClearField("raw_data"))
    mut("external data", lambda x: (x.ClearField("raw_data"), setattr(x, "data_location", 1),
                                    x.external_data.add().__setattr__("key", "location")))
    good = t.SerializeToString()
    res.append(("pb truncated", good[: len(good) // 2]))
    res.append(("pb garbage", b"\xff" * 64))
    return res


# ============================================================================ driver
class Fixture:
    """A compiled CPU MLP (+ its reference outputs) and a GPU MLP, in `root`."""

    def __init__(self, root: Path):
        from models import build_case
        self.root = root
        model, feeds = build_case("mlp", 1234)
        onnx.save(model, root / "mlp.onnx")
        self.feeds = feeds
        self.inputs = H.save_inputs(feeds, root / "in")
        self.cpu = root / "cpu" / "m"
        self.gpu = root / "gpu" / "m"
        for prefix, target in ((self.cpu, "host"), (self.gpu, "sm_80")):
            r = H.compile_model(root / "mlp.onnx", prefix, target=target, timeout=300)
            if not r.ok:
                raise RuntimeError(f"cannot compile the MLP for {target}: {r.first_error_line()}")
        r = H.run_artifact(self.cpu, self.inputs, root / "ref", timeout=60)
        if not r.ok:
            raise RuntimeError(f"the untouched artifact fails: {r.first_error_line()}")
        names = [o["name"] for o in json.loads(self.cpu.with_suffix(".json").read_text())["outputs"]]
        self.ref = H.load_outputs(root / "ref", names)


def copy_artifact(prefix: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for f in prefix.parent.glob(prefix.name + ".*"):
        shutil.copy(f, dest / f.name)
    return dest / prefix.name


def classify_run(r: H.ToolResult, out: Path, ref: dict | None, gpu: bool = False) -> tuple[str, str]:
    cls, detail = F.classify_exit(r, "qcc-run: error:", exit_code=1)
    if cls == "ok" and ref is not None:
        got = H.load_outputs(out, list(ref))
        for n, e in ref.items():
            err = H.compare_rel_l2(got[n], e, 0.0)
            if err:
                return "mismatch", f"output {n}: {err}"
    if cls == "error" and gpu and "CUDA driver" in detail:
        return "parsed", detail
    return cls, detail


def _manifest_job(fx: Fixture, name: str, doc, fix_hash: bool, work: Path):
    d = Path(tempfile.mkdtemp(dir=work))
    t = copy_artifact(fx.cpu, d / "a")
    if fix_hash and isinstance(doc, dict) and not rehash(doc):
        shutil.rmtree(d, ignore_errors=True)
        return None
    t.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    r = H.run_artifact(t, fx.inputs, d / "out", timeout=60)
    res = classify_run(r, d / "out", fx.ref)
    shutil.rmtree(d, ignore_errors=True)
    return res


def _plan_job(fx: Fixture, name: str, doc, work: Path):
    d = Path(tempfile.mkdtemp(dir=work))
    t = copy_artifact(fx.gpu, d / "a")
    text = json.dumps(doc, indent=1)
    plan = t.parent / (t.name + ".plan.json")
    plan.write_text(text)
    man = json.loads(t.with_suffix(".json").read_text())
    man["plan_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    rehash(man)
    t.with_suffix(".json").write_text(json.dumps(man, indent=1))
    r = H.run_artifact(t, fx.inputs, d / "out", timeout=60)
    res = classify_run(r, d / "out", None, gpu=True)
    shutil.rmtree(d, ignore_errors=True)
    return res


def _input_job(fx: Fixture, name: str, data: bytes, suffix: str, work: Path):
    d = Path(tempfile.mkdtemp(dir=work))
    p = d / f"x{suffix}"
    p.write_bytes(data)
    r = H.run_artifact(fx.cpu, {"x": p}, d / "out", timeout=60)
    res = classify_run(r, d / "out", fx.ref)
    shutil.rmtree(d, ignore_errors=True)
    return res


def _threads_job(fx: Fixture, name: str, value: str, work: Path):
    d = Path(tempfile.mkdtemp(dir=work))
    cmd = [H.QCC_RUN, fx.cpu]
    for n, p in fx.inputs.items():
        cmd += ["--input", f"{n}={p}"]
    cmd += ["--output-dir", d / "out", "--threads", value]
    r = H.run_tool(cmd, timeout=60)
    res = classify_run(r, d / "out", fx.ref)
    shutil.rmtree(d, ignore_errors=True)
    return res


def jobs_for(fx: Fixture, kinds: str, work: Path) -> list[tuple[str, callable]]:
    jobs = []
    if "manifest" in kinds:
        man = json.loads(fx.cpu.with_suffix(".json").read_text())
        for name, doc in json_mutations(man):
            jobs.append((f"manifest {name}", lambda doc=doc: _manifest_job(fx, "", copy.deepcopy(doc), False, work)))
            jobs.append((f"manifest {name} (rehashed)", lambda doc=doc: _manifest_job(fx, "", copy.deepcopy(doc), True, work)))
    if "plan" in kinds:
        plan = json.loads((fx.gpu.parent / (fx.gpu.name + ".plan.json")).read_text())
        for name, doc in json_mutations(plan):
            jobs.append((f"plan {name}", lambda doc=doc: _plan_job(fx, "", doc, work)))
    x = fx.feeds["x"]
    if "npy" in kinds:
        for name, data in npy_mutations(x):
            jobs.append((name, lambda data=data: _input_job(fx, "", data, ".npy", work)))
    if "pb" in kinds:
        for name, data in pb_mutations(x):
            jobs.append((name, lambda data=data: _input_job(fx, "", data, ".pb", work)))
    if "options" in kinds:
        for v in ("0", "-1", "999999", "1e3", "abc", "", str(1 << 40), "2"):
            jobs.append((f"--threads {v!r}", lambda v=v: _threads_job(fx, "", v, work)))
    return jobs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", default="manifest,plan,npy,pb,options", help="comma list of mutation kinds")
    ap.add_argument("--max", type=int, default=0, help="at most N mutants (random sample; 0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-j", type=int, default=1)
    ap.add_argument("--show", default=",".join(BAD), help="classes whose mutants are listed")
    a = ap.parse_args(argv)
    if not H.tools_present():
        print(f"fuzz_runtime: qcc tools not built in {H.BUILD_DIR}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="qcc-fuzzrt-"))
    fx = Fixture(work)
    jobs = jobs_for(fx, a.k, work)
    if a.max and len(jobs) > a.max:
        import random
        jobs = random.Random(a.seed).sample(jobs, a.max)
    print(f"fuzz_runtime: {len(jobs)} mutants ({H.QCC_RUN})", flush=True)
    show = set(a.show.split(","))
    counts = collections.Counter()
    with ThreadPoolExecutor(max(1, a.j)) as ex:
        for (name, _), res in zip(jobs, ex.map(lambda j: j[1](), jobs)):
            if res is None:
                counts["skipped"] += 1
                continue
            counts[res[0]] += 1
            if res[0] in show:
                print(f"  {res[0]:9s} {name}: {res[1]}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print("fuzz_runtime: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if any(counts[c] for c in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
