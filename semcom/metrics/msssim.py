"""MS-SSIM (multi-scale SSIM, Wang, Simoncelli & Bovik 2003) between the sender's image and the
reconstruction, without downloaded weights.

Variant, fixed for every number this project reports: the computation of `pytorch_msssim.ms_ssim`
(the maintained reference implementation, v1.0), on RGB floats in [0, 1] with `data_range=1`:
11-tap Gaussian window (sigma 1.5, "valid" filtering, no padding), K1 = 0.01, K2 = 0.03, the
standard 5 scale weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2x2 average pooling between
scales (zero padding of an odd side, as the reference), contrast-structure terms clipped at 0
(ReLU) before the weighted product, then the mean over R, G, B. At 5 scales (shorter side > 160 px)
the value equals `pytorch_msssim.ms_ssim` to float64 rounding (tested).

Small images. Five scales need a shorter side > (11 - 1) * 2**4 = 160 px, which the reference
refuses below. Here an image with a shorter side s in (10, 160] gets the largest number of scales
L <= 5 with s > 10 * 2**(L-1) (s > 80: 4 scales, s > 40: 3, s > 20: 2, else 1), and the first L
weights renormalised to sum to 1 (at 5 scales the published weights are used as they are, summing
to 1.0001, as the reference does); L is `msssim_scales(s)`. Numbers computed at different L are not
comparable, which within a sweep (one reference size) they never are. s <= 10 px: ValueError.

The computation is float64 numpy with scipy's Gaussian filter, the one `semcom.metrics.ssim` uses
(scikit-image filters with `scipy.ndimage.gaussian_filter`, sigma 1.5, truncate 3.5: 11 taps): the
"valid" maps of a scale are the SSIM filter's reflect-padded maps with the 5 border pixels cropped
(those values never touch a border). The first scale's maps of MS-SSIM are therefore the SSIM's
maps cropped, which lets the sweep's metric cache (`semcom.eval.metric_cache`) filter a picture
once for both metrics. The values differ from a float64 torch convolution only in the last bits.
pytorch-msssim itself is only the tests' reference (dev extra).
"""

from __future__ import annotations

import math

import numpy as np

from semcom.metrics.images import ImageLike, pair

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03
TRUNCATE = 3.5  # scipy's radius int(3.5 * 1.5 + 0.5) = 5: the 11-tap window (scikit-image's SSIM setting)
PAD = WINDOW // 2
MSSSIM_VARIANT = (
    "pytorch_msssim.ms_ssim computation, RGB, data_range=1, Gaussian window 11 sigma 1.5, 5 scales "
    "(fewer, weights renormalised, when the shorter side is <= 160 px)"
)


def msssim_scales(shorter_side: int) -> int:
    """Scales used for an image whose shorter side is `shorter_side` pixels (see the module docstring)."""
    if shorter_side <= WINDOW - 1:
        raise ValueError(f"MS-SSIM needs images larger than {WINDOW - 1} px on the shorter side, got {shorter_side}")
    levels = 1
    while levels < len(WEIGHTS) and shorter_side > (WINDOW - 1) * 2**levels:
        levels += 1
    return levels


def gaussian(x: np.ndarray) -> np.ndarray:
    """The SSIM filter of every channel of an HxWxC float64 array, reflect borders, same size
    (`semcom.metrics.ssim`'s: sigma 0 across channels, so each channel is filtered on its own)."""
    from scipy import ndimage as ndi

    out: np.ndarray = ndi.gaussian_filter(x, (SIGMA, SIGMA, 0), mode="reflect", cval=0.0, truncate=TRUNCATE)
    return out


def valid(filtered: np.ndarray) -> np.ndarray:
    """The part of a `gaussian` map where the window fits inside the image ("valid" filtering)."""
    return filtered[PAD:-PAD, PAD:-PAD]


def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 average pooling of HxWxC, an odd side zero-padded by one pixel at its start (torch's
    `avg_pool2d(padding=side % 2)` as the reference calls it: the window count includes the pad)."""
    h, w = x.shape[:2]
    if h % 2 or w % 2:
        x = np.pad(x, ((h % 2, 0), (w % 2, 0), (0, 0)))
    pooled: np.ndarray = 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])
    return pooled


class Reference:
    """The reference side of MS-SSIM: its pyramid and, at every scale, its filtered mean and second
    moment ("valid"), computed once for every picture compared with it.

    `levels` None: from the shorter side. `first`: the reference's `gaussian` maps (mean, second
    moment) at full size, where the caller has them already (the SSIM filter's)."""

    def __init__(
        self,
        reference: np.ndarray,
        levels: int | None = None,
        first: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.levels = msssim_scales(min(reference.shape[:2])) if levels is None else levels
        weights = np.asarray(WEIGHTS[: self.levels], dtype=np.float64)
        self.weights = weights / weights.sum() if self.levels < len(WEIGHTS) else weights
        x = np.asarray(reference, dtype=np.float64)
        self.pyramid: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for level in range(self.levels):
            ux, uxx = first if level == 0 and first is not None else (gaussian(x), gaussian(x * x))
            self.pyramid.append((x, valid(ux), valid(uxx)))
            if level < self.levels - 1:
                x = _pool(x)

    def score(self, test: np.ndarray, first: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> float:
        """MS-SSIM of the reference and `test` (HxWxC float64). `first`: the full-size `gaussian`
        maps of test, test^2 and reference x test where the caller has them (the SSIM's)."""
        c1, c2 = K1**2, K2**2
        y = np.asarray(test, dtype=np.float64)
        terms = []
        for level, (x, mu_x, exx) in enumerate(self.pyramid):
            uy, uyy, uxy = (
                first if level == 0 and first is not None else (gaussian(y), gaussian(y * y), gaussian(x * y))
            )
            mu_y, eyy, exy = valid(uy), valid(uyy), valid(uxy)
            sxx = exx - mu_x**2
            syy = eyy - mu_y**2
            sxy = exy - mu_x * mu_y
            cs_map = (2 * sxy + c2) / (sxx + syy + c2)
            ssim_map = ((2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)) * cs_map
            if level < self.levels - 1:
                terms.append(np.maximum(cs_map.mean(axis=(0, 1)), 0.0))
                y = _pool(y)
        terms.append(np.maximum(ssim_map.mean(axis=(0, 1)), 0.0))
        with np.errstate(invalid="ignore"):
            value = float(np.prod(np.stack(terms) ** self.weights[:, None], axis=0).mean())
        return value if math.isfinite(value) else math.nan


def ms_ssim_arrays(a: np.ndarray, b: np.ndarray, levels: int | None = None) -> float:
    """MS-SSIM of two float HxWx3 arrays in [0, 1] (`levels` None: from the shorter side)."""
    return Reference(a, levels).score(b)


def ms_ssim(reference: ImageLike, test: ImageLike) -> float:
    """Mean MS-SSIM over the RGB channels of two equally sized images (1.0 when identical)."""
    a, b = pair(reference, test)
    return ms_ssim_arrays(a, b)
