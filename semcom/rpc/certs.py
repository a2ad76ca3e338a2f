"""A throwaway PKI for tests and the demo: one CA, and leaf certificates it signs.

Needs the `cryptography` package (the `dev` extra). Leaf certificates carry both serverAuth and
clientAuth, so a service can use its own certificate to dial its downstream with mutual TLS.
Keys are EC P-256; everything is valid for one day. Never use these for anything real.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


@dataclass(frozen=True)
class DevPki:
    ca: Path  # the CA certificate (what peers verify against)
    server: Pem  # CN=semcom-service, SANs: the given hosts
    client: Pem  # CN=semcom-client
    rogue: Pem  # signed by a *different* CA: must be refused by a mutual-TLS server


def _name(cn: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, cert, key) -> Pem:
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = path.with_suffix(".crt"), path.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return Pem(cert_path, key_path)


def _ca(cn: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    key = _key()
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(cn: str, hosts: list[str], ca_cert, ca_key):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = _key()
    now = dt.datetime.now(dt.timezone.utc)
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_dev_pki(directory: Path, hosts: list[str] | tuple[str, ...] = ("localhost", "127.0.0.1")) -> DevPki:
    """Write ca.crt, server.{crt,key}, client.{crt,key}, rogue.{crt,key} into `directory`."""
    from cryptography.hazmat.primitives import serialization

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _ca("semcom dev CA")
    other_ca_cert, other_ca_key = _ca("some other CA")
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server = _write(directory / "server", *_leaf("semcom-service", list(hosts), ca_cert, ca_key))
    client = _write(directory / "client", *_leaf("semcom-client", [], ca_cert, ca_key))
    rogue = _write(directory / "rogue", *_leaf("rogue-client", [], other_ca_cert, other_ca_key))
    return DevPki(ca=ca_path, server=server, client=client, rogue=rogue)
