"""Ordered pipelining of a bidirectional stream: start item i+1 while item i is still in flight.

A streaming handler that handled requests strictly one by one would leave the sender's encoder
idle while the receiver denoises, and vice versa. `ordered_pipeline` reads the request stream on
a helper thread, calls `start(request)` for each (which begins the work and returns a `Pending`),
keeps at most `depth` items started and not yet consumed, and yields results in request order.

A failure in `start` or in a result ends the stream with that exception once the items before it
have been yielded. When the consumer stops (the client cancelled, the server is stopping), the
reader stops starting new work and every pending item is cancelled.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")

_POLL_S = 0.1  # how often a blocked reader re-checks whether the consumer has gone


@dataclass
class Pending(Generic[Res]):
    """Work in flight: `result()` blocks for it, `cancel()` abandons it (best effort)."""

    result: Callable[[], Res]
    cancel: Callable[[], object] = lambda: None


def ordered_pipeline(requests: Iterator[Req], start: Callable[[Req], Pending[Res]], depth: int = 2) -> Iterator[Res]:
    """Results of `start(r).result()` for every r in `requests`, in order, `depth` in flight."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
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
            for request in requests:
                if not acquire():
                    return
                try:
                    pending = start(request)
                except Exception as exc:  # noqa: BLE001 - handed to the consumer, in order
                    slots.put(("error", exc))
                    return
                slots.put(("pending", pending))
                if stop.is_set():  # the consumer left while this item was starting
                    pending.cancel()
                    return
        except Exception as exc:  # noqa: BLE001 - the request stream itself failed
            slots.put(("error", exc))
            return
        slots.put(("end", None))

    thread = threading.Thread(target=reader, name="stream-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            result = value.result()  # type: ignore[union-attr]
            in_flight.release()
            yield result
    finally:
        stop.set()
        while True:
            try:
                kind, value = slots.get_nowait()
            except queue.Empty:
                break
            if kind == "pending":
                value.cancel()  # type: ignore[union-attr]
