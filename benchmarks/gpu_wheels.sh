#!/usr/bin/env bash
# Download the wheels benchmarks/gpu_check.sh needs on a GPU machine without internet into .whl/
# (ignored by git). Pure-Python wheels, so they fit any Python 3.10+ there; torch, numpy, Pillow,
# PyYAML, scipy, tokenizers, safetensors and huggingface_hub are expected on that machine already.
# transformers is carried too, at the version this repo is tested with (the tiny profile is built
# with it), since the machine's own may be older.
#
#   bash benchmarks/gpu_wheels.sh && ls .whl
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
mkdir -p "$root/.whl"
"$py" -m pip download -q --no-deps --only-binary=:all: -d "$root/.whl" \
  "diffusers==0.42.*" "transformers==5.24.*" "importlib_metadata>=6" "zipp>=3.20" "unidecode>=1.3"
ls -l "$root/.whl"
