"""A bounded admission queue with one model thread that runs queued items in dynamic batches.

Handler threads never touch the model: they `submit` an item and wait on the returned `Work`
(a future). A full queue is refused at once with `QueueFullError` (RESOURCE_EXHAUSTED), so memory
stays bounded however many clients push. The one worker thread takes the oldest item, waits up to
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
from semcom.rpc.metrics import BATCH_SIZE, QUEUE_DEPTH

log = logging.getLogger("semcom.rpc.batching")


@dataclass
class Work:
    """One queued item; `result`/`cancel` make it usable like a future."""

    item: Any
    future: Future = field(default_factory=Future)
    abandoned: threading.Event = field(default_factory=threading.Event)
    enqueued: float = field(default_factory=time.monotonic)
    queue_seconds: float = 0.0

    def result(self, timeout: float | None = None) -> Any:
        return self.future.result(timeout)

    def cancel(self) -> bool:
        """The caller has gone: drop the work if still queued (and flag it for a running batch)."""
        self.abandoned.set()
        return self.future.cancel()


class BatchQueue:
    """Bounded queue + one worker thread. `submit(item)` -> Work; `run_batch(items)` -> results."""

    def __init__(self, run_batch: Callable[[list[Any]], Sequence[Any]] | None, max_queue: int,
                 batch_max: int = 1, window_s: float = 0.01, service: str = "", thread_name: str = "batcher") -> None:
        if max_queue < 1 or batch_max < 1 or window_s < 0:
            raise ValueError("max_queue and batch_max must be >= 1 and window_s >= 0")
        self._run_batch = run_batch
        self.max_queue = max_queue
        self.batch_max = batch_max
        self.window_s = window_s
        self.service = service
        self._queue: queue.Queue[Work | None] = queue.Queue(maxsize=max_queue)
        self._closed = threading.Event()
        self._running: list[Work] = []
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> Work:
        """Queue one item; QueueFullError at once when `max_queue` items are waiting."""
        if self._closed.is_set():
            raise NotReadyError(f"{self.service or 'service'} is shutting down")
        work = Work(item)
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            raise QueueFullError(
                f"{self.service or 'service'} queue is full ({self.max_queue} requests waiting, SEMCOM_MAX_QUEUE); "
                "retry later"
            ) from None
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
            try:
                results = self.run_batch([w.item for w in running])
            except BaseException as exc:  # noqa: BLE001 - a failed batch fails its requests, not the thread
                self.batch_failed(running, exc)
                continue
            finally:
                self._running = []
            for work, result in zip(running, results):
                if isinstance(result, BaseException):
                    work.future.set_exception(result)
                else:
                    self.deliver(work, result)
