"""Load-test statistics: percentiles against numpy, error counting, throughput and stage summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semcom.loadtest.stats import (
    OK,
    Sample,
    count_errors,
    summarise_latencies,
    summarise_level,
    summarise_stages,
)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_percentiles_match_numpy_linear(n: int) -> None:
    values = np.random.default_rng(n).lognormal(mean=-2.0, sigma=0.7, size=n)
    summary = summarise_latencies(values)
    expected = np.percentile(values, [50, 90, 95, 99], method="linear")
    np.testing.assert_allclose([summary.p50, summary.p90, summary.p95, summary.p99], expected, rtol=0, atol=0)
    assert summary.count == n
    assert summary.min == values.min() and summary.max == values.max()
    assert summary.mean == pytest.approx(values.mean())


def test_percentiles_by_hand() -> None:
    # 1..100: linear interpolation puts p50 between 50 and 51, p90 at 90.1, p99 at 99.01.
    summary = summarise_latencies(np.arange(1.0, 101.0))
    assert summary.p50 == pytest.approx(50.5)
    assert summary.p90 == pytest.approx(90.1)
    assert summary.p95 == pytest.approx(95.05)
    assert summary.p99 == pytest.approx(99.01)
    assert summary.min <= summary.p50 <= summary.p90 <= summary.p95 <= summary.p99 <= summary.max


def test_single_and_empty_latencies() -> None:
    one = summarise_latencies([0.25])
    assert one.p50 == one.p99 == one.max == one.min == 0.25
    empty = summarise_latencies([])
    assert empty.count == 0 and math.isnan(empty.p50) and math.isnan(empty.max)


@pytest.mark.parametrize("bad", [[0.1, float("nan")], [0.1, float("inf")], [-0.001]])
def test_bad_latencies_raise(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        summarise_latencies(bad)


def test_count_errors_by_code() -> None:
    codes = [OK, "UNAVAILABLE", OK, "DEADLINE_EXCEEDED", "UNAVAILABLE", "RESOURCE_EXHAUSTED", OK]
    assert count_errors(codes) == {"DEADLINE_EXCEEDED": 1, "RESOURCE_EXHAUSTED": 1, "UNAVAILABLE": 2}
    assert count_errors([OK, OK]) == {}


def test_stage_summary_skips_missing_and_non_finite() -> None:
    stages = summarise_stages([{"denoise": 1.0, "decode": 0.5}, {"denoise": 3.0}, {"denoise": float("nan")}])
    assert list(stages) == ["decode", "denoise"]
    assert stages["denoise"].count == 2 and stages["denoise"].mean == pytest.approx(2.0)
    assert stages["decode"].count == 1 and stages["decode"].p95 == pytest.approx(0.5)


def test_level_counts_and_throughput() -> None:
    samples = [
        Sample(start=10.0, end=10.5, timings={"denoise": 0.4}),
        Sample(start=10.1, end=10.9, timings={"denoise": 0.6}),
        Sample(start=10.2, end=10.3, code="UNAVAILABLE"),
        Sample(start=10.6, end=12.0),
    ]
    level = summarise_level(samples, mode="text", snr_db=10.0, loop="closed", concurrency=2, t0=10.0)
    assert level.issued == 4
    assert level.completed == 3
    assert level.errors == {"UNAVAILABLE": 1}
    assert level.completed + sum(level.errors.values()) == level.issued
    assert level.elapsed_s == pytest.approx(2.0)
    assert level.throughput_rps == pytest.approx(1.5)
    # latency over successful requests only: 0.5, 0.8, 1.4
    assert level.latency.count == 3 and level.latency.max == pytest.approx(1.4)
    assert level.latency.p50 == pytest.approx(0.8)
    assert level.stages["denoise"].count == 2


def test_level_with_nothing_completed() -> None:
    level = summarise_level(
        [Sample(start=0.0, end=0.1, code="UNAVAILABLE")], mode="auto", snr_db=None, loop="open", concurrency=1
    )
    assert level.completed == 0 and level.throughput_rps == 0.0 and math.isnan(level.latency.p50)
    with pytest.raises(ValueError):
        summarise_level([], mode="auto", snr_db=None, loop="sideways", concurrency=1)
