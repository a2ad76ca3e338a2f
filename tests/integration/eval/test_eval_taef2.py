"""The sweep on the real TAEF2 codec and a real Flickr8k photo (shared fixtures): the latent path
degrades with the channel, and the improved variant beats the paper's float64 at low SNR with an
eighth of the payload. A 1-image, 256x256 slice of what docs/results/taef2_k0.md reports."""

from __future__ import annotations

import pytest

from semcom.eval.aggregate import aggregate_run
from semcom.eval.sweep import Sweep
from semcom.eval.sweep_config import SweepConfig

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def test_taef2_latent_path_orders_by_snr_and_variant(taef2_dir, flickr_dir, tmp_path):
    from semcom.models import load_profile

    models = load_profile(
        {"name": "taef2", "encoder": {"type": "taef2", "name": "taef2", "source": str(taef2_dir)}},
        device="cpu",
        dtype="float32",
    )
    cfg = SweepConfig(
        data=flickr_dir,
        out=tmp_path / "run",
        profile="taef2",
        caption_source="dataset",
        snr_db=(0.0, 12.0),
        modes=("text", "latent"),
        encodings=("float64", "int8g:pc:p99.9:smmse"),
        size=256,
        limit=1,
        metrics=(),
        grid_images=0,
    )
    summary = Sweep(cfg, models=models).run(progress=False)
    assert summary.computed == 4 and len(summary.unsupported) == 2  # text needs a diffusion model
    _, table = aggregate_run(cfg.out)
    ssim = {(r["variant"], r["snr_db"]): r["ssim_mean"] for r in table}
    payload = {r["variant"]: r["latent_bytes"] for r in table}
    assert payload["float64"] == 8 * payload["int8g:pc:p99.9:smmse"] == 8 * 32 * 32 * 32
    for variant in payload:
        assert ssim[(variant, 12.0)] > ssim[(variant, 0.0)] + 0.2
    assert ssim[("int8g:pc:p99.9:smmse", 0.0)] > ssim[("float64", 0.0)] + 0.05
