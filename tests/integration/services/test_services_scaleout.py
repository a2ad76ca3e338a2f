"""Scale-out, faults and mutual TLS between real service processes.

Two receivers behind one channel proxy with round_robin; a second proxy in front of one of them
for the fault test (the receiver is killed mid-stream and restarted); every hop speaks mutual
TLS with certificates made at test time; SIGTERM drains a call in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import pytest

from semcom.loadtest.cluster import free_port
from semcom.rpc.client import ReceiverClient, health_status
from semcom.rpc.tls import TlsConfig
from semcom.v1 import receiver_pb2
from tests.integration.services.procs import ServiceProcess, start_all, stop_all
from tests.integration.services.test_services_bad_input import packet_req

pytest.importorskip("cryptography", reason="the dev extra's `cryptography` makes the test certificates")
pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    receivers: list[ServiceProcess]
    balanced: ServiceProcess  # channel proxy -> both receivers, round_robin
    single: ServiceProcess  # channel proxy -> receivers[0] only
    client_tls: TlsConfig
    rogue_tls: TlsConfig


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from tests.pki import make_dev_pki

    pki = make_dev_pki(tmp_path_factory.mktemp("pki"), hosts=["127.0.0.1", "localhost"])
    logs = tmp_path_factory.mktemp("cluster-logs")
    tls_args = ["--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key), "--tls-ca", str(pki.ca)]
    client_tls = TlsConfig(ca=str(pki.ca), cert=str(pki.client.cert), key=str(pki.client.key))
    rogue_tls = TlsConfig(ca=str(pki.ca), cert=str(pki.rogue.cert), key=str(pki.rogue.key))
    env = {"SEMCOM_INSECURE": "false", "SEMCOM_SHUTDOWN_GRACE_S": "30"}

    def service(role: str, *args: str, metrics: bool = False) -> ServiceProcess:
        return ServiceProcess(
            role,
            logs,
            args=[*tls_args, *args],
            env=env,
            client_tls=client_tls,
            metrics_port=free_port() if metrics else 0,
        )

    receivers = [service("receiver", metrics=True), service("receiver", metrics=True)]
    balanced = service("channel", "--upstream", ",".join(r.target for r in receivers), "--lb-policy", "round_robin")
    single = service("channel", "--upstream", receivers[0].target)
    everything = [*receivers, balanced, single]
    try:
        start_all(everything)
        yield Cluster(receivers, balanced, single, client_tls, rogue_tls)
    finally:
        stop_all(everything)


def _served(receiver: ServiceProcess) -> float:
    return receiver.metric("semcom_items_total", service="receiver", code="OK")


def test_round_robin_uses_both_receivers(cluster: Cluster) -> None:
    before = [_served(r) for r in cluster.receivers]
    with ReceiverClient(cluster.balanced.target, tls=cluster.client_tls) as client:
        replies = [client.reconstruct(packet_req(), timeout=60) for _ in range(12)]
    assert all(r.image.width == 64 for r in replies)
    gained = [_served(r) - b for r, b in zip(cluster.receivers, before)]
    assert sum(gained) == 12 and min(gained) >= 1, gained


def test_mutual_tls_refuses_clients_without_a_valid_certificate(cluster: Cluster) -> None:
    for target in (cluster.balanced.target, cluster.receivers[0].target):
        for refused in (cluster.rogue_tls, TlsConfig(ca=cluster.client_tls.ca), TlsConfig(insecure=True)):
            with ReceiverClient(target, tls=refused, retry_attempts=1) as client:
                with pytest.raises(grpc.RpcError) as err:
                    client.reconstruct(packet_req(), timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert health_status(target, tls=cluster.client_tls) == "SERVING"


def test_receiver_killed_mid_stream_gives_unavailable_then_recovers(cluster: Cluster) -> None:
    victim = cluster.receivers[0]
    slow = packet_req(mode=receiver_pb2.MODE_TEXT, params__num_inference_steps=40)
    first_reply = threading.Event()

    def requests():
        for i in range(30):
            request = receiver_pb2.ReconstructRequest()
            request.CopyFrom(slow)
            request.request_id = str(i)
            yield request

    received = []
    with ReceiverClient(cluster.single.target, tls=cluster.client_tls) as client, ThreadPoolExecutor(1) as pool:

        def consume():
            for reply in client.reconstruct_stream(requests(), timeout=120):
                received.append(reply.request_id)
                first_reply.set()

        future = pool.submit(consume)
        assert first_reply.wait(120), "no reply before the kill"
        victim.kill()
        with pytest.raises(grpc.RpcError) as err:
            future.result(timeout=120)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
    assert f"downstream receiver at {victim.target} unavailable" in err.value.details()
    assert 1 <= len(received) < 30
    assert health_status(cluster.single.target, tls=cluster.client_tls) == "SERVING"  # the proxy survives

    victim.start().wait_serving()
    deadline = time.monotonic() + 60
    with ReceiverClient(cluster.single.target, tls=cluster.client_tls) as client:
        while True:
            try:
                reply = client.reconstruct(packet_req(), timeout=30)
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline, exc.details()
                time.sleep(0.5)
    assert reply.image.width == 64 and victim.starts == 2


def test_sigterm_drains_the_call_in_flight(cluster: Cluster) -> None:
    target = cluster.receivers[1]
    slow = packet_req(mode=receiver_pb2.MODE_TEXT, params__num_inference_steps=60)
    with (
        ReceiverClient(target.target, tls=cluster.client_tls, retry_attempts=1) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        future = pool.submit(client.reconstruct, slow, 120)
        time.sleep(1.0)  # the call is being served now
        code = target.stop(grace=60)
        reply = future.result(timeout=60)
    assert reply.steps_executed == 60  # finished, not cut off
    assert code == 0
    with ReceiverClient(target.target, tls=cluster.client_tls, retry_attempts=1) as client:
        with pytest.raises(grpc.RpcError) as err:
            client.reconstruct(packet_req(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
