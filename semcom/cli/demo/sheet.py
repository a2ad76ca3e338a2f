"""`semcom demo`, the pictures: the contact sheet (each photo, SNR and variant, the captions with
their corrupted characters marked) and the SSIM-against-SNR figure."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

from semcom.cli.demo.plan import CELL_MAX, ESN0_OFFSET_DB
from semcom.variants import Variant

if TYPE_CHECKING:
    from semcom.cli.demo.plan import Plan
    from semcom.cli.demo.run import Streams

    Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def _font(size: int):
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
    font, small = _font(13), _font(12)
    pad, label_h, line_h = 6, 34, 15
    columns = ["original"] + [v.label for v in variants]
    caption_lines = 1 + len([v for v in variants if v.name in CAPTION_ROWS])
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
        _sheet_cell(pen, pen.column_x(c), y, results.get((photo["name"], variant.name, snr)))
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
    if record.get("latent_analog_symbols"):  # analog symbols + their header (coded at a fixed MCS)
        detail += f", {record['latent_analog_symbols']:,} analog"
    elif record.get("mcs"):
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
        if variant.name not in CAPTION_ROWS:
            continue
        record = results.get((photo["name"], variant.name, snr))
        if record is None or "caption_received" not in record:
            continue
        cy += pen.line_h
        name = CAPTION_ROWS[variant.name]
        _marked_line(
            pen.draw,
            (pad, cy),
            f"received {name + ':':<10}",
            record["caption_received"],
            set(record["caption_corrupted"]),
            small,
        )


def ssim_plot(summary: dict, records: list[dict], variants: tuple[Variant, ...], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for variant in variants:
        points = [p for p in summary.get(variant.name) or [] if p["mean_ssim"] is not None]
        xs = [p["ebn0_db"] for p in points]
        (line,) = ax.plot(xs, [p["mean_ssim"] for p in points], marker="o", label=variant.label)
        dots = [(r["ebn0_db"], r["ssim"]) for r in records if r["variant"] == variant.name]
        if dots:
            ax.scatter([d[0] for d in dots], [d[1] for d in dots], s=10, alpha=0.3, color=line.get_color())
        drops = [p["ebn0_db"] for p in summary.get(variant.name) or [] if p.get("dropped")]
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


def draw_figures(out: Path, plan: Plan, streams: Streams, snrs: tuple[float, ...], summary: dict[str, Any]) -> None:
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
