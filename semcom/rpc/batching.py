"""A bounded admission queue with one model thread that runs queued items in dynamic batches.

Handler threads never touch the model: they `submit` an item and wait on the returned `Work`
(a future). A full queue is refused at once with `QueueFullError` (RESOURCE_EXHAUSTED), so memory
stays bounded however many clients push. Admission is also by cost: each item has a price
(output pixels x DDIM steps, in megapixels; `cost`) and queued + running work may not exceed
`cost_budget` (SEMCOM_COST_BUDGET); a refusal carries a retry hint (`retry_after_ms`, from the
measured seconds per cost unit). Crossing the high-water mark calls `on_pressure`, which turns the
service's readiness NOT_SERVING until the queue falls back. The one worker thread takes the oldest item, waits up to
`window_s` for more (at most `batch_max` in all) and hands them to `run_batch`, which returns one
result or exception per item, in order. With `batch_max` = 1 the window is skipped and items run
one at a time. An item whose caller has gone before it started is skipped.

Used by the receiver (`receiver_service.batching`, which adds stopping a running batch between
DDIM steps) and the sender (captioning + encoding, `sender_service.servicer`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from semcom.rpc.errors import NotReadyError, QueueFullError
from semcom.rpc.logs import fields
from semcom.rpc.metrics import ADMISSION_REFUSED, BATCH_SIZE, QUEUE_DEPTH

log = logging.getLogger("semcom.rpc.batching")


@dataclass
class Work:
    """One queued item; `result`/`cancel` make it usable like a future."""

    item: Any
    future: Future = field(default_factory=Future)
    abandoned: threading.Event = field(default_factory=threading.Event)
    enqueued: float = field(default_factory=time.monotonic)
    queue_seconds: float = 0.0
    cost: float = 0.0
    settled: bool = False

    def result(self, timeout: float | None = None) -> Any:
        return self.future.result(timeout)

    def cancel(self) -> bool:
        """The caller has gone: drop the work if still queued (and flag it for a running batch)."""
        self.abandoned.set()
        return self.future.cancel()


class BatchQueue:
    """Bounded queue + one worker thread. `submit(item)` -> Work; `run_batch(items)` -> results."""

    def __init__(
        self,
        run_batch: Callable[[list[Any]], Sequence[Any]] | None,
        max_queue: int,
        batch_max: int = 1,
        window_s: float = 0.01,
        service: str = "",
        thread_name: str = "batcher",
        cost: Callable[[Any], float] | None = None,
        cost_budget: float = float("inf"),
        high_water: float = 1.0,
        on_pressure: Callable[[bool], None] | None = None,
        retry_pushback_ms: int = 1000,
    ) -> None:
        """`cost(item)`: the item's price in budget units (megapixel-steps); queued + running
        cost may not exceed `cost_budget` (an item alone is always admitted: its size is bounded
        by `semcom.rpc.limits`). `on_pressure(True)` is called when the queue goes above
        `high_water` (a fraction of `max_queue` or of `cost_budget`), `on_pressure(False)` when it
        falls back below (readiness follows it)."""
        if max_queue < 1 or batch_max < 1 or window_s < 0 or cost_budget <= 0 or not 0 < high_water <= 1:
            raise ValueError(
                "max_queue and batch_max must be >= 1, window_s >= 0, cost_budget > 0, 0 < high_water <= 1"
            )
        self._run_batch = run_batch
        self._cost = cost or (lambda _item: 0.0)
        self.cost_budget = cost_budget
        self.high_water = high_water
        self.on_pressure = on_pressure
        self.retry_pushback_ms = retry_pushback_ms
        self._lock = threading.Lock()
        self.outstanding_cost = 0.0  # queued + running
        self.outstanding = 0
        self._pressure = False
        self._seconds_per_cost = 0.0  # measured: batch seconds / batch cost (0 until measured)
        self.max_queue = max_queue
        self.batch_max = batch_max
        self.window_s = window_s
        self.service = service
        self._queue: queue.Queue[Work | None] = queue.Queue(maxsize=max_queue)
        self._closed = threading.Event()
        self._running: list[Work] = []
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)
        self._thread.start()

    def retry_after_ms(self) -> int:
        """When to retry: the measured time to work off what is outstanding (else the default)."""
        if self._seconds_per_cost <= 0 or self.outstanding_cost <= 0:
            return self.retry_pushback_ms
        return int(min(max(self._seconds_per_cost * self.outstanding_cost * 1000, 50), 60_000))

    def _refuse(self, reason: str, message: str) -> QueueFullError:
        ADMISSION_REFUSED.labels(self.service or "service", reason).inc()
        return QueueFullError(message, self.retry_after_ms())

    def _update_pressure(self) -> None:
        """Call under `_lock`; notifies `on_pressure` (outside callers' locks, on this thread)."""
        above = (
            self.outstanding > self.high_water * self.max_queue
            or self.outstanding_cost > self.high_water * self.cost_budget
        )
        if above != self._pressure:
            self._pressure = above
            if self.on_pressure is not None:
                try:
                    self.on_pressure(above)
                except Exception:  # noqa: BLE001 - readiness reporting must not fail the request
                    log.warning("readiness update failed", exc_info=True)

    def _settle(self, work: Work) -> None:
        """`work` is finished, failed or skipped: its cost leaves the budget (once)."""
        with self._lock:
            if work.settled:
                return
            work.settled = True
            self.outstanding -= 1
            self.outstanding_cost -= work.cost
            if self.outstanding == 0:
                self.outstanding_cost = 0.0  # no float drift
            self._update_pressure()

    def submit(self, item: Any) -> Work:
        """Queue one item; QueueFullError at once when `max_queue` items are waiting or the
        item's cost does not fit in what is left of the cost budget."""
        if self._closed.is_set():
            raise NotReadyError(f"{self.service or 'service'} is shutting down")
        cost = float(self._cost(item))
        work = Work(item)
        work.cost = cost
        with self._lock:
            if self.outstanding and self.outstanding_cost + cost > self.cost_budget:
                raise self._refuse(
                    "cost",
                    f"{self.service or 'service'} is at capacity: {self.outstanding_cost:.3g} + {cost:.3g} megapixel-steps "
                    f"over the budget of {self.cost_budget:g} (SEMCOM_COST_BUDGET); retry later",
                )
            try:
                self._queue.put_nowait(work)
            except queue.Full:
                raise self._refuse(
                    "queue",
                    f"{self.service or 'service'} queue is full ({self.max_queue} requests waiting, SEMCOM_MAX_QUEUE); "
                    "retry later",
                ) from None
            self.outstanding += 1
            self.outstanding_cost += cost
            self._update_pressure()
        work.future.add_done_callback(lambda _f: self._settle(work))
        QUEUE_DEPTH.labels(self.service).set(self._queue.qsize())
        return work

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the batch in progress; queued items that never started are cancelled."""
        self._closed.set()
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work.future.cancel()
        try:
            self._queue.put(None, timeout=timeout)  # just drained; submit() refuses new work now
        except queue.Full:
            pass  # the daemon thread dies with the process
        self._thread.join(timeout)

    # ------------------------------------------------------------------ hooks for subclasses

    def run_batch(self, items: list[Any]) -> Sequence[Any]:
        """One result (or exception instance) per item, in order; an exception raised fails them all."""
        if self._run_batch is None:
            raise NotImplementedError("pass run_batch or override BatchQueue.run_batch")
        return self._run_batch(items)

    def batch_failed(self, running: list[Work], exc: BaseException) -> None:
        """`run_batch` raised: every item of the batch fails with `exc`."""
        log.error("batch failed", extra=fields(size=len(running)), exc_info=exc)
        for work in running:
            work.future.set_exception(exc)

    def deliver(self, work: Work, result: Any) -> None:
        """Hand one successful result to its caller."""
        work.future.set_result(result)

    # ------------------------------------------------------------------ worker thread

    def _collect(self, first: Work) -> list[Work]:
        batch = [first]
        deadline = time.monotonic() + self.window_s
        while len(batch) < self.batch_max:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                work = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if work is None:  # close() was called: finish this batch, then stop
                self._queue.put(None)
                break
            batch.append(work)
        return batch

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._collect(first) if self.batch_max > 1 else [first]
            QUEUE_DEPTH.labels(self.service).set(self._queue.qsize())
            now = time.monotonic()
            running = [w for w in batch if w.future.set_running_or_notify_cancel()]
            if not running:
                continue
            for work in running:
                work.queue_seconds = now - work.enqueued
            BATCH_SIZE.labels(self.service).observe(len(running))
            self._running = running
            t_batch = time.monotonic()
            try:
                results = self.run_batch([w.item for w in running])
            except BaseException as exc:  # noqa: BLE001 - a failed batch fails its requests, not the thread
                self.batch_failed(running, exc)
                continue
            finally:
                self._running = []
            batch_cost = sum(w.cost for w in running)
            if batch_cost > 0:  # exponential average of seconds per cost unit, for the retry hint
                rate = (time.monotonic() - t_batch) / batch_cost
                self._seconds_per_cost = (
                    rate if self._seconds_per_cost <= 0 else 0.8 * self._seconds_per_cost + 0.2 * rate
                )
            for work, result in zip(running, results):
                if isinstance(result, BaseException):
                    work.future.set_exception(result)
                else:
                    self.deliver(work, result)
