"""The serving layer under load and misuse (issue 12), in process over loopback: health never
waits behind model work, admission refuses at once with a retry hint, liveness vs readiness,
drain, idle streams, undecodable requests, closed-set metric labels, mTLS allow-list, and the
cost budget of the batch queue. Generous time bounds only."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from semcom.rpc.batching import BatchQueue
from semcom.rpc.client import ReceiverClient, health_status
from semcom.rpc.errors import QueueFullError
from semcom.rpc.server import RETRY_PUSHBACK
from semcom.rpc.tls import TlsConfig
from semcom.v1 import receiver_pb2, receiver_pb2_grpc
from tests.unit.rpc.hosts import ReceiverHost, reconstruct_request, status_code

PLAIN = TlsConfig(insecure=True)


def _check_seconds(target: str, service: str = "") -> tuple[str, float]:
    channel = grpc.insecure_channel(target)
    try:
        t0 = time.monotonic()
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status), time.monotonic() - t0
    finally:
        channel.close()


def test_health_answers_and_over_capacity_is_refused_at_once_while_every_worker_is_busy() -> None:
    host = ReceiverHost(max_workers=2, max_queue=8)
    host.model.gate.clear()  # the model blocks: both admitted calls hold their worker
    try:
        with ReceiverClient(host.target, tls=PLAIN, retry_attempts=1) as client, ThreadPoolExecutor(4) as pool:
            busy = [pool.submit(client.reconstruct, reconstruct_request(str(i)), 30) for i in range(2)]
            deadline = time.monotonic() + 10
            while host.host.admission.in_flight < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert host.host.admission.in_flight == 2
            for _ in range(20):  # health and liveness never wait for a worker
                status, seconds = _check_seconds(host.target)
                assert status == "SERVING" and seconds < 2.0
                assert _check_seconds(host.target, "liveness")[0] == "SERVING"
            t0 = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                client.reconstruct(reconstruct_request("extra"), timeout=30)
            assert time.monotonic() - t0 < 5.0  # refused at once, not parked behind the busy ones
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "SEMCOM_MAX_WORKERS" in err.value.details()
            assert dict(err.value.trailing_metadata())[RETRY_PUSHBACK] == "1000"
            host.model.gate.set()
            assert [f.result(timeout=30).request_id for f in busy] == ["0", "1"]
        assert host.host.admission.in_flight == 0
        with ReceiverClient(host.target, tls=PLAIN) as client:
            assert client.reconstruct(reconstruct_request("after"), timeout=10).request_id == "after"
    finally:
        host.close()


def test_liveness_answers_before_readiness_and_readiness_follows_queue_pressure() -> None:
    host = ReceiverHost(attach=False, max_workers=4, max_queue=4, admission={"high_water": 0.5, "readiness": True})
    try:
        assert health_status(host.target, tls=PLAIN) == "NOT_SERVING"  # models not loaded: not ready
        assert health_status(host.target, tls=PLAIN, service="liveness") == "SERVING"  # but alive
        host.ready()
        assert health_status(host.target, tls=PLAIN) == "SERVING"
        host.model.gate.clear()
        with ReceiverClient(host.target, tls=PLAIN, retry_attempts=1) as client, ThreadPoolExecutor(4) as pool:
            calls = [pool.submit(client.reconstruct, reconstruct_request(str(i)), 30) for i in range(3)]
            deadline = time.monotonic() + 10
            while health_status(host.target, tls=PLAIN) == "SERVING" and time.monotonic() < deadline:
                time.sleep(0.05)
            # 3 of 4 queue places taken, above the high-water mark of 2: not ready, still alive
            assert health_status(host.target, tls=PLAIN) == "NOT_SERVING"
            assert health_status(host.target, tls=PLAIN, service="semcom.v1.ReceiverService") == "NOT_SERVING"
            assert health_status(host.target, tls=PLAIN, service="liveness") == "SERVING"
            host.model.gate.set()
            assert len([f.result(timeout=30) for f in calls]) == 3
        deadline = time.monotonic() + 10
        while health_status(host.target, tls=PLAIN) != "SERVING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health_status(host.target, tls=PLAIN) == "SERVING"
    finally:
        host.close()


def test_drain_says_not_serving_at_once_finishes_in_flight_work_and_refuses_new_work() -> None:
    host = ReceiverHost()
    host.model.gate.clear()
    with ReceiverClient(host.target, tls=PLAIN, retry_attempts=1) as client, ThreadPoolExecutor(1) as pool:
        inflight = pool.submit(client.reconstruct, reconstruct_request("inflight"), 30)
        deadline = time.monotonic() + 10
        while host.host.admission.in_flight < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        stopped = host.host.stop(grace=20.0)
        deadline = time.monotonic() + 5
        while health_status(host.target, tls=PLAIN) != "NOT_SERVING" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert health_status(host.target, tls=PLAIN) == "NOT_SERVING"  # health still answers
        assert health_status(host.target, tls=PLAIN, service="liveness") == "SERVING"
        with pytest.raises(grpc.RpcError) as err:
            client.reconstruct(reconstruct_request("new"), timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "draining" in err.value.details()
        assert not stopped.is_set()
        host.model.gate.set()
        assert inflight.result(timeout=30).request_id == "inflight"
        assert stopped.wait(20)
    assert health_status(host.target, tls=PLAIN, timeout=1) == "UNREACHABLE"
    host.batcher.close()


@contextmanager
def _one_worker_streams(monkeypatch, idle_s: str):
    """A one-worker receiver whose streams close after `idle_s` quiet seconds: (host, stub, release);
    `release` ends the request streams that wait on it."""
    monkeypatch.setenv("SEMCOM_STREAM_IDLE_S", idle_s)
    host = ReceiverHost(max_workers=1)
    release = threading.Event()
    channel = grpc.insecure_channel(host.target)
    try:
        yield host, receiver_pb2_grpc.ReceiverServiceStub(channel), release
    finally:
        release.set()
        channel.close()
        host.close()


def test_idle_streams_hold_no_worker_and_are_closed_after_their_timeout(monkeypatch) -> None:
    with _one_worker_streams(monkeypatch, "3") as (host, stub, release):

        def silent():
            release.wait(60)
            return
            yield  # unreachable: a request stream that sends nothing

        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            idle = [pool.submit(lambda: list(stub.ReconstructStream(silent(), timeout=60))) for _ in range(8)]
            time.sleep(0.5)
            # 8 idle streams open, one worker: a normal call is still served, and a stream too
            assert host.host.admission.in_flight == 0
            assert stub.Reconstruct(reconstruct_request("normal"), timeout=10).request_id == "normal"
            replies = list(stub.ReconstructStream(iter([reconstruct_request("s")]), timeout=10))
            assert [r.request_id for r in replies] == ["s"]
            for future in idle:
                with pytest.raises(grpc.RpcError) as err:
                    future.result(timeout=60)
                assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                assert "SEMCOM_STREAM_IDLE_S" in err.value.details()
        assert time.monotonic() - t0 < 30


def test_a_stream_that_goes_quiet_after_a_request_is_closed_and_frees_its_worker(monkeypatch) -> None:
    with _one_worker_streams(monkeypatch, "1") as (host, stub, release):

        def one_then_silent():
            yield reconstruct_request("first")
            release.wait(60)

        replies = []
        with pytest.raises(grpc.RpcError) as err:
            for reply in stub.ReconstructStream(one_then_silent(), timeout=60):
                replies.append(reply.request_id)
        assert replies == ["first"]
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "SEMCOM_STREAM_IDLE_S" in err.value.details()
        release.set()
        deadline = time.monotonic() + 10
        while host.host.admission.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stub.Reconstruct(reconstruct_request("next"), timeout=10).request_id == "next"  # the worker is free


def test_a_stream_beyond_its_item_limit_is_invalid_argument(monkeypatch) -> None:
    monkeypatch.setenv("SEMCOM_MAX_STREAM_ITEMS", "2")
    host = ReceiverHost()
    try:
        with ReceiverClient(host.target, tls=PLAIN) as client, pytest.raises(grpc.RpcError) as err:
            list(client.reconstruct_stream(reconstruct_request(str(i)) for i in range(3)))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "SEMCOM_MAX_STREAM_ITEMS" in err.value.details()
    finally:
        host.close()


@pytest.mark.parametrize("method", ["Reconstruct", "ReconstructStream"])
def test_undecodable_protobuf_is_invalid_argument(receiver_host: ReceiverHost, method: str) -> None:
    channel = grpc.insecure_channel(receiver_host.target)
    garbage = b"\x0a\xff\xff\xff\xff\x0f"  # field 1, length-delimited, with an impossible length
    try:
        if method == "Reconstruct":
            call = channel.unary_unary(f"/semcom.v1.ReceiverService/{method}")
            code = status_code(lambda: call(garbage, timeout=10))
        else:
            call = channel.stream_stream(f"/semcom.v1.ReceiverService/{method}")
            code = status_code(lambda: list(call(iter([garbage]), timeout=10)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        channel.close()
    assert health_status(receiver_host.target, tls=PLAIN) == "SERVING"


def test_unknown_enum_values_do_not_become_metric_labels() -> None:
    """The proxies label items with `convert.mode_label(request.params.mode)`, which names an
    unknown number "unknown(N)": the metrics record it as "other", so no request adds series."""
    from prometheus_client import REGISTRY

    from semcom.rpc import convert
    from semcom.rpc.metrics import observe_item, observe_rpc

    def label_values() -> set[str]:
        return {
            v for m in REGISTRY.collect() if m.name.startswith("semcom_") for s in m.samples for v in s.labels.values()
        }

    for number in (17, 1234, 99999):
        observe_item("channel", convert.mode_label(number), "INVALID_ARGUMENT", 0.01, {f"stage{number}": 0.1})
        observe_rpc("channel", f"Method{number}", f"CODE{number}", 0.01)
    values = label_values()
    assert not any(str(n) in v for n in (17, 1234, 99999) for v in values), values
    assert "other" in values
    observe_item("channel", convert.mode_label(receiver_pb2.MODE_TEXT), "OK", 0.01, {"channel": 0.1})
    assert {"text", "channel", "OK"} <= label_values()


def test_batch_queue_admits_by_cost_and_hints_when_to_retry() -> None:
    gate = threading.Event()
    pressure: list[bool] = []

    def run(items):
        gate.wait(30)
        return items

    queue = BatchQueue(
        run,
        max_queue=10,
        cost=lambda item: item,
        cost_budget=10.0,
        high_water=0.5,
        on_pressure=pressure.append,
        retry_pushback_ms=777,
    )
    try:
        first = queue.submit(4.0)
        second = queue.submit(4.0)
        assert pressure == [True]  # 8 of 10 megapixel-steps: above the high-water mark
        with pytest.raises(QueueFullError) as err:
            queue.submit(4.0)  # 12 > 10
        assert "SEMCOM_COST_BUDGET" in str(err.value) and err.value.retry_after_ms == 777
        gate.set()
        assert first.result(10) == 4.0 and second.result(10) == 4.0
        deadline = time.monotonic() + 5
        while queue.outstanding and time.monotonic() < deadline:
            time.sleep(0.01)
        assert queue.outstanding == 0 and pressure == [True, False]
        assert queue.submit(9.0).result(10) == 9.0  # fits again
        big = queue.submit(25.0)  # alone, an item over the budget still runs (limits bound its size)
        assert big.result(10) == 25.0
    finally:
        gate.set()
        queue.close()


def test_mtls_allow_list_refuses_the_servers_own_certificate(tmp_path) -> None:
    pytest.importorskip("trustme", reason="the dev extra's `trustme` makes the test certificates")
    from tests.pki import issue, new_ca

    ca = tmp_path / "ca.crt"
    authority = new_ca(ca)
    server = issue(authority, tmp_path / "server", "localhost", "127.0.0.1")
    allowed = issue(authority, tmp_path / "allowed", "sender.semcom.test")
    other = issue(authority, tmp_path / "other", "other.semcom.test")
    server_tls = TlsConfig(cert=str(server.cert), key=str(server.key), ca=str(ca))
    host = ReceiverHost(tls=server_tls, allowed_clients=("sender.semcom.test",))

    def as_client(pem) -> TlsConfig:
        return TlsConfig(ca=str(ca), cert=str(pem.cert), key=str(pem.key), server_name="localhost")

    try:
        with ReceiverClient(host.target, tls=as_client(allowed), retry_attempts=1) as client:
            assert client.reconstruct(reconstruct_request("ok"), timeout=10).request_id == "ok"
        for refused in (server, other):  # the server's own certificate is not a client identity
            with ReceiverClient(host.target, tls=as_client(refused), retry_attempts=1) as client:
                with pytest.raises(grpc.RpcError) as err:
                    client.reconstruct(reconstruct_request(), timeout=10)
                assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
                assert "SEMCOM_TLS_ALLOWED_CLIENTS" in err.value.details()
            # probes with the pod's own certificate still see health
            assert health_status(host.target, tls=as_client(refused)) == "SERVING"
    finally:
        host.close()


def test_server_options_carry_keepalive_and_connection_age() -> None:
    from semcom.rpc.server import ServerOptions

    options = dict(ServerOptions(keepalive_s=20, keepalive_min_ping_s=4, max_connection_age_s=1800).grpc_options())
    assert options["grpc.keepalive_time_ms"] == 20_000
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 4_000  # clients at 10-20 s are accepted
    assert options["grpc.max_connection_age_ms"] == 1_800_000 and options["grpc.max_connection_age_grace_ms"] > 0
    with pytest.raises(ValueError, match="mutual TLS"):
        ServerOptions(allowed_clients=("x",))  # an allow-list without client certificates means nothing


def test_a_cancelled_call_frees_its_worker_at_once() -> None:
    """The client's cancel reaches the servicer: its queued work is dropped and its worker is free
    long before the call's 60 s deadline, while the model is still blocked on another call."""
    host = ReceiverHost(max_workers=2)
    host.model.gate.clear()
    try:
        with ReceiverClient(host.target, tls=PLAIN, retry_attempts=1) as client:
            running = client.stub.Reconstruct.future(reconstruct_request("running"), timeout=60)
            deadline = time.monotonic() + 10
            while host.host.admission.in_flight < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            waiting = client.stub.Reconstruct.future(reconstruct_request("waiting"), timeout=60)
            while host.host.admission.in_flight < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert host.host.admission.in_flight == 2
            waiting.cancel()
            t0 = time.monotonic()
            while host.host.admission.in_flight > 1 and time.monotonic() - t0 < 20:
                time.sleep(0.02)
            assert host.host.admission.in_flight == 1 and time.monotonic() - t0 < 20
            assert host.batcher.outstanding == 1  # the cancelled item left the model queue
            host.model.gate.set()
            assert running.result(timeout=30).request_id == "running"
            assert host.model.batches == [1]  # the cancelled request never reached the model
    finally:
        host.close()


def test_a_stream_is_ended_after_its_maximum_duration(monkeypatch) -> None:
    monkeypatch.setenv("SEMCOM_STREAM_MAX_S", "1")
    host = ReceiverHost()

    def steady():
        for i in range(100):  # one request every 0.2 s: never idle, but longer than 1 s in all
            yield reconstruct_request(str(i))
            time.sleep(0.2)

    try:
        with ReceiverClient(host.target, tls=PLAIN) as client:
            got = []
            with pytest.raises(grpc.RpcError) as err:
                for reply in client.reconstruct_stream(steady(), timeout=60):
                    got.append(reply.request_id)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "SEMCOM_STREAM_MAX_S" in err.value.details()
        assert 1 <= len(got) < 100
    finally:
        host.close()


def test_semcom_health_probe_flag_asks_liveness_or_readiness(capsys) -> None:
    from semcom.cli import build_parser

    host = ReceiverHost(attach=False)  # loading: alive, not ready

    def probe(*flags: str) -> int:
        args = build_parser().parse_args(["health", host.target, "--insecure", "--json", *flags])
        return args.func(args)

    try:
        assert probe("--probe", "liveness") == 0
        assert probe() == 1 and probe("--probe", "readiness") == 1
        host.ready()
        assert probe() == 0
        out = capsys.readouterr().out
        assert '"probe": "liveness", "service": "liveness", "status": "SERVING"' in out
        assert '"probe": "readiness", "service": "", "status": "NOT_SERVING"' in out
    finally:
        host.close()


def test_a_hop_dials_its_upstream_with_its_own_client_identity_not_its_server_certificate(
    tmp_path, monkeypatch
) -> None:
    """deploy/: the hop's server certificate is refused by the upstream's allow-list; the client
    identity of SEMCOM_UPSTREAM_TLS_CERT/KEY is accepted (the TLS a hop dials with: upstream_tls)."""
    pytest.importorskip("trustme", reason="the dev extra's `trustme` makes the test certificates")
    from semcom.rpc.tls import upstream_tls
    from tests.pki import issue, new_ca

    ca = tmp_path / "ca.crt"
    authority = new_ca(ca)
    receiver_cert = issue(authority, tmp_path / "receiver", "localhost", "127.0.0.1")
    hop_server = issue(authority, tmp_path / "channel-server", "channel.semcom.test")
    hop_client = issue(authority, tmp_path / "channel-client", "channel.client.semcom.test")
    host = ReceiverHost(
        tls=TlsConfig(cert=str(receiver_cert.cert), key=str(receiver_cert.key), ca=str(ca)),
        allowed_clients=("channel.client.semcom.test",),
    )
    hop_tls = TlsConfig(cert=str(hop_server.cert), key=str(hop_server.key), ca=str(ca), server_name="localhost")
    try:
        assert upstream_tls(hop_tls) == hop_tls  # unset: the hop's own certificate (refused below)
        with ReceiverClient(host.target, tls=upstream_tls(hop_tls), retry_attempts=1) as client:
            assert status_code(lambda: client.reconstruct(reconstruct_request(), timeout=10)) == (
                grpc.StatusCode.PERMISSION_DENIED
            )
        monkeypatch.setenv("SEMCOM_UPSTREAM_TLS_CERT", str(hop_client.cert))
        monkeypatch.setenv("SEMCOM_UPSTREAM_TLS_KEY", str(hop_client.key))
        with ReceiverClient(host.target, tls=upstream_tls(hop_tls), retry_attempts=1) as client:
            assert client.reconstruct(reconstruct_request("ok"), timeout=10).request_id == "ok"
        monkeypatch.delenv("SEMCOM_UPSTREAM_TLS_KEY")
        with pytest.raises(ValueError, match="go together"):
            upstream_tls(hop_tls)
    finally:
        host.close()
