#!/usr/bin/env bash
# Submit a sharded `semcom eval run` sweep to SLURM: N array tasks, then the merge after all of them.
#
#   bash deploy/slurm/submit_eval.sh RUN_ROOT N -- EVAL_RUN_ARGS...
#
# e.g. the equal-airtime baseline study of docs/evaluation.md over the 75 photos in 16 tasks:
#   bash deploy/slurm/submit_eval.sh runs/baselines_awgn 16 -- --data ../shared/data/flickr8k \
#     --caption dataset --profile taef2 --modes latent \
#     --encodings float64:authors int8g:pc:p99.9:smmse jpeg:ldpc webp:ldpc jpeg webp \
#     webp:frac=1/16:ldpc webp:frac=1/4:ldpc --snr-convention esn0 --snr-db 6 10 14 18 --limit 75 --metrics none
# Extra sbatch options (partition, account, GPUs: add --device cuda to the arguments) go in SBATCH_EXTRA.
set -euo pipefail
if [[ $# -lt 3 || "$3" != "--" ]]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
run_root="$1"; shards="$2"; shift 3
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer, got '$shards'" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
export RUN_ROOT="$run_root" EVAL_ARGS="$*"
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" ${SBATCH_EXTRA:-} "$here/eval_array.sbatch")
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL --dependency="afterok:${array%%;*}" ${SBATCH_EXTRA:-} "$here/eval_merge.sbatch")
echo "array job $array ($shards tasks), merge job $merge (after all succeed); shards in $run_root.shards/"
