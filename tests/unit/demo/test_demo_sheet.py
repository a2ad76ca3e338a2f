"""`semcom demo`'s pure parts: the sample photos, caption marking, the AMC drop check, the
diffusion-column decision, the contact sheet and the Markdown report."""

from __future__ import annotations

import pytest
from PIL import Image

from semcom.cli.demo.plan import CODEC_VARIANTS, DIFFUSION_VARIANTS, amc_drop_reason, diffusion_status
from semcom.cli.demo.report import markdown_report, summarise
from semcom.cli.demo.sheet import contact_sheet
from semcom.payload.caption import MAX_CAPTION_CHARS, corrupted_positions, encode_caption
from semcom.samples import PHOTOS, sample_photos


def test_sample_photos_are_square_rgb_with_captions_that_fit_the_wire() -> None:
    assert [p.name for p in PHOTOS] == ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field"]
    for photo in PHOTOS:
        image = photo.array()
        assert image.ndim == 3 and image.shape[0] == image.shape[1] >= 256 and image.shape[2] == 3
        assert image.std() > 10  # a real photo, not a flat placeholder
        assert len(photo.caption) <= MAX_CAPTION_CHARS and encode_caption(photo.caption) == photo.caption.encode()
        assert photo.licence
    assert Image.open(__import__("io").BytesIO(PHOTOS[0].png())).size == (512, 512)
    assert len(sample_photos(2)) == 2 and len(sample_photos()) == 5
    with pytest.raises(ValueError, match="5 sample photos"):
        sample_photos(6)


def test_corrupted_positions_mark_changed_extra_and_missing_characters() -> None:
    assert corrupted_positions("a dog", "a dog") == []
    assert corrupted_positions("a dog", "a d?g") == [3]
    assert corrupted_positions("a dog", "a do") == [4]
    assert corrupted_positions("ab", "abcd") == [2, 3]


def test_amc_drops_a_latent_at_low_snr_and_carries_it_at_high_snr() -> None:
    values = 32 * 32 * 32  # TAEF2 latent of a 256x256 image
    assert "no MCS" in amc_drop_reason(6.02, values)
    assert amc_drop_reason(14.02, values) == ""


def test_diffusion_columns_only_with_real_diffusion_weights() -> None:
    from semcom.models.profiles import resolve_spec

    taef2 = resolve_spec("taef2")
    shown, line = diffusion_status("taef2", taef2, "auto")
    assert not shown and "need real diffusion weights" in line and "--profile paper" in line
    paper = resolve_spec("paper")
    assert diffusion_status("paper", paper, "auto") == (True, "")
    assert diffusion_status("paper", paper, "off")[0] is False


def _record(name: str, key: str, snr, ssim: float, received: str = "a dog") -> dict:
    return {
        "image": name,
        "variant": key,
        "ebn0_db": snr,
        "ssim": ssim,
        "psnr_db": 20.0,
        "latent_symbols": 1000,
        "mcs": "16qam-r2/3" if key == "ldpc-amc" else "",
        "segments": 4 if key == "ldpc-amc" else 0,
        "segments_failed": 0,
        "latent_bit_errors": 3,
        "latent_dropped": False,
        "caption_sent": "a dog",
        "caption_received": received,
        "caption_corrupted": corrupted_positions("a dog", received),
        "timings": {"total": 1.5},
    }


def test_contact_sheet_places_photos_cells_and_drops() -> None:
    snrs = (0.0, 8.0)
    red, blue = Image.new("RGB", (64, 64), (255, 0, 0)), Image.new("RGB", (64, 64), (0, 0, 255))
    photos = [{"name": "a", "image": red, "caption": "a dog"}]
    results = {
        ("a", v.name, s): {**_record("a", v.name, s, 0.5, "a d?g"), "image": blue} for v in CODEC_VARIANTS for s in snrs
    }
    results[("a", "ldpc-amc", 0.0)] = {"dropped": "amc: no MCS", "image": None}
    sheet = contact_sheet(photos, CODEC_VARIANTS, snrs, results, "title", "one notice line", cell=64)
    assert sheet.width >= 4 * 70
    pixels = sheet.load()
    column = [pixels[6 + 70 + 30, y] for y in range(sheet.height)]  # float64 column
    assert column.count((0, 0, 255)) == 2 * 64  # both SNR rows have an image there
    ldpc = [pixels[6 + 3 * 70 + 30, y] for y in range(sheet.height)]
    assert ldpc.count((0, 0, 255)) == 64  # only the 8 dB row has one: AMC dropped the 0 dB latent
    reds = sum(1 for x in range(sheet.width) for y in range(sheet.height) if pixels[x, y] == (210, 0, 0))
    assert reds > 0  # the corrupted caption character is marked


def test_summary_and_markdown_report() -> None:
    records = [
        _record("a", "clean", None, 0.9),
        _record("a", "float64", 0.0, 0.2, "a d?g"),
        _record("a", "ldpc-amc", 8.0, 0.9),
        _record("a", "float64", 8.0, 0.8),
        _record("a", "int8g-smmse", 0.0, 0.6),
        _record("a", "int8g-smmse", 8.0, 0.85),
    ]
    drops = [{"image": "a", "variant": "ldpc-amc", "ebn0_db": 0.0, "reason": "amc: no MCS"}]
    summary = summarise(records, CODEC_VARIANTS, (0.0, 8.0), drops)
    assert summary["clean"] == 0.9
    assert summary["ldpc-amc"][0]["mean_ssim"] is None and summary["ldpc-amc"][0]["dropped"] == 1
    assert summary["ldpc-amc"][1]["mean_ssim"] == 0.9 and summary["float64"][0]["mean_ssim"] == 0.2
    report = {
        "profile_name": "taef2",
        "size": 128,
        "notice": "no diffusion",
        "images": [{"name": "a"}],
        "summary": summary,
        "variants": [{"key": "clean", "label": "clean"}] + [{"key": v.name, "label": v.label} for v in CODEC_VARIANTS],
        "snrs_db": [0.0, 8.0],
        "transmissions": records,
        "services": {},
        "wall_s": 3.0,
        "startup_s": 1.0,
        "cpu_s": {"demo": 1.0},
    }
    text = markdown_report(report)
    assert "> no diffusion" in text and "latent dropped (AMC)" in text
    assert "| 0 (6.02) | 0.200 / 1,000 | 0.600 / 1,000 | latent dropped (AMC) |" in text
    assert "`a d?g`" in text and "| clean |" in text


def test_diffusion_variants_are_the_papers_two_modes() -> None:
    assert [v.mode for v in DIFFUSION_VARIANTS] == ["text", "text+latent"]
    assert all(v.diffusion for v in DIFFUSION_VARIANTS) and not any(v.diffusion for v in CODEC_VARIANTS)


def test_sample_images_finds_the_fixtures_next_to_the_repository(monkeypatch) -> None:
    """With SEMCOM_SHARED_DIR unset, the service tests' images are the Flickr8k photos of ../shared
    (the default moved one folder down when the demo became a package and pointed into the repo)."""
    from semcom.cli.demo.plan import sample_images
    from tests.conftest import REPO

    if not (REPO.parent / "shared" / "data" / "flickr8k" / "images").is_dir():
        pytest.skip(f"no Flickr8k fixture at {REPO.parent / 'shared'}")
    monkeypatch.delenv("SEMCOM_SHARED_DIR", raising=False)
    names = [name for name, _data, caption in sample_images(3) if caption]
    assert len(names) == 3 and not any(name.startswith("synthetic") for name in names)
