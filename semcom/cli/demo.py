"""`semcom demo`: real photos through the three services on this machine, offline (about 90 CPU seconds).

Starts receiver, channel proxy and sender as three local processes on 127.0.0.1 (the compose
topology: sender -> channel -> receiver, plaintext on loopback) and sends the sample photos that
scikit-image ships (`semcom.samples`, with their licences and our captions) through them at a few
SNRs. The default profile is the TAEF2 codec packaged with semcom (real weights, no download):
the latent is decoded as received (k = 0, the autoencoder as transceiver). Each photo crosses
the same 16-QAM AWGN channel (same Es/N0) as

  float64      the paper's encoding: float64 latent, uncoded (received values outside the codec's
               range are clamped, never redrawn at random);
  int8g+sMMSE  the best uncoded compact encoding (docs/evaluation.md): Gray int8, per-channel range
               at the 99.9th percentile, repaired at the receiver by the spatial MMSE "smmse";
  LDPC+AMC     int8 per channel, 5G LDPC with a CRC per segment, MCS picked by AMC (docs/fec.md);

and, when the profile has real diffusion weights (`--profile paper` on a machine that has them,
or a local profile directory), also as the paper's text-only and text + latent reconstructions.
A clean-channel float64 transmission gives the codec's own quality as a reference.

--snrs are the paper's axis, Eb/N0 of uncoded 16-QAM in dB; every variant is sent at the same
Es/N0 = Eb/N0 + 6.02 dB (SNR per channel symbol), so coded and uncoded links share one channel
and the symbols each uses can be compared. Writes to --out:

* contact_sheet.png - per photo and SNR one row: original | float64 | int8g+sMMSE | LDPC+AMC
                      [| text | text + latent], each cell labelled with its SSIM and the latent's
                      channel symbols; under each row the caption sent and received (corrupted
                      characters in red);
* ssim_vs_snr.png   - mean SSIM against SNR per variant (each photo as a faint dot);
* report.json       - every transmission (SSIM, PSNR, symbols, bit errors, MCS, segments, captions,
                      timings) and the mean SSIM per variant and SNR;
* report.md         - the same as tables.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semcom.cli.flags import add_preset_argument
from semcom.payload.caption import corrupted_positions

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    from semcom.models.spec import ProfileSpec
    from semcom.rpc.client import SenderClient
    from semcom.samples import SamplePhoto

    Font = ImageFont.ImageFont | ImageFont.FreeTypeFont

DEFAULT_SNRS = (0.0, 4.0, 8.0)  # Eb/N0 of uncoded 16-QAM, dB (the paper's axis)
ESN0_OFFSET_DB = 10 * math.log10(4)  # 16-QAM: 4 bits per symbol, uncoded
DEFAULT_PROFILE = "taef2"  # the packaged TAEF2 profile, a built-in name (semcom.models.profiles)
TAEF2_SIZE = 256
TINY_SIZE = 128
TINY_STEPS = 20
PAPER_STEPS = 50
CELL_MAX = 192


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    encoding: str
    mode: str  # receiver mode; "latent" with strength 0 is k = 0 decoding
    fec: str = "none"
    policy: str = "always"
    model: str = "awgn"
    repair: str | None = "none"
    per_channel: bool = False
    clip_percentile: float | None = None
    diffusion: bool = False


CLEAN = Variant("clean", "clean channel, float64", "float64", "latent", model="none")
CODEC_VARIANTS = (
    Variant("float64", "float64 (the paper), uncoded", "float64", "latent"),
    Variant(
        "int8g-smmse",
        "int8g + sMMSE, uncoded",
        "int8g",
        "latent",
        repair="smmse",
        per_channel=True,
        clip_percentile=99.9,
    ),
    Variant("ldpc-amc", "LDPC + AMC, int8", "int8", "latent", fec="ldpc", policy="amc", repair=None, per_channel=True),
)
DIFFUSION_VARIANTS = (
    Variant("text", "text only (diffusion)", "float64", "text", policy="never", diffusion=True),
    Variant("text+latent", "text + latent (diffusion)", "float64", "text+latent", diffusion=True),
)


def _snr(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of dB, got {text!r}") from None
    if not (math.isfinite(value) and -10 <= value <= 40):
        raise argparse.ArgumentTypeError(f"expected an SNR between -10 and 40 dB, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="real photos through sender, channel and receiver on this machine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="semcom-demo", help="output directory (default semcom-demo)")
    add_preset_argument(p, "of the services' models; default: the profile's")
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="model profile: taef2 (default, packaged, offline), paper, tiny, or a profile file/directory",
    )
    p.add_argument(
        "--image-size",
        type=int,
        help=f"image side (default {TAEF2_SIZE} for taef2, {TINY_SIZE} for tiny, else SEMCOM_IMAGE_SIZE)",
    )
    p.add_argument("--steps", type=int, help=f"DDIM schedule length of the diffusion columns (default {PAPER_STEPS})")
    p.add_argument(
        "--num-images",
        type=int,
        default=5,
        help="how many sample photos, 1-5 (default 5)",
    )
    p.add_argument(
        "--snr-db",
        type=_snr,
        nargs="+",
        default=list(DEFAULT_SNRS),
        help="Eb/N0 of uncoded 16-QAM in dB; sent as Es/N0 = Eb/N0 + 6.02 (default 0 4 8)",
    )
    p.add_argument(
        "--diffusion",
        choices=("auto", "on", "off"),
        default="auto",
        help="diffusion columns: auto = when the profile has real diffusion weights (not tiny)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of sender, channel and receiver randomness")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for start-up and for each stream")
    p.set_defaults(func=run)


def sample_images(count: int) -> list[tuple[str, bytes, str | None]]:
    """(name, encoded bytes, caption): Flickr8k fixture images with their first human caption when
    the fixtures exist (so the caption on the wire is real language even with tiny weights, whose
    BLIP only babbles), else synthetic images captioned by the sender's BLIP. (The service tests
    use this; the demo sends `semcom.samples`.)"""
    from semcom import config
    from semcom.eval.dataset import load_dataset
    from semcom.loadtest.images import synthetic_png

    shared = str(config.get("SEMCOM_SHARED_DIR")) or str(Path(__file__).resolve().parents[2].parent / "shared")
    folder = Path(shared).expanduser() / "data" / "flickr8k"
    if (folder / "images").is_dir():
        items = load_dataset(folder, limit=count)
        if items:
            return [(item.path.stem, item.path.read_bytes(), item.caption) for item in items]
    return [(f"synthetic_{i}", synthetic_png(256, seed=i), None) for i in range(count)]


def diffusion_status(profile: str, spec, choice: str) -> tuple[bool, str]:
    """(draw the diffusion columns?, the one line the sheet shows when not)."""
    if choice == "off":
        return False, "Diffusion columns (text only, text + latent) left out (--diffusion off)."
    if spec.diffusion is None:
        return False, (
            "Diffusion columns (text only, text + latent) need real diffusion weights: this profile has "
            "none, so every image here is the latent decoded as received (k = 0). Run with --profile "
            "paper where the weights are (semcom models download --profile paper)."
        )
    if profile == "tiny" and choice == "auto":
        return False, (
            "Diffusion columns (text only, text + latent) left out: the tiny profile's diffusion weights "
            "are random (they would show noise). Use --profile paper, or --diffusion on to run them anyway."
        )
    return True, ""


def amc_drop_reason(esn0_db: float, values: int) -> str:
    """Why AMC drops an int8 latent of `values` values at `esn0_db` ("" when it sends it): the
    channel's own decision (`semcom.link.policy.decide_latent`, which looks only at the payload's
    size, the SNR and SEMCOM_AMC_SYMBOLS_PER_VALUE). A dropped latent leaves a k = 0 receiver
    nothing to decode, so the demo shows the drop instead of sending the request."""
    from semcom.link.policy import decide_latent
    from semcom.link.types import ChannelConfig
    from semcom.payload.packet import LatentPayload

    cfg = ChannelConfig(
        snr_db=esn0_db, snr_convention="esn0", modulation="16qam", fec="ldpc", mcs="auto", latent_policy="amc"
    )
    decision = decide_latent(cfg, LatentPayload((values,), "int8", bytes(values)))
    return "" if decision.send else decision.reason


def channel_config(variant: Variant, esn0_db: float, seed: int):
    from semcom.rpc.convert import CHANNEL_MODELS, FEC_SCHEMES, LATENT_POLICIES
    from semcom.v1 import channel_pb2

    cfg = channel_pb2.ChannelConfig(
        snr_db=esn0_db,
        snr_convention=channel_pb2.SNR_CONVENTION_ESN0,
        modulation=channel_pb2.MODULATION_QAM16,
        model=CHANNEL_MODELS[variant.model],
        seed=seed,
        latent_policy=LATENT_POLICIES[variant.policy],
        fec=FEC_SCHEMES[variant.fec],
    )
    if variant.fec == "ldpc":
        cfg.mcs = "auto"
    return cfg


def build_request(variant: Variant, photo, data: bytes, caption: str | None, esn0_db: float, seeds, steps: int):
    """One cell's request; `seeds`: its per-role seeds (`semcom.pipeline.RoleSeeds`)."""
    from semcom.rpc.client import image_request

    return image_request(
        data,
        request_id=f"{photo}|{variant.key}|{esn0_db:.4f}",
        caption=caption,
        latent_encoding=variant.encoding,
        mode=variant.mode,
        strength=None if variant.diffusion else 0.0,
        steps=steps if variant.diffusion else None,
        seeds=seeds,
        per_channel=variant.per_channel,
        clip_percentile=variant.clip_percentile,
        latent_repair=variant.repair,
        channel=channel_config(variant, esn0_db, seeds.channel),
    )


def cell_seeds(seed: int, photo: int, cell: int, variant: int):
    """Photo i keeps its sender and receiver seeds (`RoleSeeds.derive(seed, i)`) in every cell, so
    the columns differ only by what they compare; the channel noise is its own stream per cell."""
    import dataclasses

    from semcom.pipeline import RoleSeeds

    own = RoleSeeds.derive(seed, photo)
    return dataclasses.replace(own, channel=RoleSeeds.derive(seed, photo, cell + 1, variant).channel)


def _font(size: int):
    from PIL import ImageFont

    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans Mono"), size)
    except (ImportError, OSError, ValueError):
        return ImageFont.load_default()


def _marked_line(draw, xy: tuple[int, int], prefix: str, text: str, marks: set[int], font) -> None:
    """`prefix` then `text` character by character, the characters at `marks` red and underlined."""
    x, y = xy
    draw.text((x, y), prefix, fill=(90, 90, 90), font=font)
    x += draw.textlength(prefix, font=font)
    for i, ch in enumerate(text):
        width = draw.textlength(ch, font=font)
        if i in marks:
            draw.text((x, y), ch, fill=(210, 0, 0), font=font)
            bottom = y + font.size + 1
            draw.line([(x, bottom), (x + width, bottom)], fill=(210, 0, 0))
        else:
            draw.text((x, y), ch, fill="black", font=font)
        x += width


# Variants whose received caption is shown under each row of the contact sheet, and its name there.
CAPTION_ROWS = {"float64": "uncoded", "ldpc-amc": "LDPC+AMC", "text+latent": "diffusion"}


@dataclass(frozen=True)
class _SheetPen:
    """Where and with what the contact sheet is drawn: one cell's side and the sheet's spacing."""

    sheet: Image.Image
    draw: ImageDraw.ImageDraw
    font: Font  # small text: labels, captions
    cell: int
    pad: int
    label_h: int  # under a cell: its two label lines
    line_h: int

    def column_x(self, column: int) -> int:
        return self.pad + column * (self.cell + self.pad)


def contact_sheet(
    photos: list[dict],
    variants: tuple[Variant, ...],
    snrs: tuple[float, ...],
    results: dict,
    title: str,
    notice: str,
    cell: int,
):
    """photos: [{"name", "image" (PIL), "caption"}]; results[(photo, variant, snr)] = record with "image"."""
    from PIL import Image, ImageDraw

    font, small = _font(13), _font(12)
    pad, label_h, line_h = 6, 34, 15
    columns = ["original"] + [v.label for v in variants]
    caption_lines = 1 + len([v for v in variants if v.key in CAPTION_ROWS])
    row_h = cell + label_h + caption_lines * line_h + 2 * pad
    width = max(len(columns) * (cell + pad) + pad, int(small.getlength("x") * 110))
    notice_lines = textwrap.wrap(notice, max(20, int((width - 2 * pad) / small.getlength("x")))) if notice else []
    top = pad + line_h * (2 + len(notice_lines)) + pad
    header_h = 2 * line_h
    height = top + header_h + len(photos) * len(snrs) * row_h + len(photos) * pad + pad
    sheet = Image.new("RGB", (width, height), "white")
    pen = _SheetPen(sheet, ImageDraw.Draw(sheet), small, cell, pad, label_h, line_h)
    _sheet_header(pen, font, title, notice_lines, columns, top)
    y = top + header_h
    for photo in photos:
        for snr in snrs:
            _sheet_row(pen, photo, snr, variants, results, y)
            y += row_h
        pen.draw.line([(pad, y - pad // 2), (width - pad, y - pad // 2)], fill=(200, 200, 200))
        y += pad
    return sheet


def _sheet_header(
    pen: _SheetPen, font: Font, title: str, notice_lines: list[str], columns: list[str], top: int
) -> None:
    """Title, legend and notice lines, then the column labels at `top` (a label's words after its first
    comma on a second line)."""
    draw, small, pad, line_h = pen.draw, pen.font, pen.pad, pen.line_h
    draw.text((pad, pad), title, fill="black", font=font)
    draw.text(
        (pad, pad + line_h),
        "SSIM against the original; sym = the latent's channel symbols (the caption adds a few hundred)",
        fill=(90, 90, 90),
        font=small,
    )
    for n, text in enumerate(notice_lines):
        draw.text((pad, pad + (2 + n) * line_h), text, fill=(160, 60, 0), font=small)
    for c, label in enumerate(columns):
        x = pen.column_x(c)
        words = label.split(", ")
        draw.text((x, top), words[0], fill="black", font=small)
        if len(words) > 1:
            draw.text((x, top + line_h), ", ".join(words[1:]), fill="black", font=small)


def _sheet_row(pen: _SheetPen, photo: dict, snr: float, variants: tuple[Variant, ...], results: dict, y: int) -> None:
    """One photo at one SNR: the original, one cell per variant, then the captions sent and received."""
    cell, pad, line_h, small = pen.cell, pen.pad, pen.line_h, pen.font
    pen.sheet.paste(photo["image"].resize((cell, cell)), (pad, y))
    pen.draw.text((pad, y + cell + 2), f"{photo['name']}", fill="black", font=small)
    pen.draw.text(
        (pad, y + cell + 2 + line_h), f"Eb/N0 {snr:g} dB (Es/N0 {snr + ESN0_OFFSET_DB:.2f})", fill="black", font=small
    )
    for c, variant in enumerate(variants, start=1):
        _sheet_cell(pen, pen.column_x(c), y, results.get((photo["name"], variant.key, snr)))
    _sheet_captions(pen, y + cell + pen.label_h, photo, snr, variants, results)


def _sheet_cell(pen: _SheetPen, x: int, y: int, record: dict | None) -> None:
    """One variant's image labelled with its SSIM and latent symbols, or an empty frame saying why
    there is no image."""
    cell, line_h, small, draw = pen.cell, pen.line_h, pen.font, pen.draw
    if record is None or record.get("image") is None:
        draw.rectangle([x, y, x + cell - 1, y + cell - 1], outline=(180, 180, 180))
        lines = (
            ["AMC drops the latent:", "no MCS fits the", "airtime budget at", "this SNR"]
            if record and record.get("dropped")
            else ["no image"]
        )
        for n, text in enumerate(lines):
            draw.text((x + 6, y + cell // 2 - 30 + n * line_h), text, fill=(120, 120, 120), font=small)
        return
    pen.sheet.paste(record["image"].resize((cell, cell)), (x, y))
    draw.text((x, y + cell + 2), f"SSIM {record['ssim']:.3f}", fill="black", font=small)
    detail = f"{record['latent_symbols']:,} sym"
    if record.get("mcs"):
        detail += f" {record['mcs']}"
    if record.get("latent_dropped"):
        detail = "latent dropped"
    draw.text((x, y + cell + 2 + line_h), detail, fill="black", font=small)


def _sheet_captions(
    pen: _SheetPen, cy: int, photo: dict, snr: float, variants: tuple[Variant, ...], results: dict
) -> None:
    """The caption sent, then each CAPTION_ROWS variant's received caption (corrupted characters marked)."""
    pad, small = pen.pad, pen.font
    _marked_line(pen.draw, (pad, cy), "sent:              ", photo["caption"], set(), small)
    for variant in variants:
        if variant.key not in CAPTION_ROWS:
            continue
        record = results.get((photo["name"], variant.key, snr))
        if record is None or "caption_received" not in record:
            continue
        cy += pen.line_h
        name = CAPTION_ROWS[variant.key]
        _marked_line(
            pen.draw,
            (pad, cy),
            f"received {name + ':':<10}",
            record["caption_received"],
            set(record["caption_corrupted"]),
            small,
        )


def summarise(
    records: list[dict], variants: tuple[Variant, ...], snrs: tuple[float, ...], drops: Sequence[dict] = ()
) -> dict:
    """Mean SSIM and latent symbols per variant and SNR over the images received (AMC drops counted
    apart); the clean channel's mean."""
    import statistics

    out: dict = {}
    clean = [r["ssim"] for r in records if r["variant"] == "clean"]
    out["clean"] = statistics.fmean(clean) if clean else None
    for variant in variants:
        points = []
        for snr in snrs:
            rows = [r for r in records if r["variant"] == variant.key and r["ebn0_db"] == snr]
            dropped = sum(1 for d in drops if d["variant"] == variant.key and d["ebn0_db"] == snr)
            if not rows:
                if dropped:
                    points.append(
                        {
                            "ebn0_db": snr,
                            "esn0_db": round(snr + ESN0_OFFSET_DB, 2),
                            "mean_ssim": None,
                            "min_ssim": None,
                            "mean_latent_symbols": 0.0,
                            "photos": 0,
                            "dropped": dropped,
                        }
                    )
                continue
            points.append(
                {
                    "dropped": dropped,
                    "ebn0_db": snr,
                    "esn0_db": round(snr + ESN0_OFFSET_DB, 2),
                    "mean_ssim": statistics.fmean(r["ssim"] for r in rows),
                    "min_ssim": min(r["ssim"] for r in rows),
                    "mean_latent_symbols": statistics.fmean(r["latent_symbols"] for r in rows),
                    "photos": len(rows),
                }
            )
        out[variant.key] = points
    return out


def ssim_plot(summary: dict, records: list[dict], variants: tuple[Variant, ...], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for variant in variants:
        points = [p for p in summary.get(variant.key) or [] if p["mean_ssim"] is not None]
        xs = [p["ebn0_db"] for p in points]
        (line,) = ax.plot(xs, [p["mean_ssim"] for p in points], marker="o", label=variant.label)
        dots = [(r["ebn0_db"], r["ssim"]) for r in records if r["variant"] == variant.key]
        if dots:
            ax.scatter([d[0] for d in dots], [d[1] for d in dots], s=10, alpha=0.3, color=line.get_color())
        drops = [p["ebn0_db"] for p in summary.get(variant.key) or [] if p.get("dropped")]
        if drops:
            ax.scatter(
                drops,
                [0.02] * len(drops),
                marker="x",
                color=line.get_color(),
                label=f"{variant.label}: latent dropped by AMC",
            )
    if summary.get("clean") is not None:
        ax.axhline(summary["clean"], color="grey", linestyle="--", label="clean channel (codec alone)")
    ax.set_xlabel("Eb/N0 of uncoded 16-QAM, dB (every variant at Es/N0 = Eb/N0 + 6.02 dB)")
    ax.set_ylabel("SSIM (mean over photos; dots: each photo)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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


def run(args: argparse.Namespace) -> int:
    args.snr_db = tuple(args.snr_db or ())
    try:
        return _run(args)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"semcom demo: error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    import io

    from PIL import Image

    started = time.monotonic()
    plan = _plan(args)
    if plan.notice:
        print(f"NOTE: {plan.notice}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"starting receiver, channel and sender ({plan.spec.name} profile, {plan.size}x{plan.size}) ...")
    datas = {p.name: p.png() for p in plan.photos}
    originals = {name: Image.open(io.BytesIO(data)).convert("RGB") for name, data in datas.items()}
    streams = _Streams(args, plan, datas, originals)
    pipeline = streams.run(args.timeout, started)
    summary = summarise(streams.records, plan.variants, tuple(args.snr_db), streams.drops)
    _print_summary(summary)
    _draw(out, plan, streams, tuple(args.snr_db), summary)
    report = _report(args, plan, streams, pipeline, summary, started)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(markdown_report(report))
    _print_cpu(pipeline.cpu_s)
    print(
        f"wrote {out / 'contact_sheet.png'}, {out / 'ssim_vs_snr.png'}, {out / 'report.json'}, {out / 'report.md'} "
        f"({report['wall_s']:.1f} s in all)"
    )
    return 0


@dataclass(frozen=True)
class _Plan:
    """What a demo run sends, settled from the command line before any service starts."""

    profile: str  # the profile reference the services get
    spec: ProfileSpec
    size: int  # image side
    steps: int  # DDIM schedule length of the diffusion columns
    photos: list[SamplePhoto]
    variants: tuple[Variant, ...]  # the columns (CLEAN is sent apart)
    with_diffusion: bool
    notice: str  # the one line the sheet and report show ("" when none)
    captions_given: bool  # send the photos' own captions (the profile has no captioner)


def _plan(args: argparse.Namespace) -> _Plan:
    from semcom.models.errors import ProfileError
    from semcom.models.profiles import resolve_spec
    from semcom.samples import sample_photos

    profile = args.profile  # "taef2" is a built-in name in every command (semcom.models.profiles)
    try:
        spec = resolve_spec(profile)
    except ProfileError as exc:
        raise ValueError(str(exc)) from None
    tiny = args.profile == "tiny"
    size = _image_size(args)
    steps = args.steps or (TINY_STEPS if tiny else PAPER_STEPS)
    photos = sample_photos(args.num_images)
    with_diffusion, notice = diffusion_status(args.profile, spec, args.diffusion)
    if tiny:
        random = "tiny profile: random weights, every picture is noise (the default profile, taef2, is a real codec)."
        notice = f"{random} {notice}".strip()
    return _Plan(
        profile=profile,
        spec=spec,
        size=size,
        steps=steps,
        photos=photos,
        variants=CODEC_VARIANTS + (DIFFUSION_VARIANTS if with_diffusion else ()),
        with_diffusion=with_diffusion,
        notice=notice,
        captions_given=spec.captioner is None,  # the paper's profile captions with BLIP, as the paper does
    )


def _image_size(args: argparse.Namespace) -> int:
    """--image-size, else the profile's default side; ValueError unless a positive multiple of 64."""
    from semcom import config

    tiny = args.profile == "tiny"
    size = args.image_size or (
        TAEF2_SIZE if args.profile == DEFAULT_PROFILE else TINY_SIZE if tiny else int(config.get("SEMCOM_IMAGE_SIZE"))
    )
    if size <= 0 or size % 64:
        raise ValueError(f"--size must be a positive multiple of 64, got {size}")
    return size


@dataclass(frozen=True)
class _PipelineRun:
    """Where the services ran and what they cost."""

    services: dict[str, str]  # role -> address
    startup_s: float  # from the start of the demo until the services were up
    cpu_s: dict[str, float | None]  # CPU seconds per process (None: unknown)


class _Streams:
    """The demo's transmissions: the clean channel first, then one stream per SNR with every photo
    and variant in it. Photo i gets the same sender/receiver seeds everywhere; channel noise
    differs per cell."""

    def __init__(
        self, args: argparse.Namespace, plan: _Plan, datas: dict[str, bytes], originals: dict[str, Image.Image]
    ) -> None:
        self.args = args
        self.plan = plan
        self.datas = datas
        self.originals = originals
        self.records: list[dict[str, Any]] = []
        # LDPC + AMC cells whose latent AMC drops (no MCS fits the airtime budget)
        self.drops: list[dict[str, Any]] = []
        self.images: dict[tuple[str, str, float | None], Image.Image] = {}
        self.latent_values = 0  # values per latent, learnt from the clean channel's float64 latent

    def run(self, timeout_s: float, started: float) -> _PipelineRun:
        """Start the three services, send every stream through them, stop them."""
        from semcom.loadtest.cluster import LocalPipeline
        from semcom.rpc.client import SenderClient
        from semcom.rpc.tls import TlsConfig

        plan = self.plan
        with LocalPipeline(
            profile=plan.profile, image_size=plan.size, env=_service_env(self.args.preset), start_timeout_s=timeout_s
        ) as pipe:
            services = {role: pipe.address(role) for role in ("sender", "channel", "receiver")}
            startup_s = time.monotonic() - started
            print(f"services up after {startup_s:.1f} s: {services}")
            with SenderClient(pipe.sender, tls=TlsConfig(insecure=True), deadline_s=timeout_s) as client:
                streams = [(None, (CLEAN,))] + [(snr, plan.variants) for snr in self.args.snr_db]
                for j, (snr, group) in enumerate(streams):
                    self._stream(client, j, snr, group)
            # CPU seconds each process used: on a shared machine these move far less with other
            # people's load than wall time does (the 90 s target is for 2 otherwise idle cores).
            cpu_s = {role: pipe.services[role].cpu_seconds() for role in ("sender", "channel", "receiver")}
        cpu_s["demo"] = time.process_time()
        return _PipelineRun(services=services, startup_s=startup_s, cpu_s=cpu_s)

    def _stream(self, client: SenderClient, j: int, snr: float | None, group: tuple[Variant, ...]) -> None:
        """Stream j: every photo through every variant of `group` at Eb/N0 `snr` (None: clean channel)."""
        import grpc

        esn0 = (snr if snr is not None else 0.0) + ESN0_OFFSET_DB
        dropped = self._amc_drops(snr, esn0)
        photos, steps = self.plan.photos, self.plan.steps
        requests = [
            build_request(
                v,
                p.name,
                self.datas[p.name],
                p.caption if self.plan.captions_given else None,
                esn0,
                seeds=cell_seeds(self.args.seed, i, j, k),
                steps=steps,
            )
            for i, p in enumerate(photos)
            for k, v in enumerate(group)
            if not (dropped and v.key == "ldpc-amc")
        ]
        t0 = time.monotonic()
        try:
            results = list(client.transmit(requests))
        except grpc.RpcError as exc:
            where = "clean channel" if snr is None else f"Eb/N0 {snr:g} dB"
            raise RuntimeError(f"stream at {where}: {exc.code().name}: {exc.details()}") from None
        for result in results:
            self._record(result, snr, esn0)
        where = "clean channel" if snr is None else f"Eb/N0 {snr:5.2f} dB (Es/N0 {esn0:.2f})"
        print(f"  {where}: {len(results)} transmissions in {time.monotonic() - t0:.1f} s")

    def _amc_drops(self, snr: float | None, esn0: float) -> str:
        """Why AMC drops the LDPC cells' latent at this SNR ("" when it sends it; always "" on the
        clean channel); a drop is recorded for every photo. The LDPC cells decode at k = 0: a
        dropped latent leaves no image."""
        if snr is None:
            return ""
        dropped = amc_drop_reason(esn0, self.latent_values)
        if dropped:
            self.drops.extend(
                {"image": p.name, "variant": "ldpc-amc", "ebn0_db": snr, "reason": dropped} for p in self.plan.photos
            )
        return dropped

    def _record(self, result: Any, snr: float | None, esn0: float) -> None:
        """Score one transmission result against its original and keep its record and image."""
        import io

        from PIL import Image

        name, key, _ = result.request_id.split("|")
        recon = Image.open(io.BytesIO(result.reconstruction.data)).convert("RGB")
        reference = self.originals[name].resize(recon.size, Image.Resampling.LANCZOS)
        self.records.append(_transmission_record(result, name, key, snr, esn0, reference, recon))
        self.images[(name, key, snr)] = recon
        if key == "clean":  # float64: 64 bits per latent value
            self.latent_values = int(result.report.latent.info_bits) // 64


def _service_env(preset: str | None) -> dict[str, str]:
    """Environment of the three service processes."""
    # Two model processes (sender, receiver) work at once when pipelined: give each half the cores,
    # so torch's OpenMP threads do not oversubscribe the machine (which slows them tenfold).
    threads = max(1, (os.cpu_count() or 2) // 2)
    env = {"SEMCOM_TORCH_THREADS": str(threads)}
    if preset:
        env["SEMCOM_PRESET"] = preset  # sender (BLIP decoding) and receiver (diffusion) alike
    return env


def _transmission_record(
    result: Any, name: str, key: str, snr: float | None, esn0: float, reference: Image.Image, recon: Image.Image
) -> dict[str, Any]:
    """One transmission's row of report.json: quality against the original, the link's counts, captions, timings."""
    from semcom.metrics import psnr, ssim

    sent = result.caption_sent.decode("ascii", "replace")
    received = result.caption_received.decode("ascii", "replace")
    value_psnr = float(psnr(reference, recon))
    latent = result.report.latent
    return {
        "image": name,
        "variant": key,
        "ebn0_db": snr,
        "esn0_db": round(esn0, 4),
        "ssim": float(ssim(reference, recon)),
        "psnr_db": value_psnr if math.isfinite(value_psnr) else None,
        "latent_symbols": int(latent.symbols),
        "latent_bits": int(latent.bits),
        "latent_info_bits": int(latent.info_bits),
        "latent_bit_errors": int(latent.bit_errors),
        "latent_values_sanitised": int(latent.values_sanitised),
        "mcs": latent.mcs,
        "segments": int(latent.segments),
        "segments_failed": int(latent.segments_failed),
        "latent_dropped": bool(result.report.latent_dropped),
        "drop_reason": result.report.drop_reason,
        "caption_symbols": int(result.report.caption.symbols),
        "caption_bit_errors": int(result.report.caption.bit_errors),
        "caption_sent": sent,
        "caption_received": received,
        "caption_corrupted": corrupted_positions(sent, received),
        "steps_executed": int(result.steps_executed),
        "timings": dict(sorted(result.timings.items())),
    }


def _print_summary(summary: dict[str, Any]) -> None:
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


def _draw(out: Path, plan: _Plan, streams: _Streams, snrs: tuple[float, ...], summary: dict[str, Any]) -> None:
    """contact_sheet.png and ssim_vs_snr.png."""
    photos, records, originals, size = plan.photos, streams.records, streams.originals, plan.size
    title = f"semcom demo: {plan.spec.name} codec, k = 0, {size}x{size}, 16-QAM AWGN, {len(photos)} scikit-image photos"
    photo_rows = [
        {
            "name": p.name,
            "image": originals[p.name],
            "caption": next((r["caption_sent"] for r in records if r["image"] == p.name), p.caption),
        }
        for p in photos
    ]
    by_cell = {
        (r["image"], r["variant"], r["ebn0_db"]): {
            **r,
            "image": streams.images[(r["image"], r["variant"], r["ebn0_db"])],
        }
        for r in records
    }
    by_cell.update(
        {(d["image"], d["variant"], d["ebn0_db"]): {"dropped": d["reason"], "image": None} for d in streams.drops}
    )
    sheet = contact_sheet(photo_rows, plan.variants, snrs, by_cell, title, plan.notice, cell=min(size, CELL_MAX))
    sheet.save(out / "contact_sheet.png", optimize=True)
    ssim_plot(
        summary,
        records,
        plan.variants,
        out / "ssim_vs_snr.png",
        title=f"{plan.spec.name}, {len(photos)} photos, {size}x{size}",
    )


def _report(
    args: argparse.Namespace,
    plan: _Plan,
    streams: _Streams,
    pipeline: _PipelineRun,
    summary: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    """report.json's content."""
    import statistics

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
        "services": pipeline.services,
        "images": [
            {"name": p.name, "licence": p.licence, "source": f"skimage.data.{p.loader}()", "caption": p.caption}
            for p in plan.photos
        ],
        "variants": [
            {
                "key": v.key,
                "label": v.label,
                "encoding": v.encoding,
                "mode": v.mode,
                "fec": v.fec,
                "latent_policy": v.policy,
                "latent_repair": v.repair,
            }
            for v in (CLEAN, *plan.variants)
        ],
        "summary": summary,
        "transmissions": records,
        "amc_drops": streams.drops,
        "median_e2e_s": statistics.median(r["timings"].get("total", 0.0) for r in records),
        "startup_s": pipeline.startup_s,
        "wall_s": time.monotonic() - started,
        "cpu_s": pipeline.cpu_s,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def _print_cpu(cpu_s: dict[str, float | None]) -> None:
    """The processes' CPU seconds, when every one is known."""
    known = {k: v for k, v in cpu_s.items() if v is not None}
    if len(known) == len(cpu_s):
        print(
            f"CPU seconds: {', '.join(f'{k} {v:.1f}' for k, v in known.items())} "
            f"(sum {sum(known.values()):.1f}); load average {os.getloadavg()[0]:.1f}"
        )
