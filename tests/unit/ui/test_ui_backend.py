"""The computations behind `semcom ui` (semcom.ui.backend), without a browser or Gradio."""

from __future__ import annotations

import argparse
import dataclasses
import io
import os

import numpy as np
import pytest
from PIL import Image

from semcom.ui import backend as be


def test_caption_segments_mark_exactly_the_changed_characters():
    assert be.caption_segments("a cat", "a cat") == [("a cat", None)]
    assert be.caption_segments("a cat", "a bad") == [("a ", None), ("b", "corrupted"), ("a", None), ("d", "corrupted")]
    # a received caption longer than the sent one: the extra characters are corrupt too
    assert be.caption_segments("ab", "abc") == [("ab", None), ("c", "corrupted")]


def test_caption_html_escapes_and_counts():
    out = be.caption_html("<b>&", "<x>&")
    assert "<b>&" not in out and "&lt;b&gt;&amp;" in out
    assert '<mark class="corrupted" title="corrupted on the channel">x</mark>' in out
    assert "(1 of 4 characters corrupted)" in out


def test_parse_snrs():
    assert be.parse_snrs("0:12:3") == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert be.parse_snrs("1, 2.5 -3") == [1.0, 2.5, -3.0]
    for bad in ("", "a b", "0:10:0", "0:100:1", "200"):
        with pytest.raises(be.UiError):
            be.parse_snrs(bad)


def _png(tmp_path, size=(32, 24)):
    path = tmp_path / "ok.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (*size[::-1], 4), dtype=np.uint8), "RGBA").save(path)
    return path


def test_load_upload_accepts_an_image_and_refuses_the_rest(tmp_path):
    image = be.load_upload(_png(tmp_path), max_bytes=10**6, max_pixels=10**6)
    assert image.mode == "RGB" and image.size == (32, 24)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(os.urandom(1000))
    with pytest.raises(be.UiError, match="not an image"):
        be.load_upload(junk, 10**6, 10**6)
    with pytest.raises(be.UiError, match="more than the limit of 100 bytes"):
        be.load_upload(_png(tmp_path), max_bytes=100, max_pixels=10**6)
    with pytest.raises(be.UiError, match="exceeds the cap of 500"):
        be.load_upload(_png(tmp_path), max_bytes=10**6, max_pixels=500)
    truncated = tmp_path / "cut.png"
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "PNG")
    truncated.write_bytes(buf.getvalue()[:60])
    with pytest.raises(be.UiError, match="upload refused"):
        be.load_upload(truncated, 10**6, 10**6)
    with pytest.raises(be.UiError, match="no image"):
        be.load_upload(None, 10**6, 10**6)


def test_settings_are_checked_and_the_paper_variant_is_the_paper():
    with pytest.raises(be.UiError, match="channel_model"):
        be.UiSettings(channel_model="bsc")
    with pytest.raises(be.UiError, match="seed"):
        be.UiSettings(seed=-1)
    mine = be.UiSettings(
        snr_db=4.5,
        snr_convention="esn0",
        channel_model="rayleigh",
        encoding="int8g",
        fec="ldpc",
        latent_policy="amc",
        latent_repair="smmse",
        seed=9,
    )
    paper = be.paper_settings(mine)
    assert (paper.encoding, paper.fec, paper.latent_policy, paper.latent_repair) == (
        "float64",
        "none",
        "always",
        "none",
    )
    assert (paper.snr_db, paper.snr_convention, paper.channel_model, paper.seed) == (4.5, "esn0", "rayleigh", 9)


def test_both_back_ends_send_the_channel_the_settings_name(monkeypatch):
    """The page offers the link's and the receiver's vocabularies (in their order), and the two
    back-ends run the same channel: the gRPC request's override, applied to a proxy left at the
    defaults, is the ChannelConfig the in-process pipeline runs."""
    import threading

    import semcom.rpc.client
    from semcom.link import types
    from semcom.models.params import LATENT_REPAIRS
    from semcom.rpc.convert import channel_config_from_proto

    assert (be.SNR_CONVENTIONS, be.FEC_SCHEMES, be.LATENT_REPAIRS) == (
        types.SNR_CONVENTIONS,
        types.FEC_SCHEMES,
        LATENT_REPAIRS,
    )
    seen = []  # the channel each back-end would send, then it stops (a ValueError, shown as a UiError)

    def stop(*_args, **_kwargs):
        raise ValueError("captured")

    local = be.InProcessBackend.__new__(be.InProcessBackend)  # no models: the pipeline is a probe
    models = argparse.Namespace(name="tiny", has_captioner=True)  # what the caption rule reads
    local.pipeline = argparse.Namespace(run=lambda request: stop(seen.append(request.channel)), models=models)
    local.size, local._lock = 64, threading.Lock()
    monkeypatch.setattr(semcom.rpc.client, "image_request", lambda data, **kw: stop(seen.append(kw["channel"])))
    remote = be.GrpcBackend("127.0.0.1:1")
    image = Image.new("RGB", (32, 32))
    for settings in (
        be.UiSettings(),
        be.UiSettings(snr_db=-2.5, snr_convention="esn0", channel_model="rayleigh", latent_policy="never"),
        be.UiSettings(snr_db=0, fec="ldpc", mcs="16qam-r1/2", latent_policy="amc"),
        be.UiSettings(fec="ldpc", mcs=""),
    ):
        for backend in (local, remote):
            with pytest.raises(be.UiError, match="captured"):
                backend.transmit(image, settings)
        in_process, override = seen[-2:]
        assert channel_config_from_proto(override, types.ChannelConfig()) == in_process, settings
    remote.close()


def test_sample_photos_are_rgb_with_captions():
    samples = be.sample_photos()
    assert len(samples) >= 3
    for image, caption in samples.values():
        assert image.mode == "RGB" and min(image.size) >= 256 and caption


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("torch")
    return be.InProcessBackend("tiny", size=64)


def test_in_process_transmission_and_sweep(tiny):
    from skimage import data

    image = Image.fromarray(data.chelsea())
    s = be.UiSettings(snr_db=30, mode="text+latent", steps=1, caption="a cat", latent_policy="always")
    out = tiny.transmit(image, s)
    assert out.image.size == (64, 64)
    assert out.caption_sent == "a cat" and out.caption_received == "a cat"  # 30 dB uncoded: clean
    assert out.report.latent.info_bits > 0 and not out.report.latent_dropped
    assert out.report.ebn0_db == pytest.approx(30.0)
    assert 0.0 < out.ssim <= 1.0
    from semcom.metrics.msssim import ms_ssim

    resized = image.resize(out.image.size, Image.Resampling.BICUBIC)
    # random tiny weights: a negative contrast term at a scale makes MS-SSIM exactly 0 (clamped)
    assert out.ms_ssim == ms_ssim(resized, out.image) and 0.0 <= out.ms_ssim <= 1.0
    assert "receiver_total" in out.timings and "channel" in out.timings
    html = be.report_html(out, "t")
    assert "latent sent" in html and "uncoded" in html and f"MS-SSIM {out.ms_ssim:.4f}" in html

    # the same seed gives the same picture; the paper's variant runs on the same channel
    again = tiny.transmit(image, s)
    assert np.array_equal(np.asarray(again.image), np.asarray(out.image))

    progress: list[str] = []
    rows = be.sweep(
        tiny,
        image,
        s,
        [be.FORM, "float64"],
        [-5.0, 30.0],
        progress=lambda f, d: progress.append(d),
    )
    assert [(r.variant, r.snr_db) for r in rows] == [
        ("as set on the form", -5.0),
        ("as set on the form", 30.0),
        ("float64 (the paper), uncoded", -5.0),
        ("float64 (the paper), uncoded", 30.0),
    ]
    assert rows[0].latent_bit_errors > rows[1].latent_bit_errors  # -5 dB flips bits, 30 dB almost none
    assert all(r.ssim is not None and r.ms_ssim is not None and not r.error for r in rows)
    assert len(progress) == 4
    fig = be.sweep_figure(rows, "ebn0")
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(be.UiError, match="unknown variants"):
        be.sweep(tiny, image, s, ["nope"], [1.0])


def test_analog_latent_on_the_page(tiny):
    """The analog latent from the form and as a sweep variant: sent at a low SNR (policy auto), its
    report gives only Es/N0 for it; a malformed spec is a message."""
    from skimage import data

    image = Image.fromarray(data.chelsea())
    s = be.UiSettings(snr_db=2, snr_convention="esn0", mode="latent", steps=1, strength=0.0, caption="a cat")
    out = tiny.transmit(image, dataclasses.replace(s, encoding="analog"))
    assert out.report.latent_analog and not out.report.latent_dropped and out.report.latent.analog_symbols > 0
    html = be.report_html(out, "t")
    assert "only Es/N0 is defined" in html and "Eb/N0" not in html and "analog)" in html
    assert "analog:frac=1/2" in be.ANALOG_CHOICES
    rows = be.sweep(tiny, image, s, ["analog"], [2.0, 20.0])
    assert all(r.ssim is not None and not r.latent_dropped and not r.error for r in rows)
    with pytest.raises(be.UiError, match="frac"):
        tiny.transmit(image, dataclasses.replace(s, encoding="analog:frac=x"))


def test_a_refused_request_is_a_message(tiny):
    image = Image.new("RGB", (64, 64), "grey")
    with pytest.raises(be.UiError):
        tiny.transmit(image, be.UiSettings(fec="ldpc", mcs="no-such-mcs", caption="x", steps=1))


def test_cli_names_the_extra_when_gradio_is_missing(monkeypatch, capsys):
    import sys

    from semcom.cli import ui

    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio -> ImportError
    assert ui.run(argparse.Namespace()) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["semcom ui: needs Gradio, the 'ui' extra: pip install 'semcom[ui]'"]
