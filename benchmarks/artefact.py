"""Where a benchmark's numbers came from: the exact command, its settings and the machine, written
next to the numbers as one JSON under docs/results/ (every README/docs figure comes from one).

As a library (`host`, `provenance`): the benchmarks call it when they write their JSON. As a
command it wraps a `semcom ... --json` command (the modem and LDPC decoder benchmarks):

    .venv/bin/python benchmarks/artefact.py --out docs/results/modem_speed/bench.json -- \\
        semcom channel bench --repeats 10 --json

runs `python -m semcom channel bench --repeats 10 --json` and writes {"command", "host", "result"},
`result` being the command's JSON output. Timings are ratios against a baseline measured in the
same run; the host's load average before and after says how loaded the machine was meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def host() -> dict[str, Any]:
    """The machine as it is now: CPU, core count, Python, load average (1, 5, 15 min)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in load],
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def provenance(command: str, settings: dict[str, Any], host_at_start: dict[str, Any]) -> dict[str, Any]:
    """The header of a results JSON: the command that wrote it, its settings, the host at start
    and at the end (load average and time)."""
    return {"command": command, "settings": settings, "host": host_at_start, "host_at_end": host()}


def script_command(script: str, argv: list[str]) -> str:
    """`script` run with `argv`, as a user types it from the repository root."""
    return shlex.join([".venv/bin/python", f"benchmarks/{script}", *argv])


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the JSON to write")
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="most seconds the command may run")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- semcom ... --json")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or command[0] != "semcom" or "--json" not in command:
        print("expected -- semcom ... --json", file=sys.stderr)
        return 2
    start = host()
    done = subprocess.run(
        [sys.executable, "-m", "semcom", *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=args.timeout_s,
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    wrapper = script_command("artefact.py", sys.argv[1:] if argv is None else argv)
    record = provenance(wrapper, {"wrapped": shlex.join(command)}, start)
    record["result"] = json.loads(done.stdout)
    write_json(args.out, record)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
