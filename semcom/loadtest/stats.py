"""Statistics of one load level: latency percentiles, throughput, errors by status code, stages.

The generator records one `Sample` per request (when it started, when it ended, the gRPC status
code name, and the server's `timings` map); `summarise_level` turns a level's samples into the
numbers the report prints. Nothing here knows about gRPC: status codes are plain names ("OK",
"UNAVAILABLE", ...), so the module is testable with numbers alone.

Percentiles use numpy's default "linear" interpolation (type 7 of Hyndman & Fan), the same
definition `numpy.percentile` documents; latency and throughput are computed over successful
requests only (a fast failure is not a served request), errors are counted separately.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

OK = "OK"
PERCENTILES: tuple[int, ...] = (50, 90, 95, 99)


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it. Times are `time.perf_counter()` seconds."""

    start: float
    end: float
    code: str = OK  # gRPC status code name, "OK" on success
    timings: Mapping[str, float] = field(default_factory=dict)  # server stage -> seconds

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class LatencySummary:
    """Latency distribution in seconds; all NaN when there were no successful requests."""

    count: int
    mean: float
    min: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True)
class StageSummary:
    """One server-side stage over the successful requests that reported it (seconds)."""

    count: int
    mean: float
    p50: float
    p95: float


@dataclass(frozen=True)
class LevelResult:
    """Everything measured at one (mode, SNR, load level) point."""

    mode: str
    snr_db: float | None
    loop: str  # "closed" (fixed concurrency) | "open" (fixed arrival rate)
    concurrency: int  # closed loop: workers; open loop: most requests in flight at once
    offered_rps: float | None  # open loop: the arrival rate asked for
    issued: int  # requests sent
    completed: int  # requests answered with OK
    errors: dict[str, int]  # status code name -> count (OK excluded)
    elapsed_s: float  # first send to last answer
    throughput_rps: float  # completed / elapsed_s
    latency: LatencySummary
    stages: dict[str, StageSummary]  # server stage -> summary, from the responses' timings maps
    # service -> CPU seconds its process used per completed request, when the caller could measure
    # it (local processes, `semcom bench sweep`); steadier than latency on a shared machine
    server_cpu_s: dict[str, float] = field(default_factory=dict)


def summarise_latencies(seconds: Sequence[float] | np.ndarray) -> LatencySummary:
    """Mean, min, max and p50/p90/p95/p99 of `seconds` (NaN fields when empty).

    Raises ValueError on negative or non-finite values: a latency like that is a clock bug.
    """
    values = np.asarray(seconds, dtype=np.float64).reshape(-1)
    if values.size == 0:
        nan = math.nan
        return LatencySummary(0, nan, nan, nan, nan, nan, nan, nan)
    if not np.all(np.isfinite(values)):
        raise ValueError("latencies must be finite")
    if np.any(values < 0):
        raise ValueError("latencies must be non-negative")
    p50, p90, p95, p99 = (float(v) for v in np.percentile(values, PERCENTILES))
    return LatencySummary(
        count=int(values.size),
        mean=float(values.mean()),
        min=float(values.min()),
        p50=p50,
        p90=p90,
        p95=p95,
        p99=p99,
        max=float(values.max()),
    )


def count_errors(codes: Iterable[str]) -> dict[str, int]:
    """Status code name -> number of requests that ended with it, OK excluded, sorted by name."""
    counts = Counter(code for code in codes if code != OK)
    return dict(sorted(counts.items()))


def summarise_stages(timings: Iterable[Mapping[str, float]]) -> dict[str, StageSummary]:
    """Per stage name: how many responses reported it, its mean, p50 and p95 in seconds.

    Stages are whatever keys the services put in their `timings` maps (caption, encode,
    channel, denoise, decode, serialisation, network, ...); non-finite values are skipped.
    """
    per_stage: dict[str, list[float]] = {}
    for mapping in timings:
        for name, value in mapping.items():
            if math.isfinite(value):
                per_stage.setdefault(name, []).append(float(value))
    out: dict[str, StageSummary] = {}
    for name in sorted(per_stage):
        values = np.asarray(per_stage[name])
        p50, p95 = np.percentile(values, (50, 95))
        out[name] = StageSummary(int(values.size), float(values.mean()), float(p50), float(p95))
    return out


def summarise_level(
    samples: Sequence[Sample],
    *,
    mode: str,
    snr_db: float | None,
    loop: str,
    concurrency: int,
    offered_rps: float | None = None,
    t0: float | None = None,
) -> LevelResult:
    """Reduce one level's samples to a `LevelResult`.

    `elapsed_s` runs from `t0` (default: the earliest start) to the latest end, so
    `throughput_rps == completed / elapsed_s` exactly; it is 0 when nothing completed.
    """
    if loop not in ("closed", "open"):
        raise ValueError(f"loop must be 'closed' or 'open', got {loop!r}")
    ok = [s for s in samples if s.code == OK]
    if samples:
        start = min(s.start for s in samples) if t0 is None else t0
        elapsed = max(s.end for s in samples) - start
    else:
        elapsed = 0.0
    throughput = len(ok) / elapsed if elapsed > 0 else 0.0
    return LevelResult(
        mode=mode,
        snr_db=snr_db,
        loop=loop,
        concurrency=concurrency,
        offered_rps=offered_rps,
        issued=len(samples),
        completed=len(ok),
        errors=count_errors(s.code for s in samples),
        elapsed_s=elapsed,
        throughput_rps=throughput,
        latency=summarise_latencies([s.latency for s in ok]),
        stages=summarise_stages(s.timings for s in ok),
    )
