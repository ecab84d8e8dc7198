"""Models whose inputs or intermediate tensors have a zero-size dimension: qcc compiles them
(qcc-fold-empty-tensors folds the empty tensors away) and the artifact's outputs equal
onnxruntime's, exactly (every result here is empty, a fill, or an unchanged operand)."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper as oh, numpy_helper

import qcc_harness as H


def _model(nodes, inputs, inits=()):
    g = oh.make_graph(nodes, "g", [oh.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                      [oh.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])
    return onnx.shape_inference.infer_shapes(m)


def _w(shape, name="w"):
    return numpy_helper.from_array(np.arange(np.prod(shape), dtype=np.float32).reshape(shape) - 1.5, name)


CASES = {
    # K = 0: the product is all zeros.
    "matmul_k0": lambda: _model([oh.make_node("MatMul", ["x", "w"], ["y"])], [("x", [2, 0])], [_w([0, 3])]),
    # M = 0: an empty product.
    "matmul_m0": lambda: _model([oh.make_node("MatMul", ["x", "w"], ["y"])], [("x", [0, 4])], [_w([4, 3])]),
    "relu_empty": lambda: _model([oh.make_node("Relu", ["x"], ["y"])], [("x", [3, 0])]),
    "softmax_empty_axis": lambda: _model([oh.make_node("Softmax", ["x"], ["y"], axis=-1)], [("x", [2, 0])]),
    # Reduction over an empty axis: the sum is 0.
    "reducesum_empty": lambda: _model([oh.make_node("ReduceSum", ["x"], ["y"], keepdims=1)], [("x", [0, 3])]),
    # Concat of an empty tensor: the other operand, plus one.
    "concat_empty": lambda: _model([oh.make_node("Concat", ["x", "z"], ["c"], axis=1),
                                    oh.make_node("Add", ["c", "w"], ["y"])],
                                   [("x", [2, 0]), ("z", [2, 3])], [_w([3])]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_zero_size(case, tmp_path):
    if not H.tools_present():
        pytest.skip("qcc tools not built")
    model = CASES[case]()
    path = tmp_path / f"{case}.onnx"
    onnx.save(model, path)
    rng = np.random.default_rng(7)
    feeds = {i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(np.float32)
             for i in model.graph.input}
    expected = H.ort_run(model.SerializeToString(), feeds)["y"]
    r = H.compile_model(path, tmp_path / "art" / "model", timeout=120)
    assert r.ok, r.describe()
    r = H.run_artifact(tmp_path / "art" / "model", H.save_inputs(feeds, tmp_path / "in"), tmp_path / "out",
                       timeout=60)
    assert r.ok, r.describe()
    got = H.load_outputs(tmp_path / "out", ["y"])["y"]
    assert got is not None and got.shape == expected.shape, (None if got is None else got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)
