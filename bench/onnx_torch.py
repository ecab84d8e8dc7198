"""A small ONNX interpreter in PyTorch: the "PyTorch eager fp16" peer of
bench/bench_gpu.py (MEASURING.md) for whole models.

Each node runs as the matching torch operation, in graph order, on the GPU;
float tensors are computed in `dtype` (fp16 by default). Small integer
tensors (shapes, indices up to 64 elements, as model code keeps them in
Python) stay on the CPU so that shape arithmetic does not synchronize the
device, the way hand-written PyTorch model code behaves. Covers the ops of
the project's models (scripts/models, test/E2E/models.py); an op it lacks
raises NotImplementedError naming it.
"""

import math

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

SMALL = 64  # integer tensors up to this many elements stay on the CPU

_ONNX_TO_TORCH = {
    1: torch.float32, 2: torch.uint8, 3: torch.int8, 5: torch.int16,
    6: torch.int32, 7: torch.int64, 9: torch.bool, 10: torch.float16,
    11: torch.float64, 16: torch.bfloat16,
}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def random_like_shapes(shapes, seed=0):
    """Random float weights {name: array} for {name: shape}: N(0, 1/fan_in), fan_in the
    first dimension (a MatMul's K), for timing a model whose weights did not travel."""
    rng = np.random.default_rng(seed)
    return {name: (rng.standard_normal(shape, dtype=np.float32)
                   / math.sqrt(max(shape[0], 1))).astype(np.float16)
            for name, shape in shapes.items()}


class OnnxTorch:
    def __init__(self, path, dtype=torch.float16, device="cuda", extra_consts=None):
        """`extra_consts` ({name: array}) supplies initializers missing from the file
        (a skeleton model whose large weights were dropped, see random_like_shapes)."""
        self.model = onnx.load(path)
        self.graph = self.model.graph
        self.dtype = dtype
        self.device = device
        self.opset = max((o.version for o in self.model.opset_import
                          if o.domain in ("", "ai.onnx")), default=17)
        self.consts = {init.name: self._place(numpy_helper.to_array(init))
                       for init in self.graph.initializer}
        for name, array in (extra_consts or {}).items():
            self.consts[name] = self._place(array)
        self.inputs = [i.name for i in self.graph.input if i.name not in self.consts]
        self.outputs = [o.name for o in self.graph.output]

    def _place(self, array):
        t = torch.from_numpy(np.ascontiguousarray(array))
        if t.is_floating_point():
            return t.to(self.device, self.dtype)
        if t.numel() <= SMALL:
            return t
        return t.to(self.device)

    def _gpu(self, t):
        return t.to(self.device) if t.device.type != "cuda" else t

    def __call__(self, feeds):
        env = dict(self.consts)
        for name in self.inputs:
            env[name] = self._place(feeds[name]) if isinstance(feeds[name], np.ndarray) \
                else feeds[name]
        for node in self.graph.node:
            args = [env[n] if n else None for n in node.input]
            results = self._run(node, args, _attrs(node))
            if not isinstance(results, (tuple, list)):
                results = (results,)
            for name, value in zip(node.output, results):
                env[name] = value
        return [env[name] for name in self.outputs]

    def _same_device(self, args):
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if any(t.device.type == "cuda" for t in tensors):
            return [self._gpu(a) if isinstance(a, torch.Tensor) else a for a in args]
        return args

    def _run(self, node, args, at):
        op = node.op_type
        unary = {
            "Relu": torch.relu, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid,
            "Erf": torch.erf, "Sqrt": torch.sqrt, "Neg": torch.neg, "Exp": torch.exp,
            "Reciprocal": torch.reciprocal, "Sin": torch.sin, "Cos": torch.cos,
            "Not": torch.logical_not, "Identity": lambda x: x, "Abs": torch.abs,
            "Log": torch.log, "HardSwish": F.hardswish,
        }
        binary = {
            "Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Pow": torch.pow,
            "Equal": torch.eq, "Less": torch.lt, "Greater": torch.gt,
            "Or": torch.logical_or, "And": torch.logical_and, "Max": torch.maximum,
            "Min": torch.minimum,
        }
        if op in unary:
            return unary[op](args[0])
        if op in binary or op in ("Div", "Where", "MatMul", "Concat", "Expand"):
            args = self._same_device(args)
        if op in binary:
            return binary[op](args[0], args[1])
        if op == "Div":
            a, b = args
            if not a.is_floating_point() and not b.is_floating_point():
                return torch.div(a, b, rounding_mode="trunc")
            return a / b
        if op == "MatMul":
            return torch.matmul(args[0], args[1])
        if op == "Gemm":
            a, b = args[0], args[1]
            if at.get("transA", 0):
                a = a.t()
            if at.get("transB", 0):
                b = b.t()
            y = at.get("alpha", 1.0) * (a @ b)
            if len(args) > 2 and args[2] is not None:
                y = y + at.get("beta", 1.0) * args[2]
            return y
        if op == "Softmax":
            return torch.softmax(args[0], dim=at.get("axis", -1))
        if op == "LayerNormalization":
            x, scale = args[0], args[1]
            bias = args[2] if len(args) > 2 else None
            axis = at.get("axis", -1) % x.dim()
            return F.layer_norm(x, x.shape[axis:], scale, bias, at.get("epsilon", 1e-5))
        if op == "ReduceL2":
            axes = at.get("axes")
            if axes is None and len(args) > 1 and args[1] is not None:
                axes = args[1].tolist()
            dims = tuple(axes) if axes else tuple(range(args[0].dim()))
            return torch.linalg.vector_norm(args[0], 2, dim=dims,
                                            keepdim=bool(at.get("keepdims", 1)))
        if op == "ReduceMean" or op == "ReduceSum":
            axes = at.get("axes")
            if axes is None and len(args) > 1 and args[1] is not None:
                axes = args[1].tolist()
            keep = bool(at.get("keepdims", 1))
            fn = torch.mean if op == "ReduceMean" else torch.sum
            if not axes:
                return fn(args[0]) if not keep else fn(args[0]).reshape([1] * args[0].dim())
            return fn(args[0], dim=tuple(axes), keepdim=keep)
        if op == "Reshape":
            shape = [int(v) for v in args[1].tolist()]
            x = args[0]
            if not at.get("allowzero", 0):
                shape = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
            return x.reshape(shape)
        if op == "Flatten":
            axis = at.get("axis", 1)
            return args[0].reshape(int(np.prod(args[0].shape[:axis])), -1)
        if op == "Transpose":
            perm = at.get("perm") or list(range(args[0].dim()))[::-1]
            return args[0].permute(perm)
        if op == "Unsqueeze" or op == "Squeeze":
            axes = at.get("axes")
            if axes is None and len(args) > 1 and args[1] is not None:
                axes = args[1].tolist()
            x = args[0]
            if op == "Squeeze":
                if axes is None:
                    return x.squeeze()
                for a in sorted((a % x.dim() for a in axes), reverse=True):
                    x = x.squeeze(a)
                return x
            rank = x.dim() + len(axes)
            for a in sorted(a % rank for a in axes):
                x = x.unsqueeze(a)
            return x
        if op == "Concat":
            return torch.cat(args, dim=at["axis"])
        if op == "Gather":
            data, index = args
            axis = at.get("axis", 0) % data.dim()
            index = index.to(data.device).long()
            index = torch.where(index < 0, index + data.shape[axis], index)
            out = torch.index_select(data, axis, index.reshape(-1))
            return out.reshape(data.shape[:axis] + index.shape + data.shape[axis + 1:])
        if op == "Slice":
            x = args[0]
            starts, ends = args[1].tolist(), args[2].tolist()
            axes = args[3].tolist() if len(args) > 3 and args[3] is not None \
                else list(range(len(starts)))
            steps = args[4].tolist() if len(args) > 4 and args[4] is not None \
                else [1] * len(starts)
            index = [slice(None)] * x.dim()
            for s, e, a, st in zip(starts, ends, axes, steps):
                if st < 0:
                    raise NotImplementedError("Slice with a negative step")
                n = x.shape[a]
                s = max(0, min(n, s + n if s < 0 else s))
                e = max(0, min(n, e + n if e < 0 else e))
                index[a] = slice(s, e, st)
            return x[tuple(index)]
        if op == "Shape":
            return torch.tensor(list(args[0].shape), dtype=torch.int64)
        if op == "Cast":
            to = _ONNX_TO_TORCH[at["to"]]
            if to.is_floating_point:
                to = self.dtype
            return args[0].to(to)
        if op == "Constant":
            return self._place(numpy_helper.to_array(at["value"]))
        if op == "ConstantOfShape":
            value = numpy_helper.to_array(at["value"]) if "value" in at \
                else np.zeros(1, np.float32)
            t = self._place(value.reshape(1))
            return t.expand([int(v) for v in args[0].tolist()]).contiguous()
        if op == "Where":
            return torch.where(args[0].bool(), args[1], args[2])
        if op == "Expand":
            shape = [int(v) for v in args[1].tolist()]
            x = args[0]
            target = torch.broadcast_shapes(tuple(x.shape), tuple(shape))
            return x.expand(target)
        if op == "Range":
            start, limit, delta = (a.item() for a in args)
            return torch.arange(start, limit, delta, dtype=args[0].dtype)
        if op == "Trilu":
            k = int(args[1].item()) if len(args) > 1 and args[1] is not None else 0
            return torch.triu(args[0], k) if at.get("upper", 1) else torch.tril(args[0], k)
        if op == "Clip":
            lo = args[1] if len(args) > 1 else None
            hi = args[2] if len(args) > 2 else None
            x = args[0]
            if lo is not None:
                x = torch.maximum(x, self._gpu(lo).to(x.dtype))
            if hi is not None:
                x = torch.minimum(x, self._gpu(hi).to(x.dtype))
            return x
        if op == "HardSigmoid":
            return torch.clamp(at.get("alpha", 0.2) * args[0] + at.get("beta", 0.5), 0, 1)
        if op in ("Conv", "ConvTranspose"):
            x, w = args[0], args[1]
            b = args[2] if len(args) > 2 else None
            pads = at.get("pads", [0] * (2 * (x.dim() - 2)))
            half = len(pads) // 2
            if pads[:half] != pads[half:]:
                raise NotImplementedError(op + " with asymmetric pads")
            stride = at.get("strides", 1)
            dilation = at.get("dilations", 1)
            group = at.get("group", 1)
            if op == "Conv":
                return F.conv2d(x, w, b, stride, pads[:half], dilation, group)
            return F.conv_transpose2d(x, w, b, stride, pads[:half],
                                      at.get("output_padding", 0), group, dilation)
        if op in ("MaxPool", "AveragePool"):
            pads = at.get("pads", [0, 0, 0, 0])
            kernel = at["kernel_shape"]
            stride = at.get("strides", kernel)
            if op == "MaxPool":
                return F.max_pool2d(args[0], kernel, stride, pads[:2],
                                    ceil_mode=bool(at.get("ceil_mode", 0)))
            return F.avg_pool2d(args[0], kernel, stride, pads[:2],
                                ceil_mode=bool(at.get("ceil_mode", 0)),
                                count_include_pad=bool(at.get("count_include_pad", 0)))
        if op == "GlobalAveragePool":
            return args[0].mean(dim=tuple(range(2, args[0].dim())), keepdim=True)
        if op == "BatchNormalization":
            x, scale, bias, mean, var = args[:5]
            return F.batch_norm(x, mean, var, scale, bias, False, 0.0,
                                at.get("epsilon", 1e-5))
        if op == "Resize":
            raise NotImplementedError("Resize")
        raise NotImplementedError(op)


if __name__ == "__main__":  # self-check against onnxruntime on a model file
    import sys
    import onnxruntime as ort
    path = sys.argv[1]
    runner = OnnxTorch(path, dtype=torch.float32,
                       device="cuda" if torch.cuda.is_available() else "cpu")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = (np.random.rand(*shape).astype(np.float32) if "float" in i.type
                         else np.random.randint(0, 10, shape).astype(np.int64))
    got = runner(feeds)
    want = session.run(None, feeds)
    for g, w in zip(got, want):
        g = g.float().cpu().numpy()
        print(np.linalg.norm(g - w) / max(np.linalg.norm(w), 1e-30), math.prod(w.shape))
