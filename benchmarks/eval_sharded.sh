#!/usr/bin/env bash
# Run one `semcom eval run` sweep as N shards in parallel on this machine, then merge them.
#
#   bash benchmarks/eval_sharded.sh OUT_DIR SHARDS -- EVAL_RUN_ARGS...
#
# Each shard runs `semcom eval run EVAL_RUN_ARGS --shard I/SHARDS --out OUT_DIR.shards/I --threads 1`
# (one CPU thread each, so SHARDS ~ the number of cores; with `--device cuda` the shards share the
# GPU). When all have ended, `semcom eval merge OUT_DIR OUT_DIR.shards/*` joins them and writes the
# aggregate; the shard directories stay (a rerun resumes them). Logs: OUT_DIR.shards/I.log.
# Numbers equal those of one unsharded run: seeds follow image names (tests/integration/eval).
#
# Example, the TAEF2 k = 0 sweep of docs/evaluation.md on 14 cores of one machine:
#   bash benchmarks/eval_sharded.sh runs/taef2_k0 14 -- --data ../shared/data/flickr8k --caption dataset \
#     --profile taef2 --modes latent --encodings float64:authors float64 float16 \
#     int8 int8g:pc:p99.9:smmse int4g:pc:p99.9:smmse --snr-db 0 1 2 3 4 5 6 7 8 9 10 11 12 --limit 75 \
#     --metrics none
set -uo pipefail
if [[ $# -lt 3 || "$3" != "--" ]]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
out="$1"; shards="$2"; shift 3
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "SHARDS must be a positive integer, got '$shards'" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -n "${PYTHON:-}" ]]; then py="$PYTHON"
elif [[ -x "$root/.venv/bin/python" ]]; then py="$root/.venv/bin/python"
else py=python3; fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$out.shards"
start=$SECONDS
pids=()
for ((i = 0; i < shards; i++)); do
  "$py" -m semcom eval run "$@" --shard "$i/$shards" --out "$out.shards/$i" --threads 1 --no-progress \
    >"$out.shards/$i.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed=$((failed + 1))
    echo "[eval_sharded] shard $i/$shards failed; its log:" >&2
    tail -n 20 "$out.shards/$i.log" >&2
  fi
done
echo "[eval_sharded] $shards shards ended after $((SECONDS - start)) s ($failed failed)"
"$py" -m semcom eval merge "$out" "$out.shards"/*/ || exit 1
[[ $failed -eq 0 ]]
