"""Bring images into the one form the pixel metrics compare: float64 RGB, HxWx3, in [0, 1]."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from PIL import Image

# What the metrics accept as an image: a PIL image, or an HxW(x3|4) uint8 / [0, 1] float array.
ImageLike = Union["Image.Image", ArrayLike]
# What they compare: float64 HxWx3 in [0, 1].
Rgb = NDArray[np.float64]


def to_float_rgb(image: ImageLike) -> Rgb:
    """A PIL image, a uint8 array or a float array in [0, 1] as float64 HxWx3 in [0, 1].

    Grey (HxW) images are repeated to three channels and an alpha channel is dropped, so every
    metric sees the same RGB layout. Float input outside [0, 1] is rejected rather than clipped:
    it means the caller passed [-1, 1] or [0, 255] data by mistake.
    """
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL.Image without importing PIL
        image = np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 image, got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"expected uint8 or float pixels, got {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("image has non-finite pixel values")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(f"float pixels must lie in [0, 1], got [{array.min():.3g}, {array.max():.3g}]")
    return array


def pair(reference: ImageLike, test: ImageLike) -> tuple[Rgb, Rgb]:
    """Both images as float RGB; their sizes must match (resize before, as the sender does)."""
    a, b = to_float_rgb(reference), to_float_rgb(test)
    if a.shape != b.shape:
        raise ValueError(f"image sizes differ: reference {a.shape[1]}x{a.shape[0]}, test {b.shape[1]}x{b.shape[0]}")
    return a, b
