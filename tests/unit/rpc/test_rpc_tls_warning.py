"""Plaintext dialling is warned about once per target, not on every redial (the demo redials a
service many times while it starts, which flooded the log with the same warning)."""

from __future__ import annotations

import logging

import pytest

from semcom.rpc.tls import TlsConfig, channel_credentials


def test_plaintext_dial_warns_once_per_target(caplog: pytest.LogCaptureFixture) -> None:
    plain = TlsConfig(insecure=True)
    with caplog.at_level(logging.WARNING, logger="semcom.rpc.tls"):
        for _ in range(5):
            assert channel_credentials(plain, "127.0.0.1:50999") is None
        assert channel_credentials(plain, "127.0.0.1:50998") is None
    warnings = [r.getMessage() for r in caplog.records if "WITHOUT TLS" in r.getMessage()]
    assert warnings == [
        "dialling 127.0.0.1:50999 WITHOUT TLS (insecure explicitly chosen)",
        "dialling 127.0.0.1:50998 WITHOUT TLS (insecure explicitly chosen)",
    ]
