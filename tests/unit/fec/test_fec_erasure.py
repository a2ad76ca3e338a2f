"""Erased latent values: bit mask -> value mask, and filling from valid neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.fec.erasure import erased_values, fill_erased


def test_a_value_is_erased_when_any_of_its_bits_is() -> None:
    bits = np.zeros(64, bool)
    bits[17] = True  # value 1 of 16-bit values
    bits[48:64] = True  # value 3
    assert erased_values(bits, 16).tolist() == [False, True, False, True]
    assert erased_values(bits, 8, num_values=7).tolist() == [False, False, True, False, False, False, True]
    with pytest.raises(ValueError):
        erased_values(bits, 16, num_values=5)
    with pytest.raises(ValueError):
        erased_values(bits, 0)


def _smooth_latent() -> np.ndarray:
    y, x = np.mgrid[0:32, 0:32] / 31.0
    return np.stack([np.sin(3 * x + 2 * y), x * y - 0.5, np.cos(4 * y)]).astype(np.float32)


def test_neighbour_fill_recovers_a_contiguous_hole_far_better_than_zeros() -> None:
    latent = _smooth_latent()
    erased = np.zeros(latent.shape, bool)
    erased[1, 10:18, :] = True  # a failed segment: 8 whole rows of one channel
    erased[0, 5, 3:9] = True
    corrupted = latent.copy()
    corrupted[erased] = 1e4  # garbage the decoder produced
    filled = fill_erased(corrupted, erased)
    zeroed = fill_erased(corrupted, erased, method="zero")
    np.testing.assert_array_equal(filled[~erased], latent[~erased])  # valid values untouched
    assert filled.dtype == latent.dtype and np.all(np.isfinite(filled))
    err_fill = np.abs(filled - latent)[erased].mean()
    err_zero = np.abs(zeroed - latent)[erased].mean()
    assert err_fill < 0.25 * err_zero
    assert np.all(zeroed[erased] == 0)


def test_fully_erased_plane_becomes_zero_and_batches_work() -> None:
    latent = np.stack([_smooth_latent(), _smooth_latent() + 1.0])  # (2, 3, 32, 32)
    erased = np.zeros(latent.shape, bool)
    erased[1, 2] = True  # a whole channel of the second latent
    erased[0, 0, 0, 0] = True  # a corner
    filled = fill_erased(latent, erased)
    assert np.all(filled[1, 2] == 0)
    corner_neighbours = latent[0, 0, :2, :2].reshape(-1)[1:]
    assert filled[0, 0, 0, 0] == pytest.approx(corner_neighbours.mean(), rel=1e-6)
    np.testing.assert_array_equal(fill_erased(latent, np.zeros_like(erased)), latent)


def test_fill_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        fill_erased(np.zeros((2, 4, 4), np.float32), np.zeros((2, 4, 5), bool))
    with pytest.raises(ValueError, match="method"):
        fill_erased(np.zeros((4, 4), np.float32), np.zeros((4, 4), bool), method="median")
    with pytest.raises(ValueError, match="float"):
        fill_erased(np.zeros((4, 4), np.int8), np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match="spatial"):
        fill_erased(np.zeros(4, np.float32), np.zeros(4, bool))
