"""Server bootstrap shared by the three services: a grpc.aio server with health and reflection on
its event loop, the (synchronous) servicers on a bounded thread pool, admission, limits, TLS, and
the lifecycle NOT_SERVING -> SERVING -> draining -> stopped.

    host = ServiceHost("receiver", ServerOptions.from_settings("SEMCOM_RECEIVER_PORT"))
    host.add(receiver_pb2.DESCRIPTOR.services_by_name["ReceiverService"], servicer,
             receiver_pb2_grpc.add_ReceiverServiceServicer_to_server)
    host.start()                      # listening; readiness NOT_SERVING, liveness SERVING
    ...load models...
    host.set_serving()                # readiness SERVING
    host.run_until_signal()           # SIGTERM/SIGINT: NOT_SERVING at once, drain, stop

Design (docs/services.md, "Concurrency"):

* Control plane on the event loop. Health (`grpc_health.v1` aio servicer) and reflection are
  async handlers: they never wait for a thread, so a busy or stuck model cannot starve them.
* Model RPCs through async wrappers (the services declare unary calls and bidirectional streams
  only): each is admitted on the event loop before any thread is used (a stream when its first
  request arrives, so an idle stream holds no thread and no slot) and then runs the synchronous
  servicer on a bounded pool. At most SEMCOM_MAX_WORKERS model calls/streams at once (never
  health/reflection); one more is refused at once with RESOURCE_EXHAUSTED and a retry hint in the
  trailing metadata ``grpc-retry-pushback-ms``. The pool has more threads than the cap and a slot
  is freed only when its thread is done, so an admitted call never waits for a thread and nothing
  queues without bound. The call's end reaches the servicer through `BridgeContext`.
* Slots cannot leak (`semcom.rpc.admission`): one `Slot` per admitted call, released exactly once
  by the done-callback of the work it was handed to; a stream's generator is stepped and closed
  only on pool threads, one operation after the other (`StreamRun`), so cancelling a stream while
  an item is inside the model frees its slot when that item's thread returns. A watchdog audits the
  slots against the calls actually running and turns liveness NOT_SERVING when the service is
  wedged (every slot taken, no call finishing for SEMCOM_WEDGED_S).
* Health names: ``""`` and each service name = readiness (models loaded, not draining, model
  queue below its high-water mark); ``"liveness"`` = the process answers (SERVING from `start`
  until the server stops). `semcom health --probe liveness|readiness` asks one or the other.
* Every request is decoded by a tolerant deserializer: bytes that are not the expected protobuf
  end the call with INVALID_ARGUMENT (not INTERNAL).
* mTLS allow-list: with SEMCOM_TLS_ALLOWED_CLIENTS set, a model RPC whose client certificate has
  no subject alternative name on the list is refused with PERMISSION_DENIED (health stays open to
  any certificate from the CA, so probes can use the pod's own certificate).
* Drain (SIGTERM): readiness NOT_SERVING at once, new model calls UNAVAILABLE, health and liveness
  keep answering, calls in flight finish within SEMCOM_SHUTDOWN_GRACE_S, then the server stops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer as AsyncHealthServicer
from grpc_reflection.v1alpha import reflection

from semcom import config
from semcom.rpc.admission import Admission, Slot, Watchdog
from semcom.rpc.calls import (
    END,
    Abort,
    BridgeContext,
    StreamRun,
    Undecodable,
    checked_requests,
    on_loop,
    peer_sans,
    tolerant_deserializer,
)
from semcom.rpc.logs import fields
from semcom.rpc.metrics import ADMISSION_REFUSED, INFLIGHT, start_metrics_server
from semcom.rpc.observe import RETRY_PUSHBACK
from semcom.rpc.tls import TlsConfig, server_credentials

log = logging.getLogger("semcom.rpc.server")

SPARE_WORKERS = 4  # pool threads beyond the admission cap (a finished call's thread may still be unwinding)
LIVENESS = "liveness"  # health service name of the liveness probe; "" is readiness (gRPC convention)
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass(frozen=True)
class ModelServiceOptions:
    """The models a model service (sender, receiver) loads, and how it batches their calls."""

    profile: str = "tiny"
    device: str | None = None
    dtype: str | None = None
    torch_threads: int = 0  # 0: torch's default (one per core)
    max_image_pixels: int = 40_000_000
    batch_max: int = 1  # > 1: concurrent requests go through the models together
    batch_window_ms: float = 10.0

    def __post_init__(self) -> None:
        """An invalid configuration is refused before the service listens or loads a model."""
        if self.batch_max < 1 or self.batch_window_ms < 0 or self.torch_threads < 0:
            raise ValueError(
                f"batch max must be >= 1, batch window >= 0 ms and torch threads >= 0, got {self.batch_max}, "
                f"{self.batch_window_ms} and {self.torch_threads}"
            )

    def load_models(self, role: str) -> Any:
        """The model profile (`semcom.models.load_profile`), after capping torch's CPU threads at
        `torch_threads`; logs that the `role`'s models are loaded. Imports the models lazily."""
        from semcom.models import load_profile

        if self.torch_threads > 0:
            import torch

            torch.set_num_threads(self.torch_threads)
        models = load_profile(self.profile, device=self.device, dtype=self.dtype)
        getattr(models, role)().preload()
        logging.getLogger(f"{role}_service").info(
            f"{role} models loaded", extra={"fields": {"profile": models.name, "device": str(models.device)}}
        )
        return models


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


@dataclass(frozen=True)
class ServerOptions:
    """Where and how a service listens. `from_settings` reads the SEMCOM_* variables."""

    host: str = "127.0.0.1"
    port: int = 0
    max_workers: int = 8
    max_queue: int = 16
    max_message_bytes: int = 32 * 1024 * 1024
    shutdown_grace_s: float = 30.0
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    tls: TlsConfig = field(default_factory=lambda: TlsConfig(insecure=True))
    allowed_clients: tuple[str, ...] = ()
    retry_pushback_ms: int = 1000
    keepalive_s: float = 20.0
    keepalive_timeout_s: float = 3.0
    keepalive_min_ping_s: float = 4.0
    max_connection_age_s: float = 1800.0
    max_connection_age_grace_s: float = 60.0

    @classmethod
    def from_settings(cls, port_env: str, **overrides: Any) -> ServerOptions:
        """Options from the environment; keyword overrides that are not None win (CLI flags; any field,
        checked by __post_init__)."""
        allowed = tuple(s.strip() for s in str(config.get("SEMCOM_TLS_ALLOWED_CLIENTS")).split(",") if s.strip())
        opts = cls(
            **config.fields_from_settings(cls, skip=("port", "tls", "allowed_clients")),
            port=config.get(port_env),
            tls=TlsConfig.from_settings(),
            allowed_clients=allowed,
        )
        return replace(opts, **{k: v for k, v in overrides.items() if v is not None})

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")
        if self.max_workers < 1 or self.max_queue < 1:
            raise ValueError("max_workers and max_queue must be >= 1")
        if self.max_message_bytes < 1024:
            raise ValueError(f"max_message_bytes must be >= 1024, got {self.max_message_bytes}")
        if self.shutdown_grace_s < 0:
            raise ValueError("shutdown_grace_s must be >= 0")
        if min(self.keepalive_s, self.keepalive_timeout_s, self.keepalive_min_ping_s) <= 0:
            raise ValueError("keepalive times must be > 0")
        if self.max_connection_age_s <= 0 or self.max_connection_age_grace_s < 0:
            raise ValueError("max connection age must be > 0 and its grace >= 0")
        if self.allowed_clients and not self.tls.mutual:
            raise ValueError(
                "SEMCOM_TLS_ALLOWED_CLIENTS needs mutual TLS (SEMCOM_TLS_CA, SEMCOM_TLS_CERT, SEMCOM_TLS_KEY)"
            )

    def grpc_options(self) -> list[tuple[str, int]]:
        """Channel arguments of the server: message size, keepalive, connection age."""
        return [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.so_reuseport", 0),
            ("grpc.keepalive_time_ms", _ms(self.keepalive_s)),
            ("grpc.keepalive_timeout_ms", _ms(self.keepalive_timeout_s)),
            ("grpc.http2.ping_timeout_ms", _ms(self.keepalive_timeout_s)),  # what newer cores time pings by
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", _ms(self.keepalive_min_ping_s)),
            ("grpc.http2.max_ping_strikes", 2),
            ("grpc.max_connection_age_ms", _ms(self.max_connection_age_s)),
            ("grpc.max_connection_age_grace_ms", _ms(self.max_connection_age_grace_s)),
        ]


def admission_settings(host: ServiceHost) -> dict[str, Any]:
    """Keyword arguments of a `BatchQueue` for `host`: cost budget, readiness high-water mark
    (which turns the host's readiness NOT_SERVING), retry hint."""
    return dict(
        cost_budget=config.get("SEMCOM_COST_BUDGET"),
        high_water=config.get("SEMCOM_READY_HIGH_WATER"),
        on_pressure=host.set_overloaded,
        retry_pushback_ms=host.options.retry_pushback_ms,
    )


DRAIN_S = 0.2  # how long a refused stream's unread requests are read before the refusal
DRAIN_MESSAGES = 4


async def _drain(requests) -> None:
    """Read what is left of a request stream about to be refused, briefly and boundedly: grpc.aio
    leaks native memory per stream aborted with its requests unread (~1.2 KiB each: 10 MiB per
    10,000 refused Transmit streams, flat after this; cf. grpc/grpc#13250, #43360)."""
    try:
        for _ in range(DRAIN_MESSAGES):
            await asyncio.wait_for(requests.__anext__(), DRAIN_S)
    except (StopAsyncIteration, TimeoutError, grpc.RpcError):
        pass


class ServiceHost:
    """One gRPC server process: services + health + reflection, and their lifecycle."""

    def __init__(self, name: str, options: ServerOptions) -> None:
        self.name = name
        self.options = options
        self.workers = max(options.max_workers, 1)
        label = name if name in ("sender", "channel", "receiver") else "service"
        self.admission = Admission(self.workers, INFLIGHT.labels(label), label)
        self.waiting = Admission(int(config.get("SEMCOM_MAX_WAITING_STREAMS")), None, label)  # before a first request
        self.watchdog = Watchdog(self.admission, self._set_wedged, float(config.get("SEMCOM_WEDGED_S")))
        self.pool = ThreadPoolExecutor(max_workers=self.workers + SPARE_WORKERS, thread_name_prefix=f"{name}-rpc")
        self.service_names: list[str] = []
        self.port = 0
        self.draining = False
        self._ready = False
        self._overloaded = False
        self._stop_started = False
        self._stopped = threading.Event()
        self._method_handlers: list[tuple[str, dict[str, grpc.RpcMethodHandler]]] = []
        self.health: AsyncHealthServicer | None = None
        self.server: grpc.aio.Server | None = None

    # ------------------------------------------------------------------ registration

    def add(self, descriptor, servicer: object, adder: Callable[[object, Any], None]) -> None:
        """Register a servicer; `descriptor` is its ServiceDescriptor (for health and reflection).

        `adder` is the generated ``add_XServicer_to_server``; its method handlers are wrapped
        (release of the admission slot, tolerant decoding, allow-list) before the server sees them.
        """
        host = self

        class _Registrar:
            def add_generic_rpc_handlers(self, _handlers) -> None:
                pass  # the generated adder also passes the same handlers to the method below

            def add_registered_method_handlers(self, service: str, handlers: dict) -> None:
                host._method_handlers.append((service, {m: host._wrap(service, m, h) for m, h in handlers.items()}))

        adder(servicer, _Registrar())
        if not any(s == descriptor.full_name for s, _ in self._method_handlers):
            raise ValueError(f"{descriptor.full_name}: the adder registered no method handlers")
        self.service_names.append(descriptor.full_name)

    def _wrap(self, service: str, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The async handler the server runs for a model method: tolerant decoding, admission,
        allow-list, then the synchronous servicer on the pool. The services declare unary calls
        and bidirectional streams only; any other shape is refused at registration."""
        deserializer = tolerant_deserializer(handler.request_deserializer, method + " request")
        kwargs = dict(request_deserializer=deserializer, response_serializer=handler.response_serializer)
        if handler.request_streaming and handler.response_streaming:
            behaviour = handler.stream_stream

            async def stream_stream(requests, context):
                async for response in self._stream_stream(method, behaviour, requests, context):
                    yield response

            return grpc.stream_stream_rpc_method_handler(stream_stream, **kwargs)
        if handler.request_streaming or handler.response_streaming:
            raise ValueError(f"{service}/{method}: only unary calls and bidirectional streams are served")
        unary = handler.unary_unary

        async def unary_unary(request, context):
            return await self._unary(method, unary, request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary, **kwargs)

    async def _admit(self, method: str, context) -> Slot:
        """On the loop, before any thread: identity not on the allow-list -> PERMISSION_DENIED,
        draining -> UNAVAILABLE, over SEMCOM_MAX_WORKERS -> RESOURCE_EXHAUSTED with a retry hint.
        Returns the call's slot; the call's end is recorded on it (for the audit)."""
        allowed = self.options.allowed_clients
        if allowed and not set(peer_sans(context)) & set(allowed):
            message = "client certificate identity is not on SEMCOM_TLS_ALLOWED_CLIENTS"
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, message)
        if self.draining:
            ADMISSION_REFUSED.labels(self.name, "draining").inc()
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"{self.name} is draining for shutdown; retry elsewhere")
        slot = self.admission.enter(method)
        if slot is None:
            await self._refuse_full(method, context)
            raise AssertionError("unreachable: abort raises")
        try:
            context.add_done_callback(slot.call_ended)
        except Exception:  # noqa: BLE001 - without it the audit treats the call as running
            pass
        return slot

    async def _refuse(self, context, reason: str, message: str) -> None:
        """RESOURCE_EXHAUSTED with the retry hint, counted as refused for `reason`."""
        ADMISSION_REFUSED.labels(self.name, reason).inc()
        context.set_trailing_metadata(((RETRY_PUSHBACK, str(self.options.retry_pushback_ms)),))
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message)

    async def _refuse_full(self, method: str, context) -> None:
        """`_refuse`: every SEMCOM_MAX_WORKERS slot is taken."""
        limit = self.admission.limit
        log.info("call refused: every worker busy", extra=fields(method=method, workers=limit))
        message = f"{self.name} is at capacity ({limit} calls in flight, SEMCOM_MAX_WORKERS); retry later"
        await self._refuse(context, "workers", message)

    async def _unary(self, method: str, behaviour, request, context):
        """A unary model call: admitted on the loop, run by the synchronous `behaviour` on the
        pool; the slot is released when the thread is done (not before), whatever ends the call."""
        if isinstance(request, Undecodable):
            log.warning("rpc failed", extra=fields(method=method, code="INVALID_ARGUMENT", error=request.message))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
        slot = await self._admit(method, context)
        with slot.until_handed():
            bridge = BridgeContext(context)
            job = slot.hand_to(self.pool.submit(behaviour, request, bridge))  # a thread is free: admitted < pool size
        try:
            return await asyncio.wrap_future(job)
        except Abort as exc:
            await context.abort(exc.code, exc.details)
        finally:
            bridge.finish()

    async def _first_request(self, method: str, requests, context) -> Any:
        """A stream's first request, awaited on the loop with no thread and no worker slot (ended
        after SEMCOM_STREAM_IDLE_S); `END` when the client closed the stream without one."""
        idle_s = float(config.get("SEMCOM_STREAM_IDLE_S"))
        waiting = self.waiting.enter(method)
        if waiting is None:
            message = f"{self.name}: {self.waiting.limit} streams already wait for their first request; retry later"
            await self._refuse(context, "streams", message)
        try:
            return await asyncio.wait_for(requests.__anext__(), idle_s)
        except StopAsyncIteration:
            return END
        except TimeoutError:
            log.info("idle stream closed", extra=fields(method=method, idle_s=idle_s))
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED, f"stream idle: no request for {idle_s:g} s (SEMCOM_STREAM_IDLE_S)"
            )
        finally:
            if waiting is not None:
                waiting.release()

    async def _stream_stream(self, method: str, behaviour, requests, context):
        """A bidirectional stream: no thread and no worker slot until its first request arrives;
        then admitted like a call and run by the synchronous `behaviour` on the pool, item by item
        (`StreamRun`, which owns the generator and the slot)."""
        if self.admission.in_flight >= self.admission.limit and not self.draining:
            await self._refuse_full(method, context)  # at open, before reading anything
        first = await self._first_request(method, requests, context)
        if first is END:
            return
        if isinstance(first, Undecodable):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, first.message)
        if self.admission.in_flight >= self.admission.limit:
            await _drain(requests)
        slot = await self._admit(method, context)
        loop = asyncio.get_running_loop()
        with slot.until_handed():
            bridge = BridgeContext(context)

            def sync_requests():
                yield first
                while True:
                    try:
                        yield asyncio.run_coroutine_threadsafe(requests.__anext__(), loop).result()
                    except StopAsyncIteration:
                        return

            run = StreamRun(self.pool, lambda: behaviour(checked_requests(sync_requests()), bridge), slot)
        try:
            while True:
                response = await asyncio.wrap_future(run.step())
                if response is END:
                    break
                yield response
        except Abort as exc:
            await context.abort(exc.code, exc.details)
        finally:
            bridge.finish()
            run.close()

    # ------------------------------------------------------------------ health

    def _readiness(self) -> int:
        return _SERVING if self._ready and not self.draining and not self._overloaded else _NOT_SERVING

    async def _publish(self) -> None:
        if self.health is None:
            return
        status = self._readiness()
        for name in ("", *self.service_names):
            await self.health.set(name, status)

    def _republish(self) -> None:
        if self.server is None:
            return
        if threading.current_thread().name == "grpc-aio-loop":
            asyncio.ensure_future(self._publish())
        else:
            on_loop(self._publish())

    def _set_wedged(self, wedged: bool) -> None:
        """The watchdog's verdict: liveness NOT_SERVING while wedged (an orchestrator restarts us)."""
        if self.health is not None and not self._stop_started:
            on_loop(self.health.set(LIVENESS, _NOT_SERVING if wedged else _SERVING))

    def set_overloaded(self, overloaded: bool) -> None:
        """The model queue crossed its high-water mark (True) or fell back below it (False)."""
        if overloaded != self._overloaded:
            self._overloaded = overloaded
            log.info(
                f"{self.name} {'above' if overloaded else 'below'} its queue high-water mark: readiness "
                f"{'NOT_SERVING' if overloaded else 'follows the lifecycle'}"
            )
            self._republish()

    # ------------------------------------------------------------------ lifecycle

    async def _start(self) -> int:
        self.server = grpc.aio.server(
            migration_thread_pool=self.pool,
            options=self.options.grpc_options(),
        )
        self.health = AsyncHealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        for service, handlers in self._method_handlers:
            self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
        reflection.enable_server_reflection(
            (*self.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            self.server,
        )
        await self._publish()
        await self.health.set(LIVENESS, _SERVING)
        address = f"{self.options.host}:{self.options.port}"
        creds = server_credentials(self.options.tls, self.name)
        port = self.server.add_insecure_port(address) if creds is None else self.server.add_secure_port(address, creds)
        if port == 0:
            raise OSError(f"{self.name}: could not bind {address}")
        await self.server.start()
        return port

    def start(self) -> int:
        """Bind and start serving (readiness NOT_SERVING until `set_serving`). Returns the bound port."""
        try:
            self.port = on_loop(self._start())
        except RuntimeError as exc:  # grpc.aio reports a failed bind as RuntimeError
            raise OSError(f"{self.name}: could not bind {self.options.host}:{self.options.port}: {exc}") from None
        start_metrics_server(self.options.metrics_port, self.options.metrics_host)
        self.watchdog.start()
        log.info(
            f"{self.name} listening",
            extra=fields(
                address=f"{self.options.host}:{self.port}",
                tls=not self.options.tls.insecure or bool(self.options.tls.cert),
                mutual_tls=self.options.tls.mutual,
                workers=self.workers,
                allowed_clients=list(self.options.allowed_clients),
                metrics=f"{self.options.metrics_host}:{self.options.metrics_port}"
                if self.options.metrics_port
                else "off",
            ),
        )
        return self.port

    def set_serving(self) -> None:
        """Readiness -> SERVING (a no-op once shutdown has begun)."""
        self._ready = True
        self._republish()
        log.info(f"{self.name} SERVING", extra=fields(port=self.port))

    def stop(self, grace: float | None = None) -> threading.Event:
        """Drain and stop; returns an Event set once stopped. Safe to call from any thread, twice.

        Readiness NOT_SERVING at once and new model calls UNAVAILABLE, while health keeps
        answering; calls in flight get up to `grace` seconds to finish; then the server stops."""
        if self._stop_started:
            return self._stopped
        self._stop_started = True
        grace = self.options.shutdown_grace_s if grace is None else grace
        self.draining = True
        log.info(f"{self.name} draining", extra=fields(grace_s=grace, in_flight=self.admission.in_flight))

        def drain() -> None:
            try:
                if self.server is not None:
                    on_loop(self._publish())
                drained = self.admission.wait_idle(grace)
                if not drained:
                    log.warning(
                        f"{self.name}: drain time over, cancelling calls in flight",
                        extra=fields(in_flight=self.admission.in_flight),
                    )
                if self.server is not None:
                    if self.health is not None:
                        on_loop(self.health.enter_graceful_shutdown())
                    on_loop(self.server.stop(0.5 if drained else 0), timeout=None)
            except Exception as exc:  # noqa: BLE001 - stopping must finish
                log.warning(f"{self.name}: error while stopping: {exc}")
            finally:
                self.watchdog.stop()
                self.pool.shutdown(wait=False, cancel_futures=True)
                self._stopped.set()

        threading.Thread(target=drain, name=f"{self.name}-drain", daemon=True).start()
        return self._stopped

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT start a graceful stop (main thread only)."""

        def handler(signum, _frame) -> None:
            log.info(f"{self.name} got {signal.Signals(signum).name}")
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, load: Callable[[], None]) -> int:
        """The whole life of a service process; returns its exit code.

        Starts listening (NOT_SERVING), runs `load` (model loading; may take minutes) on a helper
        thread so that SIGTERM during loading still stops the process at once, turns SERVING when
        `load` returns, and blocks until a signal has drained and stopped the server. A failing
        `load` is logged and gives exit code 1.
        """
        self.install_signal_handlers()
        self.start()
        failed = threading.Event()

        def loader() -> None:
            try:
                load()
            except Exception as exc:  # noqa: BLE001 - reported, then the process exits non-zero
                log.error(f"{self.name} failed to start: {exc}", extra=fields(error=type(exc).__name__))
                failed.set()
                self.stop(0)
                return
            if not self._stop_started:
                self.set_serving()

        threading.Thread(target=loader, name=f"{self.name}-load", daemon=True).start()
        self.wait()
        return 1 if failed.is_set() else 0

    def wait(self) -> None:
        """Block until the server has stopped (after `stop`, once in-flight calls have drained)."""
        while not self._stopped.wait(0.5):  # a timed wait lets the main thread take signals
            pass
        log.info(f"{self.name} stopped")
