"""The model layer: sender semantic extraction (BLIP caption + VAE latent) and receiver diffusion.

    from semcom.models import load_profile, ReconParams
    models = load_profile("tiny")                  # "taef2", "paper", a YAML/JSON file, a built profile dir
    packet = models.sender().encode(image)         # SemanticPacket
    result = models.receiver().reconstruct(packet, ReconParams(mode="text+latent"))

Heavy libraries (torch, diffusers, transformers) load when a profile is used, not at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from semcom.models.errors import IncompatibleLatentError, ModelNotAvailableError, ProfileError
from semcom.models.params import MODES, LatentTreatment, ReconParams, ReconResult, adaptive_strength
from semcom.models.presets import PRESET_NAMES, PRESETS, Preset

if TYPE_CHECKING:
    from semcom.models.profiles import Models

__all__ = [
    "MODES",
    "PRESETS",
    "PRESET_NAMES",
    "Preset",
    "IncompatibleLatentError",
    "LatentTreatment",
    "ModelNotAvailableError",
    "Models",
    "ProfileError",
    "ReconParams",
    "ReconResult",
    "adaptive_strength",
    "load_profile",
]


def load_profile(profile: Any = None, device: Any = None, dtype: Any = None, preset: str | None = None) -> Models:
    """See `semcom.models.profiles.load_profile` (imported lazily: it pulls in torch)."""
    from semcom.models.profiles import load_profile as _load

    return _load(profile, device=device, dtype=dtype, preset=preset)


def __getattr__(name: str) -> Any:
    if name == "Models":
        from semcom.models.profiles import Models

        return Models
    raise AttributeError(f"module 'semcom.models' has no attribute {name!r}")
