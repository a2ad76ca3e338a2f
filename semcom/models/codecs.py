"""Image codecs behind one interface: images in [-1, 1] <-> latents in the diffusion model's space.

Three families, all loaded through `semcom.models.hub.load_pretrained`:
- "sd-vae": diffusers `AutoencoderKL` (SD v1.5's VAE, the paper's); latent = posterior sample (or
  mean) x scaling factor (0.18215 for SD v1.5).
- "taesd": diffusers `AutoencoderTiny` (TAESD, a drop-in for the SD VAE: same latent space, no
  scaling). diffusers' AutoencoderTiny already maps [-1, 1] images to TAESD's [0, 1] convention.
- "taef2": `semcom.models.taef2.TAEF2` (FLUX.2 latent space, 32 channels, images in [0, 1]).

`latent_space` names the space a latent lives in; a UNet can only denoise latents of its own space.
`valid_range` is where a clean latent of this codec lives: the receiver clamps received values
into it (payload.decode_latent), so a flipped exponent bit cannot blow up the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from semcom.models.hub import Source, diffusers_kwargs, load_pretrained
from semcom.models.taef2 import TAEF2
from semcom.payload.packet import CodecInfo

CODEC_TYPES = ("sd-vae", "taesd", "taef2")

# Default latent space and valid range per codec type (profiles may override both).
# sd-vae/taesd: SD v1.5 latents x 0.18215 have unit-order spread; TAESD's own 8-bit latent format
# (AutoencoderTiny.scale_latents, latent_magnitude 3) and its decoder's soft clamp 3 tanh(x/3)
# treat +-3 as the edge of the space, so anything beyond carries no image information.
# taef2: measured on the 75 Flickr8k fixture photos at 512x512, clean latents reach |z| = 6.8
# (99.9% of values within about +-3), so +-7 leaves every clean latent untouched (docs/models.md).
DEFAULT_LATENT_SPACE = {"sd-vae": "sd15", "taesd": "sd15", "taef2": "flux2"}
DEFAULT_VALID_RANGE = {"sd-vae": (-5.0, 5.0), "taesd": (-3.0, 3.0), "taef2": (-7.0, 7.0)}


@dataclass(frozen=True)
class CodecSpec:
    """What to load: codec type, where from, and the identity it reports on the wire."""

    type: str
    source: Source
    name: str = ""
    latent_space: str = ""
    valid_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.type not in CODEC_TYPES:
            raise ValueError(f"codec type must be one of {CODEC_TYPES}, got {self.type!r}")
        if self.valid_range is not None:
            lo, hi = self.valid_range
            if not lo < hi:
                raise ValueError(f"valid_range must be (lo, hi) with lo < hi, got {self.valid_range}")


class Codec:
    """Encoder/decoder pair with the latent conventions of the diffusion model.

    encode(images[-1,1], sample, generator) -> latent (B, C, H/f, W/f) already scaled for the UNet;
    decode(latent) -> images in [-1, 1], clamped.
    """

    def __init__(self, spec: CodecSpec, model: Any, device: torch.device, dtype: torch.dtype) -> None:
        self.spec = spec
        self.model = model
        self.device = device
        self.dtype = dtype
        self.name = spec.name or spec.type
        self.latent_space = spec.latent_space or DEFAULT_LATENT_SPACE[spec.type]
        self.valid_range = spec.valid_range or DEFAULT_VALID_RANGE[spec.type]
        if spec.type == "sd-vae":
            self.latent_channels = int(model.config.latent_channels)
            self.spatial_factor = 2 ** (len(model.config.block_out_channels) - 1)
            self.scaling_factor = float(model.config.scaling_factor)
            shift = getattr(model.config, "shift_factor", None)
            self.shift_factor = float(shift) if shift is not None else 0.0
        elif spec.type == "taesd":
            self.latent_channels = int(model.config.latent_channels)
            self.spatial_factor = int(model.spatial_scale_factor)
            self.scaling_factor = float(model.config.scaling_factor)
            self.shift_factor = float(getattr(model.config, "shift_factor", 0.0) or 0.0)
        else:
            self.latent_channels = model.latent_channels
            self.spatial_factor = model.spatial_factor
            self.scaling_factor = 1.0
            self.shift_factor = 0.0

    @property
    def info(self) -> CodecInfo:
        """Codec identity and valid latent range, as sent in the packet."""
        return CodecInfo(
            name=self.name,
            model_id=self.spec.source.describe(),
            scaling_factor=self.scaling_factor,
            valid_min=float(self.valid_range[0]),
            valid_max=float(self.valid_range[1]),
        )

    def latent_shape(self, width: int, height: int) -> tuple[int, int, int]:
        return (self.latent_channels, height // self.spatial_factor, width // self.spatial_factor)

    @torch.inference_mode()
    def encode(
        self, images: torch.Tensor, sample: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Images (B,3,H,W) in [-1,1] -> float32 latents in the diffusion model's space."""
        x = images.to(self.device, self.dtype)
        if self.spec.type == "sd-vae":
            dist = self.model.encode(x).latent_dist
            raw = dist.sample(generator=generator) if sample else dist.mode()
        elif self.spec.type == "taesd":
            raw = self.model.encode(x).latents
        else:
            raw = self.model.encoder((x + 1) / 2)
        return ((raw.float() - self.shift_factor) * self.scaling_factor).contiguous()

    @torch.inference_mode()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents (B,C,h,w) -> float32 images (B,3,fh,fw) clamped to [-1, 1]."""
        z = (latents.to(self.device, torch.float32) / self.scaling_factor + self.shift_factor).to(self.dtype)
        if self.spec.type == "taef2":
            images = self.model.decoder(z) * 2 - 1
        else:
            images = self.model.decode(z).sample
        return images.float().clamp(-1, 1)


def load_codec(spec: CodecSpec, device: torch.device, dtype: torch.dtype, profile: str | None = None) -> Codec:
    """Load a codec's weights (once) and move them to `device`/`dtype`."""
    what = f"image codec {spec.name or spec.type!r} ({spec.type})"
    if spec.type == "sd-vae":
        from diffusers import AutoencoderKL

        model = load_pretrained(AutoencoderKL.from_pretrained, spec.source, what, profile, **diffusers_kwargs(dtype))
    elif spec.type == "taesd":
        from diffusers import AutoencoderTiny

        model = load_pretrained(AutoencoderTiny.from_pretrained, spec.source, what, profile, **diffusers_kwargs(dtype))
    else:
        model = load_pretrained(TAEF2.from_pretrained, spec.source, what, profile).to(dtype=dtype)
    model = model.to(device=device).eval()
    model.requires_grad_(False)
    return Codec(spec, model, device, dtype)
