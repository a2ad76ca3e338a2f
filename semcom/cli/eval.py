"""`semcom eval`: run an evaluation sweep, and render its report.

    semcom eval run --data DIR --out RUN_DIR [...]
    semcom eval report RUN_DIR
    semcom eval merge DEST SRC [SRC ...]               (join shards / parts run elsewhere)
    semcom eval map RUN_DIR [RUN_DIR ...]              (who wins where: the regime map)

See docs/evaluation.md for every flag, the output files and measured numbers.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from semcom import config
from semcom.cli.flags import (
    add_channel_arguments,
    add_guidance_argument,
    add_preset_argument,
    add_snr_argument,
    channel_values,
)
from semcom.eval.grid import MODES as SWEEP_MODES  # the receiver modes a sweep runs

DEFAULT_MODES = ("text", "text+latent")


def _floats(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    from semcom.eval.grid import PAPER_SNRS_DB

    g = p.add_argument_group("data and models")
    g.add_argument("--data", help="folder of images, or a folder with images/ and captions.tsv (Flickr8k layout)")
    g.add_argument(
        "--captions", help="image<TAB>caption file (default: DATA/captions.tsv if present; first caption per image)"
    )
    g.add_argument(
        "--caption",
        choices=("blip", "dataset"),
        default="blip",
        help="caption sent: the profile's BLIP captioner, or the dataset's first caption (default blip)",
    )
    g.add_argument("--profile", help="model profile: tiny | taef2 | paper | YAML/JSON file (default SEMCOM_PROFILE)")
    g.add_argument("--device", help="torch device (default SEMCOM_DEVICE)")
    g.add_argument("--image-size", type=int, help="square image side fed to the encoder (default SEMCOM_IMAGE_SIZE)")
    g.add_argument("--limit", type=int, help="first N images in sorted name order")
    g.add_argument(
        "--shard",
        metavar="I/N",
        help="run only images I, I+N, I+2N, ... of the (limited) set, 0 <= I < N; join the shards' run "
        "directories with `semcom eval merge`",
    )
    g = p.add_argument_group("grid")
    add_snr_argument(g, "the grid's SNR points; default the paper's 5 .. 10", list(PAPER_SNRS_DB), many=True)
    # no latent policy here: a sweep sends every latent (its cells are the variants)
    add_channel_arguments(
        g, ("--snr-convention", "--modulation", "--channel-model", "--fading-block-length", "--fec", "--mcs")
    )
    g.add_argument(
        "--design-snr-db",
        type=_floats,
        help="the transmitter plans (AMC, file size, budget) for this SNR while the channel is at each --snr-db "
        "(default: the channel's SNR; with --broadcast: the weakest receiver). semcom.eval.scenario",
    )
    g.add_argument(
        "--design-offset-db",
        type=_floats,
        help="the transmitter plans for (channel SNR + this) dB in every cell: a misestimated channel",
    )
    g.add_argument(
        "--broadcast",
        action="store_true",
        help="one transmission per image and cell, received at every --snr-db (one receiver each)",
    )
    g.add_argument(
        "--modes",
        nargs="+",
        choices=SWEEP_MODES,
        default=list(DEFAULT_MODES),
        help=f"{', '.join(SWEEP_MODES)} (default {' '.join(DEFAULT_MODES)})",
    )
    g.add_argument(
        "--encodings",
        nargs="+",
        default=["float64"],
        help="latent variants ENCODING[:pc][:pNN.N][:fill|nb|authors] (default float64), "
        "classical baselines jpeg|webp|avif[:budget=ENC|frac=P/Q|sym=N][:ldpc|uncoded] "
        "(docs/evaluation.md) and names of the variant registry (semcom/variants.py, e.g. int8g-smmse), run as "
        "their spec; a name whose link (fec, mcs, channel model, latent policy) or mode differs from the sweep's "
        "is refused",
    )
    g.add_argument(
        "--denoise-steps",
        type=int,
        nargs="+",
        default=[30],
        help="text+latent: denoising steps executed, k (default 30; the DDIM schedule length is --schedule)",
    )
    g.add_argument(
        "--schedule", type=int, default=50, help="DDIM schedule length (default 50; strength = k / schedule)"
    )
    add_guidance_argument(g)
    add_preset_argument(g, "default: the profile's; recorded in config.json and every row")
    g.add_argument(
        "--adaptive-strength",
        action="store_true",
        help="text+latent: strength from the link's reported Eb/N0 instead of k / schedule (docs/models.md)",
    )
    g = p.add_argument_group("run")
    g.add_argument("--out", help="run directory (created; a rerun resumes it)")
    g.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    g.add_argument(
        "--metrics",
        nargs="+",
        choices=("lpips", "clip", "fid", "none"),
        default=["lpips", "clip", "fid"],
        help="optional metrics to try: lpips clip fid, or none (default lpips clip fid)",
    )
    g.add_argument(
        "--grid-images",
        type=int,
        default=3,
        help="images whose reconstructions are kept for the image grid (default 3)",
    )
    g.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    g.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes over the images, each with the models loaded once (default 1: this process; "
        "rows and resume as without; semcom.eval.parallel)",
    )
    g.add_argument("--report", action="store_true", help="also write report.md and figures when the sweep ends")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument("--json", action="store_true", help="print the run summary as JSON")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluation sweeps (SSIM/PSNR/LPIPS/FID/CLIP vs SNR and steps) and their reports",
        description="Evaluation sweeps. `semcom eval run ...` runs a resumable sweep; "
        "`semcom eval report RUN_DIR` writes RUN_DIR/report.md with tables and figures; `semcom eval merge` "
        "joins run directories; `semcom eval map RUN_DIR ...` builds the regime map from the rows of runs.",
    )
    parser.set_defaults(func=lambda args: parser.print_help() or 2)  # `semcom eval` alone: its own help
    sub = parser.add_subparsers(dest="eval_command", metavar="{run,report,merge,map}")
    run = sub.add_parser("run", help="run (or resume) a sweep", description="Run or resume an evaluation sweep.")
    _add_run_arguments(run)
    run.set_defaults(func=_run)
    report = sub.add_parser("report", help="aggregate a run directory and write report.md + figures")
    report.add_argument("run_dir", help="a directory written by `semcom eval run`")
    report.add_argument("--json", action="store_true", help="print the written files as JSON")
    report.set_defaults(func=_report)
    merge = sub.add_parser(
        "merge",
        help="join run directories of one sweep (shards, parts run on other machines) into DEST",
        description="Append the results of each SRC run directory that DEST lacks (same sweep settings required; "
        "only the data paths may differ), copy cached latents and samples, then re-aggregate DEST.",
    )
    merge.add_argument("dest", help="destination run directory (created from the first SRC if missing)")
    merge.add_argument("sources", nargs="+", help="run directories written by `semcom eval run` (e.g. with --shard)")
    merge.add_argument("--json", action="store_true", help="print the merge summary as JSON")
    merge.set_defaults(func=_merge)
    regime = sub.add_parser(
        "map",
        help="the regime map: the winning scheme per (scenario, budget, SNR) from the rows of one or more runs",
        description="Build the regime map (semcom.eval.regime) from run directories: regime.md, regime.json and "
        "regime_<metric>.png|svg in --out.",
    )
    regime.add_argument("run_dirs", nargs="+", help="directories written by `semcom eval run`")
    regime.add_argument("--out", help="output folder (default RUN_DIR/regime of the first run)")
    regime.add_argument("--metrics", nargs="+", help="ssim ms_ssim psnr (default all three)")
    regime.add_argument(
        "--versus",
        default="baseline",
        help="a family (row mode) the others are compared against in the overview (default baseline: the digital "
        "link; none: no such table)",
    )
    regime.set_defaults(func=_map)


def _run(args: argparse.Namespace) -> int:
    from semcom.eval.dataset import captions_file
    from semcom.eval.sweep import Sweep
    from semcom.eval.sweep_config import SweepConfig

    if not args.data or not args.out:
        print("semcom eval: --data and --out are required (or use `semcom eval report RUN_DIR`)", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    metrics = tuple(m for m in args.metrics or () if m != "none")
    try:
        link = channel_values(args, ("snr_convention", "modulation", "model", "fading_block_length", "fec", "mcs"))
        cfg = SweepConfig(
            data=args.data,
            out=args.out,
            profile=args.profile or str(config.get("SEMCOM_PROFILE")),
            captions=captions_file(args.data, args.captions),  # recorded as read, not as typed
            caption_source=args.caption,
            snr_db=tuple(args.snr_db),
            channel=link.pop("model"),
            **link,
            modes=tuple(args.modes or ()),
            encodings=tuple(args.encodings or ()),
            steps=tuple(args.denoise_steps or ()),
            schedule=args.schedule,
            guidance=args.guidance,
            limit=args.limit,
            size=args.image_size or int(config.get("SEMCOM_IMAGE_SIZE")),
            seed=args.seed,
            adaptive_strength=args.adaptive_strength,
            preset=args.preset,
            metrics=metrics,
            grid_images=args.grid_images,
            device=args.device,
            shard=args.shard,
            design_snr_db=args.design_snr_db,
            design_offset_db=args.design_offset_db,
            broadcast=args.broadcast,
            command=shlex.join(["semcom", *sys.argv[1:]]),
        )
        summary = Sweep(cfg, jobs=args.jobs).run(progress=not args.no_progress)
    except ValueError as exc:
        print(f"semcom eval: {exc}", file=sys.stderr)
        return 2
    from semcom.eval.aggregate import aggregate_run

    written = []
    if summary.computed or summary.cached:  # the tables exist only where there are result rows
        aggregate_run(cfg.out)
        written = ["per_image.csv", "aggregate.csv", "aggregate.json"]
    if args.report:
        from semcom.eval.report import render_report

        written.append(str(render_report(cfg.out).relative_to(cfg.out)))
    out = {
        "run_dir": str(cfg.out),
        "images": summary.images,
        "cells": summary.cells,
        "computed": summary.computed,
        "cached": summary.cached,
        "unsupported_cells": len(summary.unsupported),
        "seconds": round(summary.seconds, 2),
        "written": written,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{summary.images} images x {summary.cells} cells: {summary.computed} computed, {summary.cached} cached"
            f" ({len(summary.unsupported)} cells unsupported by the profile) in {summary.seconds:.1f} s"
        )
        print(f"wrote {', '.join(str(cfg.out / w) for w in written)}" if written else "wrote no tables: no results")
    return 0


def _report(args: argparse.Namespace) -> int:
    from semcom.eval.report import render_report

    try:
        path = render_report(Path(args.run_dir))
    except ValueError as exc:
        print(f"semcom eval report: {exc}", file=sys.stderr)
        return 2
    files = sorted(str(p) for p in (path.parent / "figures").glob("*")) + [str(path)]
    if args.json:
        print(json.dumps({"report": str(path), "files": files}, indent=2))
    else:
        print(f"wrote {path} and {len(files) - 1} figure files under {path.parent / 'figures'}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from semcom.eval.aggregate import aggregate_run
    from semcom.eval.merge import merge_runs

    try:
        summary = merge_runs(Path(args.dest), [Path(s) for s in args.sources])
    except ValueError as exc:
        print(f"semcom eval merge: {exc}", file=sys.stderr)
        return 2
    if summary.rows:
        aggregate_run(Path(args.dest))
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
        return 0
    for source, added in summary.added.items():
        print(f"{source}: {added} rows added")
    print(
        f"{args.dest}: {summary.rows} rows; {summary.duplicates} duplicates and {summary.outside_grid} rows outside "
        f"the grid skipped; {summary.files_copied} files copied"
    )
    if summary.max_abs_diff:
        print("duplicates agree within " + ", ".join(f"{k} {v:.3g}" for k, v in sorted(summary.max_abs_diff.items())))
    for line in summary.path_differences + summary.metrics_differences:
        print(f"note: {line}")
    return 0


def _map(args: argparse.Namespace) -> int:
    from semcom.eval.regime import METRICS
    from semcom.eval.regime_report import regime_map

    runs = [Path(r) for r in args.run_dirs]
    try:
        cells, paths = regime_map(
            runs,
            Path(args.out) if args.out else runs[0] / "regime",
            tuple(args.metrics or METRICS),
            command=shlex.join(["semcom", *sys.argv[1:]]),
            versus=None if args.versus == "none" else args.versus,
        )
    except ValueError as exc:
        print(f"semcom eval map: {exc}", file=sys.stderr)
        return 2
    print(f"{len(cells)} map cells; wrote {', '.join(str(p) for p in paths)}")
    return 0
