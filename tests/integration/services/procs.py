"""Real service processes for the integration tests: `semcom.loadtest.cluster.LocalService`
(`python -m semcom serve ROLE ...` on 127.0.0.1 with free ports) with the tests' settings, started
in parallel, waited for with bounded health polling, and always killed in teardown (SIGTERM, then
SIGKILL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from semcom.loadtest.cluster import LocalService  # the one launcher, the one free port helper
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
class ServiceProcess(LocalService):
    """A `LocalService` (the one launcher, semcom.loadtest.cluster) with the tests' settings:
    BASE_ENV under its own `env`, run from this checkout, health probed in plaintext unless told."""

    def __post_init__(self) -> None:
        self.env = {**BASE_ENV, **self.env}
        self.cwd = REPO
        if self.client_tls is None:
            self.client_tls = TlsConfig(insecure=True)

    def wait_serving(self, timeout: float = START_TIMEOUT_S) -> None:
        super().wait_serving(timeout)


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
