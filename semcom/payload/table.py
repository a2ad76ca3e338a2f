"""Table 1 of the paper: how many bytes, bits and channel symbols each payload takes.

Rows: the whole image as float64 and as 8-bit RGB, the caption, the latent in every registered
encoding, and caption + latent per encoding; each with its ratio to both image sizes. Symbol
counts are ceil(bits / bits_per_symbol) of the chosen modulation (16-QAM: 4 bits per symbol).

Side information is not payload: the quantisation range of a uniform encoding (float32 lo and hi,
per tensor or per channel) travels in the packet header and is reported as `side_bytes`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from semcom.payload.caption import MAX_CAPTION_CHARS
from semcom.payload.latent import ENCODINGS, check_shape, get_encoding
from semcom.phy.mapping import MODULATIONS

PAPER_LATENT_SHAPE = (4, 64, 64)
# The paper's Table 1 sums caption + latent as 131,688 "bytes": 131,072 latent bytes + 616 caption
# *bits* (a unit slip). Its 2.09% (the abstract's figure) is 131,688 / 6,291,456; the exact byte
# count, 131,149, gives 2.085%. Both are printed so readers can match the paper.
PAPER_CAPTION_PLUS_LATENT = 131_688
PAPER_NOTE = (
    "paper: caption + float64 latent listed as 131,688 'bytes' = 131,072 bytes + 616 caption bits; "
    "131,688 / 6,291,456 = 2.09% (the abstract's figure); exact bytes 131,149 = 2.085%"
)
PAPER_IMAGE_SIZE = 512
QUANT_PARAM_BYTES = 4  # one float32 per lo or hi value


@dataclass(frozen=True)
class PayloadRow:
    """One line of Table 1."""

    payload: str
    shape: str
    type: str
    bytes: int
    bits: int
    symbols: int
    ratio_to_image_float64: float
    ratio_to_image_uint8: float
    side_bytes: int = 0


def payload_table(
    *,
    image_size: int = PAPER_IMAGE_SIZE,
    image_channels: int = 3,
    latent_shape: tuple[int, ...] = PAPER_LATENT_SHAPE,
    caption_chars: int = MAX_CAPTION_CHARS,
    modulation: str = "16qam",
    encodings: tuple[str, ...] | None = None,
    per_channel: bool = False,
) -> list[PayloadRow]:
    """Table 1 rows for the given sizes (the paper's by default)."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive int, got {image_size!r}")
    if isinstance(image_channels, bool) or not isinstance(image_channels, int) or image_channels < 1:
        raise ValueError(f"image_channels must be a positive int, got {image_channels!r}")
    if isinstance(caption_chars, bool) or not isinstance(caption_chars, int) or caption_chars < 0:
        raise ValueError(f"caption_chars must be a non-negative int, got {caption_chars!r}")
    if modulation not in MODULATIONS:
        raise ValueError(f"modulation must be one of {tuple(MODULATIONS)}, got {modulation!r}")
    shape = check_shape(latent_shape)
    names = tuple(ENCODINGS) if encodings is None else tuple(encodings)
    encs = [get_encoding(n) for n in names]
    bits_per_symbol = MODULATIONS[modulation]
    pixels = image_size * image_size * image_channels
    image_f64, image_u8 = pixels * 8, pixels
    shape_text = "x".join(map(str, shape))
    image_shape = f"{image_channels}x{image_size}x{image_size}"

    def row(payload: str, shape_s: str, type_s: str, nbytes: int, nbits: int, side: int = 0) -> PayloadRow:
        return PayloadRow(
            payload=payload,
            shape=shape_s,
            type=type_s,
            bytes=nbytes,
            bits=nbits,
            symbols=math.ceil(nbits / bits_per_symbol),
            ratio_to_image_float64=nbytes / image_f64,
            ratio_to_image_uint8=nbytes / image_u8,
            side_bytes=side,
        )

    rows = [
        row("whole image", image_shape, "float64", image_f64, image_f64 * 8),
        row("whole image", image_shape, "uint8", image_u8, image_u8 * 8),
        row("caption", str(caption_chars), "8-bit ASCII", caption_chars, caption_chars * 8),
    ]
    count = math.prod(shape)
    latent_rows = []
    for enc in encs:
        side = 0 if enc.family == "float" else 2 * QUANT_PARAM_BYTES * (shape[0] if per_channel else 1)
        latent_rows.append((enc, enc.payload_bytes(count), count * enc.bits, side))
    rows += [row("latent", shape_text, enc.name, nb, bits, side) for enc, nb, bits, side in latent_rows]
    rows += [
        row("caption + latent", "", enc.name, caption_chars + nb, caption_chars * 8 + bits, side)
        for enc, nb, bits, side in latent_rows
    ]
    return rows


def table_dict(rows: list[PayloadRow], *, modulation: str = "16qam") -> dict[str, Any]:
    """JSON-ready form: the modulation and the rows."""
    return {
        "modulation": modulation,
        "bits_per_symbol": MODULATIONS[modulation],
        "rows": [asdict(r) for r in rows],
        "paper_note": PAPER_NOTE,
        "paper_ratio_caption_plus_float64_latent": PAPER_CAPTION_PLUS_LATENT / (3 * PAPER_IMAGE_SIZE**2 * 8),
    }


def format_table(rows: list[PayloadRow], *, modulation: str = "16qam") -> str:
    """A human-readable table with thousands separators and percentages."""
    header: tuple[str, ...] = ("payload", "shape", "type", "bytes", "bits", f"{modulation} symbols")
    header += ("% of f64 image", "% of 8-bit image")
    body = [
        (
            r.payload,
            r.shape,
            r.type,
            f"{r.bytes:,}",
            f"{r.bits:,}",
            f"{r.symbols:,}",
            f"{100 * r.ratio_to_image_float64:.3f}%",
            f"{100 * r.ratio_to_image_uint8:.2f}%",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    left = {0, 1, 2}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    lines = [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body]
    side = sorted({r.side_bytes for r in rows if r.side_bytes})
    if side:
        sizes = "/".join(map(str, side))
        lines.append(f"(uniform encodings also carry {sizes} header bytes of float32 lo/hi, not counted)")
    lines.append(PAPER_NOTE)
    return "\n".join(lines)
