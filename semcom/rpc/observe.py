"""The decorator every servicer method wears: status mapping, access log, RPC metrics.

``@rpc_method`` wraps a unary or a response-streaming handler. Whatever escapes the handler is
mapped to a status by `semcom.rpc.errors.status_for` (the one mapping table), logged as one
structured line, counted in ``semcom_rpc_total``, and ends the call through `context.abort`.
The servicer instance supplies ``service_name`` (label and log field) and ``hop`` (how a
downstream failure is described, e.g. "receiver at 10.0.0.7:50053").
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from semcom import config
from semcom.rpc.errors import status_for
from semcom.rpc.logs import fields
from semcom.rpc.metrics import observe_rpc

log = logging.getLogger("semcom.rpc")
RETRY_PUSHBACK = "grpc-retry-pushback-ms"  # a negative value: "do not retry this call"


def _finish(
    servicer: Any, method: str, start: float, code: grpc.StatusCode, message: str = "", exc: BaseException | None = None
) -> None:
    seconds = time.monotonic() - start
    service = getattr(servicer, "service_name", "service")
    observe_rpc(service, method, code.name, seconds)
    extra = fields(method=method, code=code.name, seconds=round(seconds, 6), **({"error": message} if message else {}))
    if exc is not None:
        log.error("rpc failed", extra=extra, exc_info=exc)
    elif code in (grpc.StatusCode.OK, grpc.StatusCode.CANCELLED):
        log.info("rpc done", extra=extra)
    else:
        log.warning("rpc failed", extra=extra)


def _abort(servicer: Any, context: grpc.ServicerContext, method: str, start: float, exc: Exception) -> None:
    status = status_for(exc, getattr(servicer, "hop", "downstream"))
    if not context.is_active():  # the client went away: nobody to tell
        _finish(servicer, method, start, grpc.StatusCode.CANCELLED, "client cancelled")
        return
    _finish(servicer, method, start, status.code, status.message, exc if status.internal else None)
    if status.code == grpc.StatusCode.UNAVAILABLE and isinstance(exc, grpc.RpcError):
        # This server is up; a hop behind it is not, and that hop has had its own retries. Tell
        # the caller's retry policy not to retry (gRPC retry pushback), or retries multiply per hop.
        context.set_trailing_metadata(((RETRY_PUSHBACK, "-1"),))
    elif status.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        # Over capacity: tell the caller when to try again (the client honours this key).
        hint = getattr(exc, "retry_after_ms", None)
        hint = config.get("SEMCOM_RETRY_PUSHBACK_MS") if hint is None else hint
        context.set_trailing_metadata(((RETRY_PUSHBACK, str(int(hint))),))
    context.abort(status.code, status.message)


def rpc_method(handler: Callable) -> Callable:
    """Decorate a servicer method (unary or server-streaming) with status mapping and metrics."""
    method = handler.__name__

    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def stream_wrapper(self, request, context: grpc.ServicerContext) -> Iterator:
            start = time.monotonic()
            try:
                yield from handler(self, request, context)
            except Exception as exc:  # noqa: BLE001 - every error becomes a status, in one place
                _abort(self, context, method, start, exc)
            except BaseException:  # the generator was closed: the client cancelled or the server stops
                _finish(self, method, start, grpc.StatusCode.CANCELLED, "stream closed by the client")
                raise
            else:
                _finish(self, method, start, grpc.StatusCode.OK)

        return stream_wrapper

    @functools.wraps(handler)
    def unary_wrapper(self, request, context: grpc.ServicerContext):
        start = time.monotonic()
        try:
            response = handler(self, request, context)
        except Exception as exc:  # noqa: BLE001
            _abort(self, context, method, start, exc)
            return None
        _finish(self, method, start, grpc.StatusCode.OK)
        return response

    return unary_wrapper
