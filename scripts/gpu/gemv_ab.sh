#!/usr/bin/env bash
# scripts/gpu/gemv_ab.sh: A/B timing of W4A16 GEMV artifacts on the GPU machine
# (device tool) in one call: builds the runtime library only (no tests),
# restores the shared weights (`bench/gpu_gemv.py expand`), checks every case
# through the host entry `qcc_model_run` (rel-L2 against its reference.npz
# fails the call over 2e-3; bit-identity of each CASE[_gemvT-W-U] with
# CASE_head is reported; outputs start as NaN), then ROUNDS rounds of
# `bench/gpu_gemv.py profile DIR --reps REPS` (kernel = CUPTI device time,
# call = CUDA events after the L2 flush), all cases of DIR in each round.
#
#   ROUNDS=2 REPS=50 scripts/gpu/gemv_ab.sh DIR
#
# TIMING_ONLY=1 reports the checks but times every case even when one fails
# (variants that compute wrong values on purpose, to time one factor alone).
# NCU_CASES="CASE ..." then profiles those case folders under ncu (speed of
# light, memory workload, warp states, occupancy; $OUT/ncu.log).
#
# DIR comes from `bench/gpu_gemv.py prepare DIR --qcc A ...` here; rename its
# case folders to <case>_head (and the folder named in their *.same files),
# then `prepare DIR --qcc B ...` with the same cases: B's artifacts share A's
# weights file, which travels once. Keep DIR under an ignored path (build-*/)
# and name it in `carry`.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$1
OUT=${OUT:-/tmp/qcc-gpu-out}
BUILD=${QCC_GPU_BUILD:-/tmp/qcc-gpu-build}
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-50}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if ! { cmake -G Ninja -S "$ROOT/runtime" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DQCC_RUNTIME_SHARED=ON -DQCC_RUNTIME_BUILD_TESTS=OFF &&
    ninja -C "$BUILD" qcc_runtime; } >"$OUT/build.log" 2>&1; then
  tail -20 "$OUT/build.log"
  exit 1
fi
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader
python3 "$ROOT/bench/gpu_gemv.py" expand "$DIR" >/dev/null || exit 1
python3 - "$ROOT" "$DIR" "$BUILD/libqcc_runtime.so" <<'PY'
import json, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(sys.argv[1]) / "bench"))
import bench_gpu as B
root, rt = Path(sys.argv[2]), B.Runtime(sys.argv[3])
outputs, bad = {}, 0
for folder in sorted(p for p in root.iterdir() if (p / "model.json").exists()):
    manifest = json.load(open(folder / "model.json"))
    feeds = dict(np.load(folder / "inputs.npz"))
    ins_np = [np.ascontiguousarray(feeds[s["name"]], np.float32) for s in manifest["inputs"]]
    outs_np = [np.full(s["shape"], np.nan, np.float32) for s in manifest["outputs"]]
    ins = (B.Tensor * len(ins_np))(*[B.tensor_of(a, s["dtype"]) for a, s in zip(ins_np, manifest["inputs"])])
    outs = (B.Tensor * len(outs_np))(*[B.tensor_of(a, s["dtype"]) for a, s in zip(outs_np, manifest["outputs"])])
    model = rt.load(str(folder / "model"))
    rt.check(rt.lib.qcc_model_run(model, ins, len(ins_np), outs, len(outs_np)))
    rt.lib.qcc_model_release(model)
    ref = np.load(folder / "reference.npz")
    err = max(B.rel_l2(o, ref[s["name"]]) for o, s in zip(outs_np, manifest["outputs"]))
    outputs[folder.name] = outs_np
    ok = err <= 2e-3
    bad += not ok
    print("check %s rel-L2 %.3e %s" % (folder.name, err, "ok" if ok else "FAIL"))
# Bit-identity with the case's _head folder (a --gpu-gemv variant against its case's), reported:
# a different split of K (warps) sums in another order.
for name, outs in outputs.items():
    base = name.split("_gemv")[0]
    head = outputs.get(base + "_head")
    if head is not None and name != base + "_head":
        same = all(np.array_equal(a.view(np.uint32), b.view(np.uint32)) for a, b in zip(outs, head))
        print("check %s == %s_head bitwise: %s" % (name, base, same))
sys.exit(1 if bad else 0)
PY
check=$?
[ $check -eq 0 ] || [ "${TIMING_ONLY:-0}" = 1 ] || exit 1
status=0
for round in $(seq 1 "$ROUNDS"); do
  python3 "$ROOT/bench/gpu_gemv.py" profile "$DIR" --runtime "$BUILD/libqcc_runtime.so" \
    --reps "$REPS" --out "$OUT/r$round" >"$OUT/profile.$round.log" 2>&1 || status=1
  echo "== round $round"
  cat "$OUT/profile.$round.log" | grep -v "^\s*$" | tail -40
done
if [ -n "${NCU_CASES:-}" ]; then
  mkdir -p /tmp/qcc-ncu
  for c in $NCU_CASES; do ln -sfn "$(cd "$DIR/$c" && pwd)" "/tmp/qcc-ncu/$c"; done
  ncu --clock-control none --cache-control all -k "regex:^k[0-9]+_" --section SpeedOfLight \
    --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy \
    python3 "$ROOT/bench/gpu_gemv.py" profile /tmp/qcc-ncu --runtime "$BUILD/libqcc_runtime.so" \
    --reps 3 --calls-only >"$OUT/ncu.log" 2>&1 || status=1
  grep -E "^  [a-z0-9_]+ \(|Duration|DRAM Throughput|L2 Cache Throughput|Warp Cycles Per Issued|Achieved Occupancy|represents about" "$OUT/ncu.log"
fi
exit $status
