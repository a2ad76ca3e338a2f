"""Start the three real services as local processes on free loopback ports (tests and benchmarks).

    with LocalPipeline(profile="tiny", image_size=128) as pipe:
        pipe.sender, pipe.channel, pipe.receiver        # "127.0.0.1:PORT" each

Each service is `python -m semcom serve <name> --port P [--upstream ...]` (SEMCOM_PROFILE set) bound to
127.0.0.1, without TLS (loopback only), with its own environment (e.g. SEMCOM_BATCH_MAX for the
receiver). Start-up waits until the gRPC health service answers SERVING; shutdown sends SIGTERM
(the services drain) and SIGKILL after a grace period. Logs go to files in a temporary folder,
shown in the error when a service dies during start-up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from semcom.loadtest.loopback import require_loopback  # the harness's guard: its services stay on loopback

ROLES = ("receiver", "channel", "sender")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by process `pid` (all its threads); None off Linux.

    On a shared machine CPU time per request moves far less with other people's load than wall
    time does, so benchmarks report both.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15 of stat)


def wait_serving(target: str, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    """Block until `target`'s gRPC health check says SERVING; raise RuntimeError on timeout or exit."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"service at {target} exited with code {proc.returncode} during start-up")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"service at {target} not SERVING after {timeout_s:.0f} s")
            time.sleep(0.1)


@dataclass
class Service:
    role: str
    address: str
    proc: subprocess.Popen
    log_path: Path
    metrics_port: int = 0  # Prometheus /metrics on 127.0.0.1 (0 = off)

    def cpu_seconds(self) -> float | None:
        """CPU seconds the service process has used so far (see `process_cpu_seconds`)."""
        return process_cpu_seconds(self.proc.pid)

    @property
    def metrics_url(self) -> str:
        if not self.metrics_port:
            raise ValueError(f"{self.role}: started without a metrics port (LocalPipeline(metrics=True))")
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class LocalPipeline:
    """receiver <- channel <- sender, each a separate process on 127.0.0.1 (see module docstring).

    `roles` picks which to start, always downstream first (("receiver",) gives a lone receiver).
    `env` applies to every service, `receiver_env` to the receiver only; `metrics=True` gives
    each service a Prometheus endpoint on a free port (`services[role].metrics_url`).
    """

    profile: str = "tiny"
    image_size: int = 128
    roles: tuple[str, ...] = ROLES
    env: dict[str, str] = field(default_factory=dict)
    receiver_env: dict[str, str] = field(default_factory=dict)
    metrics: bool = False
    start_timeout_s: float = 180.0
    stop_grace_s: float = 10.0
    services: dict[str, Service] = field(default_factory=dict, init=False)
    _logdir: tempfile.TemporaryDirectory | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.roles) - set(ROLES)
        if unknown or not self.roles:
            raise ValueError(f"roles must be a non-empty subset of {ROLES}, got {self.roles}")

    def _environ(self, role: str, metrics_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SEMCOM_INSECURE="true",
            SEMCOM_TLS_CERT="",  # plaintext on loopback, whatever the caller's environment says
            SEMCOM_TLS_KEY="",
            SEMCOM_TLS_CA="",
            SEMCOM_HOST="127.0.0.1",
            SEMCOM_PROFILE=self.profile,
            SEMCOM_IMAGE_SIZE=str(self.image_size),
            SEMCOM_METRICS_PORT=str(metrics_port),
            SEMCOM_LOG_FORMAT="text",
            SEMCOM_SHUTDOWN_GRACE_S=str(self.stop_grace_s),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        if role == "receiver":
            env.update(self.receiver_env)
        return env

    def _start(self, role: str, upstream: str | None) -> Service:
        assert self._logdir is not None
        port = free_port()
        metrics_port = free_port() if self.metrics else 0
        cmd = [sys.executable, "-m", "semcom", "serve", role, "--port", str(port)]  # profile: SEMCOM_PROFILE
        if upstream:
            cmd += ["--upstream", upstream]
        log_path = Path(self._logdir.name) / f"{role}.log"
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                cmd,
                env=self._environ(role, metrics_port),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Service(role, require_loopback(f"127.0.0.1:{port}"), proc, log_path, metrics_port)

    def start(self) -> LocalPipeline:
        self._logdir = tempfile.TemporaryDirectory(prefix="semcom-pipeline-")
        upstream: str | None = None
        try:
            for role in ROLES:  # downstream first, each the next one's upstream
                if role not in self.roles:
                    continue
                service = self._start(role, upstream)
                self.services[role] = service
                try:
                    wait_serving(service.address, self.start_timeout_s, service.proc)
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc}\n--- {role} log ---\n{service.log_tail()}") from None
                upstream = service.address
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM every service (upstream first), then SIGKILL what is left after the grace period."""
        for role in reversed(ROLES):
            service = self.services.get(role)
            if service is not None and service.proc.poll() is None:
                service.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace_s + 5.0
        for service in self.services.values():
            try:
                service.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.proc.kill()
                service.proc.wait()
        self.services.clear()
        if self._logdir is not None:
            self._logdir.cleanup()
            self._logdir = None

    def address(self, role: str) -> str:
        return self.services[role].address

    @property
    def sender(self) -> str:
        return self.address("sender")

    @property
    def channel(self) -> str:
        return self.address("channel")

    @property
    def receiver(self) -> str:
        return self.address("receiver")

    def __enter__(self) -> LocalPipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
