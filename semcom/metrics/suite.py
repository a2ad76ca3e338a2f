"""The set of metrics one evaluation computes, with each optional metric's availability.

`MetricSuite.load` tries to build LPIPS, CLIP and the FID feature extractor; whichever cannot be
built (library not installed, weights not cached) is recorded in `unavailable` with its reason
and yields NaN from then on. SSIM, PSNR and MS-SSIM need only scikit-image (and its scipy)
(`semcom.metrics.msssim`): all three are always available.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from semcom.metrics.availability import Availability, MetricUnavailable
from semcom.metrics.clipscore import DEFAULT_CLIP_MODEL, ClipScorer
from semcom.metrics.fid import FeatureExtractor, inception_extractor
from semcom.metrics.images import ImageLike
from semcom.metrics.lpips import Lpips, LpipsNetwork
from semcom.metrics.msssim import ms_ssim
from semcom.metrics.psnr import psnr
from semcom.metrics.ssim import ssim

PER_IMAGE_METRICS = ("ssim", "psnr", "ms_ssim", "lpips", "clip_caption", "clip_image")
SET_METRICS = ("fid",)
ALL_METRICS = PER_IMAGE_METRICS + SET_METRICS
OPTIONAL = ("lpips", "clip", "fid")  # what --metrics can switch off; "clip" covers both CLIP scores


@dataclass
class MetricSuite:
    """Per-image metrics (`per_image`) and FID features (`fid_features`) with availability."""

    lpips: Lpips | None = None
    clip: ClipScorer | None = None
    fid_extractor: FeatureExtractor | None = None
    unavailable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        enabled: Sequence[str] = OPTIONAL,
        device: str = "cpu",
        clip_model: str = DEFAULT_CLIP_MODEL,
        lpips_network: LpipsNetwork | None = None,
        clip_scorer: ClipScorer | None = None,
        fid_extractor: FeatureExtractor | None = None,
    ) -> MetricSuite:
        """Build what can be built; injected networks (tests, custom backbones) win over defaults."""
        unknown = set(enabled) - set(OPTIONAL)
        if unknown:
            raise ValueError(f"unknown optional metrics {sorted(unknown)}; choose from {OPTIONAL}")
        suite = cls()
        if "lpips" not in enabled:
            suite.unavailable["lpips"] = "disabled by --metrics"
        else:
            try:
                suite.lpips = Lpips(lpips_network, device=device) if lpips_network is not None else Lpips(device=device)
            except MetricUnavailable as exc:
                suite.unavailable["lpips"] = exc.reason
        if "clip" not in enabled:
            suite.unavailable["clip_caption"] = suite.unavailable["clip_image"] = "disabled by --metrics"
        else:
            try:
                suite.clip = clip_scorer or ClipScorer.pretrained(clip_model, device=device)
            except MetricUnavailable as exc:
                suite.unavailable["clip_caption"] = suite.unavailable["clip_image"] = exc.reason
        if "fid" not in enabled:
            suite.unavailable["fid"] = "disabled by --metrics"
        else:
            try:
                suite.fid_extractor = fid_extractor or inception_extractor(device=device)
            except MetricUnavailable as exc:
                suite.unavailable["fid"] = exc.reason
        return suite

    def availability(self) -> list[Availability]:
        return [Availability(m, m not in self.unavailable, self.unavailable.get(m, "")) for m in ALL_METRICS]

    def per_image(self, original: ImageLike, reconstruction: ImageLike, caption: str | None) -> dict[str, float]:
        """Every per-image metric of one reconstruction; NaN for an unavailable one.

        `clip_caption` is NaN too when there is no caption (a latent-only profile sends none).
        """
        out = {
            "ssim": ssim(original, reconstruction),
            "psnr": psnr(original, reconstruction),
            "ms_ssim": ms_ssim(original, reconstruction),
        }
        out["lpips"] = float(self.lpips([original], [reconstruction])[0]) if self.lpips else math.nan
        if self.clip:
            out["clip_image"] = float(self.clip.image_score([reconstruction], [original])[0])
            out["clip_caption"] = float(self.clip.text_score([reconstruction], [caption])[0]) if caption else math.nan
        else:
            out["clip_image"] = out["clip_caption"] = math.nan
        return out

    def fid_features(self, images: Sequence[ImageLike]) -> NDArray[np.float64] | None:
        """FID features of images (rows), or None when FID is unavailable."""
        return self.fid_extractor(images) if self.fid_extractor else None
