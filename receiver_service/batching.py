"""The receiver's admission queue and dynamic batcher.

Handler threads never touch the model. They `submit` work to a bounded queue (SEMCOM_MAX_QUEUE
entries) and wait on a future; a full queue is refused at once with `QueueFullError`
(RESOURCE_EXHAUSTED), so memory stays bounded however many clients push. One batcher thread owns
the model: it takes the oldest request, waits up to SEMCOM_BATCH_WINDOW_MS for more (at most
SEMCOM_BATCH_MAX in all), and hands them to `Receiver.reconstruct_batch`, which runs the ones with
compatible settings (schedule, k, guidance, latent shape) as one batch and keeps every request's
own seed. With SEMCOM_BATCH_MAX = 1 the window is skipped and requests run one at a time.

A request whose caller has gone (cancelled, deadline passed) is skipped if it has not started;
a batch already denoising is stopped between two DDIM steps (through `Receiver.on_step`) once
every one of its callers has gone, so abandoned work does not hold the model.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import grpc

from semcom.rpc.errors import NotReadyError, QueueFullError, ServiceError
from semcom.rpc.logs import fields
from semcom.rpc.metrics import ABANDONED, BATCH_SIZE, QUEUE_DEPTH

log = logging.getLogger("receiver_service.batching")


class BatchAbandoned(Exception):
    """Raised between denoising steps when every caller of the running batch has gone."""


@dataclass
class Work:
    """One queued reconstruction; `result`/`cancel` make it usable like a future."""

    packet: Any  # semcom.payload.SemanticPacket
    params: Any  # semcom.models.ReconParams
    snr_db: float | None
    future: Future = field(default_factory=Future)
    abandoned: threading.Event = field(default_factory=threading.Event)
    enqueued: float = field(default_factory=time.monotonic)
    queue_seconds: float = 0.0

    def result(self, timeout: float | None = None) -> Any:
        return self.future.result(timeout)

    def cancel(self) -> bool:
        """The caller has gone: drop the work if queued, stop it at the next step if running."""
        self.abandoned.set()
        return self.future.cancel()


class Batcher:
    """Bounded queue + one model thread. `submit` -> Future[ReconResult]."""

    def __init__(self, receiver: Any, max_queue: int, batch_max: int = 1, window_s: float = 0.01,
                 service: str = "receiver") -> None:
        if max_queue < 1 or batch_max < 1 or window_s < 0:
            raise ValueError("max_queue and batch_max must be >= 1 and window_s >= 0")
        self.receiver = receiver
        self.max_queue = max_queue
        self.batch_max = batch_max
        self.window_s = window_s
        self.service = service
        self._queue: queue.Queue[Work | None] = queue.Queue(maxsize=max_queue)
        self._closed = threading.Event()
        self._running: list[Work] = []
        if hasattr(receiver, "on_step"):
            receiver.on_step = self._between_steps
        self._thread = threading.Thread(target=self._loop, name="batcher", daemon=True)
        self._thread.start()

    def submit(self, packet: Any, params: Any, snr_db: float | None = None) -> Work:
        """Queue one reconstruction; QueueFullError at once when `max_queue` requests are waiting."""
        if self._closed.is_set():
            raise NotReadyError("receiver is shutting down")
        work = Work(packet, params, snr_db)
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            raise QueueFullError(
                f"receiver queue is full ({self.max_queue} requests waiting, SEMCOM_MAX_QUEUE); retry later"
            ) from None
        QUEUE_DEPTH.labels(self.service).set(self._queue.qsize())
        return work

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the batch in progress; queued requests that never started are cancelled."""
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

    def _between_steps(self, _step: int, _latents: Any) -> None:
        """`Receiver.on_step` hook, called on the batcher thread after every DDIM step."""
        if self._running and all(w.abandoned.is_set() for w in self._running):
            raise BatchAbandoned(f"all {len(self._running)} callers of the running batch have gone")

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
                results = self.receiver.reconstruct_batch(
                    [(w.packet, w.params, w.snr_db) for w in running], return_exceptions=True
                )
            except BatchAbandoned as exc:
                ABANDONED.labels(self.service).inc()
                log.info("batch abandoned by its callers", extra=fields(size=len(running)))
                for work in running:
                    work.future.set_exception(ServiceError(grpc.StatusCode.CANCELLED, str(exc)))
                continue
            except BaseException as exc:  # noqa: BLE001 - a failed batch fails its requests, not the thread
                log.error("batch failed", extra=fields(size=len(running)), exc_info=exc)
                for work in running:
                    work.future.set_exception(exc)
                continue
            finally:
                self._running = []
            for work, result in zip(running, results):
                if isinstance(result, BaseException):
                    work.future.set_exception(result)
                else:
                    result.timings["queue"] = work.queue_seconds
                    work.future.set_result(result)
