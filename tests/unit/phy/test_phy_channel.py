"""Channel models (AWGN, Rayleigh block fading, BSC) and simulated BER against the closed forms.

Statistical checks use 5-sigma bands on error counts: binomial for independent errors, the
empirical spread of per-block counts for block fading (errors cluster within a block).
"""

from __future__ import annotations

import numpy as np
import pytest

from semcom.phy.channel import awgn, bsc, complex_noise, rayleigh_block_fading
from semcom.phy.mapping import qam
from semcom.phy.snr import ebn0_db_to_n0
from semcom.phy.theory import ber_qam_awgn, ber_qam_rayleigh

SIGMAS = 5.0


def _assert_binomial(errors: int, n: int, p: float) -> None:
    sd = np.sqrt(n * p * (1 - p))
    assert abs(errors - n * p) <= SIGMAS * sd, f"{errors} errors, expected {n * p:.1f} +/- {SIGMAS} x {sd:.1f}"


def test_awgn_noise_has_the_requested_variance_and_is_circular() -> None:
    n, n0 = 400_000, 0.3
    noise = awgn(np.zeros(n, np.complex64), n0, np.random.default_rng(0)).astype(np.complex128)
    # variance of a sample variance of n normals: 2 s^4 / n
    for part in (noise.real, noise.imag):
        assert abs(np.var(part) - n0 / 2) < SIGMAS * np.sqrt(2 / n) * n0 / 2
        assert abs(np.mean(part)) < SIGMAS * np.sqrt(n0 / 2 / n)
    assert abs(np.mean(noise.real * noise.imag)) < SIGMAS * (n0 / 2) / np.sqrt(n)


def test_awgn_adds_to_the_signal_reproducibly() -> None:
    x = qam(4).modulate(np.random.default_rng(1).integers(0, 2, 4000, dtype=np.uint8))
    a = awgn(x, 0.1, np.random.default_rng(9))
    np.testing.assert_array_equal(a, awgn(x, 0.1, np.random.default_rng(9)))
    assert not np.array_equal(a, awgn(x, 0.1, np.random.default_rng(10)))
    np.testing.assert_array_equal(awgn(x, 0.0, np.random.default_rng(9)), x)
    assert a.dtype == np.complex64


def test_rayleigh_noiseless_equalisation_recovers_the_symbols() -> None:
    x = qam(4).modulate(np.random.default_rng(2).integers(0, 2, 4 * 1000, dtype=np.uint8))
    y, n0_sym = rayleigh_block_fading(x, 0.0, np.random.default_rng(3), block_length=16)
    np.testing.assert_allclose(y, x, atol=1e-3)
    assert np.all(n0_sym == 0)


def test_rayleigh_gain_is_constant_per_block_with_unit_mean_power() -> None:
    n, block = 64 * 2000 + 10, 64
    _, n0_sym = rayleigh_block_fading(np.ones(n, np.complex64), 1.0, np.random.default_rng(4), block_length=block)
    power = 1.0 / n0_sym.astype(np.float64)  # |h|^2 per symbol
    blocks = power[: n - 10].reshape(-1, block)
    np.testing.assert_allclose(blocks, blocks[:, :1].repeat(block, axis=1), rtol=1e-6)  # constant in a block
    assert np.all(power[n - 10 :] == power[n - 10])  # the short last block too
    assert len(np.unique(blocks[:, 0])) == blocks.shape[0]  # a fresh gain per block
    assert abs(np.mean(blocks[:, 0]) - 1.0) < SIGMAS / np.sqrt(blocks.shape[0])  # |h|^2 ~ Exp(1)


def test_complex_noise_and_channel_arguments_are_validated() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        complex_noise(4, -1.0, rng)
    with pytest.raises(ValueError):
        complex_noise(4, float("nan"), rng)
    with pytest.raises(ValueError):
        rayleigh_block_fading(np.ones(4, np.complex64), 0.1, rng, block_length=0)
    with pytest.raises(ValueError):
        bsc(np.zeros(4, np.uint8), 1.5, rng)


def test_bsc_flip_rate_and_edge_cases() -> None:
    n, p = 1_000_000, 0.0418928
    bits = np.random.default_rng(5).integers(0, 2, n, dtype=np.uint8)
    out = bsc(bits, p, np.random.default_rng(6))
    _assert_binomial(int(np.count_nonzero(out != bits)), n, p)
    np.testing.assert_array_equal(bsc(bits, 0.0, np.random.default_rng(6)), bits)
    np.testing.assert_array_equal(bsc(bits, 1.0, np.random.default_rng(6)), 1 - bits)


@pytest.mark.parametrize(
    ("k", "ebn0_dbs"),
    [(4, (0.0, 4.0, 8.0, 10.0)), (2, (0.0, 4.0, 8.0)), (6, (4.0, 10.0, 14.0)), (1, (2.0, 6.0)), (8, (12.0, 18.0))],
)
def test_awgn_ber_matches_closed_form(k: int, ebn0_dbs: tuple[float, ...]) -> None:
    c, n = qam(k), 600_000
    for i, ebn0_db in enumerate(ebn0_dbs):
        rng = np.random.default_rng(1000 * k + i)
        bits = rng.integers(0, 2, n, dtype=np.uint8)
        rx = c.demodulate_hard(awgn(c.modulate(bits), ebn0_db_to_n0(ebn0_db, k), rng), n)
        _assert_binomial(int(np.count_nonzero(rx != bits)), n, ber_qam_awgn(k, ebn0_db))


@pytest.mark.parametrize("k", [2, 4])
def test_rayleigh_ber_matches_closed_form_symbolwise_fading(k: int) -> None:
    """Block length 1: every symbol fades independently, so errors are independent per symbol
    (bits of one symbol share the gain; the binomial band is widened by sqrt(k) for that)."""
    c, n = qam(k), 400_000
    for i, ebn0_db in enumerate((5.0, 15.0)):
        rng = np.random.default_rng(50 + 10 * k + i)
        bits = rng.integers(0, 2, n, dtype=np.uint8)
        y, _ = rayleigh_block_fading(c.modulate(bits), ebn0_db_to_n0(ebn0_db, k), rng, block_length=1)
        errors = int(np.count_nonzero(c.demodulate_hard(y, n) != bits))
        p = ber_qam_rayleigh(k, ebn0_db)
        assert abs(errors - n * p) <= SIGMAS * np.sqrt(k * n * p * (1 - p))


def test_rayleigh_block_fading_ber_matches_closed_form_cluster_robust() -> None:
    """Block length 100: the mean BER is unchanged; its standard error comes from the spread of
    per-block error counts."""
    c, k, block, ebn0_db = qam(4), 4, 100, 10.0
    n = 4 * block * 3000
    rng = np.random.default_rng(77)
    bits = rng.integers(0, 2, n, dtype=np.uint8)
    y, _ = rayleigh_block_fading(c.modulate(bits), ebn0_db_to_n0(ebn0_db, k), rng, block_length=block)
    per_block = (c.demodulate_hard(y, n) != bits).reshape(-1, k * block).sum(axis=1)
    se = np.sqrt(per_block.size) * per_block.std(ddof=1)
    assert abs(per_block.sum() - n * ber_qam_rayleigh(k, ebn0_db)) <= SIGMAS * se
