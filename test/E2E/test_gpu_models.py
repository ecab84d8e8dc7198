"""Compile-only checks (no GPU needed) for running whole real models on the GPU
(bench/gpu_models.py, scripts/gpu/models.sh run them on a GPU machine):

- `--quantize-embeddings` works for GPU targets: the Gather table is stored as int8 rows (the
  weight file shrinks by the table's 3/4) and the PTX assembles;
- row reductions on a warp per row are the default (qcc-gpu-interchange-reductions +
  qcc-gpu-warp-reductions): LayerNorm and Softmax kernels shuffle (shfl.sync.bfly) and launch 32
  times the threads of `--gpu-warp-reductions=false` (one thread per row);
- `-bits=4` on a GPU target is weight-only (W4A16) unless --act says otherwise: every quantized
  matmul, K = 576 (groups fitted to 64) included, runs on the f16 tensor cores (the W4A16 GEMV
  for <= 16 rows, the GEMM above), while `--act=dynamic` (W4A8) stays on the SIMT decode kernel;
- bench/gpu_models.py's weightless timing peer keeps the graph and drops only the big weights.
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import qcc_harness as H
from models import build_case
from test_gpu_compile import assemble, check_artifact, compile_gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def embedding_model(path, rng):
    table = rng.standard_normal((4096, 64)).astype(np.float32)
    w = (rng.standard_normal((64, 32)) / 8).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
         helper.make_node("MatMul", ["e", "w"], ["y"], name="proj")], "emb",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 32])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    return table


@pytest.mark.parametrize("bits", [8, 4])
def test_gpu_quantized_embeddings(bits, tmp_path, base_seed):
    table = embedding_model(tmp_path / "emb.onnx", np.random.default_rng(base_seed))
    plain, quant = tmp_path / "plain" / "model", tmp_path / "quant" / "model"
    compile_gpu(tmp_path / "emb.onnx", plain, bits=bits)
    compile_gpu(tmp_path / "emb.onnx", quant, bits=bits, extra=["--quantize-embeddings"])
    check_artifact(quant, 80)
    before = Path(f"{plain}.weights").stat().st_size
    after = Path(f"{quant}.weights").stat().st_size
    # int8 codes + one f32 scale per row instead of f32 values.
    saved = table.nbytes - (table.size + 4 * table.shape[0])
    assert before - after >= saved - 4096, (before, after, saved)
    assert before - after <= saved + 4096, (before, after, saved)
    assemble(Path(f"{quant}.ptx"), 80)


def _launches(plan):
    return {plan["kernels"][c["kernel"]]: c for c in plan["commands"] if c["op"] == "launch"}


def _kernel(ptx, name):
    start = ptx.index(f".entry {name}(")
    end = ptx.find(".entry ", start + 1)
    return ptx[start:end if end > 0 else len(ptx)]


def reductions_model(path, rng):
    """LayerNorm over rows of 256, mean pooling over the middle axis of [1, 64, 256] (a
    reduction before a parallel dimension), softmax over rows of 128."""
    g = helper.make_graph(
        [helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["n"], name="ln", axis=-1),
         helper.make_node("ReduceSum", ["n", "axes"], ["pooled"], name="pool", keepdims=0),
         helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=-1)], "red",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 256]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [4, 64, 128])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, 256]),
         helper.make_tensor_value_info("p", TensorProto.FLOAT, [4, 64, 128])],
        [numpy_helper.from_array(rng.standard_normal(256).astype(np.float32), "gamma"),
         numpy_helper.from_array(rng.standard_normal(256).astype(np.float32), "beta"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def _threads(cmd):
    return cmd["grid"][0] * cmd["grid"][1] * cmd["grid"][2] * \
        cmd["block"][0] * cmd["block"][1] * cmd["block"][2]


def test_warp_reductions(tmp_path, base_seed):
    mpath = tmp_path / "model.onnx"
    reductions_model(mpath, np.random.default_rng(base_seed))
    prefix = tmp_path / "warp" / "model"
    compile_gpu(mpath, prefix)  # the default
    _, plan, ptx = check_artifact(prefix, 80)
    warp = {k: c for k, c in _launches(plan).items() if "shfl.sync.bfly" in _kernel(ptx, k)}
    for op in ("ln", "pool", "softmax"):
        assert any(k.split("_", 1)[1].startswith(op) for k in warp), \
            f"no {op} kernel reduces across a warp: {sorted(_launches(plan))}"
    for name, cmd in warp.items():
        assert cmd["block"][0] % 32 == 0 and _threads(cmd) % 32 == 0, (name, cmd)
    assemble(Path(f"{prefix}.ptx"), 80)

    serial = tmp_path / "serial" / "model"
    compile_gpu(mpath, serial, extra=["--gpu-warp-reductions=false"])
    _, plan2, ptx2 = check_artifact(serial, 80)
    assert "shfl.sync.bfly" not in ptx2
    # The pooling sum ran on one thread (its parallel dimension of 256 sat behind the
    # reduction); with the interchange it has 256 rows of 32 lanes.
    pool = [c for k, c in _launches(plan2).items() if k.split("_", 1)[1].startswith("pool")]
    assert any(_threads(c) == 1 for c in pool), pool
    pool_warp = [c for k, c in warp.items() if k.split("_", 1)[1].startswith("pool")]
    assert any(_threads(c) == 256 * 32 for c in pool_warp), pool_warp


def int4_model(path, rng):
    """SmolLM2's int4 shapes: K = 576 (not a multiple of the default group of 128), 32 rows
    (W4A16 GEMM) into 1536 columns and one row (W4A16 GEMV) into 192."""
    w1 = (rng.standard_normal((576, 1536)) / 24).astype(np.float32)
    w2 = (rng.standard_normal((576, 192)) / 24).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["y1"], name="gemm"),
         helper.make_node("MatMul", ["t", "w2"], ["y2"], name="gemv")], "int4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 576]),
         helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 1, 576])],
        [helper.make_tensor_value_info("y1", TensorProto.FLOAT, [1, 32, 1536]),
         helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 1, 192])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def _mma_f16_ops(plan, ptx):
    """Node names whose kernels use the f16 tensor cores (mma.sync m16n8k16)."""
    return {k.split("_", 1)[1].rsplit("_", 1)[0] for k in _launches(plan)
            if "mma.sync.aligned.m16n8k16" in _kernel(ptx, k)}


def test_int4_defaults_to_w4a16(tmp_path, base_seed):
    mpath = tmp_path / "model.onnx"
    int4_model(mpath, np.random.default_rng(base_seed))
    prefix = tmp_path / "default" / "model"
    compile_gpu(mpath, prefix, bits=4)
    _, plan, ptx = check_artifact(prefix, 80)
    assert _mma_f16_ops(plan, ptx) == {"gemm", "gemv"}, sorted(_launches(plan))
    # The GEMM stages codes through cp.async; the GEMV reads them straight from global memory.
    gemm = [k for k in _launches(plan) if k.split("_", 1)[1].startswith("gemm")]
    assert any("cp.async" in _kernel(ptx, k) for k in gemm), gemm
    assemble(Path(f"{prefix}.ptx"), 80)

    w4a8 = tmp_path / "w4a8" / "model"
    compile_gpu(mpath, w4a8, bits=4, extra=["--act=dynamic"])
    _, plan2, ptx2 = check_artifact(w4a8, 80)
    assert _mma_f16_ops(plan2, ptx2) == set(), sorted(_launches(plan2))


def test_weightless_peer(tmp_path, base_seed):
    import gpu_models
    rng = np.random.default_rng(base_seed)
    big = rng.standard_normal((128, 64)).astype(np.float32)
    small = np.arange(4, dtype=np.float32)
    shape = np.array([1, 4, 16, 128], np.int64)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "big"], ["m"]),
         helper.make_node("Reshape", ["m", "shape"], ["r"]),
         helper.make_node("Add", ["r", "small"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 128])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 4])],
        [numpy_helper.from_array(big.T.copy(), "big"), numpy_helper.from_array(small, "small"),
         numpy_helper.from_array(shape, "shape")])
    g.output[0].type.tensor_type.shape.dim[3].dim_value = 4
    src, dst = tmp_path / "m.onnx", tmp_path / "peer.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), src)
    dropped = gpu_models.skeleton(src, dst)
    assert dropped == {"big": [64, 128]}
    kept = {i.name for i in onnx.load(str(dst)).graph.initializer}
    assert kept == {"small", "shape"}
    assert [n.op_type for n in onnx.load(str(dst)).graph.node] == ["MatMul", "Reshape", "Add"]
    assert json.loads(json.dumps(dropped)) == dropped
