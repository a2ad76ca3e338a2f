"""MetricSuite: what is unavailable says why and yields NaN; injected networks make it whole."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semcom.metrics import ClipScorer, FeatureLpips, MetricSuite, module_extractor
from semcom.metrics.availability import module_installed


@pytest.mark.skipif(module_installed("lpips") or module_installed("torch_fidelity"), reason="metric extras installed")
def test_missing_libraries_and_weights_give_nan_with_reasons(tmp_path, monkeypatch, images):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    suite = MetricSuite.load()
    assert "lpips not installed (pip install semcom[metrics])" in suite.unavailable["lpips"]
    assert "torch-fidelity not installed" in suite.unavailable["fid"]
    assert "not in HF cache" in suite.unavailable["clip_caption"]
    values = suite.per_image(images[0], images[1], "a dog")
    assert 0 < values["psnr"] < 20 and -1 < values["ssim"] < 1
    assert all(math.isnan(values[m]) for m in ("lpips", "clip_caption", "clip_image"))
    assert suite.fid_features(images) is None
    table = {a.metric: a for a in suite.availability()}
    assert table["ssim"].available and not table["fid"].available and table["fid"].reason


def test_disabled_metrics_are_reported_as_disabled():
    suite = MetricSuite.load(enabled=())
    assert set(suite.unavailable.values()) == {"disabled by --metrics"}
    with pytest.raises(ValueError, match="unknown optional metrics"):
        MetricSuite.load(enabled=("bleu",))


def test_injected_networks_give_every_metric(tiny_clip, images):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3)
    suite = MetricSuite.load(
        lpips_network=FeatureLpips(lambda x: [conv(x)]),
        clip_scorer=ClipScorer(*tiny_clip),
        fid_extractor=module_extractor(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())),
    )
    assert suite.unavailable == {}
    values = suite.per_image(images[0], images[0], "a dog")
    assert values["ssim"] == pytest.approx(1.0) and values["psnr"] == math.inf
    assert values["lpips"] == pytest.approx(0.0, abs=1e-6) and values["clip_image"] == pytest.approx(100.0, rel=1e-5)
    assert 0 <= values["clip_caption"] <= 100
    assert math.isnan(suite.per_image(images[0], images[1], None)["clip_caption"])  # no caption sent
    assert suite.fid_features(images).shape == (4, 3)
    assert np.isfinite(suite.fid_features(images)).all()
