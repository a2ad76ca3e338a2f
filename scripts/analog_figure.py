"""The README's analog figure: SSIM against Es/N0 at equal airtime, analog latent, SoftCast on
pixels and WebP + LDPC/AMC, one panel per (channel, airtime), with the int8 latent (int8g + sMMSE,
uncoded, 4x / 16x the airtime) as a reference where a committed run has it.

    python scripts/analog_figure.py --runs docs/results/analog/awgn docs/results/analog/rayleigh \
        --int8 docs/results/baselines/awgn75 docs/results/baselines/rayleigh --out docs/results/analog/ssim_vs_esn0

Reads each run's aggregate.csv (means and 95% CIs over the run's photos); writes OUT.png and OUT.svg.
"""

from __future__ import annotations

import argparse
import csv
from fractions import Fraction
from pathlib import Path

INT8 = "int8g:pc:p99.9:smmse"


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "aggregate.csv").open() as handle:
        return list(csv.DictReader(handle))


def _frac(variant: str) -> Fraction | None:
    for part in variant.split(":"):
        if part.startswith("frac="):
            return Fraction(part[5:])
    return None


def _channel(run: Path) -> str:
    import json

    config = run / "config.json"  # older committed runs have none: their folder is named after the channel
    return str(json.loads(config.read_text()).get("channel", run.name)) if config.is_file() else run.name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, nargs="+", required=True)
    p.add_argument("--int8", type=Path, nargs="*", default=[], help="runs holding the int8 latent (same channel)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "semcom"
    runs = {_channel(r): _rows(r) for r in args.runs}
    int8 = {_channel(r): [x for x in _rows(r) if x["variant"] == INT8] for r in args.int8}
    fracs = sorted({_frac(x["variant"]) for rows in runs.values() for x in rows} - {None}, reverse=True)
    fig, axes = plt.subplots(
        len(runs), len(fracs), figsize=(5.2 * len(fracs), 3.8 * len(runs)), squeeze=False, sharey=True
    )
    styles = {"analog": ("tab:red", "o"), "softcast": ("tab:orange", "s"), "webp": ("tab:blue", "^")}
    for i, (channel, rows) in enumerate(runs.items()):
        n = max(int(x["n_images"]) for x in rows)
        for j, frac in enumerate(fracs):
            ax = axes[i][j]
            variants = list(dict.fromkeys(x["variant"] for x in rows if _frac(x["variant"]) == frac))
            seen: dict[str, int] = {}  # variants of each family so far: their line styles differ
            for variant in variants:
                pts = sorted(
                    (float(x["snr_db"]), float(x["ssim_mean"]), float(x["ssim_ci95"] or "nan"))
                    for x in rows
                    if x["variant"] == variant
                )
                family = variant.split(":")[0]
                color, marker = styles.get(family, ("tab:gray", "x"))
                seen[family] = seen.get(family, -1) + 1
                style = ("-", "--", "-.", ":")[seen[family] % 4]
                ax.errorbar(
                    [q[0] for q in pts],
                    [q[1] for q in pts],
                    yerr=[q[2] for q in pts],
                    color=color,
                    marker=marker,
                    linestyle=style,
                    markersize=4,
                    capsize=2,
                    label=variant,
                )
            if int8.get(channel):
                pts = sorted((float(x["snr_db"]), float(x["ssim_mean"])) for x in int8[channel])
                ax.plot(
                    [q[0] for q in pts],
                    [q[1] for q in pts],
                    color="tab:gray",
                    linestyle=":",
                    marker="D",
                    markersize=3,
                    label=f"int8 latent, uncoded ({int(1 / frac)}x this airtime, "
                    f"{max(int(x['n_images']) for x in int8[channel])} photos)",
                )
            ax.set_title(f"{channel}, {frac} of the int8 airtime ({n} photos)", fontsize=9)
            ax.set_xlabel("Es/N0 (dB)")
            if j == 0:
                ax.set_ylabel("SSIM")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "svg"):
        fig.savefig(args.out.with_suffix(f".{ext}"), dpi=110)
    print(args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
