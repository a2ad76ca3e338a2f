"""Evaluation images: a folder of pictures with an optional image<TAB>caption file.

Layout accepted for `--data DIR`: either DIR holds the images, or DIR/images does (the Flickr8k
fixture's layout, ../shared/data/flickr8k). Captions come from `--captions FILE` or, when not
given, DIR/captions.tsv if present. The file is the Flickr8k format: one `image<TAB>caption` per
line, five lines per image; the caption used is the FIRST line of each image in file order
(deterministic, and the one Flickr8k lists as #0). Images are taken in sorted file-name order, so
`--limit N` always picks the same N.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
CAPTIONS_FILE = "captions.tsv"


@dataclass(frozen=True)
class ImageItem:
    """One evaluation image: its file name (the id in every output), path and dataset caption."""

    name: str
    path: Path
    caption: str | None = None


def read_captions(path: Path) -> dict[str, str]:
    """First caption per image of an image<TAB>caption file (blank lines and '#' lines skipped).

    A Flickr8k-style "name.jpg#0" image column is accepted and reduced to "name.jpg".
    """
    captions: dict[str, str] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, sep, caption = line.partition("\t")
            if not sep or not caption.strip():
                raise ValueError(f"{path}:{number}: expected 'image<TAB>caption', got {line[:80]!r}")
            name = name.strip().split("#", 1)[0]
            captions.setdefault(name, caption.strip())
    return captions


def captions_file(data: Path, captions: Path | str | None = None) -> Path | None:
    """The caption file a run reads: `captions` when given, else DATA/captions.tsv if present."""
    if captions is not None:
        return Path(captions)
    default = Path(data) / CAPTIONS_FILE
    return default if default.is_file() else None


def load_dataset(data: Path, captions: Path | None = None, limit: int | None = None) -> list[ImageItem]:
    """The images of `data` in sorted name order (first `limit`), with their first caption."""
    data = Path(data)
    if not data.is_dir():
        raise ValueError(f"data directory {data} does not exist")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    folder = data / "images" if (data / "images").is_dir() else data
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    captions = captions_file(data, captions)
    table = read_captions(Path(captions)) if captions is not None else {}
    if captions is not None and not table:
        raise ValueError(f"caption file {captions} holds no captions")
    files = files[:limit] if limit else files
    return [ImageItem(p.name, p, table.get(p.name)) for p in files]


def load_image(item: ImageItem):
    """The image as RGB PIL (decompression-bomb safe: PIL's own limit applies)."""
    from PIL import Image

    with Image.open(item.path) as image:
        return image.convert("RGB")


def reference_image(image, size: int):
    """What the reconstruction is compared with: RGB, Lanczos-resized to size x size.

    The same resize the sender applies before encoding (semcom.models.images.to_model_input),
    so the metrics measure the channel and the codec, not the resize.
    """
    from PIL import Image

    return image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
