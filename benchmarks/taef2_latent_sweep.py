"""Latent-domain sweep on a real codec: how far each latent variant lands from the sent latent.

No decoder runs, so every variant x SNR x image costs milliseconds to seconds instead of a
512x512 decode: this is how the variants in docs/results/taef2_k0.md were chosen, on more images
than the decoded table could afford. Per (image, variant, Eb/N0) it sends the packet the sweep
would send over the shared pipeline's link (`Pipeline.link` of the sweep's pipeline, with the
channel seed the `semcom eval` cell uses, `semcom.pipeline.seeds.channel_seed`, so the received bits are identical),
applies the variant's receiver treatment and measures the MSE of what the decoder sees: TAEF2
soft-clamps its input to 3 tanh(x / 3), so the error is measured after that clamp.

    .venv/bin/python benchmarks/taef2_latent_sweep.py --limit 25 \\
        --csv docs/results/taef2_latent_mse.csv --md docs/results/taef2_latent_mse.md

Latents are cached in --cache (a `semcom eval` run directory works: same file layout and seeds).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VARIANTS = (
    "float64:authors",
    "float64",
    "float32",
    "float16",
    "float16:nb",
    "int8",
    "int8:pc:p99.9",
    "int8g:pc:p99.9",
    "int8g:pc:p99.9:nb",
    "int8g:pc:p99.9:mmse",
    "int8g:pc:p99.9:smmse",
    "int6g:pc:p99.9:smmse",
    "int4g:pc:p99.9:smmse",
)


def soft_clamp(x: np.ndarray) -> np.ndarray:
    """The TAEF2 decoder's first layer, 3 tanh(x / 3)."""
    return 3.0 * np.tanh(np.asarray(x, dtype=np.float64) / 3.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "flickr8k"))
    parser.add_argument("--profile", default="taef2", help="model profile (default taef2, the packaged codec)")
    parser.add_argument("--cache", default=str(REPO / "runs" / "taef2_k0"), help="run directory holding cache/latents")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snr-db", type=float, nargs="+", default=[float(s) for s in range(13)])
    parser.add_argument("--encodings", nargs="+", default=list(DEFAULT_VARIANTS))
    parser.add_argument("--csv", default=None)
    parser.add_argument("--md", default=None)
    args = parser.parse_args(argv)

    import torch

    from semcom.eval.aggregate import summarize, write_csv
    from semcom.eval.dataset import load_dataset, load_image
    from semcom.eval.grid import Cell, parse_variants
    from semcom.eval.sweep import Sweep
    from semcom.eval.sweep_config import SweepConfig
    from semcom.link.repair import position_ber, repaired_latent
    from semcom.link.types import ChannelConfig
    from semcom.pipeline.seeds import channel_seed, repair_seed

    torch.set_num_threads(2)
    variants = parse_variants(args.encodings)
    cfg = SweepConfig(
        data=args.data,
        out=args.cache,
        profile=args.profile,
        caption_source="dataset",
        modes=("latent",),
        encodings=tuple(v.spec for v in variants),
        snr_db=tuple(args.snr_db),
        size=args.size,
        seed=args.seed,
        limit=args.limit,
        metrics=(),
        grid_images=0,
    )
    sweep = Sweep(cfg)
    codec = sweep.models.encoder().info
    items = load_dataset(cfg.data, None, cfg.limit)
    errors: dict[tuple[str, float], list[float]] = {}
    payload_bytes: dict[str, int] = {}
    start = time.perf_counter()
    for number, item in enumerate(items, start=1):
        image = load_image(item)
        clean = sweep.latent_of(item, image)
        target = soft_clamp(clean)
        for variant in variants:
            packet = sweep.packet(clean, variant, item.caption or "", image)
            payload_bytes[variant.spec] = len(packet.latent.data)
            for snr in cfg.snr_db:
                cell = Cell("latent", variant.spec, float(snr), 0)
                channel = ChannelConfig(
                    snr_db=float(snr),
                    snr_convention=cfg.snr_convention,
                    modulation=cfg.modulation,
                    model=cfg.channel,
                    latent_policy="always",
                )
                received, _, _ = sweep.pipeline.link(packet, channel, channel_seed(cfg.seed, item.name, cell.key))
                rng = np.random.default_rng(repair_seed(cfg.seed, item.name, cell.key))
                bers = np.array(position_ber(float(snr), cfg.snr_convention, cfg.modulation, cfg.channel))
                got = repaired_latent(received.latent, codec, variant.repair, rng, bers)
                errors.setdefault((variant.spec, float(snr)), []).append(
                    float(np.mean((soft_clamp(got.values) - target) ** 2))
                )
        print(f"[{number}/{len(items)}] {item.name} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)

    rows = []
    for (spec, snr), values in errors.items():
        stat = summarize(values)
        rows.append(
            {
                "variant": spec,
                "snr_db": snr,
                "payload_bytes": payload_bytes[spec],
                "n_images": stat.n,
                "mse_mean": stat.mean,
                "mse_ci95": stat.ci95,
            }
        )
    snrs = sorted({r["snr_db"] for r in rows})
    cell = {(r["variant"], r["snr_db"]): r for r in rows}
    lines = [
        f"Decoder-input latent MSE, mean over {len(items)} images (± 95% CI half-width):",
        "",
        "| variant | payload bytes | " + " | ".join(f"{s:g} dB" for s in snrs) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in snrs) + " |",
    ]
    for v in variants:
        vals = [cell[(v.spec, s)] for s in snrs]
        lines.append(
            f"| {v.spec} | {payload_bytes[v.spec]:,} | "
            + " | ".join(
                f"{r['mse_mean']:.4f}" + ("" if math.isnan(r["mse_ci95"]) else f" ± {r['mse_ci95']:.4f}") for r in vals
            )
            + " |"
        )
    variance = float(np.mean([np.var(soft_clamp(sweep.latent_of(i, load_image(i)))) for i in items]))
    lines += [
        "",
        f"(Variance of the clean decoder input, mean over the images: {variance:.4f}: an MSE above it is "
        "worse than sending no latent at all and decoding its mean.)",
    ]
    text = "\n".join(lines)
    print(text)
    if args.csv:
        write_csv(Path(args.csv), rows, ["variant", "snr_db", "payload_bytes", "n_images", "mse_mean", "mse_ci95"])
    if args.md:
        Path(args.md).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
