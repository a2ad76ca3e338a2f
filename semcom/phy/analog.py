"""The channel of analog transmission: unit-average-energy complex symbols over AWGN or Rayleigh
block fading, returned *unequalised* with the gains, because the analog receiver's LMMSE estimator
weighs each symbol by its own gain (a zero-forcing division would amplify the noise of faded
symbols; `semcom.phy.channel.rayleigh_block_fading` equalises for the bit path's demapper).

Conventions as `semcom.phy.channel`: Es/N0 against unit average symbol energy, N0 the complex
noise variance (N0 / 2 per real dimension); Rayleigh: one gain h ~ CN(0, 1) per block of
`block_length` consecutive symbols (the last block may be shorter), known to the receiver.
Only Es/N0 is defined for analog symbols (they carry no bits, so there is no Eb/N0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.phy.channel import complex_noise
from semcom.phy.snr import esn0_db_to_n0

FADING = ("awgn", "rayleigh")
DEFAULT_BLOCK_LENGTH = 128  # as semcom.link.types.ChannelConfig.fading_block_length


def analog_channel(
    symbols: ArrayLike,
    esn0_db: float,
    rng: np.random.Generator,
    *,
    fading: str = "awgn",
    block_length: int = DEFAULT_BLOCK_LENGTH,
) -> tuple[NDArray[np.complex64], NDArray[np.complex64] | None, float]:
    """``y = h x + n`` -> (y complex64, h per symbol complex64 or None on AWGN, N0)."""
    if fading not in FADING:
        raise ValueError(f"fading must be one of {', '.join(FADING)}, got {fading!r}")
    n0 = float(esn0_db_to_n0(float(esn0_db)))
    x = np.ascontiguousarray(symbols, dtype=np.complex64).reshape(-1)
    if fading == "awgn":
        y = complex_noise(x.size, n0, rng)
        y += x
        return y, None, n0
    if isinstance(block_length, bool) or not isinstance(block_length, (int, np.integer)) or block_length < 1:
        raise ValueError(f"block_length must be an integer >= 1, got {block_length!r}")
    gains = complex_noise(-(-x.size // int(block_length)), 1.0, rng)
    h = np.repeat(gains, int(block_length))[: x.size]
    y = h * x
    y += complex_noise(x.size, n0, rng)
    return y, h, n0
