"""The Monte-Carlo tool that measures the BLER table (`semcom.fec.bler`, what AMC reads):
`semcom channel bler` runs `sweep`.

Each point runs the real coded link (`semcom.fec.codewords.run_codewords`: 5G LDPC, Gray QAM,
AWGN, max-log LLRs, at most 20 BP iterations with CRC-aided early termination) in batches until
`max_blocks` blocks or `min_errors` block errors, whichever comes first.
Per curve the sweep starts at the first grid point at or above the Shannon limit of the MCS's
spectral efficiency, 10 log10(2^SE - 1) (no code of that rate gets far below it, and a 5G code
with QAM at these lengths needs 1-3 dB more, so the first points measure BLER = 1; the lookup
takes BLER = 1 below the first point), strides `coarse_step` grid points at a time while every
block fails, then walks every point from the last all-fail one and stops after
`stop_after_zero` consecutive points without a single block error.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import numpy as np

from semcom.fec import crc, ldpc
from semcom.fec.bler import (
    AWGN,
    BlerCurve,
    BlerTable,
    parse_channel_key,
    shannon_esn0_db,
)
from semcom.fec.codewords import run_codewords
from semcom.fec.mcs import MCS_TABLE, Mcs
from semcom.fec.mcs import get as get_mcs
from semcom.fec.segmentation import block_crc

DEFAULT_KS = (320, 8448)  # caption-sized block (38 chars + CRC16) and the full BG1 code block
BITS_PER_BATCH = 131_072  # information bits per simulated batch (one tensor through the decoder)
DECODER_DESCRIPTIONS = {
    "minsum": "minsum (semcom.fec.minsum): layered normalised offset min-sum on Sionna's 5G pcm, at most {num_iter} "
    "iterations, syndrome early termination, CRC-aided early termination every {round_iter}",
    "sionna": "sionna LDPC5GDecoder, boxplus-phi, flooding, at most {num_iter} iterations, "
    "CRC-aided early termination every {round_iter}",
}


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


def _curve(job: _SweepJob) -> BlerCurve:
    """The `sweep_curve` call a job describes."""
    return sweep_curve(get_mcs(job[0]), *job[1:8], _print_progress if job[8] else None, channel=job[9])


def _sweep_job(job: _SweepJob) -> BlerCurve:
    """One curve in a worker process (module level, so a process pool can pickle it)."""
    import torch

    torch.set_num_threads(1)  # one curve per core; intra-op threads would only fight each other
    return _curve(job)


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
        curves = [_curve(w) for w in work]
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
