"""`semcom bench`: performance ratios, each measured within one run on this machine.

    semcom bench channel               # our modem vs commpy (= `semcom channel bench`)
    semcom bench pipeline              # three-hop gRPC pipeline vs the same work in process
    semcom bench batching              # receiver throughput, SEMCOM_BATCH_MAX=8 vs 1, concurrency 8
    semcom bench sweep --out DIR       # `semcom loadtest` against freshly started local services
    semcom bench sweep --to dns:///sender.example:50051 --tls-ca ca.crt   # ... or against yours

`pipeline`, `batching` and `sweep` start the real services as local processes on free 127.0.0.1 ports
(`semcom.loadtest.cluster`) and stop them afterwards; `sweep --target` starts nothing and sweeps
the sender you name (any target form and the TLS flags of `semcom send`). See docs/performance.md
for measured numbers.
"""

from __future__ import annotations

import argparse
import json
import sys

from semcom.cli.channel import add_modem_bench_arguments, run_modem_bench
from semcom.cli.connection import add_tls_arguments, tls_from_args
from semcom.cli.flags import add_snr_argument, positive_int
from semcom.cli.loadtest import add_load_arguments, add_sweep_arguments, print_report, progress_printer
from semcom.models.params import MODES  # the receiver's modes, named once (torch-free)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench",
        help="performance ratios: channel vs commpy, gRPC overhead, batching",
        description=__doc__.split("\n\n")[0],
    )
    bench = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)

    ch = bench.add_parser("channel", help="16-QAM + AWGN modem speed vs commpy (runs `semcom channel bench`)")
    add_modem_bench_arguments(ch)
    ch.set_defaults(func=run_modem_bench)

    pl = bench.add_parser("pipeline", help="three-hop gRPC pipeline vs the same work in one process")
    pl.add_argument("--requests", type=positive_int, default=3, help="timed request pairs (default 3)")
    pl.add_argument("--image-size", type=positive_int, default=512, help="encoder input side (default 512)")
    pl.add_argument("--mode", default="text+latent", choices=MODES, help="receiver mode (default text+latent)")
    pl.add_argument(
        "--steps",
        type=positive_int,
        default=10,
        help="DDIM schedule length (default 10, strength 0.6 -> 6 steps; fewer steps make the "
        "overhead look larger, so this is conservative)",
    )
    add_snr_argument(pl, "default 10", 10.0)
    pl.add_argument("--profile", default="tiny")
    pl.add_argument("--timeout", type=float, default=600.0, help="deadline of each request in seconds")
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pl.add_argument("--no-progress", action="store_true", help="no progress lines on stderr (one per request pair)")
    pl.set_defaults(func=run_pipeline)

    bt = bench.add_parser("batching", help="receiver throughput with dynamic batching on vs off")
    bt.add_argument("--concurrency", type=positive_int, default=8, help="requests in flight (default 8)")
    bt.add_argument("--batch-max", type=positive_int, default=8, help="SEMCOM_BATCH_MAX of the batched run (default 8)")
    bt.add_argument(
        "--batch-window-ms",
        type=float,
        default=20.0,
        help="SEMCOM_BATCH_WINDOW_MS (default 20)",
    )
    bt.add_argument("--requests", type=positive_int, default=16, help="requests per run (default 16)")
    bt.add_argument("--duration", type=float, default=120.0, help="no request starts after this many s (default 120)")
    bt.add_argument("--image-size", type=positive_int, default=128, help="encoder input side (default 128)")
    bt.add_argument("--mode", default="text+latent", choices=MODES, help="receiver mode (default text+latent)")
    bt.add_argument("--steps", type=positive_int, default=10, help="DDIM schedule length (default 10)")
    bt.add_argument("--profile", default="tiny")
    bt.add_argument("--timeout", type=float, default=300.0, help="deadline of each request in seconds")
    bt.add_argument("--json", action="store_true", help="machine-readable output")
    bt.add_argument("--no-progress", action="store_true", help="no progress lines on stderr (two per run)")
    bt.set_defaults(func=run_batching)

    sw = bench.add_parser(
        "sweep", help="start sender -> channel -> receiver locally (or take --target) and load-test the sender"
    )
    sw.add_argument(
        "--to",
        help="sweep this running sender instead of starting local services: HOST:PORT, a "
        "comma list of addresses or dns:///NAME:PORT (--profile and --batch-max then do not apply)",
    )
    add_sweep_arguments(sw)
    add_snr_argument(sw, "sent as an override; default 10", 10.0)
    sw.add_argument("--batch-max", type=positive_int, default=1, help="receiver SEMCOM_BATCH_MAX (default 1)")
    sw.add_argument("--profile", default="tiny")
    add_load_arguments(sw, image_size=128)
    sw.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    sw.add_argument("--out", help="folder for loadtest.json, loadtest.md and loadtest.png")
    add_tls_arguments(sw.add_argument_group("connection with --to (as for `semcom send`)"), "the target")
    sw.set_defaults(func=run_sweep)


def run_pipeline(args: argparse.Namespace) -> int:
    from semcom.loadtest.images import load_images
    from semcom.loadtest.overhead import measure_overhead
    from semcom.loadtest.workloads import ReconOptions

    images = load_images(None, min(args.requests, 4), args.image_size)
    result = measure_overhead(
        images,
        requests=args.requests,
        profile=args.profile,
        image_size=args.image_size,
        mode=args.mode,
        snr_db=args.snr_db,
        options=ReconOptions(steps=args.steps),
        timeout_s=args.timeout,
        progress=progress_printer(args, "semcom bench pipeline"),
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(
        f"{args.profile} profile, {result.image_size}x{result.image_size}, mode {result.mode}, "
        f"{result.steps} DDIM steps, {result.requests} interleaved request pairs (medians):"
    )
    print(
        f"  in process (sender + channel + receiver) {result.median_in_process_s:8.3f} s "
        f"(model time {result.median_model_s:.3f} s)"
    )
    print(f"  three-hop gRPC (sender->channel->receiver) {result.median_grpc_s:6.3f} s")
    print(
        f"  overhead (latency - stages timed by the services) {result.overhead_s * 1e3:.1f} ms "
        f"= {result.overhead_ratio:.2%} of work time (target < 5%)"
    )
    print(
        f"  paired difference (gRPC - in process) {result.paired_overhead_s * 1e3:+.1f} ms "
        f"= {result.paired_overhead_ratio:+.2%} of in-process model time (noisy on a shared CPU)"
    )
    stages = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in result.grpc_stages.items())
    print(f"  stages reported over gRPC: {stages}")
    return 0


def run_batching(args: argparse.Namespace) -> int:
    from semcom.loadtest.batching import compare_batching
    from semcom.loadtest.generator import Bounds
    from semcom.loadtest.images import load_images
    from semcom.loadtest.packets import local_packets
    from semcom.loadtest.workloads import ReconOptions

    try:
        bounds = Bounds(max_requests=args.requests, duration_s=args.duration, timeout_s=args.timeout)
    except ValueError as exc:
        print(f"semcom bench batching: {exc}", file=sys.stderr)
        return 2
    packets = local_packets(load_images(None, 4, args.image_size), args.profile, size=args.image_size)
    result = compare_batching(
        packets,
        profile=args.profile,
        image_size=args.image_size,
        concurrency=args.concurrency,
        batch_max=args.batch_max,
        bounds=bounds,
        mode=args.mode,
        options=ReconOptions(steps=args.steps),
        window_ms=args.batch_window_ms,
        progress=progress_printer(args, "semcom bench batching"),
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return 0
    print(
        f"receiver, {args.profile} profile, {args.image_size}x{args.image_size}, mode {result.mode}, "
        f"{args.steps} DDIM steps, concurrency {result.concurrency}:"
    )
    for name, level in (
        ("SEMCOM_BATCH_MAX=1", result.unbatched),
        (f"SEMCOM_BATCH_MAX={result.batch_max}", result.batched),
    ):
        print(
            f"  {name:<20} {level.throughput_rps:6.3f} req/s  p50 {level.latency.p50:7.3f} s  "
            f"p95 {level.latency.p95:7.3f} s  ok {level.completed}/{level.issued}  errors {level.errors or 0}"
        )
    print(f"  batched / unbatched throughput: {result.throughput_ratio:.2f}x")
    if result.cpu_ratio is not None:
        print(
            f"  receiver CPU per request: {result.unbatched_cpu_s:.3f} s unbatched, {result.batched_cpu_s:.3f} s "
            f"batched -> batching needs {result.cpu_ratio:.2f}x less CPU per request"
        )
    print(
        f"  identical PNGs: {result.identical}/{result.compared}"
        + (f" (differ: {result.differing})" if result.differing else "")
    )
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    """`semcom loadtest --service sender` against a local pipeline started (and stopped) here, or
    against `--target`."""
    from semcom.loadtest.cluster import LocalServices
    from semcom.loadtest.dial import open_channel
    from semcom.loadtest.generator import Bounds
    from semcom.loadtest.images import load_images
    from semcom.loadtest.runner import SweepPlan, run_load_test
    from semcom.loadtest.workloads import ReconOptions, SenderTransmit
    from semcom.rpc.client import UnreachableError, wait_ready

    try:
        plan = SweepPlan(
            modes=args.modes or [],
            concurrency=args.concurrency,
            snr_dbs=[args.snr_db],
            warmup=args.warmup,
            bounds=Bounds(max_requests=args.requests, duration_s=args.duration, timeout_s=args.timeout),
        )
        images = load_images(args.images, args.num_images, args.image_size)
        remote = open_channel(args.to.strip(), tls=tls_from_args(args)) if args.to else None
    except ValueError as exc:  # also unreadable TLS files, an address list of different hosts under TLS
        print(f"semcom bench sweep: {exc}", file=sys.stderr)
        return 2
    options = ReconOptions(steps=args.steps, strength=args.strength, seed=args.seed)
    if remote is not None:
        with remote:
            try:  # an unreachable sender fails in seconds, as for `semcom loadtest` and `semcom send`
                wait_ready(remote, args.to.strip())
            except UnreachableError as exc:
                print(f"semcom bench sweep: error: {exc}; nothing was sent, no report written", file=sys.stderr)
                return 1
            report = run_load_test(
                args.to.strip(),
                "sender",
                plan,
                lambda mode, snr: SenderTransmit(remote, images, mode, snr, options),
                progress=progress_printer(args, "semcom bench sweep"),
            )
        report.plan.update(image_size=args.image_size, steps=args.steps)
    else:
        env = {"SEMCOM_BATCH_MAX": str(args.batch_max)}
        with LocalServices(profile=args.profile, image_size=args.image_size, receiver_env=env) as pipe:
            with open_channel(pipe.sender, insecure=True) as channel:
                report = run_load_test(
                    pipe.sender,
                    "sender",
                    plan,
                    lambda mode, snr: SenderTransmit(channel, images, mode, snr, options),
                    cpu_probe=lambda: {role: svc.cpu_seconds() for role, svc in pipe.services.items()},
                    progress=progress_printer(args, "semcom bench sweep"),
                )
        report.plan.update(profile=args.profile, image_size=args.image_size, steps=args.steps, batch_max=args.batch_max)
    print_report(args, report)
    return 1 if any(level.errors for level in report.levels) else 0
