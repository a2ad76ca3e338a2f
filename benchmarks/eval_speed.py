"""Cells per second of `semcom eval run`: the sweep at a baseline commit against this tree, on the
same grid, photos and fit cache, in one run of this script (issue 25).

    PYTHONPATH=. .venv/bin/python benchmarks/eval_speed.py --limit 2 --jobs 2 \\
        --out docs/results/eval_speed/speed.json

The grid is the regime map's "matched" scenario (docs/results/regime/run.sh: TAEF2 at 512 px,
the digital latent at 1/16 and 1/64, WebP / AVIF + LDPC and + Shannon at both budgets, Es/N0 -10
to 20 dB) plus its analog encodings at 1/16 (analog latent, SoftCast). The baseline commit is
checked out in a temporary `git worktree` (removed at the end) and run with this machine's Python;
then this tree, sequentially (--jobs 1) and with --jobs N. Every run starts from an empty run
directory (its latents encoded again) and shares one fit cache (SEMCOM_EVAL_FIT_CACHE), warmed
before the timed runs (an untimed run of this tree, unless --fit-cache names a warm one), so the
numbers compare the cell loop, not the one-off file fitting that every run shares; with
--cold-fits every run starts from an empty fit cache of its own instead and pays for fitting its
files, as a run on photos nobody has fitted yet does (the regime map's new photos).

Measured per run: wall seconds, CPU seconds of the run and its children (getrusage), the load
average before and after, and the same of the same command rerun on the finished directory (all
cells cached: the fixed cost of a run, imports and model load; `loop_*` rates are the cells over
the run's time less that fixed cost) (the machine is shared: CPU seconds are the number to compare when
other work competes for the cores; cells per wall second with --jobs N > 1 needs free cores).
The rows of every run are compared with the baseline's, all columns but the timing ones
(`seconds`, `fit_seconds`): they must be equal, floats to 1e-12 (MS-SSIM is filtered with scipy
since 2026-12-07, the baseline with torch: the last bits differ); any difference is listed in the
JSON, and the largest float difference is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIGITAL = [
    "int8g:pc:p99.9:smmse:size=128",
    "int8g:pc:p99.9:smmse:size=64",
    *(f"{c}:frac={f}:{link}" for f in ("1/16", "1/64") for link in ("ldpc", "shannon") for c in ("webp", "avif")),
]
ANALOG = ["analog:frac=1/16:scale=4", "softcast:frac=1/16"]
SNRS = ["-10", "-5", "0", "5", "10", "15", "20"]
TIMING = ("seconds", "fit_seconds")


def sweep_args(data: Path, limit: int, out: Path) -> list[str]:
    return [
        "eval",
        "run",
        "--data",
        str(data),
        "--caption",
        "dataset",
        "--profile",
        "taef2",
        "--modes",
        "latent",
        "--snr-convention",
        "esn0",
        "--limit",
        str(limit),
        "--metrics",
        "none",
        "--grid-images",
        "0",
        "--threads",
        "1",
        "--no-progress",
        "--encodings",
        *DIGITAL,
        *ANALOG,
        "--snr-db",
        *SNRS,
        "--out",
        str(out),
    ]


def timed_run(src: Path, args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """One `semcom eval run` with the semcom of `src` (its own root on sys.path first)."""
    cmd = [sys.executable, "-c", "import sys; from semcom.cli import main; sys.exit(main())", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with log.open("w") as handle:
        subprocess.run(cmd, cwd=src, env=env, stdout=handle, stderr=subprocess.STDOUT, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def rows(run_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for line in (run_dir / "results.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            out[(row["image"], row["cell"])] = {k: v for k, v in row.items() if k not in TIMING}
    return out


FLOAT_TOLERANCE = 1e-12


def differences(base: dict, other: dict) -> tuple[list[str], float]:
    """The cells whose columns differ (floats beyond FLOAT_TOLERANCE), and the largest float difference."""
    found = [f"missing or extra rows: {len(base)} vs {len(other)}"] if base.keys() != other.keys() else []
    largest = 0.0
    for key in sorted(base.keys() & other.keys()):
        a, b = base[key], other[key]
        for c in sorted(a.keys() | b.keys()):
            x, y = a.get(c), b.get(c)
            if isinstance(x, float) and isinstance(y, float) and x == x and y == y:
                largest = max(largest, abs(x - y))
                if abs(x - y) <= FLOAT_TOLERANCE:
                    continue
            if x != y:
                found.append(f"{key[0]} {key[1]} {c}: {x!r} vs {y!r}")
    return found, largest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-rev", default="ae4afbc", help="the commit whose sweep is the baseline")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "flickr8k")
    parser.add_argument("--limit", type=int, default=2, help="photos (the first N in sorted order)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of the parallel run")
    parser.add_argument("--fit-cache", type=Path, default=None, help="a warm fit cache (default: warmed here)")
    parser.add_argument("--cold-fits", action="store_true", help="every run fits its files from an empty cache")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "eval_speed" / "speed.json")
    args = parser.parse_args()

    work = Path(args.work or tempfile.mkdtemp(prefix="eval_speed_")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data = args.data.resolve()
    fits = (args.fit_cache or work / "fits").resolve()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SEMCOM_EVAL_FIT_CACHE": str(fits)}
    env.pop("PYTHONPATH", None)  # each run imports the semcom of its own tree (its cwd)
    baseline_tree = work / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(baseline_tree), args.baseline_rev], cwd=ROOT, check=True)
    runs: dict[str, Any] = {}
    try:
        if args.fit_cache is None and not args.cold_fits:
            print("warming the fit cache (untimed) ...", flush=True)
            timed_run(ROOT, sweep_args(data, args.limit, work / "warm"), env, work / "warm.log")
        plan = [
            ("baseline", baseline_tree, []),
            ("new", ROOT, []),
            (f"new_jobs{args.jobs}", ROOT, ["--jobs", str(args.jobs)]),
        ]
        for name, src, extra in plan:
            print(f"{name} ...", flush=True)
            run_dir = work / name
            if args.cold_fits:
                env["SEMCOM_EVAL_FIT_CACHE"] = str(work / f"fits_{name}")
            runs[name] = timed_run(src, [*sweep_args(data, args.limit, run_dir), *extra], env, work / f"{name}.log")
            # the same command again: every cell cached, so this is the run's fixed cost (imports,
            # model load, dataset and resume checks), subtracted for the cell loop's own rate
            startup = timed_run(src, [*sweep_args(data, args.limit, run_dir), *extra], env, work / f"{name}.2.log")
            run = runs[name]
            run["startup_wall_s"], run["startup_cpu_s"] = startup["wall_s"], startup["cpu_s"]
            run["cells"] = len(rows(run_dir))
            run["cells_per_s"] = round(run["cells"] / run["wall_s"], 4)
            run["cells_per_cpu_s"] = round(run["cells"] / run["cpu_s"], 4)
            run["loop_cells_per_s"] = round(run["cells"] / max(1e-9, run["wall_s"] - startup["wall_s"]), 4)
            run["loop_cells_per_cpu_s"] = round(run["cells"] / max(1e-9, run["cpu_s"] - startup["cpu_s"]), 4)
            print(json.dumps(runs[name]), flush=True)
        base_rows = rows(work / "baseline")
        for name in runs:
            if name != "baseline":
                diff, largest = differences(base_rows, rows(work / name))
                runs[name]["rows_differing_from_baseline"] = diff
                runs[name]["largest_float_difference"] = largest
                runs[name]["speedup_wall"] = round(runs[name]["cells_per_s"] / runs["baseline"]["cells_per_s"], 3)
                runs[name]["speedup_cpu"] = round(
                    runs[name]["cells_per_cpu_s"] / runs["baseline"]["cells_per_cpu_s"], 3
                )
                for key in ("loop_cells_per_s", "loop_cells_per_cpu_s"):
                    runs[name][f"speedup_{key}"] = round(runs[name][key] / runs["baseline"][key], 3)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline_tree)], cwd=ROOT, check=False)
    result = {
        "command": shlex.join(["python", "benchmarks/eval_speed.py", *sys.argv[1:]]),
        "baseline_rev": subprocess.run(
            ["git", "rev-parse", args.baseline_rev], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip(),
        "tree_rev": subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "grid": {"encodings": DIGITAL + ANALOG, "snr_db": SNRS, "photos": args.limit, "profile": "taef2", "size": 512},
        "fit_cache": "cold: an empty one per run"
        if args.cold_fits
        else ("given (warm)" if args.fit_cache else "warmed by an untimed run"),
        "machine": {"cpus": os.cpu_count(), "note": "shared with other jobs: compare cpu_s; load averages per run"},
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
