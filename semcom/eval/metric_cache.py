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
in the same order; `ms_ssim`: `semcom.metrics.msssim.Reference`, whose first scale is the SSIM's
filtered maps cropped, so a picture is filtered once at full size for both metrics);
tests/unit/eval/test_metric_cache.py compares them with ``==``. With LPIPS or CLIP enabled the
suite's own `per_image` scores a new picture (the memo still applies).
"""

from __future__ import annotations

import hashlib
import math
from functools import cached_property
from typing import Any

import numpy as np

from semcom.metrics.images import ImageLike, to_float_rgb
from semcom.metrics.msssim import K1 as _K1
from semcom.metrics.msssim import K2 as _K2
from semcom.metrics.msssim import WINDOW as _WIN  # skimage's SSIM window too (sigma 1.5, truncate 3.5)
from semcom.metrics.msssim import Reference, gaussian


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """`semcom.metrics.psnr` of two float64 HxWx3 arrays in [0, 1] (skimage's arithmetic, data range 1)."""
    if np.array_equal(a, b):
        return math.inf
    err = np.mean((a - b) ** 2, dtype=np.float64)
    return float(10 * np.log10((1.0**2) / err))


class ReferenceTerms:
    """One reference image's SSIM / MS-SSIM terms, reused by every picture scored against it."""

    def __init__(self, reference: np.ndarray) -> None:
        if min(reference.shape[:2]) < _WIN:
            raise ValueError(
                f"SSIM needs images of at least 11x11 pixels (Gaussian window), got "
                f"{reference.shape[1]}x{reference.shape[0]}"
            )
        self.array = reference
        self.ux = gaussian(reference)
        self.uxx = gaussian(reference * reference)

    @cached_property
    def msssim(self) -> Any:
        """The reference side of MS-SSIM (`semcom.metrics.msssim.Reference`), built on first use:
        the fits' SSIM-only scoring (`semcom.eval.codecs.FitMemo`) never needs its pyramid."""
        return Reference(self.array, first=(self.ux, self.uxx))

    def ssim(self, b: np.ndarray) -> float:
        """`semcom.metrics.ssim` of this reference and `b` (float64 HxWx3 in [0, 1])."""
        return self._ssim(b)[0]

    def scores(self, b: np.ndarray) -> tuple[float, float]:
        """(`semcom.metrics.ssim`, `semcom.metrics.ms_ssim`) of this reference and `b`; the picture's
        filtered maps serve both."""
        value, maps = self._ssim(b)
        return value, self.msssim.score(b, first=maps)

    def _ssim(self, b: np.ndarray) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        a = self.array
        if a.shape != b.shape:
            raise ValueError(f"image sizes differ: reference {a.shape[1]}x{a.shape[0]}, test {b.shape[1]}x{b.shape[0]}")
        uy = gaussian(b)
        uyy = gaussian(b * b)
        uxy = gaussian(a * b)
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
        return float(per_channel.mean()), (uy, uyy, uxy)


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
            ssim, ms_ssim = terms.scores(b)
            out = {
                "ssim": ssim,
                "psnr": _psnr(terms.array, b),
                "ms_ssim": ms_ssim,
                "lpips": math.nan,
                "clip_image": math.nan,
                "clip_caption": math.nan,
            }
        self.scored += 1
        if len(self._memo) < self.memo_limit:
            self._memo[key] = dict(out)
        return out
