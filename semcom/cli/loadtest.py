"""`semcom loadtest`: drive running services and report latency and throughput.

    semcom loadtest --to 127.0.0.1:50051 --service sender --modes text text+latent auto \\
        --concurrency 1 2 4 8 --requests 20 --duration 30 --snr-db 10 --out loadtest-out

`--service sender` sends images through sender.Transmit (caption, encode, channel, receiver: the
whole pipeline); `--service receiver` sends prepared semantic packets to Reconstruct on a receiver
or on the channel proxy (packets from a sender's Encode with `--encoder`, else encoded in this
process with `--profile`). Every level is bounded by `--requests` AND `--duration`. The target is
whatever you name: HOST:PORT, a DNS name, a comma list of addresses (round_robin over them) or a
gRPC URI (dns:///name:port), over TLS / mutual TLS with the same flags as `semcom send`.
"""

from __future__ import annotations

import argparse
import sys

from semcom.cli.connection import add_tls_arguments, tls_from_args
from semcom.cli.flags import add_snr_argument, positive_float, positive_int  # one argparse check for the CLI
from semcom.models.params import MODES  # the receiver's modes, named once (torch-free)

DEFAULT_CAPTION = "a photo of a scene"  # = semcom.loadtest.packets.DEFAULT_CAPTION (kept import-light)


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """A load sweep's axes: `--modes MODE [MODE ...]` (receiver modes) and `--concurrency N [N ...]`."""
    parser.add_argument(
        "--modes",
        choices=MODES,
        nargs="+",
        default=["text", "text+latent", "auto"],
        help="receiver modes: text, latent, text+latent, auto (default text text+latent auto)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        nargs="+",
        default=[1, 2, 4, 8],
        help="closed-loop levels: requests in flight (default 1 2 4 8)",
    )


def add_load_arguments(p: argparse.ArgumentParser, image_size: int = 256) -> None:
    """Bounds and reconstruction options shared by `semcom loadtest` and `semcom bench`."""
    p.add_argument(
        "--requests",
        type=positive_int,
        default=20,
        help="at most this many requests per level (default 20; always applies)",
    )
    p.add_argument(
        "--duration",
        type=positive_float,
        default=60.0,
        help="no request starts after this many seconds per level (default 60; always applies)",
    )
    p.add_argument(
        "--timeout", type=positive_float, default=120.0, help="deadline of each request in seconds (default 120)"
    )
    p.add_argument("--warmup", type=int, default=1, help="unmeasured requests per mode before each sweep (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr (one per load level)")
    p.add_argument("--images", help="folder of input images (default: synthetic images)")
    p.add_argument(
        "--num-images", type=positive_int, default=4, help="distinct inputs cycled by the requests (default 4)"
    )
    p.add_argument(
        "--image-size",
        type=positive_int,
        default=image_size,
        help=f"side of synthetic images in pixels (default {image_size})",
    )
    p.add_argument("--steps", type=positive_int, help="DDIM schedule length sent to the receiver (default: its own)")
    p.add_argument("--strength", type=float, help="img2img strength sent to the receiver (default: its own)")
    p.add_argument("--seed", type=int, help="diffusion seed of every request (default: request i uses seed i)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "loadtest",
        help="load-test running services (latency percentiles, throughput, errors)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "--to",
        required=True,
        help="the service under test: HOST:PORT, a comma list of addresses, or dns:///NAME:PORT",
    )
    p.add_argument(
        "--service",
        choices=("sender", "receiver"),
        required=True,
        help="sender: Transmit end to end; receiver: Reconstruct on a receiver or the channel proxy",
    )
    add_sweep_arguments(p)
    p.add_argument(
        "--rate",
        type=positive_float,
        nargs="+",
        help="open loop instead: arrival rates in requests/s (in flight <= max concurrency)",
    )
    add_snr_argument(p, "each sent as a per-request override; default: the proxy's own", many=True)
    add_load_arguments(p)
    p.add_argument(
        "--encoder",
        help="receiver service: target of a sender whose Encode prepares the packets "
        "(same forms and TLS flags as --target)",
    )
    p.add_argument(
        "--profile",
        help="receiver service without --encoder: model profile to encode packets locally (default SEMCOM_PROFILE)",
    )
    p.add_argument(
        "--caption",
        default=DEFAULT_CAPTION,
        help="caption for locally encoded packets when the profile has no captioner",
    )
    add_tls_arguments(p.add_argument_group("connection (as for `semcom send`)"), "the target")
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    p.add_argument("--out", help="folder for loadtest.json, loadtest.md and loadtest.png")
    p.set_defaults(func=run)


def progress_printer(args: argparse.Namespace, command: str):
    """The progress callback of `run_load_test`: lines on stderr, None with --no-progress."""
    if args.no_progress:
        return None
    return lambda line: print(f"{command}: {line}", file=sys.stderr, flush=True)


def print_report(args: argparse.Namespace, report) -> None:
    """--out's files (named on stderr), then the report on stdout: JSON with --json, else Markdown tables."""
    from semcom.loadtest.report import markdown_tables, to_json, write_report

    if args.out:
        paths = write_report(report, args.out)
        print("wrote " + ", ".join(str(p) for p in paths.values()), file=sys.stderr)
    print(to_json(report) if args.json else markdown_tables(report))


def build_call_factory(args: argparse.Namespace, channel, images: list[bytes], tls=None):
    """(mode, snr) -> request function for the chosen service."""
    from semcom.loadtest.workloads import ReceiverReconstruct, ReconOptions, SenderTransmit, encode_packets

    options = ReconOptions(steps=args.steps, strength=args.strength, seed=args.seed)
    if args.service == "sender":
        return lambda mode, snr: SenderTransmit(channel, images, mode, snr, options)
    if args.encoder:
        from semcom.loadtest.dial import open_channel
        from semcom.rpc.client import wait_ready

        with open_channel(args.encoder, args.insecure, tls=tls) as encoder:
            wait_ready(encoder, args.encoder)  # UnreachableError within seconds, as for the target
            packets = encode_packets(encoder, images, args.timeout)
    else:
        from semcom.loadtest.packets import local_packets

        packets = local_packets(images, args.profile, args.caption)
    return lambda mode, snr: ReceiverReconstruct(channel, packets, mode, snr, options)


def run(args: argparse.Namespace) -> int:
    from semcom.loadtest.dial import open_channel
    from semcom.loadtest.generator import Bounds
    from semcom.loadtest.images import load_images
    from semcom.loadtest.runner import SweepPlan, run_load_test
    from semcom.rpc.client import UnreachableError, normalise_target, wait_ready

    try:
        target = args.to.strip()
        for name in (args.to, args.encoder):
            if name is not None:
                normalise_target(name)  # ValueError for an empty target
        tls = tls_from_args(args)
        plan = SweepPlan(
            modes=args.modes or [],
            concurrency=args.concurrency,
            rates=args.rate or (),
            snr_dbs=args.snr_db or (None,),
            bounds=Bounds(max_requests=args.requests, duration_s=args.duration, timeout_s=args.timeout),
            warmup=args.warmup,
        )
        images = load_images(args.images, args.num_images, args.image_size)
        channel = open_channel(target, tls=tls)
    except ValueError as exc:  # also unreadable TLS files, an address list of different hosts under TLS
        print(f"semcom loadtest: error: {exc}", file=sys.stderr)
        return 2
    import grpc

    with channel:
        try:  # an unreachable target fails in seconds (as `semcom send`), not after every level's timeouts
            wait_ready(channel, target)
            make_call = build_call_factory(args, channel, images, tls)
        except UnreachableError as exc:
            print(f"semcom loadtest: error: {exc}; nothing was sent, no report written", file=sys.stderr)
            return 1
        except grpc.RpcError as exc:
            print(
                f"semcom loadtest: error: preparing packets at {args.encoder}: {exc.code().name}: {exc.details()}",
                file=sys.stderr,
            )
            return 1
        except ValueError as exc:
            print(f"semcom loadtest: error: preparing packets: {exc}", file=sys.stderr)
            return 2
        report = run_load_test(
            target, args.service, plan, make_call, progress=progress_printer(args, "semcom loadtest")
        )
    print_report(args, report)
    failed = sum(sum(level.errors.values()) for level in report.levels) + sum(report.warmup_errors.values())
    return 1 if failed else 0  # any failed request fails the command (CI-friendly)
