"""`load_profile`: one object holding a profile's components, each loaded once and on first use.

    models = load_profile("tiny")            # or "taef2", "paper", a YAML/JSON file, a built profile dir
    sender = models.sender()                 # captioner (only if a caption is ever missing) + encoder
    receiver = models.receiver()             # UNet, CLIP, DDIM, decoder

The sender and receiver share the profile's loaded weights (e.g. the SD VAE serves as encoder and
decoder); a receiver-only process never loads the captioner or the encoder.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import torch

from semcom import config
from semcom.models.captioner import Captioner, load_captioner
from semcom.models.codecs import Codec, load_codec
from semcom.models.device import resolve_device, resolve_dtype
from semcom.models.diffusion import DiffusionModels, load_diffusion
from semcom.models.errors import ProfileError
from semcom.models.hub import check_hub_sources
from semcom.models.presets import check_preset, get_preset
from semcom.models.receiver import Receiver
from semcom.models.sender import Sender
from semcom.models.spec import BUILTIN, DIFFUSION_PARTS, ProfileSpec, parse_profile, read_profile_file
from semcom.models.taef2 import PACKAGED_PROFILE
from semcom.models.tiny import ensure_tiny_profile


def builtin_names() -> list[str]:
    return ["tiny", "taef2", *BUILTIN]


def resolve_spec(profile: str | Path | dict[str, Any] | ProfileSpec) -> ProfileSpec:
    """A ProfileSpec from a built-in name, a YAML/JSON file, a built profile directory or a mapping."""
    if isinstance(profile, ProfileSpec):
        return profile
    if isinstance(profile, dict):
        return parse_profile(profile, origin="<dict>")
    text = str(profile)
    if text == "tiny":
        return read_profile_file(ensure_tiny_profile())
    if text == "taef2":  # the packaged TAEF2 codec (semcom/models/weights/taef2/profile.yaml)
        return read_profile_file(PACKAGED_PROFILE)
    if text in BUILTIN:
        return parse_profile(BUILTIN[text], origin=text)
    path = Path(text).expanduser()
    if path.exists():
        return read_profile_file(path)
    raise ProfileError(f"unknown profile {text!r}: not one of {builtin_names()} and no such file or directory")


class Models:
    """A profile's components, loaded lazily (thread-safe) and at most once each."""

    def __init__(self, spec: ProfileSpec, device: torch.device, dtype: torch.dtype) -> None:
        self.spec = spec
        self.device = device
        self.dtype = dtype
        self._lock = threading.RLock()
        self._components: dict[str, Any] = {}
        self._sender: Sender | None = None
        self._receiver: Receiver | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def loaded(self) -> frozenset[str]:
        """Names of the components loaded so far ("captioner", "encoder", "decoder", "diffusion")."""
        return frozenset(self._components)

    def _get(self, key: str, load: Any, sources: list[tuple[str, Any]] = ()) -> Any:  # type: ignore[assignment]
        with self._lock:
            if key not in self._components:
                # without network, fail at once (no retries) unless this component's hub files
                # are in the local cache (`hub.check_hub_sources`); before any model library loads
                check_hub_sources(sources, self.name)
                self._components[key] = load()
            return self._components[key]

    @property
    def has_captioner(self) -> bool:
        return self.spec.captioner is not None

    @property
    def has_diffusion(self) -> bool:
        return self.spec.diffusion is not None

    def captioner(self) -> Captioner:
        if self.spec.captioner is None:
            raise ProfileError(f"profile {self.name!r} has no captioner: supply the caption")
        spec = self.spec.captioner
        generation = get_preset(self.spec.preset).caption_generation
        if generation is not None:  # e.g. `authors`: BLIP's own generation config, as their pipeline call
            spec = dataclasses.replace(spec, generation=dict(generation))
        return self._get(
            "captioner", lambda: load_captioner(spec, self.device, self.dtype, self.name), [("captioner", spec.source)]
        )

    def _codec(self, role: str) -> Codec:
        spec = self.spec.encoder if role == "encoder" else self.spec.decoder
        if self.spec.decoder == self.spec.encoder:
            role = "codec"  # one set of weights serves both ends
        # TAEF2 weights are .pth/.safetensors files without a config.json: left to their loader
        sources = [] if spec.type == "taef2" else [(f"image codec {spec.name!r} ({spec.type})", spec.source)]
        return self._get(role, lambda: load_codec(spec, self.device, self.dtype, self.name), sources)

    def encoder(self) -> Codec:
        return self._codec("encoder")

    def decoder(self) -> Codec:
        return self._codec("decoder")

    def diffusion(self) -> DiffusionModels:
        if self.spec.diffusion is None:
            raise ProfileError(f"profile {self.name!r} has no diffusion model: only k = 0 decoding is possible")
        spec = self.spec.diffusion
        return self._get(
            "diffusion",
            lambda: load_diffusion(spec, self.device, self.dtype, self.name),
            [(part, spec.part(part)) for part in DIFFUSION_PARTS],
        )

    def sender(self) -> Sender:
        with self._lock:
            if self._sender is None:
                self._sender = Sender(self)
            return self._sender

    def receiver(self) -> Receiver:
        with self._lock:
            if self._receiver is None:
                self._receiver = Receiver(self)
            return self._receiver


def load_profile(
    profile: str | Path | dict[str, Any] | ProfileSpec | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    preset: str | None = None,
) -> Models:
    """Resolve a profile (default: SEMCOM_PROFILE) and the device/dtype; no weights are loaded yet.

    `preset` replaces the profile's default reproduction preset (`semcom.models.presets`): the one
    used by requests whose ReconParams name none, and the captioner's decoding.

    Weights load on first use (`models.sender().encode(...)`, `models.receiver().reconstruct(...)`);
    call `preload()` on the sender/receiver to load eagerly (services do, at start-up).
    """
    if profile is None:
        profile = str(config.get("SEMCOM_PROFILE"))
    spec = resolve_spec(profile)
    if preset is None:
        preset = str(config.get("SEMCOM_PRESET")) or None
    if preset is not None:
        try:
            spec = dataclasses.replace(spec, preset=check_preset(preset))
        except ValueError as exc:
            raise ProfileError(str(exc)) from None
    resolved_device = resolve_device(device)
    return Models(spec, resolved_device, resolve_dtype(dtype, resolved_device))
