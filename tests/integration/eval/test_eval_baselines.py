"""Classical baselines in a sweep, end to end on the tiny profile: rows carry airtime, outage and
SSIM at the int8 latent's symbols; N shards run as separate processes and merged equal one run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from semcom.cli import main
from tests.integration.eval.conftest import TINY_ARGS, write_discs

REPO = Path(__file__).resolve().parents[3]
TIMING_KEYS = {"seconds", "fit_seconds"}
ARGS = [
    *TINY_ARGS,
    "--image-size",
    "128",
    "--snr-db",
    "-2",
    "8",
    "16",
    "--snr-convention",
    "esn0",
    "--modes",
    "latent",
    "--encodings",
    "int8",
    "jpeg",
    "webp:ldpc",
    "webp:frac=1/4:uncoded",
    "--metrics",
    "none",
    "--grid-images",
    "1",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Three structured 64x64 photos-like images with captions."""
    return write_discs(tmp_path_factory.mktemp("data"), (64, 64), (20, 30), 150, 4.0)


def _rows(run_dir: Path) -> dict:
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    return {(r["image"], r["cell"]): {k: v for k, v in r.items() if k not in TIMING_KEYS} for r in rows}


@pytest.mark.slow
def test_baseline_rows_shards_as_processes_and_merge(env, data_dir, tmp_path, capsys):
    whole, merged = tmp_path / "whole", tmp_path / "merged"
    assert main(["eval", "run", "--data", str(data_dir), "--out", str(whole), *ARGS]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["computed"] == 3 * 4 * 3  # 3 images x (1 latent + 3 baselines) x 3 SNRs

    rows = _rows(whole)
    latent = {(img, float(r["snr_db"])): r for (img, _), r in rows.items() if r["mode"] == "latent"}
    baseline = [r for r in rows.values() if r["mode"] == "baseline"]
    assert len(baseline) == 27
    for r in baseline:
        assert isinstance(r["outage"], bool) and 0 <= r["ssim"] <= 1 and math.isfinite(r["psnr"])
        assert 0 <= r["channel_symbols"] <= r["budget_symbols"]
        if r["variant"] in ("jpeg", "webp:ldpc"):  # budget=int8: the int8 latent cell's own airtime
            assert r["budget_symbols"] == latent[(r["image"], float(r["snr_db"]))]["channel_symbols"]
        if r["outage"]:
            assert r["outage_reason"]
        else:
            assert r["file_bytes"] > 0 and r["quality"] is not None
    by = {(r["image"], r["variant"], r["snr_db"]): r for r in baseline}
    for img in ("img0.png", "img1.png", "img2.png"):
        assert by[(img, "webp:ldpc", 16.0)]["outage"] is False  # 16 dB Es/N0: far above every MCS threshold
        assert by[(img, "webp:ldpc", -2.0)]["outage"] is True  # below the most robust MCS: the cliff
        grey = by[(img, "jpeg", -2.0)]  # uncoded at -2 dB: the file is destroyed
        assert grey["outage"] is True and grey["outage_reason"].startswith("decode:") and grey["latent_ber"] > 0.05
        assert grey["channel_symbols"] == math.ceil(8 * grey["file_bytes"] / 4)  # 16-QAM, 4 bits per symbol
        int8_bytes = latent[(img, 16.0)]["latent_bytes"]
        frac = by[(img, "webp:frac=1/4:uncoded", 16.0)]
        assert frac["budget_symbols"] == 8 * int8_bytes // 4 // 4  # 1/4 of the int8 latent's uncoded symbols
    for r in baseline:  # an outage is scored with mid-grey, whatever the reason
        if r["outage"]:
            grey_ssim = by[(r["image"], "jpeg", -2.0)]["ssim"]
            assert r["ssim"] == pytest.approx(grey_ssim, abs=1e-12)
    assert main(["eval", "report", str(whole)]) == 0
    capsys.readouterr()
    report = (whole / "report.md").read_text()
    assert "Classical baselines (equal airtime)" in report and "| baseline webp:ldpc |" in report
    for name in ("rd_ssim_vs_symbols.png", "outage_vs_snr.png", "ssim_psnr_vs_snr.png"):
        assert (whole / "figures" / name).is_file()

    # two shards as separate processes (as the Indexed Job / SLURM array run them), then merged
    child_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    shards = [tmp_path / f"shard{i}" for i in range(2)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "semcom",
                "eval",
                "run",
                "--data",
                str(data_dir),
                "--out",
                str(shard),
                "--shard",
                f"{i}/2",
                *ARGS,
            ],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, shard in enumerate(shards)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
    assert main(["eval", "merge", str(merged), *map(str, shards), "--json"]) == 0
    merge = json.loads(capsys.readouterr().out)
    assert merge["rows"] == 36 and merge["duplicates"] == 0
    assert _rows(merged) == _rows(whole)  # seeds follow image names: same files, same noise, same numbers
