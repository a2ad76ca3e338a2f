"""Receiver-side treatments of a received latent, compared by the sweep (`LatentVariant.repair`).

- "" : `semcom.payload.decode_latent` as the receiver does it (clamp to the codec's valid range,
  NaN/inf -> channel median).
- "fill": out-of-range values are filled with the channel median instead of clamped.
- "nb": "fill", then values far from their 3x3 spatial median are replaced by it. A latent is
  smooth in space, a bit error is not: a value whose residual against the median of its 3x3
  neighbourhood exceeds `NB_THRESHOLD` robust standard deviations (1.4826 x the channel's median
  absolute residual) is taken as corrupted.
- "mmse": for a uniform (k-bit) encoding, the posterior-mean estimate of every value given its
  received code word and the channel's bit error probabilities, instead of the plain level of
  the received word. Per channel, the prior over the 2**k levels is estimated from the received
  code words themselves (EM deconvolution of their histogram through the known bit-flip channel),
  so no side information is needed. With no bit errors it returns the plain levels exactly.
- "smmse": "mmse" with a spatial prior: each value's prior is a Gaussian around the mean of its 8
  neighbours' current estimates (per-channel width: 1.4826 x the median absolute residual, so a
  noisier latent gets a weaker prior), mixed with SMMSE_EPS of a flat prior so that a true edge
  is not smoothed away; `SMMSE_ITERATIONS` rounds, starting from the "mmse" estimate.
- "soft": "smmse" from soft bits: each value's likelihood over the levels comes from the LLRs of
  its own bits (`transmit_bits(..., soft_output=True)`: per symbol, with its own fading gain)
  instead of the channel's average bit error rate per position, so a bit received in a deep
  fade counts for little and one received in the clear for much; prior by EM over the
  posteriors (`SOFT_EM_ITERATIONS`), then the same spatial rounds. Needs the link's soft output,
  which only the in-process link gives (the services carry bits).
- "mmse+nb" / "smmse+nb": then the "nb" outlier repair.
- "authors": the rule of the paper's public code, for comparison: every received float that is
  NaN, infinite, |x| > 10 or |x| < 0.01 becomes a fresh N(0, 1) draw (then the codec's clamp, so
  the decoder sees the same range as with the other treatments).

Bit error probabilities per bit position of a channel symbol (`position_ber`) matter because
Gray QAM protects its bit positions unequally (16-QAM: two strong, two weak bits) and a k-bit
word always starts at the same symbol position when k is a multiple of the bits per symbol.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.link.transmission import transmit_bits
from semcom.link.types import MODULATIONS, ChannelConfig
from semcom.payload.latent import (
    Encoding,
    decode_latent,
    dequantise,
    get_encoding,
    index_to_code,
    sanitise,
    unpack_words,
)
from semcom.payload.packet import CodecInfo, LatentPayload

if TYPE_CHECKING:
    import torch

Floats = NDArray[np.float64]

NB_THRESHOLD = 4.0
NB_SIZE = 3
AUTHORS_MAX_ABS = 10.0
AUTHORS_MIN_ABS = 0.01
EM_ITERATIONS = 60
SMMSE_ITERATIONS = 2
SMMSE_EPS = 0.01
SMMSE_CHANNELS_PER_CHUNK = 4  # bounds memory: chunk x values x levels floats
SOFT_EM_ITERATIONS = 10
CALIBRATION_SYMBOLS = 1 << 18
P_FLOOR = 1e-12


@dataclass(frozen=True)
class RepairedLatent:
    values: NDArray[np.float32]  # (C, H, W)
    values_sanitised: int  # values changed by the receiver's treatment (per stage, summed)


@lru_cache(maxsize=256)
def position_ber(snr_db: float, snr_convention: str, modulation: str, model: str) -> tuple[float, ...]:
    """Bit error probability of each bit position of a symbol on the uncoded link, measured once.

    Sends CALIBRATION_SYMBOLS random symbols through `semcom.link.transmission.transmit_bits` with a
    fixed seed and counts the errors per position: the receiver's knowledge of its own channel
    (as from pilots), exact for whatever constellation labelling the link uses.
    """
    k = MODULATIONS[modulation]
    cfg = ChannelConfig(snr_db=snr_db, snr_convention=snr_convention, modulation=modulation, model=model, seed=12345)
    bits = np.random.default_rng(54321).integers(0, 2, CALIBRATION_SYMBOLS * k, dtype=np.uint8)
    rx = transmit_bits(bits, cfg).rx_bits
    errors = (rx != bits).reshape(-1, k).mean(axis=0)
    return tuple(float(e) for e in errors)


def neighbour_repair(values: ArrayLike, threshold: float = NB_THRESHOLD, size: int = NB_SIZE) -> tuple[Floats, int]:
    """Replace spatial outliers of a (C, H, W) latent by their size x size channel-wise median."""
    from scipy.ndimage import median_filter

    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"neighbour repair needs a (C, H, W) latent, got shape {x.shape}")
    med = median_filter(x, size=(1, size, size), mode="nearest")
    resid = x - med
    scale = 1.4826 * np.median(np.abs(resid), axis=(1, 2), keepdims=True)
    bad = np.abs(resid) > threshold * np.maximum(scale, np.finfo(np.float32).tiny)
    return np.where(bad, med, x), int(np.count_nonzero(bad))


def authors_sanitise(payload: LatentPayload, codec: CodecInfo, rng: np.random.Generator) -> RepairedLatent:
    """The paper's code: NaN/inf/|x|>10/|x|<0.01 -> N(0, 1), then the codec's valid-range clamp."""
    enc = get_encoding(payload.encoding)
    if enc.family != "float":
        raise ValueError(f"the authors' sanitiser applies to float encodings, not {payload.encoding}")
    with np.errstate(invalid="ignore", over="ignore"):
        raw = np.frombuffer(payload.data, dtype=enc.dtype).astype(np.float64).reshape(payload.shape)
        magnitude = np.abs(raw)
        bad = ~np.isfinite(raw) | (magnitude > AUTHORS_MAX_ABS) | (magnitude < AUTHORS_MIN_ABS)
    raw = np.where(bad, rng.standard_normal(raw.shape), raw)
    safe = sanitise(raw, codec.valid_min, codec.valid_max)
    return RepairedLatent(safe.values, int(np.count_nonzero(bad)) + safe.values_sanitised)


def _flip_likelihoods(enc: Encoding, bers: Floats, phases: NDArray[np.int64]) -> Floats:
    """L[phase, r, u] = P(received word r | sent index u) for words starting at symbol position `phase`."""
    k, n = enc.bits, 1 << enc.bits
    words = np.arange(n)
    sent = index_to_code_table(enc)  # code word of each index
    shifts = np.arange(k - 1, -1, -1)
    differ = ((words[:, None] ^ sent[None, :])[..., None] >> shifts) & 1  # (r, u, bit j MSB first)
    m = bers.size
    out = np.empty((phases.size, n, n))
    for i, phase in enumerate(phases):  # at most bits-per-symbol phases
        p = np.clip(bers[(phase + np.arange(k)) % m], P_FLOOR, 0.5)
        out[i] = np.exp(differ @ np.log(p) + (1 - differ) @ np.log1p(-p))
    return out


def index_to_code_table(enc: Encoding) -> NDArray[np.int64]:
    """Code word written for each quantisation index 0 .. 2**k - 1."""
    return index_to_code(np.arange(1 << enc.bits, dtype=np.uint16), enc).astype(np.int64)


def mmse_dequantise(payload: LatentPayload, bers: ArrayLike, iterations: int = EM_ITERATIONS) -> Floats:
    """Posterior-mean values of a received uniform payload given per-position bit error rates."""
    enc = get_encoding(payload.encoding)
    if enc.family != "uniform" or payload.quant is None:
        raise ValueError(f"mmse needs a quantised payload with its range, got {payload.encoding!r}")
    shape = tuple(payload.shape)
    channels, n = shape[0], 1 << enc.bits
    words, phase_idx, likelihood, levels, _ = _payload_tables(payload, np.asarray(bers, dtype=np.float64))
    hist = np.zeros((channels, likelihood.shape[0], n))
    np.add.at(hist, (np.arange(channels)[:, None], phase_idx, words), 1.0)
    total = hist.sum(axis=(1, 2))[:, None]
    prior = hist.sum(axis=1) + 1.0
    prior /= prior.sum(axis=1, keepdims=True)
    for _ in range(iterations):  # EM: prior <- prior * E[sent = u | received] averaged over the values
        evidence = np.einsum("cu,fru->cfr", prior, likelihood)
        ratio = np.divide(hist, evidence, out=np.zeros_like(hist), where=evidence > 0)
        prior = prior * np.einsum("cfr,fru->cu", ratio, likelihood) / total
    weights = prior[:, None, None, :] * likelihood[None]  # (C, F, r, u)
    lut = (weights * levels[:, None, None, :]).sum(-1) / np.maximum(weights.sum(-1), np.finfo(float).tiny)
    values: Floats = lut[np.arange(channels)[:, None], phase_idx, words].reshape(shape)
    return values


def _levels(payload: LatentPayload, enc: Encoding) -> tuple[Floats, Floats]:
    """The level values (C, 2**k) of a uniform payload per channel, and each channel's range (C,)."""
    if payload.quant is None:  # the public entry points check it first
        raise ValueError(f"repair needs a quantised payload with its range, got {payload.encoding!r}")
    channels, n = payload.shape[0], 1 << enc.bits
    lo, hi = (
        np.broadcast_to(np.asarray(v, dtype=np.float64), (channels,)) for v in (payload.quant.lo, payload.quant.hi)
    )
    return dequantise(np.broadcast_to(np.arange(n), (channels, n)), lo, hi, enc.bits), hi - lo


def _payload_tables(
    payload: LatentPayload, bers: Floats
) -> tuple[NDArray[np.int64], NDArray[np.intp], Floats, Floats, Floats]:
    """Received words, per-value likelihood over the levels, and the level values, per channel."""
    enc = get_encoding(payload.encoding)
    shape = tuple(payload.shape)
    count, channels = math.prod(shape), shape[0]
    words = unpack_words(payload.data, enc.bits, count).astype(np.int64).reshape(channels, -1)
    phase_of = ((np.arange(count) * enc.bits) % bers.size).reshape(channels, -1)
    phases = np.unique(phase_of)
    likelihood = _flip_likelihoods(enc, bers, phases)  # (F, r, u)
    return words, np.searchsorted(phases, phase_of), likelihood, *_levels(payload, enc)


def _neighbour_prior(x: Floats, span: Floats) -> tuple[Floats, Floats]:
    """The spatial prior of "smmse"/"soft": per value the mean of its 8 neighbours' estimates,
    and per channel its width, 1.4826 x the median absolute residual (at least 1e-3 x the range)."""
    from scipy.ndimage import convolve

    kernel = np.ones((1, 3, 3)) / 8.0
    kernel[0, 1, 1] = 0.0
    mu = convolve(x, kernel, mode="nearest")
    return mu, np.maximum(1.4826 * np.median(np.abs(x - mu), axis=(1, 2)), 1e-3 * span)


def spatial_mmse(
    payload: LatentPayload, bers: ArrayLike, iterations: int = SMMSE_ITERATIONS, eps: float = SMMSE_EPS
) -> Floats:
    """Posterior-mean values with a spatial prior around the neighbours' estimates (see "smmse")."""
    import torch

    bers = np.asarray(bers, dtype=np.float64)
    shape = tuple(payload.shape)
    if len(shape) != 3:
        raise ValueError(f"smmse needs a (C, H, W) latent, got shape {shape}")
    x = mmse_dequantise(payload, bers)
    words, phase_idx, likelihood, levels, span = _payload_tables(payload, bers)
    lik_table = torch.from_numpy(likelihood.astype(np.float32))
    levels_t = torch.from_numpy(levels.astype(np.float32))  # (C, u)
    span_t = torch.from_numpy(span.astype(np.float32))
    words_t, phase_t = torch.from_numpy(words), torch.from_numpy(phase_idx)
    with torch.no_grad():
        for _ in range(iterations):
            mu, scale = _neighbour_prior(x, span)
            mu_t = torch.from_numpy(mu.reshape(shape[0], -1).astype(np.float32))
            scale_t = torch.from_numpy(scale.astype(np.float32))
            new = np.empty((shape[0], mu_t.shape[1]), dtype=np.float64)
            for start in range(0, shape[0], SMMSE_CHANNELS_PER_CHUNK):
                c = slice(start, start + SMMSE_CHANNELS_PER_CHUNK)
                lik = lik_table[phase_t[c], words_t[c]]  # (c, V, u): P(received word | level u)
                sc = scale_t[c, None, None]
                z = (levels_t[c, None, :] - mu_t[c, :, None]) / sc
                weight = lik * ((1 - eps) * torch.exp(-0.5 * z * z) / sc + eps / span_t[c, None, None])
                est = (weight * levels_t[c, None, :]).sum(-1) / weight.sum(-1).clamp_min(
                    torch.finfo(torch.float32).tiny
                )
                new[c] = est.double().numpy()
            x = new.reshape(shape)
    return x


def _soft_tables(payload: LatentPayload, llr: ArrayLike) -> tuple[torch.Tensor, Floats, Floats]:
    """Per-value log-likelihoods over the levels from the bits' LLRs, (C, V, n) float32, and the
    level values (C, n) and ranges (C,) per channel."""
    import torch

    enc = get_encoding(payload.encoding)
    if enc.family != "uniform" or payload.quant is None:
        raise ValueError(f"soft repair needs a quantised payload with its range, got {payload.encoding!r}")
    shape = tuple(payload.shape)
    count, channels, k = math.prod(shape), shape[0], enc.bits
    llr = np.asarray(llr, dtype=np.float32).reshape(-1)
    if llr.size < count * k or not np.all(np.isfinite(llr[: count * k])):
        raise ValueError(f"soft repair needs {count * k} finite LLRs, got {llr.size}")
    codes = index_to_code_table(enc)
    code_bits = ((codes[:, None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.float32)  # (n, k), MSB first
    lam = torch.from_numpy(llr[: count * k].reshape(channels, -1, k))
    # log p(received | level u) = sum of the LLRs of the bits that are 1 in u's code word, + a per-value constant
    loglik = lam @ torch.from_numpy(code_bits.T.copy())
    return loglik, *_levels(payload, enc)


def soft_spatial_mmse(
    payload: LatentPayload,
    llr: ArrayLike,
    iterations: int = SMMSE_ITERATIONS,
    eps: float = SMMSE_EPS,
    em_iterations: int = SOFT_EM_ITERATIONS,
) -> Floats:
    """Posterior-mean values from per-bit LLRs: EM prior, then the spatial prior of "smmse"."""
    import torch

    shape = tuple(payload.shape)
    if len(shape) != 3:
        raise ValueError(f"soft repair needs a (C, H, W) latent, got shape {shape}")
    loglik, levels, span = _soft_tables(payload, llr)
    levels_t = torch.from_numpy(levels.astype(np.float32))
    span_t = torch.from_numpy(span.astype(np.float32))
    chunks = [slice(i, i + SMMSE_CHANNELS_PER_CHUNK) for i in range(0, shape[0], SMMSE_CHANNELS_PER_CHUNK)]

    # chunk by chunk: bounds the (c, V, levels) temporaries
    def posterior_mean(log_prior_of: Callable[[slice], torch.Tensor]) -> Floats:
        out = np.empty((shape[0], loglik.shape[1]))
        for c in chunks:
            weights = torch.softmax(loglik[c] + log_prior_of(c), dim=-1)
            out[c] = (weights * levels_t[c, None, :]).sum(-1).double().numpy()
        return out.reshape(shape)

    with torch.no_grad():
        log_prior = torch.full((shape[0], 1, levels.shape[1]), -math.log(levels.shape[1]))
        for c in chunks:
            for _ in range(em_iterations):  # prior <- mean posterior, per channel
                posterior = torch.softmax(loglik[c] + log_prior[c], dim=-1)
                log_prior[c] = torch.log(posterior.mean(1, keepdim=True).clamp_min(1e-30))
        x = posterior_mean(lambda c: log_prior[c])
        for _ in range(iterations):
            mu, scale = _neighbour_prior(x, span)
            mu_t = torch.from_numpy(mu.reshape(shape[0], -1, 1).astype(np.float32))
            sc = torch.from_numpy(scale.astype(np.float32))[:, None, None]
            log_flat = torch.log(eps / span_t)[:, None, None]

            # log of the prior around the neighbours' mean, with the flat mixture; used at once, in
            # this iteration, so the loop's tensors are bound as defaults only to say so
            def spatial(
                c: slice, mu_t: torch.Tensor = mu_t, sc: torch.Tensor = sc, log_flat: torch.Tensor = log_flat
            ) -> torch.Tensor:
                z = (levels_t[c, None, :] - mu_t[c]) / sc[c]
                return torch.logaddexp(math.log(1 - eps) - 0.5 * z * z - torch.log(sc[c]), log_flat[c])

            x = posterior_mean(spatial)
    return x


def repaired_latent(
    payload: LatentPayload,
    codec: CodecInfo,
    repair: str,
    rng: np.random.Generator | None = None,
    bers: ArrayLike | None = None,
    llr: ArrayLike | None = None,
) -> RepairedLatent:
    """The received latent after the receiver treatment `repair` (see the module docstring).

    `bers`: per-symbol-position bit error probabilities, needed by "mmse" (see `position_ber`);
    `llr`: the latent bits' LLRs, needed by "soft" (`transmit_bits(..., soft_output=True)`).
    """
    steps = repair.split("+") if repair else []
    if steps == ["authors"]:
        return authors_sanitise(payload, codec, rng if rng is not None else np.random.default_rng())
    unknown = set(steps) - {"mmse", "smmse", "soft", "fill", "nb"}
    if unknown:
        raise ValueError(f"unknown receiver repair {repair!r}")
    if "soft" in steps:
        if llr is None:
            raise ValueError("soft repair needs the link's per-bit LLRs (llr)")
        got = sanitise(soft_spatial_mmse(payload, llr), codec.valid_min, codec.valid_max)
    elif "mmse" in steps or "smmse" in steps:
        if bers is None:
            raise ValueError("mmse/smmse need the channel's bit error probabilities (bers)")
        estimate = spatial_mmse if "smmse" in steps else mmse_dequantise
        got = sanitise(estimate(payload, np.asarray(bers, dtype=np.float64)), codec.valid_min, codec.valid_max)
    else:
        rule = "fill" if ("fill" in steps or "nb" in steps) else "clamp"
        got = decode_latent(payload, codec, out_of_range=rule)
    values, changed = got.values, got.values_sanitised
    if "nb" in steps:
        fixed, count = neighbour_repair(values)
        values, changed = fixed.astype(np.float32), changed + count
    return RepairedLatent(np.asarray(values, dtype=np.float32), changed)
