"""`semcom demo`: the whole system on this machine, in a couple of minutes.

Starts receiver, channel proxy and sender as three local processes on 127.0.0.1 (the compose
topology: sender -> channel -> receiver, plaintext on loopback), streams sample images through
them at a few SNRs in text-only and text+latent mode, and writes to --out:

* contact_sheet.png - one row per image: original | text only | text + latent, for every SNR;
* report.json       - every transmission: captions sent/received, bit errors, latent dropped or
                      not, steps, timings per stage, SSIM/PSNR against the (resized) original;
* report.md         - the same as tables.

Images: the Flickr8k fixture (../shared/data/flickr8k/images) when present, else a few generated
ones. With the tiny profile (the default offline) the models have random weights: the pipeline,
bit errors and timings are real, the pictures are noise, and quality numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DEFAULT_SNRS = (5.0, 7.5, 10.0)
DEMO_MODES = ("text", "text+latent")
TINY_SIZE = 128
TINY_STEPS = 20


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run sender, channel and receiver locally and stream sample images through",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="semcom-demo", help="output directory (default semcom-demo)")
    p.add_argument("--profile", help="model profile (default SEMCOM_PROFILE, i.e. tiny)")
    p.add_argument("--size", type=int, help=f"image side (default {TINY_SIZE} for tiny, else SEMCOM_IMAGE_SIZE)")
    p.add_argument("--steps", type=int, help=f"DDIM schedule length (default {TINY_STEPS} for tiny, else 50)")
    p.add_argument("--images", type=int, default=4, help="how many sample images (default 4)")
    p.add_argument("--snrs", type=_floats, default=DEFAULT_SNRS, help="SNRs in dB, Eb/N0 (default 5,7.5,10)")
    p.add_argument("--seed", type=int, default=0, help="seed of sender, channel and receiver randomness")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for start-up and for each stream")
    p.set_defaults(func=run)


def sample_images(count: int) -> list[tuple[str, bytes, str | None]]:
    """(name, encoded bytes, caption): Flickr8k fixture images with their first human caption when
    the fixtures exist (so the caption on the wire is real language even with tiny weights, whose
    BLIP only babbles), else synthetic images captioned by the sender's BLIP."""
    from semcom import config
    from semcom.eval.dataset import load_dataset
    from semcom.loadtest.images import synthetic_png

    shared = str(config.get("SEMCOM_SHARED_DIR")) or str(Path(__file__).resolve().parents[2].parent / "shared")
    folder = Path(shared).expanduser() / "data" / "flickr8k"
    if (folder / "images").is_dir():
        items = load_dataset(folder, limit=count)
        if items:
            return [(item.path.stem, item.path.read_bytes(), item.caption) for item in items]
    return [(f"synthetic_{i}", synthetic_png(256, seed=i), None) for i in range(count)]


def contact_sheet(rows: list[tuple[str, object, dict]], snrs: tuple[float, ...], cell: int):
    """rows: (name, original PIL image, {(snr, mode): PIL image}) -> one labelled PIL image."""
    from PIL import Image, ImageDraw

    header, pad = 28, 4
    columns = ["original"] + [f"{m} @ {s:g} dB" for s in snrs for m in DEMO_MODES]
    width = len(columns) * (cell + pad) + pad
    height = header + len(rows) * (cell + pad) + pad
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for c, label in enumerate(columns):
        draw.text((pad + c * (cell + pad), 8), label, fill="black")
    for r, (_name, original, recons) in enumerate(rows):
        top = header + r * (cell + pad)
        images = [original] + [recons.get((s, m)) for s in snrs for m in DEMO_MODES]
        for c, image in enumerate(images):
            if image is None:
                continue
            sheet.paste(image.convert("RGB").resize((cell, cell)), (pad + c * (cell + pad), top))
    return sheet


def _cell(text: str) -> str:
    """A received caption (any printable ASCII) made safe inside a Markdown table code span."""
    return text.replace("`", "'").replace("|", "/")


def markdown_report(report: dict) -> str:
    lines = [f"# semcom demo ({report['profile']} profile, {report['size']}x{report['size']}, {report['steps']} steps)", ""]
    if report["notice"]:
        lines += [f"> {report['notice']}", ""]
    header = ["image", "SNR dB", "mode", "caption sent", "caption received", "caption bit errors", "latent bit errors", "latent",
              "SSIM", "PSNR dB", "e2e s"]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for t in report["transmissions"]:
        latent = "dropped" if t["latent_dropped"] else ("not sent" if t["latent_bits"] == 0 else "sent")
        lines.append(
            f"| {t['image']} | {t['snr_db']:g} | {t['mode_used']} | `{_cell(t['caption_sent'])}` "
            f"| `{_cell(t['caption_received'])}` "
            f"| {t['caption_bit_errors']} "
            f"| {t['latent_bit_errors']} | {latent} | {t['ssim']:.3f} | {t['psnr_db']:.2f} | {t['timings']['total']:.2f} |"
        )
    lines += ["", "Median stage timings (s) per mode:", "", "| mode | " + " | ".join(report["stage_names"]) + " |",
              "| --- |" + " --- |" * len(report["stage_names"])]
    for mode, stages in report["median_timings"].items():
        lines.append(f"| {mode} | " + " | ".join(f"{stages.get(s, 0.0):.3f}" for s in report["stage_names"]) + " |")
    lines += ["", f"Services: {report['services']}", f"Wall time: {report['wall_s']:.1f} s", ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"semcom demo: error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    import io
    import statistics

    import grpc
    from PIL import Image

    from semcom import config
    from semcom.loadtest.cluster import LocalPipeline
    from semcom.metrics import psnr, ssim
    from semcom.rpc.client import SenderClient, image_request
    from semcom.rpc.convert import mode_label
    from semcom.rpc.tls import TlsConfig
    from semcom.v1 import channel_pb2

    started = time.monotonic()
    profile = args.profile or str(config.get("SEMCOM_PROFILE"))
    tiny = profile == "tiny"
    size = args.size or (TINY_SIZE if tiny else int(config.get("SEMCOM_IMAGE_SIZE")))
    steps = args.steps or (TINY_STEPS if tiny else 50)
    notice = ""
    if tiny:
        notice = ("tiny profile: random weights, built locally, no download. The pipeline, the channel, bit "
                  "errors and timings are real; the pictures are noise and SSIM/PSNR say nothing about quality. "
                  "Use --profile paper (needs `semcom models download`) for real images.")
        print(f"NOTE: {notice}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images = sample_images(args.images)
    print(f"starting receiver, channel and sender ({profile} profile, {size}x{size}, {steps} steps) ...")
    # Two model processes (sender, receiver) work at once when pipelined: give each half the cores,
    # so torch's OpenMP threads do not oversubscribe the machine (which slows them tenfold).
    threads = max(1, (os.cpu_count() or 2) // 2)
    env = {"SEMCOM_TORCH_THREADS": str(threads)}
    transmissions: list[dict] = []
    rows = {name: (name, Image.open(io.BytesIO(data)).convert("RGB"), {}) for name, data, _ in images}
    with LocalPipeline(profile=profile, image_size=size, env=env, start_timeout_s=args.timeout) as pipe:
        services = {role: pipe.address(role) for role in ("sender", "channel", "receiver")}
        print(f"services up after {time.monotonic() - started:.1f} s: {services}")
        with SenderClient(pipe.sender, tls=TlsConfig(insecure=True), deadline_s=args.timeout) as client:
            for snr in args.snrs:
                for mode in DEMO_MODES:
                    # Image i gets the same seeds (posterior sample, channel noise, diffusion noise:
                    # independent streams derived from (seed, i)) at every SNR and mode, so the
                    # columns differ only by what is compared.
                    requests = [
                        image_request(data, request_id=name, caption=caption, mode=mode, steps=steps,
                                      seed=args.seed, index=i, channel=channel_pb2.ChannelConfig(snr_db=snr))
                        for i, (name, data, caption) in enumerate(images)
                    ]
                    try:
                        results = list(client.transmit(requests))
                    except grpc.RpcError as exc:
                        raise RuntimeError(f"stream at {snr:g} dB, {mode}: {exc.code().name}: {exc.details()}") from None
                    for result in results:
                        name, original, recons = rows[result.request_id]
                        recon = Image.open(io.BytesIO(result.reconstruction.data)).convert("RGB")
                        recons[(snr, mode)] = recon
                        reference = original.resize(recon.size, Image.LANCZOS)
                        transmissions.append({
                            "image": name,
                            "snr_db": snr,
                            "mode_requested": mode,
                            "mode_used": mode_label(result.mode_used),
                            "caption_sent": result.caption_sent.decode("ascii", "replace"),
                            "caption_received": result.caption_received.decode("ascii", "replace"),
                            "caption_bit_errors": result.report.caption.bit_errors,
                            "latent_bits": result.report.latent.info_bits,
                            "latent_bit_errors": result.report.latent.bit_errors,
                            "latent_values_sanitised": result.report.latent.values_sanitised,
                            "latent_dropped": result.report.latent_dropped,
                            "drop_reason": result.report.drop_reason,
                            "steps_executed": result.steps_executed,
                            "ssim": float(ssim(reference, recon)),
                            "psnr_db": float(psnr(reference, recon)),
                            "timings": dict(sorted(result.timings.items())),
                        })
                    print(f"  {snr:5.2f} dB {mode:<12} {len(results)} images, "
                          f"median e2e {statistics.median(r.timings['total'] for r in results):.2f} s")
    stage_names = ["caption", "encode", "pack", "channel", "queue", "text_encode", "denoise", "decode", "network", "total"]
    median_timings = {
        mode: {s: statistics.median(t["timings"].get(s, 0.0) for t in transmissions if t["mode_requested"] == mode)
               for s in stage_names}
        for mode in DEMO_MODES
    }
    sheet = contact_sheet(list(rows.values()), tuple(args.snrs), cell=min(size, 192))
    sheet.save(out / "contact_sheet.png")
    report = {
        "profile": profile, "size": size, "steps": steps, "snrs_db": list(args.snrs), "snr_convention": "ebn0",
        "modulation": "16qam", "channel_model": "awgn", "seed": args.seed, "notice": notice, "services": services,
        "images": [name for name, _, _ in images], "transmissions": transmissions, "stage_names": stage_names,
        "median_timings": median_timings, "wall_s": time.monotonic() - started,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(markdown_report(report))
    print(f"wrote {out / 'contact_sheet.png'}, {out / 'report.json'}, {out / 'report.md'} "
          f"({report['wall_s']:.1f} s in all)")
    if notice:
        print(f"NOTE: {notice}")
    return 0
