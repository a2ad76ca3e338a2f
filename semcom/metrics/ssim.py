"""SSIM between the sender's image and the reconstruction (scikit-image).

Variant, fixed for every number this project reports: the original SSIM of Wang et al. (2004),
i.e. `skimage.metrics.structural_similarity` on RGB float images in [0, 1] with
`channel_axis=-1` (SSIM per colour channel, then averaged), `data_range=1`,
`gaussian_weights=True, sigma=1.5, use_sample_covariance=False` (an 11x11 Gaussian window,
K1 = 0.01, K2 = 0.03). The 7x7 uniform-window default of scikit-image gives slightly different
values; do not mix the two.
"""

from __future__ import annotations

from semcom.metrics.images import ImageLike, pair

SSIM_VARIANT = "skimage structural_similarity, RGB channel_axis=-1, Gaussian window sigma=1.5, data_range=1"


def ssim(reference: ImageLike, test: ImageLike) -> float:
    """Mean SSIM over the RGB channels of two equally sized images (1.0 when identical)."""
    from skimage.metrics import structural_similarity

    a, b = pair(reference, test)
    if min(a.shape[:2]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels (Gaussian window), got {a.shape[1]}x{a.shape[0]}")
    return float(
        structural_similarity(
            a, b, channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )
