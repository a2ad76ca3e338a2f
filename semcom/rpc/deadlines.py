"""The caller's deadline, carried through every hop.

Each service passes the time its own caller has left (`remaining`) as the timeout of its
downstream call, so the whole chain gives up together; a call without a deadline gets
SEMCOM_DEADLINE_S. `wait` blocks on a future for at most that long, and cancelling the call
(`context.add_callback`) cancels the future, so abandoned work is dropped rather than finished.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import grpc

from semcom import config
from semcom.rpc.errors import ServiceError


def remaining(context: grpc.ServicerContext, default_s: float | None = None) -> float:
    """Seconds the caller has left (SEMCOM_DEADLINE_S when it set no deadline)."""
    left = context.time_remaining()
    if left is None:
        return float(default_s if default_s is not None else config.get("SEMCOM_DEADLINE_S"))
    return max(float(left), 0.0)


def wait(future: Any, context: grpc.ServicerContext, what: str) -> Any:
    """`future.result()` within the caller's deadline; the call's end cancels the future.

    Works for `concurrent.futures.Future` and for gRPC call futures (whose `result()` raises the
    downstream's `grpc.RpcError`, mapped to a status by `semcom.rpc.errors`).
    """
    context.add_callback(future.cancel)
    try:
        return future.result(timeout=remaining(context))
    except (concurrent.futures.TimeoutError, grpc.FutureTimeoutError):
        future.cancel()
        raise TimeoutError(f"deadline exceeded waiting for {what}") from None
    except (concurrent.futures.CancelledError, grpc.FutureCancelledError):
        raise ServiceError(grpc.StatusCode.CANCELLED, f"{what} was cancelled") from None
