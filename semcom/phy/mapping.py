"""Gray-labelled square QAM (and BPSK): constellation, mapper, hard and soft (LLR) demapper.

Labelling follows 3GPP TS 38.211 section 5.1 and Sionna's `qam()`: the label of point ``n`` is
the MSB-first binary expansion ``b0 b1 ... b(k-1)`` of ``n``; the even-indexed bits pick the
in-phase PAM level and the odd-indexed bits the quadrature level, each axis Gray-coded by the
recursion ``pam(b) = (1 - 2 b0) (2^(len(b)-1) - pam(b[1:]))``. 16-QAM is therefore
``((1-2b0)(2-(1-2b2)) + j(1-2b1)(2-(1-2b3))) / sqrt(10)``. Every constellation has unit average
symbol energy. BPSK is ``bits_per_symbol = 1``: ``b -> 1 - 2b`` on the real axis.

Speed (the whole point of this module): a square QAM factors into two independent PAMs, so
the demapper never computes distances to M points. Hard decisions round each axis to the nearest
level index; a 256-entry lookup table then turns the level indices that make up one byte of
output straight into that byte. The mapper does the converse with a 256-entry table from one
packed input byte to its ``8 / k`` symbols. 64-QAM (6 bits, which do not divide a byte) uses
per-symbol tables instead. All arithmetic is float32 / complex64.

LLRs follow Sionna's convention, ``LLR = ln P(b=1 | y) / P(b=0 | y)`` (positive means bit 1),
so they feed Sionna's LDPC decoder unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

LLR_METHODS = ("maxlog", "exact")
# The modulations by name -> bits per symbol (`qam(k)`); every layer above names them from here.
MODULATIONS = {"bpsk": 1, "qpsk": 2, "16qam": 4, "64qam": 6, "256qam": 8}


def _pam_gray_levels(bits_per_axis: int) -> NDArray[np.int_]:
    """Unnormalised PAM level (odd integer) of every `bits_per_axis`-bit label, 3GPP recursion."""
    h = bits_per_axis
    labels = np.arange(2**h)
    bits = (labels[:, None] >> np.arange(h - 1, -1, -1)) & 1  # (L, h), MSB first
    level = 1 - 2 * bits[:, h - 1]
    for j in range(h - 2, -1, -1):  # over the h label bits, innermost first
        level = (1 - 2 * bits[:, j]) * (2 ** (h - 1 - j) - level)
    return level


def as_bits(bits: ArrayLike) -> NDArray[np.uint8]:
    """A flat uint8 array of 0/1, without copying when it already is one."""
    arr = np.asarray(bits)
    if arr.dtype == np.bool_:
        return arr.reshape(-1).view(np.uint8)
    if arr.dtype.kind not in "ui":
        raise ValueError(f"bits must be an integer or boolean array of 0/1, got dtype {arr.dtype}")
    arr = arr.reshape(-1)
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError("bits must contain only 0 and 1")
    return arr.astype(np.uint8, copy=False)


@dataclass(frozen=True, eq=False)
class Constellation:
    """One Gray square QAM (or BPSK) with its lookup tables. Build it with `qam(bits_per_symbol)`."""

    bits_per_symbol: int
    points: NDArray[np.complex64]  # complex64 [M]; points[n] carries label n (MSB-first binary of n)
    levels: NDArray[np.float32]  # float32 [L]; PAM amplitudes of one axis, ascending (shared by I and Q)
    axis_bits: NDArray[np.uint8]  # uint8 [L, h]; Gray bits of each ascending level index
    label_of: NDArray[np.uint8]  # uint8 [L ** axes]; label from level indices (I * L + Q, or I for BPSK)
    _map_byte: NDArray[np.complex64] | None  # complex64 [256, 8/k]: packed byte -> its symbols (8 % k == 0)
    _demap_byte: NDArray[np.uint8] | None  # uint8 [256]: packed level indices -> output byte (8 % k == 0)

    @property
    def order(self) -> int:
        """Number of points M."""
        return int(2**self.bits_per_symbol)

    @property
    def axes(self) -> int:
        """1 for BPSK (real), 2 for QAM."""
        return 1 if self.bits_per_symbol == 1 else 2

    @property
    def bits_per_axis(self) -> int:
        return self.bits_per_symbol // self.axes

    @property
    def spacing(self) -> float:
        """Half the distance between neighbouring levels of one axis."""
        return float(self.levels[1] - self.levels[0]) / 2.0

    def num_symbols(self, n_bits: int) -> int:
        """Symbols needed for `n_bits` bits (the last symbol is zero-padded)."""
        return -(-int(n_bits) // self.bits_per_symbol)

    # ---- mapper -------------------------------------------------------------------------------
    def modulate(self, bits: ArrayLike) -> NDArray[np.complex64]:
        """Map 0/1 bits (MSB first, zero-padded to whole symbols) to complex64 symbols."""
        b = as_bits(bits)
        k, n_sym = self.bits_per_symbol, self.num_symbols(b.size)
        if self._map_byte is not None:
            return self._map_byte[np.packbits(b)].reshape(-1)[:n_sym]
        padded = np.zeros(n_sym * k, dtype=np.uint8)
        padded[: b.size] = b
        labels: NDArray[np.uint8] = np.packbits(padded.reshape(n_sym, k), axis=1)[:, 0] >> np.uint8(8 - k)
        symbols: NDArray[np.complex64] = self.points[labels]
        return symbols

    # ---- hard demapper ------------------------------------------------------------------------
    def _level_indices(self, y: ArrayLike) -> NDArray[np.uint8]:
        """Nearest level index per axis (uint8), interleaved I, Q per symbol (I only for BPSK)."""
        comp = np.ascontiguousarray(y, dtype=np.complex64).reshape(-1).view(np.float32)
        if self.axes == 1:
            comp = comp[0::2]
        top = len(self.levels) - 1
        t = np.multiply(comp, np.float32(0.5 / self.spacing))
        t += np.float32(top / 2.0)
        np.rint(t, out=t)
        np.fmax(t, np.float32(0.0), out=t)  # fmax/fmin (not clip): NaN -> level 0, never UB casts
        np.fmin(t, np.float32(top), out=t)
        return t.astype(np.uint8)

    def demodulate_hard(self, y: ArrayLike, n_bits: int | None = None) -> NDArray[np.uint8]:
        """Nearest-point decisions as 0/1 uint8 bits; `n_bits` drops the padding of the last symbol."""
        y = np.asarray(y)
        n_total = y.size * self.bits_per_symbol
        n_bits = n_total if n_bits is None else int(n_bits)
        if not 0 <= n_bits <= n_total:
            raise ValueError(f"n_bits must be in [0, {n_total}] for {y.size} symbols, got {n_bits}")
        idx = self._level_indices(y)
        if self._demap_byte is not None:
            h, per_byte = self.bits_per_axis, 8 // self.bits_per_axis
            if idx.size % per_byte:
                idx = np.concatenate([idx, np.zeros(per_byte - idx.size % per_byte, dtype=np.uint8)])
            key = idx[0::per_byte] << np.uint8(h * (per_byte - 1))
            for j in range(1, per_byte):  # positions inside one byte (at most 8), not data
                key |= idx[j::per_byte] << np.uint8(h * (per_byte - 1 - j))
            return np.unpackbits(self._demap_byte[key])[:n_bits]
        labels = self.label_of[idx[0::2].astype(np.intp) * len(self.levels) + idx[1::2]]
        k = self.bits_per_symbol
        return np.unpackbits(labels[:, None], axis=1)[:, 8 - k :].reshape(-1)[:n_bits]

    # ---- soft demapper ------------------------------------------------------------------------
    def demodulate_llr(self, y: ArrayLike, n0: ArrayLike, method: str = "maxlog") -> NDArray[np.float32]:
        """Bit LLRs ``ln P(b=1|y)/P(b=0|y)`` (float32, ``len(y) * k`` values, label order).

        `n0` is the complex noise variance, a scalar or one value per symbol (e.g. N0 / |h|^2
        after equalising a fading channel). `method` is "maxlog" (nearest point of each bit
        set) or "exact" (log-sum-exp over all points). Per-axis factorisation keeps this
        O(n sqrt(M)) instead of O(n M).
        """
        if method not in LLR_METHODS:
            raise ValueError(f"method must be one of {LLR_METHODS}, got {method!r}")
        y = np.ascontiguousarray(y, dtype=np.complex64).reshape(-1)
        n0_arr = np.asarray(n0, dtype=np.float32)
        if n0_arr.ndim not in (0, 1) or (n0_arr.ndim == 1 and n0_arr.size != y.size):
            raise ValueError(f"n0 must be a scalar or have one value per symbol ({y.size}), got shape {n0_arr.shape}")
        if np.any(~(n0_arr > 0)):
            raise ValueError("n0 must be > 0")
        inv_n0 = (1.0 / n0_arr).reshape(-1, 1) if n0_arr.ndim else np.float32(1.0 / n0_arr)
        k, h = self.bits_per_symbol, self.bits_per_axis
        llr = np.empty((y.size, k), dtype=np.float32)
        components = (y.real,) if self.axes == 1 else (y.real, y.imag)
        for axis, comp in enumerate(components):  # I then Q
            metric = np.square(comp[:, None] - self.levels[None, :])
            metric *= -inv_n0  # log-likelihood of each level, up to a constant
            for j in range(h):  # bit positions of this axis
                ones = self.axis_bits[:, j].astype(bool)
                if method == "maxlog":
                    val = metric[:, ones].max(axis=1) - metric[:, ~ones].max(axis=1)
                else:
                    val = np.logaddexp.reduce(metric[:, ones], axis=1) - np.logaddexp.reduce(metric[:, ~ones], axis=1)
                llr[:, j * self.axes + axis] = val
        return llr.reshape(-1)


def _build(bits_per_symbol: int) -> Constellation:
    k = bits_per_symbol
    axes = 1 if k == 1 else 2
    h = k // axes
    side = 2**h
    pam = _pam_gray_levels(h)  # level of each per-axis label
    labels = np.arange(2**k)
    label_bits = (labels[:, None] >> np.arange(k - 1, -1, -1)) & 1  # (M, k) MSB first
    weights = 1 << np.arange(h - 1, -1, -1)
    i_label = label_bits[:, 0::axes] @ weights  # per-axis label from the even (I) bits
    raw = pam[i_label].astype(np.complex128)
    if axes == 2:
        raw = raw + 1j * pam[label_bits[:, 1::2] @ weights]
    points = (raw / np.sqrt(np.mean(np.abs(raw) ** 2))).astype(np.complex64)

    order = np.argsort(pam)  # ascending level -> per-axis label
    scale = float(np.sqrt(np.mean(np.abs(raw) ** 2)))
    levels = (pam[order] / scale).astype(np.float32)
    axis_bits = ((order[:, None] >> np.arange(h - 1, -1, -1)) & 1).astype(np.uint8)
    rank = np.argsort(order)  # per-axis label -> ascending level index
    if axes == 2:
        key = rank[i_label] * side + rank[label_bits[:, 1::2] @ weights]
    else:
        key = rank[i_label]
    label_of = np.empty(side**axes, dtype=np.uint8)
    label_of[key] = labels

    map_byte = demap_byte = None
    if 8 % k == 0:
        per_byte = 8 // k
        byte = np.arange(256)
        shifts = 8 - k * (np.arange(per_byte) + 1)
        map_byte = points[(byte[:, None] >> shifts) & (2**k - 1)]
        # a byte key holds 8/h level indices of h bits; groups of `axes` make one symbol
        idx_per_byte = 8 // h
        lvl = (byte[:, None] >> (h * (idx_per_byte - 1 - np.arange(idx_per_byte)))) & (side - 1)
        lvl = lvl.reshape(256, per_byte, axes)
        sym_key = lvl[..., 0] * side + lvl[..., 1] if axes == 2 else lvl[..., 0]
        demap_byte = (label_of[sym_key].astype(np.int64) << shifts).sum(axis=1).astype(np.uint8)
    for arr in (points, levels, axis_bits, label_of, map_byte, demap_byte):
        if arr is not None:
            arr.setflags(write=False)
    return Constellation(k, points, levels, axis_bits, label_of, map_byte, demap_byte)


@cache
def qam(bits_per_symbol: int) -> Constellation:
    """The Gray square QAM with `bits_per_symbol` bits (1 = BPSK, 2 = QPSK, 4 = 16-QAM, 6, 8, ...)."""
    k = int(bits_per_symbol) if isinstance(bits_per_symbol, (int, np.integer)) else -1
    if not (k == 1 or (2 <= k <= 8 and k % 2 == 0)):
        raise ValueError(f"bits_per_symbol must be 1 (BPSK) or 2, 4, 6, 8 (square QAM), got {bits_per_symbol!r}")
    return _build(k)
