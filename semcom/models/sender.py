"""The sender: semantic extraction of images into SemanticPackets (caption + encoded latent).

caption: the one supplied, else BLIP's (the captioner is loaded only then), 8-bit ASCII capped at
77 characters on a word boundary (`semcom.payload.encode_caption`).
latent: the image resized to size x size (Lanczos), scaled to [-1, 1], encoded by the profile's
codec (SD VAE: posterior sample x 0.18215 as in the paper, or the posterior mean), then packed
with `semcom.payload.encode_latent` in the chosen encoding, or, for an ``analog[:OPTIONS]``
encoding, mapped onto complex channel symbols (`semcom.link.analog.encode_payload`). `encode_batch` does many images at
once: one BLIP call for the missing captions, one encoder call per coded size (per-item seeds).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from semcom import config
from semcom.link.analog import canonical, encode_payload, is_analog, names_scheme
from semcom.models.images import check_size, to_model_input
from semcom.payload.caption import encode_caption
from semcom.payload.latent import encode_latent
from semcom.payload.packet import SemanticPacket

if TYPE_CHECKING:
    from semcom.models.base import ModelSet


class Sender:
    """Turns images into packets with the profile's captioner and encoder (shared, loaded once)."""

    def __init__(self, models: ModelSet) -> None:
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

    def encode(self, image: Image.Image, caption: str | None = None, **options: Any) -> SemanticPacket:
        """One image -> SemanticPacket; stage timings in `last_timings` (see `encode_with_timings`)."""
        return self.encode_with_timings(image, caption, **options)[0]

    def encode_latent_tensor(
        self, image: Image.Image, sample_posterior: bool = True, seed: int | None = None, size: int | None = None
    ) -> np.ndarray:
        """The float32 latent (C, H/f, W/f) of `image` before any wire encoding."""
        side = check_size(self.models.spec.image_size if size is None else size)
        return self._latents([image], side, sample_posterior, [seed])[0]

    def _latents(
        self, images: list[Image.Image], side: int, sample_posterior: bool, seeds: list[int | None]
    ) -> list[np.ndarray]:
        """Float32 latents of `images` (all resized to `side`) from one batched encoder call.

        Each image's posterior noise comes from its own CPU generator (diffusers' randn_tensor
        draws one sample per generator and moves it), so a seed gives the same sample alone or in
        a batch, on CPU and GPU. Without any seed the global RNG is used, as before batching.
        """
        codec = self.models.encoder()
        generator: list[torch.Generator] | None = None
        if any(seed is not None for seed in seeds):
            generator = [
                torch.Generator("cpu").manual_seed(seed) if seed is not None else torch.Generator("cpu")
                for seed in seeds
            ]
            for g, seed in zip(generator, seeds):
                if seed is None:
                    g.seed()  # fresh randomness for the unseeded items of a mixed batch
        x = torch.cat([to_model_input(image, side) for image in images])
        latents = codec.encode(x, sample=sample_posterior, generator=generator)
        return list(latents.cpu().numpy().astype(np.float32))

    def encode_with_timings(
        self, image: Image.Image, caption: str | None = None, **options: Any
    ) -> tuple[SemanticPacket, dict[str, float]]:
        """One image -> (SemanticPacket, stage timings: caption, encode (codec), pack (payload), total).

        `caption`: None = BLIP's. `options` (checked, with their defaults, by one place: `_plan`):
        encoding ("float64"), per_channel (False), clip (None), sample_posterior (True), seed (None),
        size (None: the profile's), percentile (100.0). Uniform (int) encodings clip at `clip` if
        given, else at the (100 - percentile, percentile) percentiles of the latent (per channel
        with `per_channel`); 100 = min/max.
        """
        packet, timings = self.encode_batch_with_timings([{"image": image, "caption": caption, **options}])[0]
        self._local.timings = timings
        return packet, timings

    def encode_batch(self, items: Sequence[Mapping[str, Any]], return_exceptions: bool = False) -> list[Any]:
        """Many images -> SemanticPackets, in input order; each item holds `encode`'s keyword arguments.

        Captions missing from the items come from one batched BLIP call; the images of the same
        coded size and posterior mode go through the encoder as one batch. Every item keeps its own
        seed, so a packet equals `encode` of that item alone (up to last-bit rounding of batched
        kernels). With `return_exceptions`, an invalid item yields its exception in its slot.
        """
        return [
            r if isinstance(r, BaseException) else r[0]
            for r in self.encode_batch_with_timings(items, return_exceptions)
        ]

    def encode_batch_with_timings(
        self, items: Sequence[Mapping[str, Any]], return_exceptions: bool = False
    ) -> list[Any]:
        """`encode_batch` returning (packet, timings) per item; caption/encode are the batch stage's wall time."""
        out: list[Any] = [None] * len(items)
        jobs: list[_Job] = []
        for index, item in enumerate(items):
            try:
                jobs.append(self._plan(index, item))
            except (TypeError, ValueError) as exc:
                if not return_exceptions:
                    raise
                out[index] = exc
        start = time.perf_counter()
        uncaptioned = [job for job in jobs if job.caption is None]
        if uncaptioned:
            texts = self.models.captioner().caption_batch([job.image for job in uncaptioned])
            seconds = time.perf_counter() - start
            for job, text in zip(uncaptioned, texts):
                job.caption = text
                job.timings["caption"] = seconds
        groups: dict[tuple[int, bool], list[_Job]] = {}
        for job in jobs:
            groups.setdefault((job.side, job.sample_posterior), []).append(job)
        for (side, sample_posterior), group in groups.items():
            t0 = time.perf_counter()
            latents = self._latents([job.image for job in group], side, sample_posterior, [job.seed for job in group])
            seconds = time.perf_counter() - t0
            for job, latent in zip(group, latents):
                job.timings["encode"] = seconds
                job.latent = latent
        codec_info = self.models.encoder().info if jobs else None
        for job in jobs:
            try:
                out[job.index] = (self._pack(job, codec_info), job.timings)
            except ValueError as exc:  # bad clip range, unknown encoding, caption not encodable
                if not return_exceptions:
                    raise
                out[job.index] = exc
            job.timings["total"] = time.perf_counter() - start
        return out

    def _plan(self, index: int, item: Mapping[str, Any]) -> _Job:
        """Check one item's arguments (precise TypeError/ValueError) before any model runs."""
        unknown = set(item) - _ENCODE_KEYS
        if unknown:
            raise TypeError(f"unknown encode arguments {sorted(unknown)}; allowed: {sorted(_ENCODE_KEYS)}")
        image, caption, seed = item.get("image"), item.get("caption"), item.get("seed")
        if not isinstance(image, Image.Image):
            raise TypeError(f"image must be a PIL.Image.Image, got {type(image).__name__}")
        if caption is not None and not isinstance(caption, str):
            raise TypeError(f"caption must be str or None, got {type(caption).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
            raise ValueError(f"seed must be None or an integer in [0, 2**64), got {seed!r}")
        encoding = item.get("encoding", "float64")
        if names_scheme(encoding):
            encoding = canonical(encoding)  # ValueError naming a malformed spec, before any model runs
        size = item.get("size")
        side = check_size(self.models.spec.image_size if size is None else size)
        return _Job(
            index=index,
            image=image,
            caption=caption,
            seed=seed,
            side=side,
            sample_posterior=bool(item.get("sample_posterior", True)),
            encoding=encoding,
            per_channel=bool(item.get("per_channel", False)),
            clip=item.get("clip"),
            percentile=_percentile(item.get("percentile", 100.0)),
        )

    @staticmethod
    def _pack(job: _Job, codec_info: Any) -> SemanticPacket:
        if job.caption is None or job.latent is None:
            raise RuntimeError("_pack needs the caption and latent stages to have run")
        t0 = time.perf_counter()
        packet = pack_packet(
            job.caption,
            job.latent,
            codec_info,
            job.image.size,
            job.side,
            encoding=job.encoding,
            per_channel=job.per_channel,
            clip=job.clip,
            percentile=job.percentile,
            packet_id=uuid.uuid4().hex,
        )
        job.timings["pack"] = time.perf_counter() - t0
        return packet


def pack_packet(
    caption: str,
    latent: np.ndarray | None,
    codec: Any,
    original_size: tuple[int, int],
    side: int,
    *,
    encoding: str = "float64",
    per_channel: bool = False,
    clip: tuple[Any, Any] | None = None,
    percentile: float = 100.0,
    packet_id: str = "",
) -> SemanticPacket:
    """The packet of one image: its caption (`encode_caption`) and its latent in `encoding` with the
    sender's options, or none (`latent` None: text mode's caption-only packet). The one packer:
    `Sender` builds every packet with it, and the evaluation sweep, which encodes each image's
    latent once and packs it in many variants, calls it directly, so a sweep cell sends the bits
    the sender would. `codec`: the encoder's CodecInfo; `side`: the coded image side."""
    caption_bytes = encode_caption(caption)
    payload = None
    if latent is not None and is_analog(encoding):  # values as complex channel symbols (semcom.link.analog)
        cap = int(config.get("SEMCOM_MAX_LATENT_BYTES"))  # the bound every hop checks
        payload = encode_payload(latent, encoding, len(caption_bytes), max_bytes=cap)
    elif latent is not None:
        payload = encode_latent(latent, encoding, per_channel=per_channel, clip=clip, percentile=percentile)
    return SemanticPacket(
        caption=caption_bytes,
        latent=payload,
        codec=codec,
        original_size=original_size,
        coded_size=(side, side),
        packet_id=packet_id,
    )


_ENCODE_KEYS = frozenset(
    {"image", "caption", "encoding", "per_channel", "clip", "percentile", "sample_posterior", "seed", "size"}
)


def _percentile(value: Any) -> float:
    """A clipping percentile in (50, 100] (100 = min/max): uniform encodings clip the range there."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 50.0 < float(value) <= 100.0:
        raise ValueError(f"percentile must be a number in (50, 100], got {value!r}")
    return float(value)


@dataclass
class _Job:
    """One item of `encode_batch` on its way through the stages."""

    index: int
    image: Image.Image
    caption: str | None
    seed: int | None
    side: int
    sample_posterior: bool
    encoding: str
    per_channel: bool
    clip: Any
    percentile: float = 100.0
    latent: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
