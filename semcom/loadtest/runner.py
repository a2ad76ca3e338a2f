"""A whole load test: every mode x SNR x load level, each level bounded, with warm-up per mode.

`run_load_test` owns the sweep and nothing else: the caller passes a factory that builds the
request function for a (mode, SNR) pair (see `semcom.loadtest.workloads`), so the same sweep
drives a sender, a receiver, the channel proxy, or an in-process function in a benchmark.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from semcom.loadtest.generator import Bounds, RequestFn, run_closed_loop, run_open_loop, warm_up
from semcom.loadtest.stats import LevelResult, count_errors, summarise_level

log = logging.getLogger(__name__)

CallFactory = Callable[[str, "float | None"], RequestFn]
CpuProbe = Callable[[], "dict[str, float | None]"]  # service -> CPU seconds used so far


@dataclass(frozen=True)
class SweepPlan:
    """What to run. Closed loop over `concurrency`; open loop over `rates` when given."""

    modes: Sequence[str]
    concurrency: Sequence[int]
    bounds: Bounds
    snr_dbs: Sequence[float | None] = (None,)
    rates: Sequence[float] = ()  # open loop: arrival rates (req/s); max in flight = max(concurrency)
    warmup: int = 1  # requests per (mode, SNR) before measuring

    def __post_init__(self) -> None:
        if not self.modes:
            raise ValueError("at least one mode is needed")
        if not self.concurrency or any(c < 1 for c in self.concurrency):
            raise ValueError(f"concurrency levels must be >= 1, got {list(self.concurrency)}")
        if any(not 0 < r < float("inf") for r in self.rates):
            raise ValueError(f"rates must be positive, got {list(self.rates)}")
        if self.warmup < 0:
            raise ValueError("warmup must be >= 0")


@dataclass
class LoadTestReport:
    """Results plus enough context to reproduce them."""

    target: str
    service: str
    plan: dict
    levels: list[LevelResult]
    warmup_errors: dict[str, int] = field(default_factory=dict)
    host: dict = field(default_factory=dict)
    started_at: str = ""
    wall_s: float = 0.0


def host_info() -> dict:
    """Where the numbers were measured (they mean little without it)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "loadavg_1m_at_start": round(load[0], 2),
    }


def _per_request_cpu(before: dict, after: dict, completed: int) -> dict[str, float]:
    if not completed:
        return {}
    return {
        name: (after[name] - before[name]) / completed
        for name in before
        if before[name] is not None and after.get(name) is not None
    }


def level_count(plan: SweepPlan) -> int:
    """How many load levels `run_load_test` runs for `plan` (one per mode x SNR x rate or concurrency)."""
    return len(plan.modes) * len(plan.snr_dbs) * len(plan.rates or plan.concurrency)


def run_load_test(
    target: str,
    service: str,
    plan: SweepPlan,
    make_call: CallFactory,
    cpu_probe: CpuProbe | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadTestReport:
    """Run the plan; levels run one after another, so each sees the servers alone.

    `cpu_probe`, when given (services running as local processes), is read before and after
    each level; the difference per completed request goes into `LevelResult.server_cpu_s`.
    `progress`, when given, gets one line as each level starts and one when it ends (a sweep with
    the defaults runs for minutes).
    """
    total = level_count(plan)
    say = progress or (lambda _line: None)

    def run_level(call: RequestFn, mode: str, snr: float | None, conc: int, rate: float | None = None) -> None:
        """One level: closed loop at `conc` workers, or open loop at `rate` with at most `conc` in flight."""
        what = f"mode {mode}, snr {snr}, " + (f"concurrency {conc}" if rate is None else f"rate {rate:g}/s")
        bounds = f"at most {plan.bounds.max_requests} requests or {plan.bounds.duration_s:g} s ..."
        say(f"level {len(levels) + 1}/{total} ({what}): {bounds}")
        cpu0 = cpu_probe() if cpu_probe else {}
        run = run_closed_loop(call, conc, plan.bounds) if rate is None else run_open_loop(call, rate, plan.bounds, conc)
        loop = "closed" if rate is None else "open"
        level = summarise_level(
            run.samples, mode=mode, snr_db=snr, loop=loop, concurrency=conc, offered_rps=rate, t0=run.t0
        )
        cpu = _per_request_cpu(cpu0, cpu_probe(), level.completed) if cpu_probe else {}
        levels.append(dataclasses.replace(level, server_cpu_s=cpu))
        errors = sum(level.errors.values())
        say(
            f"level {len(levels)}/{total} done ({what}): {level.completed}/{level.issued} ok"
            + (f", {errors} errors" if errors else "")
            + f", {level.throughput_rps:.2f} req/s, p50 {level.latency.p50:.2f} s in {level.elapsed_s:.1f} s"
        )

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    wall0 = time.perf_counter()
    host = host_info()
    levels: list[LevelResult] = []
    warm_codes: list[str] = []
    for mode in plan.modes:
        for snr in plan.snr_dbs:
            call = make_call(mode, snr)
            warm_codes += [s.code for s in warm_up(call, plan.warmup, plan.bounds.timeout_s)]
            for conc in plan.concurrency if not plan.rates else ():
                log.info("closed loop: mode=%s snr=%s concurrency=%d", mode, snr, conc)
                run_level(call, mode, snr, conc)
            for rate in plan.rates:
                in_flight = max(plan.concurrency)
                log.info("open loop: mode=%s snr=%s rate=%g/s in-flight<=%d", mode, snr, rate, in_flight)
                run_level(call, mode, snr, in_flight, rate)
    # the report's plan: the lists, then the bounds (max_requests, duration_s, timeout_s), then the warm-up
    plan_dict = {name: list(getattr(plan, name)) for name in ("modes", "concurrency", "rates", "snr_dbs")}
    plan_dict |= dataclasses.asdict(plan.bounds) | {"warmup": plan.warmup}
    return LoadTestReport(
        target=target,
        service=service,
        plan=plan_dict,
        levels=levels,
        warmup_errors=count_errors(warm_codes),
        host=host,
        started_at=started,
        wall_s=time.perf_counter() - wall0,
    )
