#!/usr/bin/env bash
# Lint with ruff ([tool.ruff]) and type check with mypy, configured in pyproject.toml ([tool.mypy]): strict on the pure cores
# (semcom.payload, phy, link, metrics, pipeline, fec), mypy's defaults on the rest of semcom and the
# three services. Exits non-zero on any error. CI calls it from .ci/run.
#
#   scripts/lint.sh            every file [tool.mypy] lists
#   scripts/lint.sh --cores    only the strict packages (their errors; imports are still analysed)
#   scripts/lint.sh PATH...    only these files / packages
#
# PYTHON selects the interpreter whose mypy runs (default: .venv/bin/python, else python3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then py="$root/.venv/bin/python"; else py="python3"; fi
fi
if ! "$py" -m mypy --version >/dev/null 2>&1; then
  echo "lint.sh: mypy is not installed for $py (pip install mypy)" >&2
  exit 2
fi
cores=(semcom/payload semcom/phy semcom/link semcom/metrics semcom/pipeline semcom/fec)
if [[ "${1:-}" == "--cores" ]]; then
  shift
  set -- "${cores[@]}" "$@"
fi
# ruff: lint rules and formatting ([tool.ruff]); then mypy, which exits 1 on type errors and 2
# on a usage or configuration error; every failure fails the script.
if [[ $# -eq 0 ]]; then
  "$py" -m ruff check .
  "$py" -m ruff format --check .
fi
exec "$py" -m mypy "$@"
