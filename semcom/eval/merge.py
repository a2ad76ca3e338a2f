"""Join run directories of one sweep: shards (`--shard I/N`), or parts run on other machines.

    semcom eval merge DEST SRC [SRC ...]

Every SRC must hold the same sweep as DEST: the same identity settings (what a cell's number
means, `IDENTITY_FIELDS`) and the same grid (SNRs, modes, encodings, steps). Only the dataset and
caption-file *paths* may differ, since they name the same files on another machine; the image
names in the rows are what identifies an image. DEST is created from the first SRC when it does
not exist yet.

Rows of cells outside DEST's grid (left in a run directory by an earlier, wider sweep) are
skipped and counted. Rows DEST already holds are kept; a SRC row for the same (image, cell) is counted as a duplicate
and compared, so merging a part computed twice (e.g. once on CPU, once on a GPU) reports how far
the two agree (largest |difference| of each metric). Cached latents, example reconstructions,
FID features and captions are copied where DEST lacks them. Nothing is written before every SRC
has been checked, so a refused merge leaves DEST as it was.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from semcom.eval.store import RunStore, from_json_number

PATH_FIELDS = ("data", "captions")  # where the files were on the machine that ran the part
GRID_FIELDS = ("snr_db", "modes", "encodings", "steps")
COMPARED_METRICS = ("ssim", "psnr", "ms_ssim", "lpips", "clip_caption", "clip_image")
COPIED_FOLDERS = ("cache/latents", "samples", "features")


@dataclass
class MergeSummary:
    """What a merge did: rows added per source, duplicates, and how far duplicates agree."""

    dest: str
    added: dict[str, int] = field(default_factory=dict)  # source -> rows appended
    duplicates: int = 0
    outside_grid: int = 0  # rows of cells that are not in DEST's grid (skipped)
    max_abs_diff: dict[str, float] = field(default_factory=dict)  # metric -> largest |DEST - SRC| over duplicates
    files_copied: int = 0
    path_differences: list[str] = field(default_factory=list)
    metrics_differences: list[str] = field(default_factory=list)
    rows: int = 0  # rows in DEST after the merge

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _identity_of(config: dict[str, Any]) -> dict[str, Any]:
    from semcom.eval.sweep_config import CONDITIONAL_IDENTITY_FIELDS, IDENTITY_FIELDS

    fields = (*IDENTITY_FIELDS, *CONDITIONAL_IDENTITY_FIELDS, *GRID_FIELDS)
    return {k: config.get(k) for k in fields if k not in PATH_FIELDS}


def _config(store: RunStore) -> dict[str, Any]:
    config = store.read_json("config.json")
    if not isinstance(config, dict):
        raise ValueError(f"{store.root} is not a run directory (no config.json)")
    return config


def _read_captions(store: RunStore) -> dict[str, str]:
    path = store.captions_path
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _grid_keys(config: dict[str, Any]) -> set[str]:
    from semcom.eval.grid import config_cells

    try:
        return {cell.key for cell in config_cells(config)}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"config.json does not describe a sweep grid: {exc}") from None


def merge_runs(dest: Path, sources: list[Path]) -> MergeSummary:
    """Merge `sources` into `dest` (see the module docstring); raises ValueError on a mismatch."""
    dest, sources = Path(dest), [Path(s) for s in sources]
    _check_arguments(dest, sources)
    src_stores = [RunStore(s) for s in sources]
    src_configs = [_config(s) for s in src_stores]
    dest_store = RunStore(dest)
    dest_config = dest_store.read_json("config.json")
    if dest_config is None:  # a new DEST: the first part's settings, no shard, merge history or command (see "merged")
        dest_config = {**{k: v for k, v in src_configs[0].items() if k not in ("shard", "merged")}, "command": None}
    summary = MergeSummary(dest=str(dest))

    # Check everything before writing anything.
    captions = _check_sources(dest, dest_store, dest_config, sources, src_configs, summary)

    grid = _grid_keys(dest_config)
    existing = {(row["image"], row["cell"]): row for row in dest_store.iter_results()}
    dest.mkdir(parents=True, exist_ok=True)
    for src, store in zip(sources, src_stores):
        summary.added[str(src)] = _append_rows(store, dest_store, grid, existing, summary)
        summary.files_copied += _copy_missing(src, dest)

    if captions:
        dest_store.captions_path.parent.mkdir(parents=True, exist_ok=True)
        dest_store.captions_path.write_text(json.dumps(captions, indent=1, sort_keys=True))
    first_metrics = src_stores[0].read_json("metrics.json")
    if dest_store.read_json("metrics.json") is None and first_metrics is not None:  # DEST takes the first source's
        dest_store.write_json("metrics.json", first_metrics)
    merged = list(dest_config.get("merged") or [])
    merged.extend(_merged_entry(src, config, summary) for src, config in zip(sources, src_configs))
    dest_store.write_json("config.json", {**dest_config, "merged": merged})
    summary.rows = len(existing)
    return summary


def _check_arguments(dest: Path, sources: list[Path]) -> None:
    if not sources:
        raise ValueError("nothing to merge: give at least one source run directory")
    for src in sources:
        if src.resolve() == dest.resolve():
            raise ValueError(f"{src} is the destination itself")


def _check_sources(
    dest: Path,
    dest_store: RunStore,
    dest_config: dict[str, Any],
    sources: list[Path],
    src_configs: list[dict[str, Any]],
    summary: MergeSummary,
) -> dict[str, str]:
    """Refuse a source of another sweep or with conflicting captions; returns the joined captions.

    Path and metric-availability differences are only noted in `summary`."""
    want = _identity_of(dest_config)
    captions = _read_captions(dest_store)
    for src, config in zip(sources, src_configs):
        _check_identity(src, dest, want, _identity_of(config))
        summary.path_differences.extend(_path_differences(src, config, dest_config))
        _join_captions(src, dest, captions, _read_captions(RunStore(src)))
        theirs, ours = RunStore(src).read_json("metrics.json"), dest_store.read_json("metrics.json")
        if ours is not None and theirs is not None and theirs != ours:
            summary.metrics_differences.append(f"{src}: metric availability differs from DEST's ({theirs} vs {ours})")
    return captions


def _check_identity(src: Path, dest: Path, want: dict[str, Any], got: dict[str, Any]) -> None:
    diff = {k: (want.get(k), got.get(k)) for k in want if want.get(k) != got.get(k)}
    if diff:
        detail = ", ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"{src} holds another sweep than {dest} ({detail})")


def _path_differences(src: Path, config: dict[str, Any], dest_config: dict[str, Any]) -> list[str]:
    return [
        f"{src}: {name} {config.get(name)!r} (DEST: {dest_config.get(name)!r})"
        for name in PATH_FIELDS
        if config.get(name) != dest_config.get(name)
    ]


def _join_captions(src: Path, dest: Path, captions: dict[str, str], theirs: dict[str, str]) -> None:
    """Add `theirs` to `captions` in place; raises on an image whose caption differs."""
    for image, caption in theirs.items():
        if captions.setdefault(image, caption) != caption:
            raise ValueError(
                f"{src}: caption of {image} differs from the one in {dest}: {caption!r} vs {captions[image]!r}"
            )


def _append_rows(
    store: RunStore,
    dest_store: RunStore,
    grid: set[str],
    existing: dict[tuple[Any, Any], dict[str, Any]],
    summary: MergeSummary,
) -> int:
    """Append the rows of `store` that DEST lacks (counting skipped and duplicate rows in `summary`)."""
    added = 0
    for row in store.iter_results():
        key = (row["image"], row["cell"])
        if row["cell"] not in grid:
            summary.outside_grid += 1
            continue
        if key in existing:
            summary.duplicates += 1
            _compare(existing[key], row, summary.max_abs_diff)
            continue
        dest_store.append(row)
        existing[key] = row
        added += 1
    return added


def _merged_entry(src: Path, config: dict[str, Any], summary: MergeSummary) -> dict[str, Any]:
    """The record of one source in DEST's config.json "merged" list."""
    return {
        "source": str(src),
        "shard": config.get("shard"),
        "command": config.get("command"),
        "rows_added": summary.added[str(src)],
    }


def _compare(ours: dict[str, Any], theirs: dict[str, Any], worst: dict[str, float]) -> None:
    for metric in COMPARED_METRICS:
        a, b = from_json_number(ours.get(metric)), from_json_number(theirs.get(metric))
        if math.isnan(a) and math.isnan(b):
            continue
        diff = abs(a - b) if not (math.isnan(a) or math.isnan(b)) else math.inf
        worst[metric] = max(worst.get(metric, 0.0), diff)


def _copy_missing(src: Path, dest: Path) -> int:
    copied = 0
    for folder in COPIED_FOLDERS:
        root = src / folder
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            target = dest / folder / path.relative_to(root)
            if path.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                copied += 1
    return copied
