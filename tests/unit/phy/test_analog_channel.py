"""The analog channel: Es/N0 against unit symbol energy, Rayleigh block gains known to the receiver."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.phy.analog import analog_channel


def test_awgn_noise_variance_follows_esn0():
    rng = np.random.default_rng(0)
    x = np.exp(2j * np.pi * rng.random(200_000)).astype(np.complex64)
    y, gains, n0 = analog_channel(x, 3.0, rng)
    assert gains is None and n0 == pytest.approx(10**-0.3)
    assert np.var(y - x) == pytest.approx(n0, rel=0.02)


def test_rayleigh_gain_is_constant_per_block_and_unit_power():
    rng = np.random.default_rng(1)
    x = np.ones(100_000, np.complex64)
    y, gains, n0 = analog_channel(x, 20.0, rng, fading="rayleigh", block_length=10)
    assert gains is not None and gains.shape == x.shape and gains.dtype == np.complex64
    blocks = gains.reshape(-1, 10)
    assert np.all(blocks == blocks[:, :1])
    assert np.mean(np.abs(blocks[:, 0]) ** 2) == pytest.approx(1.0, rel=0.05)
    assert np.var(y - gains * x) == pytest.approx(n0, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"fading": "rician"}, "fading must be"), ({"fading": "rayleigh", "block_length": 0}, "block_length")],
)
def test_bad_channel_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        analog_channel(np.ones(4, np.complex64), 0.0, np.random.default_rng(0), **kwargs)
