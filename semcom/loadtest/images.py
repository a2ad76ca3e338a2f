"""Input images for load tests: files from a folder, or synthetic pictures made on the spot.

Synthetic images are smooth random colour fields (a few low-frequency sinusoids per channel, from
a seeded generator), PNG-encoded: cheap to make, deterministic, and unlike flat colours they give
the encoder and captioner non-trivial input. Load tests need only a handful; requests cycle them.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def synthetic_png(size: int, seed: int) -> bytes:
    """A `size` x `size` RGB PNG of smooth random colours, the same bytes for the same seed."""
    if not 8 <= size <= 4096:
        raise ValueError(f"size must be in [8, 4096], got {size}")
    rng = np.random.default_rng(seed)
    axis = np.linspace(0.0, 2.0 * np.pi, size, dtype=np.float64)
    yy, xx = np.meshgrid(axis, axis, indexing="ij")
    freq = rng.uniform(0.5, 3.0, size=(3, 2, 2))  # channel x component x (fy, fx)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(3, 2))
    waves = np.sin(freq[..., 0, None, None] * yy + freq[..., 1, None, None] * xx + phase[..., None, None])
    rgb = (waves.sum(axis=1) / 4.0 + 0.5).clip(0.0, 1.0)  # (3, H, W) in [0, 1]
    pixels = (rgb.transpose(1, 2, 0) * 255.0).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def load_images(folder: str | Path | None, count: int, size: int = 256) -> list[bytes]:
    """`count` encoded images: the first files of `folder` (sorted), or synthetic ones if None.

    Files are sent as they are (the sender decodes and resizes); raises ValueError when the
    folder holds no image.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if folder is None:
        return [synthetic_png(size, seed) for seed in range(count)]
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"image folder {path} does not exist")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {path}")
    return [p.read_bytes() for p in files[:count]]
