"""One place for configuration: every environment variable the project reads, with its default.

Services and the CLI read settings through `get(name)`; command-line flags override them.
`semcom config` (see `docs/configuration.md`) prints this table, so docs never drift from code.
Add new settings here, never `os.environ[...]` elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str
    parse: Callable[[str], Any] = str


_SETTINGS: list[Setting] = [
    # --- models -------------------------------------------------------------------------
    Setting("SEMCOM_PROFILE", "tiny", "model profile: tiny | taef2 | paper | path to a profile YAML/JSON"),
    Setting("SEMCOM_CACHE_DIR", "~/.cache/semcom", "where `semcom models build-tiny` writes the tiny profile"),
    Setting(
        "SEMCOM_PRESET",
        "",
        "reproduction preset of requests that name none: authors | paper-text | diffusers; empty = the profile's (paper: authors, tiny and others: diffusers)",
    ),
    Setting(
        "SEMCOM_HUB_PROBE_TIMEOUT_S",
        "2",
        "seconds to wait for a TCP connection to the Hugging Face hub before loading hub weights; unreachable = load from the local cache only (0 = no probe)",
        float,
    ),
    Setting(
        "SEMCOM_SHARED_DIR",
        "",
        "fixtures folder (Flickr8k sample, TAEF2 weights); empty = ../shared next to the repository",
    ),
    Setting("SEMCOM_DEVICE", "auto", "torch device: auto (cuda if available) | cpu | cuda | cuda:N"),
    Setting("SEMCOM_DTYPE", "auto", "torch dtype: auto (fp16 on CUDA, fp32 on CPU) | float32 | float16 | bfloat16"),
    Setting(
        "SEMCOM_TORCH_THREADS",
        "0",
        "services: torch intra-op threads (0 = torch's default, one per core); set 1 when several model processes share few cores",
        int,
    ),
    Setting("SEMCOM_IMAGE_SIZE", "512", "side of the square image fed to the encoder (multiple of 64)", int),
    Setting(
        "SEMCOM_CLIP_MODEL",
        "openai/clip-vit-base-patch32",
        "`semcom eval`: CLIP model of the CLIP score (read from the local HF cache only)",
    ),
    Setting(
        "SEMCOM_EVAL_DECODE_TIMEOUT_S",
        "10",
        "`semcom eval` baselines: time limit for decoding one received image file (a guarded worker process; overrun = outage)",
        float,
    ),
    Setting(
        "SEMCOM_EVAL_FIT_CACHE",
        "",
        "`semcom eval` baselines: folder of fitted files shared by runs (empty: RUN_DIR/cache/fits)",
    ),
    # --- channel ------------------------------------------------------------------------
    Setting("SEMCOM_SNR_DB", "10", "default channel SNR in dB", float),
    Setting("SEMCOM_SNR_CONVENTION", "ebn0", "ebn0 (per bit, the authors' code) | esn0 (per symbol)"),
    Setting("SEMCOM_MODULATION", "16qam", "bpsk | qpsk | 16qam | 64qam | 256qam"),
    Setting("SEMCOM_CHANNEL_MODEL", "awgn", "awgn | rayleigh | bsc | none"),
    Setting("SEMCOM_FADING_BLOCK_LENGTH", "128", "rayleigh: channel symbols per fading gain (block fading)", int),
    Setting(
        "SEMCOM_LATENT_ENCODING",
        "float64",
        "sender default latent encoding: float64 (paper) | float32 | float16 | int8 | int8g | int6 | int6g | int4 | int4g (docs/payload.md) | analog[:OPTIONS] (analog symbols, docs/channel.md)",
    ),
    Setting(
        "SEMCOM_LATENT_POLICY",
        "auto",
        "auto (amc when SEMCOM_FEC=ldpc, else threshold) | always | threshold | never | amc",
    ),
    Setting(
        "SEMCOM_DROP_THRESHOLD_DB",
        "5",
        "threshold policy: latent is not sent below this SNR (same convention; 5 dB Eb/N0: docs/channel.md)",
        float,
    ),
    Setting("SEMCOM_FEC", "none", "none | ldpc"),
    Setting("SEMCOM_MCS", "auto", "auto (AMC) or an MCS name from `semcom channel mcs`"),
    Setting("SEMCOM_AMC_TARGET_BLER_LATENT", "0.01", "AMC: largest segment BLER accepted for the latent", float),
    Setting(
        "SEMCOM_AMC_TARGET_BLER_CAPTION",
        "0.001",
        "AMC: largest segment BLER accepted for the caption (stricter: unequal error protection)",
        float,
    ),
    Setting(
        "SEMCOM_AMC_SYMBOLS_PER_VALUE",
        "4",
        "AMC airtime budget per latent value in channel symbols (4 = uncoded 16-QAM float16); latent dropped beyond it",
        float,
    ),
    Setting(
        "SEMCOM_BLER_TABLE",
        "",
        "BLER table JSON for AMC (empty = the measured table shipped in semcom/fec/, bler_table.json or bler_table_sionna.json per SEMCOM_FEC_DECODER)",
    ),
    Setting(
        "SEMCOM_FEC_DECODER",
        "minsum",
        "LDPC decoder: minsum (fast CPU decoder, layered normalised offset min-sum on Sionna's parity-check matrix) | sionna (Sionna's LDPC5GDecoder, the reference); AMC reads the BLER table measured with it",
    ),
    Setting("SEMCOM_CHANNEL_SEED", "", "channel_sim: seed of the channel noise (empty = fresh randomness per packet)"),
    Setting("SEMCOM_SOFT_DEMAPPING", "false", "channel_sim: LLR demapping without FEC (always on with FEC)", _bool),
    # --- services -----------------------------------------------------------------------
    Setting("SEMCOM_HOST", "127.0.0.1", "address a service binds to ([::] or 0.0.0.0 in containers)"),
    Setting("SEMCOM_SENDER_PORT", "50051", "sender_service port", int),
    Setting("SEMCOM_CHANNEL_PORT", "50052", "channel_sim port", int),
    Setting("SEMCOM_RECEIVER_PORT", "50053", "receiver_service port", int),
    Setting("SEMCOM_METRICS_PORT", "0", "Prometheus /metrics HTTP port (0 = disabled)", int),
    Setting("SEMCOM_UPSTREAM", "", "downstream target of sender/channel: host:port, comma list, or dns:///name:port"),
    Setting("SEMCOM_LB_POLICY", "round_robin", "gRPC load-balancing policy towards the upstream"),
    Setting("SEMCOM_MAX_MESSAGE_BYTES", str(32 * 1024 * 1024), "largest gRPC message accepted/sent", int),
    Setting("SEMCOM_MAX_IMAGE_PIXELS", str(40_000_000), "decompression-bomb cap on decoded image pixels", int),
    Setting(
        "SEMCOM_MAX_WORKERS",
        "8",
        "model RPCs (calls and streams) handled at once; beyond it RESOURCE_EXHAUSTED at once (health and reflection are not counted)",
        int,
    ),
    Setting(
        "SEMCOM_WEDGED_S",
        "600",
        "liveness turns NOT_SERVING when every SEMCOM_MAX_WORKERS slot has been taken this long with no call finishing",
        float,
    ),
    Setting(
        "SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT",
        "8",
        "sender/channel: calls to the downstream hop at once (its SEMCOM_MAX_WORKERS x replicas); more wait within their deadline",
        int,
    ),
    Setting(
        "SEMCOM_MAX_QUEUE",
        "16",
        "model work items queued or running at once (receiver; sender with batching) before RESOURCE_EXHAUSTED",
        int,
    ),
    Setting(
        "SEMCOM_LATENT_REPAIR",
        "none",
        "receiver: default treatment of a received int-quantised latent on an uncoded link: none | mmse | smmse (docs/evaluation.md)",
    ),
    Setting("SEMCOM_BATCH_MAX", "1", "receiver dynamic batching: largest batch (1 = off)", int),
    Setting("SEMCOM_BATCH_WINDOW_MS", "10", "receiver dynamic batching: how long to wait for batch mates", float),
    Setting(
        "SEMCOM_SENDER_BATCH_MAX",
        "1",
        "sender batching of captioning/encoding (Encode calls, Transmit images): largest batch (1 = off)",
        int,
    ),
    Setting("SEMCOM_SENDER_BATCH_WINDOW_MS", "10", "sender batching: how long to wait for batch mates", float),
    Setting("SEMCOM_DEADLINE_S", "300", "client deadline per request in seconds", float),
    Setting(
        "SEMCOM_RETRY_ATTEMPTS",
        "5",
        "client: attempts per call on UNAVAILABLE, exponential backoff (1 = no retry)",
        int,
    ),
    Setting(
        "SEMCOM_CLIENT_KEEPALIVE_S",
        "10",
        "client channels: seconds without reads before a keepalive ping (also with no call in flight); servers must permit pings this often",
        float,
    ),
    Setting(
        "SEMCOM_CLIENT_KEEPALIVE_TIMEOUT_S",
        "5",
        "client channels: a keepalive ping unanswered this long closes the connection (calls fail UNAVAILABLE)",
        float,
    ),
    Setting(
        "SEMCOM_SEND_ATTEMPTS",
        "8",
        "semcom send: stream attempts in a row that fail transiently (UNAVAILABLE, RESOURCE_EXHAUSTED) before giving up; the count restarts when an image arrives",
        int,
    ),
    Setting(
        "SEMCOM_SEND_STREAM_IMAGES",
        "100",
        "semcom send: most images per Transmit stream (a batch goes as several streams; servers cap items and duration per stream)",
        int,
    ),
    Setting(
        "SEMCOM_SEND_RETRY_MAX_S",
        "120",
        "semcom send: stop retrying when this many seconds passed without an image arriving",
        float,
    ),
    Setting("SEMCOM_SHUTDOWN_GRACE_S", "30", "seconds to drain in-flight calls on SIGTERM", float),
    Setting("SEMCOM_INSECURE", "false", "serve/dial without TLS (must be chosen explicitly; logged)", _bool),
    Setting("SEMCOM_TLS_CERT", "", "PEM certificate chain of this service"),
    Setting("SEMCOM_TLS_KEY", "", "PEM private key of this service"),
    Setting("SEMCOM_TLS_CA", "", "PEM CA bundle used to verify peers (enables mutual TLS when set on a server)"),
    Setting(
        "SEMCOM_UPSTREAM_TLS_CERT",
        "",
        "sender/channel: client certificate this hop presents to its upstream under mutual TLS (its own identity, not its server certificate); empty = SEMCOM_TLS_CERT",
    ),
    Setting("SEMCOM_UPSTREAM_TLS_KEY", "", "sender/channel: private key of SEMCOM_UPSTREAM_TLS_CERT"),
    Setting(
        "SEMCOM_TLS_SERVER_NAME",
        "",
        "client: name expected in the peer's certificate when it differs from the target host",
    ),
    Setting("SEMCOM_LOG_FORMAT", "json", "json | text"),
    Setting("SEMCOM_LOG_LEVEL", "INFO", "DEBUG | INFO | WARNING | ERROR"),
    Setting("SEMCOM_UI_HOST", "127.0.0.1", "semcom ui: address the web page listens on (0.0.0.0 exposes it)"),
    Setting("SEMCOM_UI_PORT", "7860", "semcom ui: port of the web page", int),
    Setting("SEMCOM_UI_MAX_UPLOAD_BYTES", str(20_000_000), "semcom ui: largest image upload accepted, in bytes", int),
    # --- serving: admission, health, stream hygiene, request bounds (docs/services.md) ---
    Setting(
        "SEMCOM_METRICS_HOST",
        "127.0.0.1",
        "address the /metrics HTTP endpoint binds to (plain HTTP: keep it on loopback or a private network)",
    ),
    Setting(
        "SEMCOM_TLS_ALLOWED_CLIENTS",
        "",
        "mutual TLS: comma list of client certificate SANs (DNS names, IPs, URIs) allowed to call the services; empty = any certificate from SEMCOM_TLS_CA (health stays open to any)",
    ),
    Setting(
        "SEMCOM_COST_BUDGET",
        "256",
        "model admission: queued + running work in megapixel-steps (output pixels x DDIM steps / 1e6; sender: encoder pixels / 1e6) before RESOURCE_EXHAUSTED",
        float,
    ),
    Setting(
        "SEMCOM_READY_HIGH_WATER",
        "0.8",
        "readiness turns NOT_SERVING while the model queue is above this fraction of SEMCOM_MAX_QUEUE or SEMCOM_COST_BUDGET",
        float,
    ),
    Setting(
        "SEMCOM_RETRY_PUSHBACK_MS",
        "1000",
        "retry hint (trailing metadata grpc-retry-pushback-ms) sent with RESOURCE_EXHAUSTED when no better estimate exists",
        int,
    ),
    Setting(
        "SEMCOM_STREAM_IDLE_S",
        "30",
        "a stream with nothing in flight that sends no request for this long is ended (DEADLINE_EXCEEDED)",
        float,
    ),
    Setting(
        "SEMCOM_MAX_WAITING_STREAMS",
        "256",
        "streams that have not sent their first request yet (they hold no worker) before RESOURCE_EXHAUSTED",
        int,
    ),
    Setting(
        "SEMCOM_STREAM_MAX_S", "3600", "longest a stream may last; checked between items (DEADLINE_EXCEEDED)", float
    ),
    Setting("SEMCOM_MAX_STREAM_ITEMS", "10000", "most requests in one stream (INVALID_ARGUMENT beyond)", int),
    Setting("SEMCOM_KEEPALIVE_S", "20", "server keepalive ping interval in seconds (grpc.keepalive_time_ms)", float),
    Setting(
        "SEMCOM_KEEPALIVE_TIMEOUT_S",
        "3",
        "keepalive: seconds to wait for a ping ack before closing the connection (server and upstream)",
        float,
    ),
    Setting(
        "SEMCOM_KEEPALIVE_MIN_PING_S",
        "4",
        "server: shortest ping interval accepted from clients (clients pinging every >= 4 s, e.g. 10-20 s, are fine; faster ones get GOAWAY)",
        float,
    ),
    Setting(
        "SEMCOM_UPSTREAM_KEEPALIVE_S",
        "5",
        "sender/channel: keepalive ping interval on the upstream channel, so a frozen downstream is noticed within seconds",
        float,
    ),
    Setting(
        "SEMCOM_MAX_CONNECTION_AGE_S",
        "1800",
        "server closes a connection after this age (grpc.max_connection_age_ms; clients reconnect, load rebalances)",
        float,
    ),
    Setting(
        "SEMCOM_MAX_CONNECTION_AGE_GRACE_S",
        "60",
        "time calls on an aged connection get to finish (grpc.max_connection_age_grace_ms)",
        float,
    ),
    Setting(
        "SEMCOM_MAX_CAPTION_CHARS",
        "77",
        "longest caption accepted, in bytes (CLIP's 77-token window; checked at every hop)",
        int,
    ),
    Setting("SEMCOM_MAX_REQUEST_ID_CHARS", "128", "longest request_id accepted", int),
    Setting(
        "SEMCOM_MAX_LATENT_VALUES",
        str(16 * 128 * 128),
        "most values in a latent tensor (its shape's product; 16 x 128 x 128 = a 1024x1024 image at 16 channels)",
        int,
    ),
    Setting(
        "SEMCOM_MAX_LATENT_BYTES",
        str(16 * 128 * 128 * 8),
        "largest latent data in bytes (SEMCOM_MAX_LATENT_VALUES float64 values)",
        int,
    ),
    Setting(
        "SEMCOM_MAX_OUTPUT_PIXELS",
        str(1024 * 1024),
        "largest reconstruction (width x height) a request may ask for",
        int,
    ),
    Setting(
        "SEMCOM_MAX_INFERENCE_STEPS",
        "999",
        "most DDIM steps a request may ask for (the models accept at most 999)",
        int,
    ),
    Setting(
        "SEMCOM_MAX_FADING_BLOCK_LENGTH", "65536", "largest fading_block_length a request may ask for (rayleigh)", int
    ),
]

SETTINGS: dict[str, Setting] = {s.env: s for s in _SETTINGS}


def get(env: str, environ: dict[str, str] | None = None) -> Any:
    """Value of a registered setting: the environment if set, else the documented default."""
    setting = SETTINGS[env]
    source = os.environ if environ is None else environ
    raw = source.get(env, setting.default)
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ValueError(f"{env}={raw!r}: {exc}") from None


def fields_from_settings(cls: type, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of the dataclass `cls` (all but `skip`) from their settings SEMCOM_<FIELD NAME>."""
    return {f.name: get(f"SEMCOM_{f.name.upper()}") for f in dataclasses.fields(cls) if f.name not in skip}


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | `{s.default}` | {s.help} |" for s in _SETTINGS]
    return "\n".join(rows)
