"""Decoder benchmark: the fast CPU decoder against Sionna's on one identical set of LLRs per point.

`run_fec_bench` is what `semcom channel bench --fec` runs. Per operating point (MCS, Es/N0):
`codewords` random blocks of k bits ending in the CRC a segment of that size carries
(`segmentation.block_crc`), Sionna's 5G encoder, scrambled Gray QAM over AWGN, max-log LLRs
(`semcom.fec.codewords`, exactly the coded link's path; `channel="rayleigh"`: block fading with
`fading_block_length` symbols per gain, every codeword on fresh blocks as in the BLER sweep). The *same* LLR array then goes through
each decoder as the link calls it (`ldpc.decode` with CRC-aided early termination, at most
`num_iter` iterations), after one untimed warm-up call on two codewords (numba compilation,
Sionna graph construction). Reported per decoder: wall and CPU seconds (median of `repeats`),
seconds per Mbit of payload (k minus the CRC per codeword), block errors (decoded k bits differ
from the sent ones) and the BLER with its Wilson 95% interval; per point the time ratio and
whether the fast decoder's BLER is within or below Sionna's interval.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from semcom.fec import crc, ldpc
from semcom.fec.codewords import channel_llrs
from semcom.fec.mcs import get as get_mcs
from semcom.fec.segmentation import block_crc

T = TypeVar("T")

DEFAULT_POINTS = (("16qam-r1/2", 6.4), ("16qam-r3/4", 10.2), ("16qam-r5/6", 13.5))
DEFAULT_K = 8413  # a segment of the int8 TAEF2 latent (125 of them make 1,048,576 payload bits)
DEFAULT_CODEWORDS = 125
Z95 = 1.959963984540054


def wilson_interval(errors: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% by default)."""
    if trials <= 0:
        raise ValueError("trials must be positive")
    p = errors / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    lo = 0.0 if errors == 0 else max(0.0, centre - half)
    hi = 1.0 if errors == trials else min(1.0, centre + half)
    return lo, hi


def parse_point(item: str) -> tuple[str, float]:
    """ "16qam-r1/2@6.4" -> (mcs name, Es/N0 dB); ValueError naming what is wrong."""
    item = item.strip()
    name, sep, esn0 = item.partition("@")
    if not sep:
        raise ValueError(f"operating point {item!r}: expected MCS@ESN0_DB, e.g. 16qam-r1/2@6.4")
    try:
        name = get_mcs(name.strip()).name
    except ValueError as exc:
        raise ValueError(f"operating point {item!r}: {exc}") from None
    try:
        value = float(esn0)
    except ValueError:
        raise ValueError(f"operating point {item!r}: Es/N0 {esn0!r} is not a number of dB") from None
    if not (math.isfinite(value) and -20 <= value <= 60):
        raise ValueError(f"operating point {item!r}: Es/N0 must be in [-20, 60] dB")
    return name, value


def _timed(fn: Callable[[], T], repeats: int) -> tuple[float, float, T | None]:
    """Median wall and CPU seconds of `repeats` calls of `fn`, and its last result (None if none)."""
    walls: list[float] = []
    cpus: list[float] = []
    out: T | None = None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus)), out


def run_fec_bench(
    points: Sequence[tuple[str, float]] = DEFAULT_POINTS,
    k: int = DEFAULT_K,
    codewords: int = DEFAULT_CODEWORDS,
    decoders: Sequence[str] = ("minsum", "sionna"),
    num_iter: int = 20,
    repeats: int = 1,
    threads: int = 1,
    seed: int = 0,
    channel: str = "awgn",
    fading_block_length: int = 128,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time and BLER of each decoder on identical LLRs per point (see the module docstring);
    `progress`, when given, gets one line as each decoder starts on a point and one when it ends."""
    import numba
    import torch

    if codewords < 1 or repeats < 1 or threads < 1 or fading_block_length < 1:
        raise ValueError("codewords, repeats, threads and fading_block_length must be positive")
    if channel not in ("awgn", "rayleigh"):
        raise ValueError(f"channel must be awgn or rayleigh, got {channel!r}")
    for name in decoders:
        ldpc.decoder_name(name)
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]  # set at import from the environment
    crc_name = block_crc(k)
    say = progress or (lambda line: None)
    payload_bits = k - crc.crc_bits(crc_name)
    rows: list[dict[str, Any]] = []
    for index, (name, esn0_db) in enumerate(points):
        scheme = get_mcs(name)
        m = scheme.bits_per_symbol
        rng = np.random.default_rng([seed, index])
        payload = rng.integers(0, 2, (codewords, payload_bits), dtype=np.uint8)
        info = crc.attach(payload, crc_name)
        sent = ldpc.encode(info, scheme.codeword_bits(k), m)
        llr = channel_llrs(sent, m, esn0_db, rng, channel, fading_block_length, fading_per_codeword=True)

        def is_done(bits: np.ndarray, crc_name: str = crc_name) -> NDArray[np.bool_]:
            return crc.check(bits, crc_name)[1]

        row: dict[str, Any] = {
            "mcs": name,
            "esn0_db": esn0_db,
            "k": k,
            "n": scheme.codeword_bits(k),
            "codewords": codewords,
            "payload_mbit": codewords * payload_bits / 1e6,
            "decoders": {},
        }
        for decoder in decoders:
            what = f"point {index + 1}/{len(points)} ({name} at Es/N0 {esn0_db:g} dB), {decoder}"
            say(f"{what}: {codewords} codewords ...")
            ldpc.decode(llr[:2], k, m, num_iter, is_done, decoder=decoder)  # warm-up, untimed

            run = functools.partial(ldpc.decode, llr, k, m, num_iter, is_done, decoder=decoder)
            wall, cpu, decided = _timed(run, repeats)
            assert decided is not None  # repeats >= 1 (checked above)
            errors = int(np.count_nonzero((decided != info).any(axis=1)))
            lo, hi = wilson_interval(errors, codewords)
            say(f"{what} done: {wall:.2f} s, {errors}/{codewords} block errors")
            row["decoders"][decoder] = {
                "seconds": wall,
                "cpu_seconds": cpu,
                "s_per_mbit": wall / row["payload_mbit"],
                "block_errors": errors,
                "bler": errors / codewords,
                "bler_ci95": [lo, hi],
            }
        if "minsum" in row["decoders"] and "sionna" in row["decoders"]:
            fast, ref = row["decoders"]["minsum"], row["decoders"]["sionna"]
            row["speedup"] = ref["seconds"] / fast["seconds"]
            row["speedup_cpu"] = ref["cpu_seconds"] / max(fast["cpu_seconds"], 1e-9)
            lo, hi = ref["bler_ci95"]
            row["bler_verdict"] = (
                "equal within CI" if lo <= fast["bler"] <= hi else "lower" if fast["bler"] < lo else "HIGHER"
            )
        rows.append(row)
    workload = {
        "k": k,
        "crc": crc_name,
        "codewords": codewords,
        "num_iter": num_iter,
        "repeats": repeats,
        "threads": threads,
        "seed": seed,
        "early_termination": "CRC (both), syndrome (minsum)",
        "channel": channel if channel == "awgn" else f"rayleigh, {fading_block_length} symbols per fade",
    }
    return {"workload": workload, "points": rows}


def format_fec_bench(result: dict[str, Any]) -> str:
    w = result["workload"]
    lines = [
        (
            f"LDPC decoders on identical LLRs: {w['codewords']} codewords of k={w['k']} ({w['crc']}) per point, "
            f"Gray QAM + {w.get('channel', 'awgn')} max-log LLRs, <= {w['num_iter']} iterations, early termination {w['early_termination']}, "
            f"{w['threads']} thread(s), median of {w['repeats']}"
        )
    ]
    lines.append(
        f"{'mcs':<11} {'Es/N0':>6} {'decoder':<7} {'s':>8} {'s/Mbit':>8} {'cpu s':>8} "
        f"{'errors':>6} {'BLER':>7} {'95% CI':>17}"
    )
    for row in result["points"]:
        for name, d in row["decoders"].items():
            lo, hi = d["bler_ci95"]
            lines.append(
                f"{row['mcs']:<11} {row['esn0_db']:6.2f} {name:<7} {d['seconds']:8.3f} {d['s_per_mbit']:8.3f} "
                f"{d['cpu_seconds']:8.3f} {d['block_errors']:6d} {d['bler']:7.4f} [{lo:.4f}, {hi:.4f}]"
            )
        if "speedup" in row:
            lines.append(
                f"{'':<11} {'':>6} minsum is {row['speedup']:.1f}x faster (cpu {row['speedup_cpu']:.1f}x); "
                f"BLER {row['bler_verdict']} (Sionna's 95% CI)"
            )
    return "\n".join(lines)
