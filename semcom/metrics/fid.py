"""Fréchet Inception Distance: the Fréchet distance between Gaussian fits of two feature sets.

FID(X, Y) = ||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^(1/2)), with mu/S the mean and the
(unbiased) covariance of the features. The math is here, written out and tested; the features
come from an injectable extractor: by default Inception-v3 pool3 (2048-d) through torch-fidelity
(the network torchmetrics and the original TTUR code use), or any `torch.nn.Module`.

With fewer images than feature dimensions (75 or 100 images against 2048 features, as in the
paper) the covariances are singular: the matrix square root is then stabilised with the standard
fix of the reference implementation (add eps*I to both covariances when the product's root is not
finite) and the estimate is strongly biased upwards. Compare FIDs only at equal image counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.metrics.availability import MetricUnavailable, require_module
from semcom.metrics.images import ImageLike, to_float_rgb

if TYPE_CHECKING:
    import torch

# Images -> one float64 feature row per image.
FeatureExtractor = Callable[[Sequence[ImageLike]], NDArray[np.float64]]


def gaussian_fit(features: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and unbiased covariance of an (N, D) feature set, N >= 2."""
    feats = np.asarray(features, dtype=np.float64)
    if feats.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {feats.shape}")
    if feats.shape[0] < 2:
        raise ValueError(f"a Gaussian fit needs at least 2 feature vectors, got {feats.shape[0]}")
    if not np.all(np.isfinite(feats)):
        raise ValueError("features contain NaN or inf")
    return feats.mean(axis=0), np.atleast_2d(np.cov(feats, rowvar=False))


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    `eps` is the diagonal offset added when sqrtm(sigma1 @ sigma2) is not finite (singular
    product); a tiny imaginary part from round-off is dropped, a large one is an error.
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"inconsistent shapes: mu1 {mu1.shape}, mu2 {mu2.shape}, sigma1 {sigma1.shape}, sigma2 {sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings():  # singular products are expected (N < D) and handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0.0, atol=1e-3):
            raise ValueError(f"sqrtm has a large imaginary component {np.max(np.abs(covmean.imag)):.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid_from_features(reference: ArrayLike, test: ArrayLike) -> float:
    """FID between two feature sets of shape (N, D) and (M, D)."""
    return frechet_distance(*gaussian_fit(reference), *gaussian_fit(test))


def _as_uint8_nchw(images: Sequence[ImageLike]) -> torch.Tensor:
    import torch

    arrays = [np.round(to_float_rgb(im) * 255.0).astype(np.uint8) for im in images]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"images in one batch must share a size, got {sorted(shapes)}")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def module_extractor(module: torch.nn.Module, batch_size: int = 16, device: str = "cpu") -> FeatureExtractor:
    """Features from any torch module mapping float NCHW RGB in [0, 1] to (N, ...) (flattened)."""

    def extract(images: Sequence[ImageLike]) -> NDArray[np.float64]:
        import torch

        module.eval().to(device)
        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = _as_uint8_nchw(images[start : start + batch_size]).to(device).float() / 255.0
                out.append(module(batch).reshape(batch.shape[0], -1).double().cpu().numpy())
        return np.concatenate(out, axis=0)

    return extract


def inception_extractor(batch_size: int = 16, device: str = "cpu") -> FeatureExtractor:
    """Inception-v3 pool3 features (2048-d) via torch-fidelity, the network FID is defined with.

    Raises MetricUnavailable when torch-fidelity is not installed or its weights cannot be
    loaded (they are fetched from GitHub into the torch hub cache on first use).
    """
    fidelity = require_module("fid", "torch_fidelity.feature_extractor_inceptionv3", "torch-fidelity")
    try:
        network = fidelity.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"]).eval().to(device)
    except Exception as exc:  # noqa: BLE001 - a download/IO failure of the weights
        raise MetricUnavailable(
            "fid", f"Inception weights not in the torch hub cache and not downloadable ({type(exc).__name__}: {exc})"
        ) from exc

    def extract(images: Sequence[ImageLike]) -> NDArray[np.float64]:
        import torch

        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = _as_uint8_nchw(images[start : start + batch_size]).to(device)
                (features,) = network(batch)
                out.append(features.reshape(batch.shape[0], -1).double().cpu().numpy())
        return np.concatenate(out, axis=0)

    return extract


def fid(
    reference_images: Sequence[ImageLike], test_images: Sequence[ImageLike], extractor: FeatureExtractor | None = None
) -> float:
    """FID between two image sets; `extractor` defaults to Inception-v3 (see inception_extractor)."""
    extract = extractor or inception_extractor()
    return fid_from_features(extract(reference_images), extract(test_images))
