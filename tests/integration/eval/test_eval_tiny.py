"""End to end on the tiny profile (random weights, 64x64, offline): the CLI writes every file,
a rerun does no new work, the report renders; injected metric networks fill every metric; a
profile without diffusion skips the cells it cannot run."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from PIL import Image

from semcom.cli import main
from semcom.eval.aggregate import aggregate_run
from semcom.eval.sweep import Sweep, SweepConfig


@pytest.fixture(scope="module", autouse=True)
def _offline_env(tmp_path_factory):
    """Tiny profile built once into a temporary cache; no hub access; one torch thread (tiny models)."""
    import torch

    cache = tmp_path_factory.mktemp("semcom-cache")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMCOM_CACHE_DIR", str(cache))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_HOME", str(cache / "hf"))
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Three structured 80x96 images and a Flickr8k-style caption file (two captions each)."""
    root = tmp_path_factory.mktemp("data")
    (root / "images").mkdir()
    y, x = np.mgrid[0:80, 0:96].astype(np.float32)
    lines = []
    for i in range(3):
        disc = ((x - 30 - 10 * i) ** 2 + (y - 40) ** 2 < 300).astype(np.float32)
        rgb = np.stack([x / 95 * 255, y / 79 * 255, disc * (255 - 60 * i)], axis=-1).astype(np.uint8)
        Image.fromarray(rgb).save(root / "images" / f"img{i}.png")
        lines += [f"img{i}.png\ta disc number {i} on a gradient", f"img{i}.png\tsecond caption {i}"]
    (root / "captions.tsv").write_text("\n".join(lines) + "\n")
    return root


RUN_ARGS = ["--caption", "dataset", "--profile", "tiny", "--limit", "2", "--size", "64", "--snr-db", "5", "10",
            "--modes", "text,text+latent,latent", "--encodings", "float16,int8g:pc:smmse", "--steps", "0", "2",
            "--schedule", "4", "--threads", "1", "--no-progress", "--json"]


def test_cli_end_to_end_resume_and_report(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["eval", "run", "--data", str(data_dir), "--out", str(out), "--report", *RUN_ARGS]) == 0
    first = json.loads(capsys.readouterr().out)
    # text: 2 SNRs; text+latent: float16 x 2 SNRs x k in {0, 2} + smmse x 2 SNRs x k=0 (k=2 unsupported);
    # latent: 2 variants x 2 SNRs
    assert (first["cells"], first["unsupported_cells"]) == (2 + 4 + 2 + 4, 2)
    assert first["computed"] == 2 * first["cells"] and first["cached"] == 0
    for name in ("results.jsonl", "per_image.csv", "aggregate.csv", "aggregate.json", "config.json",
                 "metrics.json", "report.md", "figures/fig3_metrics_vs_snr.png", "figures/fig3_metrics_vs_snr.svg",
                 "figures/fig5_metrics_vs_steps.svg", "figures/ssim_psnr_vs_snr.png", "figures/fig4_image_grid.jpg"):
        assert (out / name).is_file(), name
    assert len((out / "results.jsonl").read_text().splitlines()) == first["computed"]

    # The second form of the command (no `run`) on the same directory: nothing new to do.
    assert main(["eval", "--data", str(data_dir), "--out", str(out), *RUN_ARGS]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["computed"] == 0 and second["cached"] == first["computed"]
    assert len((out / "results.jsonl").read_text().splitlines()) == first["computed"]

    report = (out / "report.md").read_text()
    assert "| lpips | no | lpips not installed (pip install semcom[metrics]) |" in report
    assert "| caption + latent |  | float64 | 131,149 |" in report  # Table 1, the paper's latent
    assert "text+latent float16 (k=2)" in report and "receiver option of 'int8g:pc:smmse'" in report
    assert main(["eval", "report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"].endswith("report.md")

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["image"] for r in rows} == {"img0.png", "img1.png"}
    assert all(r["caption_sent"] == f"a disc number {r['image'][3]} on a gradient" for r in rows)
    assert all(r["steps_executed"] == r["steps"] for r in rows)
    assert all(r["lpips"] is None and 0 < r["psnr"] < 60 for r in rows)  # unavailable -> null, never 0


def test_changed_settings_refuse_to_resume(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--data", str(data_dir), "--out", str(out), "--caption", "dataset", "--profile", "tiny", "--limit", "1",
            "--size", "64", "--snr-db", "10", "--modes", "latent", "--threads", "1", "--no-progress", "--metrics", "none"]
    assert main(["eval", "run", *args]) == 0
    assert main(["eval", "run", *args, "--seed", "1"]) == 2
    assert "holds a sweep with other settings (seed: 0 -> 1)" in capsys.readouterr().err


def test_injected_metric_networks_fill_every_metric(data_dir, tmp_path):
    import torch
    import transformers

    from semcom.metrics import ClipScorer, FeatureLpips, MetricSuite, module_extractor
    from tests.unit.metrics.standins import build_tiny_clip

    clip = ClipScorer(*build_tiny_clip())
    assert isinstance(clip.model, transformers.CLIPModel)
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 3, stride=2)
    suite = MetricSuite.load(
        lpips_network=FeatureLpips(lambda x: [torch.relu(conv(x))]),
        clip_scorer=clip,
        fid_extractor=module_extractor(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())),
    )
    cfg = SweepConfig(data=data_dir, out=tmp_path / "run", profile="tiny", caption_source="dataset", snr_db=(10.0,),
                      modes=("latent",), encodings=("float32",), size=64, grid_images=0)
    summary = Sweep(cfg, suite=suite).run(progress=False)
    assert summary.computed == 3
    _, table = aggregate_run(cfg.out)
    (row,) = table
    assert row["fid_n"] == 3 and math.isfinite(row["fid"]) and row["fid"] >= 0
    for metric in ("ssim", "psnr", "lpips", "clip_caption", "clip_image"):
        assert row[f"{metric}_n"] == 3 and math.isfinite(row[f"{metric}_mean"]), metric


def test_profile_without_diffusion_skips_what_it_cannot_run(data_dir, tmp_path):
    from semcom.models import load_profile
    from semcom.models.profiles import Models, resolve_spec

    base = load_profile("tiny", device="cpu", dtype="float32")
    spec = dataclasses.replace(resolve_spec("tiny"), diffusion=None, name="tiny-codec-only")
    models = Models(spec, base.device, base.dtype)
    cfg = SweepConfig(data=data_dir, out=tmp_path / "run", profile="tiny", caption_source="dataset",
                      snr_db=(5.0, 10.0), modes=("text", "text+latent", "latent"), encodings=("int8",), steps=(0, 2),
                      schedule=4, size=64, limit=1, metrics=(), grid_images=0)
    summary = Sweep(cfg, models=models).run(progress=False)
    assert summary.computed == 4  # latent x 2 SNRs + text+latent k=0 x 2 SNRs
    assert len(summary.unsupported) == 4 and all("has no diffusion model" in r for r in summary.unsupported.values())
    saved = json.loads((cfg.out / "config.json").read_text())["unsupported_cells"]
    assert set(saved) == set(summary.unsupported)
