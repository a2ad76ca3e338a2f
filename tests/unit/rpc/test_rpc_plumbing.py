"""Status mapping, target handling, service config and the ordered stream pipeline."""

from __future__ import annotations

import json
import threading
import time

import grpc
import pytest

from semcom.rpc.client import address_list_host, normalise_target, service_config
from semcom.rpc.errors import InvalidRequestError, NotReadyError, QueueFullError, status_for
from semcom.rpc.ordered import Pending, ordered_map


class DownstreamError(grpc.RpcError):
    """What a failed gRPC call raises: an RpcError with code() and details()."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize(
    "exc,code,fragment",
    [
        (InvalidRequestError("bad image"), grpc.StatusCode.INVALID_ARGUMENT, "bad image"),
        (ValueError("strength must be in [0, 1]"), grpc.StatusCode.INVALID_ARGUMENT, "strength"),
        (QueueFullError("queue is full"), grpc.StatusCode.RESOURCE_EXHAUSTED, "full"),
        (NotReadyError("loading"), grpc.StatusCode.UNAVAILABLE, "loading"),
        (TimeoutError("deadline exceeded waiting for x"), grpc.StatusCode.DEADLINE_EXCEEDED, "waiting"),
        (
            DownstreamError(grpc.StatusCode.UNAVAILABLE, "connection refused"),
            grpc.StatusCode.UNAVAILABLE,
            "downstream receiver at r:1 unavailable: connection refused",
        ),
        (
            DownstreamError(grpc.StatusCode.INVALID_ARGUMENT, "snr"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "downstream receiver at r:1: snr",
        ),
        (RuntimeError("boom"), grpc.StatusCode.INTERNAL, "RuntimeError"),
    ],
)
def test_status_mapping(exc: Exception, code: grpc.StatusCode, fragment: str) -> None:
    status = status_for(exc, "receiver at r:1")
    assert status.code == code and fragment in status.message
    assert status.internal == (code == grpc.StatusCode.INTERNAL)


def test_a_status_quoting_huge_client_input_is_cut_to_fit_trailing_metadata() -> None:
    """An unknown 200 KB MCS name came back as RESOURCE_EXHAUSTED 'metadata size exceeds hard limit'
    from the next hop; the status keeps its code and says it was cut, at every hop."""
    from semcom.rpc.errors import MAX_STATUS_CHARS

    huge = ValueError("unknown MCS '" + "q" * 200_000 + "'")
    status = status_for(huge)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.message.startswith("unknown MCS 'qqq") and status.message.endswith("(cut: 200,014 characters)")
    assert len(status.message.encode()) < 8 * 1024  # gRPC's soft limit on metadata
    relayed = status_for(DownstreamError(grpc.StatusCode.INVALID_ARGUMENT, status.message), "channel at c:1")
    assert (
        relayed.message.startswith("downstream channel at c:1: unknown MCS")
        and len(relayed.message) < 2 * MAX_STATUS_CHARS
    )
    assert status_for(ValueError("short")).message == "short"


@pytest.mark.parametrize(
    "target,expected",
    [
        ("127.0.0.1:5", "127.0.0.1:5"),
        ("127.0.0.1:5, 127.0.0.1:6", "ipv4:127.0.0.1:5,127.0.0.1:6"),
        ("[::1]:5,[::1]:6", "ipv6:[::1]:5,[::1]:6"),
        ("dns:///receivers.semcom.svc:50053", "dns:///receivers.semcom.svc:50053"),
        ("ipv4:10.0.0.1:1,10.0.0.2:1", "ipv4:10.0.0.1:1,10.0.0.2:1"),
    ],
)
def test_normalise_target(target: str, expected: str) -> None:
    assert normalise_target(target) == expected


def test_tls_name_of_an_address_list() -> None:
    assert address_list_host("127.0.0.1:5,127.0.0.1:6") == "127.0.0.1"
    assert address_list_host("[::1]:5,[::1]:6") == "::1"
    assert address_list_host("receiver:50053") == "" and address_list_host("dns:///receivers:50053") == ""
    with pytest.raises(ValueError, match="SEMCOM_TLS_SERVER_NAME"):
        address_list_host("10.0.0.1:5,10.0.0.2:5")


def test_service_config_retries_unavailable_with_backoff() -> None:
    cfg = json.loads(service_config("round_robin", 9))
    assert cfg["loadBalancingConfig"] == [{"round_robin": {}}]
    policy = cfg["methodConfig"][0]["retryPolicy"]
    assert policy["maxAttempts"] == 5 and policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert policy["backoffMultiplier"] == 2 and policy["initialBackoff"].endswith("s")
    assert "methodConfig" not in json.loads(service_config("pick_first", 1))


def _work(log: list, delay: float = 0.0):
    def start(x: int) -> Pending[int]:
        log.append(("start", x))
        if x < 0:
            raise ValueError(f"bad item {x}")
        done = time.monotonic() + delay
        return Pending(
            lambda: (time.sleep(max(0.0, done - time.monotonic())), x * 10)[1], lambda: log.append(("cancel", x))
        )

    return start


def test_pipeline_keeps_order_and_bounds_work_in_flight() -> None:
    log: list = []
    started = threading.Event()

    def requests():
        yield from range(6)
        started.set()

    results = []
    for value in ordered_map(requests(), _work(log, 0.01), depth=2):
        results.append(value)
        starts = sum(1 for kind, _ in log if kind == "start")
        assert starts <= len(results) + 2  # never more than `depth` ahead of the consumer
    assert results == [0, 10, 20, 30, 40, 50]


def test_pipeline_error_comes_after_earlier_results() -> None:
    out = []
    with pytest.raises(ValueError, match="bad item -1"):
        for value in ordered_map(iter([1, 2, -1, 4]), _work([]), depth=3):
            out.append(value)
    assert out == [10, 20]


def test_pipeline_cancels_pending_work_when_the_consumer_leaves() -> None:
    log: list = []
    gen = ordered_map(iter(range(10)), _work(log, 0.05), depth=3)
    assert next(gen) == 0
    time.sleep(0.1)  # let the reader start the next items
    gen.close()
    cancelled = [x for kind, x in log if kind == "cancel"]
    started = [x for kind, x in log if kind == "start"]
    assert cancelled and set(cancelled) <= set(started) and len(started) <= 4


class _Context:
    """The part of grpc.ServicerContext that semcom.rpc.deadlines uses."""

    def __init__(self, left: float | None) -> None:
        self.left, self.callbacks = left, []

    def time_remaining(self):
        return self.left

    def add_callback(self, fn) -> None:
        self.callbacks.append(fn)


class _Method:
    """A unary-unary multicallable whose `.future` runs `fn` on a thread pool."""

    def __init__(self, fn) -> None:
        import concurrent.futures

        self.fn, self.pool, self.timeouts = fn, concurrent.futures.ThreadPoolExecutor(1), []

    def future(self, request, timeout=None):
        self.timeouts.append(timeout)
        return self.pool.submit(self.fn, request)


def test_call_downstream_passes_the_deadline_and_round_trip() -> None:
    from semcom.rpc.deadlines import call_downstream

    method, errors = _Method(lambda r: r * 2), []
    pending = call_downstream(
        method, 21, _Context(7.5), "the receiver", errors.append, lambda response, rtt: (response, rtt)
    )
    response, rtt = pending.result()
    assert response == 42 and 0.0 <= rtt < 5.0 and errors == []
    assert method.timeouts == [7.5]  # the caller's remaining time becomes the downstream timeout


def test_call_downstream_reports_failures_and_times_out() -> None:
    import time as _time

    from semcom.rpc.deadlines import call_downstream

    def boom(request):
        raise DownstreamError(grpc.StatusCode.UNAVAILABLE, "down")

    errors = []
    pending = call_downstream(
        _Method(boom),
        1,
        _Context(5.0),
        "the receiver",
        errors.append,
        lambda response, rtt: pytest.fail("finish must not run on failure"),
    )
    with pytest.raises(DownstreamError):
        pending.result()
    assert len(errors) == 1 and isinstance(errors[0], DownstreamError)

    slow = _Method(lambda r: _time.sleep(2.0))
    pending = call_downstream(slow, 1, _Context(0.2), "the receiver", errors.append, lambda response, rtt: response)
    with pytest.raises(TimeoutError, match="deadline exceeded waiting for the receiver"):
        pending.result()
    assert isinstance(errors[-1], TimeoutError)
