"""From results.jsonl to tables: per-image CSV, and per cell the mean with a 95% confidence interval.

Per cell and metric: n (images with a number), mean, sample standard deviation and the half-width
of the two-sided 95% t-interval, t_{0.975, n-1} * s / sqrt(n) (NaN for n < 2). A metric that was
unavailable is NaN for every image and stays NaN here (its reason is in metrics.json and the
report). PSNR is +inf for a perfect reconstruction; a cell with one has mean +inf and CI NaN.
FID is one number per cell: reference features of the cell's images against their reconstructions.

Only the cells and images of the run's last sweep (config.json) are aggregated: results.jsonl keeps
everything ever computed in the directory (a later sweep with a wider grid reuses it), but a
table mixing 8-image cells with a 1-image cell left from an earlier, wider grid would mislead.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from semcom.eval.grid import MODES
from semcom.eval.store import RunStore, from_json_number, json_safe
from semcom.metrics.suite import PER_IMAGE_METRICS

CELL_COLUMNS = ["cell", "mode", "variant", "encoding", "snr_db", "steps"]
PER_IMAGE_COLUMNS = [
    "image",
    *CELL_COLUMNS,
    "steps_executed",
    *PER_IMAGE_METRICS,
    "caption_sent",
    "caption_received",
    "chars_replaced",
    "caption_bits",
    "caption_bit_errors",
    "latent_bytes",
    "latent_bits",
    "latent_bit_errors",
    "latent_ber",
    "latent_dropped",
    "values_sanitised",
    "esn0_db",
    "ebn0_db",
    "channel_symbols",
    "seconds",
    # classical baselines (semcom.eval.baselines); nan for latent rows
    "budget_symbols",
    "link_fec",
    "file_bytes",
    "quality",
    "scale",
    "mcs",
    "segments_failed",
    "outage",
    "outage_reason",
]
STAT_SUFFIXES = ("mean", "ci95", "std", "n")
EXTRA_MEANS = (
    "latent_ber",
    "values_sanitised",
    "chars_replaced",
    "seconds",
    "channel_symbols",
    "budget_symbols",
    "file_bytes",
    "outage",
)  # outage_mean: the outage rate
AGGREGATE_COLUMNS = [
    *CELL_COLUMNS,
    "n_images",
    *[f"{m}_{s}" for m in PER_IMAGE_METRICS for s in STAT_SUFFIXES],
    "fid",
    "fid_n",
    "latent_bytes",
    *[f"{m}_mean" for m in EXTRA_MEANS],
]


@dataclass(frozen=True)
class Stat:
    n: int
    mean: float
    std: float
    ci95: float


def summarize(values: Iterable[float]) -> Stat:
    """n, mean, sample std and 95% t-interval half-width of the non-NaN values."""
    from scipy import stats

    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    n = int(x.size)
    if n == 0:
        return Stat(0, math.nan, math.nan, math.nan)
    if not np.all(np.isfinite(x)):
        return Stat(n, float(np.mean(x)), math.nan, math.nan)
    mean = float(np.mean(x))
    if n < 2:
        return Stat(n, mean, math.nan, math.nan)
    std = float(np.std(x, ddof=1))
    return Stat(n, mean, std, float(stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)))


def load_rows(store: RunStore) -> list[dict[str, Any]]:
    """Result lines with numbers restored (None -> NaN, "inf" -> inf), in log order.

    If a cell was logged twice for an image (two sweeps racing on one directory) the last wins.
    """
    numeric = set(PER_IMAGE_METRICS) | {"snr_db", "latent_ber", "esn0_db", "ebn0_db", "seconds"}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in store.iter_results():
        fixed = {k: (from_json_number(v) if k in numeric else v) for k, v in row.items()}
        rows[(row["image"], row["cell"])] = fixed
    return list(rows.values())


def _cell_order(rows: list[dict[str, Any]], variant_order: list[str] | None = None) -> list[str]:
    variants = list(dict.fromkeys([*(variant_order or []), *(r["variant"] for r in rows)]))
    keys = {r["cell"]: r for r in rows}
    return sorted(
        keys,
        key=lambda k: (
            MODES.index(keys[k]["mode"]) if keys[k]["mode"] in MODES else 99,
            variants.index(keys[k]["variant"]),
            keys[k]["snr_db"],
            keys[k]["steps"],
        ),
    )


def cell_fid(store: RunStore, images: list[str], cell: str) -> tuple[float, int]:
    """FID of a cell from the stored features (NaN, 0 when features are missing or < 2 images)."""
    from semcom.metrics.fid import fid_from_features

    pairs = [(store.feature_path(i, None), store.feature_path(i, cell)) for i in images]
    pairs = [(a, b) for a, b in pairs if a.is_file() and b.is_file()]
    if len(pairs) < 2:
        return math.nan, 0
    reference = np.stack([np.load(a) for a, _ in pairs])
    test = np.stack([np.load(b) for _, b in pairs])
    return fid_from_features(reference, test), len(pairs)


def aggregate_rows(
    rows: list[dict[str, Any]], store: RunStore | None = None, variant_order: list[str] | None = None
) -> list[dict[str, Any]]:
    """One summary row per cell (see AGGREGATE_COLUMNS), ordered by mode, variant (as swept), SNR, k."""
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_cell.setdefault(row["cell"], []).append(row)
    out = []
    for key in _cell_order(rows, variant_order):
        group = by_cell[key]
        first = group[0]
        summary: dict[str, Any] = {c: first[c] for c in CELL_COLUMNS}
        summary["n_images"] = len(group)
        for metric in PER_IMAGE_METRICS:
            stat = summarize(float(r.get(metric, math.nan)) for r in group)
            summary.update({f"{metric}_{suffix}": getattr(stat, suffix) for suffix in STAT_SUFFIXES})
        fid, fid_n = cell_fid(store, [r["image"] for r in group], key) if store else (math.nan, 0)
        summary["fid"], summary["fid_n"] = fid, fid_n
        summary["latent_bytes"] = first.get("latent_bytes", 0)
        for name in EXTRA_MEANS:
            summary[f"{name}_mean"] = summarize(float(r.get(name, math.nan)) for r in group).mean
        out.append(summary)
    return out


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return (
            repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
        )
    return value


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """CSV with a fixed column order; NaN written as "nan" (never as an empty cell or 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _csv_value(row.get(c, math.nan)) for c in columns})


def selected_rows(store: RunStore, config: dict[str, Any]) -> list[dict[str, Any]]:
    """`load_rows` of the sweep described by config.json: its cells and images (all, where unknown)."""
    from semcom.eval.dataset import load_dataset
    from semcom.eval.grid import config_cells

    keys: set[str] | None = None
    images: set[str] | None = None
    if config:
        try:
            keys = {c.key for c in config_cells(config)}
        except (KeyError, ValueError):
            pass
        try:
            captions = Path(config["captions"]) if config.get("captions") else None
            images = {i.name for i in load_dataset(Path(config["data"]), captions, config.get("limit"))}
        except (KeyError, ValueError, OSError):
            pass
    return [
        r for r in load_rows(store) if (keys is None or r["cell"] in keys) and (images is None or r["image"] in images)
    ]


def aggregate_run(root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write per_image.csv, aggregate.csv and aggregate.json for a run directory; return both tables."""
    store = RunStore(root)
    config = store.read_json("config.json") or {}
    rows = selected_rows(store, config)
    if not rows:
        raise ValueError(f"{root} holds no results ({store.results_path} missing or empty)")
    per_image = sorted(rows, key=lambda r: (r["image"], r["cell"]))
    table = aggregate_rows(rows, store, ["-", *config.get("encodings", [])])
    write_csv(store.root / "per_image.csv", per_image, PER_IMAGE_COLUMNS)
    write_csv(store.root / "aggregate.csv", table, AGGREGATE_COLUMNS)
    metrics = store.read_json("metrics.json") or {}
    unavailable = {m: v.get("reason", "") for m, v in metrics.items() if not v.get("available", True)}
    store.write_json(
        "aggregate.json", {"unavailable": unavailable, "columns": AGGREGATE_COLUMNS, "cells": json_safe(table)}
    )
    return per_image, table
