#!/usr/bin/env bash
# Regenerates the project's derived outputs from committed rows and small fresh runs, and prints one
# sha256 per file: run it on two commits and diff the lists to show a refactor changed no output
# (issue 23: "reports, merged rows, figures, contact sheets byte-identical before and after").
#   bash scripts/outputs_digest.sh OUT            # in the checkout to fingerprint; needs ../shared
# What it makes (all offline, about 3 CPU minutes):
#   report/    `semcom eval report` of a copy of the committed matched regime run (report.md, tables, figures)
#   map/       `semcom eval map` of the committed regime rows (regime.json/.md and the three figures)
#   shards/    a 2-photo tiny-profile sweep run as two shards and joined by `semcom eval merge`
#              (merged rows; the seed derivation, the packer and the repaired decode all feed these rows)
#   demo/      `semcom demo` with 2 photos at 2 SNRs (contact sheet, report.md; report.json minus timings)
set -euo pipefail
OUT=$(realpath -m "${1:?usage: outputs_digest.sh OUT}")
PY=${PY:-python}
semcom() { "$PY" -c "import sys; from semcom.cli import main; sys.exit(main())" "$@"; }
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this checkout, in every process
rm -rf "$OUT" && mkdir -p "$OUT"
R=docs/results/regime
cp -r $R/runs/matched "$OUT/report"
semcom eval report "$OUT/report" > /dev/null
semcom eval map $R/runs/matched $R/runs/bc_weakest $R/runs/bc_median $R/runs/over3 $R/runs/over6 \
  $R/runs_analog/matched $R/runs_analog/bc_weakest $R/runs_analog/bc_median $R/runs_analog/over3 \
  $R/runs_analog/over6 --out "$OUT/map" > /dev/null
SWEEP=(--data ../shared/data/flickr8k --caption dataset --profile tiny --limit 2 --snr-db 0 8
  --modes latent text+latent --snr-convention esn0 --encodings int8g:pc:p99.9:smmse int8g:pc:nb float16 webp:frac=1/16:ldpc
  analog:frac=1/16 --metrics none --grid-images 0 --threads 1 --no-progress --seed 7)
for i in 0 1; do semcom eval run "${SWEEP[@]}" --shard "$i/2" --out "$OUT/shard$i" > /dev/null; done
semcom eval merge "$OUT/shards" "$OUT/shard0" "$OUT/shard1" > /dev/null
rm -rf "$OUT/shard0" "$OUT/shard1"
semcom demo --num-images 2 --snr-db 2 8 --seed 3 --out "$OUT/demo" > /dev/null
# timings, wall clock, ports and the output folder differ by run: digest the files without them
"$PY" - "$OUT" <<'PY'
import csv, hashlib, io, json, re, sys
from pathlib import Path

out = Path(sys.argv[1])
TIMING = re.compile(r"(^|_)(s|seconds|ms|wall_s|cpu_s|startup_s|timings|services)($|_)|time|load|e2e s")


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if not TIMING.search(k)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def table_rows(text: str) -> str:
    """Markdown: drop timing columns of tables and the run's service addresses / wall-time lines."""
    lines, drop = [], []
    for line in text.splitlines():
        if line.startswith(("Services:", "Wall time:")):
            continue
        if line.startswith("| "):
            cells = line.strip("|").split("|")
            if not set(line) <= set("|- :"):
                if not drop and any(TIMING.search(c.strip()) for c in cells):
                    drop = [i for i, c in enumerate(cells) if TIMING.search(c.strip())]
            line = "|".join(c for i, c in enumerate(cells) if i not in drop)
        else:
            drop = []
        lines.append(line)
    return "\n".join(lines)


for p in sorted(out.rglob("*")):
    if not p.is_file() or p.suffix == ".log":
        continue
    data = p.read_bytes()
    if p.suffix in {".json", ".jsonl", ".csv", ".md"}:
        text = data.decode().replace(str(out), "OUT")
        if p.suffix == ".jsonl":
            text = "\n".join(json.dumps(strip(json.loads(line)), sort_keys=True) for line in text.splitlines() if line)
        elif p.suffix == ".json":
            text = json.dumps(strip(json.loads(text)), sort_keys=True)
        elif p.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(text)))
            keep = [i for i, name in enumerate(rows[0]) if not TIMING.search(name)] if rows else []
            text = "\n".join(",".join(row[i] for i in keep if i < len(row)) for row in rows)
        else:
            text = table_rows(text)
        data = text.encode()
    print(hashlib.sha256(data).hexdigest()[:16], p.relative_to(out))
PY
