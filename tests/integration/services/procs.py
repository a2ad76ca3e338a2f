"""Real service processes for the integration tests: `python -m semcom serve ROLE ...` on
127.0.0.1 with free ports, started in parallel, waited for with bounded health polling, and
always killed in teardown (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from semcom.loadtest.cluster import free_port  # the one free loopback port helper
from semcom.rpc.client import health_status
from semcom.rpc.tls import TlsConfig

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 240.0  # tiny-model load on a busy 2-core CI machine

# Every service: loopback, text logs in a file, one torch thread (several model processes share
# the cores; OpenMP oversubscription makes torch ~10x slower), small images.
BASE_ENV = {
    "SEMCOM_HOST": "127.0.0.1",
    "SEMCOM_PROFILE": "tiny",
    "SEMCOM_IMAGE_SIZE": "64",
    "SEMCOM_TORCH_THREADS": "1",
    "SEMCOM_LOG_FORMAT": "json",
    "SEMCOM_SHUTDOWN_GRACE_S": "2",
    "SEMCOM_METRICS_PORT": "0",
    "PYTHONUNBUFFERED": "1",
}


@dataclass
class ServiceProcess:
    role: str
    log_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    client_tls: TlsConfig = field(default_factory=lambda: TlsConfig(insecure=True))
    port: int = field(default_factory=free_port)
    metrics_port: int = 0
    proc: subprocess.Popen | None = None
    starts: int = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.role}-{self.port}.log"

    def start(self) -> ServiceProcess:
        env = {**os.environ, **BASE_ENV, **self.env}
        if self.metrics_port:
            env["SEMCOM_METRICS_PORT"] = str(self.metrics_port)
        cmd = [sys.executable, "-m", "semcom", "serve", self.role, "--port", str(self.port), *self.args]
        self.starts += 1
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_serving(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.role} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if health_status(self.target, tls=self.client_tls, timeout=1.0) == "SERVING":
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.role} not SERVING after {timeout:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: a crash, no draining."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM (graceful drain), SIGKILL if it has not exited within `grace`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus series from this process's /metrics (0 when absent)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


def start_all(services: list[ServiceProcess]) -> None:
    """Start every process at once (their model loads overlap), then wait for each."""
    for service in services:
        service.start()
    for service in services:
        service.wait_serving()


def stop_all(services: list[ServiceProcess]) -> None:
    for service in services:
        try:
            service.stop(grace=5.0)
        except Exception:  # noqa: BLE001 - teardown must reach every process
            if service.proc is not None:
                service.proc.kill()
