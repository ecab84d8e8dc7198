#!/usr/bin/env bash
# qcc demo: build, make the bundled example BERT model, compile it, run it, compare with
# onnxruntime (accuracy and speed, 1 thread each).
#
#   scripts/demo.sh            # everything (setup + build first)
#   scripts/demo.sh --no-setup # skip scripts/setup.sh (tools already built)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${QCC_BUILD_DIR:-build}"
SETUP=1
for arg in "$@"; do
  case "$arg" in
    --no-setup) SETUP=0 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "demo.sh: error: unknown option '$arg'" >&2; exit 2 ;;
  esac
done
step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

if [[ "$SETUP" == 1 ]]; then
  step "set-up and build (scripts/setup.sh)"
  bash scripts/setup.sh
fi
PY="$ROOT/.venv/bin/python"
QCC="$BUILD_DIR/bin/qcc"
QCC_RUN="$BUILD_DIR/bin/qcc-run"
for t in "$QCC" "$QCC_RUN"; do
  [[ -x "$t" ]] || { echo "demo.sh: error: $t not built (run scripts/setup.sh)" >&2; exit 1; }
done

step "example model: small BERT encoder (vocab 1000, hidden 64, 2 layers, 4 heads, seq 128)"
MODEL="$BUILD_DIR/models/example_bert.onnx"
show "$PY" scripts/models/make_example_bert.py -o "$MODEL"

step "compile with qcc"
mkdir -p "$BUILD_DIR/demo"
t0=$EPOCHREALTIME
show "$QCC" "$MODEL" -target=host -bits=32 -o "$BUILD_DIR/demo/example_bert"
t1=$EPOCHREALTIME
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "compile time: %.2f s\n", b - a }'
ls -l "$BUILD_DIR/demo/" | sed -n '2,$p'

step "random input ids"
show "$PY" scripts/demo_report.py make-input "$BUILD_DIR/demo/input_ids.npy"

step "run with qcc-run (1 thread, 3 warm-up runs, 20 timed runs)"
rm -rf "$BUILD_DIR/demo/out"
mkdir -p "$BUILD_DIR/demo/out"
show "$QCC_RUN" "$BUILD_DIR/demo/example_bert" --input input_ids="$BUILD_DIR/demo/input_ids.npy" \
  --output-dir "$BUILD_DIR/demo/out" --repeat 20 --warmup 3 --threads 1 | tee "$BUILD_DIR/demo/qcc-run.txt"

step "compare with onnxruntime (same inputs, 1 thread)"
show "$PY" scripts/demo_report.py report --model "$MODEL" --input "$BUILD_DIR/demo/input_ids.npy" \
  --outputs "$BUILD_DIR/demo/out" --qcc-run-log "$BUILD_DIR/demo/qcc-run.txt" --repeat 20 --warmup 3
