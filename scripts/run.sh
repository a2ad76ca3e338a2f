#!/usr/bin/env bash
# The README's two set-up commands:
#   bash scripts/run.sh demo [ARGS...]   create/update .venv, then run the end-to-end demo
#   bash scripts/run.sh test [ARGS...]   create/update .venv, then run the whole test suite
# Anything else after `run.sh` is passed to the `semcom` CLI inside the venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/.venv"
py="${PYTHON:-python3}"
# torch is pinned here, not in pyproject (which keeps a range): on CPU-only machines this exact
# version is a CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
TORCH_SPEC="${SEMCOM_TORCH_SPEC:-torch==2.13.0}"

if [[ ! -x "$venv/bin/python" ]]; then
  echo "[setup] creating $venv" >&2
  "$py" -m venv "$venv"
fi
stamp="$venv/.semcom-installed"
want="$(cat pyproject.toml scripts/run.sh | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "[setup] installing $TORCH_SPEC and semcom[dev] into $venv" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "$TORCH_SPEC"
  "$venv/bin/python" -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi

cmd="${1:-demo}"; shift || true
case "$cmd" in
  test) exec "$venv/bin/python" -m pytest "$@" ;;
  *) exec "$venv/bin/semcom" "$cmd" "$@" ;;
esac
