"""gRPC channels for the load generator: any target, the project's client channel, no retries.

The load generator must see every failure as it happens, so its channels have the client's
automatic retries switched off (a retried failure would be counted as a slow success).
Everything else is the project's client channel, `semcom.rpc.client.dial`: targets as
`host:port`, a comma list of addresses (round_robin over them), or a gRPC URI such as
`dns:///name:port`; TLS / mutual TLS per the given TlsConfig (default SEMCOM_INSECURE /
SEMCOM_TLS_*); keepalive pings; message size limits.

The tool accepts whatever address its user names. This repository's own tests and benchmarks
start their services on loopback (`semcom.loadtest.cluster`, which checks its addresses with
`semcom.loadtest.loopback.require_loopback`).
"""

from __future__ import annotations

import grpc

from semcom.rpc.client import dial
from semcom.rpc.tls import TlsConfig


def open_channel(target: str, insecure: bool | None = None, *, tls: TlsConfig | None = None) -> grpc.Channel:
    """A channel to `target`; `tls` (a TlsConfig) wins, else `insecure` overrides SEMCOM_INSECURE."""
    if tls is None:
        tls = TlsConfig.from_settings(insecure=insecure)
    return dial(target, tls=tls, retry_attempts=1)
