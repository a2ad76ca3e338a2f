"""Block error rate (BLER) of every MCS versus Es/N0: Monte-Carlo sweep and the table AMC reads.

A *block* is one LDPC codeword of k information bits: random payload plus the CRC a segment of
that size carries (`segmentation.block_crc`); it is in error when any decoded bit differs from
what was sent. Each point runs the real coded link (`semcom.fec.codewords.run_codewords`: 5G LDPC,
Gray QAM, AWGN, max-log LLRs, at most 20 BP iterations with CRC-aided early termination) in
batches until `max_blocks` blocks or `min_errors` block errors, whichever comes first.

Per curve the sweep starts at the first grid point at or above the Shannon limit of the MCS's
spectral efficiency, 10 log10(2^SE - 1) (no code of that rate gets far below it, and a 5G code
with QAM at these lengths needs 1-3 dB more, so the first points measure BLER = 1; the lookup
takes BLER = 1 below the first point), strides `coarse_step` grid points at a time while every
block fails, then walks every point from the last all-fail one and stops after
`stop_after_zero` consecutive points without a single block error.

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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.fec import ldpc
from semcom.fec.codewords import run_codewords
from semcom.fec.mcs import MCS_TABLE, Mcs
from semcom.fec.mcs import get as get_mcs

TABLE_FORMAT = "semcom-bler-table/1"
PACKAGED_TABLE = "bler_table.json"  # package data of semcom.fec, measured with the default decoder (minsum)
#: the packaged table per LDPC decoder (`ldpc.decode`'s decoder): AMC reads the one measured with it
PACKAGED_TABLES = {"minsum": PACKAGED_TABLE, "sionna": "bler_table_sionna.json"}
K_TOLERANCE = 1.1  # a curve measured at k_meas serves segments of k >= k_meas / K_TOLERANCE
DEFAULT_KS = (320, 8448)  # caption-sized block (38 chars + CRC16) and the full BG1 code block
DECODER_DESCRIPTIONS = {
    "minsum": "minsum (semcom.fec.minsum): layered normalised offset min-sum on Sionna's 5G pcm, at most {num_iter} "
    "iterations, syndrome early termination, CRC-aided early termination every {round_iter}",
    "sionna": "sionna LDPC5GDecoder, boxplus-phi, flooding, at most {num_iter} iterations, "
    "CRC-aided early termination every {round_iter}",
}
BITS_PER_BATCH = 131_072  # information bits per simulated batch (one tensor through the decoder)
SWEEP_CHANNELS = ("awgn", "rayleigh")  # channel models a sweep can measure
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
    prefix = "rayleigh-L"
    if (
        isinstance(key, str)
        and key.startswith(prefix)
        and key[len(prefix) :].isdigit()
        and int(key[len(prefix) :]) >= 1
    ):
        return "rayleigh", int(key[len(prefix) :])
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
    from semcom.config import get

    path = str(get("SEMCOM_BLER_TABLE"))
    return _load_cached(path, "minsum" if path else ldpc.decoder_name())


def parse_grid(spec: str) -> np.ndarray:
    """Es/N0 grid from "start:stop:step" (stop included) or "a,b,c" (dB)."""
    try:
        if ":" in spec:
            start, stop, step = (float(p) for p in spec.split(":"))
            if not step > 0 or stop < start:
                raise ValueError
            grid = start + step * np.arange(int(math.floor((stop - start) / step + 1e-9)) + 1)
        else:
            grid = np.array(sorted({float(p) for p in spec.split(",") if p.strip()}))
    except ValueError:
        raise ValueError(f"bad Es/N0 grid {spec!r}: use start:stop:step (step > 0) or a,b,c") from None
    if grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < -20 or grid.max() > 60:
        raise ValueError(f"Es/N0 grid {spec!r} must be finite values in [-20, 60] dB")
    return np.round(grid, 6)


def simulate_point(
    mcs: Mcs,
    k: int,
    esn0_db: float,
    rng: np.random.Generator,
    max_blocks: int,
    min_errors: int,
    num_iter: int = ldpc.DEFAULT_NUM_ITER,
    channel: str = AWGN,
) -> tuple[int, int]:
    """Monte-Carlo BLER at one point on `channel` (a `channel_key`) -> (blocks, blocks in error)."""
    from semcom.fec import crc
    from semcom.fec.segmentation import block_crc

    model, fading_block_length = parse_channel_key(channel)
    crc_name = block_crc(k)
    if k <= crc.crc_bits(crc_name):
        raise ValueError(f"k={k} leaves no payload next to its {crc_name}")
    batch = max(1, min(max_blocks, BITS_PER_BATCH // k))
    blocks = errors = 0
    size = min(batch, min_errors)  # small first batch: a point where every block fails ends there
    while blocks < max_blocks and errors < min_errors:
        size = min(size, max_blocks - blocks)
        payload = rng.integers(0, 2, size=(size, k - crc.crc_bits(crc_name)), dtype=np.uint8)
        info = crc.attach(payload, crc_name)
        decided = run_codewords(
            info, mcs, esn0_db, rng, model, num_iter, fading_block_length or 1, crc_name, fading_per_codeword=True
        )
        errors += int(np.count_nonzero(np.any(decided != info, axis=1)))
        blocks += size
        size = min(2 * size, batch)
    return blocks, errors


def sweep_curve(
    mcs: Mcs,
    k: int,
    grid: np.ndarray,
    seed: int,
    max_blocks: int,
    min_errors: int,
    num_iter: int = ldpc.DEFAULT_NUM_ITER,
    stop_after_zero: int = 1,
    progress: Callable[[str], None] | None = None,
    coarse_step: int = 4,
    channel: str = AWGN,
) -> BlerCurve:
    """One curve over the grid points at or above the Shannon limit: every `coarse_step`-th point
    while every block fails, then every point from just after the last all-fail one until
    `stop_after_zero` consecutive error-free points. Seeded per (seed, k, MCS) and, off AWGN,
    the channel, so any subset of MCS reproduces the same numbers. The AWGN Shannon limit is a
    valid start on fading too (fading never raises the capacity at equal average SNR)."""
    if k < 12 or max_blocks <= 0 or min_errors <= 0 or stop_after_zero <= 0:
        raise ValueError("need k >= 12, max_blocks > 0, min_errors > 0, stop_after_zero > 0")
    salt = [] if channel == AWGN else [parse_channel_key(channel)[1] or 0, 1]  # AWGN streams as before
    rng = np.random.default_rng([seed, k, MCS_TABLE.index(mcs), *salt])
    start = shannon_esn0_db(mcs.spectral_efficiency)
    todo = [float(x) for x in grid if x >= start - 1e-9]
    measured: dict[int, tuple[int, int]] = {}  # grid index -> (blocks, block errors)

    def point(i: int) -> tuple[int, int]:
        if i not in measured:
            t0 = time.perf_counter()
            measured[i] = simulate_point(mcs, k, todo[i], rng, max_blocks, min_errors, num_iter, channel)
            if progress:
                b, e = measured[i]
                progress(
                    f"{channel} {mcs.name} k={k} Es/N0={todo[i]:+.2f} dB: {e}/{b} blocks in error "
                    f"({time.perf_counter() - t0:.1f} s)"
                )
        return measured[i]

    # coarse phase: stride over the region where every block fails
    i, first_fine = 0, 0
    while i < len(todo):
        b, e = point(i)
        if e < b:
            break
        first_fine, i = i + 1, i + coarse_step
    # fine phase: every grid point from just after the last all-fail point
    zeros = 0
    for i in range(first_fine, len(todo)):
        zeros = zeros + 1 if point(i)[1] == 0 else 0
        if zeros >= stop_after_zero:
            break
    if not measured:
        raise ValueError(f"grid has no point at or above {start:.2f} dB for {mcs.name}")
    order = sorted(measured)
    points = [todo[i] for i in order]
    blocks = [measured[i][0] for i in order]
    errors = [measured[i][1] for i in order]
    return BlerCurve(mcs.name, k, mcs.codeword_bits(k), points, blocks, errors, channel)


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


#: One `sweep_curve` call as `sweep` hands it to a worker process: (MCS name, k, grid, seed,
#: max_blocks, min_errors, num_iter, stop_after_zero, verbose, channel).
_SweepJob = tuple[str, int, np.ndarray, int, int, int, int, int, bool, str]


def _sweep_job(job: _SweepJob) -> BlerCurve:
    """One curve in a worker process (module level, so a process pool can pickle it)."""
    import torch

    torch.set_num_threads(1)  # one curve per core; intra-op threads would only fight each other
    mcs_name, k, grid, seed, max_blocks, min_errors, num_iter, stop_after_zero, verbose, channel = job
    return sweep_curve(
        get_mcs(mcs_name),
        k,
        grid,
        seed,
        max_blocks,
        min_errors,
        num_iter,
        stop_after_zero,
        _print_progress if verbose else None,
        channel=channel,
    )


def sweep(
    mcs_list: list[Mcs],
    ks: list[int],
    grid: np.ndarray,
    seed: int,
    max_blocks: int | list[int],
    min_errors: int | list[int],
    num_iter: int = ldpc.DEFAULT_NUM_ITER,
    stop_after_zero: int = 1,
    verbose: bool = False,
    command: str = "",
    jobs: int = 1,
    channel: str = AWGN,
) -> BlerTable:
    """Curves for every (k, MCS) pair, with the settings recorded in the table's `meta`.

    `max_blocks` / `min_errors` are one value for all k or one per k (short blocks are cheap, so
    they can afford more blocks and resolve lower BLER). `jobs` > 1 measures curves in that many
    worker processes; every curve has its own seeded stream, so the table does not depend on it.
    `channel` is a `channel_key` ("awgn", "rayleigh-L128", ...).
    """
    parse_channel_key(channel)
    per_k_blocks = _per_k(max_blocks, ks, "max_blocks")
    per_k_errors = _per_k(min_errors, ks, "min_errors")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    for m in mcs_list:
        if not np.any(grid >= shannon_esn0_db(m.spectral_efficiency) - 1e-9):
            raise ValueError(
                f"the Es/N0 grid ends below the Shannon limit of {m.name} "
                f"({shannon_esn0_db(m.spectral_efficiency):.2f} dB)"
            )
    work: list[_SweepJob] = [
        (m.name, int(k), grid, seed, per_k_blocks[i], per_k_errors[i], num_iter, stop_after_zero, verbose, channel)
        for i, k in enumerate(ks)
        for m in mcs_list
    ]
    # most expensive first, so the last worker to finish is not the one that started a long curve last
    work.sort(key=lambda w: -w[1])
    t0 = time.perf_counter()
    if jobs == 1:
        curves = [
            sweep_curve(get_mcs(w[0]), *w[1:8], _print_progress if verbose else None, channel=channel) for w in work
        ]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            curves = list(pool.map(_sweep_job, work))
    order = {m.name: i for i, m in enumerate(MCS_TABLE)}
    curves.sort(key=lambda c: (c.k, order[c.mcs]))
    run = {
        "command": command,
        "channel": channel,
        "ks": [int(k) for k in ks],
        "mcs": [m.name for m in mcs_list],
        "seed": int(seed),
        "max_blocks": per_k_blocks,
        "min_errors": per_k_errors,
        "stop_after_zero": int(stop_after_zero),
        "jobs": int(jobs),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    meta = {
        "snr": "Es/N0 in dB per channel symbol, unit-energy Gray QAM (average Es/N0 on fading)",
        "channel": "per curve: awgn, or rayleigh-L<L> = Rayleigh block fading, one gain per L symbols, "
        "perfect CSI, zero-forcing equalisation before the max-log demapper",
        "demapper": "max-log LLR (semcom.phy.mapping)",
        "decoder": DECODER_DESCRIPTIONS[ldpc.decoder_name()].format(num_iter=num_iter, round_iter=ldpc.ROUND_ITER),
        "block": "random payload + CRC16 (k <= 3840) or CRC24B, as a segment of that size",
        "block_error": "any decoded bit (CRC included) differs from the sent one",
        "runs": [run],
    }
    return BlerTable(curves, meta)


def _per_k(value: int | list[int], ks: list[int], what: str) -> list[int]:
    values = [int(value)] * len(ks) if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(values) != len(ks) or any(v <= 0 for v in values):
        raise ValueError(f"{what} needs one positive value, or one per k ({len(ks)}), got {value!r}")
    return values
