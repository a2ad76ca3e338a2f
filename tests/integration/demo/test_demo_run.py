"""A reduced `semcom demo` (2 photos, 128x128, Eb/N0 0 and 8 dB) through the three real services
with the packaged TAEF2 codec: needs no ../shared and no network. What the demo must show: LDPC +
AMC at the highest SNR gives the codec's own quality (SSIM >= 0.8 in every cell), while the
paper's float64 at the lowest SNR is clearly worse."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from semcom.cli import main
from semcom.samples import PHOTOS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[dict, object]:
    out = tmp_path_factory.mktemp("demo")
    assert (
        main(
            [
                "demo",
                "--out",
                str(out),
                "--num-images",
                "2",
                "--image-size",
                "128",
                "--snr-db",
                "0",
                "8",
                "--timeout",
                "300",
            ]
        )
        == 0
    )
    return json.loads((out / "report.json").read_text()), out


def test_ldpc_amc_at_the_highest_snr_beats_the_papers_float64_at_the_lowest(demo) -> None:
    report, _ = demo
    cells = report["transmissions"]
    ldpc_high = [t for t in cells if t["variant"] == "ldpc-amc" and t["ebn0_db"] == 8.0]
    float_low = [t for t in cells if t["variant"] == "float64" and t["ebn0_db"] == 0.0]
    assert len(ldpc_high) == 2 and len(float_low) == 2
    assert all(t["ssim"] >= 0.8 for t in ldpc_high), [t["ssim"] for t in ldpc_high]
    assert all(t["segments_failed"] == 0 and t["mcs"] for t in ldpc_high)
    mean_ldpc = sum(t["ssim"] for t in ldpc_high) / 2
    mean_float = sum(t["ssim"] for t in float_low) / 2
    assert mean_float < mean_ldpc - 0.3, (mean_float, mean_ldpc)
    # LDPC + AMC uses fewer latent symbols than the paper's float64 (16 per value at 16-QAM)
    float_high = [t for t in cells if t["variant"] == "float64" and t["ebn0_db"] == 8.0]
    assert max(t["latent_symbols"] for t in ldpc_high) < min(t["latent_symbols"] for t in float_high) / 4


def test_report_sheet_and_plot(demo) -> None:
    report, out = demo
    assert [i["name"] for i in report["images"]] == [p.name for p in PHOTOS[:2]]
    assert not report["diffusion_columns"] and "need real diffusion weights" in report["notice"]
    keys = {(t["variant"], t["ebn0_db"]) for t in report["transmissions"]}
    assert {("clean", None), ("float64", 0.0), ("int8g-smmse", 0.0), ("float64", 8.0), ("ldpc-amc", 8.0)} <= keys
    # at 0 dB AMC finds no MCS within the airtime budget: the cell shows the drop, not a request
    assert ("ldpc-amc", 0.0) not in keys and {d["ebn0_db"] for d in report["amc_drops"]} == {0.0}
    for t in report["transmissions"]:
        assert t["caption_sent"] == next(p.caption for p in PHOTOS if p.name == t["image"])
        if t["caption_corrupted"]:
            assert t["caption_bit_errors"] > 0
    assert any(t["caption_corrupted"] for t in report["transmissions"] if t["ebn0_db"] == 0.0)
    assert report["summary"]["int8g-smmse"][0]["mean_ssim"] > report["summary"]["float64"][0]["mean_ssim"]
    # the analog latent: sent at 0 dB where AMC drops the int8 latent, in the int8 latent's airtime
    analog = [t for t in report["transmissions"] if t["variant"] == "analog"]
    assert {t["ebn0_db"] for t in analog} == {0.0, 8.0} and not any(t["latent_dropped"] for t in analog)
    int8 = [t for t in report["transmissions"] if t["variant"] == "int8g-smmse"]
    assert {t["latent_symbols"] for t in analog} == {t["latent_symbols"] for t in int8}
    assert all(t["latent_analog_symbols"] > 0 for t in analog)
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.width >= 4 * 128 and sheet.height >= 2 * 2 * 128
    with Image.open(out / "ssim_vs_snr.png") as plot:
        assert plot.width > 300
    assert "latent dropped (AMC)" in (out / "report.md").read_text()


def test_diffusion_columns_code_path_on_the_tiny_profile(tmp_path) -> None:
    """The path `--profile paper` takes on a GPU host (text only and text + latent columns, the
    profile's captioner), run here with the tiny profile's random weights."""
    assert (
        main(
            [
                "demo",
                "--out",
                str(tmp_path),
                "--profile",
                "tiny",
                "--diffusion",
                "on",
                "--num-images",
                "1",
                "--image-size",
                "64",
                "--snr-db",
                "8",
                "--steps",
                "2",
                "--timeout",
                "300",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["diffusion_columns"] and "random weights" in report["notice"]
    by_variant = {t["variant"]: t for t in report["transmissions"]}
    assert set(by_variant) == {"clean", "float64", "int8g-smmse", "ldpc-amc", "analog", "text", "text+latent"}
    assert by_variant["text"]["latent_symbols"] == 0 and by_variant["text"]["steps_executed"] == 2
    assert by_variant["text+latent"]["latent_symbols"] > 0 and by_variant["text+latent"]["steps_executed"] >= 1
    assert by_variant["float64"]["steps_executed"] == 0  # the codec columns stay k = 0
    with Image.open(tmp_path / "contact_sheet.png") as sheet:
        assert sheet.width >= 6 * 64
