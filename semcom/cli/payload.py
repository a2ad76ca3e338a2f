"""`semcom payload`: Table 1 of the paper (payload bytes, bits, channel symbols), and with
`--bit-errors` the MSE of every latent encoding under random bit flips."""

from __future__ import annotations

import argparse
import json
import sys


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape like 4x64x64, got {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "payload",
        help="payload sizes (Table 1 of the paper) and bit-error robustness of latent encodings",
        description="Print Table 1: bytes, bits and channel symbols of the image, caption and latent "
        "in every encoding, with ratios to the float64 and 8-bit image. With --bit-errors, measure "
        "the latent MSE of every encoding under independent bit flips instead.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--image-size", type=int, default=512, help="image side in pixels (default 512)")
    p.add_argument("--image-channels", type=int, default=3, help="image channels (default 3, RGB)")
    p.add_argument("--latent-channels", type=int, default=4, help="latent channels (default 4, SD v1.5 VAE)")
    p.add_argument("--downsample", type=int, default=8, help="VAE spatial downsampling factor (default 8)")
    p.add_argument("--latent-shape", type=_shape, help="explicit latent shape, e.g. 16x64x64 (overrides the above)")
    p.add_argument("--caption-chars", type=int, default=77, help="caption length in characters (default 77)")
    p.add_argument("--modulation", default="16qam", help="modulation for the symbol count (default 16qam)")
    p.add_argument("--encodings", nargs="+", help="latent encodings (default: all)")
    p.add_argument("--per-channel", action="store_true", help="count per-channel quantisation side bytes")
    g = p.add_argument_group("bit-error experiment (--bit-errors)")
    g.add_argument("--bit-errors", action="store_true", help="run the bit-error MSE experiment")
    g.add_argument("--source", default="gaussian", help="synthetic unit-variance latent: gaussian | laplace | uniform")
    g.add_argument("--ber", type=float, nargs="+", help="bit error rates (default 1e-4 1e-3 1.75e-3 1e-2 4.2e-2)")
    g.add_argument("--trials", type=int, default=16, help="noisy copies per encoding and BER (default 16)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--valid-range", type=float, default=8.0, help="codec valid range +-R for sanitising (default 8)")
    g.add_argument("--out-of-range", default="clamp", help="sanitising of out-of-range values: clamp | fill")
    g.add_argument("--percentile", type=float, default=100.0, help="clip percentile, uniform encodings (100: min/max)")
    p.set_defaults(func=run)


def _latent_shape(args: argparse.Namespace) -> tuple[int, ...]:
    if args.latent_shape:
        return args.latent_shape
    if args.downsample < 1 or args.image_size % args.downsample:
        raise ValueError(
            f"--image-size {args.image_size} must be a positive multiple of --downsample {args.downsample}"
        )
    side = args.image_size // args.downsample
    return (args.latent_channels, side, side)


def run(args: argparse.Namespace) -> int:
    try:
        return _bit_errors(args) if args.bit_errors else _table(args)
    except ValueError as exc:
        print(f"semcom payload: error: {exc}", file=sys.stderr)
        return 2


def _table(args: argparse.Namespace) -> int:
    from semcom.payload.table import format_table, payload_table, table_dict

    rows = payload_table(
        image_size=args.image_size,
        image_channels=args.image_channels,
        latent_shape=_latent_shape(args),
        caption_chars=args.caption_chars,
        modulation=args.modulation,
        encodings=args.encodings,
        per_channel=args.per_channel,
    )
    if args.json:
        print(json.dumps(table_dict(rows, modulation=args.modulation), indent=2))
    else:
        print(format_table(rows, modulation=args.modulation))
    return 0


def _bit_errors(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    import numpy as np

    from semcom.payload.latent import ENCODINGS
    from semcom.payload.packet import CodecInfo
    from semcom.payload.robustness import PAPER_BERS, bit_error_mse, synthetic_latent
    from semcom.pipeline.seeds import derive_seed

    if not args.valid_range > 0:
        raise ValueError(f"--valid-range must be positive, got {args.valid_range}")
    shape = _latent_shape(args)
    x = synthetic_latent(shape, args.source, np.random.default_rng(args.seed))
    codec = CodecInfo(name=f"synthetic-{args.source}", valid_min=-args.valid_range, valid_max=args.valid_range)
    results = bit_error_mse(
        x,
        args.encodings or tuple(ENCODINGS),
        args.ber or PAPER_BERS,
        trials=args.trials,
        seed=derive_seed(args.seed, "bit-flips"),  # a stream of its own, apart from the latent's
        codec=codec,
        out_of_range=args.out_of_range,
        percentile=args.percentile,
    )
    if args.json:
        meta = {"source": args.source, "shape": list(shape), "trials": args.trials, "seed": args.seed}
        meta |= {"valid_range": args.valid_range, "out_of_range": args.out_of_range, "percentile": args.percentile}
        print(json.dumps({**meta, "results": [asdict(r) for r in results]}, indent=2))
        return 0
    bers = sorted({r.ber for r in results})
    print(
        f"latent MSE under independent bit flips: {args.source} N={x.size} (variance 1), "
        f"{args.trials} trials, codec range +-{args.valid_range:g}, out-of-range: {args.out_of_range}, "
        f"clip percentile {args.percentile:g}"
    )
    print(f"{'encoding':<9} {'bits':>4} {'no errors':>10} " + " ".join(f"{'BER ' + format(b, 'g'):>12}" for b in bers))
    by_name: dict[str, dict[float | str, float]] = {}  # BER -> MSE, and "clean", "bits"
    for r in results:
        by_name.setdefault(r.encoding, {"clean": r.mse_clean, "bits": r.bits_per_value})[r.ber] = r.mse
    for name, row in by_name.items():
        cells = " ".join(f"{row[b]:12.3e}" for b in bers)
        print(f"{name:<9} {row['bits']:>4} {row['clean']:10.2e} {cells}")
    return 0
