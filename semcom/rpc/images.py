"""Untrusted image bytes -> an RGB PIL image, or `InvalidRequestError` with a precise message.

What a request's image may be, and what happens to it:

* empty bytes, bytes no decoder recognises, truncated or corrupt files -> rejected;
* width or height 0 -> rejected (Pillow already refuses such headers as unidentifiable);
* more than `max_pixels` pixels (SEMCOM_MAX_IMAGE_PIXELS) -> rejected from the header alone,
  before any pixel is decoded (decompression bombs: a small PNG that inflates to gigapixels);
* 8-bit modes are converted to RGB: L, LA, RGBA (alpha dropped, not composited: each pixel keeps
  the colour stored under it, so a transparent area shows whatever colour the file holds there),
  P/PA (palette expanded), CMYK, YCbCr, LAB, HSV, 1 (bilevel);
* 16-bit greyscale (I;16, I;16B, I;16L; PNG writes these) is scaled to 8 bits (v >> 8);
* 32-bit integer (I) and float (F) images are rejected: their value range is not defined, so any
  conversion would be a guess;
* multi-frame files (GIF, APNG, TIFF) use their first frame; an EXIF orientation is applied.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from semcom.rpc.errors import InvalidRequestError

CONVERTIBLE_MODES = frozenset(
    {"RGB", "L", "LA", "RGBA", "RGBX", "RGBa", "La", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1"}
)
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
# Errors Pillow raises on truncated or corrupt data (varies by codec).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, Image.DecompressionBombError)


def configure_pixel_cap(max_pixels: int) -> None:
    """Set Pillow's own decompression-bomb guard to our cap (process-wide; call once at start).

    Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; the warning is made an
    error here (a process-wide filter: `warnings.catch_warnings` is not thread-safe), so either
    way `Image.open` refuses a bomb. `decode_image` also checks the header against its own cap.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def decode_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an encoded image file to an RGB image (rules in the module docstring)."""
    if not data:
        raise InvalidRequestError("image is empty (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width == 0 or height == 0:
            raise InvalidRequestError(f"image has no pixels ({width}x{height})")
        if width * height > max_pixels:
            raise InvalidRequestError(
                f"image of {width}x{height} = {width * height} pixels exceeds the cap of {max_pixels} "
                "(SEMCOM_MAX_IMAGE_PIXELS)"
            )
        image.seek(0)
        image.load()
    except InvalidRequestError:
        raise
    except UnidentifiedImageError:
        raise InvalidRequestError(
            f"not an image: no decoder accepts these {len(data)} bytes (unknown format, or an invalid header "
            "such as a 0-pixel size)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidRequestError(f"image rejected as a decompression bomb: {exc}") from None
    except _DECODE_ERRORS as exc:
        raise InvalidRequestError(f"image is truncated or corrupt: {exc}") from None
    return _to_rgb(image)


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in SIXTEEN_BIT_MODES:
        grey = (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode not in CONVERTIBLE_MODES:
        raise InvalidRequestError(
            f"unsupported image mode {mode!r}: send 8-bit (L, RGB, RGBA, P, CMYK ...) or 16-bit greyscale"
        )
    try:
        image = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:  # a malformed EXIF block is not worth rejecting the image for
        pass
    if mode in ("P", "PA"):
        image = image.convert("RGBA")
    return image if image.mode == "RGB" else image.convert("RGB")


def encode_image(image: Image.Image, fmt: str = "png") -> bytes:
    """An image as PNG (lossless, default) or JPEG (quality 95) bytes."""
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, format="PNG")
    elif fmt in ("jpeg", "jpg"):
        image.convert("RGB").save(buffer, format="JPEG", quality=95)
    else:
        raise InvalidRequestError(f"output_format must be 'png' or 'jpeg', got {fmt!r}")
    return buffer.getvalue()
