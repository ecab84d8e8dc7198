#!/usr/bin/env python3
"""Prepares gpu-artifacts/ on the development machine for scripts/gpu/check.sh.

For every gpu-artifacts/<name>/ holding a compiled artifact (model.json, from
`qcc model.onnx -target=sm_80 ... -o gpu-artifacts/<name>/model`) and its
model.onnx, writes inputs.npz (seeded random inputs, or kept if present) and
reference.npz (onnxruntime CPU outputs on them), so the GPU machine compares
against the same reference. With --handwritten TOOL, also writes
gpu-artifacts/handwritten-axpb/: the hand-written PTX artifact of the runtime
tests (TOOL = build dir's test/qcc-runtime-make-test-artifact) with an ONNX
model computing the same function, which checks the bench pipeline itself,
and gpu-artifacts/handwritten-chain/: the test module's scale kernel launched
256 times in a chain on 4096 floats, written here (plan, manifest and content
hash per docs/ARTIFACT.md), which measures per-launch overhead (graph replay
against eager launches against PyTorch eager).

  .venv/bin/python scripts/gpu/prepare.py [--handwritten TOOL]
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from bench_gpu import make_inputs  # noqa: E402


def handwritten(tool, folder):
    """The runtime tests' PTX artifact plus an equivalent ONNX model."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    os.makedirs(folder, exist_ok=True)
    subprocess.run([tool, "cuda", folder, "model"], check=True, stdout=subprocess.DEVNULL)
    for scratch in ("a.npy", "b.npy", "y.expected.npy", "z.expected.npy"):
        os.remove(os.path.join(folder, scratch))
    n = 1000
    w = (0.25 * (np.arange(n) % 13) - 1.0).astype(np.float32)
    nodes = [
        helper.make_node("Add", ["a", "b"], ["s"]),
        helper.make_node("Mul", ["s", "half"], ["h"]),
        helper.make_node("Add", ["h", "w"], ["y"]),
        helper.make_node("Mul", ["y", "minus2"], ["z"]),
        helper.make_node("Constant", [], ["flag"], value=numpy_helper.from_array(
            np.full(16, 7, np.uint8), "flag_value")),
    ]
    graph = helper.make_graph(
        nodes, "handwritten_axpb",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n]) for x in "ab"],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [n]),
         helper.make_tensor_value_info("flag", TensorProto.UINT8, [16])],
        [numpy_helper.from_array(w, "w"),
         numpy_helper.from_array(np.array(0.5, np.float32), "half"),
         numpy_helper.from_array(np.array(-2.0, np.float32), "minus2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, os.path.join(folder, "model.onnx"))
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"title": "hand-written PTX (runtime test artifact)"}, f)


def chain(folder, ptx_path, launches=256, n=4096):
    """A launch-overhead artifact: y = x * 0.99 ** launches, one launch each."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    os.makedirs(folder, exist_ok=True)
    ptx = open(ptx_path, "rb").read()
    size = n * 4
    commands = []
    src = {"ptr": "input", "index": 0, "offset": 0}
    for i in range(launches):
        dst = {"ptr": "arena", "offset": 0 if i % 2 == 0 else size}
        commands.append({"op": "launch", "kernel": 0, "grid": [n // 256, 1, 1],
                         "block": [256, 1, 1], "shared_bytes": 0,
                         "args": [src, dst, {"f32": 0.99}, {"i64": n}]})
        src = dst
    commands.append({"op": "copy", "dst": {"ptr": "output", "index": 0, "offset": 0},
                     "src": src, "bytes": size})
    plan = json.dumps({"plan_version": 1, "arena_bytes": 2 * size,
                       "kernels": ["qcc_test_scale"], "commands": commands},
                      indent=1).encode()
    weights = b""
    sha = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
    io = "in x float32 %d\nout y float32 %d\n" % (n, n)
    content = sha(("qcc-artifact-v1\n%s\n%s\nplan %s\n%s" % (
        sha(ptx), sha(weights), sha(plan), io)).encode())
    manifest = {
        "format": "qcc-artifact", "format_version": 1, "compiler": "prepare.py",
        "source_model": "model.onnx", "source_model_sha256": sha(b""),
        "target": {"name": "sm_80", "kind": "cuda", "sm": 80, "ptx_isa": "7.0"},
        "bits": 32, "library": "model.ptx", "library_sha256": sha(ptx),
        "plan": "model.plan.json", "plan_sha256": sha(plan),
        "weights": "model.weights", "weights_size": 0, "weights_sha256": sha(weights),
        "inputs": [{"name": "x", "dtype": "float32", "shape": [n]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": [n]}],
        "content_hash": content}
    for name, data in (("model.ptx", ptx), ("model.plan.json", plan),
                       ("model.weights", weights),
                       ("model.json", json.dumps(manifest, indent=1).encode())):
        open(os.path.join(folder, name), "wb").write(data)
    nodes = [helper.make_node("Mul", ["x" if i == 0 else "t%d" % (i - 1), "s"],
                              ["y" if i == launches - 1 else "t%d" % i])
             for i in range(launches)]
    graph = helper.make_graph(
        nodes, "handwritten_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])],
        [numpy_helper.from_array(np.array(0.99, np.float32), "s")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(folder, "model.onnx"))
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"title": "launch overhead: %d chained launches on %d floats"
                   % (launches, n)}, f)


def prepare(folder):
    import onnxruntime as ort
    manifest = json.load(open(os.path.join(folder, "model.json")))
    meta_path = os.path.join(folder, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    inputs_path = os.path.join(folder, "inputs.npz")
    if os.path.exists(inputs_path):
        feeds = dict(np.load(inputs_path))
    else:
        feeds = make_inputs(manifest, meta, np.random.default_rng(20261122))
        np.savez(inputs_path, **feeds)
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    names = [o["name"] for o in manifest["outputs"]]
    inputs = {i.name for i in session.get_inputs()}
    outputs = session.run(names, {k: v for k, v in feeds.items() if k in inputs})
    np.savez(os.path.join(folder, "reference.npz"), **dict(zip(names, outputs)))
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print("%-40s %6.1f MiB" % (folder, size / 2**20))
    return size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default=os.path.join(ROOT, "gpu-artifacts"))
    parser.add_argument("--handwritten", metavar="TOOL")
    args = parser.parse_args()
    if args.handwritten:
        axpb = os.path.join(args.artifacts, "handwritten-axpb")
        handwritten(args.handwritten, axpb)
        chain(os.path.join(args.artifacts, "handwritten-chain"),
              os.path.join(axpb, "model.ptx"))
    total = 0
    for name in sorted(os.listdir(args.artifacts)):
        folder = os.path.join(args.artifacts, name)
        if os.path.exists(os.path.join(folder, "model.json")) and \
                os.path.exists(os.path.join(folder, "model.onnx")):
            total += prepare(folder)
    print("total %.1f MiB (the device tool carries at most 64 MiB per call)" % (total / 2**20))
    return 1 if total > 60 * 2**20 else 0


if __name__ == "__main__":
    sys.exit(main())
