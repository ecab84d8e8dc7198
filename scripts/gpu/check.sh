#!/usr/bin/env bash
# scripts/gpu/check.sh: the one script for the GPU machine (device tool, H100).
# Builds the runtime, qcc-run and the runtime's tests with cmake + ninja (only
# the runtime tree: no LLVM there), runs the tests (GPU tests must run, not
# skip), runs the hand-written GPU artifact through qcc-run, then checks and
# times every artifact carried in gpu-artifacts/ against onnxruntime and
# PyTorch (bench/bench_gpu.py). Prints a short table last; logs go to $OUT.
#
#   scripts/gpu/check.sh [--no-bench] [--quick]
#
# Run through the device tool from the repository root, carrying
# gpu-artifacts/ (compiled here with qcc -target=sm_80) and .gpu-deps/
# (GoogleTest sources, for a machine without an installed GoogleTest):
#   command: scripts/gpu/check.sh   carry: ["gpu-artifacts", ".gpu-deps"]
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-/tmp/qcc-gpu-out}
BUILD=${QCC_GPU_BUILD:-/tmp/qcc-gpu-build}
mkdir -p "$OUT" "$BUILD"
LOG=$OUT/check.log
: >"$LOG"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
BENCH=1
BENCH_ARGS=()
for arg in "$@"; do
  case $arg in
  --no-bench) BENCH=0 ;;
  --quick) BENCH_ARGS+=(--quick) ;;
  *) echo "check.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
export PYTHONUNBUFFERED=1
FAILED=0

section() { echo; echo "=== $* ($(date +%T))"; } >>"$LOG"
step() { # step NAME COMMAND...: runs, logs, records the outcome
  local name=$1; shift
  section "$name: $*"
  local start=$SECONDS
  if "$@" >>"$LOG" 2>&1; then
    printf '%-34s ok     %4ds\n' "$name" $((SECONDS - start)) >>"$SUMMARY"
    return 0
  fi
  printf '%-34s FAILED %4ds (see check.log)\n' "$name" $((SECONDS - start)) >>"$SUMMARY"
  FAILED=1
  return 1
}

machine() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  uname -r; nproc
  cmake --version | head -1; ninja --version; c++ --version | head -1
  command -v nvcc && nvcc --version | tail -1
  python3 - <<'EOF'
import importlib
for name in ("numpy", "torch", "onnx", "onnxruntime"):
    try:
        module = importlib.import_module(name)
        print(name, module.__version__)
    except Exception as error:  # report, the bench decides what it needs
        print(name, "missing:", error)
import torch
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("torch sees", p.name, "sm_%d%d" % (p.major, p.minor), p.multi_processor_count, "SMs")
EOF
}

configure() {
  local gtest=()
  # GoogleTest sources travel in .gpu-deps when the machine has none installed.
  if [ -d "$ROOT/.gpu-deps/googletest" ]; then
    gtest=(-DQCC_GTEST_SOURCE_DIR="$ROOT/.gpu-deps/googletest")
  fi
  cmake -G Ninja -S "$ROOT/runtime" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DQCC_RUNTIME_SHARED=ON "${gtest[@]}"
}

gtests() {
  "$BUILD/test/qcc-runtime-tests" --gtest_output="xml:$OUT/gtest.xml" >"$OUT/gtest.log" 2>&1
  local status=$?
  cat "$OUT/gtest.log"
  # On the GPU machine the GPU tests must run: a skip here is a failure.
  if grep -q "SKIPPED.*GpuModelTest\.Gpu" "$OUT/gtest.log"; then
    echo "GPU tests were skipped on the GPU machine"
    return 1
  fi
  return $status
}

cli() {
  local dir=$BUILD/cli-gpu
  rm -rf "$dir" && mkdir -p "$dir"
  prefix=$("$BUILD/test/qcc-runtime-make-test-artifact" cuda "$dir" axpb) || return 1
  "$BUILD/tools/qcc-run/qcc-run" "$prefix" --input a="$dir/a.npy" --input b="$dir/b.npy" \
    --repeat 20 --warmup 2 --output-dir "$dir/out" --print || return 1
  python3 - "$dir" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
for name in ("y", "z"):
    got, want = np.load(f"{d}/out/{name}.npy"), np.load(f"{d}/{name}.expected.npy")
    assert np.array_equal(got, want), (name, np.abs(got - want).max())
assert (np.load(f"{d}/out/flag.npy") == 7).all()
print("qcc-run on the GPU artifact: outputs exact")
EOF
}

step machine machine
if step configure configure && step build ninja -C "$BUILD" qcc-runtime-tests qcc-run \
    qcc-runtime-make-test-artifact qcc_runtime; then
  step gtests gtests
  step qcc-run-gpu-artifact cli
  if [ $BENCH = 1 ]; then
    step bench python3 "$ROOT/bench/bench_gpu.py" --artifacts "$ROOT/gpu-artifacts" \
      --runtime "$BUILD/libqcc_runtime.so" --out "$OUT" "${BENCH_ARGS[@]}"
  fi
fi

echo
echo "---- log tail"
tail -n 25 "$LOG"
if [ -f "$OUT/gtest.log" ]; then
  echo "---- gtest"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests? from .* ran" "$OUT/gtest.log" | tail -8
fi
if [ -f "$OUT/bench.txt" ]; then
  echo "---- bench (bench.txt)"
  cat "$OUT/bench.txt"
fi
echo "---- summary"
cat "$SUMMARY"
exit $FAILED
