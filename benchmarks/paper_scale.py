"""Paper scale without weights: SD v1.5 at its real size (random weights) through semcom's receiver,
through the receiver service, and through diffusers' StableDiffusionImg2ImgPipeline on the same
components, in the same run.

    python benchmarks/paper_scale.py --out /tmp/paper-scale --json out/paper_scale.json   # CPU: k = 1
    python benchmarks/paper_scale.py --device cuda --dtype float16 --k 30 --service      # a lent GPU

1. Writes the full-size random-weight directory once (`semcom.models.fullsize.write_random_sd15`:
   published configs, CLIP BPE from open_clip's bundled vocabulary when installed or --clip-bpe,
   else a synthetic one of the same size), loadable as `--profile DIR`.
2. In process: `load_profile(DIR)`; one text+latent request of k guided DDIM steps (50-step schedule,
   strength k/50, guidance 9, the `diffusers` preset) at --size, timed after a warm-up, alternating
   with the pipeline called on the same UNet / CLIP / VAE objects (`image=` the latent, same seed,
   output PIL): the ratio semcom / pipeline (goal <= 1.02) and the largest pixel difference.
3. With --service: `semcom serve receiver --profile DIR` on loopback, the same request over gRPC
   (time to SERVING, request wall time), the service's peak RSS.
Peak RSS (VmHWM) of this process after step 2. Prints a table; --json writes every number.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CAPTION = "a dog runs across the grass"


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def build(args: argparse.Namespace) -> dict:
    from semcom.models.fullsize import find_clip_bpe, write_random_sd15

    out = Path(args.out)
    if (out / "profile.yaml").is_file() and not args.rebuild:
        return {"path": str(out), "built": False, "seconds": 0.0}
    bpe = Path(args.clip_bpe) if args.clip_bpe else find_clip_bpe()
    t0 = time.perf_counter()
    info = write_random_sd15(out, seed=0, clip_bpe=bpe)
    info.update(built=True, seconds=time.perf_counter() - t0)
    return info


def packet_for(models, size: int, seed: int = 0):
    from semcom.payload.latent import encode_latent
    from semcom.payload.packet import SemanticPacket

    z = np.random.default_rng(seed).standard_normal((4, size // 8, size // 8))
    return SemanticPacket(
        caption=CAPTION.encode(),
        latent=encode_latent(z, "float64"),
        codec=models.decoder().info,
        original_size=(size, size),
        coded_size=(size, size),
    ), z


def in_process(args: argparse.Namespace) -> dict:
    import torch
    from diffusers import DDIMScheduler, StableDiffusionImg2ImgPipeline

    from semcom.models import ReconParams, load_profile
    from semcom.models.hub import quiet_libraries

    quiet_libraries()
    t0 = time.perf_counter()
    models = load_profile(args.out, device=args.device, dtype=args.dtype, preset="diffusers")
    receiver = models.receiver()
    receiver.preload()
    load_s = time.perf_counter() - t0
    d = models.diffusion()
    pipe = StableDiffusionImg2ImgPipeline(
        vae=models.decoder().model,
        text_encoder=d.text_encoder,
        tokenizer=d.tokenizer,
        unet=d.unet,
        scheduler=DDIMScheduler.from_config(d.scheduler_config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    packet, z = packet_for(models, args.size)
    strength = args.k / args.steps
    params = ReconParams(
        mode="text+latent",
        num_inference_steps=args.steps,
        strength=strength,
        guidance_scale=9.0,
        seed=0,
        preset="diffusers",
    )
    latent = torch.from_numpy(z).float()[None].to(d.device, d.dtype)

    def ours():
        return receiver.reconstruct(packet, params)

    def theirs():
        return pipe(
            CAPTION,
            image=latent,
            strength=strength,
            num_inference_steps=args.steps,
            guidance_scale=9.0,
            eta=0.0,
            generator=torch.Generator("cpu").manual_seed(0),
            output_type="pil",
        ).images[0]

    def sync():
        if d.device.type == "cuda":
            torch.cuda.synchronize()

    a, b = ours(), theirs()  # warm-up (and the equality check)
    diff = np.abs(np.asarray(a.image, dtype=np.int16) - np.asarray(b, dtype=np.int16))
    times: dict[str, list[float]] = {"semcom": [], "diffusers": []}
    stages: list[dict] = []
    for _ in range(args.repeats):
        for name, call in (("semcom", ours), ("diffusers", theirs)):
            sync()
            t0 = time.perf_counter()
            out = call()
            sync()
            times[name].append(time.perf_counter() - t0)
            if name == "semcom":
                stages.append(out.timings)
    med = {k: float(np.median(v)) for k, v in times.items()}
    result = {
        "load_s": load_s,
        "steps_executed": a.steps_executed,
        "times_s": times,
        "median_s": med,
        "ratio_semcom_over_diffusers": med["semcom"] / med["diffusers"],
        "semcom_stage_median_s": {
            k: float(np.median([s[k] for s in stages])) for k in ("text_encode", "denoise", "decode")
        },
        "max_pixel_diff": int(diff.max()),
        "mean_pixel_diff": float(diff.mean()),
        "peak_rss_mb": _rss_peak_mb(),
    }
    if d.device.type == "cuda":
        result["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result  # the models are freed with this frame (the service part runs after)


def through_service(args: argparse.Namespace) -> dict:
    """The same request through `semcom serve receiver` on loopback, started by the project's one
    launcher (semcom.loadtest.cluster.LocalService); its log goes next to the weights directory."""
    import tempfile

    from semcom.loadtest.cluster import LocalService
    from semcom.models import load_profile
    from semcom.rpc.client import ReceiverClient
    from semcom.rpc.convert import packet_to_proto
    from semcom.v1 import receiver_pb2

    flags = ["--host", "127.0.0.1", "--profile", str(args.out), "--insecure", "--device", args.device]
    flags += ["--dtype", args.dtype, "--torch-threads", str(args.threads), "--log-level", "WARNING"]
    flags += ["--metrics-port", "0"] + (["--preset", "diffusers"] if args.preset_flag else [])
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    service = LocalService("receiver", Path(tempfile.mkdtemp(prefix="paper-scale-")), flags, env=env, cwd=REPO)
    t0 = time.perf_counter()
    try:
        service.start().wait_serving(timeout=args.service_timeout_s)
        serving_s = time.perf_counter() - t0
        spec_models = load_profile(args.out, device="cpu", dtype="float32")
        packet, _ = packet_for(spec_models, args.size)
        params = receiver_pb2.ReconstructionParams(
            mode=receiver_pb2.MODE_TEXT_LATENT,
            num_inference_steps=args.steps,
            strength=args.k / args.steps,
            guidance_scale=9.0,
            seed=0,
            output_format="png",
        )
        request = receiver_pb2.ReconstructRequest(
            request_id="paper-scale", packet=packet_to_proto(packet), params=params
        )
        times = []
        with ReceiverClient(service.target, insecure=True, deadline_s=args.service_timeout_s) as client:
            for _ in range(args.repeats + 1):  # the first is the warm-up
                t1 = time.perf_counter()
                response = client.reconstruct(request)
                times.append(time.perf_counter() - t1)
        return {
            "serving_s": serving_s,
            "warmup_s": times[0],
            "times_s": times[1:],
            "median_s": float(np.median(times[1:])),
            "steps_executed": response.steps_executed,
            "service_peak_rss_mb": service.peak_rss_mib(),
        }
    finally:
        service.stop(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/semcom-paper-scale", help="full-size random-weight directory")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--clip-bpe", help="bpe_simple_vocab_16e6.txt.gz (default: open_clip's, if installed)")
    ap.add_argument("--device", default="cuda" if _cuda() else "cpu")
    ap.add_argument("--dtype", default=None, help="default: float16 on cuda, float32 on cpu")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--steps", type=int, default=50, help="schedule length")
    ap.add_argument("--k", type=int, default=None, help="guided DDIM steps run (default: 30 on cuda, 1 on cpu)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--service", action="store_true", help="also time the receiver service on loopback")
    ap.add_argument("--preset-flag", action="store_true", help="pass --preset diffusers to the service")
    ap.add_argument("--service-timeout-s", type=float, default=900.0)
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    args.dtype = args.dtype or ("float16" if args.device.startswith("cuda") else "float32")
    args.k = args.k if args.k is not None else (30 if args.device.startswith("cuda") else 1)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    report: dict = {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "torch": torch.__version__,
        "device": args.device,
        "dtype": args.dtype,
        "size": args.size,
        "steps": args.steps,
        "k": args.k,
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
    }
    report["build"] = build(args)
    print(f"directory: {report['build']}", flush=True)
    report["in_process"] = in_process(args)
    gc.collect()
    print(json.dumps(report["in_process"], indent=1), flush=True)
    if args.service:
        report["service"] = through_service(args)
        print(json.dumps(report["service"], indent=1), flush=True)
    report["load_avg_end"] = os.getloadavg()
    ip = report["in_process"]
    print(f"\n| path | median s ({args.k} guided step(s), {args.size}x{args.size}, {args.device} {args.dtype}) |")
    print("| --- | --- |")
    print(f"| semcom receiver, in process | {ip['median_s']['semcom']:.2f} |")
    print(f"| diffusers StableDiffusionImg2ImgPipeline, same components | {ip['median_s']['diffusers']:.2f} |")
    if "service" in report:
        print(f"| receiver service over gRPC (loopback) | {report['service']['median_s']:.2f} |")
    print(
        f"ratio semcom / diffusers = {ip['ratio_semcom_over_diffusers']:.3f}; max pixel difference "
        f"{ip['max_pixel_diff']}; peak RSS {ip['peak_rss_mb']:.0f} MiB"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


if __name__ == "__main__":
    sys.exit(main())
