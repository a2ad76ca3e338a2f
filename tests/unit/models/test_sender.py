"""Sender: packet contents, caption override (BLIP never loaded), BLIP captions, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from semcom.models import load_profile
from semcom.payload.latent import decode_latent

SIZE = 64  # side of the conftest packet's image


def test_packet_contents(tiny, packet, photo: Image.Image) -> None:
    assert packet.caption == b"a red disc on a gradient"
    assert packet.latent.shape == (4, SIZE // 8, SIZE // 8)
    assert packet.latent.encoding == "float64" and len(packet.latent.data) == 4 * 8 * 8 * 8
    assert packet.codec.name == "tiny-vae" and packet.codec.scaling_factor == pytest.approx(0.18215)
    assert (packet.codec.valid_min, packet.codec.valid_max) == (-5.0, 5.0)
    assert packet.original_size == photo.size and packet.coded_size == (SIZE, SIZE)
    timings = tiny.sender().last_timings
    assert {"encode", "pack", "total"} <= set(timings) and "caption" not in timings


def test_latent_is_the_scaled_vae_posterior(tiny, photo: Image.Image) -> None:
    """Mean latent == AutoencoderKL posterior mean x scaling factor on the Lanczos-resized image."""
    import torch

    packet = tiny.sender().encode(photo, caption="x", size=SIZE, sample_posterior=False)
    vae = tiny.encoder().model
    rgb = np.asarray(photo.resize((SIZE, SIZE), Image.Resampling.LANCZOS), dtype=np.float32) / 127.5 - 1
    with torch.no_grad():
        want = vae.encode(torch.from_numpy(rgb).permute(2, 0, 1)[None]).latent_dist.mean[0] * 0.18215
    got = decode_latent(packet.latent).values
    np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-6)


def test_caption_override_never_loads_the_captioner(tiny_dir, photo: Image.Image) -> None:
    models = load_profile(tiny_dir, device="cpu", dtype="float32")
    models.sender().encode(photo, caption="given", size=SIZE)
    assert "captioner" not in models.loaded
    assert models.loaded == {"codec"}


def test_blip_caption_when_none_given(tiny_dir, photo: Image.Image) -> None:
    models = load_profile(tiny_dir, device="cpu", dtype="float32")
    packet, timings = models.sender().encode_with_timings(photo, size=SIZE)
    assert models.captioner().calls == 1 and "caption" in timings
    assert len(packet.caption) <= 77
    assert all(0x20 <= b <= 0x7E for b in packet.caption)  # 8-bit printable ASCII on the wire


def test_posterior_seed_reproduces(tiny, photo: Image.Image) -> None:
    sender = tiny.sender()
    a = sender.encode(photo, caption="x", size=SIZE, seed=7).latent.data
    b = sender.encode(photo, caption="x", size=SIZE, seed=7).latent.data
    c = sender.encode(photo, caption="x", size=SIZE, seed=8).latent.data
    mean1 = sender.encode(photo, caption="x", size=SIZE, sample_posterior=False).latent.data
    mean2 = sender.encode(photo, caption="x", size=SIZE, sample_posterior=False, seed=3).latent.data
    assert a == b and a != c and mean1 == mean2


def test_int8_and_sizes(tiny, photo: Image.Image) -> None:
    packet = tiny.sender().encode(photo, caption="x", encoding="int8", per_channel=True, size=128, seed=0)
    assert packet.latent.shape == (4, 16, 16) and len(packet.latent.data) == 4 * 16 * 16
    assert packet.latent.quant.per_channel and len(packet.latent.quant.lo) == 4


@pytest.mark.parametrize("size", [0, 63, 100, 8192])
def test_bad_size(tiny, photo: Image.Image, size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 64"):
        tiny.sender().encode(photo, caption="x", size=size)


def test_bad_inputs(tiny, photo: Image.Image) -> None:
    sender = tiny.sender()
    with pytest.raises(TypeError):
        sender.encode(np.zeros((8, 8, 3)), caption="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="encoding"):
        sender.encode(photo, caption="x", size=SIZE, encoding="float7")
    with pytest.raises(ValueError, match="seed"):
        sender.encode(photo, caption="x", size=SIZE, seed=-1)


def test_clip_percentile_narrows_the_int_range(tiny, photo: Image.Image) -> None:
    sender = tiny.sender()
    full = sender.encode(photo, caption="x", encoding="int8g", per_channel=True, size=128, seed=0)
    clipped = sender.encode(photo, caption="x", encoding="int8g", per_channel=True, size=128, seed=0, percentile=99.0)
    width = lambda p: np.asarray(p.latent.quant.hi) - np.asarray(p.latent.quant.lo)  # noqa: E731
    assert (width(clipped) < width(full)).all()  # outliers no longer stretch every channel's range
    for bad in (50.0, 100.5, float("nan"), True):
        with pytest.raises(ValueError, match="percentile"):
            sender.encode(photo, caption="x", encoding="int8", size=SIZE, percentile=bad)
    with pytest.raises(ValueError, match="quantised encodings"):
        sender.encode(photo, caption="x", encoding="float16", size=SIZE, percentile=99.0)
