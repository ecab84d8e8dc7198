#!/bin/sh
# Command-line tests of qcc-run over fixture artifacts.
# usage: qcc-run-cli-test.sh QCC_RUN MAKE_TEST_ARTIFACT WORK_DIR
set -u
QCC_RUN=$1
MAKE=$2
WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_error EXPECTED_STDERR_LINE ARGS...: exit status 1 and exactly that
# one line on stderr.
expect_error() {
  expected=$1
  shift
  "$QCC_RUN" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
  status=$?
  [ "$status" -eq 1 ] || fail "qcc-run $*: exit status $status, expected 1"
  actual=$(cat "$WORK/err.txt")
  [ "$actual" = "$expected" ] ||
    fail "qcc-run $*: stderr was '$actual', expected '$expected'"
}

# expect_output TEXT ARGS...: success and TEXT somewhere on stdout.
expect_output() {
  expected=$1
  shift
  "$QCC_RUN" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
    fail "qcc-run $*: exit status $?: $(cat "$WORK/err.txt")"
  grep -F -- "$expected" "$WORK/out.txt" >/dev/null ||
    fail "qcc-run $*: stdout lacks '$expected': $(cat "$WORK/out.txt")"
}

"$MAKE" add "$WORK" add >/dev/null || fail "cannot write the add artifact"
"$MAKE" parallel "$WORK" par >/dev/null || fail "cannot write the parallel artifact"
"$MAKE" inputs "$WORK" || fail "cannot write the inputs"
ADD=$WORK/add
PAR=$WORK/par

expect_output "usage: qcc-run ARTIFACT_PREFIX" --help
expect_output "artifact format 1" --version

# The error the brief singles out: a missing input.
expect_error "qcc-run: error: missing input 'b' (give --input NAME=FILE)" \
  "$ADD" --input "a=$WORK/a.npy"
expect_error "qcc-run: error: missing input 'a', 'b' (give --input NAME=FILE)" "$ADD"
expect_error "qcc-run: error: model has no input named 'c' (inputs: 'a', 'b')" \
  "$ADD" --input "a=$WORK/a.npy" --input "c=$WORK/b.npy"
expect_error "qcc-run: error: input 'b': expected dtype float32, got int64" \
  "$ADD" --input "a=$WORK/a.npy" --input "b=$WORK/b-int64.npy"
expect_error "qcc-run: error: input 'b': expected shape 2x3, got 3x2" \
  "$ADD" --input "a=$WORK/a.npy" --input "b=$WORK/b-3x2.npy"
expect_error "qcc-run: error: input 'a' is given twice" \
  "$ADD" --input "a=$WORK/a.npy" --input "a=$WORK/b.npy"
expect_error "qcc-run: error: cannot open '$WORK/nope.npy': No such file or directory" \
  "$ADD" --input "a=$WORK/nope.npy" --input "b=$WORK/b.npy"
expect_error "qcc-run: error: --input '$WORK/a.npy' names no input; use --input NAME=FILE (the model has 2 inputs)" \
  "$ADD" --input "$WORK/a.npy"
expect_error "qcc-run: error: cannot open manifest '$WORK/missing.json': No such file or directory" \
  "$WORK/missing"
expect_error "qcc-run: error: unknown option '--bogus' (see --help)" "$ADD" --bogus
expect_error "qcc-run: error: invalid value 'x' for --repeat" "$ADD" --repeat x
expect_error "qcc-run: error: no artifact given (usage: qcc-run ARTIFACT_PREFIX [--input NAME=FILE]...; see --help)"

# A full run: (a + b + w) * 0.5 with a = i, b = 10 i, w = i + 1.
expect_output "out: float32 2x3 [0.5, 6.5, 12.5, 18.5, 24.5, 30.5]" \
  "$ADD" --input "a=$WORK/a.npy" --input "b=$WORK/b.npy" --print \
  --output-dir "$WORK/results/nested" --repeat 3 --warmup 1 --threads 2
grep -F "qcc-run: 3 runs, median " "$WORK/out.txt" >/dev/null ||
  fail "timing line missing: $(cat "$WORK/out.txt")"
[ -f "$WORK/results/nested/out.npy" ] || fail "out.npy was not written"
size=$(wc -c <"$WORK/results/nested/out.npy" | tr -d ' ')
[ "$size" = 152 ] || fail "out.npy has $size bytes, expected 152"
# The written output reads back as an input (.json suffix accepted too).
expect_output "out: float32 2x3 [0.75, 9.25, 17.75, 26.25, 34.75, 43.25]" \
  "$ADD.json" --input "a=$WORK/results/nested/out.npy" --input "b=$WORK/b.npy" --print

# A single-input model takes a bare file; parallel_for with 4 threads.
expect_output "y: float32 4096 [0, 2.25, 4.5, 6.75, 9, 11.25, 13.5, 15.75, ...]" \
  "$PAR" --input "$WORK/x.npy" --print --threads 4 --repeat 5

# Hardware checks: pretend this CPU lacks sse2.
if [ "$(uname -m)" = x86_64 ]; then
  "$MAKE" add "$WORK" needs-sse2 sse2 >/dev/null || fail "cannot write needs-sse2"
  export QCC_RUNTIME_DISABLE_CPU_FEATURES=sse2
  expect_error \
    "qcc-run: error: artifact requires CPU features not present on this machine: sse2 (manifest '$WORK/needs-sse2.json')" \
    "$WORK/needs-sse2" --input "a=$WORK/a.npy" --input "b=$WORK/b.npy"
  unset QCC_RUNTIME_DISABLE_CPU_FEATURES
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures qcc-run CLI check(s) failed"
  exit 1
fi
echo "all qcc-run CLI checks passed"
