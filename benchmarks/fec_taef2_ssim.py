"""SSIM and channel symbols per image: uncoded float64 (the paper), uncoded compact int8, and AMC
with 5G LDPC, on real photos through the real TAEF2 codec at k = 0 (the autoencoder as transceiver).

    .venv/bin/python benchmarks/fec_taef2_ssim.py --photos 12 --out out/fec_ssim

SNR grid: the paper's 5, 6.25, 7.5, 8.75, 10 dB Eb/N0 for uncoded 16-QAM, stated per channel use:
Es/N0 = Eb/N0 + 6.02 dB = 11.02 ... 16.02 dB. The same physical channel (same Es/N0) carries
(a) float64 latent, uncoded 16-QAM (the paper's payload; our receiver sanitises, never draws at random),
(b) int8 per-channel latent, uncoded 16-QAM (the compact encoding),
(c) the same int8 latent with `fec=ldpc, mcs=auto, latent_policy=amc`: the drop decision of
    `semcom.link.policy.decide_latent`, then `semcom.fec.link.transmit_field_coded` (the hook
    `transmit_packet` calls), CRC-failed segments' values filled from their neighbours
    (`semcom.fec.erasure.fill_erased`) before decoding.
Channel symbols are the latent's (the k = 0 decoder ignores the caption; a 77-character caption
adds 154 uncoded or a few hundred coded symbols). SSIM is `semcom.metrics.ssim` against the
512x512 Lanczos-resized photo; "clean" is the float64 latent decoded without a channel.

Photos are the first N in name order. Results go to <out>/photos*.jsonl, one line per photo, so an
interrupted run resumes where it stopped, and `--shard I/N` splits the photos over N processes;
the summary (stdout and <out>/summary.json) covers every photo done so far.
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
PAPER_EBN0_DB = (5.0, 6.25, 7.5, 8.75, 10.0)
VARIANTS = ("float64", "int8", "amc-ldpc")


def _photo_row(path: Path, sender, receiver, esn0_grid: list[float], seed: int, index: int) -> dict:
    import dataclasses

    from PIL import Image

    from semcom.fec.amc import latent_airtime_budget
    from semcom.fec.erasure import erased_values, fill_erased
    from semcom.fec.link import transmit_field_coded
    from semcom.link.policy import decide_latent
    from semcom.link.transmission import transmit_packet
    from semcom.link.types import ChannelConfig
    from semcom.metrics.ssim import ssim
    from semcom.models import ReconParams
    from semcom.payload.latent import decode_latent, encode_latent

    decode_only = ReconParams(mode="latent", strength=0.0)
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    ref = np.asarray(image.resize((512, 512), Image.Resampling.LANCZOS), dtype=np.float64) / 255

    def score(packet) -> float:
        return ssim(ref, np.asarray(receiver.reconstruct(packet, decode_only).image, dtype=np.float64) / 255)

    f64 = sender.encode(image, caption="", encoding="float64", size=512, seed=seed + index)
    i8 = sender.encode(image, caption="", encoding="int8", per_channel=True, size=512, seed=seed + index)
    row: dict = {"photo": path.name, "clean": score(f64), "int8_clean": score(i8), "points": []}
    for j, esn0 in enumerate(esn0_grid):
        point: dict = {"esn0_db": esn0}
        for v, (name, packet) in enumerate((("float64", f64), ("int8", i8))):
            cfg = ChannelConfig(snr_db=esn0, snr_convention="esn0", modulation="16qam", model="awgn",
                                latent_policy="always", seed=(seed * 1009 + index) * 101 + j * 7 + v)
            received, report = transmit_packet(packet, cfg)
            point[name] = {"ssim": score(received), "symbols": report.latent.symbols,
                           "bit_errors": report.latent.bit_errors}
        cfg = ChannelConfig(snr_db=esn0, snr_convention="esn0", modulation="16qam", model="awgn", fec="ldpc",
                            mcs="auto", latent_policy="amc", seed=(seed * 1009 + index) * 101 + j * 7 + 5)
        decision = decide_latent(cfg, i8.latent)
        if not decision.send:
            point["amc-ldpc"] = {"ssim": None, "symbols": 0, "dropped": decision.reason}
        else:
            bits = np.unpackbits(np.frombuffer(i8.latent.data, dtype=np.uint8))
            t0, c0 = time.perf_counter(), time.process_time()
            result = transmit_field_coded(bits, cfg, np.random.default_rng(cfg.seed), "latent",
                                          airtime_budget_symbols=latent_airtime_budget(int(np.prod(i8.latent.shape))))
            link_wall, link_cpu = time.perf_counter() - t0, time.process_time() - c0
            rx = dataclasses.replace(i8.latent, data=np.packbits(result.rx_bits).tobytes())
            values = decode_latent(rx, i8.codec).values
            erased = erased_values(result.erased, 8).reshape(values.shape)
            filled = fill_erased(values, erased)
            repaired = dataclasses.replace(i8, latent=encode_latent(filled, "float32"))
            point["amc-ldpc"] = {"ssim": score(repaired), "symbols": result.symbols, "mcs": result.mcs,
                                 "segments": result.segments, "segments_failed": result.segments_failed,
                                 "bit_errors": result.bit_errors, "values_erased": int(erased.sum()),
                                 "link_wall_s": round(link_wall, 2), "link_cpu_s": round(link_cpu, 2)}
        row["points"].append(point)
    return row


def summarise(rows: list[dict], esn0_grid: list[float]) -> dict:
    """Mean SSIM and symbols per variant and SNR over the photos in `rows`."""
    out: dict = {"photos": len(rows), "clean": float(np.mean([r["clean"] for r in rows])),
                 "int8_clean": float(np.mean([r["int8_clean"] for r in rows])), "points": []}
    for j, esn0 in enumerate(esn0_grid):
        point: dict = {"esn0_db": esn0, "ebn0_db_uncoded_16qam": round(esn0 - 10 * np.log10(4), 2)}
        for v in VARIANTS:
            cells = [r["points"][j][v] for r in rows]
            scored = [c["ssim"] for c in cells if c["ssim"] is not None]
            point[v] = {"ssim": float(np.mean(scored)) if scored else None,
                        "symbols": float(np.mean([c["symbols"] for c in cells])),
                        "dropped": sum(1 for c in cells if c["ssim"] is None)}
            if v == "amc-ldpc":
                point[v]["mcs"] = sorted({c.get("mcs", "drop") for c in cells})
                point[v]["segments_failed"] = int(sum(c.get("segments_failed", 0) for c in cells))
                point[v]["segments"] = int(sum(c.get("segments", 0) for c in cells))
                point[v]["link_cpu_s"] = float(np.mean([c.get("link_cpu_s", 0.0) for c in cells]))
        out["points"].append(point)
    return out


def format_summary(s: dict) -> str:
    paper = s["points"][0]["float64"]["symbols"]
    lines = [f"TAEF2 k=0, {s['photos']} photos, SSIM (semcom.metrics.ssim) / latent channel symbols per image; "
             f"clean codec SSIM {s['clean']:.4f} (int8 clean {s['int8_clean']:.4f})",
             "| Es/N0 dB (Eb/N0 16-QAM) | (a) float64 uncoded | (b) int8 uncoded | (c) AMC + LDPC, int8 | AMC MCS | failed segments |",
             "| --- | --- | --- | --- | --- | --- |"]
    for p in s["points"]:
        cells = []
        for v in VARIANTS:
            c = p[v]
            val = "dropped" if c["ssim"] is None else f"{c['ssim']:.4f}"
            cells.append(f"{val} / {c['symbols']:,.0f} ({c['symbols'] / paper:.3f}x)")
        amc = p["amc-ldpc"]
        lines.append(f"| {p['esn0_db']:.2f} ({p['ebn0_db_uncoded_16qam']:g}) | " + " | ".join(cells)
                     + f" | {', '.join(amc['mcs'])} | {amc['segments_failed']}/{amc['segments']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taef2", type=Path, default=DEFAULT_SHARED / "models" / "taef2", help="TAEF2 weights dir")
    parser.add_argument("--images", type=Path, default=DEFAULT_SHARED / "data" / "flickr8k" / "images")
    parser.add_argument("--photos", type=int, default=75, help="first N photos in name order (default all 75)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="directory for photos*.jsonl and summary.json")
    parser.add_argument("--shard", default="0/1", help="I/N: this process does photos i with i %% N == I "
                        "(run N processes on N cores; each writes its own photos-I-of-N.jsonl)")
    args = parser.parse_args(argv)
    try:
        shard, shards = (int(x) for x in args.shard.split("/"))
        if not 0 <= shard < shards:
            raise ValueError
    except ValueError:
        print(f"--shard must be I/N with 0 <= I < N, got {args.shard!r}", file=sys.stderr)
        return 2

    import torch

    from semcom.models import load_profile

    torch.set_num_threads(args.threads)
    esn0_grid = [round(e + 10 * np.log10(4), 2) for e in PAPER_EBN0_DB]
    paths = sorted(args.images.glob("*.jpg"))[: args.photos]
    if not paths:
        print(f"no photos in {args.images}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / ("photos.jsonl" if shards == 1 else f"photos-{shard}-of-{shards}.jsonl")
    rows = [json.loads(line) for f in sorted(args.out.glob("photos*.jsonl")) for line in f.read_text().splitlines()]
    done = {r["photo"] for r in rows}
    models = load_profile({"name": "taef2", "encoder": {"type": "taef2", "name": "taef2", "source": str(args.taef2)}})
    sender, receiver = models.sender(), models.receiver()
    start = time.perf_counter()
    for i, path in enumerate(paths):
        if path.name in done or i % shards != shard:
            continue
        row = _photo_row(path, sender, receiver, esn0_grid, args.seed, i)
        rows.append(row)
        with log.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"[{len(rows)}/{len(paths)}] {path.name} {time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True)
    by_photo = {json.loads(line)["photo"]: json.loads(line)
                for f in sorted(args.out.glob("photos*.jsonl")) for line in f.read_text().splitlines()}
    rows = [by_photo[p.name] for p in paths if p.name in by_photo]
    summary = summarise(rows, esn0_grid)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
