"""LPIPS distance formula and wrapper with stand-in networks (no AlexNet weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from semcom.metrics import FeatureLpips, Lpips, MetricUnavailable, perceptual_distance  # noqa: E402
from semcom.metrics.availability import module_installed  # noqa: E402


def _map(values):
    return torch.tensor(values, dtype=torch.float64).reshape(1, len(values), 1, 1)


def test_hand_computed_distance():
    # Unit vectors [1, 0] and [0, 1]: squared difference [1, 1]; weights scale each channel.
    fx, fy = _map([2.0, 0.0]), _map([0.0, 3.0])
    assert perceptual_distance([fx], [fy]).item() == pytest.approx(2.0, rel=1e-9)
    assert perceptual_distance([fx], [fy], [[0.5, 0.25]]).item() == pytest.approx(0.75, rel=1e-9)
    # Two layers add; a layer's channel scale does not matter (per-pixel unit normalisation).
    assert perceptual_distance([fx, fx], [fy, 5 * fx]).item() == pytest.approx(2.0, rel=1e-9)


def test_spatial_mean_over_pixels():
    fx = torch.tensor([[[[1.0, 1.0]], [[0.0, 0.0]]]])  # N=1, C=2, H=1, W=2
    fy = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])  # pixel 0 equal, pixel 1 orthogonal
    assert perceptual_distance([fx], [fy]).item() == pytest.approx(1.0, rel=1e-6)  # (0 + 2) / 2


def test_rejects_mismatched_layers():
    with pytest.raises(ValueError, match="same non-zero number"):
        perceptual_distance([_map([1.0])], [])
    with pytest.raises(ValueError, match="must match"):
        perceptual_distance([_map([1.0, 2.0])], [_map([1.0])])
    with pytest.raises(ValueError, match="2 weights for 3 channels"):
        perceptual_distance([_map([1.0, 2.0, 3.0])], [_map([1.0, 2.0, 3.0])], [[1.0, 1.0]])


@pytest.fixture()
def standin():
    """Two conv layers with fixed random weights standing in for AlexNet."""
    torch.manual_seed(0)
    conv1, conv2 = torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.Conv2d(8, 16, 3, stride=2)

    def features(x):
        f1 = torch.relu(conv1(x))
        return [f1, torch.relu(conv2(f1))]

    return FeatureLpips(features, weights=[torch.rand(8), torch.rand(16)])


def test_wrapper_distances(images, standin):
    metric = Lpips(standin)
    same = metric(images, images)
    np.testing.assert_allclose(same, 0.0, atol=1e-7)
    other = metric(images, images[::-1])
    assert other.shape == (4,) and np.all(other[[0, 3]] > 0)
    np.testing.assert_allclose(other, metric(images[::-1], images)[::-1], rtol=1e-6)  # symmetric


def test_wrapper_feeds_minus_one_to_one_nchw(images):
    seen = {}

    def network(x, y):
        seen["range"] = (x.min().item(), x.max().item())
        seen["shape"] = tuple(x.shape)
        return torch.zeros(x.shape[0])

    black, white = np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 255, np.uint8)
    out = Lpips(network, batch_size=1)([black, white], [white, black])
    assert seen["range"] == (1.0, 1.0) and seen["shape"] == (1, 3, 16, 16)  # the second batch: white
    assert out.shape == (2,)


def test_wrapper_rejects_unequal_lists(images, standin):
    with pytest.raises(ValueError, match="as many references"):
        Lpips(standin)(images, images[:2])


@pytest.mark.skipif(module_installed("lpips"), reason="lpips is installed here")
def test_default_network_unavailable_without_the_library():
    with pytest.raises(MetricUnavailable, match=r"lpips not installed \(pip install semcom\[metrics\]\)"):
        Lpips()
