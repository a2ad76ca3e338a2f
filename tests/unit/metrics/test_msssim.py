"""MS-SSIM: 1 for identical images, the reference implementation's value at 5 scales, fewer scales
(weights renormalised) on small images, ordering with noise."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.metrics import MetricSuite, ms_ssim
from semcom.metrics.msssim import WEIGHTS, ms_ssim_arrays, msssim_scales


def _noisy(shape, sigma, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    return a, np.clip(a + sigma * rng.standard_normal(shape), 0, 1)


@pytest.mark.parametrize("side", [16, 64, 128, 200])
def test_identical_images_give_one(side):
    a, _ = _noisy((side, side + 3, 3), 0.0)
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    image = (a * 255).astype(np.uint8)
    assert ms_ssim(image, image) == pytest.approx(1.0, abs=1e-12)


def test_equals_pytorch_msssim_at_five_scales():
    torch = pytest.importorskip("torch")
    reference = pytest.importorskip("pytorch_msssim")
    for shape, sigma in (((200, 171, 3), 0.1), ((161, 240, 3), 0.3)):  # odd sides: the padded pooling
        a, b = _noisy(shape, sigma)
        x = torch.from_numpy(a.transpose(2, 0, 1).copy())[None]
        y = torch.from_numpy(b.transpose(2, 0, 1).copy())[None]
        expected = float(reference.ms_ssim(x, y, data_range=1.0))
        assert ms_ssim(a, b) == pytest.approx(expected, abs=1e-6)  # the reference's window is float32


def test_scales_follow_the_shorter_side():
    assert [msssim_scales(s) for s in (11, 20, 21, 40, 41, 80, 81, 160, 161, 512)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    with pytest.raises(ValueError):
        msssim_scales(10)


def test_small_images_use_fewer_scales_with_renormalised_weights():
    a, b = _noisy((64, 64, 3), 0.1)
    assert msssim_scales(64) == 3
    value = ms_ssim(a, b)
    assert value == pytest.approx(ms_ssim_arrays(a, b, levels=3))
    # one scale: the weight renormalises to 1, so MS-SSIM is the (ReLU'd) mean single-scale SSIM of the
    # reference's valid-window computation
    one = ms_ssim_arrays(a, b, levels=1)
    assert 0 < one < 1 and abs(sum(WEIGHTS[:3]) - 1) > 0.1  # renormalisation is not a no-op


def test_more_noise_scores_lower():
    values = [ms_ssim(*_noisy((96, 96, 3), s, seed=1)) for s in (0.02, 0.1, 0.3)]
    assert values[0] > values[1] > values[2]


def test_suite_reports_ms_ssim(images):
    suite = MetricSuite.load(enabled=())
    values = suite.per_image(images[0], images[0], None)
    assert values["ms_ssim"] == pytest.approx(1.0)
    assert {a.metric: a.available for a in suite.availability()}["ms_ssim"]
