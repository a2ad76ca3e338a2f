"""`semcom channel bler`, `semcom channel mcs` and `semcom channel bench --fec`: the FEC/AMC parts
of `semcom channel`.

`semcom.cli.channel` calls `register_channel_commands(channel_subparsers)`; handlers import the
heavy parts (torch, Sionna) only when they run. The CLI of the FEC package lives with the rest of
the CLI (semcom.cli), above the package it drives.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.cli.flags import add_simulated_channel_arguments, positive_int
from semcom.cli.loadtest import progress_printer
from semcom.fec import amc, bler, bler_sweep, ldpc, mcs, segmentation
from semcom.fec.bench import DEFAULT_POINTS, format_fec_bench, parse_point, run_fec_bench


def register_channel_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `bler` and `mcs` to the `semcom channel` subcommands, and `--fec` to `bench`."""
    _add_fec_bench(subparsers)
    p = subparsers.add_parser(
        "bler",
        help="Monte-Carlo BLER of each MCS vs Es/N0 (writes the table AMC uses)",
        description="Simulate 5G LDPC + Gray QAM + AWGN or Rayleigh block fading + max-log LLR per MCS and "
        "block length; write the BLER table (JSON) that `SEMCOM_BLER_TABLE` / AMC reads.",
    )
    add_simulated_channel_arguments(p, model_help="channel model; rayleigh: block fading, perfect CSI, average Es/N0")
    p.add_argument(
        "--esn0-db",
        type=_esn0_item,
        nargs="+",
        default=["-3:22:0.25"],
        metavar="DB|START:STOP:STEP",
        help="Es/N0 grid in dB: numbers and/or start:stop:step ranges (stop included), merged and "
        "sorted; a range starting below 0 is written --esn0-db=-3:22:0.25 (default -3:22:0.25)",
    )
    p.add_argument(
        "--mcs",
        type=_mcs_item,
        nargs="+",
        default=["all"],
        metavar="MCS",
        help="'all' or MCS names (see `semcom channel mcs`) (default all)",
    )
    p.add_argument(
        "--k",
        type=_k_item,
        nargs="+",
        default=list(bler_sweep.DEFAULT_KS),
        metavar="K",
        help=f"block lengths k (info bits incl. CRC), distinct, in [12, 8448] (default {' '.join(map(str, bler_sweep.DEFAULT_KS))})",
    )
    p.add_argument(
        "--blocks",
        type=positive_int,
        nargs="+",
        metavar="N",
        help="most blocks per point: one value, or one per --k (default 300 for k <= 3840, 60 above)",
    )
    p.add_argument(
        "--min-errors",
        type=positive_int,
        nargs="+",
        metavar="N",
        help="end a point after this many block errors: one value, or one per --k (default 20 for k <= 3840, 10 above)",
    )
    p.add_argument(
        "--jobs", type=int, default=1, help="curves measured in parallel worker processes (default %(default)s)"
    )
    p.add_argument(
        "--stop-after-zero",
        type=int,
        default=1,
        help="end a curve after this many error-free points (default %(default)s)",
    )
    p.add_argument("--num-iter", type=int, default=20, help="LDPC belief-propagation iterations (default %(default)s)")
    p.add_argument(
        "--decoder",
        choices=("minsum", "sionna"),
        help="LDPC decoder (default: SEMCOM_FEC_DECODER, i.e. minsum); recorded in the table",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="output JSON table")
    p.add_argument(
        "--merge",
        action="store_true",
        help="merge into --out if it exists (replacing curves of the same channel, MCS and k)",
    )
    p.add_argument("--json", action="store_true", help="print the table as JSON instead of text")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-point progress on stderr")
    p.set_defaults(func=_cmd_bler)

    p = subparsers.add_parser(
        "mcs",
        help="the MCS table, and the AMC choice at an Es/N0",
        description="List the MCS table with the Es/N0 each needs for the field's BLER target; "
        "with --esn0-db, show what AMC picks for a field of --bits bits (or that it drops it).",
    )
    p.add_argument("--esn0-db", type=float, help="Es/N0 in dB per channel symbol: show the AMC choice")
    p.add_argument("--field", choices=("caption", "latent"), default="latent")
    p.add_argument("--bits", type=int, help="information bits of the field (default: 616 caption, 1048576 latent)")
    p.add_argument("--budget", type=int, help="airtime budget in channel symbols (default: none)")
    p.add_argument("--target-bler", type=float, help="segment BLER target (default: the field's setting)")
    p.add_argument("--table", type=Path, help="BLER table JSON (default: SEMCOM_BLER_TABLE or the packaged one)")
    add_simulated_channel_arguments(
        p,
        ("awgn", "rayleigh", "bsc", "none"),
        "the link's channel model: rayleigh reads the fading curves for the field's interleaved codewords "
        "(semcom.fec.amc.link_channel), the others AWGN's",
    )
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_cmd_mcs)


_MAX_GRID_POINTS = 10_000  # one range item may not ask for more Es/N0 points than this


def _esn0_item(text: str) -> str:
    """One item of --esn0-db: a number of dB or a start:stop:step range (stop included), each value
    in [-20, 60] dB; returned as written (the sweep's command line records it)."""
    text = text.strip()
    try:
        values = [float(part) for part in text.split(":")]
        if len(values) not in (1, 3):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of dB or START:STOP:STEP, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite values, got {text!r}")
    if len(values) == 3:
        start, stop, step = values
        if not step > 0 or stop < start:
            raise argparse.ArgumentTypeError(f"range {text!r} needs STEP > 0 and STOP >= START")
        if (stop - start) / step + 1 > _MAX_GRID_POINTS:
            raise argparse.ArgumentTypeError(f"range {text!r} has more than {_MAX_GRID_POINTS} points")
        values = [start, stop]
    if min(values) < -20 or max(values) > 60:
        raise argparse.ArgumentTypeError(f"Es/N0 must be in [-20, 60] dB, got {text!r}")
    return text


def _mcs_item(text: str) -> str:
    """One item of --mcs: 'all' or an MCS name of the table."""
    text = text.strip()
    if text.lower() == "all":
        return "all"
    try:
        return mcs.get(text).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _k_item(text: str) -> int:
    """One item of --k: a block length in [12, 8448] information bits (incl. CRC)."""
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 12 <= k <= 8448:
        raise argparse.ArgumentTypeError(f"k must be in [12, 8448], got {text!r}")
    return k


def _grid(items: list[str]) -> NDArray[np.float64]:
    """The Es/N0 grid of --esn0-db items: every number and range point, sorted, without repeats."""
    return np.unique(np.concatenate([bler_sweep.parse_grid(item) for item in items]))


def _mcs_list(items: list[str]) -> list[mcs.Mcs]:
    if "all" in items:
        if len(items) > 1:
            raise ValueError(f"--mcs all cannot be combined with MCS names, got {' '.join(items)}")
        return list(mcs.MCS_TABLE)
    if len(set(items)) != len(items):
        raise ValueError(f"--mcs values must be distinct, got {' '.join(items)}")
    return [mcs.get(name) for name in items]


def _parse_ks(values: list[int]) -> list[int]:
    ks = values or []
    if len(set(ks)) != len(ks):
        raise ValueError(f"--k values must be distinct, got {' '.join(map(str, ks))}")
    return ks


def _per_k_ints(values: list[int] | None, ks: list[int], flag: str, short: int, long: int) -> list[int]:
    """Values of a per-k option; None gives `short` for caption-sized blocks and `long` above
    (a long block costs ~25x more to simulate and its waterfall is far steeper)."""
    if values is None:
        return [short if k <= segmentation.SINGLE_SEGMENT_BITS else long for k in ks]
    if len(values) == 1:
        values = values * len(ks)
    if len(values) != len(ks):
        raise ValueError(f"{flag} needs one value or one per --k value ({len(ks)}), got {' '.join(map(str, values))}")
    return values


def _cmd_bler(args: argparse.Namespace) -> int:
    try:
        ks = _parse_ks(args.k)
        if args.num_iter <= 0 or args.stop_after_zero <= 0 or args.jobs <= 0:
            raise ValueError("--num-iter, --stop-after-zero and --jobs must be positive")
        channel = bler.channel_key(args.channel_model, args.fading_block_length)
        existing = bler.BlerTable.load(args.out) if args.merge and args.out.exists() else None
        if args.decoder is not None:  # read by ldpc.decode here and in the worker processes
            os.environ["SEMCOM_FEC_DECODER"] = args.decoder
        table = bler_sweep.sweep(
            _mcs_list(args.mcs or []),
            ks,
            _grid(args.esn0_db or []),
            seed=args.seed,
            max_blocks=_per_k_ints(args.blocks, ks, "--blocks", 300, 60),
            min_errors=_per_k_ints(args.min_errors, ks, "--min-errors", 20, 10),
            num_iter=args.num_iter,
            stop_after_zero=args.stop_after_zero,
            verbose=not args.quiet,
            command=_bler_command(args),
            jobs=args.jobs,
            channel=channel,
        )
    except ValueError as exc:  # bad arguments are found before any simulation runs
        print(f"semcom channel bler: {exc}", file=sys.stderr)
        return 2
    if existing is not None:
        table = existing.merged(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.save(args.out)
    if args.json:
        print(json.dumps(table.to_dict(), indent=1))
    else:
        print(format_bler_table(table))
        print(f"wrote {args.out}")
    return 0


def _esn0_words(items: list[str]) -> list[str]:
    """--esn0-db as command-line words that parse back to the same items: `--esn0-db=ITEM` for one
    item; for several, a range starting below zero (which argparse would take for an option) is
    written out as its points."""
    if len(items) == 1:
        return [f"--esn0-db={items[0]}"]
    words = []
    for item in items:
        if item.startswith("-") and ":" in item:
            words += [np.format_float_positional(x, trim="-") for x in bler_sweep.parse_grid(item)]
        else:
            words.append(item)
    return ["--esn0-db", *words]


def _bler_command(args: argparse.Namespace) -> str:
    """The canonical command line that reproduces this sweep (recorded in the table), in the
    space-separated list syntax."""
    ks = _parse_ks(args.k)
    words = ["semcom", "channel", "bler", "--channel-model", args.channel_model]
    if args.channel_model == "rayleigh":
        words += ["--fading-block-length", str(args.fading_block_length)]
    words += _esn0_words(args.esn0_db or [])
    for flag, values in (
        ("--mcs", args.mcs or []),
        ("--k", ks),
        ("--blocks", _per_k_ints(args.blocks, ks, "--blocks", 300, 60)),
        ("--min-errors", _per_k_ints(args.min_errors, ks, "--min-errors", 20, 10)),
        ("--jobs", [args.jobs]),
        ("--stop-after-zero", [args.stop_after_zero]),
        ("--num-iter", [args.num_iter]),
        ("--decoder", [ldpc.decoder_name(args.decoder)]),
        ("--seed", [args.seed]),
        ("--out", [args.out]),
    ):
        words += [flag, *map(str, values)]
    return shlex.join(words + (["--merge"] if args.merge else []))


def format_bler_table(table: bler.BlerTable) -> str:
    """Text rendering: one line per curve, BLER per simulated Es/N0 point."""
    lines = []
    for curve in table.curves:
        pts = ", ".join(f"{x:g}:{b:.3g}" for x, b in zip(curve.esn0_db, curve.bler))
        lines.append(f"{curve.channel:14s} {curve.mcs:12s} k={curve.k:<5d} n={curve.n:<6d} Es/N0 dB:BLER  {pts}")
    return "\n".join(lines)


def _cmd_mcs(args: argparse.Namespace) -> int:
    try:
        table = bler.BlerTable.load(args.table) if args.table else bler.default_table()
        bits = args.bits if args.bits is not None else (616 if args.field == "caption" else 1_048_576)
        plan = segmentation.plan(bits)
        target = amc.target_bler(args.field) if args.target_bler is None else args.target_bler
        channel = amc.link_channel(args.channel_model, args.fading_block_length, plan.segments, table, plan.k)
        rows = []
        measured = table.mcs_names(channel)
        if not measured:
            raise ValueError(f"the BLER table has no {channel} curves")
        for m in (mcs.get(name) for name in measured):  # MCS the table lacks are not listed
            curve = table.curve(m.name, plan.k, channel)
            rows.append(
                {
                    "mcs": m.name,
                    "modulation": m.modulation,
                    "rate": str(m.rate),
                    "spectral_efficiency": round(m.spectral_efficiency, 4),
                    "symbols": plan.segments * m.symbols(plan.k),
                    "required_esn0_db": curve.required_esn0_db(target),
                    "table_k": curve.k,
                }
            )
        choice = None
        if args.esn0_db is not None:
            choice = amc.choose(args.esn0_db, args.field, bits, args.budget, target, table, channel)
    except ValueError as exc:
        print(f"semcom channel mcs: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = {
            "field": args.field,
            "info_bits": bits,
            "segments": plan.segments,
            "segment_k": plan.k,
            "target_bler": target,
            "table_channel": channel,
            "mcs": rows,
        }
        if args.esn0_db is not None:
            out["esn0_db"] = args.esn0_db
            out["choice"] = choice.to_dict() if choice else None
        print(json.dumps(out, indent=1))
        return 0
    print(
        f"{args.field}: {bits} info bits -> {plan.segments} segment(s) of k={plan.k} ({plan.crc}); "
        f"segment BLER target {target:g}; BLER curves of channel {channel}"
    )
    print(f"{'mcs':12s} {'SE b/sym':>8s} {'symbols':>9s} {'Es/N0 needed':>13s}")
    for r in rows:
        need = "unreached" if r["required_esn0_db"] == float("inf") else f"{r['required_esn0_db']:.2f} dB"
        print(f"{r['mcs']:12s} {r['spectral_efficiency']:8.3f} {r['symbols']:9d} {need:>13s}")
    if args.esn0_db is not None:
        if choice is None:
            print(f"at Es/N0 {args.esn0_db:g} dB: no MCS meets the target within the budget -> drop")
        else:
            print(
                f"at Es/N0 {args.esn0_db:g} dB: {choice.mcs.name}, {choice.symbols} symbols, "
                f"expected segment BLER {choice.expected_bler:.3g}"
            )
    return 0


def _add_fec_bench(subparsers: argparse._SubParsersAction[Any]) -> None:
    """`semcom channel bench --fec`: the LDPC decoder benchmark (`semcom.fec.bench`) as a mode of
    the modem benchmark `semcom.cli.channel` registers (its --seed and --json apply to both)."""
    bench = subparsers.choices["bench"]
    group = bench.add_argument_group("--fec: LDPC decoders (fast min-sum vs Sionna) on identical LLRs")
    group.add_argument(
        "--fec", action="store_true", help="benchmark the LDPC decoders instead of the modem (semcom.fec.bench)"
    )
    group.add_argument(
        "--points",
        type=_point_item,
        nargs="+",
        metavar="MCS@ESN0_DB",
        default=list(DEFAULT_POINTS),
        help=f"operating points (default {' '.join(f'{m}@{x:g}' for m, x in DEFAULT_POINTS)})",
    )
    group.add_argument("--k", type=int, default=8413, help="info bits per codeword incl. CRC (default %(default)s)")
    group.add_argument("--codewords", type=int, default=125, help="codewords per point (default %(default)s)")
    group.add_argument(
        "--decoders",
        nargs="+",
        default=["minsum", "sionna"],
        help="decoders to compare (default minsum sionna)",
    )
    group.add_argument("--num-iter", type=int, default=20, help="most iterations (default %(default)s)")
    group.add_argument(
        "--fec-repeats", type=int, default=1, help="timed runs per decoder, median (default %(default)s)"
    )
    group.add_argument("--threads", type=int, default=1, help="torch and numba threads (default %(default)s)")
    group.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    add_simulated_channel_arguments(group, model_help="channel of the LLRs")
    modem_bench = bench.get_default("func")
    bench.set_defaults(func=lambda args: _cmd_fec_bench(args) if args.fec else modem_bench(args))


def _point_item(text: str) -> tuple[str, float]:
    """One item of --points: MCS@ESN0_DB."""
    try:
        return parse_point(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_fec_bench(args: argparse.Namespace) -> int:
    try:
        result = run_fec_bench(
            points=args.points,
            k=args.k,
            codewords=args.codewords,
            decoders=tuple(args.decoders or ()),
            num_iter=args.num_iter,
            repeats=args.fec_repeats,
            threads=args.threads,
            seed=args.seed,
            channel=args.channel_model,
            fading_block_length=args.fading_block_length,
            progress=progress_printer(args, "semcom channel bench --fec"),
        )
    except ValueError as exc:
        print(f"semcom channel bench --fec: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_fec_bench(result))
    return 0
