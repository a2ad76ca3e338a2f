"""Transport security: TLS and mutual TLS from PEM files, or plaintext when explicitly chosen.

A service serves TLS with its certificate and key; when a CA bundle is configured it also
*requires* a client certificate signed by that CA (mutual TLS). A client verifies the server
against the CA bundle (the system roots when none is given) and presents its own
certificate/key when configured. Plaintext needs ``insecure=True`` (SEMCOM_INSECURE /
``--insecure``) and is logged as a warning every time a server or channel is built with it;
with neither TLS files nor `insecure`, construction fails with a message saying what to set.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import grpc

from semcom import config

log = logging.getLogger("semcom.rpc.tls")


@dataclass(frozen=True)
class TlsConfig:
    """PEM paths (empty = not set) and the explicit plaintext switch."""

    insecure: bool = False
    cert: str = ""
    key: str = ""
    ca: str = ""
    server_name: str = ""  # client side: name to verify in the server certificate

    @classmethod
    def from_settings(cls, **overrides: object) -> TlsConfig:
        """From SEMCOM_INSECURE / SEMCOM_TLS_*; keyword overrides that are not None win (CLI flags)."""
        values = {"insecure": config.get("SEMCOM_INSECURE")}
        values |= {name: config.get(f"SEMCOM_TLS_{name.upper()}") for name in ("cert", "key", "ca", "server_name")}
        return cls(**values | {k: v for k, v in overrides.items() if v is not None})

    @property
    def mutual(self) -> bool:
        return bool(self.ca)


def upstream_tls(tls: TlsConfig) -> TlsConfig:
    """The TLS a hop (sender, channel) dials its upstream with: `tls`, with the hop's own client
    identity SEMCOM_UPSTREAM_TLS_CERT / SEMCOM_UPSTREAM_TLS_KEY in place of its server certificate
    when set (deploy/: each hop has a client certificate of its own, and each server's
    SEMCOM_TLS_ALLOWED_CLIENTS names only the hop in front of it)."""
    cert, key = config.get("SEMCOM_UPSTREAM_TLS_CERT"), config.get("SEMCOM_UPSTREAM_TLS_KEY")
    if bool(cert) != bool(key):
        raise ValueError("SEMCOM_UPSTREAM_TLS_CERT and SEMCOM_UPSTREAM_TLS_KEY go together")
    if not cert:
        return tls
    if tls.insecure or not tls.ca:
        raise ValueError("SEMCOM_UPSTREAM_TLS_CERT needs mutual TLS towards the upstream (SEMCOM_TLS_CA)")
    return dataclasses.replace(tls, cert=cert, key=key)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None


def server_credentials(tls: TlsConfig, service: str) -> grpc.ServerCredentials | None:
    """Credentials for `server.add_secure_port`, or None for a plaintext port (insecure only)."""
    if not (tls.cert or tls.key):
        if not tls.insecure:
            raise ValueError(
                f"{service}: no TLS certificate configured. Set SEMCOM_TLS_CERT and SEMCOM_TLS_KEY "
                "(and SEMCOM_TLS_CA for mutual TLS), or choose plaintext explicitly with SEMCOM_INSECURE=true / --insecure"
            )
        log.warning(f"{service}: serving WITHOUT TLS (insecure explicitly chosen); use only on a trusted network")
        return None
    if not (tls.cert and tls.key):
        raise ValueError(f"{service}: TLS needs both a certificate and a key (SEMCOM_TLS_CERT, SEMCOM_TLS_KEY)")
    key, cert = _read(tls.key, "TLS key"), _read(tls.cert, "TLS certificate")
    ca = _read(tls.ca, "TLS CA bundle") if tls.ca else None
    log.info(f"{service}: serving TLS{' with required client certificates (mutual TLS)' if ca else ''}")
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)


_warned_plaintext: set[str] = set()


def channel_credentials(tls: TlsConfig, target: str) -> grpc.ChannelCredentials | None:
    """Credentials for `grpc.secure_channel`, or None for a plaintext channel (insecure only)."""
    if tls.insecure and not (tls.ca or tls.cert):
        if target not in _warned_plaintext:  # once per target: a client that redials must not flood the log
            _warned_plaintext.add(target)
            log.warning(f"dialling {target} WITHOUT TLS (insecure explicitly chosen)")
        return None
    if bool(tls.cert) != bool(tls.key):
        raise ValueError("a client certificate needs both SEMCOM_TLS_CERT and SEMCOM_TLS_KEY")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca, "TLS CA bundle") if tls.ca else None,
        private_key=_read(tls.key, "TLS key") if tls.key else None,
        certificate_chain=_read(tls.cert, "TLS certificate") if tls.cert else None,
    )
