#!/usr/bin/env bash
# Type check with mypy, configured in pyproject.toml ([tool.mypy]): strict on the pure cores
# (semcom.payload, phy, link, metrics, pipeline), mypy's defaults on the rest of semcom and the
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
cores=(semcom/payload semcom/phy semcom/link semcom/metrics semcom/pipeline)
if [[ "${1:-}" == "--cores" ]]; then
  shift
  set -- "${cores[@]}" "$@"
fi
# mypy exits 1 on type errors and 2 on a usage or configuration error; both fail the script.
exec "$py" -m mypy "$@"
