#!/usr/bin/env bash
# scripts/gpu/gemm_ab.sh: A/B timing of bench/gpu_gemm.py artifact sets on the GPU
# machine (device tool) in one call: builds the runtime library only (no tests),
# then runs `gpu_gemm.py run` on every DIR, ROUNDS rounds with the DIRs alternating,
# and prints one line per case and round (GEMM kernel, quantization kernel, whole
# call, fp16 cuBLAS, rel-L2 and equality with mma.sync for check cases).
#
#   ROUNDS=3 scripts/gpu/gemm_ab.sh DIR...
#
# DIRs come from `bench/gpu_gemm.py prepare DIR ...` here, e.g. one per compiler or
# per `--gpu-wgmma TILE_N,SPLIT_K`, and travel in `carry` (64 MiB in all). Full
# gemm.json / logs go to $OUT/<dir name>.<round>/.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-/tmp/qcc-gpu-out}
BUILD=${QCC_GPU_BUILD:-/tmp/qcc-gpu-build}
ROUNDS=${ROUNDS:-3}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if ! { cmake -G Ninja -S "$ROOT/runtime" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DQCC_RUNTIME_SHARED=ON -DQCC_RUNTIME_BUILD_TESTS=OFF &&
    ninja -C "$BUILD" qcc_runtime; } >"$OUT/build.log" 2>&1; then
  tail -20 "$OUT/build.log"
  exit 1
fi
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader
status=0
for round in $(seq 1 "$ROUNDS"); do
  for dir in "$@"; do
    name=$(basename "$dir")
    python3 "$ROOT/bench/gpu_gemm.py" run "$dir" --runtime "$BUILD/libqcc_runtime.so" \
      --reps 30 --out "$OUT/$name.$round" >"$OUT/$name.$round.log" 2>&1 || status=1
    python3 - "$OUT/$name.$round/gemm.json" "$name" "$round" <<'PY'
import json, sys
path, name, rnd = sys.argv[1:]
try:
    rows = json.load(open(path))["rows"]
except OSError as error:
    sys.exit("%s r%s: no gemm.json (%s)" % (name, rnd, error))
fmt = lambda v: "-" if v is None else "%.4f" % v
for row in rows:
    t = row.get("times_ms", {})
    gemm, fp16 = t.get("qcc GEMM kernel"), t.get("torch fp16 F.linear")
    print("%s r%s %s: gemm %s quant %s call %s fp16 %s fp16/gemm %s rel-L2 %s same-as-mma %s %s"
          % (name, rnd, row["case"], fmt(gemm), fmt(t.get("qcc quantize kernel")),
             fmt(t.get("qcc")), fmt(fp16), "%.3f" % (fp16 / gemm) if gemm and fp16 else "-",
             row.get("rel_l2", "-"), row.get("same_as_mma", "-"), row.get("error", "")))
PY
  done
done
exit $status
