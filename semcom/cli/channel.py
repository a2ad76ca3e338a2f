"""`semcom channel ...`: check the modem and channel against theory, and time them.

* ``semcom channel ber``: simulated BER per SNR next to the closed form, with a statistical
  acceptance band (``--sigmas`` standard errors of the error count, 5 by default).
* ``semcom channel bench``: 16-QAM modulate + AWGN + hard demod of one float64 latent,
  against scikit-commpy and Sionna PHY in the same run.

The FEC subcommands (``bler``, ``mcs``, ``bench --fec``) are `semcom.cli.channel_fec`, added at
the end of `register` (their handlers import the FEC package when they run).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np

from semcom.cli.channel_fec import register_channel_commands
from semcom.cli.flags import add_simulated_channel_arguments, positive_int
from semcom.link.types import CHANNEL_MODELS, MODULATIONS, ChannelConfig

BER_CHUNK_BITS = 1 << 22  # bits simulated per call, bounds memory for long runs


def _ber_row(cfg: Any, n_bits: int, rng: Any, sigmas: float) -> dict[str, Any]:
    """Simulate `n_bits` uniform random bits over `cfg` and compare with the closed form.

    Standard error of the error count: binomial with the closed-form p for AWGN and BSC (bits
    err independently); for Rayleigh block fading errors cluster within a fading block, so it is
    the empirical spread of per-block error counts (cluster-robust), never below the binomial one.
    """
    from semcom.link.transmission import transmit_bits
    from semcom.phy.theory import ber_qam_awgn, ber_qam_rayleigh

    k = MODULATIONS[cfg.modulation]
    esn0_db, ebn0_db = cfg.snr_pair
    theory = float(ber_qam_rayleigh(k, ebn0_db) if cfg.model == "rayleigh" else ber_qam_awgn(k, ebn0_db))
    block_bits = cfg.fading_block_length * k if cfg.model == "rayleigh" else k
    chunk = max(block_bits, BER_CHUNK_BITS // block_bits * block_bits)
    errors, block_errors = 0, []
    for start in range(0, n_bits, chunk):
        bits = rng.integers(0, 2, size=min(chunk, n_bits - start), dtype=np.uint8)
        result = transmit_bits(bits, cfg, rng)
        errors += result.bit_errors
        if cfg.model == "rayleigh":
            wrong = result.rx_bits != bits
            pad = -wrong.size % block_bits
            block_errors.append(np.pad(wrong, (0, pad)).reshape(-1, block_bits).sum(axis=1))
    sd = math.sqrt(n_bits * theory * (1.0 - theory))
    if block_errors:
        per_block = np.concatenate(block_errors)
        if per_block.size > 1:
            sd = max(sd, math.sqrt(per_block.size) * float(np.std(per_block, ddof=1)))
    expected = n_bits * theory
    z = (errors - expected) / sd if sd > 0 else (0.0 if errors == expected else math.inf)
    return {
        "esn0_db": round(esn0_db, 6),
        "ebn0_db": round(ebn0_db, 6),
        "bits": n_bits,
        "errors": errors,
        "ber": errors / n_bits,
        "ber_theory": theory,
        "expected_errors": expected,
        "sd_errors": sd,
        "z": z,
        "ber_band": [max(0.0, (expected - sigmas * sd) / n_bits), (expected + sigmas * sd) / n_bits],
        "within_band": abs(z) <= sigmas,
    }


def ber_sweep(
    modulation: str,
    model: str,
    snrs_db: list[float],
    convention: str,
    n_bits: int,
    seed: int | None,
    sigmas: float,
    block_length: int,
    soft: bool,
) -> dict[str, Any]:
    """BER versus SNR, one independent random stream per SNR point (`SeedSequence.spawn`)."""
    if n_bits < 1:
        raise ValueError(f"--bits must be >= 1, got {n_bits}")
    if not sigmas > 0:
        raise ValueError(f"--sigmas must be > 0, got {sigmas}")
    streams = np.random.SeedSequence(seed).spawn(len(snrs_db))
    rows = []
    for snr_db, stream in zip(snrs_db, streams):
        cfg = ChannelConfig(
            snr_db=float(snr_db),
            snr_convention=convention,
            modulation=modulation,
            model=model,
            fading_block_length=block_length,
            soft_demapping=soft,
        )
        rows.append(_ber_row(cfg, n_bits, np.random.default_rng(stream), sigmas))
    return {
        "modulation": modulation,
        "channel": model,
        "snr_convention": convention,
        "bits_per_point": n_bits,
        "seed": seed,
        "sigmas": sigmas,
        "fading_block_length": block_length if model == "rayleigh" else None,
        "demapping": "exact-llr-sign" if soft else "hard",
        "rows": rows,
    }


def _cmd_ber(args: argparse.Namespace) -> int:
    if args.esn0_db is not None:
        snrs, convention = args.esn0_db, "esn0"
    else:
        snrs, convention = args.ebn0_db if args.ebn0_db is not None else [0, 2, 4, 6, 8, 10], "ebn0"
    try:
        result = ber_sweep(
            args.modulation,
            args.channel_model,
            snrs,
            convention,
            args.bits,
            args.seed,
            args.sigmas,
            args.fading_block_length,
            args.soft,
        )
    except ValueError as exc:
        print(f"semcom channel ber: {exc}")
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['modulation']} over {result['channel']}, {args.bits} bits per point, seed {args.seed}, "
            f"band = theory +/- {args.sigmas:g} standard errors"
        )
        print(f"{'Es/N0':>7} {'Eb/N0':>7} {'errors':>9} {'BER':>11} {'theory':>11} {'z':>7}  band")
        for r in result["rows"]:
            lo, hi = r["ber_band"]
            print(
                f"{r['esn0_db']:7.2f} {r['ebn0_db']:7.2f} {r['errors']:9d} {r['ber']:11.4e} {r['ber_theory']:11.4e} "
                f"{r['z']:7.2f}  [{lo:.4e}, {hi:.4e}] {'ok' if r['within_band'] else 'OUTSIDE'}"
            )
    return 0 if all(r["within_band"] for r in result["rows"]) else 1


def run_modem_bench(args: argparse.Namespace) -> int:
    """`semcom channel bench` (and `semcom bench channel`, the same flags): the modem benchmark."""
    from semcom.phy.benchmark import run_channel_bench

    try:
        result = run_channel_bench(repeats=args.repeats, ebn0_db=args.ebn0_db, seed=args.seed)
    except ValueError as exc:
        print(f"semcom channel bench: {exc}")
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    w = result["workload"]
    print(
        f"16-QAM modulate + AWGN + hard demod, {w['payload']} ({w['bits']} bits), Eb/N0 {w['ebn0_db']:g} dB, "
        f"median of {w['repeats']}"
    )
    for name, r in result["implementations"].items():
        if not r["available"]:
            print(f"  {name:<16} unavailable: {r['reason']}")
            continue
        ratio, ratio_cpu = result["speedup_of_semcom"].get(name), result["speedup_of_semcom_cpu_time"].get(name)
        extra = f"  semcom {ratio:.1f}x faster (cpu time {ratio_cpu:.1f}x)" if ratio else ""
        print(
            f"  {name:<16} {r['seconds'] * 1e3:9.2f} ms  {r['ms_per_mbit']:9.2f} ms/Mbit  "
            f"(cpu {r['cpu_seconds'] * 1e3:8.2f} ms)  BER {r['ber']:.3e}{extra}"
        )
    print(f"  meets targets (wall): {result['meets_targets']}  (cpu time): {result['meets_targets_cpu_time']}")
    return 0


def add_modem_bench_arguments(p: argparse.ArgumentParser) -> None:
    """The modem benchmark's flags (`semcom channel bench`, `semcom bench channel`)."""
    p.add_argument("--repeats", type=positive_int, default=5, help="timed runs per implementation, median (default 5)")
    p.add_argument("--ebn0-db", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("channel", help="modem/channel checks: BER vs theory, speed benchmark")
    channel_subparsers = parser.add_subparsers(dest="channel_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)

    ber = channel_subparsers.add_parser("ber", help="simulated BER per SNR against the closed form")
    ber.add_argument("--modulation", choices=tuple(MODULATIONS), default="16qam")
    add_simulated_channel_arguments(ber, tuple(m for m in CHANNEL_MODELS if m != "none"))
    snr = ber.add_mutually_exclusive_group()
    snr.add_argument("--ebn0-db", type=float, nargs="+", help="Eb/N0 points in dB (default 0 2 4 6 8 10)")
    snr.add_argument("--esn0-db", type=float, nargs="+", help="Es/N0 points in dB")
    ber.add_argument("--bits", type=int, default=1_000_000, help="bits simulated per SNR point")
    ber.add_argument("--seed", type=int, help="seed (default: fresh randomness)")
    ber.add_argument("--sigmas", type=float, default=5.0, help="acceptance band half-width in standard errors")
    ber.add_argument("--soft", action="store_true", help="decide bits by the sign of exact LLRs")
    ber.add_argument("--json", action="store_true", help="machine-readable output")
    ber.set_defaults(func=_cmd_ber)

    bench = channel_subparsers.add_parser("bench", help="time our 16-QAM modem against commpy and Sionna")
    add_modem_bench_arguments(bench)
    bench.set_defaults(func=run_modem_bench)

    # ---- the FEC subcommands: `semcom channel bler`, `semcom channel mcs`, `bench --fec` ---------
    register_channel_commands(channel_subparsers)
