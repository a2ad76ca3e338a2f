"""TLS and mutual TLS with certificates made at test time (the `cryptography` package)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from semcom.rpc.client import ReceiverClient, health_status
from semcom.rpc.tls import TlsConfig, server_credentials
from tests.unit.rpc.hosts import ReceiverHost, reconstruct_request

pytest.importorskip("cryptography", reason="the dev extra's `cryptography` makes the test certificates")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    from tests.pki import make_dev_pki

    return make_dev_pki(tmp_path_factory.mktemp("pki"), hosts=["localhost", "127.0.0.1"])


def _client_tls(pki, who: str | None) -> TlsConfig:
    pem = getattr(pki, who) if who else None
    return TlsConfig(ca=str(pki.ca), cert=str(pem.cert) if pem else "", key=str(pem.key) if pem else "")


def test_mutual_tls_accepts_only_clients_with_a_certificate_from_the_ca(pki) -> None:
    server_tls = TlsConfig(cert=str(pki.server.cert), key=str(pki.server.key), ca=str(pki.ca))
    host = ReceiverHost(tls=server_tls)
    try:
        assert health_status(host.target, tls=_client_tls(pki, "client")) == "SERVING"
        with ReceiverClient(host.target, tls=_client_tls(pki, "client"), retry_attempts=1) as client:
            assert client.reconstruct(reconstruct_request("m"), timeout=10).request_id == "m"
        for refused in (_client_tls(pki, None), _client_tls(pki, "rogue"), TlsConfig(insecure=True)):
            with ReceiverClient(host.target, tls=refused, retry_attempts=1) as client:
                with pytest.raises(grpc.RpcError) as err:
                    client.reconstruct(reconstruct_request(), timeout=5)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert health_status(host.target, tls=refused, timeout=2) == "UNREACHABLE"
    finally:
        host.close()


def test_server_tls_without_client_certificates(pki) -> None:
    host = ReceiverHost(tls=TlsConfig(cert=str(pki.server.cert), key=str(pki.server.key)))
    try:
        assert health_status(host.target, tls=_client_tls(pki, None)) == "SERVING"  # verifies the server only
        assert health_status(host.target, tls=TlsConfig(insecure=True), timeout=2) == "UNREACHABLE"
        other_ca = TlsConfig(ca=str(pki.rogue.cert))  # not the CA that signed the server
        assert health_status(host.target, tls=other_ca, timeout=2) == "UNREACHABLE"
    finally:
        host.close()


def test_plaintext_must_be_chosen_explicitly(tmp_path: Path, pki) -> None:
    with pytest.raises(ValueError, match="SEMCOM_INSECURE=true / --insecure"):
        server_credentials(TlsConfig(), "receiver")
    with pytest.raises(ValueError, match="both a certificate and a key"):
        server_credentials(TlsConfig(cert=str(pki.server.cert)), "receiver")
    with pytest.raises(ValueError, match="cannot read TLS certificate"):
        server_credentials(TlsConfig(cert=str(tmp_path / "missing.crt"), key=str(pki.server.key)), "receiver")
    assert server_credentials(TlsConfig(insecure=True), "receiver") is None
