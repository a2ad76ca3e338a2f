"""SSIM of TAEF2 k = 0 reconstructions (the autoencoder as transceiver) on real photos, without a
channel and after 16-QAM over AWGN at several Eb/N0, for each latent encoding.

    .venv/bin/python benchmarks/taef2_channel_table.py --photos 12 --json out/taef2_table.json

Everything goes through the project's own path: `load_profile` (a user profile with the TAEF2
codec), `Sender.encode`, `semcom.link.transmit_packet`, `Receiver.reconstruct` (mode "latent",
strength 0). SSIM: scikit-image `structural_similarity(channel_axis=2, data_range=1)` (7x7 uniform
window) against the 512x512 Lanczos-resized photo the encoder saw, and the project's metric
`semcom.metrics.ssim` (Gaussian window) next to it. Channel noise is seeded per photo/SNR/encoding.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
TAEF2_DIR = REPO / "semcom" / "models" / "weights" / "taef2"  # the packaged weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taef2", type=Path, default=TAEF2_DIR, help="TAEF2 weights dir")
    parser.add_argument("--images", type=Path, default=DEFAULT_SHARED / "data" / "flickr8k" / "images")
    parser.add_argument("--photos", type=int, default=12, help="first N photos in name order (default 12)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--snr-db", default="5,7.5,10", help="Eb/N0 grid in dB (default 5,7.5,10)")
    parser.add_argument("--encodings", default="float64,float16,int8")
    parser.add_argument("--modulation", default="16qam")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    import torch
    from PIL import Image
    from skimage.metrics import structural_similarity

    from semcom.link.transmission import transmit_packet
    from semcom.link.types import ChannelConfig
    from semcom.metrics.ssim import ssim as ssim_gaussian
    from semcom.models import ReconParams, load_profile

    torch.set_num_threads(args.threads)
    snrs = [float(s) for s in args.snr_db.split(",")]
    encodings = [e.strip() for e in args.encodings.split(",")]
    paths = sorted(args.images.glob("*.jpg"))[: args.photos]
    if not paths:
        print(f"no photos in {args.images}", file=sys.stderr)
        return 2
    models = load_profile({"name": "taef2", "encoder": {"type": "taef2", "name": "taef2", "source": str(args.taef2)}})
    sender, receiver = models.sender(), models.receiver()
    decode_only = ReconParams(mode="latent", strength=0.0)
    rows: dict[str, list[float]] = {}
    gauss: dict[str, list[float]] = {}
    sanitised: dict[str, list[int]] = {}
    start = time.perf_counter()
    for i, path in enumerate(paths):
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        ref = np.asarray(image.resize((args.size, args.size), Image.Resampling.LANCZOS), dtype=np.float64) / 255

        def score(key: str, packet) -> None:
            result = receiver.reconstruct(packet, decode_only)
            out = np.asarray(result.image, dtype=np.float64) / 255
            rows.setdefault(key, []).append(structural_similarity(ref, out, channel_axis=2, data_range=1))
            gauss.setdefault(key, []).append(ssim_gaussian(ref, out))
            sanitised.setdefault(key, []).append(result.values_sanitised)

        for enc in encodings:
            packet = sender.encode(image, caption="", encoding=enc, size=args.size)
            score(f"{enc}|clean", packet)
            for j, snr in enumerate(snrs):
                cfg = ChannelConfig(
                    snr_db=snr,
                    snr_convention="ebn0",
                    modulation=args.modulation,
                    model="awgn",
                    latent_policy="always",
                    seed=args.seed * 1_000_003 + i * 1009 + j,
                )
                received, _ = transmit_packet(packet, cfg)
                score(f"{enc}|{snr:g}", received)
        print(f"[{i + 1}/{len(paths)}] {path.name} {time.perf_counter() - start:.0f}s", file=sys.stderr)

    header = ["encoding", "no channel"] + [f"Eb/N0 {s:g} dB" for s in snrs]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for enc in encodings:
        cells = [enc] + [
            f"{np.mean(rows[f'{enc}|{k}']):.4f} ({np.mean(gauss[f'{enc}|{k}']):.4f})"
            for k in ["clean"] + [f"{s:g}" for s in snrs]
        ]
        lines.append("| " + " | ".join(cells) + " |")
    print(
        f"SSIM, mean over {len(paths)} photos, {args.size}x{args.size}, TAEF2 k=0 decode, "
        f"{args.modulation} AWGN; skimage 7x7 (Gaussian-window semcom.metrics.ssim in brackets)"
    )
    print("\n".join(lines))
    print("mean values sanitised per latent: " + ", ".join(f"{k}={np.mean(v):.1f}" for k, v in sanitised.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "photos": [p.name for p in paths],
                    "size": args.size,
                    "snr_ebn0_db": snrs,
                    "ssim_skimage": {k: float(np.mean(v)) for k, v in rows.items()},
                    "ssim_gaussian": {k: float(np.mean(v)) for k, v in gauss.items()},
                    "ssim_skimage_per_photo": rows,
                    "values_sanitised_mean": {k: float(np.mean(v)) for k, v in sanitised.items()},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
