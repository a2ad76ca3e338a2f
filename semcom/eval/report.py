"""`semcom eval report RUN_DIR`: aggregate a run and write report.md with tables and figures.

report.md holds: the command and settings, which metrics were unavailable and why, cells the
profile could not run, Table 1 (payload sizes, from `semcom.payload.table`) for the paper's latent
and for the run's, one table per metric (series x SNR, mean +- 95% CI half-width, n images), the
channel's bit error rate on the latent, and the figures (figures/*.png, *.svg).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcom.eval import plots
from semcom.eval.aggregate import aggregate_run
from semcom.eval.store import RunStore

METRIC_TITLES = {
    "ssim": "SSIM (higher is better)",
    "psnr": "PSNR in dB (higher is better)",
    "ms_ssim": "MS-SSIM (higher is better)",
    "lpips": "LPIPS, AlexNet (lower is better)",
    "clip_caption": "CLIP score against the sent caption (higher is better)",
    "clip_image": "CLIP score against the original image (higher is better)",
    "fid": "FID over the cell's images (lower is better)",
}
DIGITS = {"ssim": 4, "psnr": 2, "ms_ssim": 4, "lpips": 4, "clip_caption": 2, "clip_image": 2, "fid": 2}


def table1_markdown(rows: Sequence[Any]) -> str:
    """Table 1 rows (`semcom.payload.table.PayloadRow`) as a Markdown table with exact byte counts."""
    lines = [
        "| payload | shape | type | bytes | bits | 16-QAM symbols | % of float64 image | % of 8-bit image |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.payload} | {r.shape} | {r.type} | {r.bytes:,} | {r.bits:,} | {r.symbols:,} | "
            f"{100 * r.ratio_to_image_float64:.3f}% | {100 * r.ratio_to_image_uint8:.2f}% |"
        )
    return "\n".join(lines)


def table_head(first: str, align: str, heads: Sequence[str], col_align: str = "---:") -> list[str]:
    """A Markdown table's header and alignment rows: the `first` column(s) aligned by `align`, then one
    column per entry of `heads` aligned by `col_align`."""
    return [f"| {first} | " + " | ".join(heads) + " |", f"| {align} | " + " | ".join(col_align for _ in heads) + " |"]


def _db(snrs: Sequence[float]) -> list[str]:
    return [f"{s:g} dB" for s in snrs]


def _fmt(mean: float, ci: float, digits: int) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isinf(mean):
        return "inf"
    return f"{mean:.{digits}f}" if math.isnan(ci) else f"{mean:.{digits}f} ± {ci:.{digits}f}"


def _metric_cell(row: dict[str, Any] | None, metric: str, digits: int) -> str:
    """One aggregated row's `metric` as a table cell: mean ± 95% CI (FID: its one value); "" without a row."""
    if row is None:
        return ""
    if metric == "fid":
        return _fmt(float(row["fid"]), math.nan, digits)
    return _fmt(float(row[f"{metric}_mean"]), float(row[f"{metric}_ci95"]), digits)


def pivot_markdown(table: list[dict[str, Any]], metric: str, k: int | None) -> str:
    """Series x SNR table of one metric (text+latent at the given k only)."""
    series = plots._snr_series(table, k)
    snrs = sorted({r["snr_db"] for rows in series.values() for r in rows})
    digits = DIGITS.get(metric, 3)
    lines = table_head("series | payload bytes", "--- | ---:", _db(snrs))
    for name, rows in series.items():
        by_snr = {r["snr_db"]: r for r in rows}
        cells = [_metric_cell(by_snr.get(s), metric, digits) for s in snrs]
        payload = next(iter(by_snr.values())).get("latent_bytes", 0)
        lines.append(f"| {name} | {int(payload):,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def steps_markdown(table: list[dict[str, Any]], metric: str) -> str:
    """text+latent: k x SNR table of one metric (first variant)."""
    rows, variant = plots._steps_rows(table, None)
    if not rows:
        return ""
    snrs = sorted({r["snr_db"] for r in rows})
    ks = sorted({int(r["steps"]) for r in rows})
    cell = {(int(r["steps"]), r["snr_db"]): r for r in rows}
    digits = DIGITS.get(metric, 3)
    lines = table_head(f"k ({variant})", "---:", _db(snrs))
    for k in ks:
        vals = [_metric_cell(cell.get((k, s)), metric, digits) for s in snrs]
        lines.append(f"| {k} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _paired_diffs(per_image: list[dict[str, Any]], metric: str, baseline: str, order: Sequence[str] = ()):
    """(variants, snrs, diffs): for each latent variant and SNR, the per-image `metric` differences to
    `baseline` over the images both cells have."""
    rows = [r for r in per_image if r["mode"] == "latent"]
    base = {(r["image"], r["snr_db"]): float(r[metric]) for r in rows if r["variant"] == baseline}
    variants = [v for v in dict.fromkeys([*order, *(r["variant"] for r in rows)]) if v != baseline]
    snrs = sorted({r["snr_db"] for r in rows})
    diffs: dict[tuple[str, float], list[float]] = {(variant, snr): [] for variant in variants for snr in snrs}
    for r in rows:
        key = (r["image"], r["snr_db"])
        if r["variant"] != baseline and key in base:
            diffs[(r["variant"], r["snr_db"])].append(float(r[metric]) - base[key])
    return variants, snrs, diffs


def paired_markdown(per_image: list[dict[str, Any]], metric: str, baseline: str, order: Sequence[str] = ()) -> str:
    """Latent cells: mean per-image difference of `metric` to the `baseline` variant at the same SNR,
    with its 95% t-interval (paired over the images both cells have: the image-to-image spread,
    which dominates the plain CIs, cancels)."""
    from semcom.eval.aggregate import summarize

    variants, snrs, diffs = _paired_diffs(per_image, metric, baseline, order)
    digits = DIGITS.get(metric, 3)
    lines = table_head(f"variant - {baseline}", "---", _db(snrs))
    for variant in variants:
        stats = [summarize(diffs[(variant, snr)]) for snr in snrs]
        cells = [_fmt(stat.mean, stat.ci95, digits) if stat.n else "" for stat in stats]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def wins_markdown(
    per_image: list[dict[str, Any]],
    metric: str,
    baseline: str,
    order: Sequence[str] = (),
    higher_is_better: bool = True,
) -> str:
    """Latent cells: in how many images (of those both cells have) the variant beats `baseline`."""
    variants, snrs, diffs = _paired_diffs(per_image, metric, baseline, order)
    lines = table_head(f"variant - {baseline}", "---", _db(snrs))
    for variant in variants:
        cells = []
        for snr in snrs:
            values = [d for d in diffs[(variant, snr)] if not math.isnan(d)]
            wins = sum(1 for d in values if (d > 0 if higher_is_better else d < 0))
            cells.append(f"{wins}/{len(values)}" if values else "")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


GRID_ROWS = 6  # series per image in the image grid (more only where the run has more scheme families)


def _grid_series(table: list[dict[str, Any]], k: int | None) -> list[tuple[str, list[tuple[float, str]]]]:
    """Rows of the image grid: one per scheme family (a mode; a baseline's codec, an analog scheme), text+latent
    at k only, then the rest of GRID_ROWS in turn; a family shows its first and its last swept series."""
    families: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for r in table:
        if r["mode"] != "text+latent" or int(r["steps"]) == k:
            family = r["mode"] + (":" + r["variant"].split(":")[0] if r["mode"] in ("baseline", "analog") else "")
            families.setdefault(family, {}).setdefault(plots.series_name(r), []).append((r["snr_db"], r["cell"]))
    shown: Counter[str] = Counter()
    for _ in range(max(GRID_ROWS, len(families))):  # a row more to the family with the fewest, first in order
        shown[min((f for f in families if shown[f] < len(families[f])), key=shown.__getitem__, default="")] += 1
    rows = []
    for family, series in families.items():
        items, n = list(series.items()), shown[family]
        rows += items[: (n + 1) // 2] + items[len(items) - n // 2 :]
    return rows


def make_figures(
    root: Path, table: list[dict[str, Any]], config: dict[str, Any], unavailable: dict[str, str]
) -> dict[str, list[Path]]:
    """Write every figure of a run under RUN_DIR/figures; returns name -> files."""
    store = RunStore(root)
    figures = root / "figures"
    convention = config.get("snr_convention", "ebn0")
    k = plots.default_k(table)
    profile = str(config.get("profile", ""))
    name = Path(profile).stem if profile.endswith((".yaml", ".yml", ".json")) else profile
    out: dict[str, list[Path]] = {}
    for key, stem, panels, what in (
        ("fig3", "fig3_metrics_vs_snr", plots.PAPER_PANELS, "metrics"),
        ("fidelity", "ssim_psnr_vs_snr", plots.FIDELITY_PANELS, "SSIM and PSNR"),
    ):
        title = f"{name}: {what} against SNR"
        out[key] = plots.metric_vs_snr(table, figures / stem, panels, unavailable, k, convention, title=title)
    if any(r["mode"] == "baseline" for r in table):  # classical baselines (semcom.eval.baselines)
        for metric, label, what in (("ssim", "SSIM", "SSIM"), ("psnr", "PSNR (dB)", "PSNR")):
            title = f"{name}: {what} against channel symbols"
            rd = figures / f"rd_{metric}_vs_symbols"
            out[f"rate_distortion_{metric}"] = plots.rate_distortion(table, rd, metric, label, convention, title)
        out["outage"] = plots.outage_vs_snr(table, figures / "outage_vs_snr", convention)
    if any(r["mode"] == "text+latent" for r in table):
        out["fig5"] = plots.metric_vs_steps(table, figures / "fig5_metrics_vs_steps", plots.PAPER_PANELS, unavailable)
    series = _grid_series(table, k)
    originals = {}
    samples: dict[str, dict[str, Path]] = {}
    sample_root = root / "samples"
    if sample_root.is_dir():
        for image in sorted({row["image"] for row in store.iter_results()}):
            if not store.sample_path(image, None).is_file():
                continue
            originals[image] = store.sample_path(image, None)
            samples[image] = {cell: store.sample_path(image, cell) for _, cells in series for _, cell in cells}
    if originals and series:
        out["grid"] = plots.image_grid(
            samples, originals, series, figures / "fig4_image_grid", snr_convention=convention
        )
    return out


SETTINGS_SHOWN = (
    "profile",
    "data",
    "captions",
    "caption_source",
    "size",
    "seed",
    "snr_convention",
    "modulation",
    "channel",
    "fec",
    "mcs",
    "schedule",
    "guidance",
    "modes",
    "encodings",
    "steps",
    "snr_db",
)
RESULT_METRICS = ("ssim", "psnr", "ms_ssim", "lpips", "clip_caption", "clip_image", "fid")


def render_report(root: Path, command: str | None = None) -> Path:
    """Aggregate RUN_DIR, draw its figures and write RUN_DIR/report.md; returns the report path."""
    root = Path(root)
    store = RunStore(root)
    per_image, table = aggregate_run(root)
    config = store.read_json("config.json") or {}
    metrics = store.read_json("metrics.json") or {}
    unavailable = {m: v.get("reason", "") for m, v in metrics.items() if not v.get("available", True)}
    figures = make_figures(root, table, config, unavailable)
    k = plots.default_k(table)
    images = sorted({r["image"] for r in per_image})
    lines = [f"# Evaluation report: {root.name}", ""]
    cmd = command or config.get("command")
    lines += ["Command:", "", "```", cmd, "```", ""] if cmd else []
    lines += _merged_section(config.get("merged") or [])
    lines += _settings_section(config, len(images), len(per_image))
    lines += _availability_section(metrics)
    lines += _skipped_cells_section(config.get("unsupported_cells") or {})
    lines += _table1_section(store, config, table, images)
    lines += _results_section(table, unavailable, k, config)
    lines += _paired_section(per_image, table)
    if any(r["mode"] == "baseline" for r in table):
        lines += [baselines_markdown(table), ""]
    if any(r["mode"] == "analog" for r in table):  # analog transmission (semcom.eval.analog)
        from semcom.eval.analog import report_markdown

        lines += [report_markdown(per_image), ""]
    lines += ["### Latent bit error rate on the channel (mean over images)", "", _ber_markdown(table), ""]
    lines += _figures_section(root, figures)
    path = root / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _merged_section(merged: list[dict[str, Any]]) -> list[str]:
    """The parts `semcom eval merge` joined into this run directory, if any."""
    if not merged:
        return []
    lines = [
        f"Joined from {len(merged)} run directories by `semcom eval merge` (rows of an (image, cell) "
        "already present were kept, not replaced):",
        "",
        "| part | shard | rows added | command |",
        "| --- | --- | ---: | --- |",
    ]
    for part in merged:
        lines.append(
            f"| `{part.get('source')}` | {part.get('shard') or ''} | {part.get('rows_added')} | "
            f"`{part.get('command') or ''}` |"
        )
    lines.append("")
    return lines


def _settings_section(config: dict[str, Any], n_images: int, n_rows: int) -> list[str]:
    lines = ["## Settings", "", "| setting | value |", "| --- | --- |"]
    lines += [f"| {key} | `{config[key]}` |" for key in SETTINGS_SHOWN if key in config]
    lines += [f"| images evaluated | {n_images} |", f"| result lines | {n_rows} |", ""]
    return lines


def _availability_section(metrics: dict[str, Any]) -> list[str]:
    lines = ["## Metric availability", "", "| metric | available | reason |", "| --- | --- | --- |"]
    for metric, info in metrics.items():
        lines.append(f"| {metric} | {'yes' if info.get('available') else 'no'} | {info.get('reason', '')} |")
    lines.append("")
    return lines


def _skipped_cells_section(skipped: dict[str, str]) -> list[str]:
    """Cells the profile could not run, counted per reason."""
    if not skipped:
        return []
    lines = ["## Cells not run", ""]
    for reason, count in sorted(Counter(skipped.values()).items()):
        lines.append(f"- {count} cells: {reason}")
    lines.append("")
    return lines


def _table1_section(
    store: RunStore, config: dict[str, Any], table: list[dict[str, Any]], images: list[str]
) -> list[str]:
    """Table 1 for the paper's latent, and for this run's latent when its shape differs."""
    from semcom.payload.table import payload_table

    lines = [
        "## Table 1: payload sizes",
        "",
        "The paper's SD v1.5 latent (4x64x64):",
        "",
        table1_markdown(payload_table(encodings=("float64", "float32", "float16", "int8"))),
        "",
    ]
    shape = _run_latent_shape(store, images)
    if not shape or shape == (4, 64, 64):
        return lines
    encodings = tuple(
        dict.fromkeys(r["encoding"] for r in table if r["encoding"] and r["mode"] not in ("baseline", "analog"))
    )
    run_table = payload_table(latent_shape=shape, image_size=int(config.get("size", 512)), encodings=encodings)
    lines += [f"This run's latent ({'x'.join(map(str, shape))}):", "", table1_markdown(run_table), ""]
    return lines


def _results_section(
    table: list[dict[str, Any]], unavailable: dict[str, str], k: int | None, config: dict[str, Any]
) -> list[str]:
    """Per metric its series x SNR table (and its table against k), or why it is unavailable."""
    lines = ["## Results (mean ± 95% CI half-width over images)", ""]
    if k is not None:
        lines += [f"text+latent rows at k = {k} denoising steps (strength {k}/{config.get('schedule', 50)}).", ""]
    for metric in RESULT_METRICS:
        lines += [f"### {METRIC_TITLES[metric]}", ""]
        if metric in unavailable and all(
            math.isnan(float(r.get(f"{metric}_mean", r.get("fid", math.nan)))) for r in table
        ):
            lines += [f"Unavailable: {unavailable[metric]}", ""]
            continue
        lines += [pivot_markdown(table, metric, k), ""]
        steps_table = steps_markdown(table, metric)
        if steps_table:
            lines += ["Against the executed steps k:", "", steps_table, ""]
    return lines


def _paired_section(per_image: list[dict[str, Any]], table: list[dict[str, Any]]) -> list[str]:
    """Paired differences and win counts of each latent variant against the first one."""
    latent_variants = list(dict.fromkeys(r["variant"] for r in table if r["mode"] == "latent"))
    if len(latent_variants) <= 1:
        return []
    reference = latent_variants[0]
    lines = [f"### Paired differences against latent {reference} (same images, same SNR)", ""]
    for metric in ("ssim", "psnr", "ms_ssim"):
        lines += [f"{METRIC_TITLES[metric]}:", "", paired_markdown(per_image, metric, reference, latent_variants), ""]
    lines += [
        f"Images in which the variant's SSIM is higher than {reference}'s:",
        "",
        wins_markdown(per_image, "ssim", reference, latent_variants),
        "",
    ]
    return lines


def _figures_section(root: Path, figures: dict[str, list[Path]]) -> list[str]:
    lines = ["## Figures", ""]
    for name, paths in figures.items():
        png = next((p for p in paths if p.suffix in (".png", ".jpg")), None)
        if png is not None:
            lines += [f"![{name}]({png.relative_to(root).as_posix()})", ""]
    return lines


def baselines_markdown(table: list[dict[str, Any]]) -> str:
    """The classical baselines' airtime, file sizes and outage rate per SNR, beside the latent cells."""
    rows = [r for r in table if r["mode"] in ("latent", "baseline")]
    snrs = sorted({r["snr_db"] for r in rows})
    cell = {(plots.series_name(r), r["snr_db"]): r for r in rows}
    names = list(dict.fromkeys(plots.series_name(r) for r in rows))
    head = table_head("series", "---", _db(snrs))

    def table_of(value) -> list[str]:
        lines = list(head)
        for name in names:
            lines.append(f"| {name} | " + " | ".join(value(cell.get((name, s))) for s in snrs) + " |")
        return lines

    def number(r, key, fmt):
        v = math.nan if r is None else float(r.get(key, math.nan))
        return "" if math.isnan(v) else format(v, fmt)

    lines = [
        "### Classical baselines (equal airtime)",
        "",
        "A baseline compresses the image (JPEG/WebP/AVIF) into the largest file its channel-symbol budget "
        "allows on its link and sends it; a file that does not decode (or no file fitting the budget) is an "
        "outage, scored with a mid-grey image and kept in every mean (docs/evaluation.md).",
        "",
        "Channel symbols per image (mean; latent cells: caption + latent):",
        "",
        *table_of(lambda r: number(r, "channel_symbols_mean", ",.0f")),
        "",
        "Outage rate (share of images):",
        "",
        *table_of(lambda r: "" if r is None or r["mode"] != "baseline" else number(r, "outage_mean", ".2f")),
        "",
        "File bytes (mean over images, outages by budget count 0):",
        "",
        *table_of(lambda r: "" if r is None or r["mode"] != "baseline" else number(r, "file_bytes_mean", ",.0f")),
    ]
    return "\n".join(lines)


def _run_latent_shape(store: RunStore, images: list[str]) -> tuple[int, ...] | None:
    for name in images:
        path = store.latent_path(name)
        if path.is_file():
            return tuple(np.load(path, mmap_mode="r").shape)
    return None


def _ber_markdown(table: list[dict[str, Any]]) -> str:
    rows = [r for r in table if r["mode"] != "text"]
    snrs = sorted({r["snr_db"] for r in rows})
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    cell = {(r["variant"], r["snr_db"]): r for r in rows}
    lines = table_head("variant", "---", _db(snrs))
    for v in variants:
        rows_v = [cell.get((v, s)) for s in snrs]
        vals = ["" if r is None else f"{float(r['latent_ber_mean']):.2e}" for r in rows_v]
        lines.append(f"| {v} | " + " | ".join(vals) + " |")
    return "\n".join(lines)
