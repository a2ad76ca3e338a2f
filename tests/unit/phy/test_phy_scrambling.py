"""Scrambling: an involution that makes payload bits uniform on the air."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.phy.mapping import qam
from semcom.phy.scrambling import CHUNK_BITS, scramble, scrambling_sequence


def _latent_bits() -> np.ndarray:
    latent = np.random.default_rng(0).standard_normal((4, 32, 32))  # float64, like the paper's latent
    return np.unpackbits(np.frombuffer(latent.tobytes(), dtype=np.uint8))


def test_scrambling_is_its_own_inverse_and_keeps_error_positions() -> None:
    bits = _latent_bits()
    np.testing.assert_array_equal(scramble(scramble(bits)), bits)
    errors = np.zeros(bits.size, np.uint8)
    errors[[3, 500, 70_000]] = 1
    np.testing.assert_array_equal(scramble(scramble(bits) ^ errors) ^ bits, errors)


def test_sequence_is_balanced_and_prefix_stable_across_chunks() -> None:
    n = 2 * CHUNK_BITS + 123
    seq = scrambling_sequence(n)
    assert seq.dtype == np.uint8 and seq.size == n
    assert abs(seq.mean() - 0.5) < 5 * 0.5 / np.sqrt(n)
    np.testing.assert_array_equal(seq[:1000], scrambling_sequence(1000))
    np.testing.assert_array_equal(seq[: CHUNK_BITS + 5], scrambling_sequence(CHUNK_BITS + 5))
    assert scrambling_sequence(0).size == 0
    with pytest.raises(ValueError):
        scrambling_sequence(-1)


def test_scrambled_latent_symbols_have_the_nominal_energy() -> None:
    bits = _latent_bits()
    raw = np.mean(np.abs(qam(4).modulate(bits).astype(np.complex128)) ** 2)
    scrambled = np.mean(np.abs(qam(4).modulate(scramble(bits)).astype(np.complex128)) ** 2)
    assert raw > 1.05  # unscrambled float64 bits favour outer 16-QAM points
    assert abs(scrambled - 1.0) < 0.01
