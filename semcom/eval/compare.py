"""Several run directories side by side (e.g. the same sweep on AWGN and on Rayleigh fading): one
figure, SSIM and PSNR against SNR, a column per run, and a Markdown table per run with each series'
SSIM, its outage rate (baselines) and its channel symbols per image.

    python -m semcom.eval.compare OUT_DIR RUN_DIR [RUN_DIR ...] [--label NAME ...]

Each RUN_DIR is aggregated first (as `semcom eval report` does); OUT_DIR gets
`ssim_psnr_vs_snr_runs.png|svg` and `tables.md`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from semcom.eval import plots
from semcom.eval.aggregate import aggregate_run
from semcom.eval.report import table_head
from semcom.eval.store import RunStore


def _label(root: Path, config: dict[str, Any]) -> str:
    channel = config.get("channel", "?")
    if channel == "rayleigh":
        channel += f" (block {config.get('fading_block_length', 128)})"
    return f"{channel}, {root.name}"


def runs_figure(
    runs: Sequence[tuple[str, list[dict[str, Any]], str]], stem: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """SSIM (top) and PSNR (bottom) against SNR, one column per (label, table, snr convention)."""
    plt = plots._pyplot()
    fig, axes = plt.subplots(2, len(runs), figsize=(5.2 * len(runs), 7.0), squeeze=False)
    for col, (label, table, convention) in enumerate(runs):
        rows = [r for r in table if r["mode"] in ("latent", "baseline")]
        names = list(dict.fromkeys(plots.series_name(r) for r in rows))
        for row_index, (metric, title) in enumerate(plots.FIDELITY_PANELS):
            ax = axes[row_index, col]
            for index, name in enumerate(names):
                group = [r for r in rows if plots.series_name(r) == name]
                style = "--" if name.startswith("baseline") else "-"
                marker = plots.MARKERS[index % len(plots.MARKERS)]
                plots._snr_line(ax, name, group, metric, marker, style, 0.12, always=True)
            ax.set_title(f"{title}: {label}", fontsize=9)
            ax.set_xlabel(plots.SNR_LABELS.get(convention, "SNR (dB)"))
            ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    legend_rows = -(-len(labels) // 3)
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.03 + 0.028 * legend_rows, 1, 1))
    return plots._save(fig, Path(stem), formats)


def run_table(table: list[dict[str, Any]], convention: str, metric: str = "ssim", digits: int = 3) -> str:
    """Series x SNR: `metric` mean ± 95% CI, with the outage rate of baselines, and symbols per image."""
    rows = [r for r in table if r["mode"] in ("latent", "baseline")]
    snrs = sorted({r["snr_db"] for r in rows})
    unit = plots.SNR_LABELS.get(convention, "SNR (dB)").split(" ")[0]
    cell = {(plots.series_name(r), r["snr_db"]): r for r in rows}
    lines = table_head("series | symbols / image", "--- | ---:", [f"{s:g} dB {unit}" for s in snrs])
    for name in dict.fromkeys(plots.series_name(r) for r in rows):
        values, symbols = [], []
        for s in snrs:
            r = cell.get((name, s))
            if r is None:
                values.append("")
                continue
            mean, ci = float(r[f"{metric}_mean"]), float(r[f"{metric}_ci95"])
            text = f"{mean:.{digits}f}" + ("" if math.isnan(ci) else f" ± {ci:.{digits}f}")
            if r["mode"] == "baseline":
                text += f" ({100 * float(r['outage_mean']):.0f}% out)"
                symbols.append(float(r["budget_symbols_mean"]))
            else:
                symbols.append(float(r["channel_symbols_mean"]))
            values.append(text)
        lo, hi = min(symbols), max(symbols)
        span = f"{lo:,.0f}" if abs(hi - lo) < 0.5 else f"{lo:,.0f}–{hi:,.0f}"
        lines.append(f"| {name} | {span} | " + " | ".join(values) + " |")
    n = max((int(r["n_images"]) for r in rows), default=0)
    return "\n".join(lines) + f"\n\n({n} images per cell; baselines: budget symbols, latents: symbols sent.)"


def compare(out: Path, run_dirs: Sequence[Path], labels: Sequence[str] | None = None) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs, sections = [], []
    for index, root in enumerate(map(Path, run_dirs)):
        config = RunStore(root).read_json("config.json") or {}
        _, table = aggregate_run(root)
        label = labels[index] if labels and index < len(labels) else _label(root, config)
        convention = config.get("snr_convention", "ebn0")
        runs.append((label, table, convention))
        sections += [
            f"## {label}",
            "",
            f"Command: `{config.get('command', '')}`",
            "",
            "SSIM:",
            "",
            run_table(table, convention),
            "",
            "PSNR (dB):",
            "",
            run_table(table, convention, "psnr", 2),
            "",
        ]
    paths = runs_figure(runs, out / "ssim_psnr_vs_snr_runs")
    tables = out / "tables.md"
    tables.write_text("\n".join(sections), encoding="utf-8")
    return [*paths, tables]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semcom.eval.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--label", action="append", default=None, help="a label per run, in order")
    args = parser.parse_args(argv)
    for path in compare(args.out, args.runs, args.label):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
