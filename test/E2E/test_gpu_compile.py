"""GPU compile checks (no GPU needed): every end-to-end model compiles for -target=sm_80 into the
GPU artifact of docs/ARTIFACT.md ("GPU artifacts"): model.ptx, model.plan.json, model.weights and
the manifest, with consistent hashes, a plan that only names kernels the PTX defines and regions
the runtime knows, and 256-byte aligned arena offsets. When NVIDIA's `ptxas` is found (PATH or
/usr/local/cuda/bin), every emitted PTX module is assembled for its target; otherwise those checks
skip with a message. Running the artifacts needs a GPU: scripts/gpu/check.sh does that.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

import qcc_harness as H
from models import CASES, build_case

COMPILE_TIMEOUT = 300


def find_ptxas():
    found = shutil.which("ptxas")
    if found:
        return found
    cuda = Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / "ptxas"
    return str(cuda) if cuda.is_file() else None


PTXAS = find_ptxas()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dims(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


def compile_gpu(model, prefix, target="sm_80", extra=(), bits=32):
    r = H.compile_model(model, prefix, target=target, bits=bits, extra=extra, timeout=COMPILE_TIMEOUT)
    if not r.ok:
        pytest.fail(f"qcc -target={target} failed on {Path(model).name}: {r.first_error_line()}\n"
                    f"{r.describe()}", pytrace=False)
    return r


def check_artifact(prefix: Path, sm):
    """The artifact contract of docs/ARTIFACT.md for kind cuda; returns (manifest, plan, ptx).
    `sm`: 80, or "90a" for the architecture-specific target."""
    files = {ext: Path(f"{prefix}{ext}") for ext in (".ptx", ".plan.json", ".weights", ".json")}
    for ext, path in files.items():
        assert path.is_file(), f"missing {path.name}"
    assert not Path(f"{prefix}.so").exists(), "GPU artifacts have no host library"
    man = json.loads(files[".json"].read_text())
    ptx_bytes = files[".ptx"].read_bytes()
    plan_bytes = files[".plan.json"].read_bytes()
    weights = files[".weights"].read_bytes()
    base = prefix.name
    exact = str(sm).endswith("a")
    target = {"name": f"sm_{sm}", "kind": "cuda", "sm": int(str(sm).rstrip("a")), "ptx_isa": "8.0"}
    if exact:
        target["arch_specific"] = True
    assert man["target"] == target
    assert man["library"] == f"{base}.ptx" and man["plan"] == f"{base}.plan.json"
    assert man["library_sha256"] == _sha256(ptx_bytes)
    assert man["plan_sha256"] == _sha256(plan_bytes)
    assert man["weights_sha256"] == _sha256(weights) and man["weights_size"] == len(weights)
    io = "".join(f"in {t['name']} {t['dtype']} {_dims(t['shape'])}\n" for t in man["inputs"])
    io += "".join(f"out {t['name']} {t['dtype']} {_dims(t['shape'])}\n" for t in man["outputs"])
    expected_hash = _sha256(("qcc-artifact-v1\n" + man["library_sha256"] + "\n" + man["weights_sha256"]
                             + "\nplan " + man["plan_sha256"] + "\n" + io).encode())
    assert man["content_hash"] == expected_hash

    ptx = ptx_bytes.decode()
    assert re.search(r"^\.version (\d+)\.(\d+)", ptx, re.M), "PTX without .version"
    assert re.search(rf"^\.target sm_{sm}\b", ptx, re.M), f"PTX not for sm_{sm}"
    entries = set(re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M))

    plan = json.loads(plan_bytes)
    assert plan["plan_version"] == 1
    arena = plan["arena_bytes"]
    assert arena >= 0 and arena % 256 == 0
    assert set(plan["kernels"]) <= entries, f"plan kernels missing from the PTX: {set(plan['kernels']) - entries}"
    counts = {"input": len(man["inputs"]), "output": len(man["outputs"])}

    def check_ptr(p):
        region = p["ptr"]
        assert region in ("input", "output", "weights", "arena"), p
        assert p["offset"] >= 0, p
        if region in counts:
            assert 0 <= p["index"] < counts[region], p
        elif region == "weights":
            assert p["offset"] <= len(weights), p
        else:
            assert p["offset"] < max(arena, 1), p
            return p["offset"]

    for cmd in plan["commands"]:
        if cmd["op"] == "launch":
            assert 0 <= cmd["kernel"] < len(plan["kernels"])
            assert all(g >= 1 for g in cmd["grid"]) and all(b >= 1 for b in cmd["block"])
            assert cmd["block"][0] * cmd["block"][1] * cmd["block"][2] <= 1024
            for arg in cmd["args"]:
                if "ptr" in arg:
                    off = check_ptr(arg)
                    if off is not None:
                        assert off % 256 == 0, f"arena buffer at unaligned offset {off}"
                else:
                    assert len(arg) == 1 and next(iter(arg)) in ("i32", "i64", "f32"), arg
        elif cmd["op"] == "copy":
            check_ptr(cmd["dst"]), check_ptr(cmd["src"])
            assert cmd["bytes"] > 0
        else:
            assert cmd["op"] == "memset", cmd
            check_ptr(cmd["dst"])
    return man, plan, ptx


def assemble(ptx_path: Path, sm: int):
    if PTXAS is None:
        pytest.skip("ptxas not found (PATH, /usr/local/cuda/bin): PTX assembly not checked")
    r = subprocess.run([PTXAS, f"-arch=sm_{sm}", str(ptx_path), "-o", os.devnull],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"ptxas -arch=sm_{sm} rejected {ptx_path.name}:\n{r.stderr[-3000:]}"


# ----------------------------------------------------------------------------- every model
@pytest.mark.parametrize("name", list(CASES))
def test_model_compiles_for_sm80(name, tmp_path, base_seed):
    model, _ = build_case(name, base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    prefix = tmp_path / "art" / "model"
    compile_gpu(mpath, prefix, extra=CASES[name].qcc_args)
    check_artifact(prefix, 80)
    assemble(Path(f"{prefix}.ptx"), 80)


# ----------------------------------------------------------------------------- every target
@pytest.mark.parametrize("sm", [80, 86, 89, 90])
def test_targets(sm, tmp_path, base_seed):
    model, _ = build_case("bert_layer", base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    prefix = tmp_path / "art" / "model"
    compile_gpu(mpath, prefix, target=f"sm_{sm}")
    _, plan, ptx = check_artifact(prefix, sm)
    assert len(plan["kernels"]) > 1
    assemble(Path(f"{prefix}.ptx"), sm)


def test_matmul_kernel_uses_shared_memory(tmp_path, base_seed):
    model, _ = build_case("matmul_large", base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    prefix = tmp_path / "art" / "model"
    compile_gpu(mpath, prefix)
    _, plan, ptx = check_artifact(prefix, 80)
    assert ".shared" in ptx and "bar.sync" in ptx, "the matmul kernel does not tile through shared memory"
    tiled = [c for c in plan["commands"] if c["op"] == "launch" and c["block"] == [16, 16, 1]]
    assert tiled, "no launch of the 16x16-thread matmul kernel"


def test_emit_stages(tmp_path, base_seed):
    model, _ = build_case("mlp", base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    r = H.run_tool([H.QCC, mpath, "-target=sm_86", "--emit=llvm", "-o", "-"], timeout=COMPILE_TIMEOUT)
    assert r.ok and "nvptx64-nvidia-cuda" in r.stdout and "ptx_kernel" in r.stdout, r.describe()
    r = H.run_tool([H.QCC, mpath, "-target=sm_86", "--emit=lowered-mlir", "-o", "-"], timeout=COMPILE_TIMEOUT)
    assert r.ok and "gpu.launch_func" in r.stdout and "gpu.module @qcc_kernels" in r.stdout, r.describe()
    prefix = tmp_path / "ptxonly" / "model"
    r = H.run_tool([H.QCC, mpath, "-target=sm_86", "--emit=obj", "-o", prefix], timeout=COMPILE_TIMEOUT)
    assert r.ok and Path(f"{prefix}.ptx").is_file() and not Path(f"{prefix}.json").exists(), r.describe()


# ----------------------------------------------------------------------------- quantized
@pytest.mark.parametrize("recipe", [("-bits=8",), ("-bits=4", "--group-size=32"),
                                    ("-bits=4", "--asym", "--act=none", "--group-size=32")])
def test_quantized_compiles(recipe, tmp_path, base_seed):
    # q.matmul dequantizes in the kernel: the packed weights stay packed in the weight file.
    model, _ = build_case("llama_layer", base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    floats = tmp_path / "f32" / "model"
    compile_gpu(mpath, floats)
    prefix = tmp_path / "q" / "model"
    bits = int(recipe[0].split("=")[1])
    compile_gpu(mpath, prefix, bits=bits, extra=recipe[1:])
    man, _, _ = check_artifact(prefix, 80)
    assert man["bits"] == bits
    float_bytes = Path(f"{floats}.weights").stat().st_size
    assert man["weights_size"] < float_bytes * (0.4 if bits == 8 else 0.3), \
        f"weights not packed: {man['weights_size']} vs {float_bytes} float bytes"
    assemble(Path(f"{prefix}.ptx"), 80)


@pytest.mark.parametrize("sm", [80, 90])
def test_w8a8_uses_int8_tensor_cores(sm, tmp_path, base_seed):
    # W8A8 (the default -bits=8 recipe) goes to qcc-gpu-mma-qmatmul: per-token quantization,
    # then cp.async + ldmatrix + int8 mma.sync m16n8k32; the PTX assembles for the target.
    model, _ = build_case("llama_layer", base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    prefix = tmp_path / "q" / "model"
    compile_gpu(mpath, prefix, target=f"sm_{sm}", bits=8)
    man, _, ptx = check_artifact(prefix, sm)
    for needle in ("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32",
                   "ldmatrix.sync.aligned.m8n8.x4.shared.b16", "cp.async.cg.shared.global",
                   "cp.async.wait_group"):
        assert needle in ptx, f"{needle} missing from the W8A8 PTX"
    # The quantization rounds half to even in one instruction per value (math.roundeven is
    # left to libdevice's rint, not expanded into ~30 instructions).
    assert "cvt.rni.f32.f32" in ptx and "cvt.rzi.f32.f32" not in ptx
    assemble(Path(f"{prefix}.ptx"), sm)


def test_w8a8_sm90a_uses_wgmma(tmp_path, base_seed):
    # -target=sm_90a: a W8A8 GEMM big enough to fill the GPU with 128x64..128x256 tiles, with
    # at least 16 K tiles of 64 (shorter ones stay on mma.sync), runs on Hopper's warpgroup
    # MMA (descriptors on the 64-byte-swizzled ring in dynamic shared memory). The one-wave
    # 128x128 (512 x 1024 x 4096) and 128x64 (256 x 1024 x 4096) tiles are warp-specialized:
    # a producer warp after the two consumer warpgroups (288 threads) fills the ring with bulk
    # copies, the consumers release slots through mbarriers; no cp.async. The manifest asks
    # for a GPU of compute capability exactly 9.0; the PTX assembles for sm_90a.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from gpu_gemm import matmul_model
    for m, n_tile in ((512, 128), (256, 64)):
        mpath = tmp_path / f"big{m}.onnx"
        onnx.save(matmul_model(m, 1024, 4096, base_seed), mpath)
        prefix = tmp_path / f"big{m}" / "model"
        compile_gpu(mpath, prefix, target="sm_90a", bits=8)
        man, plan, ptx = check_artifact(prefix, "90a")
        for needle in (f"wgmma.mma_async.sync.aligned.m64n{n_tile}k32.s32.s8.s8",
                       "wgmma.fence.sync.aligned", "wgmma.commit_group.sync.aligned",
                       "wgmma.wait_group.sync.aligned", ".maxntid 288, 1, 1",
                       "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes",
                       "mbarrier.try_wait.parity.shared.b64", "mbarrier.arrive.shared.b64"):
            assert needle in ptx, f"{needle} missing from the sm_90a W8A8 PTX (M = {m})"
        assert "m16n8k32" not in ptx, "sm_90a W8A8 GEMM still on mma.sync"
        assert "cp.async.cg.shared.global" not in ptx
        launches = [c for c in plan["commands"] if c["op"] == "launch"]
        assert launches[-1]["block"][0] == 288
        assert launches[-1]["shared_bytes"] > 48 * 1024, "the ring is not in dynamic shared memory"
        assemble(Path(f"{prefix}.ptx"), "90a")

    # Small GEMMs (llama_layer's: fewer than 128 blocks even with 128x64 tiles) stay on mma.sync.
    model, _ = build_case("llama_layer", base_seed)
    mpath = tmp_path / "model.onnx"
    onnx.save(model, mpath)
    prefix = tmp_path / "small" / "model"
    compile_gpu(mpath, prefix, target="sm_90a", bits=8)
    _, _, ptx = check_artifact(prefix, "90a")
    assert "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32" in ptx and "wgmma" not in ptx
    assemble(Path(f"{prefix}.ptx"), "90a")


def test_w8a8_sm90a_split_k(tmp_path, base_seed):
    # --gpu-wgmma=TILE_N,SPLIT_K (tuning): 256 x 1024 x 4096 on 128x128 tiles split over K in
    # 2 (grid z): each block stores its int32 sums, fences them and counts itself with an
    # atomic add; the last of a tile's blocks adds the other's sums (consumer warps meet at
    # named barrier 1, without the producer warp). A split that does not divide the 16 K
    # tiles is a one-line error.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from gpu_gemm import matmul_model
    mpath = tmp_path / "split.onnx"
    onnx.save(matmul_model(256, 1024, 4096, base_seed), mpath)
    prefix = tmp_path / "split" / "model"
    compile_gpu(mpath, prefix, target="sm_90a", bits=8, extra=["--gpu-wgmma=128,2"])
    _, plan, ptx = check_artifact(prefix, "90a")
    launches = [c for c in plan["commands"] if c["op"] == "launch"]
    assert launches[-1]["grid"] == [32, 2, 2] and launches[-1]["block"][0] == 288
    for needle in ("wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8", "membar.gl",
                   "bar.sync \t1, 256", "atom.global.add.u32"):
        assert needle in ptx, f"{needle!r} missing from the split-K PTX"
    assemble(Path(f"{prefix}.ptx"), "90a")
    r = H.compile_model(mpath, tmp_path / "bad" / "model", target="sm_90a", bits=8,
                        extra=["--gpu-wgmma=128,3"], timeout=COMPILE_TIMEOUT)
    assert not r.ok and "split-k 3 does not divide the 16 K tiles" in r.first_error_line()


@pytest.mark.parametrize("sm", [80, 90])
def test_w4a16_gemm_uses_tensor_cores(sm, tmp_path):
    # W4A16 with more than 16 rows goes to qcc-gpu-w4a16-gemm: an f16 conversion, the GEMM
    # (cp.async ring, ldmatrix.x4, in-register int4 -> f16 decode, f16 mma.sync m16n8k16) and
    # the split-K sum (one block of 200 columns: K split 5 ways, the most that keeps the
    # partials within half the code bytes); the PTX assembles for the target.
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np
    w = np.random.default_rng(3).standard_normal((2048, 200)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [24, 2048])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [24, 200])],
        [numpy_helper.from_array(w, "w")])
    mpath = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), mpath)
    prefix = tmp_path / "q" / "model"
    compile_gpu(mpath, prefix, target=f"sm_{sm}", bits=4,
                extra=("--act=none", "--asym", "--group-size=32"))
    man, plan, ptx = check_artifact(prefix, sm)
    for needle in ("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32",
                   "ldmatrix.sync.aligned.m8n8.x4.shared.b16", "cp.async.cg.shared.global",
                   "cp.async.wait_group", "cvt.rn.f16x2.f32"):
        assert needle in ptx, f"{needle} missing from the W4A16 GEMM PTX"
    launches = [c for c in plan["commands"] if c["op"] == "launch"]
    assert [c["block"][0] for c in launches] == [256, 128, 256], launches
    assert launches[1]["grid"] == [1, 1, 5], launches
    assemble(Path(f"{prefix}.ptx"), sm)
