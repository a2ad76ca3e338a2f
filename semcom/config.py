"""One place for configuration: every environment variable the project reads, with its default.

Services and the CLI read settings through `get(name)`; command-line flags override them.
`semcom config` (see `docs/configuration.md`) prints this table, so docs never drift from code.
Add new settings here, never `os.environ[...]` elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable


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
    Setting("SEMCOM_PROFILE", "tiny", "model profile: tiny | paper | path to a profile YAML/JSON"),
    Setting("SEMCOM_CACHE_DIR", "~/.cache/semcom", "where `semcom models build-tiny` writes the tiny profile"),
    Setting("SEMCOM_SHARED_DIR", "", "fixtures folder (Flickr8k sample, TAEF2 weights); empty = ../shared next to the repository"),
    Setting("SEMCOM_DEVICE", "auto", "torch device: auto (cuda if available) | cpu | cuda | cuda:N"),
    Setting("SEMCOM_DTYPE", "auto", "torch dtype: auto (fp16 on CUDA, fp32 on CPU) | float32 | float16 | bfloat16"),
    Setting("SEMCOM_TORCH_THREADS", "0", "services: torch intra-op threads (0 = torch's default, one per core); set 1 when several model processes share few cores", int),
    Setting("SEMCOM_IMAGE_SIZE", "512", "side of the square image fed to the encoder (multiple of 64)", int),
    Setting("SEMCOM_CLIP_MODEL", "openai/clip-vit-base-patch32", "`semcom eval`: CLIP model of the CLIP score (read from the local HF cache only)"),
    Setting("SEMCOM_EVAL_DECODE_TIMEOUT_S", "10", "`semcom eval` baselines: time limit for decoding one received image file (a guarded worker process; overrun = outage)", float),
    # --- channel ------------------------------------------------------------------------
    Setting("SEMCOM_SNR_DB", "10", "default channel SNR in dB", float),
    Setting("SEMCOM_SNR_CONVENTION", "ebn0", "ebn0 (per bit, the authors' code) | esn0 (per symbol)"),
    Setting("SEMCOM_MODULATION", "16qam", "bpsk | qpsk | 16qam | 64qam | 256qam"),
    Setting("SEMCOM_CHANNEL_MODEL", "awgn", "awgn | rayleigh | bsc | none"),
    Setting("SEMCOM_FADING_BLOCK_LENGTH", "128", "rayleigh: channel symbols per fading gain (block fading)", int),
    Setting("SEMCOM_LATENT_ENCODING", "float64", "float64 (paper) | float32 | float16 | int8"),
    Setting("SEMCOM_LATENT_POLICY", "auto", "auto (amc when SEMCOM_FEC=ldpc, else threshold) | always | threshold | never | amc"),
    Setting("SEMCOM_DROP_THRESHOLD_DB", "5", "threshold policy: latent is not sent below this SNR (same convention; 5 dB Eb/N0: docs/channel.md)", float),
    Setting("SEMCOM_FEC", "none", "none | ldpc"),
    Setting("SEMCOM_MCS", "auto", "auto (AMC) or an MCS name from `semcom channel mcs`"),
    Setting("SEMCOM_AMC_TARGET_BLER_LATENT", "0.01", "AMC: largest segment BLER accepted for the latent", float),
    Setting("SEMCOM_AMC_TARGET_BLER_CAPTION", "0.001", "AMC: largest segment BLER accepted for the caption (stricter: unequal error protection)", float),
    Setting("SEMCOM_AMC_SYMBOLS_PER_VALUE", "4", "AMC airtime budget per latent value in channel symbols (4 = uncoded 16-QAM float16); latent dropped beyond it", float),
    Setting("SEMCOM_BLER_TABLE", "", "BLER table JSON for AMC (empty = the measured table shipped in semcom/fec/bler_table.json)"),
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
    Setting("SEMCOM_MAX_WORKERS", "8", "gRPC server worker threads", int),
    Setting("SEMCOM_MAX_QUEUE", "16", "receiver: requests admitted at once before RESOURCE_EXHAUSTED", int),
    Setting("SEMCOM_LATENT_REPAIR", "none", "receiver: default treatment of a received int-quantised latent on an uncoded link: none | mmse | smmse (docs/evaluation.md)"),
    Setting("SEMCOM_BATCH_MAX", "1", "receiver dynamic batching: largest batch (1 = off)", int),
    Setting("SEMCOM_BATCH_WINDOW_MS", "10", "receiver dynamic batching: how long to wait for batch mates", float),
    Setting("SEMCOM_SENDER_BATCH_MAX", "1", "sender batching of captioning/encoding (Encode calls, Transmit images): largest batch (1 = off)", int),
    Setting("SEMCOM_SENDER_BATCH_WINDOW_MS", "10", "sender batching: how long to wait for batch mates", float),
    Setting("SEMCOM_DEADLINE_S", "300", "client deadline per request in seconds", float),
    Setting("SEMCOM_RETRY_ATTEMPTS", "5", "client: attempts per call on UNAVAILABLE, exponential backoff (1 = no retry)", int),
    Setting("SEMCOM_SHUTDOWN_GRACE_S", "30", "seconds to drain in-flight calls on SIGTERM", float),
    Setting("SEMCOM_INSECURE", "false", "serve/dial without TLS (must be chosen explicitly; logged)", _bool),
    Setting("SEMCOM_TLS_CERT", "", "PEM certificate chain of this service"),
    Setting("SEMCOM_TLS_KEY", "", "PEM private key of this service"),
    Setting("SEMCOM_TLS_CA", "", "PEM CA bundle used to verify peers (enables mutual TLS when set on a server)"),
    Setting("SEMCOM_TLS_SERVER_NAME", "", "client: name expected in the peer's certificate when it differs from the target host"),
    Setting("SEMCOM_LOG_FORMAT", "json", "json | text"),
    Setting("SEMCOM_LOG_LEVEL", "INFO", "DEBUG | INFO | WARNING | ERROR"),
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


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | `{s.default}` | {s.help} |" for s in _SETTINGS]
    return "\n".join(rows)
