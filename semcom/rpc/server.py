"""Server bootstrap shared by the three services: a gRPC server with health and reflection, TLS,
limits from the settings, and the lifecycle NOT_SERVING -> SERVING -> draining -> stopped.

    host = ServiceHost("receiver", ServerOptions.from_settings("SEMCOM_RECEIVER_PORT"))
    host.add(receiver_pb2.DESCRIPTOR.services_by_name["ReceiverService"], servicer,
             receiver_pb2_grpc.add_ReceiverServiceServicer_to_server)
    host.start()                      # listening; health says NOT_SERVING
    ...load models...
    host.set_serving()                # health says SERVING
    host.run_until_signal()           # SIGTERM/SIGINT: NOT_SERVING, drain in-flight calls, stop

Health (grpc.health.v1) reports the whole server ("") and each service by its full name.
Reflection lists the services, health and reflection, so grpcurl works without the .proto.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from semcom import config
from semcom.rpc.logs import fields
from semcom.rpc.metrics import start_metrics_server
from semcom.rpc.tls import TlsConfig, server_credentials

log = logging.getLogger("semcom.rpc.server")

SPARE_WORKERS = 4  # threads kept free for health checks and reflection when every other one waits


def load_models(profile: str, device: str | None, dtype: str | None, torch_threads: int = 0):
    """A service's model profile (`semcom.models.load_profile`), after capping torch's CPU
    threads at `torch_threads` (0: torch's default, one per core). Imports the models lazily."""
    from semcom.models import load_profile

    if torch_threads > 0:
        import torch

        torch.set_num_threads(torch_threads)
    return load_profile(profile, device=device, dtype=dtype)


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
    tls: TlsConfig = field(default_factory=lambda: TlsConfig(insecure=True))

    @classmethod
    def from_settings(cls, port_env: str, **overrides: object) -> ServerOptions:
        """Options from the environment; keyword overrides that are not None win (CLI flags)."""
        opts = cls(
            host=config.get("SEMCOM_HOST"),
            port=config.get(port_env),
            max_workers=config.get("SEMCOM_MAX_WORKERS"),
            max_queue=config.get("SEMCOM_MAX_QUEUE"),
            max_message_bytes=config.get("SEMCOM_MAX_MESSAGE_BYTES"),
            shutdown_grace_s=config.get("SEMCOM_SHUTDOWN_GRACE_S"),
            metrics_port=config.get("SEMCOM_METRICS_PORT"),
            tls=TlsConfig.from_settings(),
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


class ServiceHost:
    """One gRPC server process: services + health + reflection, and their lifecycle."""

    def __init__(self, name: str, options: ServerOptions) -> None:
        self.name = name
        self.options = options
        # Handler threads may all block on a model or a downstream; keep a few for health checks.
        self.workers = max(options.max_workers, 1) + SPARE_WORKERS
        self.server = grpc.server(
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=f"{name}-rpc"),
            options=[
                ("grpc.max_send_message_length", options.max_message_bytes),
                ("grpc.max_receive_message_length", options.max_message_bytes),
                ("grpc.so_reuseport", 0),
            ],
            # RPCs waiting for a thread are bounded too: beyond this gRPC answers RESOURCE_EXHAUSTED.
            maximum_concurrent_rpcs=self.workers + options.max_queue,
        )
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names: list[str] = []
        self.port = 0
        self._stopped: threading.Event | None = None

    def add(self, descriptor, servicer: object, adder: Callable[[object, grpc.Server], None]) -> None:
        """Register a servicer; `descriptor` is its ServiceDescriptor (for health and reflection)."""
        adder(servicer, self.server)
        self.service_names.append(descriptor.full_name)

    def _set_all(self, status: int) -> None:
        for name in ("", *self.service_names):
            self.health.set(name, status)

    def start(self) -> int:
        """Bind and start serving (health NOT_SERVING until `set_serving`). Returns the bound port."""
        reflection.enable_server_reflection(
            (*self.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            self.server,
        )
        self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        address = f"{self.options.host}:{self.options.port}"
        creds = server_credentials(self.options.tls, self.name)
        port = self.server.add_insecure_port(address) if creds is None else self.server.add_secure_port(address, creds)
        if port == 0:
            raise OSError(f"{self.name}: could not bind {address}")
        self.port = port
        self.server.start()
        start_metrics_server(self.options.metrics_port, self.options.host)
        log.info(
            f"{self.name} listening",
            extra=fields(address=f"{self.options.host}:{port}", tls=creds is not None, mutual_tls=self.options.tls.mutual,
                         workers=self.workers, metrics_port=self.options.metrics_port),
        )
        return port

    def set_serving(self) -> None:
        """Health -> SERVING (a no-op once shutdown has begun)."""
        self._set_all(health_pb2.HealthCheckResponse.SERVING)
        log.info(f"{self.name} SERVING", extra=fields(port=self.port))

    def stop(self, grace: float | None = None) -> threading.Event:
        """Health -> NOT_SERVING for good, refuse new calls, let in-flight calls finish within `grace`."""
        if self._stopped is None:
            grace = self.options.shutdown_grace_s if grace is None else grace
            log.info(f"{self.name} draining", extra=fields(grace_s=grace))
            self.health.enter_graceful_shutdown()
            self._stopped = self.server.stop(grace)
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
            self.set_serving()

        threading.Thread(target=loader, name=f"{self.name}-load", daemon=True).start()
        self.wait()
        return 1 if failed.is_set() else 0

    def wait(self) -> None:
        """Block until the server has stopped (after `stop`, once in-flight calls have drained)."""
        self.server.wait_for_termination()
        if self._stopped is not None:
            self._stopped.wait()
        log.info(f"{self.name} stopped")
