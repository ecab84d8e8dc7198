#!/usr/bin/env bash
# qcc set-up: system packages, the Python test venv, and the build.
#
#   scripts/setup.sh              # deps + configure + build (build/)
#   scripts/setup.sh --no-build   # only deps (Debian packages + .venv)
#
# Idempotent and fast when everything is present: packages are checked with dpkg-query (no
# network when all are installed), .venv is (re)installed only when requirements-test.txt
# changed (stamp in .venv/.qcc-requirements.sha256), cmake runs only when build/ is not
# configured yet (ninja re-runs it itself when CMakeLists change), ninja does the rest.
#
# Environment: QCC_BUILD_DIR (default build), QCC_PYTHON (interpreter for the venv; default
# /usr/bin/python3 when present), QCC_JOBS (ninja -j; default nproc), QCC_SKIP_APT=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup.sh: error: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

BUILD_DIR="${QCC_BUILD_DIR:-build}"
JOBS="${QCC_JOBS:-$(nproc 2>/dev/null || echo 2)}"
LLVM_VER=22
log() { printf '[setup] %s\n' "$*"; }

# ---------------------------------------------------------------- 1. Debian packages
PKGS=(llvm-$LLVM_VER-dev libmlir-$LLVM_VER-dev mlir-$LLVM_VER-tools llvm-$LLVM_VER-tools
      clang-$LLVM_VER lld-$LLVM_VER libonnx-dev libprotobuf-dev protobuf-compiler
      ninja-build ccache cmake libgtest-dev python3-venv)
if [[ "${QCC_SKIP_APT:-0}" == 1 ]]; then
  log "QCC_SKIP_APT=1: not checking Debian packages"
elif ! command -v dpkg-query >/dev/null 2>&1; then
  log "warning: dpkg-query not found (not Debian?); install these yourself: ${PKGS[*]}"
else
  missing=()
  for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    SUDO=()
    if [[ "$(id -u)" != 0 ]]; then
      command -v sudo >/dev/null 2>&1 || { echo "setup.sh: error: missing packages (${missing[*]}) and not root and no sudo" >&2; exit 1; }
      SUDO=(sudo)
    fi
    log "installing missing packages: ${missing[*]}"
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    log "Debian packages: all ${#PKGS[@]} present"
  fi
fi

# ---------------------------------------------------------------- 2. Python venv (.venv)
VENV="$ROOT/.venv"
REQ="$ROOT/requirements-test.txt"
STAMP="$VENV/.qcc-requirements.sha256"
PY="${QCC_PYTHON:-}"
if [[ -z "$PY" ]]; then
  if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY="$(command -v python3)"; fi
fi
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "creating $VENV with $PY"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  have=""
fi
if [[ "$want" != "$have" ]]; then
  log "installing $REQ into .venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "$want" > "$STAMP"
else
  log ".venv up to date ($(basename "$REQ") unchanged)"
fi

if [[ "$BUILD" == 0 ]]; then
  log "--no-build: done"
  exit 0
fi

# ---------------------------------------------------------------- 3. configure + build
if [[ ! -f CMakeLists.txt ]]; then
  echo "setup.sh: error: no CMakeLists.txt in $ROOT" >&2; exit 1
fi
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  log "configuring $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-$LLVM_VER/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-$LLVM_VER/bin/lit \
    -DCMAKE_C_COMPILER=clang-$LLVM_VER -DCMAKE_CXX_COMPILER=clang++-$LLVM_VER \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLLVM_USE_LINKER=lld
fi
log "building ($BUILD_DIR, -j$JOBS)"
t0=$SECONDS
ninja -C "$BUILD_DIR" -j"$JOBS"
log "build done in $((SECONDS - t0)) s"
if command -v ccache >/dev/null 2>&1; then
  ccache -s 2>/dev/null | grep -Ei 'hits|misses' | head -3 | sed 's/^/[setup] ccache: /' || true
fi
