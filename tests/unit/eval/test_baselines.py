"""Classical baselines: variant syntax, symbol budgets, codec at a byte budget, guarded decoding, outages."""

from __future__ import annotations

import math
import os
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semcom.eval import codecs
from semcom.eval.airtime import file_fits, packet_symbols
from semcom.eval.baselines import BaselineRunner, BaselineVariant, budget_symbols
from semcom.eval.grid import Cell, LatentVariant, build_grid, parse_variants
from semcom.eval.sweep_config import SweepConfig
from semcom.link.types import ChannelConfig


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    """A 64x64 picture with edges, texture and smooth parts (so quality matters to the file size)."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    rng = np.random.default_rng(0)
    disc = ((x - 30) ** 2 + (y - 28) ** 2 < 200).astype(np.float32)
    rgb = np.stack([x * 4, y * 4, disc * 200 + rng.normal(0, 12, x.shape)], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


# ------------------------------------------------------------------------------------------ syntax
@pytest.mark.parametrize(
    "text, spec, fields",
    [
        ("jpeg", "jpeg", {"codec": "jpeg", "budget": "int8", "frac": None, "symbols": None, "link": ""}),
        ("jpeg:budget=int8", "jpeg", {"budget": "int8"}),
        (
            "webp:budget=float16:uncoded",
            "webp:budget=float16:uncoded",
            {"codec": "webp", "budget": "float16", "link": "uncoded"},
        ),
        ("jpeg:ldpc:frac=1/4", "jpeg:frac=1/4:ldpc", {"frac": Fraction(1, 4), "budget": "", "link": "ldpc"}),
        ("jpeg:frac=0.5", "jpeg:frac=1/2", {"frac": Fraction(1, 2)}),
        ("avif:sym=5000", "avif:sym=5000", {"codec": "avif", "symbols": 5000, "budget": ""}),
    ],
)
def test_variant_syntax_round_trips(text, spec, fields):
    variant = BaselineVariant.parse(text)
    assert variant.spec == spec
    assert BaselineVariant.parse(variant.spec) == variant
    for name, value in fields.items():
        assert getattr(variant, name) == value


@pytest.mark.parametrize(
    "text, message",
    [
        ("jpeg:frac=1/4:sym=10", "one budget rule"),
        ("jpeg:ldpc:uncoded", "one link option"),
        ("jpeg:q50", "unknown option"),
        ("jpeg:frac=-1", "frac must be"),
        ("jpeg:frac=0", "frac must be in"),
        ("jpeg:sym=0", "sym must be"),
        ("jpeg:budget=int7", "budget= must name a latent encoding.*int7"),
        ("webp:frac=1/0", "zero denominator"),  # was a ZeroDivisionError
        ("webp:frac=1/4:frac=1/8", "given twice"),
    ],
)
def test_bad_variants_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        BaselineVariant.parse(text)


def test_grid_gets_one_baseline_cell_per_snr_whatever_the_modes():
    variants = parse_variants(["int8", "jpeg:ldpc", "webp"])
    assert variants[0] == LatentVariant.parse("int8") and isinstance(variants[1], BaselineVariant)
    cells = build_grid(("latent",), variants, (5.0, 10.0), (0,))
    assert [c.key for c in cells if c.mode == "baseline"] == [
        "baseline|jpeg:ldpc|5|0",
        "baseline|jpeg:ldpc|10|0",
        "baseline|webp|5|0",
        "baseline|webp|10|0",
    ]
    assert [c.variant for c in cells if c.mode == "latent"] == ["int8", "int8"]
    with pytest.raises(ValueError, match="unknown"):
        parse_variants(["jpg"])  # not a codec name: parsed (and refused) as a latent encoding


# ------------------------------------------------------------------------------------------ budgets
def test_budgets_in_channel_symbols():
    uncoded = ChannelConfig(snr_db=10.0, modulation="16qam", fec="none")
    caption_bytes, values = 55, 32 * 64 * 64
    # int8: one byte per value; 16-QAM carries 4 bits per symbol; caption and latent are separate fields
    expected = math.ceil(8 * caption_bytes / 4) + 8 * values // 4
    assert packet_symbols(caption_bytes, values, uncoded) == expected
    assert budget_symbols(BaselineVariant.parse("jpeg"), uncoded, caption_bytes, values) == expected
    assert budget_symbols(BaselineVariant.parse("jpeg:budget=int4g"), uncoded, caption_bytes, values) == (
        math.ceil(8 * caption_bytes / 4) + 4 * values // 4
    )
    assert (
        budget_symbols(BaselineVariant.parse("jpeg:frac=1/16"), uncoded, caption_bytes, values) == 8 * values // 4 // 16
    )
    assert budget_symbols(BaselineVariant.parse("jpeg:sym=777"), uncoded, caption_bytes, values) == 777
    qpsk = ChannelConfig(snr_db=10.0, modulation="qpsk", fec="none")
    assert budget_symbols(BaselineVariant.parse("jpeg:frac=1"), qpsk, caption_bytes, values) == 8 * values // 2


def test_coded_budget_follows_the_snr_through_amc():
    """On a coded link the int8 packet's airtime depends on the MCS AMC picks at the SNR."""
    low = ChannelConfig(snr_db=2.0, snr_convention="esn0", fec="ldpc", mcs="auto")
    high = ChannelConfig(snr_db=20.0, snr_convention="esn0", fec="ldpc", mcs="auto")
    values = 32 * 64 * 64
    assert packet_symbols(40, values, low) > packet_symbols(40, values, high) > 0


def test_uncoded_fit_is_exact_at_the_boundary():
    fits = file_fits(ChannelConfig(snr_db=10.0, modulation="16qam", fec="none"), budget=100)
    assert fits(50) and not fits(51)  # 50 bytes = 400 bits = 100 symbols
    coded = ChannelConfig(snr_db=20.0, snr_convention="esn0", fec="ldpc", mcs="qpsk-r1/2")
    fits = file_fits(coded, budget=1000)
    assert fits(10) and not fits(10_000)


# ------------------------------------------------------------------------------------------ codecs
@pytest.mark.parametrize("codec", ["jpeg", "webp", "avif"])
def test_fit_to_budget_is_the_best_quality_that_fits(picture, codec):
    available, reason = codecs.get_codec(codec).available()
    if not available:
        pytest.skip(reason)
    limit = 900
    fitted = codecs.fit_to_budget(picture, codec, lambda n: n <= limit, scales=(1,))
    assert fitted.data is not None and len(fitted.data) <= limit
    hi = codecs.get_codec(codec).quality_range[1]
    if fitted.quality < hi:  # one step more quality no longer fits
        assert len(codecs.encode(picture, codec, fitted.quality + 1)) > limit
    bigger = codecs.fit_to_budget(picture, codec, lambda n: n <= 4 * limit)
    assert bigger.clean_ssim > fitted.clean_ssim
    assert codecs.fit_to_budget(picture, codec, lambda n: n <= 10).data is None  # nothing that small


@pytest.mark.parametrize("codec", ["webp", "avif"])
def test_a_fit_memo_changes_the_cost_never_the_file(picture, codec, monkeypatch):
    available, reason = codecs.get_codec(codec).available()
    if not available:
        pytest.skip(reason)
    caps = (300, 900, 910, 2500, 900)
    plain = [codecs.fit_to_budget(picture, codec, lambda n, c=c: n <= c) for c in caps]
    made = []
    real_encode = codecs.encode
    monkeypatch.setattr(codecs, "encode", lambda im, c, q, s=1: made.append((q, s)) or real_encode(im, c, q, s))
    memo = codecs.FitMemo()
    kept = [codecs.fit_to_budget(picture, codec, lambda n, c=c: n <= c, memo=memo) for c in caps]
    assert kept == plain  # same files, qualities, scales, probe counts and clean SSIMs (==)
    assert len(made) == len(set(made)) < sum(f.encodes for f in plain)  # each probe compressed once
    assert len(memo.scores) < sum(f.data is not None for f in plain) * len(codecs.SCALES)


def test_small_budgets_fall_back_to_a_smaller_picture(picture):
    full = len(codecs.encode(picture, "jpeg", 1))
    fitted = codecs.fit_to_budget(picture, "jpeg", lambda n: n < full)
    assert fitted.data is not None and fitted.scale > 1
    image, reason = codecs.decode_file(fitted.data, "jpeg", picture.size)
    assert reason == "" and image.size == picture.size  # the receiver upsamples


def test_decode_outcomes(picture):
    data = codecs.encode(picture, "jpeg", 80)
    image, reason = codecs.decode_file(data, "jpeg", picture.size)
    assert reason == "" and image.size == (64, 64)
    assert codecs.decode_file(data[: len(data) // 2], "jpeg", picture.size)[0] is None  # truncated
    image, reason = codecs.decode_file(b"\x00" * 64, "jpeg", picture.size)
    assert image is None and "UnidentifiedImageError" in reason and "0x" not in reason  # reproducible text
    image, reason = codecs.decode_file(codecs.encode(picture, "webp", 80), "jpeg", picture.size)
    assert image is None and reason  # another format is not this codec's file
    big = codecs.encode(picture.resize((256, 256)), "jpeg", 50)  # header with a size the sender never makes
    image, reason = codecs.decode_file(big, "jpeg", picture.size)
    assert image is None and "header says 256x256" in reason
    grey = np.asarray(codecs.fallback_image((8, 4)))
    assert grey.shape == (4, 8, 3) and np.all(grey == 128)


def _hang(data, codec, size):  # runs in the guarded worker
    time.sleep(60)


def _crash(data, codec, size):  # runs in the guarded worker
    os._exit(3)


def test_guarded_decoder_survives_a_hang_and_a_crash(picture, monkeypatch):
    data = codecs.encode(picture, "jpeg", 80)
    with codecs.GuardedDecoder(timeout_s=20) as guard:
        image, reason = guard.decode(data, "jpeg", picture.size)
        assert reason == "" and image.size == picture.size
        monkeypatch.setattr(codecs, "_decode_to_array", _hang)
        guard.timeout_s = 2
        start = time.perf_counter()
        image, reason = guard.decode(data, "jpeg", picture.size)
        assert image is None and "timed out" in reason and time.perf_counter() - start < 30
        monkeypatch.setattr(codecs, "_decode_to_array", _crash)
        guard.timeout_s = 30  # a fresh worker is spawned first (slow on a busy machine)
        image, reason = guard.decode(data, "jpeg", picture.size)
        assert image is None and reason == "decoder process died"
        monkeypatch.undo()
        guard.timeout_s = 20
        image, reason = guard.decode(data, "jpeg", picture.size)  # a fresh worker serves again
        assert reason == "" and image.size == picture.size
        assert guard.restarts == 2


def test_guarded_decoder_turns_random_corruption_into_outages_or_images(picture):
    data = np.frombuffer(codecs.encode(picture, "jpeg", 80), dtype=np.uint8)
    rng = np.random.default_rng(1)
    with codecs.GuardedDecoder(timeout_s=20) as guard:
        for _ in range(12):
            bad = data.copy()
            where = rng.integers(0, bad.size, 8)
            bad[where] ^= rng.integers(1, 256, 8).astype(np.uint8)
            image, reason = guard.decode(bad.tobytes(), "jpeg", picture.size)
            assert (image is None) == bool(reason)
            assert image is None or image.size == picture.size
        assert guard.restarts == 0


# ------------------------------------------------------------------------------------------ a cell
def _run_cell(runner: BaselineRunner, spec: str, snr_db: float, channel: str, picture, seed: int = 1):
    """(row, image) of one baseline cell on image "p" (a 40-byte caption, a 256-value latent)."""
    variant = BaselineVariant.parse(spec)
    cfg = SweepConfig(data=Path("."), out=Path("."), snr_convention="esn0", channel=channel, fec="none")
    return runner.run_cell(Cell("baseline", variant.spec, snr_db, 0), variant, "p", picture, 40, 256, cfg, seed=seed)


def test_cell_outage_is_scored_with_grey_and_a_clean_link_is_not(picture):
    runner = BaselineRunner()
    try:
        clean, image = _run_cell(runner, "jpeg:sym=2000", 10.0, "none", picture)
        assert clean["outage"] is False and clean["latent_bit_errors"] == 0
        assert 0 < clean["channel_symbols"] <= 2000 and clean["file_bytes"] * 8 / 4 <= 2000
        assert np.array_equal(
            np.asarray(image),
            np.asarray(
                codecs.decode_file(
                    codecs.fit_to_budget(picture, "jpeg", lambda n: n <= 1000).data, "jpeg", picture.size
                )[0]
            ),
        )
        noisy, image = _run_cell(runner, "jpeg:sym=2000", -5.0, "awgn", picture)
        assert noisy["latent_ber"] > 0.05  # -5 dB Es/N0 on 16-QAM: the file cannot survive
        if noisy["outage"]:
            assert noisy["outage_reason"].startswith("decode:")
            assert np.all(np.asarray(image) == codecs.FALLBACK_GREY)
        tiny, image = _run_cell(runner, "jpeg:sym=3", 10.0, "none", picture)
        assert tiny["outage"] and tiny["outage_reason"].startswith("budget:") and tiny["channel_symbols"] == 0
        assert np.all(np.asarray(image) == codecs.FALLBACK_GREY)
    finally:
        runner.close()


def test_coded_cell_stays_within_budget_and_records_the_mcs(picture):
    runner = BaselineRunner()
    try:
        row, image = _run_cell(runner, "webp:sym=3000:ldpc", 14.0, "awgn", picture, seed=3)
        assert row["link_fec"] == "ldpc" and row["mcs"] and row["mcs_meets_target"] is True
        assert 0 < row["channel_symbols"] <= 3000 and row["segments"] >= 1
        assert row["outage"] is False and image.size == picture.size  # 14 dB Es/N0: far above the MCS threshold
    finally:
        runner.close()
