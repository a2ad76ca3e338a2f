"""`transmit_all(client, requests)`: a batch through SenderService.Transmit losing nothing. The
images without a result are re-sent after transient failures (backoff, the server's retry hint,
bounded), each result is delivered once, and every request ends with one `Outcome` (what
`semcom send` uses). `RetryPolicy` is the backoff; `STREAM_CODES` the statuses that fail every
image still waiting."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from semcom import config

if TYPE_CHECKING:
    from semcom.rpc.client import SenderClient
    from semcom.v1 import sender_pb2


TRANSIENT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
# Codes that say nothing about one image: every image still waiting fails with them at once.
STREAM_CODES = (
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNIMPLEMENTED,
)


def retry_pushback_s(exc: grpc.RpcError) -> float | None:
    """The server's retry hint (trailing metadata ``grpc-retry-pushback-ms``) in seconds: None when
    absent or malformed, negative for "do not retry"."""
    try:
        trailers = exc.trailing_metadata() or ()
    except Exception:  # noqa: BLE001 - an error without trailers (e.g. raised locally)
        return None
    value = next((value for key, value in trailers if key == "grpc-retry-pushback-ms"), "")
    try:
        ms = int(value)
    except (TypeError, ValueError):  # absent ("") or malformed
        return None
    return -1.0 if ms < 0 else ms / 1000.0


@dataclass(frozen=True)
class RetryPolicy:
    """Application-level re-sending of a stream's unfinished images (`transmit_all`).

    `attempts`: stream attempts in a row that may fail transiently (UNAVAILABLE, RESOURCE_EXHAUSTED)
    before the images still waiting are given up; the count restarts whenever an image arrives.
    `max_s`: give up when the next attempt would start more than this many seconds after the last
    image arrived (or the batch started). Waits: exponential backoff (initial x multiplier^n, at
    most `max_backoff_s`) with jitter (uniformly between half and all of it); a RESOURCE_EXHAUSTED
    with a retry hint waits at least the hint, one with a negative hint is not retried.
    """

    attempts: int = 8
    max_s: float = 120.0
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"retry attempts must be >= 1, got {self.attempts}")
        if not (self.max_s >= 0 and self.initial_backoff_s >= 0 and self.max_backoff_s >= self.initial_backoff_s):
            raise ValueError("retry times must be >= 0 and max_backoff_s >= initial_backoff_s")

    @classmethod
    def from_settings(cls, attempts: int | None = None, max_s: float | None = None) -> RetryPolicy:
        return cls(
            attempts=attempts if attempts is not None else config.get("SEMCOM_SEND_ATTEMPTS"),
            max_s=max_s if max_s is not None else config.get("SEMCOM_SEND_RETRY_MAX_S"),
        )

    def backoff_s(self, failures: int, rng: random.Random) -> float:
        """Wait after the `failures`-th transient failure in a row (1-based), jittered."""
        base = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** max(0, failures - 1))
        return base / 2 + rng.uniform(0, base / 2)

    def delay_s(self, exc: grpc.RpcError, failures: int, rng: random.Random) -> float | None:
        """Seconds to wait before re-sending after `exc`, or None when it is not to be retried.

        An UNAVAILABLE with a negative hint is still retried here: a hop sets that hint when the hop
        *behind* it is down, to stop gRPC's per-call retries multiplying along the hops; the batch
        still waits for the restart (bounded by `attempts` and `max_s`)."""
        code = exc.code()
        if code not in TRANSIENT_CODES:
            return None
        pushback = retry_pushback_s(exc)
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and pushback is not None and pushback < 0:
            return None
        wait = self.backoff_s(failures, rng)
        return max(wait, pushback) if pushback is not None and pushback > 0 else wait


@dataclass
class Outcome:
    """Final status of one request of `transmit_all`: the result, or the status it failed with."""

    request_id: str
    result: sender_pb2.TransmitResult | None = None
    code: str = "OK"
    message: str = ""
    attempts: int = 0  # streams that carried this request

    @property
    def ok(self) -> bool:
        return self.result is not None


def transmit_all(
    client: SenderClient,
    requests: list[sender_pb2.ImageRequest],
    *,
    policy: RetryPolicy | None = None,
    deadline_s: float | None = None,
    on_result: Callable[[sender_pb2.TransmitResult], None] | None = None,
    on_retry: Callable[[grpc.RpcError, float, int], None] | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    stream_images: int | None = None,
) -> dict[str, Outcome]:
    """Send every request through `client.transmit`, losing none: each gets exactly one Outcome.

    Results are matched by request_id (ids must be unique); a result for a request that already has
    one is ignored, so nothing is delivered twice to `on_result` (called as each arrives; an
    exception there stops everything). After a transient failure the requests without a result are
    sent again in a new stream, after the policy's wait (a RESOURCE_EXHAUSTED whose retry hint is
    negative is not retried: it fails every request still waiting). A failure that names one request
    (INVALID_ARGUMENT, INTERNAL, ... : the stream answers in request order, so it is the first one
    still waiting) fails that request only and the rest go on in a new stream; one of STREAM_CODES,
    or running out of attempts / time, fails every request still waiting. `deadline_s` bounds the
    whole batch, retries and waits included (default: the client's). A DEADLINE_EXCEEDED that
    comes more than 1 s before that deadline is the server ending the stream (idle timeout,
    maximum stream duration) and is retried like UNAVAILABLE. `stream_images`: at most this many
    requests per stream (servers cap items and duration per stream; a new stream follows).
    """
    ids = [r.request_id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("request ids must be unique")
    batch = _Batch(
        requests,
        policy or RetryPolicy.from_settings(),
        rng or random.Random(),
        clock,
        deadline_s if deadline_s is not None else client.deadline_s,
    )
    while batch.pending:
        left = batch.end - clock()
        if left <= 0:
            batch.give_up(list(batch.pending), grpc.StatusCode.DEADLINE_EXCEEDED, "batch deadline exceeded")
            break
        chunk = batch.next_chunk(stream_images)
        try:
            batch.receive(client.transmit([batch.by_id[rid] for rid in chunk], timeout=left), chunk, on_result)
        except grpc.RpcError as exc:
            delay = batch.after_failure(exc)
            if delay is not None:
                if on_retry is not None:
                    on_retry(exc, delay, len(batch.pending))
                sleep(delay)
    return batch.outcomes


class _Batch:
    """The state of one `transmit_all` batch: every request's Outcome, the ids still waiting (in
    request order), the batch deadline on `clock` and the run of transient failures."""

    def __init__(
        self,
        requests: list[sender_pb2.ImageRequest],
        policy: RetryPolicy,
        rng: random.Random,
        clock: Callable[[], float],
        deadline_s: float,
    ) -> None:
        ids = [r.request_id for r in requests]
        self.policy = policy
        self.rng = rng
        self.clock = clock
        self.outcomes = {rid: Outcome(rid) for rid in ids}
        self.by_id = {r.request_id: r for r in requests}
        self.pending = list(ids)
        self.end = clock() + deadline_s
        self.failures = 0  # transient failures in a row
        self.last_progress = clock()  # when the last result arrived (or the batch started)

    def give_up(self, rids: list[str], code: grpc.StatusCode, message: str) -> None:
        for rid in rids:
            self.outcomes[rid].code, self.outcomes[rid].message = code.name, message
            self.pending.remove(rid)

    def next_chunk(self, stream_images: int | None) -> list[str]:
        """The ids the next stream carries (at most `stream_images`), each counted as an attempt."""
        chunk = self.pending[:stream_images] if stream_images else list(self.pending)
        for rid in chunk:
            self.outcomes[rid].attempts += 1
        return chunk

    def receive(
        self,
        results: Iterable[sender_pb2.TransmitResult],
        chunk: list[str],
        on_result: Callable[[sender_pb2.TransmitResult], None] | None,
    ) -> None:
        """Take a stream's results (each request's first only); a stream that ends OK without
        answering some of `chunk` fails those (a server fault, not transient)."""
        for result in results:
            outcome = self.outcomes.get(result.request_id)
            if outcome is None or outcome.ok or result.request_id not in self.pending:
                continue  # unknown or already delivered: never twice
            if on_result is not None:
                on_result(result)
            outcome.result = result
            self.pending.remove(result.request_id)
            self.failures, self.last_progress = 0, self.clock()
        unanswered = [rid for rid in chunk if rid in self.pending]
        if unanswered:
            self.give_up(unanswered, grpc.StatusCode.INTERNAL, "the stream ended without a result for this image")

    def after_failure(self, exc: grpc.RpcError) -> float | None:
        """After a failed stream: the seconds to wait before sending the requests still waiting
        again, or None for no wait: when every one of them has failed (none is left), or when the
        failure was about the first of them only (it has failed; the rest go on at once)."""
        code, details = exc.code(), exc.details() or ""
        pushback = retry_pushback_s(exc)
        # DEADLINE_EXCEEDED well before the batch deadline is the server's (an idle or maximum
        # stream duration): the stream is over, the batch is not
        server_deadline = code == grpc.StatusCode.DEADLINE_EXCEEDED and self.end - self.clock() > 1.0
        if _fails_the_stream(code, pushback, server_deadline):
            self.give_up(list(self.pending), code, details)  # ours, or the server asks not to retry
            return None
        self.failures += 1
        delay = (
            self.policy.backoff_s(self.failures, self.rng)
            if server_deadline
            else self.policy.delay_s(exc, self.failures, self.rng)
        )
        if delay is None:
            self.give_up(self.pending[:1], code, details)  # the first image still waiting is the one refused
            self.failures = 0
            return None
        reason = self._no_retry(delay)
        if reason:
            self.give_up(list(self.pending), code, f"{details} ({reason})")
            return None
        return delay

    def _no_retry(self, delay: float) -> str:
        """Why the requests still waiting are not sent again after `delay` ("" when they are)."""
        if self.failures >= self.policy.attempts or self.clock() + delay - self.last_progress > self.policy.max_s:
            return f"gave up after {self.failures} attempts"
        if self.clock() + delay >= self.end:
            return "no time left before the batch deadline to retry"
        return ""


def _fails_the_stream(code: grpc.StatusCode, pushback: float | None, server_deadline: bool) -> bool:
    """Whether a stream's failure fails every request still waiting: one of STREAM_CODES (but not
    the server ending the stream early), or a RESOURCE_EXHAUSTED whose hint says not to retry."""
    if code in STREAM_CODES and not server_deadline:
        return True
    return code == grpc.StatusCode.RESOURCE_EXHAUSTED and pushback is not None and pushback < 0
