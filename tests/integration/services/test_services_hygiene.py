"""Issue 12 over real processes (tiny profile, loopback): bounds at the hop that first sees a
field, undecodable protobuf, an idle stream closed after its timeout, drain with health still
answering, and a frozen (SIGSTOPped) receiver noticed by the upstream hop's keepalive.
Generous time bounds only."""

from __future__ import annotations

import os
import signal
import time

import grpc
import pytest

from semcom.rpc.client import ReceiverClient, SenderClient, health_status
from semcom.v1 import channel_pb2, receiver_pb2, receiver_pb2_grpc
from tests.integration.services.conftest import PLAIN, Topology
from tests.integration.services.procs import ServiceProcess, start_all, stop_all
from tests.integration.services.test_services_bad_input import image_req, packet_req

pytestmark = pytest.mark.slow

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _assert_serving(topology: Topology) -> None:
    for service in topology.all:
        assert health_status(service.target, tls=PLAIN) == "SERVING", service.role


def _reconstruct(target: str, request, timeout: float = 60):
    with ReceiverClient(target, tls=PLAIN, retry_attempts=1) as client:
        return client.reconstruct(request, timeout=timeout)


def test_oversize_caption_is_refused_at_the_proxy(topology: Topology) -> None:
    request = packet_req(packet__caption=b"x" * (1024 * 1024))  # 1 MiB: under the message cap, over 77
    for service in (topology.channel, topology.receiver):
        with pytest.raises(grpc.RpcError) as err:
            _reconstruct(service.target, request)
        assert err.value.code() == INVALID and "SEMCOM_MAX_CAPTION_CHARS" in err.value.details(), service.role
    with SenderClient(topology.sender.target, tls=PLAIN, retry_attempts=1) as client:
        with pytest.raises(grpc.RpcError) as err:
            client.encode(image_req(caption="y" * 78), timeout=60)
    assert err.value.code() == INVALID and "SEMCOM_MAX_CAPTION_CHARS" in err.value.details()
    _assert_serving(topology)


@pytest.mark.parametrize("length", [2**28, 2**32 - 1])
def test_huge_fading_block_length_is_refused_before_any_allocation(topology: Topology, length: int) -> None:
    rayleigh = channel_pb2.CHANNEL_MODEL_RAYLEIGH_BLOCK
    request = packet_req(channel__model=rayleigh, channel__fading_block_length=length)
    with pytest.raises(grpc.RpcError) as err:
        _reconstruct(topology.channel.target, request)
    assert err.value.code() == INVALID and "SEMCOM_MAX_FADING_BLOCK_LENGTH" in err.value.details()
    with SenderClient(topology.sender.target, tls=PLAIN, retry_attempts=1) as client:
        with pytest.raises(grpc.RpcError) as err:
            list(client.transmit([image_req(channel__model=rayleigh, channel__fading_block_length=length)], timeout=60))
    assert err.value.code() == INVALID and "SEMCOM_MAX_FADING_BLOCK_LENGTH" in err.value.details()
    _assert_serving(topology)


def test_oversize_output_is_refused_at_proxy_and_receiver(topology: Topology) -> None:
    request = packet_req(packet__coded_size__width=2048, packet__coded_size__height=2048)
    for service in (topology.channel, topology.receiver):
        with pytest.raises(grpc.RpcError) as err:
            _reconstruct(service.target, request)
        assert err.value.code() == INVALID and "SEMCOM_MAX_OUTPUT_PIXELS" in err.value.details(), service.role
    # a latent whose decoded size is over the cap (4x256x256 -> 2048x2048 at factor 8), small on the wire
    with pytest.raises(grpc.RpcError) as err:
        _reconstruct(topology.receiver.target, packet_req(shape=(4, 256, 256), encoding="int4"))
    assert err.value.code() == INVALID and "SEMCOM_MAX_OUTPUT_PIXELS" in err.value.details()
    _assert_serving(topology)


@pytest.mark.parametrize(
    "role,method",
    [
        ("sender", "/semcom.v1.SenderService/Encode"),
        ("channel", "/semcom.v1.ReceiverService/Reconstruct"),
        ("receiver", "/semcom.v1.ReceiverService/Reconstruct"),
    ],
)
def test_undecodable_protobuf_is_invalid_argument(topology: Topology, role: str, method: str) -> None:
    service = getattr(topology, role)
    channel = grpc.insecure_channel(service.target)
    try:
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary(method)(b"\x0a\xff\xff\xff\xff\x0f\x00", timeout=30)
        assert err.value.code() == INVALID and "not a valid" in err.value.details()
    finally:
        channel.close()
    _assert_serving(topology)


def test_idle_stream_is_closed_and_a_sigstopped_receiver_is_noticed_by_keepalive(tmp_path) -> None:
    """A receiver + channel of their own (SIGSTOP would freeze the shared topology)."""
    env = {"SEMCOM_INSECURE": "true", "SEMCOM_STREAM_IDLE_S": "2"}
    receiver = ServiceProcess("receiver", tmp_path, env=env)
    channel = ServiceProcess("channel", tmp_path, args=["--upstream", receiver.target], env=env)
    try:
        start_all([receiver, channel])
        assert _reconstruct(channel.target, packet_req()).request_id == "bad"  # connected, works

        # An idle stream (opened, sends nothing) is ended after SEMCOM_STREAM_IDLE_S.
        link = grpc.insecure_channel(receiver.target)
        never = iter(lambda: time.sleep(60), 0)  # a request iterator that blocks and sends nothing
        t0 = time.monotonic()
        with pytest.raises(grpc.RpcError) as err:
            list(receiver_pb2_grpc.ReceiverServiceStub(link).ReconstructStream(never, timeout=60))
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "idle" in err.value.details()
        assert time.monotonic() - t0 < 30
        link.close()

        # Freeze the receiver: its TCP connection stays open, it answers nothing.
        os.kill(receiver.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                _reconstruct(channel.target, packet_req(mode=receiver_pb2.MODE_TEXT), timeout=60)
            noticed = time.monotonic() - t0
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
            assert f"receiver at {receiver.target}" in err.value.details()
            assert noticed < 20, f"the frozen receiver was noticed after {noticed:.1f} s"  # goal: < 10 s
            assert health_status(channel.target, tls=PLAIN) == "SERVING"  # the proxy itself is alive
        finally:
            os.kill(receiver.proc.pid, signal.SIGCONT)
    finally:
        stop_all([receiver, channel])


def test_drain_reports_not_serving_while_in_flight_work_finishes(tmp_path) -> None:
    env = {"SEMCOM_INSECURE": "true", "SEMCOM_SHUTDOWN_GRACE_S": "60"}
    receiver = ServiceProcess("receiver", tmp_path, env=env)
    try:
        start_all([receiver])
        slow = packet_req(mode=receiver_pb2.MODE_TEXT, params__num_inference_steps=999)
        with ReceiverClient(receiver.target, tls=PLAIN, retry_attempts=1) as client:
            future = client.stub.Reconstruct.future(slow, timeout=120)
            time.sleep(1.0)  # admitted and denoising
            receiver.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while health_status(receiver.target, tls=PLAIN, timeout=2) != "NOT_SERVING":
                assert time.monotonic() < deadline, "readiness did not turn NOT_SERVING on SIGTERM"
                time.sleep(0.05)
            assert health_status(receiver.target, tls=PLAIN, service="liveness") == "SERVING"
            with pytest.raises(grpc.RpcError) as err:
                client.reconstruct(packet_req(), timeout=30)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "draining" in err.value.details()
            assert future.result().request_id == "bad"  # the call in flight finished
        assert receiver.proc.wait(60) == 0
    finally:
        stop_all([receiver])
