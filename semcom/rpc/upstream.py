"""The channel a forwarding hop (sender -> channel -> receiver) dials its upstream with.

The same target syntax, load balancing, retry policy and TLS as `semcom.rpc.client.dial`, plus
client keepalive: the hop pings its upstream every SEMCOM_UPSTREAM_KEEPALIVE_S (also with no call
in flight) and gives the connection up when a ping is not answered within
SEMCOM_KEEPALIVE_TIMEOUT_S. A frozen downstream (a SIGSTOPped or wedged process whose TCP
connection stays open) is so noticed within about the sum of the two (8 s by default): calls on
it end UNAVAILABLE, which the hop reports as "downstream <hop> unavailable: ...". The upstream
servers accept pings at that rate (SEMCOM_KEEPALIVE_MIN_PING_S <= SEMCOM_UPSTREAM_KEEPALIVE_S).
"""

from __future__ import annotations

import grpc

from semcom import config
from semcom.rpc.client import RECONNECT_MAX_BACKOFF_MS, address_list_host, normalise_target, service_config
from semcom.rpc.tls import TlsConfig, channel_credentials


def keepalive_options(keepalive_s: float | None = None, timeout_s: float | None = None) -> list[tuple[str, int]]:
    keepalive_s = config.get("SEMCOM_UPSTREAM_KEEPALIVE_S") if keepalive_s is None else keepalive_s
    timeout_s = config.get("SEMCOM_KEEPALIVE_TIMEOUT_S") if timeout_s is None else timeout_s
    return [
        ("grpc.keepalive_time_ms", int(keepalive_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(timeout_s * 1000)),
        ("grpc.http2.ping_timeout_ms", int(timeout_s * 1000)),  # newer gRPC cores time keepalive pings by this
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]


def dial_upstream(
    target: str,
    *,
    tls: TlsConfig,
    lb_policy: str | None = None,
    max_message_bytes: int | None = None,
    keepalive_s: float | None = None,
    timeout_s: float | None = None,
) -> grpc.Channel:
    """A channel to a hop's upstream: `dial`'s options plus keepalive (see the module docstring)."""
    size = max_message_bytes if max_message_bytes is not None else config.get("SEMCOM_MAX_MESSAGE_BYTES")
    options = [
        ("grpc.max_send_message_length", size),
        ("grpc.max_receive_message_length", size),
        ("grpc.enable_retries", 1),
        (
            "grpc.service_config",
            service_config(lb_policy or config.get("SEMCOM_LB_POLICY"), config.get("SEMCOM_RETRY_ATTEMPTS")),
        ),
        ("grpc.max_reconnect_backoff_ms", RECONNECT_MAX_BACKOFF_MS),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.initial_reconnect_backoff_ms", 200),
        *keepalive_options(keepalive_s, timeout_s),
    ]
    uri = normalise_target(target)
    creds = channel_credentials(tls, target)
    if creds is None:
        return grpc.insecure_channel(uri, options=options)
    name = tls.server_name or address_list_host(target)
    if name:
        options.append(("grpc.ssl_target_name_override", name))
    return grpc.secure_channel(uri, creds, options=options)
