"""Server bootstrap over a real loopback channel: health lifecycle, reflection, status codes,
admission queue, graceful drain."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from semcom.rpc.client import ReceiverClient, health_status, reflected_services
from semcom.rpc.tls import TlsConfig
from semcom.v1 import receiver_pb2
from tests.unit.rpc.hosts import ReceiverHost, reconstruct_request

PLAIN = TlsConfig(insecure=True)


def test_health_follows_the_lifecycle_and_reflection_lists_services() -> None:
    host = ReceiverHost(attach=False)
    try:
        assert health_status(host.target, tls=PLAIN) == "NOT_SERVING"
        with ReceiverClient(host.target, tls=PLAIN, retry_attempts=1) as client:
            with pytest.raises(grpc.RpcError) as err:
                client.reconstruct(reconstruct_request(), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "loading" in err.value.details()
            host.ready()
            assert health_status(host.target, tls=PLAIN) == "SERVING"
            assert health_status(host.target, tls=PLAIN, service="semcom.v1.ReceiverService") == "SERVING"
            assert health_status(host.target, tls=PLAIN, service="no.such.Service") == "SERVICE_UNKNOWN"
            reply = client.reconstruct(reconstruct_request("abc"), timeout=5)
        assert reply.request_id == "abc" and reply.mode_used == receiver_pb2.MODE_TEXT_LATENT
        assert reply.image.width == 64 and reply.image.data[:4] == b"\x89PNG"
        assert reply.caption_received == b"a cat" and reply.steps_executed == 3
        assert set(reflected_services(host.target, tls=PLAIN)) == {
            "semcom.v1.ReceiverService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        }
    finally:
        host.close()
    assert health_status(host.target, tls=PLAIN, timeout=1) == "UNREACHABLE"


def test_invalid_request_status_and_service_keeps_serving(receiver_host: ReceiverHost) -> None:
    bad = reconstruct_request()
    bad.packet.latent.data = bad.packet.latent.data[:100]
    with ReceiverClient(receiver_host.target, tls=PLAIN) as client:
        with pytest.raises(grpc.RpcError) as err:
            client.reconstruct(bad, timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "100 bytes, but shape [4, 8, 8] in float64" in err.value.details()
        assert client.reconstruct(reconstruct_request(), timeout=5).image.width == 64
    assert health_status(receiver_host.target, tls=PLAIN) == "SERVING"


def test_full_admission_queue_answers_resource_exhausted() -> None:
    host = ReceiverHost(max_queue=1)
    host.model.gate.clear()  # the model thread blocks on the first request
    try:
        with ReceiverClient(host.target, tls=PLAIN) as client, ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client.reconstruct, reconstruct_request("0"), 10)]
            time.sleep(0.3)  # the first one is running now; one more may wait in the queue
            futures += [pool.submit(client.reconstruct, reconstruct_request(str(i)), 10) for i in range(1, 4)]
            time.sleep(0.3)
            host.model.gate.set()
            codes = []
            for future in futures:
                try:
                    future.result()
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    codes.append(exc.code())
                    assert "queue is full" in exc.details()
        assert codes.count(grpc.StatusCode.OK) == 2  # the running one and the queued one
        assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 2
    finally:
        host.close()


def test_batcher_groups_requests_inside_the_window() -> None:
    host = ReceiverHost(max_queue=8, batch_max=4, window_s=0.5)
    try:
        with ReceiverClient(host.target, tls=PLAIN) as client, ThreadPoolExecutor(3) as pool:
            replies = list(pool.map(lambda i: client.reconstruct(reconstruct_request(str(i)), 10), range(3)))
        assert [r.request_id for r in replies] == ["0", "1", "2"]
        assert host.model.batches == [3]
    finally:
        host.close()


def test_stop_drains_calls_in_flight() -> None:
    host = ReceiverHost()
    host.model.gate.clear()
    with ReceiverClient(host.target, tls=PLAIN) as client, ThreadPoolExecutor(1) as pool:
        future = pool.submit(client.reconstruct, reconstruct_request("inflight"), 10)
        time.sleep(0.3)
        stopped = host.host.stop(grace=5.0)
        time.sleep(0.2)
        host.model.gate.set()
        assert future.result().request_id == "inflight"  # finished inside the grace period
        assert stopped.wait(5)
    host.batcher.close()


def test_stream_answers_in_order(receiver_host: ReceiverHost) -> None:
    with ReceiverClient(receiver_host.target, tls=PLAIN) as client:
        modes = [receiver_pb2.MODE_TEXT, receiver_pb2.MODE_TEXT_LATENT, receiver_pb2.MODE_LATENT]
        replies = list(client.reconstruct_stream(reconstruct_request(str(i), m) for i, m in enumerate(modes)))
    assert [r.request_id for r in replies] == ["0", "1", "2"]
    assert [r.mode_used for r in replies] == modes
