"""Start the services as local processes on free loopback ports: the one launcher of the tests,
the benchmarks and `semcom bench` / `semcom demo`.

    with LocalServices(profile="tiny", image_size=128) as services:
        services.sender, services.channel, services.receiver        # "127.0.0.1:PORT" each

`LocalService` is one process, `python -m semcom serve ROLE --port P [ARGS]` on 127.0.0.1 with
its own environment, log file (appended across restarts), health wait, SIGTERM/SIGKILL stop,
CPU time, peak memory and Prometheus metrics. `LocalServices` is the compose topology
(receiver <- channel <- sender) of them, without TLS (loopback only): start-up waits until each
answers SERVING (downstream first), shutdown sends SIGTERM (the services drain) and SIGKILL
after a grace period. A service that dies during start-up is reported with its log's tail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from semcom.loadtest.loopback import require_loopback  # the harness's guard: its services stay on loopback
from semcom.rpc.client import health_status
from semcom.rpc.tls import TlsConfig

ROLES = ("receiver", "channel", "sender")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> int:
    """SIGTERM, then SIGKILL if `proc` has not exited within `grace` seconds; its exit code."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(max(grace, 0.1))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    return proc.returncode


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


@dataclass
class LocalService:
    """One service process on 127.0.0.1 (see the module docstring).

    `env` goes on top of this process's environment; `metrics_port` (0 = off) sets
    SEMCOM_METRICS_PORT; `client_tls` is how its health is probed (None: plaintext); `cwd` the
    directory it runs in (None: this process's).
    """

    role: str
    log_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    client_tls: TlsConfig | None = None
    port: int = field(default_factory=free_port)
    metrics_port: int = 0
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def target(self) -> str:
        return require_loopback(f"127.0.0.1:{self.port}")

    @property
    def log_path(self) -> Path:
        return Path(self.log_dir) / f"{self.role}-{self.port}.log"

    def start(self) -> LocalService:
        env = {**os.environ, **self.env}
        if self.metrics_port:
            env["SEMCOM_METRICS_PORT"] = str(self.metrics_port)
        cmd = [sys.executable, "-m", "semcom", "serve", self.role, "--port", str(self.port), *self.args]
        self.starts += 1
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_serving(self, timeout: float = 180.0) -> None:
        """Block until its gRPC health check says SERVING; RuntimeError (with the log's tail) when
        the process exits first or `timeout` seconds pass."""
        tls = self.client_tls or TlsConfig(insecure=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.role} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if health_status(self.target, tls=tls, timeout=1.0) == "SERVING":
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.role} not SERVING after {timeout:.0f} s:\n{self.log_tail()}")

    def terminate(self) -> None:
        """SIGTERM (the service drains), without waiting."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: a crash, no draining."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM (graceful drain), SIGKILL if it has not exited within `grace`; the exit code."""
        return None if self.proc is None else stop_process(self.proc, grace)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float | None:
        """CPU seconds the service process has used so far (see `process_cpu_seconds`)."""
        return process_cpu_seconds(self.proc.pid) if self.proc is not None else None

    def peak_rss_mib(self) -> float:
        """The process's peak resident memory (VmHWM) in MiB; NaN off Linux or once it exited."""
        try:
            pid = self.proc.pid if self.proc is not None else -1
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    @property
    def metrics_url(self) -> str:
        if not self.metrics_port:
            raise ValueError(f"{self.role}: started without a metrics port")
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus series from this process's /metrics (0 when absent)."""
        with urllib.request.urlopen(self.metrics_url, timeout=5) as reply:
            text = reply.read().decode()
        series = [line for line in text.splitlines() if line.startswith((name + "{", name + " "))]
        matching = [line for line in series if all(f'{k}="{v}"' in line for k, v in labels.items())]
        return sum((float(line.rsplit(" ", 1)[1]) for line in matching), 0.0)


@dataclass
class LocalServices:
    """receiver <- channel <- sender, each a `LocalService` on 127.0.0.1 (see module docstring).

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
    services: dict[str, LocalService] = field(default_factory=dict, init=False)
    _logdir: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.roles) - set(ROLES)
        if unknown or not self.roles:
            raise ValueError(f"roles must be a non-empty subset of {ROLES}, got {self.roles}")

    def _environ(self, role: str) -> dict[str, str]:
        env = {
            "SEMCOM_INSECURE": "true",
            "SEMCOM_TLS_CERT": "",  # plaintext on loopback, whatever the caller's environment says
            "SEMCOM_TLS_KEY": "",
            "SEMCOM_TLS_CA": "",
            "SEMCOM_HOST": "127.0.0.1",
            "SEMCOM_PROFILE": self.profile,
            "SEMCOM_IMAGE_SIZE": str(self.image_size),
            "SEMCOM_METRICS_PORT": "0",
            "SEMCOM_LOG_FORMAT": "text",
            "SEMCOM_SHUTDOWN_GRACE_S": str(self.stop_grace_s),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        if role == "receiver":
            env.update(self.receiver_env)
        return env

    def start(self) -> LocalServices:
        self._logdir = tempfile.TemporaryDirectory(prefix="semcom-services-")
        upstream: str | None = None
        try:
            for role in ROLES:  # downstream first, each the next one's upstream
                if role not in self.roles:
                    continue
                service = LocalService(
                    role,
                    Path(self._logdir.name),
                    args=["--upstream", upstream] if upstream else [],
                    env=self._environ(role),
                    metrics_port=free_port() if self.metrics else 0,
                )
                self.services[role] = service.start()
                service.wait_serving(self.start_timeout_s)
                upstream = service.target
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM every service (upstream first), then SIGKILL what is left after the grace period."""
        for role in reversed(ROLES):
            if role in self.services:
                self.services[role].terminate()
        deadline = time.monotonic() + self.stop_grace_s + 5.0
        for service in self.services.values():
            service.stop(grace=deadline - time.monotonic())
        self.services.clear()
        if self._logdir is not None:
            self._logdir.cleanup()
            self._logdir = None

    def address(self, role: str) -> str:
        return self.services[role].target

    @property
    def sender(self) -> str:
        return self.address("sender")

    @property
    def channel(self) -> str:
        return self.address("channel")

    @property
    def receiver(self) -> str:
        return self.address("receiver")

    def __enter__(self) -> LocalServices:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
