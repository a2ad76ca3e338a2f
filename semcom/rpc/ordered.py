"""An ordered concurrent map over a bidirectional stream: start item i+1 while item i is still in flight.

A streaming handler that handled requests strictly one by one would leave the sender's encoder
idle while the receiver denoises, and vice versa. `ordered_map` reads the request stream on
a helper thread, calls `start(request)` for each (which begins the work and returns a `Pending`),
keeps at most `depth` items started and not yet consumed, and yields results in request order.

A failure in `start` or in a result ends the stream with that exception once the items before it
have been yielded. When the consumer stops (the client cancelled, the server is stopping), the
reader stops starting new work and every pending item is cancelled.

Stream hygiene (issue 12): a stream with nothing in flight that sends no request for `idle_s`
(SEMCOM_STREAM_IDLE_S) ends with DEADLINE_EXCEEDED, freeing its worker; a stream ends the same way
once it has lasted `max_s` (SEMCOM_STREAM_MAX_S, checked between items); a request beyond
`max_items` (SEMCOM_MAX_STREAM_ITEMS) ends it with INVALID_ARGUMENT.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from semcom import config
from semcom.rpc.errors import LimitError, ServiceError
from semcom.rpc.observe import rpc_method
from semcom.v1 import receiver_pb2, receiver_pb2_grpc

Req = TypeVar("Req")
Res = TypeVar("Res")

_POLL_S = 0.1  # how often a blocked reader re-checks whether the consumer has gone


@dataclass
class Pending(Generic[Res]):
    """Work in flight: `result()` blocks for it, `cancel()` abandons it (best effort)."""

    result: Callable[[], Res]
    cancel: Callable[[], object] = lambda: None


def ordered_map(
    requests: Iterator[Req],
    start: Callable[[Req], Pending[Res]],
    depth: int = 2,
    *,
    idle_s: float | None = None,
    max_s: float | None = None,
    max_items: int | None = None,
) -> Iterator[Res]:
    """Results of `start(r).result()` for every r in `requests`, in order, `depth` in flight.

    `idle_s`, `max_s`, `max_items`: None = the settings SEMCOM_STREAM_IDLE_S,
    SEMCOM_STREAM_MAX_S, SEMCOM_MAX_STREAM_ITEMS."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    idle_s = float(config.get("SEMCOM_STREAM_IDLE_S")) if idle_s is None else idle_s
    max_s = float(config.get("SEMCOM_STREAM_MAX_S")) if max_s is None else max_s
    max_items = int(config.get("SEMCOM_MAX_STREAM_ITEMS")) if max_items is None else max_items
    slots: queue.Queue = queue.Queue()
    in_flight = threading.Semaphore(depth)  # started and not yet consumed: at most `depth`
    stop = threading.Event()

    def acquire() -> bool:
        while not stop.is_set():
            if in_flight.acquire(timeout=_POLL_S):
                return True
        return False

    def reader() -> None:
        try:
            for count, request in enumerate(requests, 1):
                if count > max_items:
                    raise LimitError(
                        f"stream sent more than {max_items} requests, over the limit (SEMCOM_MAX_STREAM_ITEMS)"
                    )
                if not acquire():
                    return
                pending = start(request)
                slots.put(("pending", pending))
                if stop.is_set():  # the consumer left while this item was starting
                    pending.cancel()
                    return
        except Exception as exc:  # noqa: BLE001 - the stream, its limit or `start` failed: handed to the consumer, in order
            slots.put(("error", exc))
            return
        slots.put(("end", None))

    thread = threading.Thread(target=reader, name="stream-reader", daemon=True)
    thread.start()
    began = last = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now - began >= max_s:
                raise ServiceError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"stream lasted {max_s:g} s, the longest allowed (SEMCOM_STREAM_MAX_S); open a new one",
                )
            try:
                kind, value = slots.get(timeout=max(min(last + idle_s, began + max_s) - now, 0.0))
            except queue.Empty:
                if time.monotonic() - last >= idle_s:
                    raise ServiceError(
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        f"stream idle: no request for {idle_s:g} s with nothing in flight (SEMCOM_STREAM_IDLE_S)",
                    ) from None
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            result = value.result()
            in_flight.release()
            yield result
            last = time.monotonic()
    finally:
        stop.set()
        while True:
            try:
                kind, value = slots.get_nowait()
            except queue.Empty:
                break
            if kind == "pending":
                value.cancel()


class ReconstructServicer(receiver_pb2_grpc.ReceiverServiceServicer):
    """ReceiverService's two RPCs over a subclass's `_start(request, context) -> Pending` (one request
    started, not waited for): the receiver and the channel proxy serve the same interface."""

    stream_depth: int
    _start: Callable[[receiver_pb2.ReconstructRequest, Any], Pending[receiver_pb2.ReconstructResponse]]

    @rpc_method
    def Reconstruct(self, request, context):
        return self._start(request, context).result()

    @rpc_method
    def ReconstructStream(self, request_iterator, context):
        yield from ordered_map(request_iterator, lambda r: self._start(r, context), self.stream_depth)
