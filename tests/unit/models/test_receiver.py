"""Receiver: every mode's shape and executed steps (counted on the UNet itself), seeds, text-only
ignoring the latent, k = 0 == decoder(decoded latent), garbage captions, batching == one at a time,
and the latent-space checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from semcom.models import IncompatibleLatentError, ReconParams
from semcom.payload.latent import decode_latent, encode_latent
from semcom.payload.packet import CodecInfo

SIZE = 64  # side of the conftest packet's image


@contextmanager
def unet_calls(models) -> Iterator[list[int]]:
    """Counts UNet forward passes (one per executed DDIM step; CFG runs both branches in one)."""
    calls: list[int] = []
    handle = models.diffusion().unet.register_forward_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def pixels(result) -> np.ndarray:
    return np.asarray(result.image, dtype=np.int16)


@pytest.mark.parametrize(
    "params,mode,steps",
    [
        (ReconParams(mode="text+latent", seed=0), "text+latent", 30),  # the paper: 30 of 50
        (ReconParams(mode="text", seed=0), "text", 50),
        (ReconParams(mode="latent", strength=0.0), "latent", 0),  # k = 0: the VAE as transceiver
        (ReconParams(mode="text+latent", strength=0.0), "text+latent", 0),
        (ReconParams(mode="latent", strength=0.3, num_inference_steps=10, seed=0), "latent", 3),
        (ReconParams(mode="auto", num_inference_steps=10, seed=0), "text+latent", 6),
    ],
)
def test_modes_shapes_and_steps(tiny, packet, params: ReconParams, mode: str, steps: int) -> None:
    receiver = tiny.receiver()
    with unet_calls(tiny) as calls:
        result = receiver.reconstruct(packet, params)
    assert result.image.size == (SIZE, SIZE) and result.image.mode == "RGB"
    assert result.mode_used == mode
    assert result.steps_executed == steps == len(calls)
    assert result.caption_received == "a red disc on a gradient"
    assert {"unpack", "decode", "total"} <= set(result.timings)
    assert ("denoise" in result.timings) == (steps > 0)


def test_auto_without_latent_is_text(tiny, packet) -> None:
    no_latent = dataclasses.replace(packet, latent=None)
    with unet_calls(tiny) as calls:
        result = tiny.receiver().reconstruct(no_latent, ReconParams(num_inference_steps=5, seed=1))
    assert result.mode_used == "text" and result.steps_executed == len(calls) == 5
    assert result.image.size == (SIZE, SIZE)  # from the packet's coded size
    with pytest.raises(ValueError, match="needs a latent"):
        tiny.receiver().reconstruct(no_latent, ReconParams(mode="text+latent"))


def test_seeds_reproduce(tiny, packet) -> None:
    receiver = tiny.receiver()
    params = ReconParams(mode="text+latent", num_inference_steps=10, seed=123)
    a, b = receiver.reconstruct(packet, params), receiver.reconstruct(packet, params)
    c = receiver.reconstruct(packet, dataclasses.replace(params, seed=124))
    assert np.array_equal(pixels(a), pixels(b))
    assert not np.array_equal(pixels(a), pixels(c))
    drawn = receiver.reconstruct(packet, dataclasses.replace(params, seed=None))
    assert np.array_equal(
        pixels(drawn), pixels(receiver.reconstruct(packet, dataclasses.replace(params, seed=drawn.seed)))
    )


def test_text_only_ignores_the_latent(tiny, packet) -> None:
    receiver = tiny.receiver()
    params = ReconParams(mode="text", num_inference_steps=8, seed=5)
    other = tiny.sender().encode(
        __import__("PIL.Image", fromlist=["Image"]).new("RGB", (SIZE, SIZE), "blue"), caption="x", size=SIZE, seed=1
    )
    swapped = dataclasses.replace(packet, latent=other.latent)
    a = receiver.reconstruct(packet, params)
    b = receiver.reconstruct(swapped, params)
    c = receiver.reconstruct(dataclasses.replace(packet, latent=None), params)
    assert np.array_equal(pixels(a), pixels(b)) and np.array_equal(pixels(a), pixels(c))
    # ... while text+latent does depend on it
    p2 = dataclasses.replace(params, mode="text+latent")
    assert not np.array_equal(pixels(receiver.reconstruct(packet, p2)), pixels(receiver.reconstruct(swapped, p2)))


def test_k0_equals_decoder_of_decoded_latent(tiny, packet) -> None:
    result = tiny.receiver().reconstruct(packet, ReconParams(mode="latent", strength=0.0))
    values = decode_latent(packet.latent, packet.codec).values
    vae = tiny.decoder().model
    with torch.no_grad():
        image = vae.decode(torch.from_numpy(values)[None] / 0.18215).sample[0].clamp(-1, 1)
    want = ((image + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.abs(pixels(result) - want).max() == 0


def test_garbage_captions_condition(tiny, packet) -> None:
    receiver = tiny.receiver()
    params = ReconParams(mode="text", num_inference_steps=4, seed=9)
    rng = np.random.default_rng(0)
    garbage = dataclasses.replace(packet, caption=rng.integers(0, 256, 120, dtype=np.uint8).tobytes())
    result = receiver.reconstruct(garbage, params)
    assert result.chars_replaced > 0 and len(result.caption_received) == 77
    assert result.caption_bytes == garbage.caption and result.steps_executed == 4
    for caption in (b"", b"\x00" * 77, b"\xff\xfe" * 40):
        assert receiver.reconstruct(dataclasses.replace(packet, caption=caption), params).image.size == (SIZE, SIZE)
    clean = receiver.reconstruct(packet, params)
    assert not np.array_equal(pixels(clean), pixels(result))  # the caption does condition the UNet


def test_corrupted_latent_is_sanitised(tiny, packet) -> None:
    values = decode_latent(packet.latent).values.astype(np.float64)
    data = bytearray(encode_latent(values, "float64").data)
    data[7] ^= 0x40  # top exponent bit of value 0: ~1e300
    data[15] = 0xFF
    data[14] |= 0xF8  # value 1: NaN
    broken = dataclasses.replace(packet, latent=dataclasses.replace(packet.latent, data=bytes(data)))
    result = tiny.receiver().reconstruct(broken, ReconParams(mode="latent", strength=0.0))
    assert result.values_sanitised == 2 and np.isfinite(pixels(result)).all()


def test_adaptive_strength(tiny, packet) -> None:
    params = ReconParams(mode="text+latent", num_inference_steps=10, seed=0, adaptive_strength=True)
    receiver = tiny.receiver()
    low, high, unknown = (receiver.reconstruct(packet, params, snr_db=s) for s in (5.0, 10.0, None))
    assert (low.steps_executed, low.strength_used) == (8, pytest.approx(0.8))
    assert (high.steps_executed, high.strength_used) == (4, pytest.approx(0.4))
    assert unknown.steps_executed == 6  # no SNR: the requested strength 0.6


def test_batch_equals_one_at_a_time(tiny, packet) -> None:
    receiver = tiny.receiver()
    items = [
        (packet, ReconParams(mode="text+latent", num_inference_steps=10, seed=1)),
        (
            dataclasses.replace(packet, caption=b"a green square"),
            ReconParams(mode="text+latent", num_inference_steps=10, seed=2),
        ),
        (packet, ReconParams(mode="text", num_inference_steps=10, seed=3)),
        (packet, ReconParams(mode="latent", strength=0.0)),
        (packet, ReconParams(mode="text+latent", num_inference_steps=10, seed=1, guidance_scale=3.0)),
    ]
    with unet_calls(tiny) as calls:
        batched = receiver.reconstruct_batch(items)
    # groups: (two text+latent g=9), (text), (k=0), (text+latent g=3) -> 6 + 10 + 0 + 6 UNet passes
    assert len(calls) == 22
    single = [receiver.reconstruct(p, q) for p, q in items]
    for b, s in zip(batched, single):
        assert (b.mode_used, b.steps_executed) == (s.mode_used, s.steps_executed)
        diff = np.abs(pixels(b) - pixels(s))
        assert diff.max() <= 2 and diff.mean() < 0.05  # batched kernels may round differently


def test_batch_isolates_bad_items(tiny, packet) -> None:
    items = [
        (packet, ReconParams(mode="latent", strength=0.0)),
        (dataclasses.replace(packet, latent=None), ReconParams(mode="latent")),
    ]
    results = tiny.receiver().reconstruct_batch(items, return_exceptions=True)
    assert results[0].steps_executed == 0 and isinstance(results[1], ValueError)
    with pytest.raises(ValueError):
        tiny.receiver().reconstruct_batch(items)


def test_foreign_latent_space_is_rejected(tiny, packet) -> None:
    """A TAEF2 latent (32 channels, FLUX.2 space) cannot be denoised or decoded by the tiny SD-style models."""
    z = np.random.default_rng(0).standard_normal((32, 8, 8))
    taef2 = dataclasses.replace(
        packet, latent=encode_latent(z, "float32"), codec=CodecInfo(name="taef2", valid_min=-3, valid_max=3)
    )
    receiver = tiny.receiver()
    for params in (ReconParams(mode="text+latent"), ReconParams(mode="latent", strength=0.0)):
        with pytest.raises(IncompatibleLatentError, match="flux2"):
            receiver.reconstruct(taef2, params)
    # text-only never looks at the latent
    assert receiver.reconstruct(taef2, ReconParams(mode="text", num_inference_steps=2, seed=0)).steps_executed == 2
    wrong_channels = dataclasses.replace(packet, latent=encode_latent(z, "float32"))
    with pytest.raises(IncompatibleLatentError, match="channels"):
        receiver.reconstruct(wrong_channels, ReconParams(mode="latent", strength=0.0))


def _int8g_over_noisy_link(packet, snr_db: float = 2.0):
    """The conftest packet's latent as int8g (per channel, 99.9 % clip), through an uncoded 16-QAM
    AWGN link at `snr_db` Eb/N0: (received packet, link)."""
    from semcom.link.transmission import transmit_packet
    from semcom.link.types import ChannelConfig

    values = decode_latent(packet.latent).values
    sent = dataclasses.replace(packet, latent=encode_latent(values, "int8g", per_channel=True, percentile=99.9))
    link = ChannelConfig(
        snr_db=snr_db, snr_convention="ebn0", modulation="16qam", model="awgn", latent_policy="always", seed=3
    )
    received, report = transmit_packet(sent, link)
    assert report.latent.bit_errors > 0
    return received, report.channel


@pytest.mark.parametrize("repair", ["mmse", "smmse"])
def test_latent_repair_equals_the_repaired_latent_decoded(tiny, packet, repair) -> None:
    from semcom.link.repair import position_ber, repaired_latent

    received, link = _int8g_over_noisy_link(packet)
    params = ReconParams(mode="latent", strength=0.0, latent_repair=repair)
    result = tiny.receiver().reconstruct(received, params, link=link)
    assert result.latent_repair_used == repair and "repair" in result.timings
    bers = np.asarray(position_ber(link.snr_db, link.snr_convention, link.modulation, link.model))
    values = repaired_latent(received.latent, received.codec, repair, bers=bers).values
    with torch.no_grad():
        image = tiny.decoder().model.decode(torch.from_numpy(values)[None] / 0.18215).sample[0].clamp(-1, 1)
    want = ((image + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.abs(pixels(result) - want).max() == 0
    plain = tiny.receiver().reconstruct(received, ReconParams(mode="latent", strength=0.0), link=link)
    assert plain.latent_repair_used == "none" and not np.array_equal(pixels(plain), pixels(result))


def test_latent_repair_also_feeds_diffusion(tiny, packet) -> None:
    received, link = _int8g_over_noisy_link(packet)
    base = ReconParams(mode="text+latent", num_inference_steps=4, strength=0.5, seed=1)
    repaired = tiny.receiver().reconstruct(received, dataclasses.replace(base, latent_repair="smmse"), link=link)
    plain = tiny.receiver().reconstruct(received, base, link=link)
    assert repaired.latent_repair_used == "smmse" and repaired.steps_executed == 2
    assert not np.array_equal(pixels(plain), pixels(repaired))


def test_latent_repair_is_skipped_where_it_does_not_apply(tiny, packet) -> None:
    from semcom.link.types import ChannelConfig

    received, link = _int8g_over_noisy_link(packet)
    params = ReconParams(mode="latent", strength=0.0, latent_repair="smmse")
    plain = ReconParams(mode="latent", strength=0.0)
    receiver = tiny.receiver()
    cases = {
        "no link reported": (received, None),
        "coded link (residual errors are not those of the raw channel)": (
            received,
            dataclasses.replace(link, fec="ldpc"),
        ),
        "noiseless link": (received, ChannelConfig(model="none")),
        "float latent": (packet, link),
    }
    for why, (pkt, lnk) in cases.items():
        result = receiver.reconstruct(pkt, params, link=lnk)
        assert result.latent_repair_used == "none", why
        assert np.array_equal(pixels(result), pixels(receiver.reconstruct(pkt, plain, link=lnk))), why
    with pytest.raises(ValueError, match="latent_repair must be one of"):
        ReconParams(latent_repair="median")
