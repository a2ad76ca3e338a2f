"""Bit scrambling: XOR with a fixed pseudo-random sequence known to both ends.

Why: a Gray QAM symbol's energy depends on its bits, and payload bits are far from uniform (a
float64 latent's sign and exponent bits repeat value after value). Unscrambled, a 4x64x64
float64 latent mapped to 16-QAM favours outer points and averages Es = 1.099 instead of the
constellation's 1.000: the transmitter spends 0.41 dB more energy than the reported SNR accounts
for, and the latent sees about 4% fewer bit errors than the closed form (and the authors' BSC)
at that SNR. Scrambling, as every real PHY does (3GPP TS 38.211 7.3.1.1), makes the bits on the
air uniform, so the configured SNR is the true one. XOR is its own inverse and maps error
patterns one to one: bit error counts are unchanged by descrambling.

The sequence is defined chunk by chunk (chunk i = the bits of `SEED, i` drawn from numpy's
PCG64), so any prefix is stable and chunks are generated once per process.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.phy.mapping import as_bits

SEED = 0x5E3C0
CHUNK_BITS = 1 << 20


@lru_cache(maxsize=64)
def _chunk(index: int) -> NDArray[np.uint8]:
    rng = np.random.Generator(np.random.PCG64([SEED, index]))
    chunk = np.unpackbits(np.frombuffer(rng.bytes(CHUNK_BITS // 8), dtype=np.uint8))
    chunk.setflags(write=False)
    return chunk


def scrambling_sequence(n_bits: int) -> NDArray[np.uint8]:
    """The first `n_bits` bits (uint8 0/1) of the scrambling sequence."""
    if n_bits < 0:
        raise ValueError(f"n_bits must be >= 0, got {n_bits}")
    chunks = -(-n_bits // CHUNK_BITS)
    if chunks <= 1:
        return _chunk(0)[:n_bits]
    return np.concatenate([_chunk(i) for i in range(chunks)])[:n_bits]


def scramble(bits: ArrayLike) -> NDArray[np.uint8]:
    """``bits XOR sequence``; applying it twice gives the bits back (descrambling)."""
    b = as_bits(bits)
    return b ^ scrambling_sequence(b.size)
