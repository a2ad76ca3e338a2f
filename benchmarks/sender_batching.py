"""Sender batching in process: `Sender.encode_batch` of N images vs N x `Sender.encode`.

    .venv/bin/python benchmarks/sender_batching.py --size 512 --threads 1 --count 8

Tiny profile on the CPU, the bundled sample photos, a seed per image; best of `--repeats` runs,
once with captions given (encoder only) and once with BLIP captioning. Prints the times, the
speed-up, and the largest |difference| between the batched and the one-at-a-time latents.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="coded image side (multiple of 64)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--count", type=int, default=8, help="images per batch")
    parser.add_argument("--repeats", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()

    import torch
    from PIL import Image

    from semcom.cli.demo.plan import sample_images
    from semcom.models import load_profile
    from semcom.payload.latent import decode_latent

    torch.set_num_threads(args.threads)
    sender = load_profile("tiny", device="cpu", dtype="float32").sender()
    sender.preload()
    images = [Image.open(io.BytesIO(data)).convert("RGB") for _name, data, _caption in sample_images(args.count)]
    for blip in (False, True):
        items = [
            dict(image=im, caption=None if blip else "a photo", seed=i, size=args.size) for i, im in enumerate(images)
        ]
        sender.encode_batch(items[:2])  # warm-up
        sender.encode(**items[0])
        best_batch = best_alone = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            batched = sender.encode_batch(items)
            best_batch = min(best_batch, time.perf_counter() - t0)
            t0 = time.perf_counter()
            alone = [sender.encode(**item) for item in items]
            best_alone = min(best_alone, time.perf_counter() - t0)
        diff = max(
            float(np.abs(decode_latent(a.latent).values - decode_latent(b.latent).values).max())
            for a, b in zip(batched, alone)
        )
        same = all(a.caption == b.caption for a, b in zip(batched, alone))
        print(
            f"{'BLIP captions ' if blip else 'captions given'}: {args.count} x encode {best_alone * 1e3:.0f} ms, "
            f"encode_batch({args.count}) {best_batch * 1e3:.0f} ms, speed-up {best_alone / best_batch:.2f}x, "
            f"max |latent diff| {diff:.2e}, captions equal: {same}"
        )


if __name__ == "__main__":
    main()
