"""Overload scenario (issue 12): the three services on loopback, the receiver saturated.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/overload.py --seconds 20 --json docs/results/overload/overload.json

Starts receiver <- channel <- sender as real processes (tiny profile, 64x64 images, one torch
thread each, plaintext on 127.0.0.1), then for `--seconds`:

* 4 x the receiver's worker capacity (SEMCOM_MAX_WORKERS, `--workers`) in active
  ReconstructStream streams straight to the receiver, each sending its next packet as soon as the
  previous answer arrives; a stream refused with RESOURCE_EXHAUSTED waits the server's
  ``grpc-retry-pushback-ms`` hint and opens again;
* `--idle` (28) idle streams to the receiver: opened, never send anything, reopened as soon as
  the server ends them (SEMCOM_STREAM_IDLE_S = `--stream-idle-s` on the receiver); refused ones
  wait the retry hint, as the active ones do;
* a health Check ("" = readiness) on every service every 100 ms;
* halfway through, one normal request: a Transmit through the sender (three hops), and one
  Reconstruct straight to the receiver.

Reports per service the health Check latency p50/p99 and the statuses answered, the normal
requests' status and latency, every status code counted per kind of call, and each service's
peak RSS (VmHWM from /proc). Everything is bounded: every call has a deadline, every loop ends at
the end of the run, the processes are stopped (SIGTERM, then SIGKILL) whatever happens.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/artefact.py
from semcom.loadtest.cluster import LocalService  # the one launcher of the services as local processes

REPO = Path(__file__).resolve().parents[1]


# Every service: loopback, tiny profile, one torch thread, warnings only (semcom.loadtest.cluster.LocalService
# is the one launcher; these are this benchmark's settings).
BASE_ENV = {
    "SEMCOM_HOST": "127.0.0.1",
    "SEMCOM_PROFILE": "tiny",
    "SEMCOM_IMAGE_SIZE": "64",
    "SEMCOM_TORCH_THREADS": "1",
    "SEMCOM_INSECURE": "true",
    "SEMCOM_METRICS_PORT": "0",
    "SEMCOM_SHUTDOWN_GRACE_S": "2",
    "SEMCOM_LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


def service(role: str, logs: Path, env: dict[str, str], args: list[str]) -> LocalService:
    return LocalService(role, logs, args=args, env={**BASE_ENV, **env}, cwd=REPO).start()


def packet_request(request_id: str, steps: int):
    from semcom.payload.latent import encode_latent
    from semcom.payload.packet import SemanticPacket
    from semcom.rpc import convert
    from semcom.v1 import receiver_pb2

    latent = np.random.default_rng(0).normal(size=(4, 8, 8))
    packet = SemanticPacket(
        caption=b"a dog runs on the grass", latent=encode_latent(latent, "float16"), coded_size=(64, 64)
    )
    return receiver_pb2.ReconstructRequest(
        request_id=request_id,
        packet=convert.packet_to_proto(packet),
        params=receiver_pb2.ReconstructionParams(mode=receiver_pb2.MODE_TEXT_LATENT, num_inference_steps=steps, seed=1),
    )


def pushback_ms(exc: grpc.RpcError, default: int = 500) -> int:
    for item in exc.trailing_metadata() or ():
        if item.key == "grpc-retry-pushback-ms":
            try:
                return max(int(item.value), 0)
            except ValueError:
                return default
    return default


def timed_call(call: Callable[[], Any], summary: Callable[[Any], dict] = lambda reply: {}) -> dict:
    """A call's code ("OK") and seconds with `summary(reply)`, or the failed call's code, seconds,
    details and pushback."""
    t0 = time.monotonic()
    try:
        reply = call()
    except grpc.RpcError as exc:
        return {
            "code": exc.code().name,
            "seconds": time.monotonic() - t0,
            "details": exc.details(),
            "pushback_ms": pushback_ms(exc, -1),
        }
    return {"code": "OK", "seconds": time.monotonic() - t0, **summary(reply)}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the overload (default 20)")
    parser.add_argument("--workers", type=int, default=4, help="receiver SEMCOM_MAX_WORKERS (default 4)")
    parser.add_argument("--idle", type=int, default=28, help="idle streams (default 28)")
    parser.add_argument("--steps", type=int, default=10, help="DDIM steps per active request (default 10)")
    parser.add_argument("--stream-idle-s", type=float, default=5.0, help="receiver SEMCOM_STREAM_IDLE_S (default 5)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from artefact import host, provenance, script_command, write_json
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from PIL import Image

    from semcom.rpc.client import image_request
    from semcom.v1 import receiver_pb2_grpc, sender_pb2_grpc

    host_at_start = host()
    logs = Path(tempfile.mkdtemp(prefix="semcom-overload-"))
    receiver = service(
        "receiver", logs, {"SEMCOM_MAX_WORKERS": str(args.workers), "SEMCOM_STREAM_IDLE_S": str(args.stream_idle_s)}, []
    )
    channel = service("channel", logs, {}, ["--upstream", receiver.target])
    sender = service("sender", logs, {}, ["--upstream", channel.target])
    services = [receiver, channel, sender]
    codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    lock = threading.Lock()

    def count(kind: str, code: grpc.StatusCode | str) -> None:
        with lock:
            codes[kind][code if isinstance(code, str) else code.name] += 1

    try:
        for started in services:
            started.wait_serving(300)
        stop = threading.Event()
        end = time.monotonic() + args.seconds
        link = grpc.insecure_channel(receiver.target)
        stub = receiver_pb2_grpc.ReceiverServiceStub(link)
        items_done = [0]

        def active(index: int) -> None:
            while not stop.is_set():
                requests: queue.Queue = queue.Queue()
                requests.put(packet_request(f"a{index}", args.steps))

                def feed():
                    while True:
                        item = requests.get()
                        if item is None:
                            return
                        yield item

                try:
                    for _reply in stub.ReconstructStream(feed(), timeout=max(end - time.monotonic(), 0.1) + 30):
                        with lock:
                            items_done[0] += 1
                        requests.put(None if stop.is_set() else packet_request(f"a{index}", args.steps))
                    count("active stream", grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    count("active stream", exc.code())
                    requests.put(None)
                    if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                        stop.wait(pushback_ms(exc) / 1000)
                    elif not stop.is_set():
                        stop.wait(0.2)

        def idle(_index: int) -> None:
            while not stop.is_set():
                release = threading.Event()

                def nothing():
                    while not (release.is_set() or stop.is_set()):
                        time.sleep(0.05)
                    return
                    yield  # unreachable: a stream that never sends

                try:
                    list(stub.ReconstructStream(nothing(), timeout=max(end - time.monotonic(), 0.1) + 5))
                    count("idle stream", grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    count("idle stream", exc.code())
                    if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                        stop.wait(pushback_ms(exc) / 1000)  # refused: as polite as the active clients
                finally:
                    release.set()
                stop.wait(0.05)  # closed for idling: open the next idle stream at once

        checks: dict[str, list[float]] = {s.role: [] for s in services}
        answers: dict[str, collections.Counter] = {s.role: collections.Counter() for s in services}

        def prober(service: LocalService) -> None:
            probe_link = grpc.insecure_channel(service.target)
            health = health_pb2_grpc.HealthStub(probe_link)
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    answers[service.role][health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)] += 1
                    count("health Check", grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    answers[service.role][exc.code().name] += 1
                    count("health Check", exc.code())
                checks[service.role].append(time.monotonic() - t0)
                stop.wait(0.1)
            probe_link.close()

        normal: dict[str, dict] = {}

        def normal_requests() -> None:
            stop.wait(args.seconds / 2)
            buffer = io.BytesIO()
            Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
            with grpc.insecure_channel(sender.target) as sender_link:
                transmit = sender_pb2_grpc.SenderServiceStub(sender_link).Transmit
                request = image_request(buffer.getvalue(), caption="a normal request", steps=args.steps)
                normal["Transmit via sender"] = timed_call(
                    lambda: list(transmit(iter([request]), timeout=60)), lambda replies: {"images": len(replies)}
                )
            count("normal request", normal["Transmit via sender"]["code"])
            normal["Reconstruct at receiver"] = timed_call(
                lambda: stub.Reconstruct(packet_request("normal", args.steps), timeout=60)
            )
            count("normal request", normal["Reconstruct at receiver"]["code"])

        threads = [threading.Thread(target=idle, args=(i,), daemon=True) for i in range(args.idle)]
        threads += [threading.Thread(target=active, args=(i,), daemon=True) for i in range(4 * args.workers)]
        threads += [threading.Thread(target=prober, args=(s,), daemon=True) for s in services]
        threads += [threading.Thread(target=normal_requests, daemon=True)]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(60)
        link.close()
        result: dict[str, Any] = {
            "settings": {
                "receiver_workers": args.workers,
                "active_streams": 4 * args.workers,
                "idle_streams": args.idle,
                "seconds": args.seconds,
                "steps": args.steps,
                "stream_idle_s": args.stream_idle_s,
            },
            "health_check_ms": {
                role: {
                    "n": len(v),
                    "p50": percentile(v, 50) * 1e3,
                    "p99": percentile(v, 99) * 1e3,
                    "max": max(v) * 1e3 if v else float("nan"),
                    "answers": dict(answers[role]),
                }
                for role, v in checks.items()
            },
            "normal_requests": normal,
            "active_items_served": items_done[0],
            "status_codes": {kind: dict(counter) for kind, counter in sorted(codes.items())},
            "peak_rss_mib": {s.role: round(s.peak_rss_mib(), 1) for s in services},
            "still_alive_threads": sum(t.is_alive() for t in threads),
        }
    finally:
        for started in services:
            started.stop(grace=15)
    print(json.dumps(result, indent=2))
    if args.json:
        command = script_command("overload.py", sys.argv[1:] if argv is None else argv)
        write_json(args.json, {**provenance(command, result.pop("settings"), host_at_start), **result})
    print(f"service logs: {logs}", file=sys.stderr)


if __name__ == "__main__":
    main()
