"""Speed of our 16-QAM modem against scikit-commpy and Sionna PHY, on one float64 latent.

The workload is the paper's latent on the wire: one 4x64x64 float64 tensor = 1,048,576 bits,
16-QAM modulated, AWGN added, hard-demodulated back to bits. Every implementation starts from
bits in its own native container (numpy uint8 for us and commpy, a torch float32 tensor for
Sionna, prepared outside the timed region) and ends with hard bits; nothing else is timed.
Each is run once to warm up, then `repeats` times; the median wall time is the headline figure.
The median process CPU time is reported beside it: on a shared machine wall time also counts
time spent waiting for a core, CPU time does not (for a multi-threaded run it sums the threads).
The BER each one measured is reported too, to show that all did the same work (they differ a
little: latent bits are not uniform, so the symbol energy depends on the labelling, and commpy
scales its noise to the measured signal power while Sionna and we use the nominal Es = 1).

Ours is single-threaded numpy. Sionna is timed with ``torch.set_num_threads(1)`` and, when the
machine has more cores, again with all of them; both figures are reported. commpy and Sionna
are optional: when one cannot be imported it is reported as unavailable, with the reason.
They (and torch) are imported inside their functions only, so this module costs nothing to
import and the phy core stays free of them.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.phy.channel import awgn
from semcom.phy.mapping import qam
from semcom.phy.snr import ebn0_db_to_esn0_db, esn0_db_to_n0

LATENT_SHAPE = (4, 64, 64)
BITS_PER_SYMBOL = 4  # 16-QAM
TARGETS = {"ms_per_mbit_max": 10.0, "speedup_vs_commpy_min": 40.0, "speedup_vs_sionna_min": 8.0}


def latent_bits(seed: int = 0) -> NDArray[np.uint8]:
    """The 1,048,576 bits (MSB first) of one float64 latent of standard normal values, SD-latent-like."""
    latent = np.random.default_rng(seed).standard_normal(LATENT_SHAPE)
    return np.unpackbits(np.frombuffer(latent.tobytes(), dtype=np.uint8))


def _timed(fn: Callable[[], NDArray[Any]], bits: NDArray[np.uint8], repeats: int) -> dict[str, Any]:
    rx = fn()  # warm-up (first-call allocation, torch kernels, caches)
    seconds, cpu_seconds = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        rx = fn()
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
    rx = np.asarray(rx).reshape(-1)[: bits.size].astype(np.uint8)
    median = statistics.median(seconds)
    return {
        "available": True,
        "seconds": median,
        "ms_per_mbit": median * 1e3 / (bits.size / 1e6),
        "cpu_seconds": statistics.median(cpu_seconds),
        "all_seconds": seconds,
        "ber": float(np.count_nonzero(rx != bits) / bits.size),
    }


def bench_semcom(bits: NDArray[np.uint8], esn0_db: float, repeats: int, seed: int) -> dict[str, Any]:
    """This package: `qam(4).modulate` -> `awgn` -> `demodulate_hard` (numpy, one thread)."""
    constellation, rng = qam(BITS_PER_SYMBOL), np.random.default_rng(seed)
    n0 = esn0_db_to_n0(esn0_db)

    def run() -> NDArray[np.uint8]:
        return constellation.demodulate_hard(awgn(constellation.modulate(bits), n0, rng), bits.size)

    return {**_timed(run, bits, repeats), "threads": 1}


def bench_commpy(bits: NDArray[np.uint8], esn0_db: float, repeats: int, seed: int) -> dict[str, Any]:
    """scikit-commpy: `QAMModem(16).modulate` -> `channels.awgn` -> `.demodulate(..., 'hard')`."""
    try:
        from commpy.channels import awgn as commpy_awgn
        from commpy.modulation import QAMModem
    except ImportError as exc:
        return {"available": False, "reason": f"scikit-commpy not importable: {exc}"}
    modem = QAMModem(2**BITS_PER_SYMBOL)
    np.random.seed(seed)  # commpy draws its noise from numpy's global RNG

    def run() -> NDArray[Any]:
        # commpy's awgn measures the signal energy itself, so snr_dB is Es/N0
        rx: NDArray[Any] = modem.demodulate(commpy_awgn(modem.modulate(bits), esn0_db), "hard")  # untyped library
        return rx

    return {**_timed(run, bits, repeats), "threads": 1}


def bench_sionna(bits: NDArray[np.uint8], ebn0_db: float, repeats: int, seed: int, threads: int) -> dict[str, Any]:
    """Sionna PHY (torch, CPU): Mapper("qam", 4) -> AWGN -> Demapper("maxlog", hard_out=True)."""
    try:
        import torch
        from sionna.phy.channel import AWGN
        from sionna.phy.mapping import Demapper, Mapper
        from sionna.phy.utils import ebnodb2no
    except ImportError as exc:
        return {"available": False, "reason": f"sionna (PyTorch) not importable: {exc}"}
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        mapper = Mapper("qam", BITS_PER_SYMBOL, device="cpu")
        demapper = Demapper("maxlog", "qam", BITS_PER_SYMBOL, hard_out=True, device="cpu")
        channel = AWGN(device="cpu")
        no = ebnodb2no(ebn0_db, BITS_PER_SYMBOL, 1.0, device="cpu")
        tx = torch.from_numpy(bits.astype(np.float32)).reshape(1, -1)

        def run() -> NDArray[Any]:
            with torch.inference_mode():
                rx: NDArray[Any] = demapper(channel(mapper(tx), no), no).numpy()  # untyped library
                return rx

        result = _timed(run, bits, repeats)
    finally:
        torch.set_num_threads(previous)
    return {**result, "threads": threads}


def run_channel_bench(repeats: int = 5, ebn0_db: float = 10.0, seed: int = 0) -> dict[str, Any]:
    """Time all implementations on the same latent; the result is JSON-serialisable."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    bits = latent_bits(seed)
    esn0_db = float(ebn0_db_to_esn0_db(ebn0_db, BITS_PER_SYMBOL))
    impl: dict[str, dict[str, Any]] = {
        "semcom": bench_semcom(bits, esn0_db, repeats, seed),
        "commpy": bench_commpy(bits, esn0_db, repeats, seed),
        "sionna_1thread": bench_sionna(bits, ebn0_db, repeats, seed, threads=1),
    }
    cores = os.cpu_count() or 1
    if cores > 1 and impl["sionna_1thread"]["available"]:
        impl[f"sionna_{cores}threads"] = bench_sionna(bits, ebn0_db, repeats, seed, threads=cores)
    speedup, meets = _speedups(impl, "seconds", bits.size)
    speedup_cpu, meets_cpu = _speedups(impl, "cpu_seconds", bits.size)
    return {
        "workload": {
            "payload": f"one {'x'.join(map(str, LATENT_SHAPE))} float64 latent",
            "bits": int(bits.size),
            "modulation": "16qam",
            "ebn0_db": float(ebn0_db),
            "esn0_db": esn0_db,
            "repeats": repeats,
            "statistic": "median wall time after one warm-up run",
            "ms_per_mbit": "milliseconds per 10^6 bits",
            "cpu_count": cores,
        },
        "implementations": impl,
        "speedup_of_semcom": speedup,
        "speedup_of_semcom_cpu_time": speedup_cpu,
        "targets": TARGETS,
        "meets_targets": meets,
        "meets_targets_cpu_time": meets_cpu,
    }


def _speedups(impl: dict[str, dict[str, Any]], key: str, n_bits: int) -> tuple[dict[str, float], dict[str, bool]]:
    """Ratios other / semcom of `key` ("seconds" or "cpu_seconds"), and the targets they meet."""
    ours = impl["semcom"][key]
    speedup = {name: r[key] / ours for name, r in impl.items() if name != "semcom" and r["available"]}
    meets = {"ms_per_mbit": ours * 1e3 / (n_bits / 1e6) <= TARGETS["ms_per_mbit_max"]}
    if "commpy" in speedup:
        meets["vs_commpy"] = speedup["commpy"] >= TARGETS["speedup_vs_commpy_min"]
    if "sionna_1thread" in speedup:
        meets["vs_sionna_1thread"] = speedup["sionna_1thread"] >= TARGETS["speedup_vs_sionna_min"]
    return speedup, meets
