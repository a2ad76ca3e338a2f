"""`benchmarks/fec_taef2_ssim.py` on one real photo through the real TAEF2 codec, on Rayleigh
block fading: the script runs end to end through the shared pipeline, AMC reads the fading BLER
curves (and so drops a latent an AWGN link of the same Es/N0 would carry), everything survives a
deep-SNR check, and the summary names the command and seeds that wrote it."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.shared]

SCRIPT = REPO / "benchmarks" / "fec_taef2_ssim.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("fec_taef2_ssim", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _amc_sends(esn0_db: float, model: str) -> bool:
    from semcom.link.policy import decide_latent
    from semcom.link.types import ChannelConfig
    from semcom.payload.latent import encode_latent

    latent = encode_latent(np.random.default_rng(0).standard_normal((32, 64, 64)), "int8", per_channel=True)
    cfg = ChannelConfig(snr_db=esn0_db, snr_convention="esn0", model=model, fec="ldpc", mcs="auto", latent_policy="amc")
    return decide_latent(cfg, latent).send


def test_rayleigh_run_on_a_real_photo(tmp_path, flickr_dir, taef2_dir, capsys) -> None:
    # an Es/N0 where AMC carries the int8 latent over AWGN but not over the fading channel
    middle = next(e for e in np.arange(6.0, 30.0, 1.0) if _amc_sends(e, "awgn") and not _amc_sends(e, "rayleigh"))
    script = _load_script()
    out = tmp_path / "run"
    args = [
        "--taef2",
        str(taef2_dir),
        "--images",
        str(flickr_dir / "images"),
        "--photos",
        "1",
        "--variants",
        "float64",
        "amc-ldpc",
        "--channel",
        "rayleigh",
        "--esn0-db",
        f"{middle}",
        "40",
        "--out",
        str(out),
    ]
    assert script.main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    clean = summary["clean"]
    paper, amc = summary["variants"]["float64"]["points"], summary["variants"]["amc-ldpc"]["points"]
    assert [p["esn0_db"] for p in paper] == [middle, 40.0]
    assert paper[0]["ssim"] < paper[1]["ssim"] <= clean + 1e-9 and paper[1]["ssim"] > clean - 0.02
    assert amc[0]["ssim"] is None and amc[0]["dropped"] == 1 and amc[0]["symbols"] == 0
    # every segment decoded: the int8 latent arrives bit for bit (int8 vs float64 clean: ~1e-4 SSIM)
    assert amc[1]["ssim"] == pytest.approx(clean, abs=2e-3) and amc[1]["segments_failed"] == 0
    assert 0 < amc[1]["symbols"] <= 32 * 64 * 64 * 4  # within the airtime budget (uncoded float16's)
    record = [
        json.loads(line)
        for line in (out / "records.jsonl").read_text().splitlines()
        if json.loads(line)["variant"] == "amc-ldpc"
    ][0]
    # 125 interleaved codewords see 2 symbols per 128-symbol fade: the AMC read those curves
    from semcom.fec import amc

    assert amc.link_channel("rayleigh", 128, 125, k=8413) == "rayleigh-L4"
    assert "rayleigh-L4 BLER curves" in record["points"][0]["dropped"]
    assert "rayleigh" in capsys.readouterr().out
    assert summary["command"].endswith(" ".join(args[-4:])) and summary["settings"]["seed"] == 0
    assert summary["settings"]["seeds"].startswith("RoleSeeds.derive(seed, photo)")
    # rerun: every record is cached; another setup in the same directory is refused
    assert script.main(args) == 0
    assert len((out / "records.jsonl").read_text().splitlines()) == 3
    assert script.main([*args[:-5], "--esn0-db", "20", "--out", str(out)]) == 2
    # records without their setup.json (another version of the script) are refused too
    (out / "setup.json").unlink()
    assert script.main(args) == 2
