"""LPIPS (Zhang et al. 2018), AlexNet variant as in the paper, through the `lpips` library.

`Lpips` turns images into the [-1, 1] NCHW tensors LPIPS expects and calls an injectable network
`(x, y) -> distances`. The default network is `lpips.LPIPS(net="alex")`; tests and offline runs
pass another one, e.g. `FeatureLpips`, which computes the LPIPS distance itself from any feature
extractor (unit-normalise each layer's features along channels, squared difference, optional
learned per-channel weights, mean over space, sum over layers) — the formula of the library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.metrics.availability import MetricUnavailable, require_module
from semcom.metrics.images import ImageLike, to_float_rgb

if TYPE_CHECKING:
    import torch

# An LPIPS network: two NCHW image batches in [-1, 1] -> one distance per pair.
LpipsNetwork = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]

LPIPS_EPS = 1e-10  # the library's normalisation epsilon


def perceptual_distance(
    features_x: Sequence[torch.Tensor], features_y: Sequence[torch.Tensor], weights: Sequence[ArrayLike] | None = None
) -> torch.Tensor:
    """LPIPS distance per sample from per-layer NCHW feature maps of two image batches.

    d(x, y) = sum_l mean_hw || w_l * (f_l(x)/|f_l(x)| - f_l(y)/|f_l(y)|) ||^2, the channel norm
    taken per pixel; `weights` holds one non-negative C_l vector per layer (None: all ones).
    """
    import torch

    if len(features_x) != len(features_y) or not features_x:
        raise ValueError(f"need the same non-zero number of layers, got {len(features_x)} and {len(features_y)}")
    if weights is not None and len(weights) != len(features_x):
        raise ValueError(f"need one weight vector per layer, got {len(weights)} for {len(features_x)} layers")
    total: torch.Tensor | None = None
    for layer, (fx, fy) in enumerate(zip(features_x, features_y)):
        if fx.shape != fy.shape or fx.ndim != 4:
            raise ValueError(f"layer {layer}: feature shapes {tuple(fx.shape)} and {tuple(fy.shape)} must match (NCHW)")
        nx = fx / (torch.sqrt(torch.sum(fx**2, dim=1, keepdim=True)) + LPIPS_EPS)
        ny = fy / (torch.sqrt(torch.sum(fy**2, dim=1, keepdim=True)) + LPIPS_EPS)
        sq = (nx - ny) ** 2
        if weights is not None:
            w = torch.as_tensor(weights[layer], dtype=sq.dtype, device=sq.device).reshape(1, -1, 1, 1)
            if w.shape[1] != sq.shape[1]:
                raise ValueError(f"layer {layer}: {w.shape[1]} weights for {sq.shape[1]} channels")
            sq = sq * w
        term = sq.sum(dim=1).mean(dim=(1, 2))
        total = term if total is None else total + term
    assert total is not None  # at least one layer, checked above
    return total


class FeatureLpips:
    """An LPIPS-style network from any feature extractor returning a list of NCHW maps.

    `features(x)` receives images in [-1, 1] (the LPIPS input convention). Used to test the
    distance computation without AlexNet weights, and to run LPIPS with another backbone.
    """

    def __init__(
        self, features: Callable[[torch.Tensor], Sequence[torch.Tensor]], weights: Sequence[ArrayLike] | None = None
    ) -> None:
        self.features = features
        self.weights = weights

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return perceptual_distance(self.features(x), self.features(y), self.weights)


def alexnet_lpips(device: str = "cpu") -> LpipsNetwork:
    """`lpips.LPIPS(net="alex")`, or MetricUnavailable if the library or its weights are missing."""
    lib = require_module("lpips", "lpips")
    try:
        network: LpipsNetwork = lib.LPIPS(net="alex", verbose=False).eval().to(device)
    except Exception as exc:  # noqa: BLE001 - AlexNet weights come from download.pytorch.org
        raise MetricUnavailable(
            "lpips", f"AlexNet weights not in the torch hub cache and not downloadable ({type(exc).__name__}: {exc})"
        ) from exc
    return network


def _to_tensor(images: Sequence[ImageLike], device: str) -> torch.Tensor:
    import torch

    arrays = np.stack([to_float_rgb(im) for im in images])
    return torch.from_numpy(arrays).permute(0, 3, 1, 2).float().mul(2.0).sub(1.0).to(device)


class Lpips:
    """LPIPS distances between pairs of images (lower is more similar, 0 for identical)."""

    def __init__(self, network: LpipsNetwork | None = None, device: str = "cpu", batch_size: int = 8) -> None:
        self.device = device
        self.batch_size = batch_size
        self.network = network if network is not None else alexnet_lpips(device)

    def __call__(self, references: Sequence[ImageLike], tests: Sequence[ImageLike]) -> NDArray[np.float64]:
        import torch

        if len(references) != len(tests):
            raise ValueError(f"need as many references as tests, got {len(references)} and {len(tests)}")
        out = []
        with torch.no_grad():
            for start in range(0, len(tests), self.batch_size):
                x = _to_tensor(references[start : start + self.batch_size], self.device)
                y = _to_tensor(tests[start : start + self.batch_size], self.device)
                if x.shape != y.shape:
                    raise ValueError(f"image sizes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
                out.append(self.network(x, y).reshape(-1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)
