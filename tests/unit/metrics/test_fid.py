"""Fréchet distance math and the feature-extractor plumbing of FID (no Inception weights)."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.metrics import fid, fid_from_features, frechet_distance, gaussian_fit, module_extractor


def test_identical_feature_sets_have_zero_fid(rng):
    feats = rng.normal(size=(200, 6))
    assert fid_from_features(feats, feats) == pytest.approx(0.0, abs=1e-8)


def test_shifted_gaussians_give_squared_mean_distance(rng):
    # Same samples shifted by delta: identical covariances, so FID = ||delta||^2 exactly.
    feats = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    delta = rng.normal(size=8)
    assert fid_from_features(feats, feats + delta) == pytest.approx(float(delta @ delta), rel=1e-6)


def test_isotropic_gaussians_closed_form():
    # N(m1, a^2 I) vs N(m2, b^2 I) in D dims: ||m1 - m2||^2 + D (a - b)^2.
    d, a, b = 5, 1.5, 0.5
    m1, m2 = np.zeros(d), np.arange(d, dtype=float)
    expected = float(m2 @ m2) + d * (a - b) ** 2
    assert frechet_distance(m1, a * a * np.eye(d), m2, b * b * np.eye(d)) == pytest.approx(expected, rel=1e-9)


def test_fewer_samples_than_dimensions_stays_finite(rng):
    # 10 vectors in 32 dims: singular covariances; the eps fix keeps the result finite.
    x, y = rng.normal(size=(10, 32)), rng.normal(loc=0.5, size=(10, 32))
    value = fid_from_features(x, y)
    assert np.isfinite(value) and value > 0


def test_gaussian_fit_is_mean_and_unbiased_covariance(rng):
    feats = rng.normal(size=(50, 3))
    mu, sigma = gaussian_fit(feats)
    np.testing.assert_allclose(mu, feats.mean(0))
    np.testing.assert_allclose(sigma, (feats - mu).T @ (feats - mu) / 49)


@pytest.mark.parametrize(
    ("features", "message"),
    [(np.zeros((1, 4)), "at least 2"), (np.zeros(4), r"\(N, D\)"), (np.full((3, 2), np.nan), "NaN")],
)
def test_gaussian_fit_rejects_bad_features(features, message):
    with pytest.raises(ValueError, match=message):
        gaussian_fit(features)


def test_frechet_distance_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="inconsistent shapes"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_fid_with_a_custom_module_extractor(images):
    torch = pytest.importorskip("torch")
    extractor = module_extractor(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten()))
    feats = extractor(images)
    assert feats.shape == (4, 12)  # 3 channels x 2 x 2
    np.testing.assert_allclose(
        feats[0, :4], images[0].reshape(2, 24, 2, 24, 3).mean((1, 3))[..., 0].ravel() / 255, rtol=1e-5
    )
    assert fid(images, images, extractor) == pytest.approx(0.0, abs=1e-8)
    darker = [im // 2 for im in images]
    assert fid(images, darker, extractor) > 0.01
