"""Back-pressure across hops: a hop never sends its downstream more calls than the downstream admits.

Where queues live (docs/services.md, "Admission and back-pressure"):

* The client holds none: a refusal (RESOURCE_EXHAUSTED with ``grpc-retry-pushback-ms``) comes at
  the front door, before any work, and the client retries after the hint.
* The front hop (the sender) admits at most SEMCOM_MAX_WORKERS streams/calls. Its admitted work
  may have more downstream calls ready than the downstream takes (a stream pipelines 2 images);
  those wait here, in `DownstreamGate`, for one of SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT permits, each
  for at most its call's remaining deadline. The queue is bounded by what was admitted
  (SEMCOM_MAX_WORKERS x the stream depth).
* Inner hops (channel, receiver) queue nothing beyond their admission: the hop in front of them
  sends at most what they admit, so an admitted stream does not fail part-way for lack of
  downstream capacity. Size SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT to the downstream's SEMCOM_MAX_WORKERS
  times its replicas. When another client shares the downstream and it still refuses, the hop's
  channel retries RESOURCE_EXHAUSTED after the downstream's hint (bounded attempts, within the
  deadline; `semcom.rpc.upstream`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from semcom.rpc.metrics import DOWNSTREAM_WAITING

_POLL_S = 0.05  # how often a waiting call re-checks that its own caller is still there


class DownstreamGate:
    """At most `limit` downstream calls at once; `acquire` waits within a deadline."""

    def __init__(self, limit: int, service: str = "service") -> None:
        if limit < 1:
            raise ValueError(f"downstream limit must be >= 1, got {limit}")
        self.limit = limit
        self._permits = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.waiting = 0
        self._gauge = DOWNSTREAM_WAITING.labels(service)

    def acquire(self, timeout_s: float, context: Any = None) -> bool:
        """A permit within `timeout_s`, or False (timed out, or `context` is no longer active)."""
        end = time.monotonic() + max(timeout_s, 0.0)
        if self._permits.acquire(blocking=False):
            return self._taken()
        with self._lock:
            self.waiting += 1
            self._gauge.set(self.waiting)
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0 or (context is not None and not context.is_active()):
                    return False
                if self._permits.acquire(timeout=min(left, _POLL_S)):
                    return self._taken()
        finally:
            with self._lock:
                self.waiting -= 1
                self._gauge.set(self.waiting)

    def _taken(self) -> bool:
        with self._lock:
            self.in_flight += 1
        return True

    def release(self, *_: object) -> None:
        """Give a permit back (usable as a call future's done-callback; once per acquire)."""
        with self._lock:
            self.in_flight -= 1
        self._permits.release()
