"""Client commands take any target (address lists, dns:///, TLS and mutual TLS) and the client
channels notice a frozen server through keepalive. Traffic stays on loopback: the scripted
senders here listen on 127.0.0.1 (tests/unit/clients/scripted.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from semcom.cli import build_parser, main
from semcom.loadtest.cluster import free_port
from semcom.loadtest.loopback import require_loopback
from semcom.rpc.client import SenderClient, keepalive_options
from semcom.rpc.tls import TlsConfig, server_credentials
from semcom.v1 import sender_pb2
from tests.pki import make_dev_pki
from tests.unit.clients.scripted import Server

REPO = Path(__file__).resolve().parents[3]
LOAD = [
    "--service",
    "sender",
    "--modes",
    "text",
    "--concurrency",
    "2",
    "--requests",
    "6",
    "--warmup",
    "0",
    "--image-size",
    "16",
    "--num-images",
    "2",
    "--timeout",
    "20",
    "--json",
]


def _levels(out: str) -> list[dict]:
    return json.loads(out)["levels"]


def test_loadtest_takes_an_address_list_and_balances_over_it(capsys) -> None:
    with Server() as a, Server() as b:
        target = f"{a.target},{b.target}"  # refused by the old loopback-only tool
        assert all(require_loopback(t) for t in target.split(","))  # the test's own guard
        assert main(["loadtest", "--to", target, *LOAD, "--insecure"]) == 0
        (level,) = _levels(capsys.readouterr().out)
        assert level["completed"] == 6 and level["errors"] == {}
        assert len(a.streams) >= 1 and len(b.streams) >= 1 and len(a.streams) + len(b.streams) == 6


def test_loadtest_takes_a_dns_name(capsys) -> None:
    with Server() as server:
        assert main(["loadtest", "--to", f"dns:///localhost:{server.port}", *LOAD, "--insecure"]) == 0
        assert _levels(capsys.readouterr().out)[0]["completed"] == 6 == len(server.streams)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    return make_dev_pki(tmp_path_factory.mktemp("pki"), ["localhost", "127.0.0.1"])


def test_bench_sweep_target_over_mutual_tls(pki, capsys) -> None:
    creds = server_credentials(TlsConfig(cert=str(pki.server.cert), key=str(pki.server.key), ca=str(pki.ca)), "test")
    sweep = [
        "bench",
        "sweep",
        "--modes",
        "text",
        "--concurrency",
        "1",
        "--requests",
        "2",
        "--warmup",
        "0",
        "--image-size",
        "16",
        "--num-images",
        "1",
        "--timeout",
        "20",
        "--json",
    ]
    with Server(credentials=creds) as server:
        target = f"localhost:{server.port}"
        ok = main(
            [
                *sweep,
                "--to",
                target,
                "--tls-ca",
                str(pki.ca),
                "--tls-cert",
                str(pki.client.cert),
                "--tls-key",
                str(pki.client.key),
            ]
        )
        report = json.loads(capsys.readouterr().out)
        assert ok == 0 and report["target"] == target and report["levels"][0]["completed"] == 2
        assert len(server.streams) == 2
        # the same call without a client certificate is refused by the mutual-TLS server: no
        # connection within the connect deadline, nothing sent (as `semcom send`)
        assert main([*sweep, "--to", target, "--tls-ca", str(pki.ca)]) == 1
        out, err = capsys.readouterr()
        assert out == "" and f"semcom bench sweep: error: cannot connect to {target} within" in err
        assert len(server.streams) == 2


def test_loadtest_over_tls_with_a_server_name(pki, capsys) -> None:
    creds = server_credentials(TlsConfig(cert=str(pki.server.cert), key=str(pki.server.key)), "test")
    with Server(credentials=creds) as server:
        # an address list has no name of its own: the certificate's name is given explicitly
        rc = main(
            [
                "loadtest",
                "--to",
                f"127.0.0.1:{server.port},127.0.0.1:{server.port}",
                *LOAD,
                "--tls-ca",
                str(pki.ca),
                "--tls-server-name",
                "localhost",
            ]
        )
        assert rc == 0 and _levels(capsys.readouterr().out)[0]["completed"] == 6


def test_client_commands_share_one_set_of_connection_flags() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    bench_sweep = next(
        a for a in sub.choices["bench"]._actions if hasattr(a, "choices") and a.choices and "sweep" in a.choices
    ).choices["sweep"]
    flags = {"--insecure", "--tls-cert", "--tls-key", "--tls-ca", "--tls-server-name"}
    for p in (sub.choices["send"], sub.choices["loadtest"], bench_sweep):
        assert flags <= {o for a in p._actions for o in a.option_strings}, p.prog


def test_keepalive_options_are_set_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMCOM_CLIENT_KEEPALIVE_S", "12")
    monkeypatch.setenv("SEMCOM_CLIENT_KEEPALIVE_TIMEOUT_S", "4")
    opts = dict(keepalive_options())
    assert opts["grpc.keepalive_time_ms"] == 12000 and opts["grpc.keepalive_timeout_ms"] == 4000
    assert opts["grpc.http2.ping_timeout_ms"] == 4000 and opts["grpc.keepalive_permit_without_calls"] == 1
    with pytest.raises(ValueError):
        keepalive_options(0, 5)


@pytest.mark.parametrize(
    ("keepalive", "server", "bound_s"),
    [
        ((None, None), "default", 10 + 5 + 5),  # the defaults against gRPC's default server ping policy
        ((3.0, 2.0), "permit", 10.0),  # faster pings, against a server that permits them
    ],
)
def test_frozen_server_is_noticed_by_keepalive_not_the_deadline(monkeypatch, keepalive, server, bound_s) -> None:
    """SIGSTOP the server while a call waits: UNAVAILABLE after at most keepalive time + timeout of
    silence (defaults 10 s + 5 s), not after the 120 s deadline."""
    for name, value in zip(("SEMCOM_CLIENT_KEEPALIVE_S", "SEMCOM_CLIENT_KEEPALIVE_TIMEOUT_S"), keepalive):
        if value is not None:
            monkeypatch.setenv(name, str(value))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.clients.scripted", str(port), "300", server],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline().strip() == b"serving"
        with SenderClient(f"127.0.0.1:{port}", tls=TlsConfig(insecure=True), retry_attempts=1) as client:
            stream = client.transmit([sender_pb2.ImageRequest(request_id="frozen", image=b"x")], timeout=120)
            time.sleep(1.0)  # the call is in flight, the server sleeping in it
            os.kill(proc.pid, signal.SIGSTOP)
            t0 = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                list(stream)
            noticed = time.monotonic() - t0
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
        assert noticed < bound_s, noticed  # keepalive time + timeout + slack for a busy machine
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
