#!/usr/bin/env bash
# Measure the core install: `pip install .` (no extras) into a fresh virtual environment, then the
# megabytes it added to site-packages (what was there before, pip itself, is subtracted). Fails when
# it is 200 MB or more. The last measurement is recorded in README.md (Install).
#
#   scripts/core_install_size.sh            uses python3.11 (else python3) for the fresh venv
#   PYTHON=/path/to/python scripts/core_install_size.sh
#
# Needs the package index (pip downloads the core dependencies); CI runs it (.ci/run). The allow-list of core dependencies
# is checked offline by tests/unit/test_core_install.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
limit_mb=200
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
site="$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
before_kb="$(du -sk "$site" | cut -f1)"
mkdir "$tmp/src"  # the tracked files, so the build leaves no build/ or *.egg-info in the checkout
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$tmp/src")
"$tmp/venv/bin/python" -m pip install --quiet --no-cache-dir "$tmp/src"
after_kb="$(du -sk "$site" | cut -f1)"
added_mb=$(( (after_kb - before_kb + 1023) / 1024 ))
echo "core install (pip install . into a fresh venv, $("$tmp/venv/bin/python" --version)): ${added_mb} MB added to site-packages"
"$tmp/venv/bin/python" -m pip list --format=freeze | sed 's/^/  /'
echo "largest:"
du -sm "$site"/* | sort -rn | head -8 | sed "s#$site/#  #"
if (( added_mb >= limit_mb )); then
  echo "core_install_size.sh: the core install is ${added_mb} MB, over the ${limit_mb} MB budget" >&2
  exit 1
fi
