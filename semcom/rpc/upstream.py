"""The channel a forwarding hop (sender -> channel -> receiver) dials its upstream with.

The same target syntax, load balancing, retry policy and TLS as `semcom.rpc.client.dial`, plus
a retry of RESOURCE_EXHAUSTED after the downstream's hint (`HOP_RETRY_CODES`), and client keepalive: the hop pings its upstream every SEMCOM_UPSTREAM_KEEPALIVE_S (also with no call
in flight) and gives the connection up when a ping is not answered within
SEMCOM_KEEPALIVE_TIMEOUT_S. A frozen downstream (a SIGSTOPped or wedged process whose TCP
connection stays open) is so noticed within about the sum of the two (8 s by default): calls on
it end UNAVAILABLE, which the hop reports as "downstream <hop> unavailable: ...". The upstream
servers accept pings at that rate (SEMCOM_KEEPALIVE_MIN_PING_S <= SEMCOM_UPSTREAM_KEEPALIVE_S).
"""

from __future__ import annotations

import grpc

from semcom import config
from semcom.rpc.client import dial
from semcom.rpc.tls import TlsConfig

# A hop also retries a downstream's refusal at admission (after its retry hint): it happens before
# any work there, so the retry is safe, and it covers a downstream shared with other clients.
HOP_RETRY_CODES = ("UNAVAILABLE", "RESOURCE_EXHAUSTED")


def dial_upstream(
    target: str,
    *,
    tls: TlsConfig,
    lb_policy: str | None = None,
    max_message_bytes: int | None = None,
    keepalive_s: float | None = None,
    timeout_s: float | None = None,
) -> grpc.Channel:
    """`semcom.rpc.client.dial` with the hop's keepalive: SEMCOM_UPSTREAM_KEEPALIVE_S and
    SEMCOM_KEEPALIVE_TIMEOUT_S unless given (see the module docstring)."""
    return dial(
        target,
        tls=tls,
        lb_policy=lb_policy,
        max_message_bytes=max_message_bytes,
        keepalive_s=config.get("SEMCOM_UPSTREAM_KEEPALIVE_S") if keepalive_s is None else keepalive_s,
        keepalive_timeout_s=config.get("SEMCOM_KEEPALIVE_TIMEOUT_S") if timeout_s is None else timeout_s,
        retry_codes=HOP_RETRY_CODES,
    )
