"""PSNR between the sender's image and the reconstruction (scikit-image).

Over all pixels and the three RGB channels together, on floats in [0, 1] (`data_range=1`):
PSNR = 10 log10(1 / MSE). Identical images give +inf (not a large finite number).
"""

from __future__ import annotations

import math

import numpy as np

from semcom.metrics.images import ImageLike, pair


def psnr(reference: ImageLike, test: ImageLike) -> float:
    """PSNR in dB of `test` against `reference`; +inf when they are identical."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = pair(reference, test)
    if np.array_equal(a, b):
        return math.inf
    return float(peak_signal_noise_ratio(a, b, data_range=1.0))
