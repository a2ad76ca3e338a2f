"""Throwaway certificates for the TLS tests, made with `trustme` (the dev extra): one CA, and
leaf certificates it signs (trustme's leaves carry both serverAuth and clientAuth, so a service
can dial its downstream with its own certificate). Never use these for anything real.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


@dataclass(frozen=True)
class DevPki:
    ca: Path  # the CA certificate (what peers verify against)
    server: Pem  # SANs: the given hosts
    client: Pem  # SAN: semcom-client.test
    rogue: Pem  # signed by a *different* CA: must be refused by a mutual-TLS server


def new_ca(path: Path) -> trustme.CA:
    """A fresh CA whose certificate is written to `path`."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(path))
    return ca


def issue(ca: trustme.CA, path: Path, *identities: str) -> Pem:
    """A leaf certificate for `identities` (DNS names or IP addresses: its SANs), written as
    PATH.crt and PATH.key (the key readable by its owner only)."""
    leaf = ca.issue_cert(*identities)
    cert, key = path.with_suffix(".crt"), path.with_suffix(".key")
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return Pem(cert, key)


def make_dev_pki(directory: Path, hosts: list[str] | tuple[str, ...] = ("localhost", "127.0.0.1")) -> DevPki:
    """Write ca.crt, server.{crt,key}, client.{crt,key}, rogue.{crt,key} into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca = new_ca(directory / "ca.crt")
    other = trustme.CA()
    return DevPki(
        ca=directory / "ca.crt",
        server=issue(ca, directory / "server", *hosts),
        client=issue(ca, directory / "client", "semcom-client.test"),
        rogue=issue(other, directory / "rogue", "rogue-client.test"),
    )


# The identities of deploy/k8s/mtls and docker-compose.mtls.yml: a server certificate per service
# (compose service name and cluster DNS name), a client certificate per hop that dials the next.
DEPLOY_SERVERS = {
    "receiver": ("receiver", "receiver-headless.semcom.svc.cluster.local", "localhost", "127.0.0.1"),
    "channel": ("channel", "channel.semcom.svc.cluster.local", "localhost", "127.0.0.1"),
    "sender": ("sender", "sender.semcom.svc.cluster.local", "localhost", "127.0.0.1"),
}
DEPLOY_CLIENTS = {"channel": "channel.client.semcom", "sender": "sender.client.semcom", "demo": "demo.client.semcom"}


def make_deploy_pki(directory: Path | str) -> dict[str, Pem]:
    """Write ca.crt, <role>-server.{crt,key} and <hop>-client.{crt,key} into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca = new_ca(directory / "ca.crt")
    pems = {f"{role}-server": issue(ca, directory / f"{role}-server", *names) for role, names in DEPLOY_SERVERS.items()}
    pems.update({f"{hop}-client": issue(ca, directory / f"{hop}-client", name) for hop, name in DEPLOY_CLIENTS.items()})
    return pems
