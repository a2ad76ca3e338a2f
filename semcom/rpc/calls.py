"""The pieces of a served call, below `semcom.rpc.server.ServiceHost`: the process's grpc.aio event
loop, tolerant request decoding, the synchronous-context bridge, and `StreamRun`, which drives a
synchronous response generator on the pool together with its admission slot."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import grpc

from semcom.rpc.admission import Slot
from semcom.rpc.errors import InvalidRequestError

log = logging.getLogger("semcom.rpc.server")


# --------------------------------------------------------------------------- the event loop

_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def event_loop() -> asyncio.AbstractEventLoop:
    """The process's one asyncio loop for grpc.aio servers (grpc.aio wants one loop per process)."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="grpc-aio-loop", daemon=True).start()
            _LOOP = loop
        return _LOOP


def on_loop(coro, timeout: float | None = 30.0) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, event_loop()).result(timeout)


# --------------------------------------------------------------------------- request decoding


class Undecodable:
    """What the tolerant deserializer returns for bytes that are not the expected message."""

    def __init__(self, message: str) -> None:
        self.message = message


def tolerant_deserializer(deserialize: Callable[[bytes], Any], what: str) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as exc:  # noqa: BLE001 - google.protobuf.message.DecodeError and kin
            return Undecodable(f"request is not a valid {what} protobuf ({type(exc).__name__}: {exc})")

    return decode


def checked_requests(requests) -> Iterator[Any]:
    """A request stream that ends the call with INVALID_ARGUMENT at an undecodable message."""
    for request in requests:
        if isinstance(request, Undecodable):
            raise InvalidRequestError(request.message)
        yield request


# --------------------------------------------------------------------------- handler wrapping


class Abort(Exception):
    """`abort` called by a synchronous handler running under an async wrapper."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class BridgeContext:
    """The synchronous ServicerContext API over a grpc.aio context, for a synchronous handler
    that an async wrapper runs on the thread pool: `abort` raises `Abort` (the wrapper ends the
    call), `add_callback` runs at the end of the call, `is_active` is False after it."""

    def __init__(self, context) -> None:
        self._context = context
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []
        self._done = False
        try:
            context.add_done_callback(lambda _ctx: self.finish())
        except Exception:  # noqa: BLE001 - the wrapper calls finish() itself at the end
            pass

    def finish(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a callback must not break the others
                log.debug("end-of-call callback failed", exc_info=True)

    def add_callback(self, callback: Callable[[], object]) -> bool:
        with self._lock:
            if not self._done:
                self._callbacks.append(callback)
                return True
        callback()
        return True

    def is_active(self) -> bool:
        return not self._done

    def abort(self, code: grpc.StatusCode, details: str = "") -> None:
        raise Abort(code, details)

    def __getattr__(self, name: str) -> Any:  # time_remaining, set_trailing_metadata, auth_context ...
        return getattr(self._context, name)


END = object()  # end of a request or response stream


class StreamRun:
    """A synchronous response generator driven one item at a time on the pool, with its slot.

    Every operation on the generator runs on a pool thread, one after the other: `step()` submits
    the next item (a `concurrent.futures.Future`), `close()` schedules closing the generator and
    releasing the slot *after* the step in progress, if any, has returned. So a stream cancelled
    while an item is inside the model frees its slot when that item's thread is done, and the
    generator is never closed while it runs."""

    def __init__(self, pool: ThreadPoolExecutor, make: Callable[[], Any], slot: Slot) -> None:
        self._pool = pool
        self._make = make
        self._slot = slot
        self._generator: Any = None
        self._lock = threading.Lock()
        self._step: Future | None = None
        self._closed = False

    def _advance(self) -> Any:
        if self._generator is None:
            self._generator = self._make()
        return next(self._generator, END)

    def step(self) -> Future:
        with self._lock:
            if self._closed:
                raise RuntimeError("stream run is closed")
            self._step = self._slot.track(self._pool.submit(self._advance))
            return self._step

    def close(self) -> None:
        """Close the generator and release the slot once no step runs (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            step = self._step
        if step is None:
            self._finish()
        else:
            step.add_done_callback(self._finish)  # runs at once if the step is already done

    def _finish(self, *_: object) -> None:
        try:
            if self._generator is not None:
                self._generator.close()
        except Exception:  # noqa: BLE001 - the generator's own cleanup failed: logged, the slot still goes back
            log.warning("stream cleanup failed", exc_info=True)
        finally:
            self._slot.release()


def peer_sans(context) -> list[str]:
    try:
        auth = context.auth_context()
    except Exception:  # noqa: BLE001 - no auth context: no identity
        return []
    return [v.decode("utf-8", "replace") for v in auth.get("x509_subject_alternative_name", [])]
