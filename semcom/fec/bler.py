"""Block error rate (BLER) of every MCS versus Es/N0: the table AMC reads (`BlerTable`,
`default_table`). The Monte-Carlo tool that measures it is `semcom.fec.bler_sweep`.

A *block* is one LDPC codeword of k information bits: random payload plus the CRC a segment of
that size carries (`segmentation.block_crc`); it is in error when any decoded bit differs from
what was sent.
Lookup (`BlerCurve.at`): the measured BLER is replaced by its non-increasing upper envelope
(max over all higher SNRs, so Monte-Carlo wiggles never make a point look better than a
stronger one), then interpolated linearly in BLER between grid points. Linear interpolation of
a convex waterfall lies above it, so interpolated values are pessimistic. Below the first point
BLER is 1, above the last it keeps the last value (0 after a complete sweep).

Channels: every curve names the channel it was measured on (`channel_key`): ``awgn``, or
``rayleigh-L<L>`` for Rayleigh block fading with one gain per L channel symbols and perfect CSI
at the receiver, Es/N0 being the *average* SNR. A fading code's BLER falls far more slowly (its
diversity is the number of fading blocks a codeword spans), so AMC must read the curves of its
own channel: `BlerTable.channel_for` picks the measured fading block length that stands in for
a codeword's (the next longer one: pessimistic), and AWGN's only when the table has no fading
curves at all (optimistic on fading; callers record which curves served them).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.config import get
from semcom.fec import ldpc
from semcom.fec.mcs import MCS_TABLE
from semcom.fec.mcs import get as get_mcs

TABLE_FORMAT = "semcom-bler-table/1"
PACKAGED_TABLE = "bler_table.json"  # package data of semcom.fec, measured with the default decoder (minsum)
#: the packaged table per LDPC decoder (`ldpc.decode`'s decoder): AMC reads the one measured with it
PACKAGED_TABLES = {"minsum": PACKAGED_TABLE, "sionna": "bler_table_sionna.json"}
K_TOLERANCE = 1.1  # a curve measured at k_meas serves segments of k >= k_meas / K_TOLERANCE
SWEEP_CHANNELS = ("awgn", "rayleigh")  # channel models a table (and a sweep) can describe
AWGN = "awgn"


def channel_key(model: str, fading_block_length: int | None = None) -> str:
    """Table key of a channel: "awgn", or "rayleigh-L<L>" (one fading gain per L symbols)."""
    if model == "awgn":
        return AWGN
    if model == "rayleigh":
        if not isinstance(fading_block_length, (int, np.integer)) or fading_block_length < 1:
            raise ValueError(f"rayleigh needs fading_block_length >= 1, got {fading_block_length!r}")
        return f"rayleigh-L{int(fading_block_length)}"
    raise ValueError(f"BLER tables cover channels {SWEEP_CHANNELS}, got {model!r}")


def _channel_order(key: str) -> tuple[bool, int]:
    return key != AWGN, parse_channel_key(key)[1] or 0


def parse_channel_key(key: str) -> tuple[str, int | None]:
    """Inverse of `channel_key`: "rayleigh-L128" -> ("rayleigh", 128), "awgn" -> ("awgn", None)."""
    if key == AWGN:
        return AWGN, None
    match = re.fullmatch(r"rayleigh-L([0-9]+)", key) if isinstance(key, str) else None
    if match and int(match[1]) >= 1:
        return "rayleigh", int(match[1])
    raise ValueError(f"bad BLER-table channel {key!r}: use 'awgn' or 'rayleigh-L<symbols per fading block>'")


def shannon_esn0_db(spectral_efficiency: float) -> float:
    """Smallest Es/N0 (dB) at which AWGN capacity log2(1 + Es/N0) reaches `spectral_efficiency`."""
    if not spectral_efficiency > 0:
        raise ValueError(f"spectral_efficiency must be > 0, got {spectral_efficiency}")
    return 10.0 * math.log10(2.0**spectral_efficiency - 1.0)


@dataclass
class BlerCurve:
    """Measured BLER of one MCS at one block length k, on an Es/N0 grid."""

    mcs: str
    k: int
    n: int  # codeword bits per block
    esn0_db: list[float]
    blocks: list[int]
    block_errors: list[int]
    channel: str = AWGN  # `channel_key` of the channel the curve was measured on

    def __post_init__(self) -> None:
        get_mcs(self.mcs)
        parse_channel_key(self.channel)
        sizes = {len(self.esn0_db), len(self.blocks), len(self.block_errors)}
        if len(sizes) != 1 or not self.esn0_db:
            raise ValueError(f"curve {self.mcs} k={self.k}: esn0_db/blocks/block_errors must be equal, non-empty lists")
        if any(b <= 0 for b in self.blocks) or any(not 0 <= e <= b for e, b in zip(self.block_errors, self.blocks)):
            raise ValueError(f"curve {self.mcs} k={self.k}: need 0 <= block_errors <= blocks, blocks > 0")
        if list(self.esn0_db) != sorted(self.esn0_db) or len(set(self.esn0_db)) != len(self.esn0_db):
            raise ValueError(f"curve {self.mcs} k={self.k}: esn0_db must be strictly increasing")

    @property
    def bler(self) -> NDArray[np.float64]:
        """Measured BLER per grid point (block_errors / blocks)."""
        return np.asarray(self.block_errors, np.float64) / np.asarray(self.blocks, np.float64)

    def envelope(self) -> np.ndarray:
        """Non-increasing upper envelope of the measured BLER: max over this and higher SNRs."""
        return np.maximum.accumulate(self.bler[::-1])[::-1]

    def at(self, esn0_db: float | np.ndarray) -> float | np.ndarray:
        """BLER at `esn0_db` (see the module docstring for the interpolation rule)."""
        env = self.envelope()
        out = np.interp(esn0_db, np.asarray(self.esn0_db, float), env, left=1.0, right=float(env[-1]))
        return float(out) if np.ndim(out) == 0 else out

    def required_esn0_db(self, target_bler: float) -> float:
        """Smallest grid Es/N0 whose (enveloped) BLER is at most `target_bler`; inf if none."""
        ok = np.flatnonzero(self.envelope() <= target_bler)
        return float(self.esn0_db[ok[0]]) if ok.size else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "mcs": self.mcs,
            "k": self.k,
            "n": self.n,
            "esn0_db": [round(float(x), 4) for x in self.esn0_db],
            "blocks": [int(b) for b in self.blocks],
            "block_errors": [int(e) for e in self.block_errors],
        }


@dataclass
class BlerTable:
    """BLER curves for (MCS, k) pairs plus how they were measured (`meta`)."""

    curves: list[BlerCurve]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = [(c.channel, c.mcs, c.k) for c in self.curves]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate (channel, mcs, k) curve in BLER table")

    def channels(self) -> list[str]:
        """The channel keys this table has curves for: AWGN, then fading by block length."""
        return sorted({c.channel for c in self.curves}, key=_channel_order)

    def channel_for(self, model: str, fading_block_length: int = 128, k: int | None = None) -> str:
        """The channel key whose curves serve codewords (of k bits, when given) on `model`.

        rayleigh: the shortest measured fading block length L_m >= the codeword's
        `fading_block_length` (fewer fades per codeword than in reality: pessimistic) among those
        with a curve no longer than K_TOLERANCE * k (a longer code is stronger: it must not serve
        a short one); failing that, any L_m >= it, else the longest measured (optimistic); AWGN
        when no fading curve exists. Every other model (awgn, bsc, none) reads AWGN's
        (optimistic for bsc's hard decisions)."""
        if model != "rayleigh":
            return AWGN
        channel_key(model, fading_block_length)  # validates the length
        measured = sorted(
            length for c in self.channels() if c != AWGN for length in (parse_channel_key(c)[1],) if length is not None
        )
        if not measured:
            return AWGN
        above = [length for length in measured if length >= fading_block_length]
        if k is not None:
            fits = [
                length
                for length in above
                if any(c.k <= K_TOLERANCE * k for c in self.curves if c.channel == channel_key(model, length))
            ]
            above = fits or above
        return channel_key("rayleigh", above[0] if above else measured[-1])

    def mcs_names(self, channel: str = AWGN) -> list[str]:
        """MCS names with at least one `channel` curve, in MCS-table order."""
        have = {c.mcs for c in self.curves if c.channel == channel}
        return [m.name for m in MCS_TABLE if m.name in have]

    def ks(self, mcs: str, channel: str = AWGN) -> list[int]:
        return sorted(c.k for c in self.curves if c.mcs == mcs and c.channel == channel)

    def curve(self, mcs: str, k: int, channel: str = AWGN) -> BlerCurve:
        """The `channel` curve serving codewords of k bits: the longest measured k_meas <=
        K_TOLERANCE * k (shorter codes are weaker, so this errs on the safe side), else the
        shortest measured."""
        mine = [c for c in self.curves if c.mcs == mcs and c.channel == channel]
        if not mine:
            raise ValueError(f"BLER table has no {channel} curve for MCS {mcs!r} (channels: {self.channels()})")
        fitting = [c for c in mine if c.k <= K_TOLERANCE * k]
        return max(fitting, key=lambda c: c.k) if fitting else min(mine, key=lambda c: c.k)

    def bler(self, mcs: str, k: int, esn0_db: float, channel: str = AWGN) -> float:
        return float(self.curve(mcs, k, channel).at(esn0_db))

    def merged(self, other: BlerTable) -> BlerTable:
        """This table with `other`'s curves added, replacing curves of the same (channel, mcs, k);
        a run of this table whose curves were all replaced leaves `meta["runs"]`."""
        theirs = {(c.channel, c.mcs, c.k) for c in other.curves}
        curves = [c for c in self.curves if (c.channel, c.mcs, c.k) not in theirs] + list(other.curves)
        order = {m.name: i for i, m in enumerate(MCS_TABLE)}
        curves.sort(key=lambda c: (_channel_order(c.channel), c.k, order[c.mcs]))

        def superseded(run: dict[str, Any]) -> bool:
            made = {(run.get("channel", AWGN), m, int(k)) for m in run.get("mcs", []) for k in run.get("ks", [])}
            return bool(made) and made <= theirs

        runs = [r for r in self.meta.get("runs", []) if not superseded(r)] + list(other.meta.get("runs", []))
        return BlerTable(curves, {**self.meta, **other.meta, "runs": runs})

    def to_dict(self) -> dict[str, Any]:
        return {"format": TABLE_FORMAT, "meta": self.meta, "curves": [c.to_dict() for c in self.curves]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlerTable:
        if not isinstance(data, dict) or data.get("format") != TABLE_FORMAT:
            raise ValueError(f"not a BLER table (expected format {TABLE_FORMAT!r})")
        try:
            curves = [BlerCurve(**c) for c in data["curves"]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed BLER table: {exc}") from None
        return cls(curves, dict(data.get("meta", {})))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> BlerTable:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read BLER table {path}: {exc}") from None
        return cls.from_dict(data)


@lru_cache(maxsize=4)
def _load_cached(path: str, decoder: str = "minsum") -> BlerTable:
    if path:
        return BlerTable.load(path)
    with resources.as_file(resources.files("semcom.fec") / PACKAGED_TABLES[decoder]) as packaged:
        return BlerTable.load(packaged)


def default_table() -> BlerTable:
    """The table AMC uses: `SEMCOM_BLER_TABLE` if set, else the measured one shipped in the package
    for the LDPC decoder in use (SEMCOM_FEC_DECODER: its error rates differ, docs/fec.md)."""
    path = str(get("SEMCOM_BLER_TABLE"))
    return _load_cached(path, "minsum" if path else ldpc.decoder_name())
