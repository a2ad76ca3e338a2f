"""semcom.rpc.images: untrusted bytes -> RGB image, or INVALID_ARGUMENT with a precise reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from semcom.rpc.errors import InvalidRequestError
from semcom.rpc.images import decode_image, encode_image
from tests.images import encoded, png_claiming_size

CAP = 1_000_000


def test_rgb_png_and_jpeg_decode() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    image = decode_image(encoded(Image.fromarray(pixels)), CAP)
    assert image.mode == "RGB" and image.size == (60, 40)
    np.testing.assert_array_equal(np.asarray(image), pixels)
    assert decode_image(encoded(Image.fromarray(pixels), "JPEG"), CAP).size == (60, 40)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"definitely not an image" * 4, "not an image"),
        (png_claiming_size(0, 10), "not an image"),  # Pillow refuses 0-pixel headers
        (png_claiming_size(30_000, 30_000), "decompression bomb"),
        (png_claiming_size(1001, 1000), "decompression bomb|exceeds the cap"),
    ],
)
def test_rejected_bytes(data: bytes, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        decode_image(data, CAP)


def test_truncated_files_are_rejected() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for fmt in ("PNG", "JPEG"):
        data = encoded(Image.fromarray(pixels), fmt)
        with pytest.raises(InvalidRequestError, match="truncated or corrupt"):
            decode_image(data[: len(data) // 2], CAP)


def test_pixel_cap_is_checked_from_the_header() -> None:
    big = encoded(Image.new("L", (1200, 1000)))  # compresses to a few KB: a mild bomb
    assert len(big) < 10_000
    with pytest.raises(InvalidRequestError, match="1200x1000 = 1200000 pixels exceeds the cap of 1000000"):
        decode_image(big, CAP)
    assert decode_image(big, 2_000_000).size == (1200, 1000)


@pytest.mark.parametrize(
    "mode,fmt",
    [("CMYK", "JPEG"), ("CMYK", "TIFF"), ("P", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"), ("L", "PNG"), ("1", "PNG")],
)
def test_eight_bit_modes_become_rgb(mode: str, fmt: str) -> None:
    image = decode_image(encoded(Image.new(mode, (16, 12)), fmt), CAP)
    assert image.mode == "RGB" and image.size == (16, 12)


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    values = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)  # full 16-bit range
    image = decode_image(encoded(Image.fromarray(values)), CAP)
    np.testing.assert_array_equal(np.asarray(image)[..., 0], np.arange(256).reshape(16, 16))


@pytest.mark.parametrize("mode", ["I", "F"])
def test_32_bit_modes_are_refused(mode: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"unsupported image mode '{mode}'"):
        decode_image(encoded(Image.new(mode, (8, 8)), "TIFF"), CAP)


def test_palette_colours_survive() -> None:
    image = Image.new("P", (4, 4))
    image.putpalette([255, 0, 0] + [0, 0, 0] * 255)
    assert np.asarray(decode_image(encoded(image), CAP))[0, 0].tolist() == [255, 0, 0]


def test_encode_image_formats() -> None:
    image = Image.new("RGB", (8, 8), (1, 2, 3))
    assert Image.open(io.BytesIO(encode_image(image, "png"))).format == "PNG"
    assert Image.open(io.BytesIO(encode_image(image, "jpeg"))).format == "JPEG"
    with pytest.raises(InvalidRequestError):
        encode_image(image, "gif")


def test_rgba_alpha_is_dropped_not_composited() -> None:
    """A fully transparent pixel keeps the colour stored under it (no black or white background)."""
    import io as _io

    from PIL import Image as _Image

    from semcom.rpc.images import decode_image

    buf = _io.BytesIO()
    _Image.new("RGBA", (4, 4), (200, 100, 50, 0)).save(buf, format="PNG")
    assert decode_image(buf.getvalue(), 1000).getpixel((0, 0)) == (200, 100, 50)
