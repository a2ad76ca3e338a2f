"""Latent bit formats: how a latent tensor becomes payload bytes and comes back, and how the
receiver makes a corrupted tensor safe to hand to a decoder.

Every encoding lives in one registry, `ENCODINGS` (name -> bits per value, family, Gray flag).
Two families:

* ``float``: IEEE-754 values, little-endian, C order (``float64`` is the paper; ``float32``,
  ``float16``). One flipped exponent bit can turn a value into 1e300, a subnormal or NaN, so the
  receiver must sanitise (see `sanitise`).
* ``uniform``: k-bit uniform quantisation over a clipping range ``[lo, hi]`` carried in
  `QuantParams` (per tensor, or per channel along axis 0)::

      L = 2**k - 1,  step = (hi - lo) / L
      u = round((clip(x, lo, hi) - lo) / step)      # index in 0..L, round half to even
      x_hat = lo + u * step                          # |x - x_hat| <= step / 2 inside [lo, hi]

  Every k-bit word decodes to a value inside ``[lo, hi]``, so a bit error moves a value by at
  most ``hi - lo``; no error can explode. The code word of index u is written MSB first:
  ``int8`` stores ``u - 128`` as a two's-complement byte (the proto's definition; bit pattern
  ``u XOR 0x80``), ``int6``/``int4`` store u in natural binary, and the ``...g`` variants store
  the reflected Gray code ``u XOR (u >> 1)``. Words narrower than 8 bits are packed tightly,
  value after value, MSB first, into bytes (``np.packbits`` order); the last byte is padded
  with zero bits, which a receiver ignores.

Nothing here imports gRPC or a model library.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from semcom.payload.packet import CodecInfo, LatentPayload, QuantParams

MAX_DIMS = 4
MAX_DIM_SIZE = 4096
FILL_RULES = ("median", "zero")
OUT_OF_RANGE_RULES = ("clamp", "fill")
_F32_MAX = float(np.finfo(np.float32).max)

# Quantisation indices and the code words written for them: unsigned, at most 16 bits.
Words = NDArray[np.uint16]
# Clip ranges and dequantised values.
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Encoding:
    """One latent encoding: its name, bits per value on the wire, family and code mapping."""

    name: str
    bits: int
    family: Literal["float", "uniform"]
    gray: bool = False  # uniform only: write the Gray code of the index
    signed: bool = False  # uniform only: write u - 2**(k-1) as two's complement (int8, per the proto)

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        """Little-endian wire dtype of a float encoding."""
        if self.family != "float":
            raise ValueError(f"encoding {self.name!r} is not a float encoding")
        return np.dtype(f"<f{self.bits // 8}")

    def payload_bytes(self, num_values: int) -> int:
        """Bytes of payload for `num_values` values: ceil(num_values * bits / 8)."""
        return (num_values * self.bits + 7) // 8


ENCODINGS: dict[str, Encoding] = {
    e.name: e
    for e in (
        Encoding("float64", 64, "float"),
        Encoding("float32", 32, "float"),
        Encoding("float16", 16, "float"),
        Encoding("int8", 8, "uniform", signed=True),
        Encoding("int8g", 8, "uniform", gray=True),
        Encoding("int6", 6, "uniform"),
        Encoding("int6g", 6, "uniform", gray=True),
        Encoding("int4", 4, "uniform"),
        Encoding("int4g", 4, "uniform", gray=True),
    )
}


@dataclass(frozen=True)
class DecodedLatent:
    """A received latent, safe for a decoder: finite and inside the codec's valid range.

    `values_sanitised` = `non_finite` + `out_of_range`: how many values the receiver changed.
    """

    values: NDArray[np.floating[Any]]  # float32 or float64, as decode_latent's `dtype` asks
    values_sanitised: int
    non_finite: int = 0
    out_of_range: int = 0  # finite values outside the valid range (clamped, or filled)


def get_encoding(name: str) -> Encoding:
    """The registry entry for `name`, or ValueError naming the known encodings."""
    try:
        return ENCODINGS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown latent encoding {name!r}; known: {', '.join(ENCODINGS)}") from None


def check_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Validate a latent shape (1..4 dims, each 1..4096) and return it as a tuple of ints."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"latent shape must be a sequence of ints, got {shape!r}") from None
    if not 1 <= len(dims) <= MAX_DIMS:
        raise ValueError(f"latent shape must have 1..{MAX_DIMS} dimensions, got {len(dims)}: {dims}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise ValueError(f"latent shape entries must be ints, got {dims!r}")
        if not 1 <= d <= MAX_DIM_SIZE:
            raise ValueError(f"latent shape entries must be in 1..{MAX_DIM_SIZE}, got {dims}")
    return tuple(int(d) for d in dims)


# --------------------------------------------------------------------------- code words


def gray_encode(u: Words) -> Words:
    """Reflected binary Gray code: neighbouring indices differ in exactly one bit."""
    return u ^ (u >> np.uint16(1))


def gray_decode(g: Words, bits: int) -> Words:
    """Inverse of `gray_encode` for codes of up to `bits` bits (prefix XOR, log2(bits) steps)."""
    u = g.copy()
    shift = 1
    while shift < bits:
        u ^= u >> np.uint16(shift)
        shift <<= 1
    return u


def pack_words(codes: Words, bits: int) -> bytes:
    """Pack unsigned `bits`-bit words MSB first, back to back, into bytes (zero-padded)."""
    if bits == 8:
        return codes.astype(np.uint8).tobytes()
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint16)
    bit_matrix = ((codes.astype(np.uint16)[:, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bit_matrix.ravel()).tobytes()


def unpack_words(data: bytes, bits: int, count: int) -> Words:
    """Inverse of `pack_words`: `count` unsigned words (uint16) from `data`; padding bits ignored."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if bits == 8:
        return raw[:count].astype(np.uint16)
    bit_matrix = np.unpackbits(raw)[: count * bits].reshape(count, bits).astype(np.uint16)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.uint16)
    return bit_matrix @ weights


def index_to_code(u: Words, enc: Encoding) -> Words:
    """Code word written on the wire for quantisation index u (Gray, two's complement or plain)."""
    if enc.gray:
        return gray_encode(u)
    if enc.signed:
        return u ^ np.uint16(1 << (enc.bits - 1))  # u - 2**(k-1) in two's complement
    return u


def code_to_index(code: Words, enc: Encoding) -> Words:
    """Quantisation index of a received code word; every word maps to a valid index."""
    if enc.gray:
        return gray_decode(code, enc.bits)
    if enc.signed:
        return code ^ np.uint16(1 << (enc.bits - 1))
    return code


# --------------------------------------------------------------------------- quantisation


def _outward_f32(lo: Floats, hi: Floats) -> tuple[Floats, Floats]:
    """Round a clip range to float32 (the proto carries `float`), widening it, never narrowing."""
    lo32 = lo.astype(np.float32)
    hi32 = hi.astype(np.float32)
    lo32 = np.where(lo32.astype(np.float64) > lo, np.nextafter(lo32, np.float32(-np.inf)), lo32)
    hi32 = np.where(hi32.astype(np.float64) < hi, np.nextafter(hi32, np.float32(np.inf)), hi32)
    return lo32.astype(np.float64), hi32.astype(np.float64)


def _clip_range(
    x: Floats, per_channel: bool, clip: tuple[ArrayLike, ArrayLike] | None, percentile: float
) -> tuple[Floats, Floats]:
    """(lo, hi) as float64 arrays of length 1 (per tensor) or x.shape[0] (per channel)."""
    channels = x.shape[0] if per_channel else 1
    if clip is not None:
        if not isinstance(clip, (tuple, list)) or len(clip) != 2:
            raise ValueError(f"clip must be a (lo, hi) pair, got {clip!r}")
        try:
            lo = np.broadcast_to(np.asarray(clip[0], dtype=np.float64).ravel(), (channels,)).copy()
            hi = np.broadcast_to(np.asarray(clip[1], dtype=np.float64).ravel(), (channels,)).copy()
        except (ValueError, TypeError):
            raise ValueError(
                f"clip bounds must be numbers or sequences of {channels} numbers (one per channel), got {clip!r}"
            ) from None
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            raise ValueError(f"clip bounds must be finite, got {clip!r}")
        if not (lo < hi).all():
            raise ValueError(f"clip needs lo < hi, got {clip!r}")
    else:
        if not 50.0 < percentile <= 100.0:
            raise ValueError(f"percentile must be in (50, 100], got {percentile}")
        rows = x.reshape(channels, -1)
        if percentile == 100.0:
            lo, hi = rows.min(axis=1), rows.max(axis=1)
        else:
            lo, hi = np.percentile(rows, [100.0 - percentile, percentile], axis=1)
    if np.abs(lo).max() > _F32_MAX or np.abs(hi).max() > _F32_MAX:
        raise ValueError("clip range does not fit in float32, the type QuantParams carries on the wire")
    return _outward_f32(lo, hi)


def _broadcast_params(lo: Floats, hi: Floats, shape: tuple[int, ...]) -> tuple[Floats, Floats]:
    tail = (1,) * (len(shape) - 1)
    return lo.reshape((-1,) + tail), hi.reshape((-1,) + tail)


def quantise(x: Floats, lo: Floats, hi: Floats, bits: int) -> Words:
    """Index u in 0..2**bits-1 of each value (lo/hi broadcast along axis 0). lo == hi gives u = 0."""
    top = (1 << bits) - 1
    lo_b, hi_b = _broadcast_params(lo, hi, x.shape)
    span = hi_b - lo_b
    scale = np.divide(top, span, out=np.zeros_like(span), where=span > 0)
    u = np.rint((np.clip(x, lo_b, hi_b) - lo_b) * scale)
    return np.clip(u, 0, top).astype(np.uint16)


def dequantise(u: NDArray[np.integer[Any]], lo: Floats, hi: Floats, bits: int) -> Floats:
    """x_hat = lo + u * (hi - lo) / (2**bits - 1), float64, lo/hi broadcast along axis 0."""
    lo_b, hi_b = _broadcast_params(lo, hi, u.shape)
    return lo_b + u.astype(np.float64) * ((hi_b - lo_b) / ((1 << bits) - 1))


# --------------------------------------------------------------------------- encode / decode


def encode_latent(
    x: ArrayLike,
    encoding: str,
    *,
    per_channel: bool = False,
    clip: tuple[ArrayLike, ArrayLike] | None = None,
    percentile: float = 100.0,
) -> LatentPayload:
    """Encode a latent tensor as payload bytes (little-endian, C order).

    Uniform encodings take their clipping range from `clip` = (lo, hi) (numbers, or one per
    channel with `per_channel`), else from the data: the (100 - percentile, percentile)
    percentiles, min/max by default. The range is widened to float32 values (the proto's type).
    Float encodings take no clip options. Raises ValueError for non-finite input, a bad shape,
    an unknown encoding, or a value a float encoding cannot represent.
    """
    enc = get_encoding(encoding)
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"latent must be a real numeric array, got dtype {arr.dtype}")
    shape = check_shape(arr.shape)
    values = arr.astype(np.float64)
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise ValueError(f"latent holds {bad} non-finite values; the sender must send a finite latent")
    if enc.family == "float":
        if per_channel or clip is not None or percentile != 100.0:
            raise ValueError(f"per_channel/clip/percentile apply to quantised encodings, not {encoding!r}")
        with np.errstate(over="ignore"):  # overflow is reported just below
            wire = np.ascontiguousarray(arr, dtype=enc.dtype)
        overflow = int(np.count_nonzero(np.isinf(wire)))
        if overflow:
            raise ValueError(f"{overflow} values exceed the range of {encoding} (max {np.finfo(enc.dtype).max:g})")
        return LatentPayload(shape=shape, encoding=enc.name, data=wire.tobytes(order="C"))
    lo, hi = _clip_range(values, per_channel, clip, percentile)
    u = quantise(values, lo, hi, enc.bits)
    data = pack_words(index_to_code(u.ravel(), enc), enc.bits)
    quant = QuantParams(per_channel=per_channel, lo=tuple(lo.tolist()), hi=tuple(hi.tolist()))
    return LatentPayload(shape=shape, encoding=enc.name, data=data, quant=quant)


def _check_quant(p: LatentPayload, enc: Encoding, shape: tuple[int, ...]) -> tuple[Floats, Floats]:
    q = p.quant
    if enc.family == "float":
        if q is not None:
            raise ValueError(f"encoding {enc.name!r} takes no quantisation parameters, but some were given")
        return np.zeros(0), np.zeros(0)
    if q is None:
        raise ValueError(f"encoding {enc.name!r} needs quantisation parameters (lo, hi), none given")
    want = shape[0] if q.per_channel else 1
    if len(q.lo) != want or len(q.hi) != want:
        raise ValueError(
            f"{'per-channel' if q.per_channel else 'per-tensor'} quantisation needs {want} lo and hi values "
            f"for shape {shape}, got {len(q.lo)} lo and {len(q.hi)} hi"
        )
    lo = np.asarray(q.lo, dtype=np.float64)
    hi = np.asarray(q.hi, dtype=np.float64)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError("quantisation range lo/hi must be finite")
    if not (lo <= hi).all():
        raise ValueError("quantisation range needs lo <= hi for every channel")
    return lo, hi


def decode_latent(
    p: LatentPayload,
    codec: CodecInfo | None = None,
    *,
    fill: str = "median",
    out_of_range: str = "clamp",
    dtype: DTypeLike = np.float32,
) -> DecodedLatent:
    """Decode payload bytes to a finite tensor inside the codec's valid range.

    Validates the encoding, the shape, the byte length and the quantisation parameters
    (ValueError with a precise message), then applies `sanitise` with the codec's
    [valid_min, valid_max] (no codec: only the output dtype's finite range). `dtype` is
    float32 by default; float64 makes a float64 payload round-trip bit-exactly.
    """
    enc = get_encoding(p.encoding)
    shape = check_shape(p.shape)
    out_dtype = np.dtype(dtype)
    if out_dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {out_dtype}")
    count = math.prod(shape)
    want = enc.payload_bytes(count)
    try:
        got = memoryview(p.data).nbytes
    except TypeError:
        raise ValueError(f"latent data must be bytes, got {type(p.data).__name__}") from None
    if got != want:
        per = f"{enc.bits // 8} bytes" if enc.bits % 8 == 0 else f"{enc.bits} bits"
        raise ValueError(
            f"latent data has {got} bytes, but shape {shape} in {enc.name} ({per} per value) needs "
            f"{want} bytes ({count} values)"
        )
    lo, hi = _check_quant(p, enc, shape)
    if enc.family == "float":
        with np.errstate(invalid="ignore"):  # a flipped bit may make a signalling NaN
            values = np.frombuffer(p.data, dtype=enc.dtype).astype(np.float64).reshape(shape)
    else:
        u = code_to_index(unpack_words(p.data, enc.bits, count), enc)
        values = dequantise(u.reshape(shape), lo, hi, enc.bits)
    vmin = codec.valid_min if codec is not None else -math.inf
    vmax = codec.valid_max if codec is not None else math.inf
    return sanitise(values, vmin, vmax, fill=fill, out_of_range=out_of_range, dtype=out_dtype)


def sanitise(
    values: ArrayLike,
    valid_min: float = -math.inf,
    valid_max: float = math.inf,
    *,
    fill: str = "median",
    out_of_range: str = "clamp",
    dtype: DTypeLike = np.float32,
) -> DecodedLatent:
    """Make received values safe, deterministically (never at random):

    1. the valid range is [valid_min, valid_max] intersected with `dtype`'s finite range;
    2. a finite value outside it is clamped to the nearest bound (``out_of_range="clamp"``,
       the default: a value of 1e300 becomes valid_max, so without a codec range it becomes
       the dtype's max - give a codec range), or treated like a non-finite value
       (``out_of_range="fill"``: an exponent flip carries no information about the value, and
       the fill value is closer to it on average than a bound; docs/payload.md measures both);
    3. NaN and +-inf are replaced by the fill value: with ``fill="median"`` the median of the
       channel's (axis 0) values that are finite and in range - the channel's typical value,
       closer to the lost value than 0 for a channel whose mean is not 0; with ``fill="zero"``
       0 clamped into range. A channel with no usable value falls back to the zero rule.

    Values already finite and in range are left untouched, so a clean latent passes unchanged.
    """
    if fill not in FILL_RULES:
        raise ValueError(f"fill must be one of {FILL_RULES}, got {fill!r}")
    if out_of_range not in OUT_OF_RANGE_RULES:
        raise ValueError(f"out_of_range must be one of {OUT_OF_RANGE_RULES}, got {out_of_range!r}")
    out_dtype = np.dtype(dtype)
    big = float(np.finfo(out_dtype).max)
    vmin, vmax = max(float(valid_min), -big), min(float(valid_max), big)
    if math.isnan(vmin) or math.isnan(vmax) or vmin > vmax:
        raise ValueError(f"valid range must satisfy valid_min <= valid_max, got [{valid_min}, {valid_max}]")
    x = np.array(values, dtype=np.float64)
    if x.ndim == 0:
        x = x.reshape(1)
    finite = np.isfinite(x)
    outside = finite & ((x < vmin) | (x > vmax))
    clamped = np.clip(x, vmin, vmax)
    non_finite = ~finite
    n_bad = int(np.count_nonzero(non_finite))
    to_fill = non_finite | outside if out_of_range == "fill" else non_finite
    if to_fill.any():
        zero = min(max(0.0, vmin), vmax)
        if fill == "median":
            rows = np.where(non_finite | outside, np.nan, x).reshape(x.shape[0], -1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channel -> fallback below
                med = np.nanmedian(rows, axis=1)
            med = np.where(np.isnan(med), zero, med).reshape((-1,) + (1,) * (x.ndim - 1))
            fill_values = np.broadcast_to(med, x.shape)
        else:
            fill_values = np.full(x.shape, zero)
        clamped = np.where(to_fill, fill_values, clamped)
    n_outside = int(np.count_nonzero(outside))
    result = clamped.astype(out_dtype).reshape(np.shape(values) or (1,))
    return DecodedLatent(values=result, values_sanitised=n_bad + n_outside, non_finite=n_bad, out_of_range=n_outside)
