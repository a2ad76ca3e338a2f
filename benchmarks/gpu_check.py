"""GPU check: tiny profile on one CUDA device in fp16, per-mode latency and batched throughput.

Run by benchmarks/gpu_check.sh on a machine with a GPU (no internet: the tiny profile is built
locally from seeded random weights). In-process only (no gRPC, so no extra packages beyond
torch, diffusers and transformers). Every section is timed with CUDA synchronisation, repeated,
and written to the JSON file as soon as it is done, so a run cut short still leaves its numbers.

    python benchmarks/gpu_check.py --out gpu_check.json [--device cuda] [--dtype float16]

Sections: environment; sender encode (caption + VAE encode) latency; receiver latency per mode
(text: 50 DDIM steps from noise; text+latent: strength 0.6 = 30 steps; latent k=0: decode only);
receiver throughput of `reconstruct_batch` at batch sizes 1, 2, 4, 8 (text+latent) and the
speed-up over batch 1; whether a batch reproduces the unbatched images (max pixel difference).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _sync(torch) -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _timed(torch, fn, repeats: int) -> tuple[list[float], object]:
    """Run `fn` once to warm up, then `repeats` timed runs (synchronised); returns times and last value."""
    value = fn()
    times = []
    for _ in range(repeats):
        _sync(torch)
        t0 = time.perf_counter()
        value = fn()
        _sync(torch)
        times.append(time.perf_counter() - t0)
    return times, value


def _summary(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs": len(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="gpu_check.json", help="JSON result file")
    parser.add_argument("--device", default="cuda", help="torch device (default cuda)")
    parser.add_argument("--dtype", default="float16", help="torch dtype (default float16)")
    parser.add_argument("--size", type=int, default=512, help="image side (default 512, 4x64x64 latents)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (default 3)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--steps", type=int, default=50, help="DDIM schedule length (default 50, the paper)")
    parser.add_argument(
        "--budget-s", type=float, default=240.0, help="skip remaining sections after this (default 240)"
    )
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"args": vars(args), "errors": {}}
    start = time.perf_counter()

    def save() -> None:
        result["wall_s"] = time.perf_counter() - start
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")

    def section(name: str, fn) -> None:
        if time.perf_counter() - start > args.budget_s:
            result["errors"][name] = f"skipped: over the {args.budget_s:.0f} s budget"
            save()
            return
        t0 = time.perf_counter()
        try:
            result[name] = fn()
        except Exception as exc:  # noqa: BLE001 - record and go on: partial results beat none
            result["errors"][name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        print(f"[gpu_check] {name}: {time.perf_counter() - t0:.1f} s", flush=True)
        save()

    import numpy as np
    import torch
    from PIL import Image

    def environment() -> dict:
        info = {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda_available": torch.cuda.is_available(),
            "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
            "cpus": os.cpu_count(),
        }
        for module in ("diffusers", "transformers", "numpy"):
            try:
                info[module] = __import__(module).__version__
            except Exception as exc:  # noqa: BLE001
                info[module] = f"missing: {exc}"
        return info

    section("environment", environment)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        result["errors"]["device"] = "CUDA not available"
        save()
        return 1

    from semcom.models import ReconParams, load_profile

    state: dict = {}

    def load() -> dict:
        t0 = time.perf_counter()
        models = load_profile("tiny", device=args.device, dtype=args.dtype)
        sender, receiver = models.sender(), models.receiver()
        sender.preload()
        receiver.preload()
        _sync(torch)
        state.update(models=models, sender=sender, receiver=receiver)
        return {"seconds": time.perf_counter() - t0, "device": str(models.device), "dtype": str(models.dtype)}

    section("load", load)
    if "sender" not in state:
        return 1
    sender, receiver = state["sender"], state["receiver"]
    rng = np.random.default_rng(0)
    image = Image.fromarray((rng.random((args.size, args.size, 3)) * 255).astype(np.uint8))

    def encode() -> dict:
        times, (packet, timings) = _timed(
            torch, lambda: sender.encode_with_timings(image, seed=0, size=args.size), args.repeats
        )
        state["packet"] = packet
        return {**_summary(times), "stages_last_s": timings, "latent_shape": list(packet.latent.shape)}

    section("sender_encode", encode)
    if "packet" not in state:
        return 1
    packet = state["packet"]
    modes = {
        "text": ReconParams(mode="text", num_inference_steps=args.steps, seed=1),
        "text+latent": ReconParams(mode="text+latent", num_inference_steps=args.steps, strength=0.6, seed=1),
        "latent_k0": ReconParams(mode="latent", num_inference_steps=args.steps, strength=0.0, seed=1),
    }

    def per_mode() -> dict:
        rows = {}
        for name, params in modes.items():
            times, res = _timed(torch, lambda p=params: receiver.reconstruct(packet, p), args.repeats)
            rows[name] = {**_summary(times), "steps_executed": res.steps_executed, "stages_last_s": res.timings}
            save()
        return rows

    section("receiver_latency", per_mode)

    def batching() -> dict:
        rows = {}
        reference = None
        for b in args.batch_sizes:
            items = [
                (packet, ReconParams(mode="text+latent", num_inference_steps=args.steps, seed=i)) for i in range(b)
            ]
            times, res = _timed(torch, lambda it=items: receiver.reconstruct_batch(it), args.repeats)
            med = statistics.median(times)
            rows[str(b)] = {**_summary(times), "images_per_s": b / med}
            if reference is None:
                reference = np.asarray(res[0].image, dtype=np.int16)
            else:  # item 0 has seed 0 in every batch: compare with the batch-of-1 image
                diff = np.abs(np.asarray(res[0].image, dtype=np.int16) - reference)
                rows[str(b)]["max_pixel_diff_vs_batch1"] = int(diff.max())
        base = rows.get(str(args.batch_sizes[0]), {}).get("images_per_s")
        for row in rows.values():
            row["speedup_vs_first"] = row["images_per_s"] / base if base else None
        return rows

    section("receiver_batching", batching)
    if torch.cuda.is_available():
        result["max_memory_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    save()
    print(json.dumps(result, indent=2, default=str))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
