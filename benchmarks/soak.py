"""Soak and chaos run of the three services on loopback (issue 22): slots, back-pressure, memory.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/soak.py --seconds 180 --refused 30000 \
        --out docs/results/soak/soak.json

Starts receiver <- channel <- sender as real processes (tiny profile, 64 px images, one torch
thread each, plaintext on 127.0.0.1, Prometheus /metrics on loopback) and runs two phases.

1. Mixed traffic with chaos, for `--seconds`: `--clients` threads (more than the sender admits)
   each open Transmit streams of `--images` images, one after the other, of three kinds picked at
   random: normal (60 s deadline), cancelled by the client after 0.05-1 s, and with a deadline too
   short for the stream (0.1-0.6 s). A refused stream (RESOURCE_EXHAUSTED) waits the server's retry
   hint. At 1/4 of the run the receiver is SIGSTOPped for `--stop-s` seconds, then SIGCONTed; at
   2/3 the channel is SIGKILLed and started again on its port. A prober asks every service for
   readiness and liveness every 200 ms.
0. Burst: 8 clients each send one 3-image stream at once; each completes or is refused before
   its first image, none fails part-way.
2. Refused requests: the sender's SEMCOM_MAX_WORKERS slots are held by open streams, then
   `--refused` Transmit and Encode calls are refused at its front door; the sender's RSS is
   sampled every 1,000 to tell warm-up from a leak (slope of the last half, MiB per 10,000).

Checks (the JSON's "checks", all must hold): every service's in-flight gauge returns to 0 after
each phase and no slot was reclaimed by the audit (`semcom_rpc_slots_reclaimed_total` 0); no
normal stream that got a first result failed part-way, except while a hop was stopped or killed
(those are counted apart); every completed stream got each of its images exactly once, in order;
liveness never said NOT_SERVING; while the receiver was stopped its probe did not answer SERVING;
after the chaos a normal stream completes. Bounded: every call has a deadline, every loop ends,
the processes are stopped whatever happens.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import grpc
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from semcom.loadtest.cluster import LocalServices  # noqa: E402
from semcom.rpc.client import health_status  # noqa: E402
from semcom.rpc.retry import retry_pushback_s  # noqa: E402
from semcom.rpc.tls import TlsConfig  # noqa: E402
from semcom.v1 import sender_pb2, sender_pb2_grpc  # noqa: E402

PLAIN = TlsConfig(insecure=True)
ROLES = ("sender", "channel", "receiver")


def image_bytes(seed: int) -> bytes:
    rng = random.Random(seed)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3))).save(buffer, "PNG")
    return buffer.getvalue()


def metric(url: str, name: str) -> float:
    """The sum of a metric's samples at a /metrics endpoint (NaN when unreachable)."""
    try:
        text = urllib.request.urlopen(url, timeout=2).read().decode()
    except OSError:
        return float("nan")
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.eE+-]+)$", re.M)
    return sum(float(m.group(2)) for m in pattern.finditer(text))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Chaos:
    """Which hop is disturbed now (for classifying failures), and the disturbance log."""

    def __init__(self) -> None:
        self.windows: list[tuple[str, float, float]] = []  # (what, start, end) in monotonic seconds
        self.lock = threading.Lock()

    def begin(self, what: str) -> float:
        """A disturbance starts now (open-ended until `end`); returns the time."""
        now = time.monotonic()
        with self.lock:
            self.windows.append((what, now, float("inf")))
        return now

    def end(self) -> None:
        with self.lock:
            what, start, _ = self.windows[-1]
            self.windows[-1] = (what, start, time.monotonic())

    def during(self, t0: float, t1: float) -> bool:
        with self.lock:
            return any(start - 1.0 <= t1 and t0 <= end + 12.0 for _, start, end in self.windows)


def restart(pipe: LocalServices, role: str) -> float:
    """SIGKILL `role` and start it again on the same port; returns seconds until SERVING."""
    service = pipe.services[role]
    service.kill()
    t0 = time.monotonic()
    service.start().wait_serving(120)
    return time.monotonic() - t0


def mixed_phase(pipe: LocalServices, args: argparse.Namespace, chaos: Chaos) -> dict:
    stop = threading.Event()
    lock = threading.Lock()
    streams: Counter = Counter()
    problems: list[str] = []
    health: dict[str, Counter] = {role: Counter() for role in ROLES}
    stopped_receiver_serving = Counter()
    receiver_stopped = threading.Event()
    channel = grpc.insecure_channel(pipe.sender)
    stub = sender_pb2_grpc.SenderServiceStub(channel)
    images = [image_bytes(i) for i in range(8)]
    t_start = time.monotonic()

    def one_stream(rng: random.Random, index: int) -> None:
        kind = rng.choice(("normal", "normal", "cancelled", "deadline"))
        ids = [f"{index}-{j}" for j in range(args.images)]
        requests = [sender_pb2.ImageRequest(request_id=i, image=images[rng.randrange(8)]) for i in ids]
        timeout = 60.0 if kind != "deadline" else rng.uniform(0.1, 0.6)
        call = stub.Transmit(iter(requests), timeout=timeout)
        if kind == "cancelled":
            threading.Timer(rng.uniform(0.05, 1.0), call.cancel).start()
        got: list[str] = []
        t0 = time.monotonic()
        code = grpc.StatusCode.OK
        details = ""
        try:
            for result in call:
                got.append(result.request_id)
        except grpc.RpcError as exc:
            code, details = exc.code(), str(exc.details())[:160]
            if code == grpc.StatusCode.RESOURCE_EXHAUSTED and not got:
                hint = retry_pushback_s(exc)
                stop.wait(hint if hint and hint > 0 else 0.5)
        t1 = time.monotonic()
        when = f"[{t0 - t_start:.1f}-{t1 - t_start:.1f} s] "
        with lock:
            streams[f"{kind}:{code.name}"] += 1
            if got != ids[: len(got)] or len(set(got)) != len(got):
                problems.append(when + f"stream {index}: results {got} for {ids} (lost, duplicated or out of order)")
            if code == grpc.StatusCode.OK and got != ids:
                problems.append(when + f"stream {index}: completed with {got} for {ids}")
            if kind == "normal" and code != grpc.StatusCode.OK and got:
                if chaos.during(t0, t1):
                    streams["normal:part-way during chaos"] += 1
                else:
                    problems.append(
                        when + f"stream {index}: normal stream failed part-way with {code.name} after {got}: {details}"
                    )
            refused_or_ok = code in (grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED)
            if kind == "normal" and not refused_or_ok and not got and not chaos.during(t0, t1):
                problems.append(
                    when + f"stream {index}: normal stream failed with {code.name} before any result: {details}"
                )

    def client(seed: int) -> None:
        rng = random.Random(seed)
        index = 0
        while not stop.is_set():
            index += 1
            one_stream(rng, seed * 1_000_000 + index)

    def prober() -> None:
        while not stop.is_set():
            for role in ROLES:
                address = pipe.address(role)
                for probe in ("", "liveness"):
                    status = health_status(address, service=probe, tls=PLAIN, timeout=1.0)
                    health[role][f"{probe or 'readiness'}:{status}"] += 1
                    if role == "receiver" and receiver_stopped.is_set():
                        stopped_receiver_serving[status] += 1
            stop.wait(0.2)

    threads = [threading.Thread(target=client, args=(i + 1,), daemon=True) for i in range(args.clients)]
    threads.append(threading.Thread(target=prober, daemon=True))
    for thread in threads:
        thread.start()
    events = []
    stop.wait(args.seconds / 4)
    receiver = pipe.services["receiver"].proc
    t_stop = chaos.begin("SIGSTOP receiver")
    receiver.send_signal(signal.SIGSTOP)
    receiver_stopped.set()
    time.sleep(args.stop_s)
    receiver_stopped.clear()
    receiver.send_signal(signal.SIGCONT)
    chaos.end()
    events.append({"at_s": round(t_stop - t_start, 1), "what": f"SIGSTOP receiver for {args.stop_s:g} s"})
    stop.wait(max(t_start + args.seconds * 2 / 3 - time.monotonic(), 0))
    t_kill = chaos.begin("SIGKILL channel")
    back_s = restart(pipe, "channel")
    chaos.end()
    events.append({"at_s": round(t_kill - t_start, 1), "what": f"SIGKILL channel, SERVING again after {back_s:.1f} s"})
    stop.wait(max(t_start + args.seconds - time.monotonic(), 0))
    stop.set()
    for thread in threads:
        thread.join(90)
    after = list(stub.Transmit(iter([sender_pb2.ImageRequest(request_id="after", image=images[0])]), timeout=60))
    channel.close()
    return {
        "seconds": round(time.monotonic() - t_start, 1),
        "streams": dict(sorted(streams.items())),
        "problems": problems[:20],
        "problem_count": len(problems),
        "health": {role: dict(sorted(c.items())) for role, c in health.items()},
        "receiver_probe_while_stopped": dict(stopped_receiver_serving),
        "events": events,
        "stream_after_chaos": [r.request_id for r in after],
    }


def burst_phase(pipe: LocalServices, clients: int = 8, images: int = 3) -> dict:
    """The issue's scenario: `clients` clients each send one `images`-image stream at once."""
    channel = grpc.insecure_channel(pipe.sender)
    stub = sender_pb2_grpc.SenderServiceStub(channel)
    image = image_bytes(1)
    barrier = threading.Barrier(clients)
    outcomes: list[tuple[int, str]] = [(0, "")] * clients

    def one(i: int) -> None:
        requests = [sender_pb2.ImageRequest(request_id=f"b{i}-{j}", image=image) for j in range(images)]
        got = 0
        barrier.wait(30)
        try:
            for _ in stub.Transmit(iter(requests), timeout=120):
                got += 1
            outcomes[i] = (got, "OK")
        except grpc.RpcError as exc:
            outcomes[i] = (got, exc.code().name)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    channel.close()
    return {
        "outcomes": [{"results": got, "code": code} for got, code in outcomes],
        "completed": sum(code == "OK" and got == images for got, code in outcomes),
        "refused_before_first": sum(code != "OK" and got == 0 for got, code in outcomes),
        "failed_part_way": sum(code != "OK" and got > 0 for got, code in outcomes),
    }


def gauges(pipe: LocalServices, within_s: float = 30.0) -> dict:
    """Waits (bounded) for every in-flight gauge to reach 0; returns the final values."""
    deadline = time.monotonic() + within_s
    while True:
        values = {r: metric(pipe.services[r].metrics_url, "semcom_rpc_in_flight") for r in ROLES}
        if all(v == 0 for v in values.values()) or time.monotonic() > deadline:
            reclaimed = {r: metric(pipe.services[r].metrics_url, "semcom_rpc_slots_reclaimed_total") for r in ROLES}
            return {"in_flight": values, "slots_reclaimed": reclaimed}
        time.sleep(0.25)


def refused_phase(pipe: LocalServices, args: argparse.Namespace) -> dict:
    channel = grpc.insecure_channel(pipe.sender)
    stub = sender_pb2_grpc.SenderServiceStub(channel)
    image = image_bytes(0)
    release = threading.Event()
    held = []
    workers = int(pipe.env.get("SEMCOM_MAX_WORKERS", "8"))

    def holding(i: int):
        yield sender_pb2.ImageRequest(request_id=f"hold-{i}", image=image)
        release.wait(600)

    for i in range(workers):  # each stream holds a slot: one result, then waits for its next request
        call = stub.Transmit(holding(i), timeout=900)
        next(call)
        held.append(call)
    pid = pipe.services["sender"].proc.pid
    samples = [(0, rss_mib(pid))]
    codes: Counter = Counter()
    t0 = time.monotonic()
    for n in range(1, args.refused + 1):
        try:
            if n % 2:
                stub.Encode(sender_pb2.ImageRequest(request_id=f"r{n}", image=image), timeout=10)
            else:
                list(stub.Transmit(iter([sender_pb2.ImageRequest(request_id=f"r{n}", image=image)]), timeout=10))
            codes["OK"] += 1
        except grpc.RpcError as exc:
            codes[exc.code().name] += 1
        if n % 1000 == 0:
            samples.append((n, rss_mib(pid)))
    seconds = time.monotonic() - t0
    release.set()
    for call in held:
        try:
            list(call)
        except grpc.RpcError:
            pass
    channel.close()
    half = [s for s in samples if s[0] >= args.refused // 2]
    slope = (half[-1][1] - half[0][1]) / max(half[-1][0] - half[0][0], 1) * 10_000 if len(half) > 1 else 0.0
    return {
        "requests": args.refused,
        "seconds": round(seconds, 1),
        "codes": dict(codes),
        "rss_mib": [[n, round(r, 1)] for n, r in samples],
        "growth_mib": round(samples[-1][1] - samples[0][1], 1),
        "slope_last_half_mib_per_10k": round(slope, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the mixed phase")
    parser.add_argument("--clients", type=int, default=12, help="client threads (the sender admits 8)")
    parser.add_argument("--images", type=int, default=3, help="images per stream")
    parser.add_argument("--stop-s", type=float, default=10.0, help="how long the receiver is SIGSTOPped")
    parser.add_argument("--refused", type=int, default=30_000, help="refused requests in phase 2")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    args = parser.parse_args()
    env = {"SEMCOM_TORCH_THREADS": "1", "SEMCOM_MAX_WORKERS": "8", "SEMCOM_STREAM_IDLE_S": "900"}
    chaos = Chaos()
    with LocalServices(profile="tiny", image_size=64, env=env, metrics=True, stop_grace_s=5.0) as pipe:
        burst = burst_phase(pipe)
        mixed = mixed_phase(pipe, args, chaos)
        mixed["gauges_after"] = gauges(pipe)
        refused = refused_phase(pipe, args)
        refused["gauges_after"] = gauges(pipe)
        logs = {r: pipe.services[r].log_tail(4000) for r in ROLES}
    cleanup_errors = sum(log.count("already executing") + log.count("cleanup failed") for log in logs.values())
    checks = {
        "burst_none_failed_part_way": burst["failed_part_way"] == 0,
        "gauges_zero": all(v == 0 for phase in (mixed, refused) for v in phase["gauges_after"]["in_flight"].values()),
        "no_slot_reclaimed": all(
            v == 0 for phase in (mixed, refused) for v in phase["gauges_after"]["slots_reclaimed"].values()
        ),
        "nothing_lost_duplicated_or_failed_part_way": mixed["problem_count"] == 0,
        "liveness_never_not_serving": all("liveness:NOT_SERVING" not in counts for counts in mixed["health"].values()),
        "stopped_receiver_never_said_serving": "SERVING" not in mixed["receiver_probe_while_stopped"],
        "normal_stream_after_chaos": mixed["stream_after_chaos"] == ["after"],
        "no_cleanup_error_logged": cleanup_errors == 0,
    }
    report = {
        "command": "PYTHONPATH=$PWD .venv/bin/python benchmarks/soak.py " + " ".join(sys.argv[1:]),
        "settings": {**env, "profile": "tiny", "image_size": 64, **vars(args), "out": str(args.out)},
        "burst": burst,
        "mixed": mixed,
        "refused": refused,
        "checks": checks,
        "passed": all(checks.values()),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    sys.exit(0 if report["passed"] else 1)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
