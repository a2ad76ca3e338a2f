"""Receiver parameters and result, and the SNR-adaptive strength policy.

Defaults are the paper's: a 50-step DDIM schedule, strength 0.6 (the received latent is re-noised
to step k = int(50 * 0.6) = 30 and denoised 30 steps), classifier-free guidance scale 9 (unset:
the preset's, 7.5 for text-only under `authors`). `preset` names the reproduction preset
(`semcom.models.presets`); unset: the profile's (`authors` for the paper profile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from semcom.models.presets import PRESET_NAMES, check_preset

__all__ = [
    "DEFAULT_STRENGTH",
    "LATENT_REPAIRS",
    "LatentTreatment",
    "MODES",
    "PRESET_NAMES",
    "ReconParams",
    "ReconResult",
    "adaptive_strength",
    "check_mode",
    "default_strength",
]

MODES = ("auto", "text", "latent", "text+latent")
# Receiver-side treatments of a received uniformly quantised latent (semcom.link.repair).
LATENT_REPAIRS = ("none", "mmse", "smmse")

DEFAULT_STRENGTH = 0.6  # the paper's img2img strength (k = 30 of 50 DDIM steps)


def check_mode(mode: str) -> str:
    """`mode` if it is one of MODES, else ValueError naming them."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


def default_strength(has_diffusion: bool) -> float:
    """The strength a request that names none gets: the paper's 0.6 where the profile has a
    diffusion model, else 0 (k = 0 decoding, the only thing a decode-only profile can do)."""
    return DEFAULT_STRENGTH if has_diffusion else 0.0


# SNR-adaptive strength: the worse the channel, the less the received latent is trusted, so the
# more of the schedule the diffusion model re-generates. Linear in dB between two anchor points,
# held constant outside them. Anchors sit on the paper's SNR grid (5 .. 10 dB).
ADAPTIVE_SNR_LOW_DB = 5.0
ADAPTIVE_SNR_HIGH_DB = 10.0
ADAPTIVE_STRENGTH_AT_LOW = 0.8
ADAPTIVE_STRENGTH_AT_HIGH = 0.4

# DDIM cannot have more steps than the training timesteps; with SD's steps_offset=1 and "leading"
# spacing, 1000 steps would ask for timestep 1000 of 0..999, so the cap is 999.
MAX_STEPS = 999
MAX_GUIDANCE = 50.0
STEP_TOLERANCE = 1e-6  # k = int(steps * strength + this): float32 strengths keep their step count


def adaptive_strength(snr_db: float) -> float:
    """Strength for a reported Eb/N0 (dB): 0.8 at <= 5 dB, 0.4 at >= 10 dB, linear in between.

    Lower SNR -> more bit errors in the latent -> larger strength (more denoising steps, less
    weight on the received latent). NaN is treated as the worst channel.
    """
    if math.isnan(snr_db):
        return ADAPTIVE_STRENGTH_AT_LOW
    span = ADAPTIVE_SNR_HIGH_DB - ADAPTIVE_SNR_LOW_DB
    frac = min(max((snr_db - ADAPTIVE_SNR_LOW_DB) / span, 0.0), 1.0)
    return ADAPTIVE_STRENGTH_AT_LOW + frac * (ADAPTIVE_STRENGTH_AT_HIGH - ADAPTIVE_STRENGTH_AT_LOW)


@dataclass(frozen=True)
class ReconParams:
    """How the receiver rebuilds the image. Invalid values raise ValueError at construction.

    mode: "text+latent" (paper), "text" (DDIM from noise, caption only), "latent" (decode only when
    strength == 0, else denoise with an empty caption), "auto" (text+latent if a latent arrived).
    seed: same seed + same device -> same image; None draws a fresh seed (reported in the result).
    adaptive_strength: replace `strength` by `adaptive_strength(snr_db)` when the SNR is known.
    latent_repair: "none" | "mmse" | "smmse" (`semcom.link.repair`), applied to a uniformly quantised
    latent when the receiver is told the uncoded link it came over; otherwise "none" is used.
    guidance_scale: None = the preset's (9, or 7.5 for text-only under `authors`).
    preset: None = the profile's default; else one of PRESET_NAMES ("authors", "paper-text",
    "diffusers"): how re-noising, the text-only scheduler/guidance and 8-bit output are done.
    """

    mode: str = "auto"
    num_inference_steps: int = 50
    strength: float = DEFAULT_STRENGTH
    guidance_scale: float | None = None
    seed: int | None = None
    adaptive_strength: bool = False
    latent_repair: str = "none"
    preset: str | None = None

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if self.latent_repair not in LATENT_REPAIRS:
            raise ValueError(f"latent_repair must be one of {LATENT_REPAIRS}, got {self.latent_repair!r}")
        steps = self.num_inference_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"num_inference_steps must be an integer in [1, {MAX_STEPS}], got {steps!r}")
        if not _finite_number(self.strength) or not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {self.strength!r}")
        if self.preset is not None:
            check_preset(self.preset)
        if self.guidance_scale is not None and (
            not _finite_number(self.guidance_scale) or not 0.0 <= self.guidance_scale <= MAX_GUIDANCE
        ):
            raise ValueError(f"guidance_scale must be in [0, {MAX_GUIDANCE}], got {self.guidance_scale!r}")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**64
        ):
            raise ValueError(f"seed must be None or an integer in [0, 2**64), got {self.seed!r}")

    def denoise_steps(self, strength: float | None = None) -> int:
        """k: DDIM steps an img2img run executes, int(steps * strength) as in diffusers (and ldm's
        t_enc), with a 1e-6 tolerance: strength crosses the wire as float32, where 0.02 becomes
        0.0199999996 and int(50 x 0.0199999996) would be 0 steps instead of 1."""
        s = self.strength if strength is None else strength
        return min(int(self.num_inference_steps * s + STEP_TOLERANCE), self.num_inference_steps)


@dataclass(frozen=True)
class LatentTreatment:
    """An evaluation-only receiver treatment of the received latent, in place of the plain
    decoding (or the wire's `ReconParams.latent_repair`): any `semcom.link.repair.repaired_latent`
    spec ("fill", "nb", "authors", "mmse+nb", "smmse+nb", "soft", ...). It never crosses the wire:
    the evaluation sweep hands it to `Pipeline.receive` / `Receiver.reconstruct`.

    mmse/smmse read the bit error rates of the link the packet came over (an uncoded one);
    `seed`: the draws of "authors"; `llr`: the latent bits' LLRs that "soft" needs (the in-process
    link's soft output, `Pipeline.link(..., soft=True)`).
    """

    repair: str
    seed: int | None = None
    llr: Any = None


def _finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class ReconResult:
    """One reconstruction. `steps_executed` is counted on the denoising loop itself."""

    image: Image.Image
    mode_used: str
    caption_received: str  # the text the diffusion model was conditioned on (after sanitising)
    steps_executed: int
    timings: dict[str, float] = field(default_factory=dict)
    values_sanitised: int = 0
    chars_replaced: int = 0
    seed: int = 0  # the seed actually used (drawn when the request had none)
    strength_used: float = 0.0  # after the adaptive policy, if enabled
    caption_bytes: bytes = b""  # the caption bytes exactly as received
    latent_repair_used: str = "none"  # the latent treatment actually applied
    preset_used: str = ""  # the reproduction preset applied (semcom.models.presets)
    guidance_used: float = 0.0  # the classifier-free guidance scale applied (0: none ran)
