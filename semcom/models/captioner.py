"""Image-to-text at the sender: BLIP (`BlipForConditionalGeneration` + `BlipProcessor`).

The paper uses Salesforce/blip-image-captioning-large. Generation settings are configurable
per profile; the 77-character cap on the wire is applied by `semcom.payload.encode_caption`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from semcom.models.hub import Source, load_pretrained

DEFAULT_GENERATION: dict[str, Any] = {"max_new_tokens": 30, "num_beams": 3, "do_sample": False}
ALLOWED_GENERATION_KEYS = {
    "max_new_tokens",
    "max_length",
    "min_new_tokens",
    "num_beams",
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "repetition_penalty",
    "length_penalty",
    "no_repeat_ngram_size",
}


@dataclass(frozen=True)
class CaptionerSpec:
    """Where BLIP comes from, an optional text prompt (conditional captioning), generate() kwargs."""

    source: Source
    prompt: str = ""
    generation: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_GENERATION))

    def __post_init__(self) -> None:
        unknown = set(self.generation) - ALLOWED_GENERATION_KEYS
        if unknown:
            raise ValueError(
                f"unknown captioner generation settings {sorted(unknown)}; allowed: {sorted(ALLOWED_GENERATION_KEYS)}"
            )


class Captioner:
    """Callable image -> caption text (uncapped; the payload layer caps it for the wire)."""

    def __init__(self, spec: CaptionerSpec, model: Any, processor: Any, device: torch.device, dtype: torch.dtype):
        self.spec = spec
        self.model = model
        self.processor = processor
        self.device = device
        self.dtype = dtype
        self.calls = 0  # how many images were captioned (observability and tests)

    def __call__(self, image: Image.Image) -> str:
        return self.caption_batch([image])[0]

    @torch.inference_mode()
    def caption_batch(self, images: list[Image.Image]) -> list[str]:
        """Captions of several images from one batched `generate` (the sender's batcher uses it)."""
        if not images:
            return []
        self.calls += len(images)
        kwargs: dict[str, Any] = {"images": [image.convert("RGB") for image in images], "return_tensors": "pt"}
        if self.spec.prompt:
            kwargs["text"] = [self.spec.prompt] * len(images)
        inputs = self.processor(**kwargs).to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
        tokens = self.model.generate(**inputs, **self.spec.generation)
        return [text.strip() for text in self.processor.batch_decode(tokens, skip_special_tokens=True)]


def load_captioner(
    spec: CaptionerSpec, device: torch.device, dtype: torch.dtype, profile: str | None = None
) -> Captioner:
    from transformers import BlipForConditionalGeneration, BlipProcessor

    what = "captioner (BLIP)"
    processor = load_pretrained(BlipProcessor.from_pretrained, spec.source, f"{what} processor", profile)
    model = load_pretrained(BlipForConditionalGeneration.from_pretrained, spec.source, what, profile, dtype=dtype)
    model = model.to(device).eval()
    return Captioner(spec, model, processor, device, dtype)
