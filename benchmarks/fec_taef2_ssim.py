"""SSIM and channel symbols per image: uncoded float64 (the paper), uncoded compact int8 encodings,
and AMC with 5G LDPC, on real photos through the real TAEF2 codec at k = 0 (the autoencoder as
transceiver), sent through the shared pipeline (`semcom.pipeline.Pipeline`: `send`, `link`,
`receive`, as `semcom transmit` and the services run them).

    .venv/bin/python benchmarks/fec_taef2_ssim.py --photos 12 --out docs/results/fec_ssim/awgn
    .venv/bin/python benchmarks/fec_taef2_ssim.py --photos 12 --channel rayleigh --esn0-db 12 15 18 21 24 27 \\
        --variants float64 int8g-smmse int8g-soft amc-ldpc --out docs/results/fec_ssim/rayleigh

SNR grid: the paper's 5, 6.25, 7.5, 8.75, 10 dB Eb/N0 for uncoded 16-QAM, stated per channel use:
Es/N0 = Eb/N0 + 6.02 dB = 11.02 ... 16.02 dB. The same physical channel (same Es/N0) carries
  float64      the paper's float64 latent, uncoded 16-QAM (our receiver sanitises, never draws at random);
  int8         int8 per-channel latent, uncoded 16-QAM, plain decoding;
  int8g-smmse  the project's best uncoded compact latent (docs/evaluation.md): Gray int8, per-channel
               range at the 99.9th percentile, uncoded 16-QAM, received with the receiver's
               `latent_repair="smmse"` (the spatial-MMSE dequantiser; it reads the link's bit error
               rates from the channel's report, as receiver_service does);
  int8g-soft   the same packet and the same channel noise as int8g-smmse, received with the soft
               repair `semcom.link.repair` "soft": the spatial MMSE fed with each bit's LLR from the
               link (`Pipeline.link(..., soft=True)`) instead of the channel's average bit error
               rates, handed to `Pipeline.receive` as the evaluation-only treatment
               `LatentTreatment("soft", llr=...)` (the services carry bits, not LLRs);
  amc-ldpc     the int8 per-channel latent with `fec=ldpc, mcs=auto, latent_policy=amc`: the link
               drops the latent when no MCS carries it within its airtime budget, and the receiver
               keeps decoded values as decoded (docs/fec.md, "Erasures").
Channel symbols are the latent's (the caption is empty: the k = 0 decoder ignores it).
`--channel rayleigh` puts every variant on Rayleigh block fading (one gain per 128 symbols, perfect
CSI, Es/N0 = average SNR): AMC then reads the BLER table's fading curves, and sMMSE the fading
link's measured bit error rates. SSIM is `semcom.metrics.ssim` against the 512x512 Lanczos-resized
photo; "clean" is the float64 latent decoded without a channel.

Seeds: photo i (the i-th in name order) is sent with `RoleSeeds.derive(seed, i)` (its posterior
sample, shared by its encodings); grid point j's channel noise is `RoleSeeds.derive(seed, i, j).channel`
for every variant (common random numbers: variants at one point see the same noise stream).

Photos are the first N in name order. Results go to <out>/records*.jsonl, one line per
(photo, variant), so an interrupted run resumes where it stopped, `--variants` computes a subset,
and `--shard I/N` splits the photos over N processes; the summary (stdout and <out>/summary.json,
with the command, settings and host) covers every record done so far.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # benchmarks/artefact.py (tests/integration/benchmarks is a package too)
DEFAULT_SHARED = REPO.parent / "shared"
TAEF2_DIR = REPO / "semcom" / "models" / "weights" / "taef2"  # the packaged weights
PAPER_EBN0_DB = (5.0, 6.25, 7.5, 8.75, 10.0)
PAPER_ESN0_DB = [round(e + 10 * np.log10(4), 2) for e in PAPER_EBN0_DB]  # the same grid per 16-QAM symbol
VARIANTS = ("float64", "int8", "int8g-smmse", "int8g-soft", "amc-ldpc")
SEED_SCHEME = "RoleSeeds.derive(seed, photo); channel RoleSeeds.derive(seed, photo, point)"
LABELS = {
    "float64": "float64 uncoded",
    "int8": "int8 uncoded",
    "int8g-smmse": "int8g + sMMSE uncoded",
    "int8g-soft": "int8g + soft sMMSE uncoded",
    "amc-ldpc": "AMC + LDPC, int8",
}


def latent_specs() -> dict[str, object]:
    """The sender's latent encoding of each variant (`semcom.pipeline.LatentSpec`)."""
    from semcom.pipeline import LatentSpec

    f64 = LatentSpec("float64", size=512)
    int8 = LatentSpec("int8", per_channel=True, size=512)
    int8g = LatentSpec("int8g", per_channel=True, percentile=99.9, size=512)
    return {"float64": f64, "int8": int8, "int8g-smmse": int8g, "int8g-soft": int8g, "amc-ldpc": int8}


class Photo:
    """One photo's reference image, seeds and sent packets (one per latent encoding), shared by its
    variants."""

    def __init__(self, path: Path, pipe, seed: int, index: int) -> None:
        from PIL import Image

        from semcom.pipeline import RoleSeeds

        with Image.open(path) as opened:
            self.image = opened.convert("RGB")
        self.ref = np.asarray(self.image.resize((512, 512), Image.Resampling.LANCZOS), dtype=np.float64) / 255
        self.pipe, self.seed, self.index = pipe, seed, index
        self.seeds = RoleSeeds.derive(seed, index)
        self._sent: dict[object, object] = {}

    def sent(self, spec):
        """The packet the sender puts on the channel for latent encoding `spec` (encoded once)."""
        from semcom.pipeline import TransmissionRequest

        if spec not in self._sent:
            request = TransmissionRequest(self.image, decode_only(), latent=spec, caption="", seeds=self.seeds)
            self._sent[spec] = self.pipe.send(request)[0]
        return self._sent[spec]

    def score(self, packet, params=None, report=None, treatment=None) -> float:
        from semcom.metrics.ssim import ssim

        image = self.pipe.receive(packet, params or decode_only(), report, treatment).image
        return ssim(self.ref, np.asarray(image, dtype=np.float64) / 255)

    def channel_seed(self, point: int) -> int:
        from semcom.pipeline import RoleSeeds

        seed = RoleSeeds.derive(self.seed, self.index, point).channel
        assert seed is not None
        return seed


def decode_only(repair: str = "none"):
    """The k = 0 reconstruction: the latent decoded, no diffusion."""
    from semcom.models import ReconParams

    return ReconParams(mode="latent", strength=0.0, latent_repair=repair)


def run_variant(photo: Photo, variant: str, esn0_grid: list[float], model: str = "awgn") -> list[dict]:
    """The variant's result at every grid point: ssim, symbols and link details."""
    from semcom.link.types import ChannelConfig
    from semcom.models import LatentTreatment

    packet = photo.sent(latent_specs()[variant])
    coded = variant == "amc-ldpc"
    link = {"fec": "ldpc", "mcs": "auto", "latent_policy": "amc"} if coded else {"latent_policy": "always"}
    points = []
    for j, esn0 in enumerate(esn0_grid):
        cfg = ChannelConfig(snr_db=esn0, snr_convention="esn0", modulation="16qam", model=model, **link)
        soft = variant == "int8g-soft"
        t0, c0 = time.perf_counter(), time.process_time()
        received, report, field = photo.pipe.link(packet, cfg, photo.channel_seed(j), soft=soft)
        link_wall, link_cpu = time.perf_counter() - t0, time.process_time() - c0
        if report.latent_dropped:
            points.append({"ssim": None, "symbols": 0, "dropped": report.drop_reason})
            continue
        # soft: an evaluation-only receiver treatment, the link's LLRs never leave the process
        treatment = LatentTreatment("soft", llr=field.llr) if soft and field is not None else None
        params = decode_only("smmse" if variant == "int8g-smmse" else "none")
        ssim = photo.score(received, params, report, treatment)
        point = {"ssim": ssim, "symbols": report.latent.symbols, "bit_errors": report.latent.bit_errors}
        if coded:
            point |= {
                "mcs": report.latent.mcs,
                "segments": report.latent.segments,
                "segments_failed": report.latent.segments_failed,
                "link_wall_s": round(link_wall, 2),
                "link_cpu_s": round(link_cpu, 2),
            }
        points.append(point)
    return points


def load_records(out: Path) -> dict[tuple[str, str], dict]:
    """(photo, variant) -> record, from every records*.jsonl in `out`."""
    records = {}
    for f in sorted(out.glob("records*.jsonl")):
        for line in f.read_text().splitlines():
            r = json.loads(line)
            records[(r["photo"], r["variant"])] = r
    return records


def summarise(records: dict[tuple[str, str], dict], photos: list[str], esn0_grid: list[float]) -> dict:
    """Mean SSIM and symbols per variant and SNR, over the photos that have that variant."""
    clean = [records[(p, "clean")]["ssim"] for p in photos if (p, "clean") in records]
    out: dict = {"clean": float(np.mean(clean)) if clean else None, "clean_photos": len(clean), "variants": {}}
    for v in VARIANTS:
        rows = [records[(p, v)] for p in photos if (p, v) in records]
        if not rows:
            continue
        points = []
        for j, esn0 in enumerate(esn0_grid):
            cells = [r["points"][j] for r in rows]
            scored = [c["ssim"] for c in cells if c["ssim"] is not None]
            point = {
                "esn0_db": esn0,
                "ebn0_db_uncoded_16qam": round(esn0 - 10 * np.log10(4), 2),
                "ssim": float(np.mean(scored)) if scored else None,
                "symbols": float(np.mean([c["symbols"] for c in cells])),
                "dropped": sum(1 for c in cells if c["ssim"] is None),
            }
            if v == "amc-ldpc":
                point["mcs"] = sorted({c.get("mcs", "drop") for c in cells})
                point["segments_failed"] = int(sum(c.get("segments_failed", 0) for c in cells))
                point["segments"] = int(sum(c.get("segments", 0) for c in cells))
                point["link_cpu_s"] = float(np.mean([c.get("link_cpu_s", 0.0) for c in cells]))
            points.append(point)
        out["variants"][v] = {"photos": len(rows), "points": points}
    out["soft_vs_smmse"] = paired(records, photos, esn0_grid, "int8g-soft", "int8g-smmse")
    return out


def paired(records: dict, photos: list[str], esn0_grid: list[float], a: str, b: str) -> list[dict] | None:
    """Per grid point, over the photos that have both variants: mean SSIM of a minus b with its 95%
    t-interval half-width and the number of photos where a scores higher (same packets and noise:
    a paired comparison)."""
    from semcom.eval.aggregate import summarize

    both = [p for p in photos if (p, a) in records and (p, b) in records]
    if not both:
        return None
    rows = []
    for j, esn0 in enumerate(esn0_grid):
        diffs = [
            records[(p, a)]["points"][j]["ssim"] - records[(p, b)]["points"][j]["ssim"]
            for p in both
            if records[(p, a)]["points"][j]["ssim"] is not None and records[(p, b)]["points"][j]["ssim"] is not None
        ]
        stat = summarize(diffs)
        rows.append(
            {
                "esn0_db": esn0,
                "photos": len(diffs),
                "mean_diff": stat.mean if diffs else None,
                "ci95": None if not np.isfinite(stat.ci95) else stat.ci95,
                "wins": sum(1 for d in diffs if d > 0),
            }
        )
    return rows


def format_summary(s: dict, channel: str = "awgn") -> str:
    variants = list(s["variants"])
    paper = 16 * 32 * 64 * 64  # float64 latent bits / 4 bits per 16-QAM symbol
    lines = [
        f"TAEF2 k=0, {channel}; SSIM (semcom.metrics.ssim) / latent channel symbols per image (x the paper's {paper:,}); "
        f"clean codec SSIM {s['clean']:.4f} ({s['clean_photos']} photos)",
        "| Es/N0 dB (Eb/N0 16-QAM) | "
        + " | ".join(f"{LABELS[v]} ({s['variants'][v]['photos']} photos)" for v in variants)
        + " |",
        "|" + " --- |" * (len(variants) + 1),
    ]
    for j in range(len(s["variants"][variants[0]]["points"])):
        first = s["variants"][variants[0]]["points"][j]
        cells = []
        for v in variants:
            c = s["variants"][v]["points"][j]
            val = "dropped" if c["ssim"] is None else f"{c['ssim']:.4f}"
            extra = (
                f", {', '.join(c['mcs'])}, {c['segments_failed']}/{c['segments']} segments failed" if "mcs" in c else ""
            )
            cells.append(f"{val} / {c['symbols']:,.0f} ({c['symbols'] / paper:.3f}x){extra}")
        lines.append(f"| {first['esn0_db']:.2f} ({first['ebn0_db_uncoded_16qam']:g}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _variant(text: str) -> str:
    if text.strip() not in VARIANTS:
        raise argparse.ArgumentTypeError(f"expected one of {' '.join(VARIANTS)}, got {text!r}")
    return text.strip()


def _esn0(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of dB, got {text!r}") from None
    if not -20 <= value <= 60:
        raise argparse.ArgumentTypeError(f"expected an Es/N0 in [-20, 60] dB, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taef2", type=Path, default=TAEF2_DIR, help="TAEF2 weights dir")
    parser.add_argument("--images", type=Path, default=DEFAULT_SHARED / "data" / "flickr8k" / "images")
    parser.add_argument("--photos", type=int, default=75, help="first N photos in name order (default all 75)")
    parser.add_argument(
        "--variants",
        type=_variant,
        nargs="+",
        default=list(VARIANTS),
        help=f"a subset of {' '.join(VARIANTS)} (default all)",
    )
    parser.add_argument(
        "--channel",
        choices=("awgn", "rayleigh"),
        default="awgn",
        help="channel of every variant (rayleigh: block fading, 128 symbols per gain)",
    )
    parser.add_argument(
        "--esn0-db",
        type=_esn0,
        nargs="+",
        default=None,
        help="Es/N0 grid in dB (default: the paper's Eb/N0 grid for 16-QAM, 11.02..16.02)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="directory for records*.jsonl and summary.json")
    parser.add_argument(
        "--shard",
        default="0/1",
        help="I/N: this process does photos i with i %% N == I "
        "(run N processes on N cores; each writes its own records-I-of-N.jsonl)",
    )
    args = parser.parse_args(argv)
    try:
        shard, shards = (int(x) for x in args.shard.split("/"))
        if not 0 <= shard < shards:
            raise ValueError
    except ValueError:
        print(f"--shard must be I/N with 0 <= I < N, got {args.shard!r}", file=sys.stderr)
        return 2
    variants = list(dict.fromkeys(args.variants))

    import torch
    from artefact import host, provenance, script_command

    from semcom.pipeline import Pipeline

    torch.set_num_threads(args.threads)
    esn0_grid = PAPER_ESN0_DB if args.esn0_db is None else args.esn0_db
    paths = sorted(args.images.glob("*.jpg"))[: args.photos]
    if not paths:
        print(f"no photos in {args.images}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    setup = {"channel": args.channel, "esn0_db": esn0_grid, "seed": args.seed, "seeds": SEED_SCHEME}
    setup_file = args.out / "setup.json"
    recorded = json.loads(setup_file.read_text()) if setup_file.exists() else None
    if (recorded is None and load_records(args.out)) or (recorded is not None and recorded != setup):
        print(f"{args.out} holds records of another setup ({recorded}); use another --out", file=sys.stderr)
        return 2
    setup_file.write_text(json.dumps(setup) + "\n")
    log = args.out / ("records.jsonl" if shards == 1 else f"records-{shard}-of-{shards}.jsonl")
    done = set(load_records(args.out))
    host_at_start = host()
    pipe = Pipeline.from_profile(
        {"name": "taef2", "encoder": {"type": "taef2", "name": "taef2", "source": str(args.taef2)}}
    )
    start = time.perf_counter()
    for i, path in enumerate(paths):
        todo = [v for v in ["clean", *variants] if (path.name, v) not in done]
        if i % shards != shard or not todo:
            continue
        photo = Photo(path, pipe, args.seed, i)
        for v in todo:
            record = {"photo": path.name, "variant": v}
            if v == "clean":
                record["ssim"] = photo.score(photo.sent(latent_specs()["float64"]))
            else:
                record["points"] = run_variant(photo, v, esn0_grid, args.channel)
            with log.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
        print(f"[{i + 1}/{len(paths)}] {path.name} {time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True)
    summary = summarise(load_records(args.out), [p.name for p in paths], esn0_grid)
    settings = {**setup, "photos": [p.name for p in paths], "variants": variants, "threads": args.threads}
    command = script_command("fec_taef2_ssim.py", sys.argv[1:] if argv is None else argv)
    (args.out / "summary.json").write_text(
        json.dumps({**provenance(command, settings, host_at_start), **summary}, indent=2) + "\n"
    )
    print(format_summary(summary, args.channel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
