"""Image-quality metrics: SSIM, PSNR, LPIPS, FID, CLIP score (pure: no gRPC, models injected).

SSIM, PSNR and MS-SSIM need scikit-image (and its scipy) only. LPIPS, FID and CLIP score use optional libraries and weights
(`pip install semcom[metrics]`); when those are missing the metric is reported unavailable with
its reason (see `MetricSuite`), never as a zero.
"""

from semcom.metrics.availability import Availability, MetricUnavailable
from semcom.metrics.clipscore import ClipScorer, cosine_to_score
from semcom.metrics.fid import fid, fid_from_features, frechet_distance, gaussian_fit, module_extractor
from semcom.metrics.lpips import FeatureLpips, Lpips, perceptual_distance
from semcom.metrics.msssim import MSSSIM_VARIANT, ms_ssim
from semcom.metrics.psnr import psnr
from semcom.metrics.ssim import SSIM_VARIANT, ssim
from semcom.metrics.suite import ALL_METRICS, PER_IMAGE_METRICS, SET_METRICS, MetricSuite

__all__ = [
    "ALL_METRICS",
    "Availability",
    "ClipScorer",
    "FeatureLpips",
    "Lpips",
    "MetricSuite",
    "MSSSIM_VARIANT",
    "MetricUnavailable",
    "PER_IMAGE_METRICS",
    "SET_METRICS",
    "SSIM_VARIANT",
    "cosine_to_score",
    "fid",
    "fid_from_features",
    "frechet_distance",
    "gaussian_fit",
    "module_extractor",
    "ms_ssim",
    "perceptual_distance",
    "psnr",
    "ssim",
]
