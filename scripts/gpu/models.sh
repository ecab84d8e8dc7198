#!/usr/bin/env bash
# scripts/gpu/models.sh: whole real models on the GPU machine (bench/gpu_models.py).
#
# The compiled models are larger than one device call carries, so
# `bench/gpu_models.py pack` splits them into parts (gpu-artifacts/models-stage/pNN);
# (QCC_GPU_ARTIFACTS=DIR: DIR/models-stage instead of gpu-artifacts/models-stage, as in
# bench/gpu_models.py) each call carries one part and stages it in /tmp/qcc-stage (kept while the machine
# is warm, 30 s after a call: make the calls back to back):
#   scripts/gpu/models.sh stage pNN        carry: ["gpu-artifacts/models-stage/pNN"]
#   scripts/gpu/models.sh run pNN [-k C]   carry: the last part; reassembles every part
#                                          (checks count and sha256), builds the runtime,
#                                          runs `bench/gpu_models.py run`; files in $OUT.
# `stage` also builds the runtime, so the last call only runs.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-/tmp/qcc-gpu-out}
BUILD=${QCC_GPU_BUILD:-/tmp/qcc-gpu-build}
STAGE=/tmp/qcc-stage
MODELS=/tmp/qcc-models
mkdir -p "$OUT" "$BUILD" "$STAGE"
export PYTHONUNBUFFERED=1

build_runtime() {
  [ -f "$BUILD/libqcc_runtime.so" ] && return 0
  cmake -G Ninja -S "$ROOT/runtime" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DQCC_RUNTIME_SHARED=ON -DQCC_RUNTIME_BUILD_TESTS=OFF >"$OUT/runtime-build.log" 2>&1 &&
    ninja -C "$BUILD" qcc_runtime >>"$OUT/runtime-build.log" 2>&1 ||
    { echo "runtime build failed:"; tail -20 "$OUT/runtime-build.log"; return 1; }
}

stage_part() {
  local dir=$ROOT/${QCC_GPU_ARTIFACTS:-gpu-artifacts}/models-stage/$1
  [ -d "$dir" ] || { echo "models.sh: $dir was not carried" >&2; return 1; }
  cp "$dir"/part-* "$dir"/parts.txt "$STAGE"/ || return 1
  echo "staged $1: $(ls "$STAGE" | grep -c '^part-') part(s) on the machine"
}

cmd=${1:-}
shift || true
case $cmd in
stage)
  stage_part "$1" || exit 1
  build_runtime || exit 1
  ;;
run)
  stage_part "$1" || exit 1
  shift
  read -r count size digest <"$STAGE/parts.txt"
  have=$(ls "$STAGE" | grep -c '^part-')
  if [ "$have" != "$count" ]; then
    echo "models.sh: $have of $count parts on the machine (a cold machine lost the staged" \
      "ones: stage them again back to back)" >&2
    exit 1
  fi
  got=$(cat "$STAGE"/part-* | sha256sum | cut -d' ' -f1)
  [ "$got" = "$digest" ] || { echo "models.sh: staged parts do not match ($got)" >&2; exit 1; }
  rm -rf "$MODELS" && mkdir -p "$MODELS" && cat "$STAGE"/part-* | tar -x -C "$MODELS" || exit 1
  build_runtime || exit 1
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
  python3 "$ROOT/bench/gpu_models.py" run --dir "$MODELS" --runtime "$BUILD/libqcc_runtime.so" \
    --out "$OUT" "$@" 2>&1 | tee "$OUT/run.log"
  exit "${PIPESTATUS[0]}"
  ;;
*)
  echo "usage: scripts/gpu/models.sh stage PART | run PART [gpu_models.py run options]" >&2
  exit 2
  ;;
esac
