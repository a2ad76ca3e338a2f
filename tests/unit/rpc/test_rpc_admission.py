"""Admission that cannot leak (issue 22): every exit path of every call shape gives its slot back,
on real in-process servers over loopback; the watchdog's audit and wedge verdict; back-pressure
so that an admitted stream never fails part-way for lack of downstream capacity."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import grpc
import pytest

from semcom.rpc.admission import Admission, Watchdog
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.client import health_status
from semcom.rpc.server import RETRY_PUSHBACK
from semcom.rpc.tls import TlsConfig
from semcom.v1 import receiver_pb2_grpc, sender_pb2_grpc
from tests.unit.rpc.hosts import ReceiverHost, SenderHost, image_request, reconstruct_request, status_code

PLAIN = TlsConfig(insecure=True)


def _settle(admission: Admission, want: int = 0, within_s: float = 15.0) -> float:
    """Seconds until `admission.in_flight == want` (fails after `within_s`)."""
    t0 = time.monotonic()
    while admission.in_flight != want:
        assert time.monotonic() - t0 < within_s, f"in flight {admission.in_flight}, want {want}"
        time.sleep(0.02)
    return time.monotonic() - t0


@pytest.fixture
def sender() -> SenderHost:
    host = SenderHost(seconds=0.5)
    yield host
    host.close()


def _stub(host: SenderHost) -> tuple[grpc.Channel, sender_pb2_grpc.SenderServiceStub]:
    channel = grpc.insecure_channel(host.target)
    return channel, sender_pb2_grpc.SenderServiceStub(channel)


def _three_image_stream(stub: sender_pb2_grpc.SenderServiceStub, i: int) -> tuple[int, grpc.StatusCode]:
    """(results received, final status) of one 3-image Transmit stream."""
    received = 0
    try:
        for _ in stub.Transmit(iter([image_request(f"{i}-{j}") for j in range(3)]), timeout=60):
            received += 1
    except grpc.RpcError as exc:
        return received, exc.code()
    return received, grpc.StatusCode.OK


# ---------------------------------------------------------------------------------- slot unit


def test_a_slot_is_released_once_whatever_ends_its_work() -> None:
    admission = Admission(3)
    outcomes: list[Future] = [Future(), Future(), Future()]
    slots = [admission.enter("m") for _ in outcomes]
    assert admission.enter("m") is None and admission.in_flight == 3
    for slot, work in zip(slots, outcomes, strict=True):
        assert slot is not None
        slot.hand_to(work)
    outcomes[0].set_result(1)
    outcomes[1].set_exception(RuntimeError("model failed"))
    outcomes[2].cancel()
    assert admission.in_flight == 0 and admission.finished == 3
    for slot in slots:
        assert slot is not None
        slot.release()  # idempotent: no double count
    assert admission.in_flight == 0 and admission.finished == 3
    slot = admission.enter("m")
    assert slot is not None
    with pytest.raises(ValueError), slot.until_handed():
        raise ValueError("failed before the hand-over")
    assert admission.in_flight == 0


def test_the_audit_reclaims_a_slot_held_with_nothing_running_and_says_so(caplog) -> None:
    admission = Admission(2)
    running = admission.enter("busy")
    leaked = admission.enter("leaked")
    assert running is not None and leaked is not None
    running.track(Future())  # still working
    running.call_ended()
    leaked.call_ended()  # the call is over and no work runs for it: a leak
    time.sleep(0.05)
    with caplog.at_level(logging.ERROR, logger="semcom.rpc.admission"):
        assert admission.audit(grace_s=0.01) == [leaked]
    assert admission.in_flight == 1 and "slot leaked" in caplog.text
    assert admission.audit(grace_s=0.01) == []  # the busy one is not touched


def test_the_watchdog_says_wedged_when_full_with_no_call_finishing_and_recovers() -> None:
    admission = Admission(1)
    verdicts: list[bool] = []
    dog = Watchdog(admission, verdicts.append, wedged_s=0.2, period_s=0.05)
    slot = admission.enter("stuck")
    assert slot is not None
    dog.check()
    assert verdicts == []
    time.sleep(0.25)
    dog.check()
    assert verdicts == [True]
    slot.release()
    dog.check()
    assert verdicts == [True, False]


def test_the_downstream_gate_waits_within_the_deadline_and_gives_permits_back() -> None:
    gate = DownstreamGate(1)
    assert gate.acquire(0.1)
    t0 = time.monotonic()
    assert not gate.acquire(0.2)  # full: waits its deadline, then gives up
    assert 0.15 < time.monotonic() - t0 < 5
    threading.Timer(0.1, gate.release).start()
    assert gate.acquire(5.0)  # a permit given back wakes a waiter
    gate.release()
    assert gate.in_flight == 0 and gate.waiting == 0


# ---------------------------------------------------------------------------------- real servers


def test_twelve_streams_past_their_deadline_inside_the_model_leave_no_slot_and_no_cleanup_error(
    sender: SenderHost, caplog
) -> None:
    """The reported leak: Transmit streams with a 250 ms deadline while each image needs 0.5 s."""
    channel, stub = _stub(sender)
    with caplog.at_level(logging.WARNING):
        for i in range(12):
            requests = [image_request(f"d{i}"), image_request()]
            code = status_code(lambda r=requests: list(stub.Transmit(iter(r), timeout=0.25)))
            assert code == grpc.StatusCode.DEADLINE_EXCEEDED
        _settle(sender.host.admission)
    assert "already executing" not in caplog.text and "cleanup failed" not in caplog.text
    assert sender.host.admission.finished == 12
    results = list(stub.Transmit(iter([image_request("after")]), timeout=30))  # and it keeps serving
    assert [r.request_id for r in results] == ["after"]
    _settle(sender.host.admission)
    channel.close()


def test_client_cancel_while_an_item_is_inside_the_model_frees_the_slot_when_it_returns(sender: SenderHost) -> None:
    channel, stub = _stub(sender)
    call = stub.Transmit(iter([image_request("c")]), timeout=30)
    _settle(sender.host.admission, want=1)
    call.cancel()
    waited = _settle(sender.host.admission)
    assert waited < 10
    channel.close()


def test_normal_end_server_error_and_unary_deadline_each_release_their_slot(sender: SenderHost) -> None:
    channel, stub = _stub(sender)
    assert [r.request_id for r in stub.Transmit(iter([image_request("a"), image_request("b")]), timeout=30)] == [
        "a",
        "b",
    ]
    _settle(sender.host.admission)
    sender.model.error = RuntimeError("the model broke")
    assert status_code(lambda: list(stub.Transmit(iter([image_request("e")]), timeout=30))) == grpc.StatusCode.INTERNAL
    _settle(sender.host.admission)
    sender.model.error = None
    assert status_code(lambda: stub.Encode(image_request("u"), timeout=0.2)) == grpc.StatusCode.DEADLINE_EXCEEDED
    _settle(sender.host.admission)
    assert sender.host.admission.finished == 3
    channel.close()


def test_drain_waits_for_the_item_in_the_model_and_releases_its_slot() -> None:
    host = SenderHost(seconds=1.0)
    try:
        channel, stub = _stub(host)
        call = stub.Transmit(iter([image_request("in-flight")]), timeout=30)
        _settle(host.host.admission, want=1)
        stopped = host.host.stop(10)
        assert [r.request_id for r in call] == ["in-flight"]
        assert stopped.wait(15)
        assert host.host.admission.in_flight == 0
        channel.close()
    finally:
        host.close()


def test_a_full_sender_refuses_at_the_front_door_with_a_retry_hint() -> None:
    host = SenderHost(seconds=1.0, max_workers=1)
    try:
        channel, stub = _stub(host)
        first = stub.Transmit(iter([image_request("one")]), timeout=30)
        _settle(host.host.admission, want=1)
        with pytest.raises(grpc.RpcError) as err:
            list(stub.Transmit(iter([image_request("two")]), timeout=30))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert dict(err.value.trailing_metadata())[RETRY_PUSHBACK] == "1000"
        assert [r.request_id for r in first] == ["one"]
        channel.close()
    finally:
        host.close()


def test_concurrent_streams_complete_or_are_refused_before_their_first_image_never_part_way() -> None:
    """8 clients each send one 3-image stream at once; the sender pipelines 2 images per stream
    (up to 16 downstream calls) while the downstream admits 4: the gate holds the rest back."""
    host = SenderHost(seconds=0.2, max_workers=8, receiver_workers=4, downstream_limit=4)
    try:
        channel, stub = _stub(host)

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda i: _three_image_stream(stub, i), range(8)))
        for received, code in outcomes:
            assert (received, code) == (3, grpc.StatusCode.OK) or received == 0, outcomes
        assert sum(code == grpc.StatusCode.OK for _, code in outcomes) >= 1
        _settle(host.host.admission)
        _settle(host.receiver.host.admission)
        channel.close()
    finally:
        host.close()


def test_without_the_gate_the_same_load_fails_streams_part_way() -> None:
    """The control: the defect the gate removes is real on this topology."""
    host = SenderHost(seconds=0.2, max_workers=8, receiver_workers=2, downstream_limit=None)
    host.receiver.model.gate.clear()  # the receiver's model is slow: its 2 workers stay busy
    threading.Timer(1.5, host.receiver.model.gate.set).start()
    try:
        channel, stub = _stub(host)

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda i: _three_image_stream(stub, i), range(8)))
        assert any(code == grpc.StatusCode.RESOURCE_EXHAUSTED for _, code in outcomes), outcomes
        channel.close()
    finally:
        host.close()


def test_a_wedged_service_turns_liveness_not_serving(monkeypatch) -> None:
    monkeypatch.setenv("SEMCOM_WEDGED_S", "0.5")
    host = ReceiverHost(max_workers=1)
    host.model.gate.clear()  # the model never answers: the one slot stays taken
    try:
        channel = grpc.insecure_channel(host.target)
        call = receiver_pb2_grpc.ReceiverServiceStub(channel).Reconstruct.future(reconstruct_request(), timeout=30)
        _settle(host.host.admission, want=1)
        t0 = time.monotonic()
        while health_status(host.target, service="liveness", tls=PLAIN, timeout=2.0) != "NOT_SERVING":
            assert time.monotonic() - t0 < 10, "liveness never said the service is wedged"
            time.sleep(0.1)
        host.model.gate.set()
        call.result(timeout=30)
        while health_status(host.target, service="liveness", tls=PLAIN, timeout=2.0) != "SERVING":
            assert time.monotonic() - t0 < 20, "liveness did not recover"
            time.sleep(0.1)
        channel.close()
    finally:
        host.close()


def test_a_sender_without_captioner_sends_no_caption_where_unread_and_refuses_where_needed() -> None:
    """`stages.sender_caption` at the service: modes auto/latent encode with "", text and
    text+latent are INVALID_ARGUMENT naming the request's caption field; a given caption passes."""
    from types import SimpleNamespace

    from semcom.v1 import receiver_pb2

    host = SenderHost(seconds=0.0)
    host.model.models = SimpleNamespace(name="taef2", has_captioner=False)
    channel, stub = _stub(host)
    try:
        for mode in (receiver_pb2.MODE_AUTO, receiver_pb2.MODE_LATENT):
            request = image_request()
            request.params.mode = mode
            stub.Encode(request, timeout=30)
        request = image_request()
        request.params.mode = receiver_pb2.MODE_TEXT_LATENT
        with pytest.raises(grpc.RpcError) as err:
            list(stub.Transmit(iter([request]), timeout=30))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "profile 'taef2' has no captioner and mode 'text+latent' is conditioned on the caption" in (
            err.value.details()
        )
        assert "the request's caption field (semcom send --caption TEXT)" in err.value.details()
        request.caption = "a dog"
        assert [r.request_id for r in stub.Transmit(iter([request]), timeout=30)] == ["i"]
        assert host.model.captions == ["", "", "a dog"]
    finally:
        channel.close()
        host.close()
