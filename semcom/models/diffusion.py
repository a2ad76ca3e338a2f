"""The receiver's latent diffusion: CLIP text conditioning and the DDIM loop (the img2img loop).

Same components as diffusers' StableDiffusionImg2ImgPipeline (UNet2DConditionModel, CLIPTextModel +
CLIPTokenizer, DDIMScheduler), driven by our own loop so that batching, per-request seeds and the
count of executed steps are under our control:

- img2img (text+latent, latent with strength > 0): the schedule has `steps` timesteps; the received
  latent is re-noised to timestep index steps - k with k = int(steps * strength), then denoised k steps.
- text-only: DDIM over all `steps` timesteps from Gaussian noise.
Classifier-free guidance with the empty prompt as the unconditional branch, as in diffusers.

Where img2img re-noises depends on the reproduction preset (`semcom.models.presets`): diffusers
adds the noise at the first of the k executed timesteps; CompVis ldm's DDIMSampler (the authors'
code) noises with `ddim_alphas[t_enc]`, t_enc = k, i.e. at the schedule's timestep one step above
(`renoise_timestep`).

Scheduler configs are normalised on load the way diffusers' Stable Diffusion pipelines do
(`normalise_scheduler_config`): `steps_offset` 1 and `clip_sample` False, with a warning naming
each change.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from semcom.models.hub import diffusers_kwargs, load_pretrained

log = logging.getLogger(__name__)
TEXT_SCHEDULERS = ("ddim", "pndm")


def normalise_scheduler_config(config: Any, where: str = "scheduler") -> tuple[dict[str, Any], list[str]]:
    """A scheduler config corrected as diffusers' StableDiffusion(Img2Img)Pipeline.__init__ does.

    `steps_offset` != 1 becomes 1 and `clip_sample` True (also a DDIM config that omits it: DDIM's
    default is True) becomes False; SD v1.x was trained without either. Returns the corrected
    config (a plain dict) and one line per change; each change is also logged as a warning.
    """
    fixed = dict(config)
    changes: list[str] = []
    if fixed.get("steps_offset", 0) != 1:
        changes.append(f"{where}: steps_offset {fixed.get('steps_offset', 0)!r} -> 1 (as diffusers' pipelines)")
        fixed["steps_offset"] = 1
    # semcom runs DDIM on every config (DDIM clips by default), so an absent clip_sample is True
    if fixed.get("clip_sample", True) is True:
        was = "True" if "clip_sample" in fixed else "unset (DDIM's default: True)"
        changes.append(f"{where}: clip_sample {was} -> False (as diffusers' pipelines)")
        fixed["clip_sample"] = False
    for change in changes:
        log.warning("scheduler config corrected: %s", change)
    return fixed, changes


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

    def new_scheduler(self, kind: str = "ddim") -> Any:
        """A fresh scheduler per batch (schedulers are stateful, requests are not): DDIM, or PNDM
        (StableDiffusionPipeline's default, the authors' text-only baseline) on the same schedule."""
        from diffusers import DDIMScheduler, PNDMScheduler

        if kind not in TEXT_SCHEDULERS:
            raise ValueError(f"scheduler must be one of {TEXT_SCHEDULERS}, got {kind!r}")
        if kind == "ddim":
            return DDIMScheduler.from_config(self.scheduler_config)
        accepted = set(inspect.signature(PNDMScheduler.__init__).parameters)
        config = {k: v for k, v in self.scheduler_config.items() if k in accepted}
        config["skip_prk_steps"] = True  # SD v1.5's published PNDM config (what StableDiffusionPipeline runs)
        return PNDMScheduler.from_config(config)

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
    scheduler = load_pretrained(DDIMScheduler.load_config, spec.part("scheduler"), "DDIM scheduler", profile)
    config, _ = normalise_scheduler_config(scheduler, f"{spec.part('scheduler').describe()}")
    config = dict(DDIMScheduler.from_config(config).config)  # DDIM's defaults filled in, as before
    for model in (unet, text_encoder):
        model.to(device).eval().requires_grad_(False)
    return DiffusionModels(unet, text_encoder, tokenizer, config, spec.latent_space, device, dtype)


def renoise_timestep(scheduler: Any, timesteps: torch.Tensor, k: int, steps: int, convention: str) -> torch.Tensor:
    """The timestep (shape (1,)) at which img2img adds noise to the received latent.

    "diffusers": the first executed timestep (t = 581 at 50 steps, strength 0.6).
    "ldm": ldm's `stochastic_encode(x0, t_enc)` uses `ddim_alphas[t_enc]` = alpha_bar at the
    ascending schedule's index k, one DDIM step above the first executed one (t = 601), and
    `decode(x, c, t_enc)` then denoises from the timestep below. At k = steps ldm would index past
    its schedule (IndexError); semcom then noises at the first timestep, as diffusers does.
    """
    if convention == "ldm" and k < steps:
        return scheduler.timesteps[(steps - k - 1) * scheduler.order : (steps - k - 1) * scheduler.order + 1]
    if convention not in ("ldm", "diffusers"):
        raise ValueError(f"unknown re-noising convention {convention!r}")
    return timesteps[:1]


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
    if uncond is not None and guidance_scale > 1.0:
        cfg, embeddings = True, torch.cat([uncond, cond])
    else:
        cfg, embeddings = False, cond
    # eta only where the scheduler takes it (DDIM; PNDM does not), as diffusers' pipelines do
    step_kwargs = {"eta": 0.0} if "eta" in inspect.signature(scheduler.step).parameters else {}
    executed = 0
    x = latents.to(models.device, models.dtype)
    for t in timesteps:
        model_in = torch.cat([x, x]) if cfg else x
        model_in = scheduler.scale_model_input(model_in, t)
        eps = models.unet(model_in, t, encoder_hidden_states=embeddings).sample
        if cfg:
            eps_u, eps_c = eps.chunk(2)
            eps = eps_u + guidance_scale * (eps_c - eps_u)
        x = scheduler.step(eps, t, x, **step_kwargs).prev_sample
        executed += 1
        if on_step is not None:
            on_step(executed, x)
    return x, executed
