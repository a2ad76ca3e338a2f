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
    Setting("SEMCOM_DEVICE", "auto", "torch device: auto (cuda if available) | cpu | cuda | cuda:N"),
    Setting("SEMCOM_DTYPE", "auto", "torch dtype: auto (fp16 on CUDA, fp32 on CPU) | float32 | float16 | bfloat16"),
    Setting("SEMCOM_IMAGE_SIZE", "512", "side of the square image fed to the encoder (multiple of 64)", int),
    # --- channel ------------------------------------------------------------------------
    Setting("SEMCOM_SNR_DB", "10", "default channel SNR in dB", float),
    Setting("SEMCOM_SNR_CONVENTION", "ebn0", "ebn0 (per bit, the authors' code) | esn0 (per symbol)"),
    Setting("SEMCOM_MODULATION", "16qam", "bpsk | qpsk | 16qam | 64qam | 256qam"),
    Setting("SEMCOM_CHANNEL_MODEL", "awgn", "awgn | rayleigh | bsc | none"),
    Setting("SEMCOM_LATENT_ENCODING", "float64", "float64 (paper) | float32 | float16 | int8"),
    Setting("SEMCOM_LATENT_POLICY", "threshold", "always | threshold | never | amc"),
    Setting("SEMCOM_DROP_THRESHOLD_DB", "0", "threshold policy: latent is not sent below this SNR (same convention)", float),
    Setting("SEMCOM_FEC", "none", "none | ldpc"),
    Setting("SEMCOM_MCS", "auto", "auto (AMC) or an MCS name from `semcom channel mcs`"),
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
    Setting("SEMCOM_BATCH_MAX", "1", "receiver dynamic batching: largest batch (1 = off)", int),
    Setting("SEMCOM_BATCH_WINDOW_MS", "10", "receiver dynamic batching: how long to wait for batch mates", float),
    Setting("SEMCOM_DEADLINE_S", "300", "client deadline per request in seconds", float),
    Setting("SEMCOM_SHUTDOWN_GRACE_S", "30", "seconds to drain in-flight calls on SIGTERM", float),
    Setting("SEMCOM_INSECURE", "false", "serve/dial without TLS (must be chosen explicitly; logged)", _bool),
    Setting("SEMCOM_TLS_CERT", "", "PEM certificate chain of this service"),
    Setting("SEMCOM_TLS_KEY", "", "PEM private key of this service"),
    Setting("SEMCOM_TLS_CA", "", "PEM CA bundle used to verify peers (enables mutual TLS when set on a server)"),
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
