"""Wall-clock timings of the model layer per mode: sender encode, receiver text / text+latent / k=0.

    .venv/bin/python benchmarks/model_timings.py --profile tiny --size 512 --repeats 3

Runs the public API (`load_profile`, `Sender.encode_with_timings`, `Receiver.reconstruct`) on one
Flickr8k photo (or a synthetic image when the fixture is absent) after one warm-up call per
stage, and prints the median of `--repeats` runs per stage, with the per-stage breakdown the
API reports (caption / encode / pack; unpack / text_encode / denoise / decode).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO.parent / "shared" / "data" / "flickr8k" / "images" / "1087539207_9f77ab3aaf.jpg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    from PIL import Image

    from semcom.models import ReconParams, load_profile

    if args.threads:
        torch.set_num_threads(args.threads)
    if PHOTO.is_file():
        image = Image.open(PHOTO).convert("RGB")
    else:
        image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (375, 500, 3), dtype=np.uint8))
    models = load_profile(args.profile)
    sender, receiver = models.sender(), models.receiver()
    sender.preload()
    receiver.preload()

    stages = {
        "sender encode (caption given)": lambda: sender.encode_with_timings(
            image, caption="a dog", size=args.size, seed=0
        )[1],
        "sender encode (BLIP caption)": lambda: sender.encode_with_timings(image, size=args.size, seed=0)[1],
    }
    packet = sender.encode(image, caption="a dog runs across the grass", size=args.size, seed=0)
    modes = {
        "receiver text (50 steps)": ReconParams(mode="text", seed=0),
        "receiver text+latent (30 of 50 steps)": ReconParams(mode="text+latent", seed=0),
        "receiver k=0 decode": ReconParams(mode="latent", strength=0.0),
    }
    for name, params in modes.items():
        stages[name] = lambda p=params: receiver.reconstruct(packet, p).timings
    report = {}
    for name, run in stages.items():
        run()  # warm-up
        totals, parts = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            parts.append(run())
            totals.append(time.perf_counter() - t0)
        breakdown = {k: statistics.median(p[k] for p in parts) for k in parts[0] if k != "total"}
        report[name] = {"median_s": statistics.median(totals), "breakdown_s": breakdown}
    meta = (
        f"profile {models.name}, {args.size}x{args.size}, device {models.device}, dtype {models.dtype}, "
        f"torch threads {torch.get_num_threads()}, median of {args.repeats}"
    )
    if args.json:
        print(json.dumps({"meta": meta, "stages": report}, indent=2))
        return 0
    print(meta)
    print("| stage | median s | breakdown (s) |\n| --- | --- | --- |")
    for name, row in report.items():
        parts_text = ", ".join(f"{k} {v:.3f}" for k, v in row["breakdown_s"].items())
        print(f"| {name} | {row['median_s']:.3f} | {parts_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
