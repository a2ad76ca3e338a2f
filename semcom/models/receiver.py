"""The receiver: SemanticPacket -> image, by latent diffusion conditioned on the received caption.

Modes (ReconParams.mode):
- "text+latent" (the paper): the received latent is re-noised to step k = int(steps * strength) of
  a `steps`-long DDIM schedule and denoised k steps with classifier-free guidance, conditioned on
  the caption through CLIP. k = 0 decodes the latent directly.
- "text": DDIM over all `steps` from Gaussian noise, same guidance and components; the latent, if
  any, is ignored.
- "latent": k = 0 decodes the latent (the VAE used as a transceiver); k > 0 denoises it
  conditioned on the empty caption (no guidance).
- "auto": "text+latent" when a latent arrived (decode-only "latent" when the latent is from a
  codec the UNet cannot denoise, e.g. TAEF2), else "text".

Requests with compatible settings (same schedule, k, guidance, latent shape) run as one batch;
each request's noise comes from its own seeded generator, so a batch gives the images the same
requests give one at a time (up to float rounding of batched kernels).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray

from semcom.link.analog import decode_payload
from semcom.link.repair import position_ber, repaired_latent
from semcom.models.codecs import DEFAULT_LATENT_SPACE
from semcom.models.diffusion import denoise, img2img_timesteps, renoise_timestep
from semcom.models.errors import IncompatibleLatentError
from semcom.models.images import to_pil
from semcom.models.params import LatentTreatment, ReconParams, ReconResult, adaptive_strength
from semcom.models.presets import Preset, get_preset
from semcom.payload.caption import decode_caption
from semcom.payload.latent import decode_latent, get_encoding
from semcom.payload.packet import CodecInfo, LatentPayload, SemanticPacket

if TYPE_CHECKING:
    from semcom.link.types import ChannelConfig
    from semcom.models.base import ModelSet

# Codec names whose latent space is known without the profile that made them.
KNOWN_LATENT_SPACES = {"sd15-vae": "sd15", "taesd": "sd15", "taef2": "flux2"}
DEFAULT_CODED_SIZE = 512

Item = (
    tuple[SemanticPacket, ReconParams]
    | tuple[SemanticPacket, ReconParams, float | None]
    | tuple[SemanticPacket, ReconParams, float | None, "ChannelConfig | None"]
    | tuple[SemanticPacket, ReconParams, float | None, "ChannelConfig | None", LatentTreatment | None]
)


@dataclass
class _Job:
    """One request after validation: everything the batched loop needs."""

    index: int
    mode: str
    steps: int  # schedule length
    denoise_steps: int  # k, the DDIM steps to run (0: decode only); text mode: the whole schedule
    guidance: float
    seed: int
    strength: float
    caption: str  # received caption, sanitised
    condition: str  # text the UNet is conditioned on ("" in latent mode)
    caption_bytes: bytes
    chars_replaced: int
    latent: torch.Tensor | None  # (1, C, h, w) float32, sanitised
    values_sanitised: int
    latent_repair: str  # the latent treatment applied ("none" where not applicable)
    shape: tuple[int, int, int]  # latent shape the loop works on
    preset: Preset  # the reproduction preset (re-noising, text-only scheduler, 8-bit rounding)
    timings: dict[str, float] = field(default_factory=dict)
    executed: int = 0  # DDIM steps the loop actually ran for this job

    @property
    def text_only(self) -> bool:
        return self.mode == "text"

    @property
    def cfg(self) -> bool:
        return self.mode != "latent" and self.guidance > 1.0

    @property
    def scheduler(self) -> str:
        return self.preset.text_scheduler if self.text_only else "ddim"

    @property
    def renoise(self) -> str:
        return self.preset.renoise

    @property
    def rounding(self) -> str:
        """8-bit conversion: text-only images are rounded in every preset (the authors' text-only
        baseline goes through diffusers' image processor); img2img/decode follow the preset."""
        return "round" if self.text_only else self.preset.pixel_rounding

    def batch_key(self) -> tuple[Any, ...]:
        if self.denoise_steps == 0:
            return ("decode", self.shape, self.rounding)
        return (
            "diffuse",
            self.steps,
            self.denoise_steps,
            self.cfg,
            self.guidance if self.cfg else 0.0,
            self.shape,
            self.scheduler,
            None if self.text_only else self.renoise,
            self.rounding,
        )


def repair_applies(payload: Any, link: ChannelConfig | None) -> bool:
    """Whether an MMSE latent repair can run: a uniformly quantised latent that came over a known,
    uncoded, noisy link (its bit error rates are then known; after FEC they are not)."""
    if payload is None or link is None or link.fec != "none" or link.model == "none":
        return False
    if getattr(payload, "analog", None) is not None:  # no bits: the analog codec's LMMSE estimate instead
        return False
    try:
        return get_encoding(payload.encoding).family != "float"
    except ValueError:
        return False


@dataclass
class _UnpackedLatent:
    """What the receiver made of a packet's latent (text mode: no latent, the shape to generate)."""

    latent: torch.Tensor | None  # (1, C, h, w) float32, sanitised
    shape: tuple[int, int, int]
    values_sanitised: int
    repair: str  # the latent treatment applied ("none" where not applicable)


def _latent_values(
    payload: LatentPayload, codec: CodecInfo, repair: str, link: ChannelConfig | None, timings: dict[str, float]
) -> tuple[NDArray[np.floating[Any]], int]:
    """The received latent's values and how many of them the receiver changed: plain decoding when
    `repair` is "none", else the `repair` treatment for the link's bit error rates (its time goes
    to `timings["repair"]`). An analog latent is the codec's estimate from its symbols and channel
    state (`semcom.link.analog.decode_payload`), clamped to the codec's valid range."""
    if payload.analog is not None:
        values = decode_payload(payload)
        lo, hi = float(codec.valid_min), float(codec.valid_max)
        outside = ~np.isfinite(values) | (values < lo) | (values > hi)
        sanitised = int(np.count_nonzero(outside))
        if sanitised:
            values = np.clip(np.nan_to_num(values, nan=0.0, posinf=hi, neginf=lo), lo, hi).astype(np.float32)
        return values, sanitised
    if repair == "none":
        decoded = decode_latent(payload, codec)
        return decoded.values, decoded.values_sanitised
    t_repair = time.perf_counter()
    assert link is not None  # repair_applies
    bers = position_ber(float(link.snr_db), link.snr_convention, link.modulation, link.model)
    repaired = repaired_latent(payload, codec, repair, bers=np.asarray(bers))
    timings["repair"] = time.perf_counter() - t_repair
    return repaired.values, repaired.values_sanitised


def _treated_values(
    payload: LatentPayload,
    codec: CodecInfo,
    treatment: LatentTreatment,
    link: ChannelConfig | None,
    timings: dict[str, float],
) -> tuple[NDArray[np.floating[Any]], int]:
    """The received latent's values after an evaluation-only treatment (`LatentTreatment`) and how
    many of them it changed; its time goes to `timings["repair"]`."""
    if payload.analog is not None:
        raise ValueError(f"receiver treatment {treatment.repair!r} applies to a digital latent, not an analog one")
    bers = None
    if "mmse" in treatment.repair:  # mmse and smmse: from the bit error rates of the link it came over
        if link is None or link.fec != "none":
            raise ValueError(f"receiver treatment {treatment.repair!r} models the uncoded link; use fec none")
        bers = np.asarray(position_ber(float(link.snr_db), link.snr_convention, link.modulation, link.model))
    rng = np.random.default_rng(treatment.seed)
    t_repair = time.perf_counter()
    repaired = repaired_latent(payload, codec, treatment.repair, rng, bers, treatment.llr)
    timings["repair"] = time.perf_counter() - t_repair
    return repaired.values, repaired.values_sanitised


class Receiver:
    """Rebuilds images with the profile's UNet, CLIP, DDIM scheduler and decoder (loaded once)."""

    def __init__(self, models: ModelSet) -> None:
        self.models = models
        # Called after every executed DDIM step with (step number, latents): progress, tests.
        self.on_step: Callable[[int, torch.Tensor], None] | None = None

    def preload(self) -> None:
        """Load the decoder and, if the profile has one, the diffusion model now."""
        self.models.decoder()
        if self.models.has_diffusion:
            self.models.diffusion()

    # ------------------------------------------------------------------ public API

    def reconstruct(
        self,
        packet: SemanticPacket,
        params: ReconParams,
        snr_db: float | None = None,
        link: ChannelConfig | None = None,
        treatment: LatentTreatment | None = None,
    ) -> ReconResult:
        """One packet -> ReconResult. ValueError for a mode the packet/profile cannot support.

        `snr_db` (Eb/N0 in dB, the paper's SNR axis) is used only by `params.adaptive_strength`.
        `link`: the channel the packet came over (the proxy's report); `params.latent_repair` needs
        it, since MMSE estimation starts from the link's bit error rates. `treatment`: an
        evaluation-only receiver treatment of the latent instead (`LatentTreatment`).
        """
        return self.reconstruct_batch([(packet, params, snr_db, link, treatment)])[0]

    def reconstruct_batch(self, items: Sequence[Item], return_exceptions: bool = False) -> list[Any]:
        """Reconstruct many packets, batching compatible ones; results in input order.

        Each item is (packet, params), (packet, params, snr_db), (packet, params, snr_db, link) or
        (packet, params, snr_db, link, treatment). With `return_exceptions`, an item that fails
        validation yields its ValueError in its slot instead of failing all.
        """
        out: list[Any] = [None] * len(items)
        jobs: list[_Job] = []
        for index, item in enumerate(items):
            try:
                # unchecked until _plan, which validates each part
                parts: tuple[Any, ...] = (tuple(item) + (None, None, None))[:5]
                packet, params, snr, link, treatment = parts
                jobs.append(self._plan(index, packet, params, snr, link, treatment))
            except ValueError as exc:
                if not return_exceptions:
                    raise
                out[index] = exc
        groups: dict[tuple[Any, ...], list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.batch_key(), []).append(job)
        for group in groups.values():
            for job, image in zip(group, self._run(group)):
                job.timings["total"] = sum(job.timings.values())
                out[job.index] = ReconResult(
                    image=image,
                    mode_used=job.mode,
                    caption_received=job.caption,
                    steps_executed=job.executed,
                    timings=job.timings,
                    values_sanitised=job.values_sanitised,
                    chars_replaced=job.chars_replaced,
                    seed=job.seed,
                    strength_used=job.strength,
                    caption_bytes=job.caption_bytes,
                    latent_repair_used=job.latent_repair,
                    preset_used=job.preset.name,
                    guidance_used=job.guidance if job.cfg and job.denoise_steps > 0 else 0.0,
                )
        return out

    # ------------------------------------------------------------------ planning

    def latent_space_of(self, codec: CodecInfo) -> str | None:
        """Latent space of the codec that made a packet's latent (None: unknown codec)."""
        spec = self.models.spec
        for cs in (spec.encoder, spec.decoder):
            if (cs.name or cs.type) == codec.name:
                return cs.latent_space or DEFAULT_LATENT_SPACE[cs.type]
        return KNOWN_LATENT_SPACES.get(codec.name)

    def _plan(
        self,
        index: int,
        packet: SemanticPacket,
        params: ReconParams,
        snr_db: float | None,
        link: ChannelConfig | None,
        treatment: LatentTreatment | None = None,
    ) -> _Job:
        if not isinstance(packet, SemanticPacket):
            raise ValueError(f"packet must be a SemanticPacket, got {type(packet).__name__}")
        if not isinstance(params, ReconParams):
            raise ValueError(f"params must be ReconParams, got {type(params).__name__}")
        t0 = time.perf_counter()
        caption = decode_caption(packet.caption)
        mode, strength = self._resolve_mode(packet, params, snr_db)
        denoise_steps = params.num_inference_steps if mode == "text" else params.denoise_steps(strength)
        timings: dict[str, float] = {}
        if mode == "text":
            self._require_text_to_image()
            unpacked = _UnpackedLatent(
                latent=None, shape=self._text_latent_shape(packet), values_sanitised=0, repair="none"
            )
        else:
            unpacked = self._unpack_latent(packet, params, link, timings, treatment)
            self._check_latent(packet, unpacked.shape, diffusion=denoise_steps > 0, mode=mode)
        seed = params.seed if params.seed is not None else secrets.randbits(63)
        preset = get_preset(params.preset or self.models.spec.preset)
        guidance = preset.guidance(mode) if params.guidance_scale is None else params.guidance_scale
        return _Job(
            index=index,
            mode=mode,
            steps=params.num_inference_steps,
            denoise_steps=denoise_steps,
            guidance=float(guidance),
            seed=seed,
            strength=float(strength) if mode != "text" else 1.0,
            caption=caption.text,
            condition=caption.text if mode != "latent" else "",
            caption_bytes=bytes(packet.caption),
            chars_replaced=caption.chars_replaced,
            latent=unpacked.latent,
            values_sanitised=unpacked.values_sanitised,
            latent_repair=unpacked.repair,
            shape=unpacked.shape,
            preset=preset,
            timings={"unpack": time.perf_counter() - t0 - sum(timings.values()), **timings},
        )

    def _resolve_mode(self, packet: SemanticPacket, params: ReconParams, snr_db: float | None) -> tuple[str, float]:
        """The mode ("auto" resolved from what the packet carries) and img2img strength of one request."""
        strength = params.strength
        if params.adaptive_strength and snr_db is not None:
            strength = adaptive_strength(float(snr_db))
        mode = params.mode
        has_latent = packet.latent is not None
        diffusable = has_latent and self._diffusable(packet)
        if mode == "auto":
            mode = ("text+latent" if diffusable else "latent") if has_latent else "text"
            if has_latent and not diffusable:
                strength = 0.0  # the only valid use of a latent the UNet cannot denoise
        if mode != "text" and not has_latent:
            raise ValueError(f"mode {mode!r} needs a latent, but the packet carries none (use mode 'text' or 'auto')")
        return mode, strength

    def _unpack_latent(
        self,
        packet: SemanticPacket,
        params: ReconParams,
        link: ChannelConfig | None,
        timings: dict[str, float],
        treatment: LatentTreatment | None = None,
    ) -> _UnpackedLatent:
        """Decode (and repair, where the link calls for it, or treat with `treatment`) the packet's
        latent into a (1, C, H, W) tensor.

        Adds the repair time to `timings["repair"]` when a repair ran.
        """
        payload = packet.latent
        assert payload is not None  # _resolve_mode: every mode but "text" needs a latent
        codec = self._packet_codec(packet)
        if treatment is not None:
            repair = treatment.repair
            values, sanitised = _treated_values(payload, codec, treatment, link, timings)
        else:
            repair = params.latent_repair if repair_applies(payload, link) else "none"
            values, sanitised = _latent_values(payload, codec, repair, link, timings)
        if values.ndim != 3:
            raise ValueError(f"latent must have shape (C, H, W), got {values.shape}")
        latent = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).unsqueeze(0)
        channels, height, width = values.shape
        return _UnpackedLatent(
            latent=latent, shape=(channels, height, width), values_sanitised=sanitised, repair=repair
        )

    def _packet_codec(self, packet: SemanticPacket) -> CodecInfo:
        """The packet's codec info when it carries a finite valid range, else the receiver decoder's."""
        codec = packet.codec
        if np.isfinite(codec.valid_min) and np.isfinite(codec.valid_max) and codec.valid_min < codec.valid_max:
            return codec
        return self.models.decoder().info

    def _diffusable(self, packet: SemanticPacket) -> bool:
        if not self.models.has_diffusion:
            return False
        space = self.latent_space_of(packet.codec)
        diffusion = self.models.spec.diffusion
        if space is not None and diffusion is not None and space != diffusion.latent_space:
            return False
        shape = packet.latent.shape if packet.latent is not None else ()
        return len(shape) == 3 and shape[0] == self.models.diffusion().latent_channels

    def _require_text_to_image(self) -> None:
        spec = self.models.spec
        if spec.diffusion is None:
            raise ValueError(f"profile {spec.name!r} has no diffusion model: text-only reconstruction is impossible")
        if spec.decoder.latent_space != spec.diffusion.latent_space:
            raise IncompatibleLatentError(
                f"profile {spec.name!r}: decoder latent space {spec.decoder.latent_space!r} differs from the "
                f"UNet's {spec.diffusion.latent_space!r}"
            )

    def _text_latent_shape(self, packet: SemanticPacket) -> tuple[int, int, int]:
        decoder = self.models.decoder()
        width, height = packet.coded_size
        if width <= 0 or height <= 0:
            width = height = self.models.spec.image_size or DEFAULT_CODED_SIZE
        if width % decoder.spatial_factor or height % decoder.spatial_factor:
            raise ValueError(f"coded size {width}x{height} is not a multiple of {decoder.spatial_factor}")
        return (
            self.models.diffusion().latent_channels,
            height // decoder.spatial_factor,
            width // decoder.spatial_factor,
        )

    def _check_latent(self, packet: SemanticPacket, shape: tuple[int, ...], diffusion: bool, mode: str) -> None:
        spec = self.models.spec
        space = self.latent_space_of(packet.codec)
        decoder = self.models.decoder()
        if space is not None and space != spec.decoder.latent_space:
            raise IncompatibleLatentError(
                f"latent from codec {packet.codec.name!r} lives in the {space!r} latent space; this receiver's "
                f"decoder {spec.decoder.name!r} decodes {spec.decoder.latent_space!r} latents"
            )
        if shape[0] != decoder.latent_channels:
            raise IncompatibleLatentError(
                f"latent has {shape[0]} channels; decoder {spec.decoder.name!r} takes {decoder.latent_channels}"
            )
        if not diffusion:
            return
        if spec.diffusion is None:
            raise IncompatibleLatentError(
                f"mode {mode!r} with strength > 0 needs a diffusion model; profile {spec.name!r} has none "
                "(only k = 0 decoding, strength 0, is possible)"
            )
        if (space or spec.decoder.latent_space) != spec.diffusion.latent_space:
            raise IncompatibleLatentError(
                f"latent from codec {packet.codec.name!r} ({space!r} space) cannot be denoised by a UNet of the "
                f"{spec.diffusion.latent_space!r} space: only k = 0 decoding (mode 'latent', strength 0) is valid"
            )

    # ------------------------------------------------------------------ execution

    def _run(self, group: list[_Job]) -> list[Any]:
        first = group[0]
        if first.denoise_steps == 0:
            latents = torch.cat([job.latent for job in group])  # type: ignore[misc]
        else:
            latents = self._diffuse(group)
        t0 = time.perf_counter()
        images = to_pil(self.models.decoder().decode(latents), rounding=first.rounding)
        elapsed = time.perf_counter() - t0
        for job in group:
            job.timings["decode"] = elapsed
        return images

    def _diffuse(self, group: list[_Job]) -> torch.Tensor:
        diffusion = self.models.diffusion()
        first = group[0]
        scheduler = diffusion.new_scheduler(first.scheduler)
        timesteps = img2img_timesteps(scheduler, first.steps, first.denoise_steps)  # k = steps: the whole schedule
        noise_at = (
            None
            if first.text_only
            else renoise_timestep(scheduler, timesteps, first.denoise_steps, first.steps, first.renoise)
        )
        t0 = time.perf_counter()
        cond = diffusion.encode_text([job.condition for job in group])
        uncond = diffusion.encode_text([""] * len(group)) if first.cfg else None
        t_text = time.perf_counter() - t0
        starts = []
        for job in group:
            noise = torch.randn((1, *job.shape), generator=torch.Generator("cpu").manual_seed(job.seed))
            if job.text_only:
                starts.append(noise * scheduler.init_noise_sigma)
            else:
                starts.append(scheduler.add_noise(job.latent, noise, noise_at))
        t0 = time.perf_counter()
        latents, executed = denoise(
            diffusion, scheduler, torch.cat(starts), timesteps, cond, uncond, first.guidance, self.on_step
        )
        t_denoise = time.perf_counter() - t0
        for job in group:
            job.executed = executed
            job.timings.update(text_encode=t_text, denoise=t_denoise)
        return latents
