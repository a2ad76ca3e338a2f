"""Python client API of the services, also used by each service to dial its downstream.

    from semcom.rpc.client import SenderClient, image_request
    with SenderClient("127.0.0.1:50051", insecure=True) as client:
        for result in client.transmit([image_request(open("a.jpg", "rb").read(), snr_db=10, mode="text+latent")]):
            print(result.caption_received, result.report.latent.bit_errors)

Sending a batch that loses nothing (re-sent after transient failures, one `Outcome` per request)
is `semcom.rpc.retry.transmit_all`.

`dial` builds the channel every hop uses:
* target: ``host:port``; a comma list ``10.0.0.1:50053,10.0.0.2:50053`` (becomes
  ``ipv4:``/``ipv6:`` so gRPC balances over the addresses); or any gRPC URI (``dns:///name:port``,
  ``unix:path``, ``ipv4:a:p,b:p``);
* load balancing by the service config (``round_robin`` by default, SEMCOM_LB_POLICY): with a
  ``dns:///`` name of a headless Kubernetes Service every receiver pod gets requests;
* retries: the service config's retryPolicy re-sends a call that failed with UNAVAILABLE, up
  to SEMCOM_RETRY_ATTEMPTS attempts (gRPC caps it at 5) with exponential backoff 0.2 s x 2^n
  (at most 2 s) and jitter, always within the call's deadline. A stream is retried only until
  its first response arrives (gRPC commits the call then);
* reconnect backoff capped at 2 s, so a restarted peer is found again quickly;
* keepalive: after SEMCOM_CLIENT_KEEPALIVE_S (10 s) without reading anything the channel pings the
  peer, with or without a call in flight and however many pings went unanswered by data; a ping
  not acknowledged within SEMCOM_CLIENT_KEEPALIVE_TIMEOUT_S (5 s) closes the connection, so a frozen or
  unplugged peer fails the calls on it with UNAVAILABLE after at most 10 + 5 s of silence instead
  of holding them for their whole deadline. 10 s is the most frequent ping a gRPC server accepts
  with its default policy during a call (measured with grpcio 1.85: 5 s pings drew a
  ``too_many_pings`` GOAWAY after 25 s, 10 s pings ran a 50 s call to the end); servers that
  should accept pings between calls set ``grpc.keepalive_permit_without_calls`` and a
  ``grpc.http2.min_ping_interval_without_data_ms`` at most this interval;
* message size limits from SEMCOM_MAX_MESSAGE_BYTES; TLS/mTLS per `semcom.rpc.tls`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import grpc

from semcom import config
from semcom.link.analog import canonical, names_scheme
from semcom.pipeline.seeds import RoleSeeds
from semcom.rpc.convert import LATENT_ENCODINGS, LATENT_REPAIRS, MODES, enum_number
from semcom.rpc.tls import TlsConfig, channel_credentials
from semcom.v1 import channel_pb2, receiver_pb2, receiver_pb2_grpc, sender_pb2, sender_pb2_grpc

RETRY_INITIAL_BACKOFF_S = 0.2
RETRY_MAX_BACKOFF_S = 2.0
RECONNECT_MAX_BACKOFF_MS = 2000
SERVICES = ("semcom.v1.SenderService", "semcom.v1.ReceiverService")


RETRY_CODES = ("UNAVAILABLE",)


def keepalive_options(time_s: float | None = None, timeout_s: float | None = None) -> list[tuple[str, int]]:
    """Channel options for client keepalive pings (see the module docstring)."""
    time_s = time_s if time_s is not None else config.get("SEMCOM_CLIENT_KEEPALIVE_S")
    timeout_s = timeout_s if timeout_s is not None else config.get("SEMCOM_CLIENT_KEEPALIVE_TIMEOUT_S")
    if not (time_s > 0 and timeout_s > 0):
        raise ValueError(f"keepalive time and timeout must be positive, got {time_s} s and {timeout_s} s")
    return [
        ("grpc.keepalive_time_ms", int(time_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(timeout_s * 1000)),
        # grpcio >= 1.6x times a keepalive ping out by this one (default 60 s), not keepalive_timeout
        ("grpc.http2.ping_timeout_ms", int(timeout_s * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),  # keep pinging while a long call sends nothing
    ]


def service_config(lb_policy: str, attempts: int, retry_codes: tuple[str, ...] = RETRY_CODES) -> str:
    """gRPC service config JSON: load-balancing policy and the retry policy for `retry_codes`.

    gRPC's retries honour the server's ``grpc-retry-pushback-ms`` trailer: a positive value is the
    wait before the next attempt, a negative one ends the retries of that call."""
    cfg: dict = {"loadBalancingConfig": [{lb_policy: {}}]}
    if attempts > 1:
        cfg["methodConfig"] = [
            {
                "name": [{"service": s} for s in SERVICES],
                "retryPolicy": {
                    "maxAttempts": min(attempts, 5),
                    "initialBackoff": f"{RETRY_INITIAL_BACKOFF_S}s",
                    "maxBackoff": f"{RETRY_MAX_BACKOFF_S}s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": list(retry_codes),
                },
            }
        ]
    return json.dumps(cfg)


def normalise_target(target: str) -> str:
    """A gRPC target for `target`: comma lists of addresses become an ``ipv4:``/``ipv6:`` URI."""
    target = target.strip()
    if not target:
        raise ValueError("empty target: give HOST:PORT, a comma list of addresses, or a gRPC URI (dns:///name:port)")
    if "://" in target or target.split(":", 1)[0] in ("ipv4", "ipv6", "unix", "dns", "unix-abstract", "vsock"):
        return target
    if "," in target:
        parts = [p.strip() for p in target.split(",") if p.strip()]
        scheme = "ipv6" if any(p.startswith("[") for p in parts) else "ipv4"
        return f"{scheme}:{','.join(parts)}"
    return target


def dial(
    target: str,
    *,
    tls: TlsConfig | None = None,
    lb_policy: str | None = None,
    max_message_bytes: int | None = None,
    retry_attempts: int | None = None,
    retry_codes: tuple[str, ...] = RETRY_CODES,
    keepalive_s: float | None = None,
    keepalive_timeout_s: float | None = None,
) -> grpc.Channel:
    """A channel to `target` with load balancing, retries, keepalive and TLS (see module docstring).

    `keepalive_s` / `keepalive_timeout_s`: ping interval and timeout (None: the client settings
    SEMCOM_CLIENT_KEEPALIVE_S / SEMCOM_CLIENT_KEEPALIVE_TIMEOUT_S)."""
    tls = tls if tls is not None else TlsConfig.from_settings()
    size = max_message_bytes if max_message_bytes is not None else config.get("SEMCOM_MAX_MESSAGE_BYTES")
    options = [
        ("grpc.max_send_message_length", size),
        ("grpc.max_receive_message_length", size),
        ("grpc.enable_retries", 1),
        (
            "grpc.service_config",
            service_config(
                lb_policy or config.get("SEMCOM_LB_POLICY"),
                retry_attempts if retry_attempts is not None else config.get("SEMCOM_RETRY_ATTEMPTS"),
                retry_codes,
            ),
        ),
        ("grpc.max_reconnect_backoff_ms", RECONNECT_MAX_BACKOFF_MS),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.initial_reconnect_backoff_ms", 200),
        *keepalive_options(keepalive_s, keepalive_timeout_s),
    ]
    uri = normalise_target(target)
    creds = channel_credentials(tls, target)
    if creds is None:
        return grpc.insecure_channel(uri, options=options)
    name = tls.server_name or address_list_host(target)
    if name:
        options.append(("grpc.ssl_target_name_override", name))
    return grpc.secure_channel(uri, creds, options=options)


def address_list_host(target: str) -> str:
    """The certificate name to check for an address list (which has no authority of its own):
    the host all its addresses share; ValueError when they differ (then the certificates must
    share a name, given as SEMCOM_TLS_SERVER_NAME)."""
    uri = normalise_target(target)
    if not uri.startswith(("ipv4:", "ipv6:")):
        return ""
    hosts = {addr.rsplit(":", 1)[0].strip("[]") for addr in uri.split(":", 1)[1].split(",")}
    if len(hosts) > 1:
        raise ValueError(
            f"TLS to the address list {target!r}: set SEMCOM_TLS_SERVER_NAME / --tls-server-name to the name "
            "every one of these servers has in its certificate"
        )
    return hosts.pop()


def image_request(
    image: bytes | str | Path,
    *,
    request_id: str | None = None,
    caption: str | None = None,
    latent_encoding: str | None = None,
    sample_posterior: bool | None = None,
    mode: str = "auto",
    steps: int | None = None,
    strength: float | None = None,
    guidance_scale: float | None = None,
    seed: int | None = None,
    index: int = 0,
    seeds: RoleSeeds | None = None,
    adaptive_strength: bool | None = None,
    output_format: str = "png",
    preset: str | None = None,
    channel: channel_pb2.ChannelConfig | None = None,
    snr_db: float | None = None,
    per_channel: bool = False,
    clip_percentile: float | None = None,
    latent_repair: str | None = None,
) -> sender_pb2.ImageRequest:
    """An ImageRequest from image bytes or a file path; `snr_db` is a shortcut for a channel override.

    A parameter left None stays unset on the wire, so the services' configured defaults apply
    (e.g. `latent_encoding`: the sender's SEMCOM_LATENT_ENCODING; `sample_posterior`: true).
    `latent_encoding` "analog[:OPTIONS]" sends the analog latent (the spec in `analog_spec`).
    Seeds: `seeds` (explicit per role), else the user `seed` of image `index`, derived into
    independent sender / channel / receiver seeds (`RoleSeeds.derive(seed, index)`, as
    `semcom transmit` does); a channel seed already in `channel` is kept.
    `per_channel`/`clip_percentile`: the clipping range of int encodings (sender side);
    `latent_repair`: none | mmse | smmse at the receiver (None: the receiver's default);
    `preset`: the reproduction preset (None: the receiver's default, docs/models.md).
    """
    roles = seeds if seeds is not None else RoleSeeds.derive(seed, index)
    data = Path(image).read_bytes() if isinstance(image, (str, Path)) else bytes(image)
    repair = None if latent_repair is None else enum_number(LATENT_REPAIRS, latent_repair, "latent_repair")
    params = receiver_pb2.ReconstructionParams(
        mode=enum_number(MODES, mode, "mode"),
        output_format=output_format,
        **_given(
            latent_repair=repair,
            num_inference_steps=steps,
            strength=strength,
            guidance_scale=guidance_scale,
            seed=roles.receiver,
            adaptive_strength=adaptive_strength,
            preset=preset,
        ),
    )
    req = sender_pb2.ImageRequest(
        request_id=request_id or uuid.uuid4().hex[:12],
        image=data,
        params=params,
        **_given(
            sample_posterior=sample_posterior, caption=caption, clip_percentile=clip_percentile, seed=roles.sender
        ),
    )
    if latent_encoding is not None and names_scheme(latent_encoding):  # "analog[:OPTIONS]": the spec travels as text
        req.latent_encoding = LATENT_ENCODINGS["analog"]
        req.analog_spec = canonical(latent_encoding)
    elif latent_encoding is not None:
        req.latent_encoding = enum_number(LATENT_ENCODINGS, latent_encoding, "latent_encoding")
    if per_channel:
        req.quant.per_channel = True
    if channel is not None:
        req.channel.CopyFrom(channel)
    if snr_db is not None:
        req.channel.snr_db = snr_db
    if roles.channel is not None and not req.channel.HasField("seed"):
        req.channel.seed = roles.channel
    return req


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that are not None: a message's optional fields the caller set (the rest stay unset)."""
    return {name: value for name, value in fields.items() if value is not None}


CONNECT_TIMEOUT_S = 5.0  # `wait_ready`: a target that accepts no connection in this long is reported at once


class UnreachableError(OSError):
    """The target accepted no connection within the connect deadline (`wait_ready`)."""


def wait_ready(channel: grpc.Channel, target: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Return once `channel` to `target` is connected (TLS handshake included); UnreachableError
    after `timeout` seconds without a connection: a mistyped address fails in seconds instead of
    after every retry's reconnect backoff (`semcom send`, `semcom loadtest`)."""
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise UnreachableError(
            f"cannot connect to {target} within {timeout:g} s: check the address and port, that the "
            "service is up, and the TLS flags (--insecure for a plaintext service)"
        ) from None


class _Client:
    """Owns a channel; deadlines default to SEMCOM_DEADLINE_S per call (per stream for streams)."""

    def __init__(
        self,
        target: str,
        *,
        tls: TlsConfig | None = None,
        insecure: bool | None = None,
        deadline_s: float | None = None,
        **dial_options,
    ) -> None:
        if tls is None:
            tls = TlsConfig.from_settings(insecure=insecure)
        self.target = target
        self.deadline_s = deadline_s if deadline_s is not None else config.get("SEMCOM_DEADLINE_S")
        self.channel = dial(target, tls=tls, **dial_options)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SenderClient(_Client):
    """Client of SenderService: `encode` one image, or `transmit` a stream end to end."""

    def __init__(self, target: str, **kwargs) -> None:
        super().__init__(target, **kwargs)
        self.stub = sender_pb2_grpc.SenderServiceStub(self.channel)

    def encode(self, request: sender_pb2.ImageRequest, timeout: float | None = None) -> sender_pb2.EncodeResponse:
        return self.stub.Encode(request, timeout=timeout or self.deadline_s)

    def transmit(
        self, requests: Iterable[sender_pb2.ImageRequest], timeout: float | None = None
    ) -> Iterator[sender_pb2.TransmitResult]:
        """Results in request order; the deadline covers the whole stream. Iterating raises
        `grpc.RpcError` with the status when the stream fails."""
        return self.stub.Transmit(iter(requests), timeout=timeout or self.deadline_s)


class ReceiverClient(_Client):
    """Client of ReceiverService (a receiver, or a channel proxy in front of receivers)."""

    def __init__(self, target: str, **kwargs) -> None:
        super().__init__(target, **kwargs)
        self.stub = receiver_pb2_grpc.ReceiverServiceStub(self.channel)

    def reconstruct(
        self, request: receiver_pb2.ReconstructRequest, timeout: float | None = None
    ) -> receiver_pb2.ReconstructResponse:
        return self.stub.Reconstruct(request, timeout=timeout or self.deadline_s)

    def reconstruct_stream(
        self, requests: Iterable[receiver_pb2.ReconstructRequest], timeout: float | None = None
    ) -> Iterator[receiver_pb2.ReconstructResponse]:
        return self.stub.ReconstructStream(iter(requests), timeout=timeout or self.deadline_s)


def health_status(target: str, *, service: str = "", tls: TlsConfig | None = None, timeout: float = 5.0) -> str:
    """The grpc.health.v1 status name of `service` ("" = the whole server) at `target`.

    Returns SERVING / NOT_SERVING / SERVICE_UNKNOWN / UNKNOWN, or UNREACHABLE when the call fails.
    """
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with dial(target, tls=tls, retry_attempts=1) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as exc:
            return "SERVICE_UNKNOWN" if exc.code() == grpc.StatusCode.NOT_FOUND else "UNREACHABLE"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def reflected_services(target: str, *, tls: TlsConfig | None = None, timeout: float = 5.0) -> list[str]:
    """Service names the server lists through server reflection (what grpcurl sees)."""
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with dial(target, tls=tls, retry_attempts=1) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        ask = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = stub.ServerReflectionInfo(iter([ask]), timeout=timeout)
        return sorted(s.name for reply in replies for s in reply.list_services_response.service)


__all__ = [
    "CONNECT_TIMEOUT_S",
    "ReceiverClient",
    "SenderClient",
    "dial",
    "health_status",
    "image_request",
    "keepalive_options",
    "normalise_target",
    "reflected_services",
    "service_config",
    "UnreachableError",
    "wait_ready",
]
