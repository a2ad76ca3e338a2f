"""The sweep's metric suite with the work that repeats across an image's cells done once.

Every cell of a sweep image is scored against the same reference, and many cells produce the
same picture (an outage's grey fallback, a digital file received error-free at several SNRs, a
latent received without a bit error). `CachedSuite` wraps a `semcom.metrics.suite.MetricSuite`:

* **per reconstruction**: a picture already scored against this reference (same pixels, same
  caption) is not scored again; its metrics are returned from memory;
* **per reference**: the reference-side terms of SSIM and MS-SSIM (the Gaussian-filtered mean and
  second moment of every channel, at every MS-SSIM scale, and the reference pyramid) are computed
  once per reference image; a cell filters only its own picture and the cross term.

The numbers are bit-for-bit those of `semcom.metrics` (`ssim`: scikit-image's
`structural_similarity` with the project's settings, recomputed here with the same scipy filters
in the same order; `ms_ssim`: `semcom.metrics.msssim`'s grouped convolutions, whose per-channel
results do not depend on which channels share a call); tests/unit/eval/test_metric_cache.py
compares them with ``==``. With LPIPS or CLIP enabled the suite's own `per_image` scores a new
picture (the memo still applies).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from semcom.metrics.images import ImageLike, to_float_rgb

# skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5): truncate 3.5 -> 11 taps
_SIGMA, _TRUNCATE, _WIN = 1.5, 3.5, 11
_K1, _K2 = 0.01, 0.03


def _gauss(x: np.ndarray) -> np.ndarray:
    """skimage's SSIM filter of each channel of an HxWxC float64 array (sigma 0 across channels:
    scipy skips that axis, so each channel is filtered exactly as on its own)."""
    from scipy import ndimage as ndi

    return ndi.gaussian_filter(x, (_SIGMA, _SIGMA, 0), mode="reflect", cval=0.0, truncate=_TRUNCATE)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """`semcom.metrics.psnr` of two float64 HxWx3 arrays in [0, 1] (skimage's arithmetic, data range 1)."""
    if np.array_equal(a, b):
        return math.inf
    err = np.mean((a - b) ** 2, dtype=np.float64)
    return float(10 * np.log10((1.0**2) / err))


class ReferenceTerms:
    """One reference image's SSIM / MS-SSIM terms, reused by every picture scored against it."""

    def __init__(self, reference: np.ndarray) -> None:
        import torch
        import torch.nn.functional as F

        from semcom.metrics.msssim import WEIGHTS, _filter, _window, msssim_scales

        if min(reference.shape[:2]) < _WIN:
            raise ValueError(
                f"SSIM needs images of at least 11x11 pixels (Gaussian window), got "
                f"{reference.shape[1]}x{reference.shape[0]}"
            )
        self.array = reference
        self.ux = _gauss(reference)
        self.uxx = _gauss(reference * reference)
        # MS-SSIM: the reference pyramid and its filtered mean / second moment at every scale
        self.levels = msssim_scales(min(reference.shape[:2]))
        weights = torch.tensor(WEIGHTS[: self.levels], dtype=torch.float64)
        self.weights = weights / weights.sum() if self.levels < len(WEIGHTS) else weights
        self.g = _window()
        x = torch.from_numpy(np.ascontiguousarray(reference.transpose(2, 0, 1), dtype=np.float64))[None]
        self.pyramid: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.paddings: list[list[int]] = []
        with torch.no_grad():
            for level in range(self.levels):
                mu_x, exx = torch.split(_filter(torch.cat([x, x * x], dim=1), self.g), x.shape[1], dim=1)
                self.pyramid.append((x, mu_x, exx))
                if level < self.levels - 1:
                    padding = [s % 2 for s in x.shape[2:]]
                    self.paddings.append(padding)
                    x = F.avg_pool2d(x, kernel_size=2, padding=padding)

    def ssim(self, b: np.ndarray) -> float:
        """`semcom.metrics.ssim` of this reference and `b` (float64 HxWx3 in [0, 1])."""
        a = self.array
        if a.shape != b.shape:
            raise ValueError(f"image sizes differ: reference {a.shape[1]}x{a.shape[0]}, test {b.shape[1]}x{b.shape[0]}")
        uy = _gauss(b)
        uyy = _gauss(b * b)
        uxy = _gauss(a * b)
        ux, uxx = self.ux, self.uxx
        # structural_similarity's arithmetic, in its order (cov_norm 1.0: use_sample_covariance=False)
        vx = 1.0 * (uxx - ux * ux)
        vy = 1.0 * (uyy - uy * uy)
        vxy = 1.0 * (uxy - ux * uy)
        c1, c2 = (_K1 * 1.0) ** 2, (_K2 * 1.0) ** 2
        a1, a2, b1, b2 = 2 * ux * uy + c1, 2 * vxy + c2, ux**2 + uy**2 + c1, vx + vy + c2
        s = (a1 * a2) / (b1 * b2)
        pad = (_WIN - 1) // 2
        per_channel = np.array([s[pad:-pad, pad:-pad, c].mean(dtype=np.float64) for c in range(s.shape[2])])
        return float(per_channel.mean())

    def ms_ssim(self, b: np.ndarray) -> float:
        """`semcom.metrics.msssim.ms_ssim` of this reference and `b`."""
        import torch
        import torch.nn.functional as F

        from semcom.metrics.msssim import K1, K2, _filter

        c1, c2 = K1**2, K2**2
        y = torch.from_numpy(np.ascontiguousarray(b.transpose(2, 0, 1), dtype=np.float64))[None]
        terms = []
        with torch.no_grad():
            for level, (x, mu_x, exx) in enumerate(self.pyramid):
                channels = x.shape[1]
                mu_y, eyy, exy = torch.split(_filter(torch.cat([y, y * y, x * y], dim=1), self.g), channels, dim=1)
                sxx = exx - mu_x**2
                syy = eyy - mu_y**2
                sxy = exy - mu_x * mu_y
                cs_map = (2 * sxy + c2) / (sxx + syy + c2)
                ssim_map = ((2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)) * cs_map
                ssim_c, cs_c = ssim_map.flatten(2).mean(-1)[0], cs_map.flatten(2).mean(-1)[0]
                if level < self.levels - 1:
                    terms.append(torch.relu(cs_c))
                    y = F.avg_pool2d(y, kernel_size=2, padding=self.paddings[level])
            terms.append(torch.relu(ssim_c))
            value = torch.prod(torch.stack(terms, dim=0) ** self.weights.view(-1, 1), dim=0).mean()
        out = float(value)
        return out if math.isfinite(out) else math.nan


class CachedSuite:
    """A MetricSuite whose `per_image` reuses per-reference terms and memoises per picture.

    Anything else (availability, fid_features, the lpips / clip members) is the wrapped suite's.
    The memo holds one reference at a time (the sweep scores image by image); `memo_limit` bounds it.
    """

    def __init__(self, suite: Any, memo_limit: int = 4096) -> None:
        self.inner = suite
        self.memo_limit = memo_limit
        self._reference_obj: Any = None
        self._terms: ReferenceTerms | None = None
        self._memo: dict[tuple[str, str | None], dict[str, float]] = {}
        self.scored = 0  # pictures actually scored (the rest came from the memo)
        self.reused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _reference(self, original: ImageLike) -> ReferenceTerms:
        if self._terms is None or original is not self._reference_obj:
            self._terms = ReferenceTerms(to_float_rgb(original))
            self._reference_obj = original  # held, so its id is never reused while cached
            self._memo = {}
        return self._terms

    def per_image(self, original: ImageLike, reconstruction: ImageLike, caption: str | None) -> dict[str, float]:
        """`MetricSuite.per_image`, the same numbers."""
        terms = self._reference(original)
        b = to_float_rgb(reconstruction)
        key = (hashlib.sha1(b.tobytes()).hexdigest() + str(b.shape), caption)
        if key in self._memo:
            self.reused += 1
            return dict(self._memo[key])
        if self.inner.lpips is not None or self.inner.clip is not None:
            out = self.inner.per_image(original, reconstruction, caption)
        else:
            out = {
                "ssim": terms.ssim(b),
                "psnr": _psnr(terms.array, b),
                "ms_ssim": terms.ms_ssim(b),
                "lpips": math.nan,
                "clip_image": math.nan,
                "clip_caption": math.nan,
            }
        self.scored += 1
        if len(self._memo) < self.memo_limit:
            self._memo[key] = dict(out)
        return out
