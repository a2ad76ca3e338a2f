"""Profile specifications: which weights make up a sender/receiver, from a dict, YAML or JSON.

A profile names, per component, a hub id or a local directory (relative paths are resolved
against the profile file's directory):

    name: my-profile
    image_size: 512
    preset: diffusers              # optional reproduction preset (semcom.models.presets); paper: authors
    captioner:                     # optional: without it every caption must be supplied
      source: Salesforce/blip-image-captioning-large
      prompt: ""                   # optional conditional-captioning prefix
      generation: {max_new_tokens: 30, num_beams: 3}
    encoder:                       # the sender's image codec
      type: sd-vae                 # sd-vae (AutoencoderKL) | taesd (AutoencoderTiny) | taef2
      source: stable-diffusion-v1-5/stable-diffusion-v1-5
      subfolder: vae
      name: sd15-vae               # identity on the wire (CodecInfo.name)
      latent_space: sd15           # optional; a UNet only denoises latents of its own space
      valid_range: [-5, 5]         # optional; receiver clamps received latents into it
    decoder: {...}                 # optional, same keys; default: the encoder (shared weights)
    diffusion:                     # optional: without it only k = 0 decoding is possible
      source: stable-diffusion-v1-5/stable-diffusion-v1-5
      latent_space: sd15
      unet: unet                   # subfolder names (these are the defaults)
      text_encoder: text_encoder
      tokenizer: tokenizer
      scheduler: scheduler
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semcom.models.captioner import DEFAULT_GENERATION, CaptionerSpec
from semcom.models.codecs import DEFAULT_LATENT_SPACE, CodecSpec
from semcom.models.errors import ProfileError
from semcom.models.hub import Source, is_local_ref
from semcom.models.presets import DEFAULT_PRESET, PROFILE_DEFAULT_PRESET, check_preset

PROFILE_FILE = "profile.yaml"
DIFFUSION_PARTS = ("unet", "text_encoder", "tokenizer", "scheduler")


@dataclass(frozen=True)
class DiffusionSpec:
    """UNet + CLIP text encoder/tokenizer + DDIM scheduler, each a subfolder of `source`."""

    source: Source
    latent_space: str = "sd15"
    subfolders: dict[str, str] = field(default_factory=lambda: {p: p for p in DIFFUSION_PARTS})

    def part(self, name: str) -> Source:
        sub = self.subfolders[name]
        base = self.source
        joined = f"{base.subfolder}/{sub}" if base.subfolder else sub
        return Source(base.ref, joined or None, base.revision)


@dataclass(frozen=True)
class ProfileSpec:
    name: str
    encoder: CodecSpec
    decoder: CodecSpec
    captioner: CaptionerSpec | None = None
    diffusion: DiffusionSpec | None = None
    image_size: int = 512
    origin: str = ""  # where the spec came from (built-in name or file path)
    preset: str = DEFAULT_PRESET  # reproduction preset of requests that name none

    def sources(self) -> list[tuple[str, Source]]:
        """(component, source) for every component of the profile (the decoder when it is not the encoder)."""
        items: list[tuple[str, Source]] = []
        if self.captioner is not None:
            items.append(("captioner", self.captioner.source))
        items.append(("encoder", self.encoder.source))
        if self.decoder != self.encoder:
            items.append(("decoder", self.decoder.source))
        if self.diffusion is not None:
            items += [(part, self.diffusion.part(part)) for part in DIFFUSION_PARTS]
        return items

    def hub_sources(self) -> list[tuple[str, Source]]:
        """(component, source) for every component that comes from the hub (for `download`)."""
        return [(what, src) for what, src in self.sources() if not src.is_local]


PAPER: dict[str, Any] = {
    "name": "paper",
    "image_size": 512,
    "preset": PROFILE_DEFAULT_PRESET["paper"],
    "captioner": {"source": "Salesforce/blip-image-captioning-large"},
    "encoder": {
        "type": "sd-vae",
        "name": "sd15-vae",
        "source": "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "subfolder": "vae",
    },
    "diffusion": {"source": "stable-diffusion-v1-5/stable-diffusion-v1-5", "latent_space": "sd15"},
}

BUILTIN: dict[str, dict[str, Any]] = {"paper": PAPER}


def _source(entry: Mapping[str, Any], base_dir: Path | None, where: str) -> Source:
    ref = entry.get("source")
    if not isinstance(ref, str) or not ref:
        raise ProfileError(f"{where}: 'source' (hub id or directory) is required")
    # a path relative to the profile file's directory: ./x, ../x, or a directory that exists there
    local = is_local_ref(ref) and not Path(ref).expanduser().is_absolute()
    if base_dir is not None and not Path(ref).is_absolute() and (local or (base_dir / ref).is_dir()):
        ref = str((base_dir / ref).resolve())
    sub = entry.get("subfolder")
    rev = entry.get("revision")
    for key, value in (("subfolder", sub), ("revision", rev)):
        if value is not None and not isinstance(value, str):
            raise ProfileError(f"{where}: '{key}' must be a string")
    return Source(ref, sub or None, rev or None)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if isinstance(value, str):
        return {"source": value}
    if not isinstance(value, Mapping):
        raise ProfileError(f"{where} must be a mapping or a source string, got {type(value).__name__}")
    return value


def _codec(value: Any, base_dir: Path | None, where: str) -> CodecSpec:
    entry = _mapping(value, where)
    kind = entry.get("type", "sd-vae")
    rng = entry.get("valid_range")
    if rng is not None:
        if not (isinstance(rng, (list, tuple)) and len(rng) == 2 and all(isinstance(v, (int, float)) for v in rng)):
            raise ProfileError(f"{where}.valid_range must be [lo, hi]")
        rng = (float(rng[0]), float(rng[1]))
    try:
        return CodecSpec(
            type=kind,
            source=_source(entry, base_dir, where),
            name=str(entry.get("name", kind)),
            latent_space=str(entry.get("latent_space", DEFAULT_LATENT_SPACE.get(kind, ""))),
            valid_range=rng,
        )
    except ValueError as exc:
        raise ProfileError(f"{where}: {exc}") from None


def parse_profile(data: Mapping[str, Any], base_dir: Path | None = None, origin: str = "") -> ProfileSpec:
    """Validate a profile mapping into a ProfileSpec (ProfileError with the offending key)."""
    if not isinstance(data, Mapping):
        raise ProfileError("a profile must be a mapping")
    known = {"name", "image_size", "captioner", "encoder", "decoder", "diffusion", "preset"}
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"unknown profile keys {sorted(unknown)}; known: {sorted(known)}")
    if "encoder" not in data:
        raise ProfileError("profile needs an 'encoder' (the sender's image codec)")
    encoder = _codec(data["encoder"], base_dir, "encoder")
    decoder = _codec(data["decoder"], base_dir, "decoder") if data.get("decoder") else encoder
    captioner = None
    if data.get("captioner"):
        entry = _mapping(data["captioner"], "captioner")
        generation = dict(DEFAULT_GENERATION)
        generation.update(entry.get("generation") or {})
        try:
            captioner = CaptionerSpec(
                source=_source(entry, base_dir, "captioner"), prompt=str(entry.get("prompt", "")), generation=generation
            )
        except ValueError as exc:
            raise ProfileError(f"captioner: {exc}") from None
    diffusion = None
    if data.get("diffusion"):
        entry = _mapping(data["diffusion"], "diffusion")
        diffusion = DiffusionSpec(
            source=_source(entry, base_dir, "diffusion"),
            latent_space=str(entry.get("latent_space", "sd15")),
            subfolders={p: str(entry.get(p, p)) for p in DIFFUSION_PARTS},
        )
    size = data.get("image_size", 512)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 64:
        raise ProfileError(f"image_size must be a positive multiple of 64, got {size!r}")
    name = str(data.get("name", origin or "custom"))
    try:
        preset = check_preset(data.get("preset", PROFILE_DEFAULT_PRESET.get(name, DEFAULT_PRESET)), "profile 'preset'")
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    return ProfileSpec(
        name=name,
        encoder=encoder,
        decoder=decoder,
        captioner=captioner,
        diffusion=diffusion,
        image_size=size,
        origin=origin,
        preset=preset,
    )


def read_profile_file(path: Path) -> ProfileSpec:
    """A YAML or JSON profile file (or a directory holding profile.yaml)."""
    if path.is_dir():
        path = path / PROFILE_FILE
    if not path.is_file():
        raise ProfileError(f"no profile file at {path}")
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:  # json.JSONDecodeError is a ValueError
        raise ProfileError(f"cannot parse {path}: {exc}") from None
    return parse_profile(data, base_dir=path.parent.resolve(), origin=str(path))
