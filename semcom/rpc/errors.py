"""Exceptions -> gRPC status codes, in one place.

Servicers never call `context.abort` themselves for an error a core raised: they let it
propagate, and the `rpc_method` decorator (see `semcom.rpc.observe`) turns it into a status with
`status_for`. The mapping:

=========================================  =====================  =====================================
exception                                  status                 why
=========================================  =====================  =====================================
`ServiceError` (carries its own code)      its code               raised by the service layer itself
`ValueError` (cores validate with it)      INVALID_ARGUMENT       the request cannot be served as sent
`QueueFullError`                           RESOURCE_EXHAUSTED     the receiver's admission queue is full
`NotReadyError`                            UNAVAILABLE            models still loading / shutting down
`grpc.RpcError` from a downstream call     the downstream code    propagated, message says which hop
`TimeoutError`                             DEADLINE_EXCEEDED      the caller's deadline ran out here
anything else                              INTERNAL               a bug: logged with its traceback
=========================================  =====================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc


class ServiceError(Exception):
    """An error the service layer raises with an explicit status code."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidRequestError(ServiceError, ValueError):
    """The request is malformed (bad image bytes, unknown enum value, parameters out of range)."""

    def __init__(self, message: str) -> None:
        super().__init__(grpc.StatusCode.INVALID_ARGUMENT, message)


class QueueFullError(ServiceError):
    """A bounded admission (workers, queue, cost budget) is full: the client should back off and
    retry after `retry_after_ms` (sent as trailing metadata ``grpc-retry-pushback-ms``)."""

    def __init__(self, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
        self.retry_after_ms = retry_after_ms


class LimitError(InvalidRequestError):
    """A client-controlled size is over its documented bound; the message names the setting."""


class NotReadyError(ServiceError):
    """The service cannot take work now: models still loading, or it is draining for shutdown."""

    def __init__(self, message: str) -> None:
        super().__init__(grpc.StatusCode.UNAVAILABLE, message)


# A status message travels in trailing metadata, which gRPC caps (8 KiB soft, 16 KiB hard) and a
# message may quote client input (an unknown MCS name, say): longer ones are cut, saying so, so the
# client reads the precise status instead of a metadata-size failure.
MAX_STATUS_CHARS = 1000


@dataclass(frozen=True)
class Status:
    code: grpc.StatusCode
    message: str
    internal: bool = False  # True: an unexpected exception (log the traceback)

    def __post_init__(self) -> None:
        if len(self.message) > MAX_STATUS_CHARS:
            cut = f"{self.message[:MAX_STATUS_CHARS]}... (cut: {len(self.message):,} characters)"
            object.__setattr__(self, "message", cut)


def status_for(exc: BaseException, hop: str = "service") -> Status:
    """The status a handler ends with when `exc` escapes it. `hop` names the downstream."""
    if isinstance(exc, ServiceError):
        return Status(exc.code, exc.message)
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        # prefixed with the hop it came from; a deeper hop's prefix stays, so the client reads the
        # whole path ("downstream channel at X: downstream receiver at Y unavailable: ...")
        code, details = exc.code(), exc.details() if hasattr(exc, "details") else str(exc)
        if code == grpc.StatusCode.UNAVAILABLE:
            return Status(code, f"downstream {hop} unavailable: {details}")
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return Status(code, f"deadline exceeded waiting for downstream {hop}: {details}")
        return Status(code, f"downstream {hop}: {details}")
    if isinstance(exc, ValueError):
        return Status(grpc.StatusCode.INVALID_ARGUMENT, str(exc) or type(exc).__name__)
    if isinstance(exc, TimeoutError):
        return Status(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc) or "deadline exceeded")
    return Status(grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__}): {exc}", internal=True)
