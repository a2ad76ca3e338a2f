"""Load drivers: closed loop (fixed concurrency) and open loop (fixed arrival rate).

A driver calls a `RequestFn` (one request, e.g. a gRPC Reconstruct, see `semcom.loadtest.workloads`)
many times from worker threads and records one `Sample` per request. Every run is bounded twice,
always: by a request count AND by a duration after which no new request starts; each request also
carries a deadline, so a run lasts at most `duration_s + timeout_s` whatever the server does.

Closed loop: `concurrency` workers each send a request, wait for its answer, and send the next;
the offered load adapts to the server (the classic "N users" model). Open loop: requests are
released on a fixed schedule (`rate` per second) whatever the answers do, and latency is measured
from the scheduled release time, so time spent queued behind a slow server counts (no coordinated
omission); `max_in_flight` worker threads bound what is outstanding on the wire.

gRPC failures are recorded by status code name; a `ResponseError` raised by the workload (an OK
answer that is not a valid result, e.g. no image) is recorded as "BAD_RESPONSE". Any other
exception is a bug in the client and propagates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from semcom.loadtest.stats import OK, Sample

log = logging.getLogger(__name__)

BAD_RESPONSE = "BAD_RESPONSE"
# Added to a response's timings when it reports "total" (the first hop's wall time): client
# latency minus that total = serialisation + transfer between the load generator and the target.
CLIENT_LINK = "client_link"

# (request index, per-request timeout in seconds) -> the server's stage timings (seconds)
RequestFn = Callable[[int, float], Mapping[str, float]]


class ResponseError(Exception):
    """The server answered OK but the answer is not a usable result."""


@dataclass(frozen=True)
class Bounds:
    """Hard caps of one load level; both always apply, whichever comes first ends the level."""

    max_requests: int  # no more than this many requests are sent
    duration_s: float  # no request starts after this many seconds
    timeout_s: float  # deadline of each request

    def __post_init__(self) -> None:
        if self.max_requests < 1:
            raise ValueError(f"max_requests must be >= 1, got {self.max_requests}")
        if not 0 < self.duration_s < float("inf"):
            raise ValueError(f"duration_s must be positive and finite, got {self.duration_s}")
        if not 0 < self.timeout_s < float("inf"):
            raise ValueError(f"timeout_s must be positive and finite, got {self.timeout_s}")


@dataclass(frozen=True)
class LevelRun:
    """Raw outcome of one level: samples and the time the level started (perf_counter)."""

    samples: list[Sample]
    t0: float


def call_once(call: RequestFn, index: int, timeout_s: float, start: float | None = None) -> Sample:
    """Run one request and record it; `start` overrides the latency origin (open loop)."""
    sent = time.perf_counter()
    timings: Mapping[str, float] = {}
    try:
        timings = call(index, timeout_s)
        code = OK
    except grpc.RpcError as exc:
        status = exc.code() if callable(getattr(exc, "code", None)) else None
        code = status.name if status is not None else grpc.StatusCode.UNKNOWN.name
        log.debug("request %d failed: %s %s", index, code, getattr(exc, "details", lambda: "")())
    except ResponseError as exc:
        code = BAD_RESPONSE
        log.warning("request %d: bad response: %s", index, exc)
    end = time.perf_counter()
    timings = dict(timings)
    if code == OK and "total" in timings:  # the first hop's own wall time: the rest is the client's link
        timings[CLIENT_LINK] = max(end - sent - timings["total"], 0.0)
    return Sample(start=sent if start is None else start, end=end, code=code, timings=timings)


def warm_up(call: RequestFn, count: int, timeout_s: float) -> list[Sample]:
    """Send `count` requests one after another (model loading, JIT, connection set-up); not measured."""
    return [call_once(call, -1 - i, timeout_s) for i in range(max(0, count))]


def run_closed_loop(call: RequestFn, concurrency: int, bounds: Bounds) -> LevelRun:
    """`concurrency` workers, each sending its next request as soon as the previous one is answered."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    lock = threading.Lock()
    samples: list[Sample] = []
    issued = 0
    t0 = time.perf_counter()
    stop_at = t0 + bounds.duration_s

    def next_index() -> int | None:
        nonlocal issued
        with lock:
            if issued >= bounds.max_requests or time.perf_counter() >= stop_at:
                return None
            issued += 1
            return issued - 1

    def worker() -> None:
        while (index := next_index()) is not None:
            sample = call_once(call, index, bounds.timeout_s)
            with lock:
                samples.append(sample)

    threads = [threading.Thread(target=worker, name=f"loadtest-{i}", daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LevelRun(samples=samples, t0=t0)


def run_open_loop(call: RequestFn, rate_rps: float, bounds: Bounds, max_in_flight: int) -> LevelRun:
    """Release request i at t0 + i / rate_rps (until either bound), latency from that release time."""
    if not 0 < rate_rps < float("inf"):
        raise ValueError(f"rate must be positive and finite, got {rate_rps}")
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
    t0 = time.perf_counter()
    futures = []
    with ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="loadtest-open") as pool:
        for index in range(bounds.max_requests):
            release = t0 + index / rate_rps
            if release - t0 >= bounds.duration_s:
                break
            delay = release - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(call_once, call, index, bounds.timeout_s, release))
    return LevelRun(samples=[f.result() for f in futures], t0=t0)
