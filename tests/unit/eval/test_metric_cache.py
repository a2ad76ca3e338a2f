"""The sweep's cached metric suite gives bit-for-bit the numbers of `semcom.metrics` and scores
each distinct picture once per reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from semcom.eval.metric_cache import CachedSuite
from semcom.metrics.suite import MetricSuite


def _photo(h: int, w: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([x / w, y / h, ((x - w / 3) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2) * 0.8], axis=-1)
    noisy = np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1)
    return Image.fromarray((noisy * 255).astype(np.uint8))


def _tests(reference: Image.Image, seed: int) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    arr = np.asarray(reference).astype(np.float64)
    w, h = reference.size
    return [
        Image.new("RGB", reference.size, (128, 128, 128)),  # the outage picture
        reference.copy(),  # error-free: PSNR inf
        Image.fromarray(np.clip(arr + rng.normal(0, 25, arr.shape), 0, 255).astype(np.uint8)),
        reference.resize((max(1, w // 4), max(1, h // 4))).resize(reference.size),
    ]


@pytest.mark.parametrize("size", [(96, 128), (161, 203), (37, 50)])  # MS-SSIM at 2 scales, 5 (odd sides), 1
def test_same_numbers_as_the_metric_suite(size):
    suite = MetricSuite.load(enabled=[])
    cached = CachedSuite(suite)
    for seed in range(2):
        reference = _photo(*size, seed)
        for test in _tests(reference, seed):
            want = suite.per_image(reference, test, "a caption")
            got = cached.per_image(reference, test, "a caption")
            assert list(got) == list(want)
            for key, value in want.items():
                assert got[key] == value or (math.isnan(value) and math.isnan(got[key])), (size, key)


def test_each_picture_is_scored_once_per_reference():
    cached = CachedSuite(MetricSuite.load(enabled=[]))
    reference = _photo(64, 64, 0)
    grey = Image.new("RGB", reference.size, (128, 128, 128))
    first = cached.per_image(reference, grey, None)
    again = cached.per_image(reference, grey.copy(), None)  # same pixels, another object
    assert again == first and (cached.scored, cached.reused) == (1, 1)
    again["ssim"] = -1.0  # a caller's change does not reach the memo
    assert cached.per_image(reference, grey, None)["ssim"] == first["ssim"]
    other = _photo(64, 64, 1)  # a new reference: its own terms, its own memo
    assert cached.per_image(other, grey, None)["ssim"] != first["ssim"]
    assert cached.scored == 2


def test_too_small_an_image_is_refused_like_the_suite():
    with pytest.raises(ValueError, match="11x11"):
        CachedSuite(MetricSuite.load(enabled=[])).per_image(_photo(10, 30, 0), _photo(10, 30, 1), None)
