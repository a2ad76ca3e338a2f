"""`benchmarks/soak.py` in miniature on the real services (loopback): a burst of 3-image streams,
mixed normal / cancelled / deadline-expired streams with a SIGSTOPped receiver and a SIGKILLed and
restarted channel, then refused requests; every check of the script holds (gauges back to 0, no
slot reclaimed, nothing admitted lost, duplicated or failed part-way outside the chaos, liveness
truthful). The full run's numbers are in docs/services.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow]


def test_soak_in_miniature_passes_every_check(tmp_path) -> None:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/soak.py",
            "--seconds",
            "24",
            "--stop-s",
            "3",
            "--refused",
            "600",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.exists(), done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["checks"] and all(report["checks"].values()), (report["checks"], report["mixed"]["problems"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert report["burst"]["completed"] + report["burst"]["refused_before_first"] == 8
    assert report["refused"]["codes"] == {"RESOURCE_EXHAUSTED": 600}
    assert sum(report["mixed"]["streams"].values()) > 0
