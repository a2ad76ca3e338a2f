"""The sender: semantic extraction of one image into a SemanticPacket (caption + encoded latent).

caption: the one supplied, else BLIP's (the captioner is loaded only then), 8-bit ASCII capped at
77 characters on a word boundary (`semcom.payload.encode_caption`).
latent: the image resized to size x size (Lanczos), scaled to [-1, 1], encoded by the profile's
codec (SD VAE: posterior sample x 0.18215 as in the paper, or the posterior mean), then packed
with `semcom.payload.encode_latent` in the chosen encoding.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from semcom.models.images import check_size, to_model_input
from semcom.payload.caption import encode_caption
from semcom.payload.latent import encode_latent
from semcom.payload.packet import SemanticPacket

if TYPE_CHECKING:
    from semcom.models.profiles import Models


class Sender:
    """Turns images into packets with the profile's captioner and encoder (shared, loaded once)."""

    def __init__(self, models: Models) -> None:
        self.models = models
        self._local = threading.local()

    @property
    def last_timings(self) -> dict[str, float]:
        """Stage timings (seconds) of this thread's last `encode` call."""
        return dict(getattr(self._local, "timings", {}))

    def preload(self, captioner: bool = True) -> None:
        """Load the encoder (and the captioner, if the profile has one and `captioner`) now."""
        self.models.encoder()
        if captioner and self.models.has_captioner:
            self.models.captioner()

    def caption(self, image: Image.Image) -> str:
        """BLIP's caption of `image` (uncapped text)."""
        return self.models.captioner()(image)

    def encode(
        self,
        image: Image.Image,
        caption: str | None = None,
        encoding: str = "float64",
        per_channel: bool = False,
        clip: tuple[float, float] | None = None,
        sample_posterior: bool = True,
        seed: int | None = None,
        size: int | None = None,
    ) -> SemanticPacket:
        """One image -> SemanticPacket; stage timings in `last_timings` (see `encode_with_timings`)."""
        return self.encode_with_timings(image, caption, encoding, per_channel, clip, sample_posterior, seed, size)[0]

    def encode_latent_tensor(
        self, image: Image.Image, sample_posterior: bool = True, seed: int | None = None, size: int | None = None
    ) -> np.ndarray:
        """The float32 latent (C, H/f, W/f) of `image` before any wire encoding."""
        side = check_size(self.models.spec.image_size if size is None else size)
        codec = self.models.encoder()
        # A CPU generator draws the posterior noise on the CPU for every device (diffusers'
        # randn_tensor moves it), so a seed gives the same sample on CPU and GPU.
        generator = torch.Generator("cpu").manual_seed(seed) if seed is not None else None
        x = to_model_input(image, side)
        latent = codec.encode(x, sample=sample_posterior, generator=generator)
        return latent[0].cpu().numpy().astype(np.float32)

    def encode_with_timings(
        self,
        image: Image.Image,
        caption: str | None = None,
        encoding: str = "float64",
        per_channel: bool = False,
        clip: tuple[float, float] | None = None,
        sample_posterior: bool = True,
        seed: int | None = None,
        size: int | None = None,
    ) -> tuple[SemanticPacket, dict[str, float]]:
        """`encode`, also returning stage timings: caption, encode (codec), pack (payload), total."""
        if not isinstance(image, Image.Image):
            raise TypeError(f"image must be a PIL.Image.Image, got {type(image).__name__}")
        if caption is not None and not isinstance(caption, str):
            raise TypeError(f"caption must be str or None, got {type(caption).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
            raise ValueError(f"seed must be None or an integer in [0, 2**64), got {seed!r}")
        side = check_size(self.models.spec.image_size if size is None else size)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        if caption is None:
            caption = self.caption(image)
            timings["caption"] = time.perf_counter() - start
        caption_bytes = encode_caption(caption)
        t0 = time.perf_counter()
        latent = self.encode_latent_tensor(image, sample_posterior, seed, side)
        timings["encode"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        payload = encode_latent(latent, encoding, per_channel=per_channel, clip=clip)
        timings["pack"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - start
        packet = SemanticPacket(
            caption=caption_bytes,
            latent=payload,
            codec=self.models.encoder().info,
            original_size=image.size,
            coded_size=(side, side),
            packet_id=uuid.uuid4().hex,
        )
        self._local.timings = timings
        return packet, timings
