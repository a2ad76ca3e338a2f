"""`semcom demo`, the numbers: the mean SSIM and symbols per variant and SNR, report.json and
report.md, and what the command prints."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from semcom.cli.demo.plan import CLEAN, ESN0_OFFSET_DB, request_settings
from semcom.variants import Variant

if TYPE_CHECKING:
    from semcom.cli.demo.plan import Plan
    from semcom.cli.demo.run import ServicesRun, Streams


def summarise(
    records: list[dict], variants: tuple[Variant, ...], snrs: tuple[float, ...], drops: Sequence[dict] = ()
) -> dict:
    """Mean SSIM and latent symbols per variant and SNR over the images received (AMC drops counted
    apart); the clean channel's mean."""
    out: dict = {}
    clean = [r["ssim"] for r in records if r["variant"] == "clean"]
    out["clean"] = statistics.fmean(clean) if clean else None
    for variant in variants:
        points = []
        for snr in snrs:
            rows = [r for r in records if r["variant"] == variant.name and r["ebn0_db"] == snr]
            dropped = sum(1 for d in drops if d["variant"] == variant.name and d["ebn0_db"] == snr)
            if not rows and not dropped:
                continue
            point = {
                "ebn0_db": snr,
                "esn0_db": round(snr + ESN0_OFFSET_DB, 2),
                "mean_ssim": statistics.fmean(r["ssim"] for r in rows) if rows else None,
                "min_ssim": min((r["ssim"] for r in rows), default=None),
                "mean_latent_symbols": statistics.fmean(r["latent_symbols"] for r in rows) if rows else 0.0,
                "photos": len(rows),
            }
            # report.json's key order: "dropped" leads a point with photos and ends one whose every latent was dropped
            points.append({"dropped": dropped, **point} if rows else {**point, "dropped": dropped})
        out[variant.name] = points
    return out


def _cell(text: str) -> str:
    """A received caption (any printable ASCII) made safe inside a Markdown table code span."""
    return text.replace("`", "'").replace("|", "/")


def markdown_report(report: dict) -> str:
    lines = [f"# semcom demo ({report['profile_name']} profile, {report['size']}x{report['size']})", ""]
    if report["notice"]:
        lines += [f"> {report['notice']}", ""]
    lines += [
        "Mean SSIM / mean latent channel symbols per image, over "
        f"{len(report['images'])} photos (clean channel, codec alone: "
        + (f"{report['summary']['clean']:.3f}" if report["summary"]["clean"] is not None else "n/a")
        + ")",
        "",
    ]
    keys = [v["key"] for v in report["variants"] if v["key"] != "clean"]
    labels = {v["key"]: v["label"] for v in report["variants"]}
    lines += ["| Eb/N0 dB (Es/N0) | " + " | ".join(labels[k] for k in keys) + " |", "|" + " --- |" * (len(keys) + 1)]
    for snr in report["snrs_db"]:
        cells = []
        for k in keys:
            points = [p for p in report["summary"][k] if p["ebn0_db"] == snr]
            if not points:
                cells.append("")
            elif points[0]["mean_ssim"] is None:
                cells.append("latent dropped (AMC)")
            else:
                cells.append(f"{points[0]['mean_ssim']:.3f} / {points[0]['mean_latent_symbols']:,.0f}")
        lines.append(f"| {snr:g} ({snr + ESN0_OFFSET_DB:.2f}) | " + " | ".join(cells) + " |")
    header = [
        "image",
        "Eb/N0 dB",
        "variant",
        "SSIM",
        "PSNR dB",
        "latent symbols",
        "MCS",
        "segments failed",
        "latent bit errors",
        "caption received",
        "e2e s",
    ]
    lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for t in report["transmissions"]:
        psnr = f"{t['psnr_db']:.2f}" if t["psnr_db"] is not None else "inf"
        failed = f"{t['segments_failed']}/{t['segments']}" if t["segments"] else ""
        snr = "clean" if t["ebn0_db"] is None else f"{t['ebn0_db']:g}"
        lines.append(
            f"| {t['image']} | {snr} | {t['variant']} | {t['ssim']:.3f} | {psnr} | {t['latent_symbols']:,} "
            f"| {t['mcs']} | {failed} | {t['latent_bit_errors']} | `{_cell(t['caption_received'])}` "
            f"| {t['timings'].get('total', 0.0):.2f} |"
        )
    wall = (
        f"Wall time: {report['wall_s']:.1f} s (services up after {report['startup_s']:.1f} s); "
        f"CPU seconds per process: {report['cpu_s']}"
    )
    lines += ["", f"Services: {report['services']}", wall, ""]
    return "\n".join(lines)


def print_summary(summary: dict[str, Any]) -> None:
    for key, points in summary.items():
        if key != "clean":
            print(
                f"  {key:<12} "
                + "  ".join(
                    f"{p['ebn0_db']:g} dB: "
                    + ("latent dropped" if p["mean_ssim"] is None else f"SSIM {p['mean_ssim']:.3f}")
                    for p in points
                )
            )
    print(f"  clean channel: SSIM {summary['clean']:.3f}")


def variant_record(v: Variant) -> dict[str, Any]:
    """A column as report.json describes it."""
    return {
        "key": v.name,
        "label": v.label,
        "encoding": v.encoding,
        "mode": v.mode,
        "fec": v.fec,
        "latent_policy": v.policy,
        "latent_repair": request_settings(v)["latent_repair"],
    }


def write_report(
    args: argparse.Namespace,
    plan: Plan,
    streams: Streams,
    services_run: ServicesRun,
    summary: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    """report.json's content."""
    records = streams.records
    return {
        "profile": plan.profile,
        "profile_name": plan.spec.name,
        "size": plan.size,
        "steps": plan.steps,
        "snrs_db": list(args.snr_db),
        "snr_convention": "ebn0 of uncoded 16-QAM; every variant sent at esn0 = ebn0 + 6.02",
        "modulation": "16qam",
        "channel_model": "awgn",
        "seed": args.seed,
        "preset": args.preset or "the profile's",
        "notice": plan.notice,
        "diffusion_columns": plan.with_diffusion,
        "services": services_run.services,
        "images": [
            {"name": p.name, "licence": p.licence, "source": f"skimage.data.{p.loader}()", "caption": p.caption}
            for p in plan.photos
        ],
        "variants": [variant_record(v) for v in (CLEAN, *plan.variants)],
        "summary": summary,
        "transmissions": records,
        "amc_drops": streams.drops,
        "median_e2e_s": statistics.median(r["timings"].get("total", 0.0) for r in records),
        "startup_s": services_run.startup_s,
        "wall_s": time.monotonic() - started,
        "cpu_s": services_run.cpu_s,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def print_cpu(cpu_s: dict[str, float | None]) -> None:
    """The processes' CPU seconds, when every one is known."""
    known = {k: v for k, v in cpu_s.items() if v is not None}
    if len(known) == len(cpu_s):
        print(
            f"CPU seconds: {', '.join(f'{k} {v:.1f}' for k, v in known.items())} "
            f"(sum {sum(known.values()):.1f}); load average {os.getloadavg()[0]:.1f}"
        )
