"""`transmit_all`: every image exactly once across stream failures, retry waits, final statuses.

Against a scripted SenderService over real loopback gRPC (tests/unit/clients/scripted.py).
"""

from __future__ import annotations

import random
import time

import grpc
import pytest

from semcom.rpc.client import SenderClient
from semcom.rpc.retry import RetryPolicy, retry_pushback_s, transmit_all
from semcom.rpc.tls import TlsConfig
from semcom.v1 import sender_pb2
from tests.unit.clients.scripted import Server, Step

UNAVAILABLE, EXHAUSTED = grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED


def _requests(n: int) -> list[sender_pb2.ImageRequest]:
    return [sender_pb2.ImageRequest(request_id=f"{i:04d}", image=bytes([i])) for i in range(n)]


def _client(server: Server, grpc_retries: int = 1) -> SenderClient:
    # grpc_retries=1: gRPC's own retry policy off, so each scripted step is one application attempt
    return SenderClient(
        server.target,
        tls=TlsConfig(insecure=True),
        deadline_s=30,
        retry_attempts=grpc_retries,
        retry_codes=("UNAVAILABLE", "RESOURCE_EXHAUSTED"),
    )


class FakeTime:
    """sleep() records the wait and moves clock() on, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _run(server: Server, n: int, policy: RetryPolicy | None = None, **kwargs):
    fake = FakeTime()
    delivered: list[str] = []
    with _client(server) as client:
        outcomes = transmit_all(
            client,
            _requests(n),
            policy=policy or RetryPolicy(attempts=5, max_s=60),
            on_result=lambda r: delivered.append(r.request_id),
            sleep=fake.sleep,
            clock=fake.clock,
            rng=random.Random(0),
            **kwargs,
        )
    return outcomes, delivered, fake.waits


def test_unavailable_mid_stream_resends_only_the_rest_and_delivers_each_once() -> None:
    with Server(Step(answer=2, code=UNAVAILABLE), Step(answer=1, code=UNAVAILABLE), Step()) as server:
        outcomes, delivered, waits = _run(server, 6)
    assert delivered == [f"{i:04d}" for i in range(6)]  # each once, in order
    assert all(o.ok and o.code == "OK" for o in outcomes.values())
    assert [len(s) for s in server.streams] >= [3, 2, 3]  # the server read up to the failing one
    assert server.streams[1][0] == "0002" and server.streams[2][0] == "0003"  # re-sent: only what was left
    assert [o.attempts for o in outcomes.values()] == [1, 1, 2, 3, 3, 3]
    assert len(waits) == 2 and all(0.25 <= w <= 0.5 for w in waits)  # progress each time: first backoff again


def test_duplicate_result_is_not_delivered_twice() -> None:
    with Server(Step(duplicate=True)) as server:
        outcomes, delivered, _ = _run(server, 3)
    assert delivered == ["0000", "0001", "0002"]
    assert all(o.ok for o in outcomes.values())


def test_resource_exhausted_waits_at_least_the_servers_hint() -> None:
    with Server(Step(answer=0, code=EXHAUSTED, pushback_ms=3000), Step()) as server:
        outcomes, delivered, waits = _run(server, 2)
    assert delivered == ["0000", "0001"]
    assert waits == [3.0]  # the hint (3 s) beats the 0.25-0.5 s backoff


def test_resource_exhausted_with_negative_hint_is_not_retried() -> None:
    with Server(Step(answer=1, code=EXHAUSTED, pushback_ms=-1), Step()) as server:
        outcomes, delivered, waits = _run(server, 3)
    assert delivered == ["0000"] and waits == [] and len(server.streams) == 1
    assert [(o.ok, o.code) for o in outcomes.values()] == [
        (True, "OK"),
        (False, "RESOURCE_EXHAUSTED"),
        (False, "RESOURCE_EXHAUSTED"),
    ]


def test_backoff_grows_then_gives_up_after_the_attempts() -> None:
    steps = [Step(answer=0, code=UNAVAILABLE, message="down")] * 4
    with Server(*steps) as server:
        outcomes, delivered, waits = _run(server, 2, policy=RetryPolicy(attempts=4, max_s=600))
    assert delivered == [] and len(server.streams) == 4 and len(waits) == 3
    for n, wait in enumerate(waits):  # 0.5 x 2^n, jittered into [half, all]
        assert 0.25 * 2**n <= wait <= 0.5 * 2**n
    assert {o.code for o in outcomes.values()} == {"UNAVAILABLE"}
    assert all("gave up after 4 attempts" in o.message for o in outcomes.values())


def test_retry_time_budget_bounds_the_waits() -> None:
    with Server(*[Step(answer=0, code=UNAVAILABLE)] * 9) as server:
        outcomes, _, waits = _run(server, 1, policy=RetryPolicy(attempts=50, max_s=2.0))
    assert sum(waits) <= 2.0 and not outcomes["0000"].ok
    assert len(server.streams) < 9


def test_a_refused_image_fails_alone_and_the_others_go_on() -> None:
    with Server(Step(answer=1, code=grpc.StatusCode.INVALID_ARGUMENT, message="bad image"), Step()) as server:
        outcomes, delivered, waits = _run(server, 4)
    assert delivered == ["0000", "0002", "0003"] and waits == []
    assert (outcomes["0001"].code, outcomes["0001"].message) == ("INVALID_ARGUMENT", "bad image")
    assert server.streams[1][0] == "0002"


def test_batch_deadline_fails_what_is_left() -> None:
    with Server(Step(answer=0, code=UNAVAILABLE), Step()) as server, _client(server) as client:
        outcomes = transmit_all(
            client,
            _requests(2),
            policy=RetryPolicy(attempts=5, max_s=60),
            deadline_s=0.2,
            sleep=time.sleep,
            rng=random.Random(0),
        )
    # the first backoff (0.25-0.5 s) would end after the 0.2 s batch deadline: no second stream
    assert len(server.streams) == 1
    assert {o.code for o in outcomes.values()} == {"UNAVAILABLE"}
    assert all("batch deadline" in o.message for o in outcomes.values())


def test_grpc_retry_policy_retries_a_refused_stream_itself_after_the_hint() -> None:
    # Before the first response gRPC's own retry policy (service config) re-sends the call,
    # honouring grpc-retry-pushback-ms; the application sees one successful stream.
    with Server(Step(answer=0, code=EXHAUSTED, pushback_ms=400), Step()) as server:
        with _client(server, grpc_retries=3) as client:
            t0 = time.monotonic()
            outcomes = transmit_all(client, _requests(2), policy=RetryPolicy(attempts=1), sleep=pytest.fail)
            elapsed = time.monotonic() - t0
    assert all(o.ok and o.attempts == 1 for o in outcomes.values())
    assert len(server.streams) == 2 and elapsed >= 0.4


def test_unique_ids_required() -> None:
    with Server() as server, _client(server) as client, pytest.raises(ValueError, match="unique"):
        transmit_all(client, _requests(1) * 2)


def test_pushback_parsing() -> None:
    class Err(grpc.RpcError):
        def __init__(self, trailers):
            self.trailers = trailers

        def trailing_metadata(self):
            return self.trailers

    assert retry_pushback_s(Err((("grpc-retry-pushback-ms", "1500"),))) == 1.5
    assert retry_pushback_s(Err((("grpc-retry-pushback-ms", "-1"),))) == -1.0
    assert retry_pushback_s(Err((("grpc-retry-pushback-ms", "soon"),))) is None
    assert retry_pushback_s(Err(())) is None
    assert retry_pushback_s(Err(None)) is None


def test_a_batch_goes_as_streams_of_at_most_stream_images() -> None:
    with Server(Step(), Step(answer=1, code=UNAVAILABLE), Step(), Step()) as server:
        outcomes, delivered, waits = _run(server, 7, stream_images=3)
    assert delivered == [f"{i:04d}" for i in range(7)]
    # the second stream failed after answering 0003 (the server had read 0004): 0004 goes again
    assert server.streams == [["0000", "0001", "0002"], ["0003", "0004"], ["0004", "0005", "0006"]]
    assert len(waits) == 1 and [o.attempts for o in outcomes.values()] == [1, 1, 1, 1, 2, 2, 1]


def test_a_stream_ended_by_the_servers_deadline_is_continued() -> None:
    # e.g. the server's maximum stream duration: DEADLINE_EXCEEDED long before the batch deadline
    with Server(Step(answer=2, code=grpc.StatusCode.DEADLINE_EXCEEDED, message="stream too long"), Step()) as server:
        outcomes, delivered, waits = _run(server, 4)
    assert delivered == ["0000", "0001", "0002", "0003"] and len(waits) == 1
    assert server.streams[1][0] == "0002"
