#!/usr/bin/env bash
# The browser the web UI tests drive (tests/integration/ui): Debian's chromium, and the Python
# side (gradio + playwright, the `ui` extra). Playwright's own browser download is not used:
# the tests launch /usr/bin/chromium (SEMCOM_TEST_CHROMIUM overrides the path).
# Usage: scripts/ci_browser.sh [PYTHON]   (default: python3)
set -euo pipefail
PY="${1:-python3}"
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
"$PY" -m pip install -q -e "$root[ui]" "playwright>=1.40"
chromium --version
