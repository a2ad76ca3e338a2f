"""`semcom demo`, the plan: what is sent (the variants, the sample photos, the SNRs) and how
(the channel and request of each cell, the seeds)."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semcom import config
from semcom.eval.grid import service_latent
from semcom.link.types import ChannelConfig
from semcom.variants import Variant, get

if TYPE_CHECKING:
    from semcom.models.spec import ProfileSpec
    from semcom.samples import SamplePhoto


DEFAULT_SNRS = (0.0, 4.0, 8.0)  # Eb/N0 of uncoded 16-QAM, dB (the paper's axis)


ESN0_OFFSET_DB = 10 * math.log10(4)  # 16-QAM: 4 bits per symbol, uncoded


DEFAULT_PROFILE = "taef2"  # the packaged TAEF2 profile, a built-in name (semcom.models.profiles)


TAEF2_SIZE = 256


TINY_SIZE = 128


TINY_STEPS = 20


PAPER_STEPS = 50


CELL_MAX = 192


CLEAN = get("clean")  # sent apart, once per photo


CODEC_VARIANTS = tuple(map(get, ("float64", "int8g-smmse", "ldpc-amc", "analog")))  # the columns


DIFFUSION_VARIANTS = tuple(map(get, ("text", "text+latent")))


def snr_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of dB, got {text!r}") from None
    if not (math.isfinite(value) and -10 <= value <= 40):
        raise argparse.ArgumentTypeError(f"expected an SNR between -10 and 40 dB, got {text!r}")
    return value


def sample_images(count: int) -> list[tuple[str, bytes, str | None]]:
    """(name, encoded bytes, caption): Flickr8k fixture images with their first human caption when
    the fixtures exist (so the caption on the wire is real language even with tiny weights, whose
    BLIP only babbles), else synthetic images captioned by the sender's BLIP. (The service tests
    use this; the demo sends `semcom.samples`.)"""
    from semcom.eval.dataset import load_dataset
    from semcom.loadtest.images import synthetic_png

    shared = str(config.get("SEMCOM_SHARED_DIR")) or str(Path(__file__).resolve().parents[3].parent / "shared")
    folder = Path(shared).expanduser() / "data" / "flickr8k"
    if (folder / "images").is_dir():
        items = load_dataset(folder, limit=count)
        if items:
            return [(item.path.stem, item.path.read_bytes(), item.caption) for item in items]
    return [(f"synthetic_{i}", synthetic_png(256, seed=i), None) for i in range(count)]


def diffusion_status(profile: str, spec, choice: str) -> tuple[bool, str]:
    """(draw the diffusion columns?, the one line the sheet shows when not)."""
    if choice == "off":
        return False, "Diffusion columns (text only, text + latent) left out (--diffusion off)."
    if spec.diffusion is None:
        return False, (
            "Diffusion columns (text only, text + latent) need real diffusion weights: this profile has "
            "none, so every image here is the latent decoded as received (k = 0). Run with --profile "
            "paper where the weights are (semcom models download --profile paper)."
        )
    if profile == "tiny" and choice == "auto":
        return False, (
            "Diffusion columns (text only, text + latent) left out: the tiny profile's diffusion weights "
            "are random (they would show noise). Use --profile paper, or --diffusion on to run them anyway."
        )
    return True, ""


def amc_drop_reason(esn0_db: float, values: int) -> str:
    """Why AMC drops an int8 latent of `values` values at `esn0_db` ("" when it sends it): the
    channel's own decision (`semcom.link.policy.decide_latent`, which looks only at the payload's
    size, the SNR and SEMCOM_AMC_SYMBOLS_PER_VALUE). A dropped latent leaves a k = 0 receiver
    nothing to decode, so the demo shows the drop instead of sending the request."""
    from semcom.link.policy import decide_latent
    from semcom.payload.packet import LatentPayload

    cfg = ChannelConfig(
        snr_db=esn0_db, snr_convention="esn0", modulation="16qam", fec="ldpc", mcs="auto", latent_policy="amc"
    )
    decision = decide_latent(cfg, LatentPayload((values,), "int8", bytes(values)))
    return "" if decision.send else decision.reason


def request_settings(variant: Variant) -> dict[str, Any]:
    """A registry entry as `image_request`'s latent arguments: the demo's one conversion."""
    latent = service_latent(variant)
    return {
        "latent_encoding": latent.encoding,
        "per_channel": latent.per_channel,
        "clip_percentile": latent.percentile,
        "latent_repair": latent.repair,
    }


def build_request(variant: Variant, photo, data: bytes, caption: str | None, esn0_db: float, seeds, steps: int):
    """One cell's request; `seeds`: its per-role seeds (`semcom.pipeline.RoleSeeds`)."""
    from semcom.rpc.client import image_request
    from semcom.rpc.convert import channel_message

    return image_request(
        data,
        request_id=f"{photo}|{variant.name}|{esn0_db:.4f}",
        caption=caption,
        mode=variant.mode,
        strength=None if variant.diffusion else 0.0,
        steps=steps if variant.diffusion else None,
        seeds=seeds,
        channel=channel_message(
            snr_db=esn0_db,
            snr_convention="esn0",
            modulation="16qam",
            model=variant.model,
            seed=seeds.channel,
            latent_policy=variant.policy,
            fec=variant.fec,
            mcs=variant.mcs if variant.fec == "ldpc" else None,
        ),
        **request_settings(variant),
    )


def cell_seeds(seed: int, photo: int, cell: int, variant: int):
    """Photo i keeps its sender and receiver seeds (`RoleSeeds.derive(seed, i)`) in every cell, so
    the columns differ only by what they compare; the channel noise is its own stream per cell."""
    from semcom.pipeline import RoleSeeds

    own = RoleSeeds.derive(seed, photo)
    return replace(own, channel=RoleSeeds.derive(seed, photo, cell + 1, variant).channel)


@dataclass(frozen=True)
class Plan:
    """What a demo run sends, settled from the command line before any service starts."""

    profile: str  # the profile reference the services get
    spec: ProfileSpec
    size: int  # image side
    steps: int  # DDIM schedule length of the diffusion columns
    photos: list[SamplePhoto]
    variants: tuple[Variant, ...]  # the columns (CLEAN is sent apart)
    with_diffusion: bool
    notice: str  # the one line the sheet and report show ("" when none)
    captions_given: bool  # send the photos' own captions (the profile has no captioner)


def make_plan(args: argparse.Namespace) -> Plan:
    from semcom.models.profiles import resolve_spec
    from semcom.samples import sample_photos

    profile = args.profile  # "taef2" is a built-in name in every command (semcom.models.profiles)
    spec = resolve_spec(profile)  # a bad profile: ProfileError, a ValueError that `run` reports
    tiny = args.profile == "tiny"
    size = image_size(args)
    steps = args.steps or (TINY_STEPS if tiny else PAPER_STEPS)
    photos = sample_photos(args.num_images)
    with_diffusion, notice = diffusion_status(args.profile, spec, args.diffusion)
    if tiny:
        random = "tiny profile: random weights, every picture is noise (the default profile, taef2, is a real codec)."
        notice = f"{random} {notice}".strip()
    return Plan(
        profile=profile,
        spec=spec,
        size=size,
        steps=steps,
        photos=photos,
        variants=CODEC_VARIANTS + (DIFFUSION_VARIANTS if with_diffusion else ()),
        with_diffusion=with_diffusion,
        notice=notice,
        captions_given=spec.captioner is None,  # the paper's profile captions with BLIP, as the paper does
    )


def image_size(args: argparse.Namespace) -> int:
    """--image-size, else the profile's default side; ValueError unless a positive multiple of 64."""
    tiny = args.profile == "tiny"
    size = args.image_size or (
        TAEF2_SIZE if args.profile == DEFAULT_PROFILE else TINY_SIZE if tiny else int(config.get("SEMCOM_IMAGE_SIZE"))
    )
    if size <= 0 or size % 64:
        raise ValueError(f"--image-size must be a positive multiple of 64, got {size}")
    return size
