"""A sweep's run directory: what is cached where, and the append-only results log.

    RUN_DIR/
      config.json          the sweep's settings (identity fields must match on resume)
      metrics.json         which metrics were available, and why not
      results.jsonl        one JSON object per (image, cell): the cache a rerun skips
      cache/latents/       one .npy float32 latent per image (encoded once, reused by every cell)
      cache/captions.json  the caption sent for each image (BLIP runs once per image)
      features/            FID features: reference/<image>.npy and <cell-id>/<image>.npy
      samples/             reconstructions of the first few images (for the image grid)
      per_image.csv, aggregate.csv, aggregate.json, figures/, report.md  (written by aggregate/report)

Results are appended and flushed line by line, so an interrupted sweep loses at most the cell in
flight; a torn last line is ignored on reading and the cell is computed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RESULTS = "results.jsonl"


def safe_name(text: str) -> str:
    """A file-system-safe, still readable, unique name for a cell key or image name."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80]
    return f"{slug}-{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"


def json_safe(value: Any) -> Any:
    """Strict-JSON form: NaN -> None, +-inf -> "inf"/"-inf" strings (recursively)."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def from_json_number(value: Any) -> float:
    """Inverse of `json_safe` for one number: None -> NaN, "inf" -> inf."""
    return math.nan if value is None else float(value)


class RunStore:
    """Reads and writes one run directory (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ paths
    @property
    def results_path(self) -> Path:
        return self.root / RESULTS

    def latent_path(self, image: str) -> Path:
        return self.root / "cache" / "latents" / f"{safe_name(image)}.npy"

    @property
    def captions_path(self) -> Path:
        return self.root / "cache" / "captions.json"

    def feature_path(self, image: str, cell_key: str | None) -> Path:
        folder = "reference" if cell_key is None else safe_name(cell_key)
        return self.root / "features" / folder / f"{safe_name(image)}.npy"

    def sample_path(self, image: str, cell_key: str | None) -> Path:
        name = "original" if cell_key is None else safe_name(cell_key)
        return self.root / "samples" / safe_name(image) / f"{name}.png"

    # ------------------------------------------------------------------ json files
    def read_json(self, name: str) -> Any:
        """The JSON file `name` of the run (None where it is absent); ValueError naming the file when it
        is not JSON (a truncated or hand-edited config.json)."""
        path = self.root / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None

    def write_json(self, name: str, data: Any) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{name}.tmp"
        tmp.write_text(json.dumps(json_safe(data), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.root / name)

    # ------------------------------------------------------------------ results log
    def iter_results(self) -> Iterator[dict[str, Any]]:
        """Every complete result line (a torn or corrupt line is skipped with a warning)."""
        if not self.results_path.is_file():
            return
        with self.results_path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("%s:%d: unreadable result line skipped (interrupted write?)", self.results_path, number)
                    continue
                if isinstance(row, dict) and "image" in row and "cell" in row:
                    yield row

    def done(self) -> set[tuple[str, str]]:
        """(image, cell key) pairs already in the log."""
        return {(row["image"], row["cell"]) for row in self.iter_results()}

    def append(self, row: dict[str, Any]) -> None:
        """Append one result line and flush it to disk."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.results_path
        needs_newline = False
        if path.is_file() and path.stat().st_size > 0:
            with path.open("rb") as tail:
                tail.seek(-1, 2)
                needs_newline = tail.read(1) != b"\n"
        with path.open("a", encoding="utf-8") as handle:
            if needs_newline:
                handle.write("\n")  # close a torn line so this one stays readable
            handle.write(json.dumps(json_safe(row), sort_keys=True) + "\n")
            handle.flush()
