"""qcc-fold-conv-affine end to end: BatchNormalization (inference) and Mul / Add by per-channel
constants after a Conv are folded into the conv's weights and one bias add. Outputs vs onnxruntime
(rel-L2 <= 1e-5, fp32); each model also checks that the folded chain left no rsqrt / division in
the tensor-level IR where it should fold, and that chains it must not fold (a Mul by a
non-constant, a grouped conv) still compute the same thing."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
import qcc_harness as H  # noqa: E402
from models import G, normal  # noqa: E402


def _chan(g, name, c, lo=0.5, hi=1.5):
    return g.const(name, g.rng.uniform(lo, hi, (c, 1, 1)).astype(np.float32))


def conv_bn_relu_batch2(rng):
    g = G(rng)
    h = g.op("Relu", g.bn(g.conv("x", 8, 16, 3), 16))
    g.out("y", g.op("Relu", g.bn(g.conv(h, 16, 16, 3, stride=2, bias=False), 16)))
    return g, {"x": normal(rng, 2, 8, 10, 10)}, True


def conv_mul_add(rng):
    g = G(rng)
    h = g.op("Add", g.op("Mul", g.conv("x", 4, 12, 3), _chan(g, "s", 12)), _chan(g, "t", 12, -0.5, 0.5))
    h = g.op("Div", h, g.const("d", np.array(2.0, np.float32)))
    g.out("y", g.op("Relu", h))
    return g, {"x": normal(rng, 1, 4, 9, 9)}, True


def depthwise_bn_residual(rng):
    g = G(rng)
    h = g.bn(g.conv("x", 16, 16, 3, group=16), 16)
    g.out("y", g.op("Relu", g.op("Add", h, "x")))
    return g, {"x": normal(rng, 1, 16, 8, 8)}, True


def grouped_bn_and_dynamic_mul(rng):
    # Grouped conv (not folded) -> BN; a 1x1 conv times the input itself (not a constant).
    g = G(rng)
    h = g.op("Relu", g.bn(g.conv("x", 8, 8, 3, group=2), 8))
    g.out("y", g.op("Mul", g.conv(h, 8, 8, 1), h))
    return g, {"x": normal(rng, 1, 8, 6, 6)}, False


MODELS = {f.__name__: f for f in (conv_bn_relu_batch2, conv_mul_add, depthwise_bn_residual,
                                  grouped_bn_and_dynamic_mul)}


@pytest.mark.parametrize("name", list(MODELS))
def test_fold_matches_onnxruntime(name, tmp_path):
    if not H.tools_present():
        pytest.skip("qcc not built")
    g, feeds, folds = MODELS[name](np.random.default_rng(3))
    model = g.model(feeds, ["y"])
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    prefix = tmp_path / "art" / "m"
    r = H.compile_model(path, prefix, target="host", bits=32)
    assert r.ok, r.first_error_line()
    rr = H.run_artifact(prefix, H.save_inputs(feeds, tmp_path / "in"), tmp_path / "out")
    assert rr.ok, rr.first_error_line()
    ref = H.ort_run(str(path), feeds)
    got = H.load_outputs(tmp_path / "out", ref)["y"]
    err = H.rel_l2(got, ref["y"])
    assert err <= 1e-5, f"{name}: rel-L2 {err:.3e}"
    # The folded chains leave no per-element rsqrt / division at the tensor level.
    mlir = subprocess.run([str(H.QCC), str(path), "--emit=mlir", "-o", "-"], capture_output=True, text=True,
                          check=True).stdout
    opt = Path(H.QCC).with_name("qcc-opt")
    tensor_ir = subprocess.run([str(opt), "-", "--qcc-cpu-tensor-pipeline"], input=mlir, capture_output=True,
                               text=True, check=True).stdout
    left = tensor_ir.count("math.rsqrt") + tensor_ir.count("arith.divf")
    if folds:
        assert left == 0, f"{name}: {left} rsqrt/divf left after folding"
    else:
        assert tensor_ir.count("math.rsqrt") >= 1, f"{name}: the grouped conv's BatchNorm must stay"
