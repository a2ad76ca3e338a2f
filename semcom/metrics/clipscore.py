"""CLIP score: 100 * max(cos(image embedding, text or image embedding), 0).

The definition torchmetrics uses (Hessel et al. 2021 without their 2.5 rescaling). Two scores
per reconstruction: against the caption the sender sent (text alignment, as in the paper) and
against the original image (image-image similarity in CLIP space). The model is any object with
`get_image_features` / `get_text_features` (a transformers `CLIPModel`), so tests run a tiny,
randomly initialised CLIPModel built from a small `CLIPConfig`; the default loads
`openai/clip-vit-base-patch32` from the local Hugging Face cache only (no download).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.metrics.availability import MetricUnavailable, require_module
from semcom.metrics.images import ImageLike, to_float_rgb

if TYPE_CHECKING:
    import torch

DEFAULT_CLIP_MODEL = "openai/clip-vit-base-patch32"
CLIP_MAX_TOKENS = 77


def _embedding(output: Any) -> torch.Tensor:
    """transformers < 5 returns the projected tensor; >= 5 a ModelOutput with it in pooler_output."""
    import torch

    tensor = output if isinstance(output, torch.Tensor) else output.pooler_output
    return torch.nn.functional.normalize(tensor.float(), dim=-1)


def cosine_to_score(cosine: ArrayLike) -> NDArray[np.float64]:
    """100 * max(cos, 0): the CLIP score scale (0..100)."""
    return 100.0 * np.clip(np.asarray(cosine, dtype=np.float64), 0.0, None)


class ClipScorer:
    """CLIP scores of images against texts or against other images.

    `image_processor` maps a list of PIL images to {"pixel_values": tensor}; `tokenizer` maps a
    list of strings to {"input_ids", "attention_mask"} (a transformers CLIPProcessor's parts).
    """

    def __init__(self, model: Any, image_processor: Any, tokenizer: Any | None = None, device: str = "cpu") -> None:
        self.model = model.eval().to(device)
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self.device = device

    @classmethod
    def pretrained(cls, name: str = DEFAULT_CLIP_MODEL, device: str = "cpu") -> ClipScorer:
        """Load CLIP from the local HF cache, or raise MetricUnavailable saying how to get it."""
        transformers = require_module("clip_score", "transformers")
        try:
            model = transformers.CLIPModel.from_pretrained(name, local_files_only=True)
            processor = transformers.CLIPProcessor.from_pretrained(name, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - missing files surface as OSError/ValueError
            raise MetricUnavailable(
                "clip_score",
                f"CLIP weights {name} not in HF cache; set HF_HOME or run with hub access ({type(exc).__name__})",
            ) from exc
        return cls(model, processor.image_processor, processor.tokenizer, device=device)

    def image_embeddings(self, images: Sequence[ImageLike]) -> torch.Tensor:
        import torch
        from PIL import Image

        pil = [
            im if isinstance(im, Image.Image) else Image.fromarray(np.round(to_float_rgb(im) * 255).astype(np.uint8))
            for im in images
        ]
        pixels = self.image_processor(images=[im.convert("RGB") for im in pil], return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            return _embedding(self.model.get_image_features(pixel_values=pixels.to(self.device)))

    def text_embeddings(self, texts: Sequence[str]) -> torch.Tensor:
        import torch

        if self.tokenizer is None:
            raise ValueError("this ClipScorer has no tokenizer: text scores need one")
        tokens = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=CLIP_MAX_TOKENS, return_tensors="pt"
        )
        with torch.no_grad():
            return _embedding(
                self.model.get_text_features(
                    input_ids=tokens["input_ids"].to(self.device),
                    attention_mask=tokens["attention_mask"].to(self.device),
                )
            )

    def text_score(self, images: Sequence[ImageLike], texts: Sequence[str]) -> NDArray[np.float64]:
        """CLIP score of each image against its text (pairwise, same order)."""
        if len(images) != len(texts):
            raise ValueError(f"need one text per image, got {len(images)} images and {len(texts)} texts")
        if not images:
            return np.zeros(0)
        cos = (self.image_embeddings(images) * self.text_embeddings(texts)).sum(dim=-1)
        return cosine_to_score(cos.double().cpu().numpy())

    def image_score(self, images: Sequence[ImageLike], references: Sequence[ImageLike]) -> NDArray[np.float64]:
        """CLIP score of each image against its reference image (pairwise, same order)."""
        if len(images) != len(references):
            raise ValueError(f"need one reference per image, got {len(images)} and {len(references)}")
        if not images:
            return np.zeros(0)
        cos = (self.image_embeddings(images) * self.image_embeddings(references)).sum(dim=-1)
        return cosine_to_score(cos.double().cpu().numpy())
