"""The receiver's latent diffusion: CLIP text conditioning and the DDIM loop (the img2img loop).

Same components as diffusers' StableDiffusionImg2ImgPipeline (UNet2DConditionModel, CLIPTextModel +
CLIPTokenizer, DDIMScheduler), driven by our own loop so that batching, per-request seeds and the
count of executed steps are under our control:

- img2img (text+latent, latent with strength > 0): the schedule has `steps` timesteps; the received
  latent is re-noised to timestep index steps - k with k = int(steps * strength), then denoised k steps.
- text-only: DDIM over all `steps` timesteps from Gaussian noise.
Classifier-free guidance with the empty prompt as the unconditional branch, as in diffusers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from semcom.models.hub import diffusers_kwargs, load_pretrained


@dataclass
class DiffusionModels:
    """Loaded once per profile, shared by every request (read-only at inference)."""

    unet: Any
    text_encoder: Any
    tokenizer: Any
    scheduler_config: Any
    latent_space: str
    device: torch.device
    dtype: torch.dtype

    @property
    def latent_channels(self) -> int:
        return int(self.unet.config.in_channels)

    def new_scheduler(self) -> Any:
        """A fresh DDIMScheduler per batch: schedulers are stateful (set_timesteps), requests are not."""
        from diffusers import DDIMScheduler

        return DDIMScheduler.from_config(self.scheduler_config)

    @torch.inference_mode()
    def encode_text(self, captions: Sequence[str]) -> torch.Tensor:
        """CLIP hidden states (B, 77, D) for any strings: truncated/padded to the context length."""
        tokens = self.tokenizer(
            list(captions),
            padding="max_length",
            max_length=self.tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        )
        out = self.text_encoder(tokens.input_ids.to(self.device))
        return out[0].to(self.dtype)


def load_diffusion(spec: Any, device: torch.device, dtype: torch.dtype, profile: str | None = None) -> DiffusionModels:
    """Load UNet, CLIP text encoder + tokenizer and the DDIM scheduler config of a DiffusionSpec."""
    from diffusers import DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    unet = load_pretrained(
        UNet2DConditionModel.from_pretrained, spec.part("unet"), "UNet", profile, **diffusers_kwargs(dtype)
    )
    text_encoder = load_pretrained(
        CLIPTextModel.from_pretrained, spec.part("text_encoder"), "CLIP text encoder", profile, dtype=dtype
    )
    tokenizer = load_pretrained(CLIPTokenizer.from_pretrained, spec.part("tokenizer"), "CLIP tokenizer", profile)
    scheduler = load_pretrained(DDIMScheduler.from_pretrained, spec.part("scheduler"), "DDIM scheduler", profile)
    for model in (unet, text_encoder):
        model.to(device).eval().requires_grad_(False)
    return DiffusionModels(unet, text_encoder, tokenizer, scheduler.config, spec.latent_space, device, dtype)


def img2img_timesteps(scheduler: Any, steps: int, k: int) -> torch.Tensor:
    """The last k timesteps of a `steps`-long schedule; k = int(steps * strength) as in diffusers'
    img2img, k = steps for text-only generation from noise."""
    scheduler.set_timesteps(steps)
    start = max(steps - min(k, steps), 0)
    return scheduler.timesteps[start * scheduler.order :]


@torch.inference_mode()
def denoise(
    models: DiffusionModels,
    scheduler: Any,
    latents: torch.Tensor,
    timesteps: torch.Tensor,
    cond: torch.Tensor,
    uncond: torch.Tensor | None,
    guidance_scale: float,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
) -> tuple[torch.Tensor, int]:
    """Run DDIM over `timesteps`; returns (latents, steps executed).

    With `uncond` given and guidance_scale > 1, classifier-free guidance: eps = u + g (c - u).
    DDIM with eta = 0 is deterministic, so the only randomness is the caller's initial noise.
    """
    cfg = uncond is not None and guidance_scale > 1.0
    embeddings = torch.cat([uncond, cond]) if cfg else cond
    executed = 0
    x = latents.to(models.device, models.dtype)
    for t in timesteps:
        model_in = torch.cat([x, x]) if cfg else x
        model_in = scheduler.scale_model_input(model_in, t)
        eps = models.unet(model_in, t, encoder_hidden_states=embeddings).sample
        if cfg:
            eps_u, eps_c = eps.chunk(2)
            eps = eps_u + guidance_scale * (eps_c - eps_u)
        x = scheduler.step(eps, t, x, eta=0.0).prev_sample
        executed += 1
        if on_step is not None:
            on_step(executed, x)
    return x, executed
