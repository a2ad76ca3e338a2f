"""One started topology for the end-to-end and bad-input tests: receiver <- channel <- sender,
real processes on 127.0.0.1 (tiny profile, 64x64 images), torn down after the session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from semcom.loadtest.cluster import free_port
from semcom.rpc.client import ReceiverClient, SenderClient, health_status
from semcom.rpc.tls import TlsConfig
from tests.integration.services.procs import ServiceProcess, start_all, stop_all

MAX_IMAGE_PIXELS = 1_000_000
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
RECEIVER_QUEUE = 2
CHANNEL_SNR_DB = 10.0
PLAIN = TlsConfig(insecure=True)


@dataclass
class Topology:
    receiver: ServiceProcess
    channel: ServiceProcess
    sender: ServiceProcess

    @property
    def all(self) -> list[ServiceProcess]:
        return [self.receiver, self.channel, self.sender]


@pytest.fixture(scope="session")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    logs = tmp_path_factory.mktemp("service-logs")
    common = {
        "SEMCOM_INSECURE": "true",
        "SEMCOM_MAX_IMAGE_PIXELS": str(MAX_IMAGE_PIXELS),
        "SEMCOM_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
    }
    receiver = ServiceProcess(
        "receiver", logs, env={**common, "SEMCOM_MAX_QUEUE": str(RECEIVER_QUEUE)}, metrics_port=free_port()
    )
    channel = ServiceProcess(
        "channel",
        logs,
        args=["--upstream", receiver.target, "--snr-db", str(CHANNEL_SNR_DB)],
        env=common,
        metrics_port=free_port(),
    )
    sender = ServiceProcess("sender", logs, args=["--upstream", channel.target], env=common, metrics_port=free_port())
    topo = Topology(receiver, channel, sender)
    try:
        start_all(topo.all)
        yield topo
    finally:
        stop_all(topo.all)


def call(topology: Topology, where: str, request, timeout: float = 60):
    """One request, unretried, to `where`: the sender's encode or transmit, the receiver's or the
    channel proxy's reconstruct."""
    if where in ("encode", "transmit"):
        with SenderClient(topology.sender.target, tls=PLAIN, retry_attempts=1) as client:
            if where == "encode":
                return client.encode(request, timeout=timeout)
            return list(client.transmit([request], timeout=timeout))
    service = topology.receiver if where == "receiver" else topology.channel
    with ReceiverClient(service.target, tls=PLAIN, retry_attempts=1) as client:
        return client.reconstruct(request, timeout=timeout)


def assert_serving(topology: Topology) -> None:
    for service in topology.all:
        assert health_status(service.target, tls=PLAIN) == "SERVING", service.role
