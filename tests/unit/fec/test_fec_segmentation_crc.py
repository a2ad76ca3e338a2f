"""Segmentation of a payload into CRC-protected code blocks, and the CRC catching corruption."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.fec import crc, segmentation


def test_caption_is_one_crc16_segment_and_latent_is_many_crc24b_segments() -> None:
    caption = segmentation.plan(77 * 8)
    assert (caption.segments, caption.crc, caption.k, caption.payload_bits) == (1, "CRC16", 632, 616)  # no padding
    latent = segmentation.plan(16 * 32 * 64 * 64)  # float16 TAEF2 latent
    assert latent.crc == "CRC24B" and latent.k <= segmentation.MAX_SEGMENT_BITS
    assert latent.segments == -(-latent.info_bits // (segmentation.MAX_SEGMENT_BITS - 24))
    assert 0 <= latent.segments * latent.payload_bits - latent.info_bits < latent.segments  # padding


def test_split_join_round_trip_and_bit_mask() -> None:
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, 20_001, dtype=np.uint8)
    plan = segmentation.plan(bits.size, max_segment_bits=4096)
    blocks = segmentation.split(bits, plan)
    assert blocks.shape == (plan.segments, plan.payload_bits)
    assert not blocks.reshape(-1)[bits.size :].any()  # zero padding
    np.testing.assert_array_equal(segmentation.join(blocks, plan), bits)
    flags = np.zeros(plan.segments, bool)
    flags[1] = True
    mask = segmentation.bit_mask(flags, plan)
    assert mask.shape == bits.shape
    assert np.flatnonzero(mask).tolist() == list(range(plan.payload_bits, 2 * plan.payload_bits))


@pytest.mark.parametrize("bad", [0, -5, 2.5])
def test_plan_rejects_non_positive_or_fractional_sizes(bad) -> None:
    with pytest.raises(ValueError):
        segmentation.plan(bad)


def test_split_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        segmentation.split(np.zeros(10, np.uint8), segmentation.plan(11))


@pytest.mark.parametrize("name", ["CRC16", "CRC24B"])
def test_crc_flags_exactly_the_corrupted_segments(name: str) -> None:
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 2, (6, 200), dtype=np.uint8)
    coded = crc.attach(blocks, name)
    assert coded.shape == (6, 200 + crc.crc_bits(name))
    payload, ok = crc.check(coded, name)
    np.testing.assert_array_equal(payload, blocks)
    assert ok.all()
    corrupted = coded.copy()
    corrupted[2, 17] ^= 1  # one payload bit
    corrupted[4, [3, 90, 150]] ^= 1  # three bits
    corrupted[5, -1] ^= 1  # a parity bit
    _, ok = crc.check(corrupted, name)
    assert ok.tolist() == [True, True, False, True, False, False]


def test_crc_rejects_unknown_polynomial_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="CRC24A"):
        crc.attach(np.zeros((1, 10), np.uint8), "CRC99")
    with pytest.raises(ValueError):
        crc.attach(np.zeros(10, np.uint8), "CRC16")
    with pytest.raises(ValueError):
        crc.check(np.zeros((1, 16), np.uint8), "CRC16")


@pytest.mark.parametrize("name", list(crc.CRC_BITS))
def test_crc_is_bit_for_bit_sionnas(name: str) -> None:
    """attach / check against Sionna's CRCEncoder / CRCDecoder on random blocks, some corrupted."""
    import torch
    from sionna.phy.fec.crc import CRCDecoder, CRCEncoder

    rng = np.random.default_rng(len(name))
    for k in (12, 633, 3000):
        blocks = rng.integers(0, 2, (5, k), dtype=np.uint8)
        encoder = CRCEncoder(name, k=k, device="cpu")
        want = encoder(torch.from_numpy(blocks.astype(np.float32))).numpy().astype(np.uint8)
        got = crc.attach(blocks, name)
        np.testing.assert_array_equal(got, want)
        got[1, 3] ^= 1  # a payload error and a parity error: both fail
        got[3, -1] ^= 1
        payload, valid = crc.check(got, name)
        ref_payload, ref_valid = CRCDecoder(encoder, device="cpu")(torch.from_numpy(got.astype(np.float32)))
        np.testing.assert_array_equal(payload, ref_payload.numpy().astype(np.uint8))
        np.testing.assert_array_equal(valid, ref_valid.numpy()[:, 0].astype(bool))
        assert valid.tolist() == [True, False, True, False, True]
