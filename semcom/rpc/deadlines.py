"""The caller's deadline, carried through every hop.

Each service passes the time its own caller has left (`remaining`) as the timeout of its
downstream call, so the whole chain gives up together; a call without a deadline gets
SEMCOM_DEADLINE_S. `wait` blocks on a future for at most that long, and cancelling the call
(`context.add_callback`) cancels the future, so abandoned work is dropped rather than finished.
`call_downstream` is the forward-and-wait step a proxying hop builds from the two.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

import grpc

from semcom import config
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.errors import ServiceError
from semcom.rpc.ordered import Pending

Res = TypeVar("Res")


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


def call_downstream(
    method: Any,
    request: Any,
    context: grpc.ServicerContext,
    hop: str,
    on_error: Callable[[BaseException], object],
    finish: Callable[[Any, float], Res],
    gate: DownstreamGate | None = None,
) -> Pending[Res]:
    """Start `method.future(request)` within the caller's deadline and return it as a `Pending`.

    Its `result()` waits for the response (same deadline; see `wait`), reports a failure to
    `on_error` before re-raising it, and returns `finish(response, round_trip_seconds)`. Its
    `cancel()` cancels the downstream call. This is the forward-and-wait step of every proxying hop
    (sender -> channel -> receiver).

    With a `gate` the call first waits for a downstream permit (within the deadline; the permit
    goes back when the downstream call ends), so the hop never sends more than its downstream
    admits (`semcom.rpc.backpressure`).
    """
    t_call = time.monotonic()
    if gate is not None:
        if not gate.acquire(remaining(context), context):
            exc = ServiceError(
                grpc.StatusCode.DEADLINE_EXCEEDED if context.is_active() else grpc.StatusCode.CANCELLED,
                f"no capacity at the {hop} within the call's deadline "
                f"({gate.limit} calls in flight, SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT)",
            )
            on_error(exc)
            raise exc
        try:
            future = method.future(request, timeout=remaining(context))
        except BaseException:
            gate.release()
            raise
        future.add_done_callback(gate.release)
    else:
        future = method.future(request, timeout=remaining(context))

    def result() -> Res:
        try:
            response = wait(future, context, hop)
        except Exception as exc:
            on_error(exc)
            raise
        return finish(response, time.monotonic() - t_call)

    return Pending(result, future.cancel)


def add_hop_network(timings: MutableMapping[str, float], rtt: float, downstream: str = "receiver") -> float:
    """Add to `timings["network"]` the part of a downstream call's round trip `rtt` that the
    downstream service did not spend (its wall time, `timings[downstream]`); returns that part."""
    hop = max(rtt - timings.get(downstream, 0.0), 0.0)
    timings["network"] = timings.get("network", 0.0) + hop
    return hop
