"""Chunk statistics of an analog scheme: the channel transform and every chunk's mean and variance,
fitted on photos and shipped with the codec (`semcom/analog/data/*.npz`), so the receiver's LMMSE
estimator needs no per-image metadata.

Each file records how it was fitted (`info`: the images, the profile, the command, the fold). The
evaluation never scores an image with statistics fitted on it: `packaged(..., exclude=name)` picks
the file fitted on the most photos that does not contain `name` (the 75-photo files are shipped as
two folds, each fitted on the other half; see docs/analog.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.analog import transform

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, eq=False)
class AnalogStats:
    """The channel transform and the per-chunk mean and variance of one scheme and source shape."""

    scheme: str
    shape: tuple[int, int, int]
    chunk: int
    channel: NDArray[np.float64]  # (C, C) forward channel transform
    mean: NDArray[np.float64]  # (n_chunks,) per-chunk mean of the coefficients
    var: NDArray[np.float64]  # (n_chunks,) per-chunk variance
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        c, h, w = transform.check_shape(self.shape, self.chunk)
        n = c * (h // self.chunk) * (w // self.chunk)
        if self.channel.shape != (c, c) or self.mean.shape != (n,) or self.var.shape != (n,):
            raise ValueError(f"statistics do not match shape {self.shape} with chunk {self.chunk}")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.var)) and np.all(self.var >= 0)):
            raise ValueError("chunk statistics must be finite, variances >= 0")

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(self.info.get("images", ()))

    @property
    def id(self) -> str:
        """A short hash of the numbers: sender and receiver must hold the same file."""
        h = hashlib.sha256()
        for a in (self.channel, self.mean, self.var):
            h.update(np.ascontiguousarray(a, dtype="<f8").tobytes())
        return h.hexdigest()[:12]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        np.savez_compressed(
            path,
            channel=self.channel,
            mean=self.mean,
            var=self.var,
            header=np.frombuffer(
                json.dumps(
                    {"scheme": self.scheme, "shape": list(self.shape), "chunk": self.chunk, "info": self.info}
                ).encode(),
                dtype=np.uint8,
            ),
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> AnalogStats:
        with np.load(Path(path)) as z:
            header = json.loads(z["header"].tobytes().decode())
            return cls(
                header["scheme"],
                tuple(header["shape"]),
                int(header["chunk"]),
                np.asarray(z["channel"], np.float64),
                np.asarray(z["mean"], np.float64),
                np.asarray(z["var"], np.float64),
                header.get("info", {}),
            )


def fit(
    samples: NDArray[Any],
    scheme: str,
    chunk: int,
    channel: str | NDArray[Any] = "pca",
    info: dict[str, Any] | None = None,
) -> AnalogStats:
    """Fit statistics on (N, C, H, W) samples: the channel transform (`pca`, `ycbcr`, `identity` or
    a matrix), then each chunk's mean and variance over all its coefficients of all samples."""
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim != 4 or s.shape[0] < 1:
        raise ValueError(f"fit needs (N, C, H, W) samples, got shape {s.shape}")
    c = s.shape[1]
    if not isinstance(channel, str):
        matrix = np.asarray(channel, np.float64)
    elif channel == "pca":
        matrix = transform.pca_channels(s)
    elif channel == "ycbcr":
        matrix = transform.YCBCR
    elif channel == "identity":
        matrix = np.eye(c)
    else:
        raise ValueError(f"channel transform must be pca, ycbcr, identity or a matrix, got {channel!r}")
    chunks = np.stack([transform.to_chunks(transform.forward(x, matrix), chunk) for x in s])  # (N, n, b*b)
    mean = chunks.mean(axis=(0, 2))
    var = chunks.var(axis=(0, 2))
    shape = (int(s.shape[1]), int(s.shape[2]), int(s.shape[3]))
    return AnalogStats(scheme, shape, int(chunk), matrix, mean, var, dict(info or {}))


def packaged_files(scheme: str, shape: tuple[int, ...]) -> list[Path]:
    c, h, w = (int(v) for v in shape)
    return sorted(DATA_DIR.glob(f"{scheme}_{c}x{h}x{w}*.npz"))


def packaged(scheme: str, shape: tuple[int, ...], exclude: str | None = None) -> AnalogStats | None:
    """The shipped statistics for (scheme, shape) fitted on the most photos, skipping any file
    fitted on the image `exclude` (held-out evaluation); None when there is none."""
    best: AnalogStats | None = None
    for path in packaged_files(scheme, shape):
        stats = _load_cached(str(path))
        if exclude is not None and exclude in stats.images:
            continue
        if best is None or len(stats.images) > len(best.images):
            best = stats
    return best


_CACHE: dict[str, AnalogStats] = {}


def _load_cached(path: str) -> AnalogStats:
    if path not in _CACHE:
        _CACHE[path] = AnalogStats.load(path)
    return _CACHE[path]
