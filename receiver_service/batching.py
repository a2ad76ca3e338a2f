"""The receiver's admission queue and dynamic batcher (on `semcom.rpc.batching.BatchQueue`).

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
from typing import Any

import grpc

from semcom.rpc.batching import BatchQueue, Work
from semcom.rpc.errors import ServiceError
from semcom.rpc.logs import fields
from semcom.rpc.metrics import ABANDONED

log = logging.getLogger("receiver_service.batching")

__all__ = ["BatchAbandoned", "Batcher", "Work"]


def reconstruction_cost(item: Any) -> float:
    """Megapixel-steps of one queued reconstruction: coded width x height x DDIM steps / 1e6."""
    packet, params = item[0], item[1]
    width, height = getattr(packet, "coded_size", (0, 0)) or (0, 0)
    steps = getattr(params, "num_inference_steps", 1) or 1
    return max(int(width), 1) * max(int(height), 1) * int(steps) / 1e6


class BatchAbandoned(Exception):
    """Raised between denoising steps when every caller of the running batch has gone."""


class Batcher(BatchQueue):
    """Bounded queue + one model thread around `Receiver.reconstruct_batch`. `submit` -> Work[ReconResult]."""

    def __init__(
        self,
        receiver: Any,
        max_queue: int,
        batch_max: int = 1,
        window_s: float = 0.01,
        service: str = "receiver",
        **admission: Any,
    ) -> None:
        """`admission`: cost_budget, high_water, on_pressure, retry_pushback_ms (see BatchQueue);
        an item costs output pixels x DDIM steps / 1e6 (`reconstruction_cost`)."""
        self.receiver = receiver
        if hasattr(receiver, "on_step"):
            receiver.on_step = self._between_steps
        super().__init__(None, max_queue, batch_max, window_s, service, cost=reconstruction_cost, **admission)

    def submit(self, packet: Any, params: Any, snr_db: float | None = None, link: Any = None) -> Work:  # type: ignore[override]
        """Queue one reconstruction; QueueFullError at once when `max_queue` requests are waiting.

        `link`: the ChannelConfig the proxy reported (for `params.latent_repair`), or None."""
        return super().submit((packet, params, snr_db, link))

    def run_batch(self, items: list[Any]) -> list[Any]:
        return self.receiver.reconstruct_batch(items, return_exceptions=True)

    def batch_failed(self, running: list[Work], exc: BaseException) -> None:
        if not isinstance(exc, BatchAbandoned):
            super().batch_failed(running, exc)
            return
        ABANDONED.labels(self.service).inc()
        log.info("batch abandoned by its callers", extra=fields(size=len(running)))
        for work in running:
            work.future.set_exception(ServiceError(grpc.StatusCode.CANCELLED, str(exc)))

    def deliver(self, work: Work, result: Any) -> None:
        result.timings["queue"] = work.queue_seconds
        work.future.set_result(result)

    def _between_steps(self, _step: int, _latents: Any) -> None:
        """`Receiver.on_step` hook, called on the batcher thread after every DDIM step."""
        running = self._running
        if running and all(w.abandoned.is_set() for w in running):
            raise BatchAbandoned(f"all {len(running)} callers of the running batch have gone")
