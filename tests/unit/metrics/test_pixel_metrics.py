"""SSIM and PSNR against identities and closed-form values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from semcom.metrics import psnr, ssim


def test_identical_images_give_ssim_one_and_psnr_inf(images):
    assert ssim(images[0], images[0]) == pytest.approx(1.0, abs=1e-12)
    assert psnr(images[0], images[0]) == math.inf


@pytest.mark.parametrize("offset", [0.01, 0.1, 0.25])
def test_constant_offset_gives_closed_form_psnr(rng, offset):
    # MSE = offset^2 exactly, so PSNR = 10 log10(1 / offset^2) = -20 log10(offset).
    base = rng.uniform(0.0, 1.0 - offset, size=(32, 40, 3))
    assert psnr(base, base + offset) == pytest.approx(-20.0 * math.log10(offset), rel=1e-9)


def test_uint8_and_pil_inputs_are_scaled_to_unit_range(images):
    a = images[0]
    b = np.clip(a.astype(np.int16) + 1, 0, 255).astype(np.uint8)  # +1/255 except saturated pixels
    mse = np.mean(((b.astype(np.float64) - a) / 255.0) ** 2)
    expected = 10 * math.log10(1 / mse)
    assert psnr(a, b) == pytest.approx(expected, rel=1e-9)
    assert psnr(Image.fromarray(a), Image.fromarray(b)) == pytest.approx(expected, rel=1e-9)
    assert ssim(Image.fromarray(a), b) == pytest.approx(ssim(a, b), rel=1e-12)


def test_ssim_of_constant_images_is_the_luminance_term():
    # Zero local variance: SSIM reduces to (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 1)^2.
    a, b = 0.5, 0.6
    c1 = 0.01**2
    x, y = np.full((24, 24, 3), a), np.full((24, 24, 3), b)
    assert ssim(x, y) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-9)


def test_ssim_is_symmetric_bounded_and_decreases_with_noise(rng, images):
    clean = images[0].astype(np.float64) / 255.0
    small = np.clip(clean + rng.normal(0, 0.02, clean.shape), 0, 1)
    large = np.clip(clean + rng.normal(0, 0.2, clean.shape), 0, 1)
    assert ssim(clean, small) == pytest.approx(ssim(small, clean), rel=1e-9)
    assert 1.0 > ssim(clean, small) > ssim(clean, large) > -1.0
    assert psnr(clean, small) > psnr(clean, large)


def test_grey_and_alpha_images_compare_as_rgb(images):
    grey = images[0][:, :, 0]
    rgba = np.dstack([images[0], np.full(grey.shape, 255, np.uint8)])
    assert ssim(grey, np.dstack([grey] * 3)) == pytest.approx(1.0)
    assert psnr(rgba, images[0]) == math.inf


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (np.zeros((16, 16, 3)), np.zeros((16, 17, 3)), "sizes differ"),
        (np.zeros((16, 16, 3)), np.full((16, 16, 3), 2.0), r"\[0, 1\]"),
        (np.zeros((16, 16, 3)), np.full((16, 16, 3), np.nan), "non-finite"),
        (np.zeros((16, 16, 5)), np.zeros((16, 16, 5)), "HxWx3"),
        (np.zeros((8, 8, 3)), np.zeros((8, 8, 3)), "11x11"),
    ],
)
def test_bad_input_raises_value_error(a, b, message):
    with pytest.raises(ValueError, match=message):
        ssim(a, b)
