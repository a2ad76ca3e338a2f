#!/usr/bin/env bash
# The reduced regime map on the real TAEF2 codec (docs/results/regime/README.md). Resumable: rerun the
# same command after an interruption; every run skips the (photo, cell) pairs it has, and fitted
# baseline files are shared by the runs (SEMCOM_EVAL_FIT_CACHE), the latents through one cache folder.
#   bash docs/results/regime/run.sh [OUT=runs/regime] [LIMIT=10] [PARALLEL=3]
set -euo pipefail
OUT=${1:-runs/regime}
LIMIT=${2:-10}
PARALLEL=${3:-3}
PY=${PY:-python}
export OMP_NUM_THREADS=1 SEMCOM_EVAL_FIT_CACHE="$OUT/fits"
# ENCODINGS (a space-separated list) replaces the default schemes, e.g. the analog runs:
#   ENCODINGS="analog:frac=1/16:scale=4 ..." bash docs/results/regime/run.sh runs/regime_analog 12 5
DEFAULT_ENCODINGS="int8g:pc:p99.9:smmse:size=128 int8g:pc:p99.9:smmse:size=64
  webp:frac=1/16:ldpc avif:frac=1/16:ldpc webp:frac=1/16:shannon avif:frac=1/16:shannon
  webp:frac=1/64:ldpc avif:frac=1/64:ldpc webp:frac=1/64:shannon avif:frac=1/64:shannon"
ENCODINGS=${ENCODINGS:-$DEFAULT_ENCODINGS}
# ENCODINGS_<scenario> replaces ENCODINGS for that scenario only, e.g. the Rayleigh map's Shannon limit in
# the broadcast run alone (one fit per budget there; elsewhere every design SNR needs its own):
#   ENCODINGS_bc_weakest="$ENCODINGS webp:frac=1/16:shannon ..." bash docs/results/regime/run.sh ...
# EXTRA: more arguments for every run, e.g. the Rayleigh map: EXTRA="--channel-model rayleigh"
read -r -a EXTRA_ARGS <<< "${EXTRA:-}"
COMMON=(--data ../shared/data/flickr8k --caption dataset --profile taef2
  --modes latent --snr-convention esn0 --limit "$LIMIT" --metrics none --grid-images 0 --threads 1 --no-progress
  ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})
SCENARIOS=(
  "matched|--snr-db -10 -5 0 5 10 15 20"
  "bc_weakest|--snr-db 0 5 10 15 20 --broadcast"
  "over6|--snr-db 0 5 10 15 20 --design-offset-db 6"
  "bc_median|--snr-db 0 5 10 15 20 --broadcast --design-snr-db 10"
  "over3|--snr-db 0 5 10 15 20 --design-offset-db 3"
)
mkdir -p "$OUT/latents"
for s in "${SCENARIOS[@]}"; do
  name=${s%%|*}
  mkdir -p "$OUT/$name/cache"
  [ -e "$OUT/$name/cache/latents" ] || ln -s ../../latents "$OUT/$name/cache/latents"
done
run_one() {
  local name=${1%%|*} args=${1#*|} own="ENCODINGS_${1%%|*}"
  local enc
  read -r -a enc <<< "$(echo ${!own:-$ENCODINGS})"
  # shellcheck disable=SC2086
  $PY -c "import sys; from semcom.cli import main; sys.exit(main())" eval run "${COMMON[@]}" --encodings "${enc[@]}" $args \
    --out "$OUT/$name" > "$OUT/$name.log" 2>&1
}
pids=()
active=0
for s in "${SCENARIOS[@]}"; do
  run_one "$s" &
  pids+=($!)
  active=$((active + 1))
  if [ "$active" -ge "$PARALLEL" ]; then
    wait -n
    active=$((active - 1))
  fi
done
wait
$PY -c "import sys; from semcom.cli import main; sys.exit(main())" eval map \
  "$OUT/matched" "$OUT/bc_weakest" "$OUT/bc_median" "$OUT/over3" "$OUT/over6" --out "$OUT/map"
