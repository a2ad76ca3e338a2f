"""Channel capacity per complex channel symbol: the limit any digital link (codec + channel code +
modulation) could reach at a given Es/N0, for the `shannon` baseline link (`semcom.eval.baselines`).

    AWGN:      C = log2(1 + snr)                                   bit / symbol
    Rayleigh:  C = E[log2(1 + |h|^2 snr)], |h|^2 ~ Exp(1)           (ergodic capacity)
             = exp(1/snr) E1(1/snr) / ln 2                          (closed form, E1 the exponential integral)

`snr` is Es/N0, linear, per complex symbol (unconstrained Gaussian input: no modulation limit).
The ergodic capacity assumes a code spanning many fades; with a block-fading channel and a short
file (few fading blocks) it is optimistic, i.e. still an upper bound for what the digital link can
do. All functions are vectorised over numpy arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

CHANNELS = ("awgn", "rayleigh")


def awgn_capacity(snr: ArrayLike) -> NDArray[np.float64]:
    """log2(1 + snr), bit per complex symbol (snr linear Es/N0)."""
    return np.log2(1.0 + np.asarray(snr, dtype=np.float64))


def rayleigh_ergodic_capacity(snr: ArrayLike) -> NDArray[np.float64]:
    """E[log2(1 + g snr)] with g ~ Exp(1), by the closed form exp(1/snr) E1(1/snr) / ln 2."""
    from scipy.special import exp1

    snr = np.asarray(snr, dtype=np.float64)
    out = np.zeros_like(snr)
    positive = snr > 0
    x = 1.0 / snr[positive]
    # exp(x) E1(x) overflows for x > ~700 (snr < -28 dB); there it equals 1/x to < 0.2 %, i.e. ~snr
    big = x > 500.0
    value = np.empty_like(x)
    value[~big] = np.exp(x[~big]) * exp1(x[~big])
    value[big] = 1.0 / (x[big] + 1.0)  # asymptote (x + 1)^-1 < e^x E1(x) < x^-1
    out[positive] = value / np.log(2.0)
    return out


def capacity(channel: str, esn0_db: ArrayLike) -> NDArray[np.float64]:
    """Capacity (bit / complex symbol) of `channel` at Es/N0 `esn0_db` (dB)."""
    snr = 10.0 ** (np.asarray(esn0_db, dtype=np.float64) / 10.0)
    if channel == "awgn":
        return awgn_capacity(snr)
    if channel == "rayleigh":
        return rayleigh_ergodic_capacity(snr)
    raise ValueError(f"the shannon link is defined for the channels {CHANNELS}, got {channel!r}")
