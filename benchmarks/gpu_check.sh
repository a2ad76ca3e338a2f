#!/usr/bin/env bash
# GPU check of the tiny profile (CUDA, fp16): per-mode receiver latency and batched throughput.
#
# Meant for a machine with one NVIDIA GPU, no internet, and a python3 that already has torch
# (e.g. the `device` tool's H100). Run from anywhere:
#
#   bash benchmarks/gpu_check.sh                 # results in $OUT (or ./gpu-out when OUT is unset)
#
# Packages torch does not bring (diffusers, transformers 5.24, importlib_metadata, unidecode) come from wheels in
# .whl/ when that folder exists: make it on a machine with internet with
#   bash benchmarks/gpu_wheels.sh               # then carry .whl to the GPU machine
# and they are installed into a private folder (/tmp/semcom-site, put on PYTHONPATH) rather than
# into the machine's Python; only those few packages live there.
# Writes $OUT/gpu_check.json (all numbers), $OUT/gpu_check.log and $OUT/nvidia-smi.txt; finishes
# in well under 5 minutes (the Python part stops starting new sections after 240 s).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${OUT:-$root/gpu-out}"
mkdir -p "$out"
py="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1
export SEMCOM_CACHE_DIR="${SEMCOM_CACHE_DIR:-/tmp/semcom-cache}"   # the tiny profile is built here
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1                    # never try the network

{ nvidia-smi || echo "nvidia-smi not available"; } >"$out/nvidia-smi.txt" 2>&1

site=/tmp/semcom-site
if compgen -G ".whl/*.whl" >/dev/null; then
  echo "[gpu_check] installing carried wheels into $site" >&2
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl \
    || echo "[gpu_check] wheel install failed; going on with what is installed" >&2
fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
[[ -d "$site" ]] && export PYTHONPATH="$PYTHONPATH:$site"

"$py" - <<'EOF' 2>&1 | tee "$out/gpu_check.log"
import importlib
for name in ("torch", "diffusers", "transformers", "numpy", "PIL", "yaml", "scipy", "unidecode"):
    try:
        module = importlib.import_module(name)
        print(f"[gpu_check] {name} {getattr(module, '__version__', '?')}")
    except Exception as exc:
        print(f"[gpu_check] {name} MISSING: {exc}")
EOF

timeout 280 "$py" benchmarks/gpu_check.py --out "$out/gpu_check.json" "$@" 2>&1 | tee -a "$out/gpu_check.log"
rc=${PIPESTATUS[0]}
echo "[gpu_check] exit code $rc; results in $out" | tee -a "$out/gpu_check.log"
exit "$rc"
