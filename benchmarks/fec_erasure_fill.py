"""What to do with CRC-failed latent segments: SSIM of TAEF2 k = 0 reconstructions when many
segments fail, with the failed values trusted as decoded, set to zero, or filled from neighbours.

    .venv/bin/python benchmarks/fec_erasure_fill.py --photos 4 --esn0-db 8.5 8.75 \\
        --json docs/results/fec_erasure_fill/erasure_fill.json

The sender, the link and the receiver are the shared pipeline's (`semcom.pipeline.Pipeline.send`
with the int8 per-channel latent; `Pipeline.link` over LDPC with a fixed MCS at Es/N0 points on its
BLER waterfall, 16qam-r2/3 at 8.5 and 8.75 dB: `semcom channel bler` segment BLER about 0.84 and
0.08, so that segments fail their CRC; `Pipeline.receive` decodes k = 0). The link's latent
`FieldResult.erased` says which bits the failed segments held (the services' report carries only
their count), and the three receivers compared here need that mask. They decode the same received bits: "trusted"
(decoder output used as is, what `Pipeline.receive` does), "zero" and "neighbours"
(`semcom.fec.erasure.fill_erased`). SSIM is `semcom.metrics.ssim` against the 512x512 photo;
"clean" is the int8 latent without a channel. Photo i is sent with `RoleSeeds.derive(seed, i)`;
Es/N0 point j's channel is seeded with `RoleSeeds.derive(seed, i, j).channel`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # benchmarks/artefact.py (tests/integration/benchmarks is a package too)
DEFAULT_SHARED = REPO.parent / "shared"
TAEF2_DIR = REPO / "semcom" / "models" / "weights" / "taef2"  # the packaged weights
RECEIVERS = ("clean", "trusted", "zero", "neighbours")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taef2", type=Path, default=TAEF2_DIR)
    parser.add_argument("--images", type=Path, default=DEFAULT_SHARED / "data" / "flickr8k" / "images")
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--mcs", default="16qam-r2/3")
    parser.add_argument("--esn0-db", type=float, nargs="+", default=[8.5, 8.75])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch
    from artefact import host, provenance, script_command
    from PIL import Image

    from semcom.fec.erasure import erased_values, fill_erased
    from semcom.link.types import ChannelConfig
    from semcom.metrics.ssim import ssim
    from semcom.models import ReconParams
    from semcom.payload.latent import decode_latent, encode_latent
    from semcom.pipeline import LatentSpec, Pipeline, RoleSeeds, TransmissionRequest

    torch.set_num_threads(args.threads)
    paths = sorted(args.images.glob("*.jpg"))[: args.photos]
    if not paths:
        print(f"no photos in {args.images}", file=sys.stderr)
        return 2
    host_at_start = host()
    pipe = Pipeline.from_profile(
        {"name": "taef2", "encoder": {"type": "taef2", "name": "taef2", "source": str(args.taef2)}}
    )
    decode_only = ReconParams(mode="latent", strength=0.0)
    rows: dict[float, list[dict]] = {e: [] for e in args.esn0_db}
    for i, path in enumerate(paths):
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        ref = np.asarray(image.resize((512, 512), Image.Resampling.LANCZOS), dtype=np.float64) / 255
        latent = LatentSpec("int8", per_channel=True, size=512)
        request = TransmissionRequest(
            image, decode_only, latent=latent, caption="", seeds=RoleSeeds.derive(args.seed, i)
        )
        packet, _ = pipe.send(request)

        def score(values: np.ndarray) -> float:
            repaired = dataclasses.replace(packet, latent=encode_latent(values, "float32"))
            return ssim(ref, np.asarray(pipe.receive(repaired, decode_only, None).image, dtype=np.float64) / 255)

        clean = score(decode_latent(packet.latent, packet.codec).values)
        for j, esn0 in enumerate(args.esn0_db):
            cfg = ChannelConfig(snr_db=esn0, snr_convention="esn0", fec="ldpc", mcs=args.mcs, latent_policy="always")
            received, _, result = pipe.link(packet, cfg, RoleSeeds.derive(args.seed, i, j).channel)
            assert result is not None and result.erased is not None  # a digital latent over LDPC
            values = decode_latent(received.latent, packet.codec).values
            erased = erased_values(result.erased, 8).reshape(values.shape)
            row = {
                "photo": path.name,
                "segments_failed": result.segments_failed,
                "segments": result.segments,
                "values_erased": int(erased.sum()),
                "ber_in_failed_segments": result.bit_errors / max(1, int(result.erased.sum())),
                "clean": clean,
                "trusted": score(values),
                "zero": score(fill_erased(values, erased, method="zero")),
                "neighbours": score(fill_erased(values, erased)),
            }
            rows[esn0].append(row)
            print(json.dumps({"esn0_db": esn0, **row}), file=sys.stderr, flush=True)
    points = []
    for esn0, got in rows.items():
        mean = {k: float(np.mean([r[k] for r in got])) for k in RECEIVERS}
        failed = sum(r["segments_failed"] for r in got) / sum(r["segments"] for r in got)
        ber = float(np.mean([r["ber_in_failed_segments"] for r in got]))
        points.append(
            {
                "esn0_db": esn0,
                "mean": mean,
                "segments_failed_fraction": failed,
                "ber_in_failed_segments": ber,
                "rows": got,
            }
        )
        print(
            f"{len(got)} photos, {args.mcs} at Es/N0 {esn0:g} dB: {failed:.1%} of segments failed, "
            f"bit error rate inside them {ber:.2%}; mean SSIM " + ", ".join(f"{k} {v:.4f}" for k, v in mean.items())
        )
    if args.json:
        settings = {
            "mcs": args.mcs,
            "esn0_db": args.esn0_db,
            "seed": args.seed,
            "photos": [p.name for p in paths],
            "threads": args.threads,
        }
        command = script_command("fec_erasure_fill.py", sys.argv[1:] if argv is None else argv)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {**provenance(command, settings, host_at_start), "points": points}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
