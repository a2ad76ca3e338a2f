"""Channel models on complex64 symbols (AWGN, Rayleigh block fading) and on bits (BSC).

Noise convention: `n0` is the variance of the complex noise sample, N0 / 2 per real dimension,
so with unit-energy constellations ``n0 = 10 ** (-Es/N0 [dB] / 10)`` (see `semcom.phy.snr`).
All randomness comes from the numpy `Generator` passed in; nothing here seeds anything.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.phy.mapping import as_bits


def _check_n0(n0: float) -> np.float32:
    n0 = float(n0)
    if not (np.isfinite(n0) and n0 >= 0.0):
        raise ValueError(f"n0 must be finite and >= 0, got {n0!r}")
    return np.float32(n0)


def complex_noise(n: int, n0: float, rng: np.random.Generator) -> NDArray[np.complex64]:
    """`n` i.i.d. circular complex Gaussian samples of variance `n0` (complex64)."""
    noise = rng.standard_normal(2 * int(n), dtype=np.float32)
    noise *= np.sqrt(_check_n0(n0) / np.float32(2.0))
    return noise.view(np.complex64)


def awgn(x: ArrayLike, n0: float, rng: np.random.Generator) -> NDArray[np.complex64]:
    """``y = x + n``, n ~ CN(0, n0): the received complex64 symbols."""
    x = np.ascontiguousarray(x, dtype=np.complex64).reshape(-1)
    y = complex_noise(x.size, n0, rng)
    y += x
    return y


def rayleigh_block_fading(
    x: ArrayLike, n0: float, rng: np.random.Generator, block_length: int
) -> tuple[NDArray[np.complex64], NDArray[np.float32]]:
    """Rayleigh block fading with perfect-CSI zero-forcing equalisation.

    One gain ``h ~ CN(0, 1)`` holds for `block_length` consecutive symbols (the last block may
    be shorter); the receiver sees ``y = h x + n`` and, knowing ``h``, returns ``y / h`` together
    with the per-symbol noise variance after equalisation, ``n0 / |h|^2``, which a soft demapper
    needs. Returns ``(y_equalised complex64, n0_per_symbol float32)``.
    """
    if not (isinstance(block_length, (int, np.integer)) and block_length >= 1):
        raise ValueError(f"block_length must be an integer >= 1, got {block_length!r}")
    x = np.ascontiguousarray(x, dtype=np.complex64).reshape(-1)
    n_blocks = -(-x.size // int(block_length))
    gains = complex_noise(n_blocks, 1.0, rng)
    h = np.repeat(gains, block_length)[: x.size]
    y = h * x
    y += complex_noise(x.size, n0, rng)
    power = np.square(h.real) + np.square(h.imag)
    np.maximum(power, np.float32(np.finfo(np.float32).tiny), out=power)  # |h| = 0 has measure zero
    y *= np.conj(h) / power  # y / h without a complex division
    return y, (np.float32(_check_n0(n0)) / power).astype(np.float32)


def bsc(bits: ArrayLike, p: float, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Binary symmetric channel: flip each 0/1 bit independently with probability `p`."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"flip probability must be in [0, 1], got {p!r}")
    b = as_bits(bits)
    flips = rng.random(b.size, dtype=np.float64) < p
    return b ^ flips.view(np.uint8)
