"""Analog transmission of a tensor (SoftCast, Jakubczak & Katabi 2011), in numpy alone.

Sender: the (C, H, W) source goes through the decorrelating transform (`semcom.analog.transform`:
channel transform + 2-D DCT), is cut into b x b frequency chunks and centred on the chunk means;
the chunks that fit the symbol budget are kept, highest variance first (the lowest-energy ones are
dropped; a budget larger than the source repeats the strongest chunks); each value is scaled by
SoftCast's gain ``g ∝ λ^(-1/4)`` (λ its chunk's variance: the MSE-optimal linear allocation at high
SNR; with `alloc=decoder` ``g ∝ (w/λ)^(1/4)`` and the lowest ``wλ`` dropped first, w the chunk's
shipped decoder weight: the optimum for the decoded image's squared error instead of the latent's); two real values ride on one complex symbol (real, imaginary), the frame is scaled to unit
average symbol energy exactly and the symbols are interleaved (a fixed multiplicative permutation)
so that a fading block hits values of many chunks rather than one chunk.

Receiver: de-interleave, undo the (known) fading gain's phase and estimate every value by LMMSE
from its chunk's mean and variance and the noise level:

    x̂ = μ + λ Σ a_j y_j / σ²  /  (1 + λ Σ a_j² / σ²),      σ² = N0 / 2 per real dimension,

with a_j = α g |h_j| the value's amplitude in its j-th received copy (α the frame's energy scale,
h_j the fading gain of its symbol; 1 on AWGN). Its MSE is λ σ² / (σ² + λ Σ a_j²); a value never
sent is estimated by its mean (MSE λ). With `est=matched` the deviation from the mean is divided
by √w, w = λ Σ a_j² / (σ² + λ Σ a_j²) the LMMSE weight, so every sent value keeps its prior
variance λ (no shrinkage; a VAE decoder renders a shrunk latent as a washed-out picture). Then
the inverse transform.

Chunk statistics come either with the codec (`stats=fit`: fitted on photos, `semcom.analog.stats`;
the metadata is the 4-byte energy scale α only) or from the image (`stats=image`: every chunk's
variance as a 1/4-octave code and the DC chunks' means, sent as protected digital metadata).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.analog import transform
from semcom.analog.spec import AnalogSpec
from semcom.analog.stats import AnalogStats, packaged

DEFAULT_CHUNK = {"analog": 8, "softcast": 32}
_VAR_CODE_OFFSET = 160  # var code = round(4 log2 var) + offset, 1..255; 0: zero variance
_TINY = 1e-30


@dataclass(frozen=True)
class AnalogFrame:
    """What the sender puts on the wire for one tensor.

    `symbols`: the analog part, complex64 (N,), mean |s|^2 == 1. `meta`: side information the
    receiver needs (the energy scale, with `stats=image` the chunk statistics), sent DIGITALLY
    over the protected link like the caption and counted in the airtime. `shape`: the source
    tensor's shape (with `scale=N` the latent of the image at size / N: the receiver decodes it and
    upsamples the image to the full size).
    """

    symbols: NDArray[np.complex64]
    meta: bytes
    shape: tuple[int, ...]


def _chunk_for(scheme: str, shape: tuple[int, ...]) -> int:
    h, w = int(shape[1]), int(shape[2])
    for b in (DEFAULT_CHUNK[scheme], 16, 8, 4, 2, 1):
        if b <= DEFAULT_CHUNK[scheme] and h % b == 0 and w % b == 0:
            return b
    return 1


@lru_cache(maxsize=64)
def interleaver(n: int) -> NDArray[np.int64]:
    """Position on the air of the i-th symbol: ``i * p mod n``, p coprime with n near 0.618 n."""
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    p = max(1, int(n * 0.6180339887498949)) | 1
    while math.gcd(p, n) != 1:
        p += 2
    out = (np.arange(n, dtype=np.int64) * p) % n
    out.setflags(write=False)
    return out


class AnalogCodec:
    """Encodes a (C, H, W) tensor into an `AnalogFrame` of N symbols and estimates it back."""

    def __init__(self, spec: AnalogSpec, source_shape: tuple[int, ...], stats: AnalogStats | None, chunk: int) -> None:
        self.spec = spec
        self.shape = transform.check_shape(tuple(source_shape), chunk)
        self.chunk = int(chunk)
        self.stats = stats
        c, h, w = self.shape
        self.n_chunks = c * (h // chunk) * (w // chunk)
        self.chunk_values = chunk * chunk
        if stats is not None:
            if stats.shape != self.shape or stats.chunk != self.chunk:
                raise ValueError(
                    f"statistics for {stats.shape}/chunk {stats.chunk} do not fit {self.shape}/chunk {chunk}"
                )
            self.channel = stats.channel
            if spec.alloc == "decoder" and stats.weight is None:
                raise ValueError(f"{spec.spec}: the statistics {stats.id} for {self.shape} carry no decoder weights")
        else:
            if spec.alloc == "decoder":
                raise ValueError(f"{spec.spec}: alloc=decoder needs shipped statistics with decoder weights")
            self.channel = transform.YCBCR if spec.scheme == "softcast" and c == 3 else np.eye(c)
        self.channel_inv: NDArray[np.float64] = np.asarray(np.linalg.inv(self.channel), dtype=np.float64)
        self._dc = np.arange(c) * (h // chunk) * (w // chunk)  # the DC chunk of each channel

    # ------------------------------------------------------------------ construction
    @classmethod
    def for_spec(
        cls,
        spec: AnalogSpec | str,
        *,
        source_shape: tuple[int, ...],
        stats: AnalogStats | None = None,
        exclude: str | None = None,
    ) -> AnalogCodec:
        """The codec of `spec` for sources of `source_shape`. `stats`: the receiver statistics
        (default: the shipped ones for the scheme and shape, skipping files fitted on the image
        `exclude`); `stats=image` specs use none."""
        spec = AnalogSpec.parse(spec) if isinstance(spec, str) else spec
        shape = tuple(int(v) for v in source_shape)
        if len(shape) != 3:
            raise ValueError(f"an analog source is a (C, H, W) tensor, got shape {shape}")
        if spec.stats == "image":
            return cls(spec, shape, None, _chunk_for(spec.scheme, shape))
        if stats is None:
            stats = packaged(spec.scheme, shape, exclude=exclude)
        if stats is None:
            if spec.stats == "fit":
                raise ValueError(
                    f"{spec.spec}: no shipped {spec.scheme} statistics for shape {shape}"
                    + (f" not fitted on {exclude!r}" if exclude else "")
                    + "; use stats=image or fit them (scripts/fit_analog_stats.py)"
                )
            return cls(spec, shape, None, _chunk_for(spec.scheme, shape))
        return cls(spec, shape, stats, stats.chunk)

    @property
    def per_image_stats(self) -> bool:
        return self.stats is None

    @property
    def meta_size(self) -> int:
        """Bytes of metadata every frame carries (fixed for a codec)."""
        if not self.per_image_stats:
            return 4
        return 4 + 2 * self.shape[0] + self.n_chunks

    # ------------------------------------------------------------------ statistics
    def _image_stats(self, chunks: NDArray[np.float64]) -> tuple[NDArray[Any], NDArray[Any], bytes]:
        mean = np.zeros(self.n_chunks)
        mean[self._dc] = chunks[self._dc].mean(axis=1).astype(np.float16)
        var = np.mean(np.square(chunks - mean[:, None]), axis=1)
        with np.errstate(divide="ignore"):
            q = np.where(var > 0, np.round(4.0 * np.log2(np.maximum(var, _TINY))) + _VAR_CODE_OFFSET, 0)
        codes = np.clip(q, 0, 255).astype(np.uint8)
        codes[(var > 0) & (codes == 0)] = 1
        return mean, _decode_var(codes), mean[self._dc].astype("<f2").tobytes() + codes.tobytes()

    def _stats_from_meta(self, meta: bytes) -> tuple[float, NDArray[Any], NDArray[Any]]:
        alpha = struct.unpack_from("<f", meta, 0)[0]
        if not self.per_image_stats:
            assert self.stats is not None
            return alpha, self.stats.mean, self.stats.var
        c = self.shape[0]
        mean = np.zeros(self.n_chunks)
        mean[self._dc] = np.frombuffer(meta, "<f2", count=c, offset=4).astype(np.float64)
        codes = np.frombuffer(meta, np.uint8, count=self.n_chunks, offset=4 + 2 * c)
        return alpha, mean, _decode_var(codes)

    def _plan(self, var: NDArray[np.float64], n_symbols: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """(value index into the flattened chunks, gain) of each of the 2N real values sent.

        Chunks go in order of importance wλ (w the decoder weight with alloc=decoder, else 1), the
        most important first; each value's energy g²λ ∝ √(wλ), the allocation minimising
        Σ w λ σ²/(g²λ) at high SNR for a fixed total energy."""
        weight = self.stats.weight if self.spec.alloc == "decoder" and self.stats is not None else None
        top = float(var.max()) if var.size and var.max() > 0 else 1.0
        lam_chunk = np.maximum(var, 1e-9 * top)
        w_chunk = np.ones_like(lam_chunk) if weight is None else weight
        order = np.argsort(-(var * w_chunk), kind="stable")
        length = self.chunk_values
        flat = (order[:, None] * length + np.arange(length)[None, :]).reshape(-1)
        index = flat[np.arange(2 * n_symbols) % flat.size]
        lam, w = lam_chunk[index // length], w_chunk[index // length]
        g = lam**-0.25 if weight is None else (w / lam) ** 0.25
        g *= math.sqrt(n_symbols / float(np.sum(np.sqrt(w * lam))))  # expected energy: N (1 per symbol)
        return index, g

    # ------------------------------------------------------------------ sender / receiver
    def encode(self, x: NDArray[Any], n_symbols: int) -> AnalogFrame:
        """The frame of `x` (the codec's source shape) in exactly `n_symbols` complex symbols."""
        x = np.asarray(x)
        if tuple(x.shape) != self.shape:
            raise ValueError(f"source shape {tuple(x.shape)} differs from the codec's {self.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("the source holds NaN or inf")
        n_symbols = _check_symbols(n_symbols)
        chunks = transform.to_chunks(transform.forward(x, self.channel), self.chunk)
        if self.per_image_stats:
            mean, var, stats_meta = self._image_stats(chunks)
        else:
            assert self.stats is not None
            mean, var, stats_meta = self.stats.mean, self.stats.var, b""
        index, g = self._plan(var, n_symbols)
        values = (chunks - mean[:, None]).reshape(-1)[index] * g
        energy = float(np.dot(values, values)) / n_symbols
        alpha = np.float32(1.0 / math.sqrt(energy) if energy > 0 else 1.0)
        values *= float(alpha)
        s = (values[0::2] + 1j * values[1::2]).astype(np.complex64)
        out = np.empty(n_symbols, np.complex64)
        out[interleaver(n_symbols)] = s
        return AnalogFrame(out, struct.pack("<f", float(alpha)) + stats_meta, self.shape)

    def decode(
        self, received: NDArray[Any], meta: bytes, *, noise_var: float, gains: NDArray[Any] | None = None
    ) -> NDArray[np.float32]:
        """The LMMSE estimate of the source from the N received symbols (complex64; `gains` the
        per-symbol complex fading gains the receiver knows, None on AWGN; `noise_var` N0, the
        complex noise variance)."""
        y = np.asarray(received).reshape(-1).astype(np.complex128)
        n = y.size
        self.validate_meta(meta, n)
        if not (math.isfinite(noise_var) and noise_var >= 0):
            raise ValueError(f"noise_var must be finite and >= 0, got {noise_var!r}")
        alpha, mean, var = self._stats_from_meta(meta)
        pos = interleaver(n)
        y = y[pos]
        if gains is not None:
            h = np.asarray(gains).reshape(-1).astype(np.complex128)
            if h.size != n:
                raise ValueError(f"{h.size} gains for {n} symbols")
            h = h[pos]
            amp = np.abs(h)
            y = y * np.conj(h) / np.maximum(amp, _TINY)
        else:
            amp = np.ones(n)
        yr = np.empty(2 * n)
        yr[0::2], yr[1::2] = y.real, y.imag
        index, g = self._plan(var, n)
        a = np.repeat(amp, 2) * float(alpha) * g
        s2 = max(float(noise_var) / 2.0, 1e-12)
        size = self.n_chunks * self.chunk_values
        num = np.bincount(index, weights=a * yr / s2, minlength=size)
        den = np.bincount(index, weights=a * a / s2, minlength=size)
        lam = np.repeat(var, self.chunk_values)
        est = lam * num / (1.0 + lam * den)
        if self.spec.est == "matched":
            w = lam * den / (1.0 + lam * den)
            sent = w > 0
            est[sent] /= np.sqrt(w[sent])
        chunks = est.reshape(self.n_chunks, self.chunk_values) + mean[:, None]
        coeffs = transform.from_chunks(chunks, self.shape, self.chunk)
        return transform.inverse(coeffs, self.channel_inv).astype(np.float32)

    def mse(self, n_symbols: int, noise_var: float) -> NDArray[np.float64]:
        """The estimator's closed-form MSE per value of every chunk, on AWGN, for a source whose chunk
        variances are the codec's statistics (stats=fit) and energy scale α = 1: (n_chunks,)."""
        if self.stats is None:
            raise ValueError("the closed form needs shipped statistics (stats=fit)")
        index, g = self._plan(self.stats.var, _check_symbols(n_symbols))
        s2 = max(float(noise_var) / 2.0, 1e-12)
        den = np.bincount(index, weights=g * g / s2, minlength=self.n_chunks * self.chunk_values)
        lam = np.repeat(self.stats.var, self.chunk_values)
        return np.asarray((lam / (1.0 + lam * den)).reshape(self.n_chunks, self.chunk_values).mean(axis=1), np.float64)

    def validate_meta(self, meta: bytes, n_symbols: int) -> None:
        """ValueError on malformed metadata: wrong length, a non-finite or non-positive scale, a
        non-finite mean."""
        _check_symbols(n_symbols)
        if not isinstance(meta, (bytes, bytearray)):
            raise ValueError(f"analog metadata must be bytes, got {type(meta).__name__}")
        if len(meta) != self.meta_size:
            raise ValueError(
                f"analog metadata is {len(meta)} bytes; {self.spec.spec} on {self.shape} needs {self.meta_size}"
            )
        alpha = struct.unpack_from("<f", meta, 0)[0]
        if not (math.isfinite(alpha) and alpha > 0):
            raise ValueError(f"analog metadata: energy scale must be finite and > 0, got {alpha!r}")
        if self.per_image_stats:
            means = np.frombuffer(meta, "<f2", count=self.shape[0], offset=4)
            if not np.all(np.isfinite(means)):
                raise ValueError("analog metadata: a chunk mean is NaN or inf")


def _decode_var(codes: NDArray[np.uint8]) -> NDArray[np.float64]:
    c = codes.astype(np.float64)
    return np.where(codes > 0, np.exp2((c - _VAR_CODE_OFFSET) / 4.0), 0.0)


def _check_symbols(n_symbols: int) -> int:
    if isinstance(n_symbols, bool) or not isinstance(n_symbols, (int, np.integer)) or n_symbols < 1:
        raise ValueError(f"the analog budget must be a positive integer number of symbols, got {n_symbols!r}")
    return int(n_symbols)
