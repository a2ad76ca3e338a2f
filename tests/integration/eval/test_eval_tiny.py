"""End to end on the tiny profile (random weights, 64x64, offline): the CLI writes every file,
a rerun does no new work, the report renders; injected metric networks fill every metric; a
profile without diffusion skips the cells it cannot run."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from semcom.cli import main
from semcom.eval.aggregate import aggregate_run
from semcom.eval.sweep import Sweep
from semcom.eval.sweep_config import SweepConfig
from tests.integration.eval.conftest import TINY_ARGS

pytestmark = pytest.mark.usefixtures("env")


RUN_ARGS = [
    *TINY_ARGS,
    "--limit",
    "2",
    "--image-size",
    "64",
    "--snr-db",
    "5",
    "10",
    "--modes",
    "text",
    "text+latent",
    "latent",
    "--encodings",
    "float16",
    "int8g:pc:smmse",
    "int8:nb",
    "--denoise-steps",
    "0",
    "2",
    "--schedule",
    "4",
]


def test_cli_end_to_end_resume_and_report(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["eval", "run", "--data", str(data_dir), "--out", str(out), "--report", *RUN_ARGS]) == 0
    first = json.loads(capsys.readouterr().out)
    # text: 2 SNRs; text+latent: float16 and smmse (a receiver repair) x 2 SNRs x k in {0, 2} + nb (an
    # evaluation-only repair) x 2 SNRs x k=0 (k=2 unsupported); latent: 3 variants x 2 SNRs
    assert (first["cells"], first["unsupported_cells"]) == (2 + 8 + 2 + 6, 2)
    assert first["computed"] == 2 * first["cells"] and first["cached"] == 0
    for name in (
        "results.jsonl",
        "per_image.csv",
        "aggregate.csv",
        "aggregate.json",
        "config.json",
        "metrics.json",
        "report.md",
        "figures/fig3_metrics_vs_snr.png",
        "figures/fig3_metrics_vs_snr.svg",
        "figures/fig5_metrics_vs_steps.svg",
        "figures/ssim_psnr_vs_snr.png",
        "figures/fig4_image_grid.jpg",
    ):
        assert (out / name).is_file(), name
    assert len((out / "results.jsonl").read_text().splitlines()) == first["computed"]

    # The same sweep again on the same directory: nothing new to do (resume).
    assert main(["eval", "run", "--data", str(data_dir), "--out", str(out), *RUN_ARGS]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["computed"] == 0 and second["cached"] == first["computed"]
    assert len((out / "results.jsonl").read_text().splitlines()) == first["computed"]

    report = (out / "report.md").read_text()
    assert "| lpips | no | lpips not installed (pip install semcom[metrics]) |" in report
    assert "| caption + latent |  | float64 | 131,149 |" in report  # Table 1, the paper's latent
    assert "text+latent float16 (k=2)" in report and "receiver option of 'int8:nb'" in report
    assert main(["eval", "report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"].endswith("report.md")

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["image"] for r in rows} == {"img0.png", "img1.png"}
    assert all(r["caption_sent"] == f"a disc number {r['image'][3]} on a gradient" for r in rows)
    assert all(r["steps_executed"] == r["steps"] for r in rows)
    assert all(r["lpips"] is None and 0 < r["psnr"] < 60 for r in rows)  # unavailable -> null, never 0


def test_changed_settings_refuse_to_resume(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--caption",
        "dataset",
        "--profile",
        "tiny",
        "--limit",
        "1",
        "--image-size",
        "64",
        "--snr-db",
        "10",
        "--modes",
        "latent",
        "--threads",
        "1",
        "--no-progress",
        "--metrics",
        "none",
    ]
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
    cfg = SweepConfig(
        data=data_dir,
        out=tmp_path / "run",
        profile="tiny",
        caption_source="dataset",
        snr_db=(10.0,),
        modes=("latent",),
        encodings=("float32",),
        size=64,
        grid_images=0,
    )
    summary = Sweep(cfg, suite=suite).run(progress=False)
    assert summary.computed == 3
    _, table = aggregate_run(cfg.out)
    (row,) = table
    assert row["fid_n"] == 3 and math.isfinite(row["fid"]) and row["fid"] >= 0
    for metric in ("ssim", "psnr", "lpips", "clip_caption", "clip_image"):
        assert row[f"{metric}_n"] == 3 and math.isfinite(row[f"{metric}_mean"]), metric


def _one_image_sweep(data_dir, out, **fields) -> SweepConfig:
    """One image at 64x64, the dataset's caption, a 4-step schedule with k in {0, 2}, no metrics."""
    return SweepConfig(
        data=data_dir,
        out=out,
        profile="tiny",
        caption_source="dataset",
        steps=(0, 2),
        schedule=4,
        size=64,
        limit=1,
        metrics=(),
        grid_images=0,
        **fields,
    )


def test_profile_without_diffusion_skips_what_it_cannot_run(data_dir, tmp_path):
    from semcom.models import load_profile
    from semcom.models.profiles import Models, resolve_spec

    base = load_profile("tiny", device="cpu", dtype="float32")
    spec = dataclasses.replace(resolve_spec("tiny"), diffusion=None, name="tiny-codec-only")
    models = Models(spec, base.device, base.dtype)
    cfg = _one_image_sweep(
        data_dir, tmp_path / "run", snr_db=(5.0, 10.0), modes=("text", "text+latent", "latent"), encodings=("int8",)
    )
    summary = Sweep(cfg, models=models).run(progress=False)
    assert summary.computed == 4  # latent x 2 SNRs + text+latent k=0 x 2 SNRs
    assert len(summary.unsupported) == 4 and all("has no diffusion model" in r for r in summary.unsupported.values())
    saved = json.loads((cfg.out / "config.json").read_text())["unsupported_cells"]
    assert set(saved) == set(summary.unsupported)


def test_a_sweep_the_profile_cannot_run_at_all_is_refused_and_only_written_files_are_named(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    common = ["eval", "run", "--data", str(data_dir), "--out", str(out), "--caption", "dataset", "--snr-db", "5"]
    common += ["--metrics", "none", "--no-progress"]
    assert main([*common, "--profile", "taef2", "--modes", "text", "--limit", "1"]) == 2
    assert capsys.readouterr().err == (
        "semcom eval: profile 'taef2' can run none of the 1 requested cells: 1 cells: profile 'taef2' has no "
        "diffusion model: only latent decoding (k = 0) is possible; a profile with a diffusion model (tiny, paper) "
        "runs text and text+latent k > 0 cells\n"
    )
    assert not out.exists()  # refused before any work
    # a shard without images: no results, so no tables are written, and none is named as written
    assert main([*common, "--profile", "tiny", "--modes", "latent", "--limit", "1", "--shard", "1/2"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "wrote no tables: no results"
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "metrics.json"]


def test_soft_repair_cells_run_on_the_uncoded_link_only(data_dir, tmp_path):
    """int8g:pc:soft: the sweep takes the link's LLRs (transmit_packet_soft) into the receiver's
    soft repair at k = 0; text+latent k > 0 is reported unsupported; a coded link is refused."""
    cfg = _one_image_sweep(
        data_dir, tmp_path / "run", snr_db=(0.0,), modes=("latent", "text+latent"), encodings=("int8g:pc:soft",)
    )
    summary = Sweep(cfg).run(progress=False)
    assert summary.computed == 2 and list(summary.unsupported) == ["text+latent|int8g:pc:soft|0|2"]
    rows = [json.loads(line) for line in (cfg.out / "results.jsonl").read_text().splitlines()]
    assert all(r["latent_bit_errors"] > 0 and math.isfinite(r["ssim"]) for r in rows)
    coded = dataclasses.replace(cfg, out=tmp_path / "coded", fec="ldpc", modes=("latent",), steps=(0,))
    with pytest.raises(ValueError, match="soft repair needs the uncoded link"):
        Sweep(coded).run(progress=False)


SHARD_ARGS = [
    *TINY_ARGS,
    "--image-size",
    "64",
    "--snr-db",
    "4",
    "--modes",
    "latent",
    "--encodings",
    "float16,int8g:pc:smmse",
    "--metrics",
    "none",
]


def _rows(run_dir):
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    return {(r["image"], r["cell"]): {k: v for k, v in r.items() if k != "seconds"} for r in rows}


def _aggregate(run_dir):
    import csv

    with (run_dir / "aggregate.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    numbers = {}
    for row in rows:
        values = {}
        for key, value in row.items():
            if key.startswith("seconds"):
                continue
            try:
                values[key] = float(value)
            except ValueError:
                pass
        numbers[row["cell"]] = values
    return numbers


def test_shards_merged_equal_the_unsharded_sweep(data_dir, tmp_path, capsys):
    whole, merged = tmp_path / "whole", tmp_path / "merged"
    assert main(["eval", "run", "--data", str(data_dir), "--out", str(whole), *SHARD_ARGS]) == 0
    capsys.readouterr()
    shards = []
    for index in range(2):
        shard = tmp_path / f"shard{index}"
        assert (
            main(["eval", "run", "--data", str(data_dir), "--out", str(shard), "--shard", f"{index}/2", *SHARD_ARGS])
            == 0
        )
        assert json.loads(capsys.readouterr().out)["images"] == (2, 1)[index]  # images 0, 2 and image 1
        shards.append(shard)
    assert json.loads((shards[1] / "config.json").read_text())["shard"] == "1/2"

    assert main(["eval", "merge", str(merged), *map(str, shards), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 3 * 2 and summary["duplicates"] == 0
    assert sorted(summary["added"].values()) == [2, 4]
    assert _rows(merged) == _rows(whole)  # seeds follow image names: same numbers, split or not
    assert sorted(p.name for p in (merged / "cache" / "latents").iterdir()) == sorted(
        p.name for p in (whole / "cache" / "latents").iterdir()
    )
    agg_merged, agg_whole = (_aggregate(run) for run in (merged, whole))
    assert agg_merged.keys() == agg_whole.keys()
    for cell, row in agg_whole.items():  # row order differs, so sums may differ in the last bit
        assert agg_merged[cell] == pytest.approx(row, rel=1e-12, nan_ok=True), cell
    merged_config = json.loads((merged / "config.json").read_text())
    assert len(merged_config["merged"]) == 2 and merged_config["command"] is None
    assert [part["shard"] for part in merged_config["merged"]] == ["0/2", "1/2"]
    from semcom.eval.report import render_report

    report = render_report(merged).read_text()
    assert "Joined from 2 run directories" in report and "| 1/2 | 2 |" in report

    # Merging a part again adds nothing and finds the duplicates identical; a leftover row of a cell
    # outside the grid (from an earlier, wider sweep in that directory) is not taken.
    leftover = {**json.loads((whole / "results.jsonl").read_text().splitlines()[0]), "cell": "latent|float32|4|0"}
    with (whole / "results.jsonl").open("a") as handle:
        handle.write(json.dumps(leftover) + "\n")
    assert main(["eval", "merge", str(merged), str(whole), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["duplicates"] == 6 and again["added"] == {str(whole): 0} and again["outside_grid"] == 1
    assert again["rows"] == 6
    assert again["max_abs_diff"]["ssim"] == 0.0 and again["max_abs_diff"]["psnr"] == 0.0


def test_merge_refuses_another_sweep_and_leaves_dest_untouched(data_dir, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["eval", "run", "--data", str(data_dir), "--out", str(a), "--limit", "1", *SHARD_ARGS]) == 0
    assert (
        main(["eval", "run", "--data", str(data_dir), "--out", str(b), "--limit", "1", "--seed", "1", *SHARD_ARGS]) == 0
    )
    capsys.readouterr()
    before = (a / "results.jsonl").read_bytes()
    assert main(["eval", "merge", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert "holds another sweep" in err and "seed: 0 vs 1" in err
    assert (a / "results.jsonl").read_bytes() == before
    assert main(["eval", "merge", str(a), str(tmp_path / "missing")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["eval", "merge", str(a), str(a)]) == 2
    assert "destination itself" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["2/2", "-1/2", "1", "a/b", "0/0"])
def test_bad_shard_is_a_usage_error(data_dir, tmp_path, capsys, bad):
    assert (
        main(["eval", "run", "--data", str(data_dir), "--out", str(tmp_path / "r"), f"--shard={bad}", *SHARD_ARGS]) == 2
    )
    assert "shard must be I/N" in capsys.readouterr().err


def test_jobs_write_the_rows_of_a_sequential_run(data_dir, tmp_path, capsys):
    """--jobs 2 (worker processes over the images): the same rows as one process (but for the
    timing columns and their order), and a rerun resumes with nothing to do."""
    args = ["--data", str(data_dir), "--caption", "dataset", "--profile", "tiny", "--limit", "3"]
    args += ["--image-size", "64", "--snr-db", "0", "10", "--modes", "latent", "text+latent"]
    args += ["--encodings", "int8g:pc:smmse", "webp:frac=1/4:ldpc", "--denoise-steps", "0"]
    args += ["--schedule", "4", "--threads", "1", "--no-progress", "--metrics", "none", "--json"]

    def rows(out):
        lines = (out / "results.jsonl").read_text().splitlines()
        return sorted(
            ({k: v for k, v in json.loads(line).items() if "seconds" not in k} for line in lines),
            key=lambda r: (r["image"], r["cell"]),
        )

    assert main(["eval", "run", *args, "--out", str(tmp_path / "one")]) == 0
    assert main(["eval", "run", *args, "--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    capsys.readouterr()
    one, two = rows(tmp_path / "one"), rows(tmp_path / "two")
    assert len(one) == 3 * 2 * 3 and one == two
    assert main(["eval", "run", *args, "--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["computed"] == 0 and again["cached"] == len(one)
