"""Receiver-side latent treatments: measured on a smooth synthetic latent through bit flips."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from semcom.link.repair import (
    authors_sanitise,
    mmse_dequantise,
    neighbour_repair,
    position_ber,
    repaired_latent,
    spatial_mmse,
)
from semcom.payload.latent import decode_latent, encode_latent
from semcom.payload.packet import CodecInfo, LatentPayload
from semcom.payload.robustness import flip_bits
from semcom.phy.theory import ber_qam_awgn

CODEC = CodecInfo("test", valid_min=-3.0, valid_max=3.0)


@pytest.fixture(scope="module")
def latent():
    """A spatially smooth 4x32x32 latent with unit variance (like a VAE latent, unlike white noise)."""
    x = gaussian_filter(np.random.default_rng(0).normal(size=(4, 32, 32)), sigma=(0, 1.5, 1.5))
    return x / x.std()


def _noisy(payload: LatentPayload, ber: float, seed: int = 1) -> LatentPayload:
    return LatentPayload(
        payload.shape, payload.encoding, flip_bits(payload.data, ber, np.random.default_rng(seed)), payload.quant
    )


def _mse(a, b):
    return float(np.mean((np.asarray(a, dtype=np.float64) - b) ** 2))


def test_neighbour_repair_fixes_an_isolated_spike(latent):
    spiked = latent.copy()
    spiked[1, 10, 12] = 3.0  # far from its smooth neighbourhood
    fixed, count = neighbour_repair(spiked)
    assert abs(fixed[1, 10, 12] - latent[1, 10, 12]) < 0.5 and count >= 1
    # Its known weakness (why docs/evaluation.md rejects it): on a clean latent it also "repairs"
    # local extrema, a small but non-zero error where there was none.
    clean, n_clean = neighbour_repair(latent)
    assert 0 < n_clean < 0.15 * latent.size and 0 < _mse(clean, latent) < 0.05
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        neighbour_repair(latent[0])


def test_authors_rule_replaces_tiny_huge_and_nan_values():
    values = np.array([[[0.5, 0.001, 1e30, np.nan]]])
    payload = LatentPayload((1, 1, 4), "float64", values.astype("<f8").tobytes())
    got = authors_sanitise(payload, CODEC, np.random.default_rng(0))
    assert got.values[0, 0, 0] == pytest.approx(0.5)
    assert np.all(np.abs(got.values) <= 3.0) and got.values[0, 0, 1] != pytest.approx(0.001)
    assert got.values_sanitised >= 3
    with pytest.raises(ValueError, match="float encodings"):
        authors_sanitise(encode_latent(values[..., :2], "int8"), CODEC, np.random.default_rng(0))


@pytest.mark.parametrize("encoding", ["int8", "int8g", "int6g", "int4"])
def test_mmse_without_errors_is_the_plain_dequantisation(latent, encoding):
    payload = encode_latent(latent, encoding, per_channel=True)
    plain = decode_latent(payload, None, dtype=np.float64).values
    np.testing.assert_allclose(mmse_dequantise(payload, np.zeros(4)), plain, atol=1e-9)


@pytest.mark.parametrize("encoding", ["int8g", "int6g", "int4g"])
def test_mmse_and_smmse_reduce_the_error_under_bit_flips(latent, encoding):
    payload = encode_latent(latent, encoding, per_channel=True, percentile=99.9)
    ber = 0.05
    noisy = _noisy(payload, ber)
    plain = _mse(decode_latent(noisy, CODEC).values, latent)
    mmse = _mse(mmse_dequantise(noisy, np.full(4, ber)), latent)
    smmse = _mse(spatial_mmse(noisy, np.full(4, ber)), latent)
    assert mmse < 0.8 * plain and smmse < 0.8 * mmse


def test_repaired_latent_dispatch(latent):
    payload = encode_latent(latent, "int8g", per_channel=True)
    noisy = _noisy(payload, 0.02)
    assert repaired_latent(noisy, CODEC, "").values.dtype == np.float32
    assert _mse(repaired_latent(noisy, CODEC, "smmse", bers=np.full(4, 0.02)).values, latent) < _mse(
        repaired_latent(noisy, CODEC, "").values, latent
    )
    with pytest.raises(ValueError, match="bit error probabilities"):
        repaired_latent(noisy, CODEC, "mmse")
    with pytest.raises(ValueError, match="unknown receiver repair"):
        repaired_latent(noisy, CODEC, "magic")


@pytest.mark.parametrize("snr_db", [0.0, 6.0])
def test_position_ber_averages_to_the_closed_form(snr_db):
    bers = np.array(position_ber(snr_db, "ebn0", "16qam", "awgn"))
    assert bers.shape == (4,)
    assert bers.mean() == pytest.approx(ber_qam_awgn(4, snr_db), rel=0.03)
    assert bers.max() > 1.5 * bers.min()  # Gray 16-QAM: two strong and two weak bit positions


def _sent_over(payload: LatentPayload, model: str, snr_db: float):
    import dataclasses

    from semcom.link.transmission import transmit_bits
    from semcom.link.types import ChannelConfig

    bits = np.unpackbits(np.frombuffer(payload.data, np.uint8))
    result = transmit_bits(bits, ChannelConfig(snr_db=snr_db, model=model, seed=3), soft_output=True)
    return dataclasses.replace(payload, data=np.packbits(result.rx_bits).tobytes()), result


def test_soft_output_agrees_with_the_decisions_and_changes_no_noise():
    from semcom.link.transmission import transmit_bits
    from semcom.link.types import ChannelConfig

    bits = np.random.default_rng(4).integers(0, 2, 40_000, dtype=np.uint8)
    for model in ("awgn", "rayleigh", "bsc", "none"):
        cfg = ChannelConfig(snr_db=10.0, model=model, seed=9)
        hard, soft = transmit_bits(bits, cfg), transmit_bits(bits, cfg, soft_output=True)
        np.testing.assert_array_equal(hard.rx_bits, soft.rx_bits)  # same noise, same decisions
        assert hard.llr is None and soft.llr.shape == bits.shape and soft.llr.dtype == np.float32
        agree = np.mean((soft.llr > 0) == soft.rx_bits.astype(bool))
        # the exact LLR's sign is the bitwise MAP decision; it departs from the nearest point only
        # where the noise is comparable to the spacing (2 % of bits on Rayleigh at 4 dB, fewer here)
        assert agree > 0.99, (model, agree)
    # reliable bits are right far more often than unreliable ones: the LLRs carry information
    soft = transmit_bits(bits, ChannelConfig(snr_db=4.0, model="rayleigh", seed=9), soft_output=True)
    wrong = soft.rx_bits != bits
    weak = np.abs(soft.llr) < np.median(np.abs(soft.llr))
    assert wrong[weak].mean() > 5 * wrong[~weak].mean()


@pytest.mark.parametrize("model", ["awgn", "rayleigh"])
def test_soft_repair_beats_smmse_where_bits_differ_in_reliability(latent, model):
    payload = encode_latent(latent, "int8g", per_channel=True, percentile=99.9)
    received, result = _sent_over(payload, model, 4.0)
    bers = np.array(position_ber(4.0, "ebn0", "16qam", model))
    smmse = _mse(repaired_latent(received, CODEC, "smmse", bers=bers).values, latent)
    soft = _mse(repaired_latent(received, CODEC, "soft", llr=result.llr).values, latent)
    assert result.bit_errors > 0 and soft < 0.8 * smmse
    # with certain bits the soft estimate is the plain dequantisation
    clean, certain = _sent_over(payload, "none", 4.0)
    np.testing.assert_allclose(
        repaired_latent(clean, CODEC, "soft", llr=certain.llr).values, decode_latent(payload, CODEC).values, atol=1e-5
    )
    with pytest.raises(ValueError, match="LLRs"):
        repaired_latent(received, CODEC, "soft")
    with pytest.raises(ValueError, match="finite LLRs"):
        repaired_latent(received, CODEC, "soft", llr=result.llr[:10])
