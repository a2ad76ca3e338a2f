"""`semcom transmit IMAGE...`: sender -> channel -> receiver in one process.

For each image: the sender makes the packet (caption: --caption or BLIP; latent in --encoding),
`semcom.link.transmit_packet` sends it over the configured channel, the receiver rebuilds the
image. Writes DIR/<stem>.png (reconstruction) and DIR/<stem>.json (captions sent/received,
transmission report, mode, steps executed, timings); --json prints the same records. With several
--snr-db values the one packet of each image crosses the channel at each SNR (as separate runs
with the same seeds would): DIR/<stem>_<SNR>dB.png and .json, one line or record each.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from semcom.cli.flags import (
    add_channel_arguments,
    add_guidance_argument,
    add_latent_arguments,
    add_preset_argument,
    add_snr_argument,
    channel_values,
)
from semcom.models.params import LATENT_REPAIRS, MODES  # the receiver's vocabularies, named once (torch-free)

# flags whose default is a setting, read when the command runs (not when the CLI is built, so a
# malformed setting is this command's precise error, not a traceback of every `semcom` command);
# the channel flags' settings too (channel_values)
SETTING_DEFAULTS = {"encoding": "SEMCOM_LATENT_ENCODING", "latent_repair": "SEMCOM_LATENT_REPAIR"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transmit",
        help="send images through sender -> channel -> receiver in one process",
        description="Caption + latent of each IMAGE over a noisy channel, reconstructed by diffusion.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    p.add_argument("--profile", help="tiny | taef2 | paper | profile file/dir (default: SEMCOM_PROFILE)")
    p.add_argument("--device", help="torch device (default: SEMCOM_DEVICE)")
    p.add_argument("--dtype", help="torch dtype (default: SEMCOM_DTYPE)")
    g = p.add_argument_group("sender")
    g.add_argument("--caption", help="send this caption, not BLIP's (no captioner: none in modes auto and latent)")
    add_latent_arguments(g, unset="SEMCOM_LATENT_ENCODING")
    g.add_argument("--image-size", type=int, help="encoder input side, multiple of 64 (default: profile's)")
    g.add_argument("--posterior-mean", action="store_true", help="send the VAE posterior mean, not a sample")
    g = p.add_argument_group("channel")
    add_snr_argument(g, "one transmission of each image per SNR; default SEMCOM_SNR_DB", many=True)
    add_channel_arguments(g)
    g = p.add_argument_group("receiver")
    g.add_argument("--mode", default="auto", choices=MODES, help="receiver mode (default auto)")
    g.add_argument("--steps", type=int, default=50, help="DDIM schedule length (default 50)")
    g.add_argument(
        "--strength",
        type=float,
        help="re-noising strength, 0 = decode only (default 0.6, or 0 for a profile without diffusion model)",
    )
    add_guidance_argument(g)
    add_preset_argument(g, "default: the profile's: authors for paper, diffusers otherwise")
    g.add_argument("--adaptive-strength", action="store_true", help="strength from the SNR (docs/models.md)")
    g.add_argument(
        "--latent-repair",
        choices=LATENT_REPAIRS,
        help="treatment of an int latent on an uncoded link (default: SEMCOM_LATENT_REPAIR)",
    )
    p.add_argument(
        "--seed",
        type=int,
        help="user seed: image i gets independent sender, channel and receiver seeds derived from "
        "(seed, i) (docs/pipeline.md)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs=3,
        metavar=("SENDER", "CHANNEL", "RECEIVER"),
        help="explicit per-role seeds (e.g. a row of an eval sweep); overrides --seed",
    )
    p.add_argument("--out", default="out/transmit", help="output directory (default out/transmit)")
    p.add_argument("--json", action="store_true", help="print one JSON record per image (a JSON list)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from semcom.models.errors import ModelNotAvailableError, ProfileError

    try:
        return _run(args)
    except (ModelNotAvailableError, ProfileError, ValueError, OSError) as exc:
        print(f"semcom transmit: error: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, ModelNotAvailableError) else 2


def _run(args: argparse.Namespace) -> int:
    from PIL import Image

    from semcom import config
    from semcom.link.types import ChannelConfig
    from semcom.models import ReconParams
    from semcom.models.hub import quiet_libraries
    from semcom.models.params import DEFAULT_STRENGTH, default_strength
    from semcom.pipeline import LatentSpec, Pipeline, RoleSeeds, TransmissionRequest, stages

    if not args.verbose:
        quiet_libraries()
    try:  # flags left unset take their setting's value (ValueError names a malformed setting)
        for dest, env in SETTING_DEFAULTS.items():
            if getattr(args, dest) is None:
                setattr(args, dest, config.get(env))
        link = channel_values(args)  # --snr-db: the SNRs given, else the setting's one
    except ValueError as exc:
        print(f"semcom transmit: {exc}", file=sys.stderr)
        return 2

    channels = [ChannelConfig(**link | {"snr_db": snr}) for snr in args.snr_db or [link["snr_db"]]]
    params = ReconParams(
        mode=args.mode,
        num_inference_steps=args.steps,
        strength=DEFAULT_STRENGTH if args.strength is None else args.strength,
        guidance_scale=args.guidance,
        adaptive_strength=args.adaptive_strength,
        latent_repair=args.latent_repair,
    )
    latent_spec = LatentSpec(
        encoding=args.encoding,
        per_channel=args.per_channel,
        percentile=100.0 if args.clip_percentile is None else args.clip_percentile,
        sample_posterior=not args.posterior_mean,
        size=args.image_size,
    )
    paths = [Path(p) for p in args.images]
    for path in paths:
        if not path.is_file():
            raise ValueError(f"no such image file: {path}")
    pipeline = Pipeline.from_profile(args.profile, device=args.device, dtype=args.dtype, preset=args.preset)
    if args.strength is None:  # the default follows what the profile can do (decode-only: 0)
        params = dataclasses.replace(params, strength=default_strength(pipeline.models.has_diffusion))
    caption = stages.sender_caption(args.caption, args.mode, pipeline.models, "--caption TEXT")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    several = len(channels) > 1  # then each file and line names its SNR
    for index, path in enumerate(paths):
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        seeds = RoleSeeds(*args.seeds) if args.seeds else RoleSeeds.derive(args.seed, index)
        request = TransmissionRequest(image=image, params=params, latent=latent_spec, caption=caption, seeds=seeds)
        for channel, done in zip(channels, pipeline.run_each(request, channels), strict=True):
            stem = f"{path.stem}_{channel.snr_db:g}dB" if several else path.stem
            result, report, packet = done.recon, done.report, done.sent
            png = out_dir / f"{stem}.png"
            result.image.save(png)
            record = {
                "image": str(path),
                "reconstruction": str(png),
                "profile": pipeline.name,
                "caption_sent": packet.caption.decode("ascii"),
                "caption_received": result.caption_received,
                "mode_used": result.mode_used,
                "steps_executed": result.steps_executed,
                "strength_used": result.strength_used,
                "seed": result.seed,
                "seeds": seeds.as_dict(),
                "values_sanitised": result.values_sanitised,
                "latent_repair_used": result.latent_repair_used,
                "preset_used": result.preset_used,
                "guidance_used": result.guidance_used,
                "chars_replaced": result.chars_replaced,
                "latent_shape": list(packet.latent.shape) if packet.latent else None,
                "encoding": packet.latent.analog.spec if packet.latent and packet.latent.analog else args.encoding,
                "report": dataclasses.asdict(report),  # numbers, strings and booleans only
                "snr_note": report.snr_note,
                "timings": done.timings,
            }
            (out_dir / f"{stem}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
            records.append(record)
            if not args.json:
                latent = (
                    f"analog latent in {report.latent.analog_symbols} symbols at Es/N0 {report.esn0_db:.2f} dB"
                    if report.latent_analog
                    else f"{report.latent.bit_errors} latent bit errors"
                )
                print(
                    f"{path.name}{f' at {channel.snr_db:g} dB' if several else ''}: {result.mode_used}, "
                    f"{result.steps_executed} steps, caption {record['caption_sent']!r} -> {record['caption_received']!r}, "
                    f"{latent}, {result.values_sanitised} values sanitised -> {png}"
                )
                if report.snr_note:
                    print(f"  snr: {report.snr_note}")
    if args.json:
        print(json.dumps(records, indent=2))
    return 0
