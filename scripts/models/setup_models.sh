#!/usr/bin/env bash
# Install the real-model builders' extra Python packages (requirements-models.txt) into the
# project's .venv (created by scripts/setup.sh). Reinstalls only when the requirements change.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${QCC_PYTHON:-$ROOT/.venv/bin/python}"
REQ="$ROOT/requirements-models.txt"
STAMP="$ROOT/.venv/.models-requirements.sha256"
[ -x "$PY" ] || { echo "error: $PY not found: run scripts/setup.sh first" >&2; exit 1; }
SUM="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SUM" ]; then
  echo "model builder requirements up to date"; exit 0
fi
if ! "$PY" -m pip install --disable-pip-version-check -r "$REQ"; then
  echo "error: could not install $REQ (is PyPI reachable?)" >&2; exit 1
fi
echo "$SUM" > "$STAMP"
