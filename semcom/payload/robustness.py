"""How each latent encoding survives random bit errors: a small, vectorised experiment.

Every payload bit is flipped independently with probability `ber` (a binary symmetric channel,
as the authors' code models the link), the payload is decoded and sanitised, and the mean
squared error against the sent latent is measured. This is what `semcom payload --bit-errors`
prints and what docs/payload.md quotes: float encodings against uniform quantisation, and Gray
against natural-binary code words.

For a uniform encoding the channel's share of the MSE has an exact first-order form
(`predicted_flip_mse`): a flip of code bit j moves index u to u'_j, so for a small bit error
rate p it adds p * step**2 * mean_u sum_j (u'_j - u)**2. For natural binary u'_j - u = +-2**j
whatever the data, giving p * step**2 * (4**k - 1) / 3; for Gray code it depends on where the
indices lie, and the measurement is checked against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.payload.latent import ENCODINGS, code_to_index, decode_latent, encode_latent, get_encoding, unpack_words
from semcom.payload.packet import CodecInfo, LatentPayload

SOURCES = ("gaussian", "laplace", "uniform")
PAPER_BERS = (1e-4, 1e-3, 1.75e-3, 1e-2, 4.2e-2)  # 1.75e-3 / 4.2e-2: the authors' BER at 10 / 5 dB


def flip_bits(data: bytes, ber: float, rng: np.random.Generator) -> bytes:
    """`data` with every bit flipped independently with probability `ber` (MSB = bit 0 of a byte).

    Draws the number of flips (binomial) and then distinct positions, so the cost follows the
    number of errors, not the number of bits.
    """
    if not 0.0 <= ber <= 1.0:
        raise ValueError(f"ber must be in [0, 1], got {ber}")
    raw = np.frombuffer(data, dtype=np.uint8).copy()
    nbits = raw.size * 8
    count = int(rng.binomial(nbits, ber)) if nbits else 0
    if count:
        pos = rng.choice(nbits, size=count, replace=False)
        np.bitwise_xor.at(raw, pos >> 3, (0x80 >> (pos & 7)).astype(np.uint8))
    return raw.tobytes()


def synthetic_latent(shape: tuple[int, ...], source: str, rng: np.random.Generator) -> NDArray[np.float64]:
    """A zero-mean unit-variance stand-in for a latent: Gaussian, Laplace (heavier tails) or
    uniform (flat: every quantisation level equally likely)."""
    if source == "gaussian":
        return rng.standard_normal(shape)
    if source == "laplace":
        return rng.laplace(scale=1 / math.sqrt(2), size=shape)
    if source == "uniform":
        return rng.uniform(-math.sqrt(3), math.sqrt(3), size=shape)
    raise ValueError(f"source must be one of {SOURCES}, got {source!r}")


def predicted_flip_mse(payload: LatentPayload, ber: float) -> float:
    """First-order channel MSE of a uniform-encoded payload at bit error rate `ber`."""
    enc = get_encoding(payload.encoding)
    if enc.family != "uniform" or payload.quant is None:
        raise ValueError(f"prediction needs a uniform encoding with quant params, got {payload.encoding!r}")
    count = math.prod(payload.shape)
    code = unpack_words(payload.data, enc.bits, count)
    u = code_to_index(code, enc).astype(np.int64)
    masks = (1 << np.arange(enc.bits)).astype(np.uint16)
    moved = code_to_index(code[:, None] ^ masks[None, :], enc).astype(np.int64)
    sq_index = ((moved - u[:, None]) ** 2).sum(axis=1).reshape(payload.shape[0], -1)
    lo, hi = np.asarray(payload.quant.lo), np.asarray(payload.quant.hi)
    step_sq = (((hi - lo) / ((1 << enc.bits) - 1)) ** 2)[:, None]
    return float(ber * np.mean(step_sq * sq_index))


@dataclass(frozen=True)
class BitErrorResult:
    encoding: str
    bits_per_value: int
    ber: float
    mse: float  # mean over trials of mean((x_hat - x)**2)
    mse_clean: float  # the same with no bit error (quantisation / cast error only)
    predicted: float | None  # mse_clean + predicted_flip_mse, uniform encodings only
    values_sanitised: float  # mean per trial


def bit_error_mse(
    x: NDArray[np.floating[Any]],
    encodings: tuple[str, ...] = tuple(ENCODINGS),
    bers: tuple[float, ...] = PAPER_BERS,
    *,
    trials: int = 16,
    seed: int = 0,
    codec: CodecInfo | None = None,
    out_of_range: str = "clamp",
    percentile: float = 100.0,
) -> list[BitErrorResult]:
    """MSE of every encoding at every bit error rate, on latent `x` (per-tensor clip range)."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    rng = np.random.default_rng(seed)
    results = []
    for name in encodings:
        enc = get_encoding(name)
        # float encodings take no clip options
        sent = encode_latent(x, name) if enc.family == "float" else encode_latent(x, name, percentile=percentile)
        clean = decode_latent(sent, codec, out_of_range=out_of_range, dtype=np.float64)
        mse_clean = float(np.mean((clean.values - x) ** 2))
        for ber in bers:
            errors, sanitised = [], []
            for _ in range(trials):
                noisy = LatentPayload(sent.shape, sent.encoding, flip_bits(sent.data, ber, rng), sent.quant)
                got = decode_latent(noisy, codec, out_of_range=out_of_range, dtype=np.float64)
                errors.append(float(np.mean((got.values - x) ** 2)))
                sanitised.append(got.values_sanitised)
            predicted = mse_clean + predicted_flip_mse(sent, ber) if enc.family == "uniform" else None
            mse, n_sanitised = float(np.mean(errors)), float(np.mean(sanitised))
            results.append(BitErrorResult(name, enc.bits, ber, mse, mse_clean, predicted, n_sanitised))
    return results
