"""Admission of model RPCs: slots that cannot leak, and a watchdog that tells when a service is wedged.

One owner per slot. `Admission.enter` hands out a `Slot` (or None over the limit); the slot is
released exactly once, by `Slot.release` (idempotent) or by the end of the work it was handed to
(`Slot.hand_to(future)`: released from the future's done-callback, which runs on every exit path of
the future: result, exception, cancellation). Code between admission and handing the slot on uses
`with slot.until_handed():`, which releases the slot if anything raises before the hand-over. No
cleanup path calls into the work itself, so no cleanup can fail the way closing a running generator
did ("generator already executing", which leaked every slot of a cancelled stream).

The in-flight gauge is the number of live slots, and `audit` checks it against the calls actually
running: a slot whose call has ended and whose work is done, yet is still held after a grace time,
is a leak. It is logged as an error, counted (`semcom_rpc_slots_reclaimed`), and released, so the
service keeps serving while the bug is visible.

`Watchdog` turns the liveness probe NOT_SERVING when the service is wedged: every slot taken and no
call finished for `wedged_s` (SEMCOM_WEDGED_S), so an orchestrator restarts the process; liveness
turns back to SERVING if calls start finishing again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

from semcom.rpc.logs import fields
from semcom.rpc.metrics import SLOTS_RECLAIMED

log = logging.getLogger("semcom.rpc.admission")


class Slot:
    """One admitted call's share of the service's capacity; released exactly once."""

    def __init__(self, admission: Admission, method: str) -> None:
        self._admission = admission
        self.method = method
        self.taken_at = time.monotonic()
        self.ended_at: float | None = None  # when the gRPC call ended (client gone, deadline, status sent)
        self.work: Future | None = None  # the latest work the slot was handed to
        self._released = False
        self._lock = threading.Lock()

    def release(self, *_: object) -> None:
        """Give the slot back (idempotent; usable as a future's done-callback)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self._admission._leave(self)

    def call_ended(self, *_: object) -> None:
        """The gRPC call is over (a context done-callback): from now on only unfinished work may hold the slot."""
        if self.ended_at is None:
            self.ended_at = time.monotonic()

    def track(self, work: Future) -> Future:
        """Record `work` as what the call is running now (for the audit); returns it."""
        self.work = work
        return work

    def hand_to(self, work: Future) -> Future:
        """The slot is released when `work` is done, however it ends; returns `work`."""
        self.track(work)
        work.add_done_callback(self.release)
        return work

    @contextlib.contextmanager
    def until_handed(self) -> Iterator[Slot]:
        """Releases the slot if the block raises (before the slot could be handed on)."""
        try:
            yield self
        except BaseException:
            self.release()
            raise

    def busy(self) -> bool:
        """Whether the call or its work is still running."""
        return self.ended_at is None or (self.work is not None and not self.work.done())


class Admission:
    """Counts admitted calls (thread-safe); `enter` refuses beyond `limit`. The count is the number of live slots."""

    def __init__(self, limit: int, gauge: Any = None, name: str = "service") -> None:
        self.limit = limit
        self.gauge = gauge  # a prometheus Gauge child that follows `in_flight`, or None
        self.name = name
        self._lock = threading.Lock()
        self._live: set[Slot] = set()
        self.idle = threading.Condition(self._lock)
        self.finished = 0  # slots released so far
        self.last_release = time.monotonic()

    @property
    def in_flight(self) -> int:
        return len(self._live)

    def enter(self, method: str = "") -> Slot | None:
        """A new slot, or None when `limit` slots are taken."""
        with self._lock:
            if len(self._live) >= self.limit:
                return None
            slot = Slot(self, method)
            self._live.add(slot)
            self._publish()
            return slot

    def _leave(self, slot: Slot) -> None:
        with self._lock:
            self._live.discard(slot)
            self.finished += 1
            self.last_release = time.monotonic()
            self._publish()
            if not self._live:
                self.idle.notify_all()

    def _publish(self) -> None:
        if self.gauge is not None:
            self.gauge.set(len(self._live))

    def wait_idle(self, timeout: float) -> bool:
        """Whether every slot was released within `timeout` seconds."""
        with self._lock:
            return self.idle.wait_for(lambda: not self._live, timeout)

    def audit(self, grace_s: float) -> list[Slot]:
        """Release and return the slots held with nothing running: their call ended more than
        `grace_s` ago and their work is done. Each is a bug; it is logged and counted."""
        now = time.monotonic()
        with self._lock:
            live = list(self._live)
        leaked = [s for s in live if not s.busy() and s.ended_at is not None and now - s.ended_at > grace_s]
        for slot in leaked:
            log.error(
                "admission slot leaked: the call ended and nothing runs for it; reclaimed",
                extra=fields(method=slot.method, held_s=round(now - slot.taken_at, 3)),
            )
            SLOTS_RECLAIMED.labels(self.name).inc()
            slot.release()
        return leaked

    def wedged_for(self) -> float:
        """Seconds every slot has been taken with no call finishing (0 while not at the limit)."""
        with self._lock:
            if len(self._live) < self.limit:
                return 0.0
            newest = max((s.taken_at for s in self._live), default=time.monotonic())
            return time.monotonic() - max(self.last_release, newest)


class Watchdog:
    """Every `period_s`: `admission.audit(grace_s)`, and `on_wedged(True/False)` when the admission
    has been full with no call finishing for `wedged_s` (or recovers)."""

    def __init__(
        self,
        admission: Admission,
        on_wedged: Callable[[bool], None],
        wedged_s: float,
        grace_s: float = 5.0,
        period_s: float = 1.0,
    ) -> None:
        if wedged_s <= 0 or grace_s < 0 or period_s <= 0:
            raise ValueError("wedged_s and period_s must be > 0 and grace_s >= 0")
        self.admission = admission
        self.on_wedged = on_wedged
        self.wedged_s = wedged_s
        self.grace_s = grace_s
        self.period_s = period_s
        self.wedged = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{admission.name}-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> None:
        """One round: audit, then the wedge test."""
        self.admission.audit(self.grace_s)
        stuck = self.admission.wedged_for()
        wedged = stuck >= self.wedged_s
        if wedged != self.wedged:
            self.wedged = wedged
            if wedged:
                log.error(
                    "service wedged: every slot taken and no call finished; liveness NOT_SERVING",
                    extra=fields(limit=self.admission.limit, stuck_s=round(stuck, 1), wedged_s=self.wedged_s),
                )
            else:
                log.warning("calls finish again; liveness SERVING")
            self.on_wedged(wedged)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watchdog must outlive a bad round
                log.exception("watchdog round failed")
