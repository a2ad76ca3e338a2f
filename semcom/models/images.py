"""PIL <-> tensor conversions at the model boundary (the paper's preprocessing)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

MAX_SIZE = 4096


def check_size(size: int) -> int:
    """Square side fed to the encoder: a positive multiple of 64 (the UNet's down-sampling needs it)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 64 <= size <= MAX_SIZE or size % 64:
        raise ValueError(f"image size must be a multiple of 64 in [64, {MAX_SIZE}], got {size!r}")
    return size


def to_model_input(image: Image.Image, size: int) -> torch.Tensor:
    """RGB, Lanczos-resized to size x size, scaled to [-1, 1]: a float32 (1, 3, size, size) tensor."""
    if not isinstance(image, Image.Image):
        raise TypeError(f"image must be a PIL.Image.Image, got {type(image).__name__}")
    rgb = image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    array = np.asarray(rgb, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


ROUNDINGS = ("round", "truncate")


def to_pil(images: torch.Tensor, rounding: str = "round") -> list[Image.Image]:
    """(B, 3, H, W) tensors in [-1, 1] -> 8-bit RGB PIL images, clamped.

    rounding "round": to the nearest level (diffusers' image processor); "truncate": 255 x
    clamp((x + 1) / 2, 0, 1) cast to uint8, i.e. floored (the ldm img2img script the authors use).
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    x = images.detach().float().cpu()
    if rounding == "truncate":
        array = (255.0 * ((x + 1.0) / 2.0).clamp(0.0, 1.0)).floor().to(torch.uint8)
    else:
        array = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return [Image.fromarray(a.permute(1, 2, 0).numpy(), mode="RGB") for a in array]
