"""Python client API of the services, also used by each service to dial its downstream.

    from semcom.rpc.client import SenderClient, image_request
    with SenderClient("127.0.0.1:50051", insecure=True) as client:
        for result in client.transmit([image_request(open("a.jpg", "rb").read(), snr_db=10, mode="text+latent")]):
            print(result.caption_received, result.report.latent.bit_errors)

`transmit_all(client, requests)` sends a batch losing nothing: the images without a result are
re-sent after transient failures (backoff, the server's retry hint, bounded), each result is
delivered once, and every request ends with one `Outcome` (what `semcom send` uses).

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
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from semcom import config
from semcom.pipeline.seeds import RoleSeeds
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
    Seeds: `seeds` (explicit per role), else the user `seed` of image `index`, derived into
    independent sender / channel / receiver seeds (`RoleSeeds.derive(seed, index)`, as
    `semcom transmit` does); a channel seed already in `channel` is kept.
    `per_channel`/`clip_percentile`: the clipping range of int encodings (sender side);
    `latent_repair`: none | mmse | smmse at the receiver (None: the receiver's default);
    `preset`: the reproduction preset (None: the receiver's default, docs/models.md).
    """
    from semcom.rpc.convert import LATENT_ENCODINGS, LATENT_REPAIRS, MODES, enum_number

    roles = seeds if seeds is not None else RoleSeeds.derive(seed, index)
    data = Path(image).read_bytes() if isinstance(image, (str, Path)) else bytes(image)
    params = receiver_pb2.ReconstructionParams(mode=enum_number(MODES, mode, "mode"), output_format=output_format)
    if latent_repair is not None:
        params.latent_repair = enum_number(LATENT_REPAIRS, latent_repair, "latent_repair")
    if preset is not None:
        params.preset = preset
    optionals = {
        "num_inference_steps": steps,
        "strength": strength,
        "guidance_scale": guidance_scale,
        "seed": roles.receiver,
        "adaptive_strength": adaptive_strength,
    }
    for name, value in optionals.items():
        if value is not None:
            setattr(params, name, value)
    req = sender_pb2.ImageRequest(request_id=request_id or uuid.uuid4().hex[:12], image=data, params=params)
    if latent_encoding is not None:
        req.latent_encoding = enum_number(LATENT_ENCODINGS, latent_encoding, "latent_encoding")
    if sample_posterior is not None:
        req.sample_posterior = sample_posterior
    if caption is not None:
        req.caption = caption
    if per_channel:
        req.quant.per_channel = True
    if clip_percentile is not None:
        req.clip_percentile = clip_percentile
    if roles.sender is not None:
        req.seed = roles.sender
    if channel is not None:
        req.channel.CopyFrom(channel)
    if snr_db is not None:
        req.channel.snr_db = snr_db
    if roles.channel is not None and not req.channel.HasField("seed"):
        req.channel.seed = roles.channel
    return req


TRANSIENT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
# Codes that say nothing about one image: every image still waiting fails with them at once.
STREAM_CODES = (
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNIMPLEMENTED,
)


def retry_pushback_s(exc: grpc.RpcError) -> float | None:
    """The server's retry hint (trailing metadata ``grpc-retry-pushback-ms``) in seconds: None when
    absent or malformed, negative for "do not retry"."""
    try:
        trailers = exc.trailing_metadata() or ()
    except Exception:  # noqa: BLE001 - an error without trailers (e.g. raised locally)
        return None
    for key, value in trailers:
        if key == "grpc-retry-pushback-ms":
            try:
                ms = int(value)
            except (TypeError, ValueError):
                return None
            return -1.0 if ms < 0 else ms / 1000.0
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Application-level re-sending of a stream's unfinished images (`transmit_all`).

    `attempts`: stream attempts in a row that may fail transiently (UNAVAILABLE, RESOURCE_EXHAUSTED)
    before the images still waiting are given up; the count restarts whenever an image arrives.
    `max_s`: give up when the next attempt would start more than this many seconds after the last
    image arrived (or the batch started). Waits: exponential backoff (initial x multiplier^n, at
    most `max_backoff_s`) with jitter (uniformly between half and all of it); a RESOURCE_EXHAUSTED
    with a retry hint waits at least the hint, one with a negative hint is not retried.
    """

    attempts: int = 8
    max_s: float = 120.0
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"retry attempts must be >= 1, got {self.attempts}")
        if not (self.max_s >= 0 and self.initial_backoff_s >= 0 and self.max_backoff_s >= self.initial_backoff_s):
            raise ValueError("retry times must be >= 0 and max_backoff_s >= initial_backoff_s")

    @classmethod
    def from_settings(cls, attempts: int | None = None, max_s: float | None = None) -> RetryPolicy:
        return cls(
            attempts=attempts if attempts is not None else config.get("SEMCOM_SEND_ATTEMPTS"),
            max_s=max_s if max_s is not None else config.get("SEMCOM_SEND_RETRY_MAX_S"),
        )

    def backoff_s(self, failures: int, rng: random.Random) -> float:
        """Wait after the `failures`-th transient failure in a row (1-based), jittered."""
        base = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** max(0, failures - 1))
        return base / 2 + rng.uniform(0, base / 2)

    def delay_s(self, exc: grpc.RpcError, failures: int, rng: random.Random) -> float | None:
        """Seconds to wait before re-sending after `exc`, or None when it is not to be retried.

        An UNAVAILABLE with a negative hint is still retried here: a hop sets that hint when the hop
        *behind* it is down, to stop gRPC's per-call retries multiplying along the hops; the batch
        still waits for the restart (bounded by `attempts` and `max_s`)."""
        code = exc.code()
        if code not in TRANSIENT_CODES:
            return None
        pushback = retry_pushback_s(exc)
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and pushback is not None and pushback < 0:
            return None
        wait = self.backoff_s(failures, rng)
        return max(wait, pushback) if pushback is not None and pushback > 0 else wait


@dataclass
class Outcome:
    """Final status of one request of `transmit_all`: the result, or the status it failed with."""

    request_id: str
    result: sender_pb2.TransmitResult | None = None
    code: str = "OK"
    message: str = ""
    attempts: int = 0  # streams that carried this request

    @property
    def ok(self) -> bool:
        return self.result is not None


def transmit_all(
    client: SenderClient,
    requests: list[sender_pb2.ImageRequest],
    *,
    policy: RetryPolicy | None = None,
    deadline_s: float | None = None,
    on_result: Callable[[sender_pb2.TransmitResult], None] | None = None,
    on_retry: Callable[[grpc.RpcError, float, int], None] | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    stream_images: int | None = None,
) -> dict[str, Outcome]:
    """Send every request through `client.transmit`, losing none: each gets exactly one Outcome.

    Results are matched by request_id (ids must be unique); a result for a request that already has
    one is ignored, so nothing is delivered twice to `on_result` (called as each arrives; an
    exception there stops everything). After a transient failure the requests without a result are
    sent again in a new stream, after the policy's wait (a RESOURCE_EXHAUSTED whose retry hint is
    negative is not retried: it fails every request still waiting). A failure that names one request
    (INVALID_ARGUMENT, INTERNAL, ... : the stream answers in request order, so it is the first one
    still waiting) fails that request only and the rest go on in a new stream; one of STREAM_CODES,
    or running out of attempts / time, fails every request still waiting. `deadline_s` bounds the
    whole batch, retries and waits included (default: the client's). A DEADLINE_EXCEEDED that
    comes more than 1 s before that deadline is the server ending the stream (idle timeout,
    maximum stream duration) and is retried like UNAVAILABLE. `stream_images`: at most this many
    requests per stream (servers cap items and duration per stream; a new stream follows).
    """
    ids = [r.request_id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("request ids must be unique")
    batch = _Batch(
        requests,
        policy or RetryPolicy.from_settings(),
        rng or random.Random(),
        clock,
        deadline_s if deadline_s is not None else client.deadline_s,
    )
    while batch.pending:
        left = batch.end - clock()
        if left <= 0:
            batch.give_up(list(batch.pending), grpc.StatusCode.DEADLINE_EXCEEDED, "batch deadline exceeded")
            break
        chunk = batch.next_chunk(stream_images)
        try:
            batch.receive(client.transmit([batch.by_id[rid] for rid in chunk], timeout=left), chunk, on_result)
        except grpc.RpcError as exc:
            delay = batch.after_failure(exc)
            if delay is not None:
                if on_retry is not None:
                    on_retry(exc, delay, len(batch.pending))
                sleep(delay)
    return batch.outcomes


class _Batch:
    """The state of one `transmit_all` batch: every request's Outcome, the ids still waiting (in
    request order), the batch deadline on `clock` and the run of transient failures."""

    def __init__(
        self,
        requests: list[sender_pb2.ImageRequest],
        policy: RetryPolicy,
        rng: random.Random,
        clock: Callable[[], float],
        deadline_s: float,
    ) -> None:
        ids = [r.request_id for r in requests]
        self.policy = policy
        self.rng = rng
        self.clock = clock
        self.outcomes = {rid: Outcome(rid) for rid in ids}
        self.by_id = {r.request_id: r for r in requests}
        self.pending = list(ids)
        self.end = clock() + deadline_s
        self.failures = 0  # transient failures in a row
        self.last_progress = clock()  # when the last result arrived (or the batch started)

    def give_up(self, rids: list[str], code: grpc.StatusCode, message: str) -> None:
        for rid in rids:
            self.outcomes[rid].code, self.outcomes[rid].message = code.name, message
            self.pending.remove(rid)

    def next_chunk(self, stream_images: int | None) -> list[str]:
        """The ids the next stream carries (at most `stream_images`), each counted as an attempt."""
        chunk = self.pending[:stream_images] if stream_images else list(self.pending)
        for rid in chunk:
            self.outcomes[rid].attempts += 1
        return chunk

    def receive(
        self,
        results: Iterable[sender_pb2.TransmitResult],
        chunk: list[str],
        on_result: Callable[[sender_pb2.TransmitResult], None] | None,
    ) -> None:
        """Take a stream's results (each request's first only); a stream that ends OK without
        answering some of `chunk` fails those (a server fault, not transient)."""
        for result in results:
            outcome = self.outcomes.get(result.request_id)
            if outcome is None or outcome.ok or result.request_id not in self.pending:
                continue  # unknown or already delivered: never twice
            if on_result is not None:
                on_result(result)
            outcome.result = result
            self.pending.remove(result.request_id)
            self.failures, self.last_progress = 0, self.clock()
        unanswered = [rid for rid in chunk if rid in self.pending]
        if unanswered:
            self.give_up(unanswered, grpc.StatusCode.INTERNAL, "the stream ended without a result for this image")

    def after_failure(self, exc: grpc.RpcError) -> float | None:
        """After a failed stream: the seconds to wait before sending the requests still waiting
        again, or None for no wait: when every one of them has failed (none is left), or when the
        failure was about the first of them only (it has failed; the rest go on at once)."""
        code, details = exc.code(), exc.details() or ""
        pushback = retry_pushback_s(exc)
        # DEADLINE_EXCEEDED well before the batch deadline is the server's (an idle or maximum
        # stream duration): the stream is over, the batch is not
        server_deadline = code == grpc.StatusCode.DEADLINE_EXCEEDED and self.end - self.clock() > 1.0
        if _fails_the_stream(code, pushback, server_deadline):
            self.give_up(list(self.pending), code, details)  # ours, or the server asks not to retry
            return None
        self.failures += 1
        delay = (
            self.policy.backoff_s(self.failures, self.rng)
            if server_deadline
            else self.policy.delay_s(exc, self.failures, self.rng)
        )
        if delay is None:
            self.give_up(self.pending[:1], code, details)  # the first image still waiting is the one refused
            self.failures = 0
            return None
        reason = self._no_retry(delay)
        if reason:
            self.give_up(list(self.pending), code, f"{details} ({reason})")
            return None
        return delay

    def _no_retry(self, delay: float) -> str:
        """Why the requests still waiting are not sent again after `delay` ("" when they are)."""
        if self.failures >= self.policy.attempts or self.clock() + delay - self.last_progress > self.policy.max_s:
            return f"gave up after {self.failures} attempts"
        if self.clock() + delay >= self.end:
            return "no time left before the batch deadline to retry"
        return ""


def _fails_the_stream(code: grpc.StatusCode, pushback: float | None, server_deadline: bool) -> bool:
    """Whether a stream's failure fails every request still waiting: one of STREAM_CODES (but not
    the server ending the stream early), or a RESOURCE_EXHAUSTED whose hint says not to retry."""
    if code in STREAM_CODES and not server_deadline:
        return True
    return code == grpc.StatusCode.RESOURCE_EXHAUSTED and pushback is not None and pushback < 0


CONNECT_TIMEOUT_S = 5.0  # `wait_ready`: a target that accepts no connection in this long is reported at once


class UnreachableError(OSError):
    """The target accepted no connection within the connect deadline (`_Client.wait_ready`)."""


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

    def wait_ready(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        """Return once the channel is connected (TLS handshake included); UnreachableError after
        `timeout` seconds without a connection: a mistyped address fails in seconds instead of
        after every retry's reconnect backoff."""
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise UnreachableError(
                f"cannot connect to {self.target} within {timeout:g} s: check the address and port, that the "
                "service is up, and the TLS flags (--insecure for a plaintext service)"
            ) from None

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

    channel = dial(target, tls=tls, retry_attempts=1)
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return "SERVICE_UNKNOWN"
        return "UNREACHABLE"
    finally:
        channel.close()


def reflected_services(target: str, *, tls: TlsConfig | None = None, timeout: float = 5.0) -> list[str]:
    """Service names the server lists through server reflection (what grpcurl sees)."""
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    channel = dial(target, tls=tls, retry_attempts=1)
    try:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        ask = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = stub.ServerReflectionInfo(iter([ask]), timeout=timeout)
        return sorted(s.name for reply in replies for s in reply.list_services_response.service)
    finally:
        channel.close()


__all__ = [
    "CONNECT_TIMEOUT_S",
    "Outcome",
    "ReceiverClient",
    "RetryPolicy",
    "SenderClient",
    "dial",
    "health_status",
    "image_request",
    "keepalive_options",
    "normalise_target",
    "reflected_services",
    "retry_pushback_s",
    "service_config",
    "transmit_all",
    "UnreachableError",
]
