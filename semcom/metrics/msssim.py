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

The computation is in float64 torch (torch is in the `models` extra every evaluation installs);
pytorch-msssim itself is only the tests' reference (dev extra).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from semcom.metrics.images import ImageLike, pair

if TYPE_CHECKING:
    import torch

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03
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


def _window() -> torch.Tensor:
    import torch

    coords = torch.arange(WINDOW, dtype=torch.float64) - WINDOW // 2
    g = torch.exp(-(coords**2) / (2 * SIGMA**2))
    return g / g.sum()


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filtering, 'valid' (no padding), per channel: x is (1, C, H, W)."""
    import torch.nn.functional as F

    channels = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(x, g.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def _ssim_cs(x: torch.Tensor, y: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel SSIM and contrast-structure means at one scale (data range 1)."""
    import torch

    c1, c2 = K1**2, K2**2
    channels = x.shape[1]
    # the five filtered maps in one grouped convolution (the same sums as five separate ones)
    mu_x, mu_y, exx, eyy, exy = torch.split(_filter(torch.cat([x, y, x * x, y * y, x * y], dim=1), g), channels, dim=1)
    sxx = exx - mu_x**2
    syy = eyy - mu_y**2
    sxy = exy - mu_x * mu_y
    cs_map = (2 * sxy + c2) / (sxx + syy + c2)
    ssim_map = ((2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)) * cs_map
    return ssim_map.flatten(2).mean(-1)[0], cs_map.flatten(2).mean(-1)[0]


def ms_ssim_arrays(a: np.ndarray, b: np.ndarray, levels: int | None = None) -> float:
    """MS-SSIM of two float HxWx3 arrays in [0, 1] (`levels` None: from the shorter side)."""
    import torch
    import torch.nn.functional as F

    if levels is None:
        levels = msssim_scales(min(a.shape[:2]))
    weights = torch.tensor(WEIGHTS[:levels], dtype=torch.float64)
    if levels < len(WEIGHTS):  # 5 scales: the published weights as they are (they sum to 1.0001)
        weights = weights / weights.sum()
    x = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float64))[None]
    y = torch.from_numpy(np.ascontiguousarray(b.transpose(2, 0, 1), dtype=np.float64))[None]
    g = _window()
    terms = []
    with torch.no_grad():
        for level in range(levels):
            ssim_c, cs_c = _ssim_cs(x, y, g)
            if level < levels - 1:
                terms.append(torch.relu(cs_c))
                padding = [s % 2 for s in x.shape[2:]]
                x = F.avg_pool2d(x, kernel_size=2, padding=padding)
                y = F.avg_pool2d(y, kernel_size=2, padding=padding)
        terms.append(torch.relu(ssim_c))
        stacked = torch.stack(terms, dim=0)  # (levels, C)
        value = torch.prod(stacked ** weights.view(-1, 1), dim=0).mean()
    out = float(value)
    return out if math.isfinite(out) else math.nan


def ms_ssim(reference: ImageLike, test: ImageLike) -> float:
    """Mean MS-SSIM over the RGB channels of two equally sized images (1.0 when identical)."""
    a, b = pair(reference, test)
    return ms_ssim_arrays(a, b)
