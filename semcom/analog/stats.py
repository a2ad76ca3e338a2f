"""Chunk statistics of an analog scheme: the channel transform and every chunk's mean and variance,
fitted on photos and shipped with the codec (`semcom/analog/data/*.npz`), so the receiver's LMMSE
estimator needs no per-image metadata; for the latent also every chunk's **decoder weight** (the
VAE decoder's squared pixel error per unit of latent error variance in that chunk, mean 1), which
the `alloc=decoder` power allocation uses (`semcom.analog.codec`).

Each file records how it was fitted (`info`: the images, the profile, the command, the fold). The
evaluation never scores an image with statistics fitted on it: `packaged(..., exclude=name)` picks
the file fitted on the most photos that does not contain `name` (the 75-photo files are shipped as
two folds, each fitted on the other half; see docs/analog.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
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
    weight: NDArray[np.float64] | None = None  # (n_chunks,) decoder weight per chunk (mean 1), if fitted

    def __post_init__(self) -> None:
        c, h, w = transform.check_shape(self.shape, self.chunk)
        n = c * (h // self.chunk) * (w // self.chunk)
        if self.channel.shape != (c, c) or self.mean.shape != (n,) or self.var.shape != (n,):
            raise ValueError(f"statistics do not match shape {self.shape} with chunk {self.chunk}")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.var)) and np.all(self.var >= 0)):
            raise ValueError("chunk statistics must be finite, variances >= 0")
        if self.weight is not None and (
            self.weight.shape != (n,) or not np.all(np.isfinite(self.weight)) or not np.all(self.weight > 0)
        ):
            raise ValueError(f"decoder weights must be {n} finite values > 0")

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(self.info.get("images", ()))

    @property
    def id(self) -> str:
        """A short hash of the numbers: sender and receiver must hold the same file."""
        h = hashlib.sha256()
        for a in (self.channel, self.mean, self.var) + (() if self.weight is None else (self.weight,)):
            h.update(np.ascontiguousarray(a, dtype="<f8").tobytes())
        return h.hexdigest()[:12]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        header = {"scheme": self.scheme, "shape": list(self.shape), "chunk": self.chunk, "info": self.info}
        arrays: dict[str, NDArray[Any]] = {
            "channel": self.channel,
            "mean": self.mean,
            "var": self.var,
            "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        }
        if self.weight is not None:
            arrays["weight"] = self.weight
        np.savez_compressed(path, allow_pickle=False, **arrays)
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
                np.asarray(z["weight"], np.float64) if "weight" in z.files else None,
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


@cache
def _load_cached(path: str) -> AnalogStats:
    return AnalogStats.load(path)


def decoder_weights(gram: NDArray[Any], channel: NDArray[Any], chunk: int) -> NDArray[np.float64]:
    """Each chunk's decoder weight (mean 1) for the channel transform `channel`, from `gram`
    (H, W, C, C): at every spatial DCT frequency, the mean outer product over photos and random
    probes of the decoder's vector-Jacobian product (the latent gradient of <v, decode(z)> for a
    white v, DCT over the spatial axes, channels untransformed). For an orthonormal transform T
    its diagonal in T's basis is E|Jᵀv|² per coefficient: the image's squared error per unit of
    error variance on that coefficient (Hutchinson's estimator of diag(T JᵀJ Tᵀ))."""
    g = np.asarray(gram, np.float64)
    c = np.asarray(channel, np.float64)
    if g.ndim != 4 or g.shape[2] != g.shape[3] or c.shape != (g.shape[2], g.shape[2]):
        raise ValueError(f"gram must be (H, W, C, C) for a (C, C) channel transform, got {g.shape} and {c.shape}")
    diag = np.einsum("dc,hwce,de->dhw", c, g, c, optimize=True)  # (C, H, W)
    w = transform.to_chunks(np.maximum(diag, 0.0), chunk).mean(axis=1)
    w = np.maximum(w, 1e-6 * float(w.max()) if w.size and w.max() > 0 else 1.0)
    return np.asarray(w / w.mean(), np.float64)
