"""gRPC channels for the load generator: loopback only, the project's TLS settings, no retries.

The load generator must see every failure as it happens, so its channels have the client's
automatic UNAVAILABLE retries switched off (a retried failure would be counted as a slow
success). Everything else (TLS per SEMCOM_INSECURE / SEMCOM_TLS_*, message size limits) is the
project's client channel, `semcom.rpc.client.dial`.
"""

from __future__ import annotations

import grpc

from semcom.loadtest.loopback import require_loopback


def open_channel(target: str, insecure: bool | None = None) -> grpc.Channel:
    """A channel to `target` (refused unless loopback); `insecure` overrides SEMCOM_INSECURE."""
    from semcom.rpc.client import dial
    from semcom.rpc.tls import TlsConfig

    address = require_loopback(target)
    return dial(address, tls=TlsConfig.from_settings(insecure=insecure), retry_attempts=1)
