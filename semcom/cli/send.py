"""`semcom send IMAGE_OR_DIR... --to HOST:PORT`: stream images through a running sender.

Each image goes sender -> channel proxy -> receiver (SenderService.Transmit); every
reconstruction is written to --out as NNNN_<name>.png, with report.json listing every image with
its final status (ok, or failed with the gRPC code) and, for each ok one, the caption as sent and
as received, the channel report (bit errors, symbols, whether the latent was dropped), the
receiver's mode/steps/seed and every stage's timing. Channel flags given here override the proxy's
configuration for these images only.

Nothing is lost to a transient failure: after UNAVAILABLE or RESOURCE_EXHAUSTED the images without
a result are sent again in a new stream (exponential backoff with jitter, at least the server's
retry hint; --attempts in a row, --retry-max-s without progress, all within --deadline-s). An image
is *complete* when its output file and then its record (.semcom-send/NNNN.json, holding the
output's SHA-256) have both been written, each atomically (temporary file + rename); --resume skips
complete images of an earlier run of the same batch into the same --out. No report is written when
no image got an answer (nothing was sent).

    semcom send photo.jpg pics/ --to 127.0.0.1:50051 --snr-db 7.5 --mode text+latent --out out/ --insecure
    semcom send pics/ --to 127.0.0.1:50051 --out out/ --insecure --resume    # after an interruption
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from semcom.cli.connection import add_tls_arguments
from semcom.cli.flags import (
    add_channel_arguments,
    add_documented_parser,
    add_latent_arguments,
    add_snr_argument,
    positive_float,
    positive_int,
)
from semcom.models.params import LATENT_REPAIRS, MODES  # the receiver's vocabularies, named once (torch-free)

if TYPE_CHECKING:
    import grpc

    from semcom.rpc.retry import Outcome, RetryPolicy
    from semcom.rpc.tls import TlsConfig
    from semcom.v1.sender_pb2 import ImageRequest, TransmitResult

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def register(sub: argparse._SubParsersAction) -> None:
    p = add_documented_parser(
        sub, "send", "stream images through a running sender and save the reconstructions", __doc__
    )
    p.add_argument("images", nargs="*", help="image files or directories of images")
    p.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="also send N generated pictures (smooth random colours; no files needed)",
    )
    p.add_argument("--to", required=True, help="the sender: HOST:PORT (or a comma list / dns:/// target)")
    p.add_argument("--out", default="semcom-out", help="output directory (default semcom-out)")
    p.add_argument("--json", action="store_true", help="print the report JSON to stdout instead of a line per image")
    r = p.add_argument_group("reconstruction")
    r.add_argument("--mode", choices=MODES, default="auto", help="receiver mode (default auto)")
    r.add_argument("--steps", type=int, help="DDIM schedule length (receiver default 50)")
    r.add_argument("--strength", type=float, help="img2img strength (receiver default 0.6)")
    r.add_argument("--guidance", type=float, help="guidance scale (receiver default 9)")
    r.add_argument(
        "--seed",
        type=int,
        help="user seed: image i gets independent sender, channel and receiver seeds "
        "derived from (seed, i), as `semcom transmit` does (docs/pipeline.md)",
    )
    r.add_argument("--adaptive-strength", action="store_true", help="map the reported SNR to the strength")
    r.add_argument("--caption", help="send this caption instead of the sender's own")
    add_latent_arguments(r, unset="the sender's SEMCOM_LATENT_ENCODING")
    r.add_argument(
        "--latent-repair",
        choices=LATENT_REPAIRS,
        help="receiver treatment of an int latent on an uncoded link (default: the receiver's)",
    )
    r.add_argument("--format", choices=("png", "jpeg"), default="png", help="reconstruction file format")
    c = p.add_argument_group("channel overrides (default: the proxy's configuration)")
    add_snr_argument(c, "default: the channel proxy's")
    add_channel_arguments(c, unset="default: the channel proxy's")
    c.add_argument("--channel-seed", type=int)
    t = p.add_argument_group("connection")
    t.add_argument(
        "--deadline-s", type=positive_float, help="deadline for the whole batch, retries included (SEMCOM_DEADLINE_S)"
    )
    t.add_argument(
        "--attempts",
        type=positive_int,
        help="stream attempts in a row that may fail transiently (SEMCOM_SEND_ATTEMPTS; 1 = no retry)",
    )
    t.add_argument(
        "--retry-max-s",
        type=positive_float,
        help="stop retrying after this many seconds without a delivered image (SEMCOM_SEND_RETRY_MAX_S)",
    )
    t.add_argument(
        "--stream-images",
        type=positive_int,
        help="most images per Transmit stream; a larger batch goes as several (SEMCOM_SEND_STREAM_IMAGES)",
    )
    t.add_argument(
        "--resume",
        action="store_true",
        help="skip images already complete in --out from an earlier run of the same batch",
    )
    add_tls_arguments(t, "the sender")
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
    """A ChannelConfig message with only the fields given on the command line (None if none): an
    override of the proxy's configuration."""
    from semcom.cli.flags import channel_flags
    from semcom.rpc.convert import channel_message

    msg = channel_message(**channel_flags(args), seed=args.channel_seed)
    return msg if msg.ListFields() else None


_UINT64_FIELDS = {"bits", "info_bits", "bit_errors", "symbols", "total_symbols", "seed", "analog_symbols"}


def report_dict(report) -> dict:
    """A TransmissionReport as JSON-ready dict; 64-bit counters as numbers (proto JSON writes strings)."""
    from google.protobuf.json_format import MessageToDict

    def fix(node):
        if isinstance(node, dict):
            return {k: int(v) if k in _UINT64_FIELDS and isinstance(v, str) else fix(v) for k, v in node.items()}
        return node

    from semcom.rpc.convert import report_from_proto

    out = fix(MessageToDict(report, preserving_proto_field_name=True, always_print_fields_with_no_presence=True))
    out["snr_note"] = report_from_proto(report).snr_note if report.HasField("channel") else ""
    return out


def result_record(result, source: str, output: Path) -> dict:
    """One image's entry of report.json."""
    from semcom.rpc.convert import mode_label, repair_label

    report = report_dict(result.report)

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
        "report": report,
        "snr_note": report["snr_note"],
        "timings": dict(sorted(result.timings.items())),
    }


RECORDS = ".semcom-send"  # per-image completion records, and the batch's options
BATCH_FILE = "batch.json"
RETRY_CODES = ("UNAVAILABLE", "RESOURCE_EXHAUSTED")
# Flags that change what an image's output is: a resumed batch must have the same ones.
_OPTION_FLAGS = (
    "caption",
    "encoding",
    "mode",
    "steps",
    "strength",
    "guidance",
    "seed",
    "adaptive_strength",
    "per_channel",
    "clip_percentile",
    "latent_repair",
    "format",
    "snr_db",
    "snr_convention",
    "modulation",
    "channel_model",
    "fading_block_length",
    "latent_policy",
    "drop_threshold_db",
    "fec",
    "mcs",
    "channel_seed",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that `path` is either absent/old or complete, never partial."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Batch:
    """The output folder of one batch: outputs, completion records, report.

    `images` are (name, bytes); image i is complete when RECORDS/NNNN.json exists, names the same
    input (SHA-256), status ok, and its output file exists with the SHA-256 the record holds.
    """

    def __init__(self, out: Path, images: list[tuple[str, bytes]], options: dict, fmt: str) -> None:
        self.out = out
        self.records_dir = out / RECORDS
        self.images = images
        self.options = options
        self.suffix = "jpg" if fmt == "jpeg" else "png"
        self.records: dict[int, dict] = {}
        self._prepared = False

    def output_path(self, i: int) -> Path:
        return self.out / f"{i:04d}_{self.images[i][0]}.{self.suffix}"

    def record_path(self, i: int) -> Path:
        return self.records_dir / f"{i:04d}.json"

    def load_complete(self) -> dict[int, dict]:
        """--resume: the complete images of an earlier run (ValueError when its options differ)."""
        try:
            earlier = json.loads((self.records_dir / BATCH_FILE).read_text())
        except (OSError, ValueError):
            return {}
        before = earlier.get("options", {})  # an option it does not name was not given (None)
        changed = sorted(k for k in before.keys() | self.options.keys() if before.get(k) != self.options.get(k))
        if changed:
            raise ValueError(
                f"--resume: {self.out} holds a batch sent with other options ({', '.join(changed)}); "
                "use another --out, or drop --resume to send everything again"
            )
        complete = {}
        for i, (_name, data) in enumerate(self.images):
            try:
                record = json.loads(self.record_path(i).read_text())
                output = self.output_path(i)  # by name: --out may be given relative to another folder now
                if (
                    record.get("status") == "ok"
                    and record.get("input_sha256") == sha256(data)
                    and Path(record["output"]).name == output.name
                    and sha256(output.read_bytes()) == record["output_sha256"]
                ):
                    record["output"] = str(output)
                    complete[i] = record
            except (OSError, ValueError, KeyError, TypeError):
                continue
        self.records.update(complete)
        self._prepared = bool(complete)
        return complete

    def _prepare(self, resume: bool) -> None:
        """Before the first write: the folder, a fresh record set unless resuming, the options."""
        if self._prepared:
            return
        self.records_dir.mkdir(parents=True, exist_ok=True)
        if not resume:
            for old in self.records_dir.glob("*.json"):
                old.unlink()
        write_atomic(self.records_dir / BATCH_FILE, json.dumps({"options": self.options}, indent=2).encode())
        self._prepared = True

    def complete(self, i: int, result, resume: bool) -> dict:
        """Write image i's output, then its record: both atomic, in this order."""
        self._prepare(resume)
        output = self.output_path(i)
        data = result.reconstruction.data
        write_atomic(output, data)
        record = {
            "index": i,
            "status": "ok",
            **result_record(result, self.images[i][0], output),
            "input_sha256": sha256(self.images[i][1]),
            "output_sha256": sha256(data),
        }
        write_atomic(self.record_path(i), json.dumps(record, indent=2).encode())
        self.records[i] = record
        return record

    def write_report(self, target: str, failures: dict[int, dict], resumed: int, resume: bool) -> dict:
        self._prepare(resume)
        entries = []
        for i, (name, _data) in enumerate(self.images):
            if i in self.records:
                entries.append(self.records[i])
            else:
                entries.append(
                    {
                        "index": i,
                        "image": name,
                        "status": "failed",
                        **failures.get(i, {"code": "UNKNOWN", "message": "no result"}),
                    }
                )
        ok = sum(e["status"] == "ok" for e in entries)
        report = {"target": target, "images": entries, "ok": ok, "failed": len(entries) - ok, "resumed": resumed}
        write_atomic(self.out / "report.json", json.dumps(report, indent=2).encode())
        return report


def _print_result(record: dict) -> None:
    rep = record["report"]
    latent = (
        f"analog latent in {rep['latent']['analog_symbols']} symbols at Es/N0 {rep['esn0_db']:.2f} dB"
        if rep.get("latent_analog")
        else f"latent bit errors {rep['latent']['bit_errors']}"
    )
    print(
        f"{record['image']}: {record['mode_used']}, {record['steps_executed']} steps, "
        f"caption {record['caption_received']!r}, {latent}{' (dropped)' if rep['latent_dropped'] else ''}, "
        f"{record['timings'].get('total', 0):.2f} s -> {record['output']}",
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    try:
        send = _Send.from_args(args)
    except (ValueError, OSError) as exc:
        return _error(str(exc), 2)
    complete = send.complete
    todo = [r for i, r in enumerate(send.requests) if i not in complete]
    if complete and not args.json:
        print(f"resuming: {len(complete)} of {len(send.images)} images already complete in {args.out}", flush=True)
    outcomes: dict[str, Outcome] = {}
    if todo:
        from semcom.rpc.client import UnreachableError

        try:
            outcomes = _transmit(args, send, todo)
        except UnreachableError as exc:
            return _error(f"{exc}; nothing was sent, no report written", 1)
        except (ValueError, OSError) as exc:  # TLS files, address lists under TLS, no connection, a write failing
            return _error(str(exc), 2 if isinstance(exc, ValueError) else 1)
    failures = {  # image index -> how its request failed (its report entry), for the requests without a result
        int(rid): {"code": o.code, "message": o.message, "attempts": o.attempts}
        for rid, o in outcomes.items()
        if not o.ok
    }
    answered = len(complete) + _answered(outcomes)
    for i, failure in sorted(failures.items()):
        print(f"semcom send: {send.images[i][0]}: failed {failure['code']}: {failure['message']}", file=sys.stderr)
    if not answered:
        return _error(f"nothing was delivered to or answered by {args.to}; no report written", 1)
    report = send.batch.write_report(args.to, failures, len(complete), args.resume)
    _print_report(report, send, args.json)
    return 1 if report["failed"] else 0


def _error(message: str, code: int) -> int:
    print(f"semcom send: error: {message}", file=sys.stderr)
    return code


@dataclass(frozen=True)
class _Send:
    """One `semcom send` batch as the command line describes it, before anything is sent."""

    images: list[tuple[str, bytes]]  # (name, encoded bytes)
    requests: list[ImageRequest]  # request i carries image i, request_id f"{i:04d}"
    tls: TlsConfig
    policy: RetryPolicy
    stream_images: int  # at most this many images per stream
    batch: Batch
    complete: dict[int, dict]  # --resume: images complete in an earlier run

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> _Send:
        """ValueError / OSError for bad flags, unreadable images or an --out that cannot be resumed."""
        from semcom import config
        from semcom.cli.connection import tls_from_args
        from semcom.rpc.client import image_request
        from semcom.rpc.retry import RetryPolicy

        images = collect_images(args.images, args.synthetic)
        channel = channel_override(args)
        requests = [
            image_request(
                data,
                request_id=f"{i:04d}",
                caption=args.caption,
                latent_encoding=args.encoding,
                mode=args.mode,
                steps=args.steps,
                strength=args.strength,
                guidance_scale=args.guidance,
                seed=args.seed,
                index=i,
                adaptive_strength=args.adaptive_strength or None,
                output_format=args.format,
                channel=channel,
                per_channel=args.per_channel,
                clip_percentile=args.clip_percentile,
                latent_repair=args.latent_repair,
            )
            for i, (_name, data) in enumerate(images)
        ]
        tls = tls_from_args(args)
        policy = RetryPolicy.from_settings(attempts=args.attempts, max_s=args.retry_max_s)
        stream_images = args.stream_images or config.get("SEMCOM_SEND_STREAM_IMAGES")
        if stream_images < 1:
            raise ValueError(f"SEMCOM_SEND_STREAM_IMAGES must be >= 1, got {stream_images}")
        batch = Batch(Path(args.out), images, {flag: getattr(args, flag) for flag in _OPTION_FLAGS}, args.format)
        complete = batch.load_complete() if args.resume else {}
        return cls(images, requests, tls, policy, stream_images, batch, complete)


def _transmit(args: argparse.Namespace, send: _Send, todo: list[ImageRequest]) -> dict[str, Outcome]:
    """Send `todo` to --to, completing each image in the batch folder as its result arrives."""
    from semcom.rpc.client import SenderClient, wait_ready
    from semcom.rpc.retry import transmit_all

    def delivered(result: TransmitResult) -> None:
        record = send.batch.complete(int(result.request_id), result, args.resume)
        if not args.json:
            _print_result(record)

    def retrying(exc: grpc.RpcError, delay: float, left: int) -> None:
        print(
            f"semcom send: {exc.code().name}: {exc.details()}; sending the {left} images left again in {delay:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    with SenderClient(args.to, tls=send.tls, deadline_s=args.deadline_s, retry_codes=RETRY_CODES) as client:
        wait_ready(client.channel, client.target)  # UnreachableError (an OSError) within seconds for a wrong address
        return transmit_all(
            client, todo, policy=send.policy, on_result=delivered, on_retry=retrying, stream_images=send.stream_images
        )


def _print_report(report: dict, send: _Send, as_json: bool) -> None:
    """The report itself (--json), else one line: how many images are ok, where the report is."""
    if as_json:
        print(json.dumps(report, indent=2))
        return
    complete = send.complete
    print(
        f"{report['ok']}/{len(send.images)} images ok"
        + (f", {len(complete)} from an earlier run" if complete else "")
        + f", report: {send.batch.out / 'report.json'}"
    )


def _answered(outcomes: dict[str, Outcome]) -> int:
    """How many of these requests the service delivered or answered with a status about that image
    (not one about the stream: those images may never have reached it)."""
    from semcom.rpc.retry import STREAM_CODES

    unanswered = set(RETRY_CODES) | {c.name for c in STREAM_CODES}  # about the stream, not about one image
    return sum(o.ok or o.code not in unanswered for o in outcomes.values())
