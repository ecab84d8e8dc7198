#!/usr/bin/env python3
"""Prepares gpu-artifacts/ on the development machine for scripts/gpu/check.sh.

For every gpu-artifacts/<name>/ holding a compiled artifact (model.json, from
`qcc model.onnx -target=sm_80 ... -o gpu-artifacts/<name>/model`) and its
model.onnx, writes inputs.npz (seeded random inputs, or kept if present) and
reference.npz (onnxruntime CPU outputs on them), so the GPU machine compares
against the same reference. With --handwritten TOOL, also writes
gpu-artifacts/handwritten-axpb/: the hand-written PTX artifact of the runtime
tests (TOOL = build dir's test/qcc-runtime-make-test-artifact) with an ONNX
model computing the same function, which checks the bench pipeline itself.

  .venv/bin/python scripts/gpu/prepare.py [--handwritten TOOL]
"""

import argparse
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
        handwritten(args.handwritten, os.path.join(args.artifacts, "handwritten-axpb"))
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
