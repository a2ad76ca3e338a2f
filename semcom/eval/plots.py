"""Figures of a sweep (matplotlib, Agg backend; PNG and SVG, the image grid JPEG only).

- `metric_vs_snr`: the paper's Fig. 3 layout, one panel per metric (SSIM, LPIPS, CLIP score, FID
  by default) against SNR, one line per series (text only; text+latent per variant at one k;
  latent per variant), the 95% CI as a band. An unavailable metric gets an empty panel that says
  why, never a line at zero.
- `metric_vs_steps`: Fig. 5 as numbers: metric against the executed denoising steps k, one line
  per SNR, for one latent variant.
- `image_grid`: Fig. 4 style: per image and series a row, columns original and each SNR.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PAPER_PANELS: tuple[tuple[str, str], ...] = (
    ("ssim", "SSIM"),
    ("lpips", "LPIPS (AlexNet)"),
    ("clip_caption", "CLIP score (vs caption)"),
    ("fid", "FID"),
)
FIDELITY_PANELS: tuple[tuple[str, str], ...] = (("ssim", "SSIM"), ("psnr", "PSNR (dB)"))
SNR_LABELS = {"ebn0": "Eb/N0 (dB)", "esn0": "Es/N0 (dB)"}
MARKERS = ("o", "s", "^", "D", "v", "x", "P", "*")  # per series, so overlapping lines stay tellable apart


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in SVG: searchable, smaller
    matplotlib.rcParams["svg.hashsalt"] = "semcom"  # stable element ids: committed SVGs diff cleanly

    return plt


def series_name(row: dict[str, Any]) -> str:
    if row["mode"] == "text":
        return "text only"
    if row["mode"] == "latent":
        return f"latent {row['variant']}"
    if row["mode"] in ("baseline", "analog"):
        return f"{row['mode']} {row['variant']}"
    return f"text+latent {row['variant']} (k={row['steps']})"


def default_k(table: list[dict[str, Any]]) -> int | None:
    """The text+latent k shown against SNR: the paper's 30 if swept, else the largest k swept."""
    ks = sorted({int(r["steps"]) for r in table if r["mode"] == "text+latent"})
    if not ks:
        return None
    return 30 if 30 in ks else ks[-1]


def _value(row: dict[str, Any], metric: str) -> tuple[float, float]:
    if metric == "fid":
        return float(row.get("fid", math.nan)), math.nan
    return float(row.get(f"{metric}_mean", math.nan)), float(row.get(f"{metric}_ci95", math.nan))


def _finish_panel(ax: Any, label: str, drawn: bool, xlabel: str, reason: str) -> None:
    """A panel's title, then its x label and grid, or, when nothing was drawn, why it is empty."""
    ax.set_title(label, fontsize=10)
    if drawn:
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        return
    ax.set_xticks([])
    ax.set_yticks([])
    text = f"{label} unavailable\n" + "\n".join(textwrap.wrap(reason or "no data", 38))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, transform=ax.transAxes, color="0.3")


def _save(fig: Any, stem: Path, formats: Sequence[str]) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        options = {"pil_kwargs": {"quality": 85, "optimize": True}} if fmt == "jpg" else {}
        fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None, **options)
        paths.append(path)
    _pyplot().close(fig)
    return paths


def _panel_figure(plt: Any, n: int) -> tuple[Any, Any]:
    """A figure with `n` panels, in one row up to three, else in two columns (axes always 2-D)."""
    nrows, ncols = (1, n) if n <= 3 else (math.ceil(n / 2), 2)
    return plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)


def _hide_unused(axes: Any, used: int) -> None:
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)


def _finish(
    fig: Any, axes: Any, used: int, columns: int, title: str | None, stem: Path, formats: Sequence[str]
) -> list[Path]:
    """The first `used` panels shown, the first panel's legend under the figure in `columns` columns
    (lowered by its row count, which the layout leaves free), the title; the figure saved (`_save`)."""
    _hide_unused(axes, used)
    handles, labels = _first_legend(axes)
    extra = 0.03 * (len(labels) // columns)
    if handles:
        fig.legend(
            handles,
            labels,
            loc="lower center",
            ncol=min(columns, len(labels)),
            fontsize=8,
            bbox_to_anchor=(0.5, -0.02 - extra),
        )
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.06 + extra, 1, 1))
    return _save(fig, Path(stem), formats)


def _first_legend(axes: Any) -> tuple[list[Any], list[str]]:
    """Legend handles and labels of the first panel that has any (the panels share their series)."""
    return next(((h, lab) for h, lab in (a.get_legend_handles_labels() for a in axes.flat) if h), ([], []))


def _unavailable_reason(unavailable: dict[str, str], metric: str) -> str:
    """Why `metric` has no data; the CLIP scores share the caption score's reason."""
    return unavailable.get(metric, unavailable.get("clip_caption", "") if "clip" in metric else "")


def _without_ci(cis: Sequence[float]) -> list[float]:
    return [0 if math.isnan(c) else c for c in cis]


def _snr_series(table: list[dict[str, Any]], k: int | None) -> dict[str, list[dict[str, Any]]]:
    """Rows per series name, text+latent at k only."""
    rows = [r for r in table if r["mode"] != "text+latent" or int(r["steps"]) == k]
    series: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        series.setdefault(series_name(row), []).append(row)
    return series


def _snr_line(
    ax: Any, name: str, group: list[dict[str, Any]], metric: str, marker: str, style: str, alpha: float, always: bool
) -> bool:
    """One series' metric against SNR (line `style`) with its CI band (opacity `alpha`); False, nothing
    drawn, when it has no finite value, unless `always` (the runs figure of `semcom.eval.compare`)."""
    group = sorted(group, key=lambda r: r["snr_db"])
    xs = [r["snr_db"] for r in group]
    ys, cis = zip(*(_value(r, metric) for r in group))
    if not always and all(math.isnan(y) or math.isinf(y) for y in ys):
        return False
    (line,) = ax.plot(xs, ys, style, marker=marker, markersize=4, label=name, markerfacecolor="none")
    lo = [y - c if not math.isnan(c) else y for y, c in zip(ys, cis)]
    hi = [y + c if not math.isnan(c) else y for y, c in zip(ys, cis)]
    ax.fill_between(xs, lo, hi, alpha=alpha, color=line.get_color(), linewidth=0)
    return True


def metric_vs_snr(
    table: list[dict[str, Any]],
    stem: Path,
    panels: Sequence[tuple[str, str]] = PAPER_PANELS,
    unavailable: dict[str, str] | None = None,
    k: int | None = None,
    snr_convention: str = "ebn0",
    title: str | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Fig. 3 style: one panel per metric against SNR; returns the written files."""
    plt = _pyplot()
    unavailable = unavailable or {}
    k = default_k(table) if k is None else k
    series = _snr_series(table, k)
    fig, axes = _panel_figure(plt, len(panels))
    for ax, (metric, label) in zip(axes.flat, panels):
        drawn = False
        for index, (name, group) in enumerate(series.items()):
            style = "--" if name == "text only" else "-"
            drawn = _snr_line(ax, name, group, metric, MARKERS[index % len(MARKERS)], style, 0.15, False) or drawn
        xlabel = SNR_LABELS.get(snr_convention, "SNR (dB)")
        _finish_panel(ax, label, drawn, xlabel, _unavailable_reason(unavailable, metric))
    return _finish(fig, axes, len(panels), 4, title, stem, formats)


def _steps_rows(table: list[dict[str, Any]], variant: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The text+latent rows of `variant` (default: the first text+latent row's) and that variant."""
    rows = [r for r in table if r["mode"] == "text+latent"]
    variant = variant or (rows[0]["variant"] if rows else None)
    return [r for r in rows if r["variant"] == variant], variant


def _steps_panel(ax: Any, by_snr: dict[float, list[dict[str, Any]]], metric: str) -> bool:
    """One errorbar line per SNR of `metric` against k; False when nothing was drawn."""
    drawn = False
    for snr in sorted(by_snr):
        group = sorted(by_snr[snr], key=lambda r: r["steps"])
        ys, cis = zip(*(_value(r, metric) for r in group))
        if all(math.isnan(y) or math.isinf(y) for y in ys):
            continue
        xs = [r["steps"] for r in group]
        ax.errorbar(xs, ys, yerr=_without_ci(cis), marker="o", markersize=3, capsize=2, label=f"{snr:g} dB")
        drawn = True
    return drawn


def metric_vs_steps(
    table: list[dict[str, Any]],
    stem: Path,
    panels: Sequence[tuple[str, str]] = PAPER_PANELS,
    unavailable: dict[str, str] | None = None,
    variant: str | None = None,
    title: str | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Fig. 5 style: metric against executed steps k (text+latent), one line per SNR."""
    plt = _pyplot()
    unavailable = unavailable or {}
    rows, variant = _steps_rows(table, variant)
    by_snr: dict[float, list[dict[str, Any]]] = {}
    for row in rows:
        by_snr.setdefault(row["snr_db"], []).append(row)
    fig, axes = _panel_figure(plt, len(panels))
    for ax, (metric, label) in zip(axes.flat, panels):
        reason = unavailable.get(metric, "") or ("" if rows else "no text+latent cells in this run")
        _finish_panel(ax, label, _steps_panel(ax, by_snr, metric), "denoising steps executed k", reason)
    _hide_unused(axes, len(panels))
    handles, labels = _first_legend(axes)
    if handles:
        fig.legend(
            handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, bbox_to_anchor=(0.5, -0.02)
        )
    fig.suptitle(title or f"text+latent {variant or ''}: metrics against k", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return _save(fig, Path(stem), formats)


def image_grid(
    samples: dict[str, dict[str, Path]],
    originals: dict[str, Path],
    series: Sequence[tuple[str, list[tuple[float, str]]]],
    stem: Path,
    thumb: int = 160,
    snr_convention: str = "ebn0",
    max_columns: int = 6,
) -> list[Path]:
    """Fig. 4 style grid. `samples[image][cell_key]` -> PNG path; `series`: (row label, [(snr, cell_key)]).

    At most `max_columns` SNR columns (evenly spaced over the swept SNRs) keep thumbnails legible.
    """
    from PIL import Image

    plt = _pyplot()
    snrs = sorted({snr for _, cells in series for snr, _ in cells})
    if len(snrs) > max_columns:  # evenly spaced columns, always the lowest and the highest SNR
        snrs = [snrs[round(i * (len(snrs) - 1) / (max_columns - 1))] for i in range(max_columns)]
    images = [name for name in originals if name in samples]
    nrows, ncols = max(1, len(images) * len(series)), 1 + len(snrs)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.6 * nrows), squeeze=False)
    unit = SNR_LABELS.get(snr_convention, "SNR").split(" ")[0]
    for r_img, name in enumerate(images):
        for r_ser, (label, cells) in enumerate(series):
            row = r_img * len(series) + r_ser
            cell_by_snr = dict(cells)
            for col in range(ncols):
                ax = axes[row, col]
                ax.set_xticks([])
                ax.set_yticks([])
                path = originals[name] if col == 0 else samples[name].get(cell_by_snr.get(snrs[col - 1], ""))
                if path is not None and Path(path).is_file():
                    with Image.open(path) as im:
                        ax.imshow(im.convert("RGB").resize((thumb, thumb), Image.Resampling.LANCZOS))
                else:
                    ax.set_facecolor("0.92")
                if row == 0:
                    ax.set_title("original" if col == 0 else f"{snrs[col - 1]:g} dB {unit}", fontsize=7)
                if col == 0:
                    ax.set_ylabel(label, fontsize=6)
    fig.tight_layout(pad=0.3)
    return _save(fig, Path(stem), ("jpg",))  # photographs: JPEG is ~10x smaller than PNG


def baseline_family(row: dict[str, Any]) -> str | None:
    """The rate-distortion line a baseline cell belongs to: its codec and link, any budget rule
    (jpeg, jpeg:frac=1/4 and jpeg:sym=9000 are points of one curve); None for other cells."""
    if row["mode"] != "baseline":
        return None
    parts = str(row["variant"]).split(":")
    link = next((p for p in parts[1:] if p in ("ldpc", "uncoded")), "")
    return f"baseline {parts[0]}" + (f" {link}" if link else "")


def _rd_name(row: dict[str, Any]) -> str:
    """A row's line in the rate-distortion figure: its baseline family, else its series."""
    return baseline_family(row) or series_name(row)


def _rd_points(group: list[dict[str, Any]], metric: str) -> list[tuple[float, float, float]]:
    """(symbols, mean, CI) per row, sorted by symbols, rows without a positive x or a finite mean dropped.

    Baselines sit at their budget (the airtime they own, even when no file fits it); latents at the
    symbols they sent."""
    points = sorted(
        (
            float(r.get("budget_symbols_mean" if r["mode"] == "baseline" else "channel_symbols_mean", math.nan)),
            *_value(r, metric),
        )
        for r in group
    )
    return [p for p in points if math.isfinite(p[0]) and p[0] > 0 and math.isfinite(p[1])]


def _rd_errorbar(ax: Any, name: str, marker: str, points: list[tuple[float, float, float]]) -> None:
    """A baseline family as a line through its budgets; a latent variant as markers."""
    xs, ys, cis = zip(*points)
    line = {"fmt": "-", "marker": marker, "markersize": 4, "markerfacecolor": "none"}
    style = line if name.startswith("baseline") else {"fmt": marker, "markersize": 7}
    ax.errorbar(xs, ys, yerr=_without_ci(cis), capsize=2, label=name, **style)


def _rd_panel(ax: Any, rows: list[dict[str, Any]], snr: float, names: list[str], metric: str) -> None:
    for index, name in enumerate(names):
        group = [r for r in rows if r["snr_db"] == snr and _rd_name(r) == name]
        points = _rd_points(group, metric)
        if points:
            _rd_errorbar(ax, name, MARKERS[index % len(MARKERS)], points)


def rate_distortion(
    table: list[dict[str, Any]],
    stem: Path,
    metric: str = "ssim",
    label: str = "SSIM",
    snr_convention: str = "ebn0",
    title: str | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """`metric` against channel symbols per image (mean over images), one panel per SNR: a line
    per baseline codec and link through its budgets (x = the budget), a marker per latent variant
    (x = the symbols it sent)."""
    plt = _pyplot()
    rows = [r for r in table if r["mode"] in ("latent", "baseline")]
    snrs = sorted({r["snr_db"] for r in rows})
    fig, axes = _panel_figure(plt, max(1, len(snrs)))
    unit = SNR_LABELS.get(snr_convention, "SNR (dB)").split(" ")[0]
    names = list(dict.fromkeys(_rd_name(r) for r in rows))
    for ax, snr in zip(axes.flat, snrs):
        _rd_panel(ax, rows, snr, names, metric)
        ax.set_xscale("log", base=2)
        ax.set_title(f"{snr:g} dB {unit}", fontsize=10)
        ax.set_xlabel("channel symbols per image")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    return _finish(fig, axes, len(snrs), 3, title or f"{label} against channel symbols per image", stem, formats)


def outage_vs_snr(
    table: list[dict[str, Any]],
    stem: Path,
    snr_convention: str = "ebn0",
    title: str | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Outage rate (files lost: not decodable, or no file fits the budget) per baseline against SNR."""
    plt = _pyplot()
    rows = [r for r in table if r["mode"] == "baseline"]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for index, variant in enumerate(dict.fromkeys(r["variant"] for r in rows)):
        group = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["snr_db"])
        ax.plot(
            [r["snr_db"] for r in group],
            [float(r.get("outage_mean", math.nan)) for r in group],
            "-",
            marker=MARKERS[index % len(MARKERS)],
            markersize=4,
            label=f"baseline {variant}",
            markerfacecolor="none",
        )
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(SNR_LABELS.get(snr_convention, "SNR (dB)"))
    ax.set_ylabel("outage rate (images)")
    ax.grid(alpha=0.3)
    if rows:
        ax.legend(fontsize=7, loc="best")
    ax.set_title(title or "classical baselines: outage rate", fontsize=10)
    fig.tight_layout()
    return _save(fig, Path(stem), formats)
