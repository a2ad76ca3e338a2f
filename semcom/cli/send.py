"""`semcom send IMAGE_OR_DIR... --to HOST:PORT`: stream images through a running sender.

Each image goes sender -> channel proxy -> receiver (SenderService.Transmit); every
reconstruction is written to --out as NNNN_<name>.png, with report.json holding, per image, the
caption as sent and as received, the channel report (bit errors, symbols, whether the latent was
dropped), the receiver's mode/steps/seed and every stage's timing. Channel flags given here
override the proxy's configuration for these images only.

    semcom send photo.jpg pics/ --to 127.0.0.1:50051 --snr-db 7.5 --mode text+latent --out out/ --insecure
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from semcom.cli.loadtest import _positive_int  # one argparse check for the CLI

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
MODES = ("auto", "text", "latent", "text+latent")


def _mode(text: str) -> str:
    value = text.replace("_", "+").lower()
    if value not in MODES:
        raise argparse.ArgumentTypeError(f"mode must be one of {', '.join(MODES)}, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send", help="stream images through a running sender and save the reconstructions",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="*", help="image files or directories of images")
    p.add_argument("--synthetic", type=int, default=0, metavar="N",
                   help="also send N generated pictures (smooth random colours; no files needed)")
    p.add_argument("--to", required=True, help="the sender: HOST:PORT (or a comma list / dns:/// target)")
    p.add_argument("--out", default="semcom-out", help="output directory (default semcom-out)")
    p.add_argument("--json", action="store_true", help="print the report JSON to stdout instead of a line per image")
    r = p.add_argument_group("reconstruction")
    r.add_argument("--mode", type=_mode, default="auto", help="auto | text | latent | text+latent (default auto)")
    r.add_argument("--steps", type=int, help="DDIM schedule length (receiver default 50)")
    r.add_argument("--strength", type=float, help="img2img strength (receiver default 0.6)")
    r.add_argument("--guidance", type=float, help="guidance scale (receiver default 9)")
    r.add_argument("--seed", type=int, help="user seed: image i gets independent sender, channel and receiver seeds "
                   "derived from (seed, i), as `semcom transmit` does (docs/pipeline.md)")
    r.add_argument("--adaptive-strength", action="store_true", help="map the reported SNR to the strength")
    r.add_argument("--caption", help="send this caption instead of the sender's own")
    r.add_argument("--encoding", default=None, help="latent encoding on the wire (default: the sender's SEMCOM_LATENT_ENCODING)")
    r.add_argument("--per-channel", action="store_true", help="int encodings: one clipping range per latent channel")
    r.add_argument("--clip-percentile", type=float,
                   help="int encodings: clip at the (100-p, p) percentiles, e.g. 99.9 (default min/max)")
    r.add_argument("--latent-repair", choices=("none", "mmse", "smmse"),
                   help="receiver treatment of an int latent on an uncoded link (default: the receiver's)")
    r.add_argument("--format", choices=("png", "jpeg"), default="png", help="reconstruction file format")
    c = p.add_argument_group("channel overrides (default: the proxy's configuration)")
    c.add_argument("--snr-db", type=float)
    c.add_argument("--snr-convention", choices=("ebn0", "esn0"))
    c.add_argument("--modulation", choices=("bpsk", "qpsk", "16qam", "64qam", "256qam"))
    c.add_argument("--channel-model", choices=("awgn", "rayleigh", "bsc", "none"))
    c.add_argument("--fading-block-length", type=_positive_int, help="rayleigh: channel symbols per fading gain")
    c.add_argument("--latent-policy", choices=("auto", "always", "threshold", "never", "amc"))
    c.add_argument("--channel-seed", type=int)
    t = p.add_argument_group("connection")
    t.add_argument("--deadline-s", type=float, help="deadline for the whole stream (SEMCOM_DEADLINE_S)")
    t.add_argument("--insecure", action="store_true", default=None, help="plaintext, no TLS (SEMCOM_INSECURE)")
    t.add_argument("--tls-cert", help="client certificate (SEMCOM_TLS_CERT)")
    t.add_argument("--tls-key", help="client key (SEMCOM_TLS_KEY)")
    t.add_argument("--tls-ca", help="CA bundle to verify the sender (SEMCOM_TLS_CA)")
    t.add_argument("--tls-server-name", help="name in the sender's certificate (SEMCOM_TLS_SERVER_NAME)")
    p.set_defaults(func=run)


def collect_images(paths: list[str], synthetic: int = 0) -> list[tuple[str, bytes]]:
    """(name, bytes): files as given, directories expanded to their image files (sorted), then
    `synthetic` generated pictures. ValueError if there is nothing to send."""
    from semcom.loadtest.images import synthetic_png

    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"no such file or directory: {text}")
    images = [(p.stem, p.read_bytes()) for p in found]
    images += [(f"synthetic_{i}", synthetic_png(256, seed=i)) for i in range(synthetic)]
    if not images:
        where = ", ".join(paths) or "(no paths)"
        raise ValueError(f"nothing to send in {where}: give image files, directories or --synthetic N")
    return images


def channel_override(args: argparse.Namespace):
    """A ChannelConfig message with only the fields given on the command line (None if none)."""
    from semcom.rpc import convert
    from semcom.v1 import channel_pb2

    msg = channel_pb2.ChannelConfig()
    given = False
    if args.snr_db is not None:
        msg.snr_db, given = args.snr_db, True
    for flag, field, table in (
        ("snr_convention", "snr_convention", convert.SNR_CONVENTIONS),
        ("modulation", "modulation", convert.MODULATIONS),
        ("channel_model", "model", convert.CHANNEL_MODELS),
        ("latent_policy", "latent_policy", convert.LATENT_POLICIES),
    ):
        value = getattr(args, flag)
        if value is not None:
            setattr(msg, field, table[value])
            given = True
    if args.channel_seed is not None:
        msg.seed, given = args.channel_seed, True
    if args.fading_block_length is not None:
        msg.fading_block_length, given = args.fading_block_length, True
    return msg if given else None


_UINT64_FIELDS = {"bits", "info_bits", "bit_errors", "symbols", "total_symbols", "seed"}


def report_dict(report) -> dict:
    """A TransmissionReport as JSON-ready dict; 64-bit counters as numbers (proto JSON writes strings)."""
    from google.protobuf.json_format import MessageToDict

    def fix(node):
        if isinstance(node, dict):
            return {k: int(v) if k in _UINT64_FIELDS and isinstance(v, str) else fix(v) for k, v in node.items()}
        return node

    return fix(MessageToDict(report, preserving_proto_field_name=True, always_print_fields_with_no_presence=True))


def result_record(result, source: str, output: Path) -> dict:
    """One image's entry of report.json."""
    from semcom.rpc.convert import mode_label, repair_label

    return {
        "image": source,
        "output": str(output),
        "request_id": result.request_id,
        "caption_sent": result.caption_sent.decode("ascii", "replace"),
        "caption_received": result.caption_received.decode("ascii", "replace"),
        "mode_used": mode_label(result.mode_used),
        "steps_executed": result.steps_executed,
        "seed": result.seed,
        "strength_used": round(result.strength_used, 6),
        "latent_repair_used": repair_label(result.latent_repair_used),
        "size": [result.reconstruction.width, result.reconstruction.height],
        "report": report_dict(result.report),
        "timings": dict(sorted(result.timings.items())),
    }


def run(args: argparse.Namespace) -> int:
    import grpc

    from semcom.rpc.client import SenderClient, image_request
    from semcom.rpc.tls import TlsConfig

    try:
        images = collect_images(args.images, args.synthetic)
        channel = channel_override(args)
        requests = [
            image_request(
                data, request_id=f"{i:04d}", caption=args.caption, latent_encoding=args.encoding, mode=args.mode,
                steps=args.steps, strength=args.strength, guidance_scale=args.guidance,
                seed=args.seed, index=i, adaptive_strength=args.adaptive_strength or None,
                output_format=args.format, channel=channel, per_channel=args.per_channel,
                clip_percentile=args.clip_percentile, latent_repair=args.latent_repair,
            )
            for i, (_name, data) in enumerate(images)
        ]
        tls = TlsConfig.from_settings(insecure=args.insecure, cert=args.tls_cert, key=args.tls_key, ca=args.tls_ca,
                                      server_name=args.tls_server_name)
    except (ValueError, OSError) as exc:
        print(f"semcom send: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    status = 0
    with SenderClient(args.to, tls=tls, deadline_s=args.deadline_s) as client:
        try:
            for i, result in enumerate(client.transmit(requests)):
                name = images[i][0]
                target = out / f"{i:04d}_{name}.{'jpg' if args.format == 'jpeg' else 'png'}"
                target.write_bytes(result.reconstruction.data)
                record = result_record(result, name, target)
                records.append(record)
                if not args.json:
                    rep = record["report"]
                    print(f"{name}: {record['mode_used']}, {record['steps_executed']} steps, "
                          f"caption {record['caption_received']!r}, latent bit errors "
                          f"{rep['latent']['bit_errors']}{' (dropped)' if rep['latent_dropped'] else ''}, "
                          f"{record['timings'].get('total', 0):.2f} s -> {target}")
        except grpc.RpcError as exc:
            print(f"semcom send: {exc.code().name}: {exc.details()} (after {len(records)} of {len(images)} images)",
                  file=sys.stderr)
            status = 1
    report = {"target": args.to, "images": records, "failed": len(images) - len(records)}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(records)}/{len(images)} images, report: {out / 'report.json'}")
    return status
