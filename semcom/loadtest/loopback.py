"""The test and benchmark harness's guard: the services this repository starts stay on this machine.

`semcom loadtest` and `semcom bench sweep --target` take whatever target their user names (that
is the operator's decision). This repository's own tests and benchmarks, though, must never send
load anywhere but to the services they started themselves, so the harness that starts them
(`semcom.loadtest.cluster.LocalServices`) and the tests check their addresses here: a target is
accepted only when its host is a loopback literal: an address in 127.0.0.0/8, ::1 (also written
as the IPv4-mapped ::ffff:127.x.y.z), or the name `localhost`. Names are never resolved (a DNS
answer could point anywhere), and gRPC target schemes other than the plain `ipv4:`/`ipv6:` address
forms (dns:, unix:, xds:, comma lists for load balancing) are refused.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost"})


class NonLoopbackTargetError(ValueError):
    """The target is not on this machine (or cannot be shown to be)."""


def _split_host_port(target: str) -> tuple[str, str]:
    if target.startswith("["):  # [v6]:port
        host, sep, rest = target[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise NonLoopbackTargetError(f"malformed IPv6 target {target!r}: expected [ADDR]:PORT")
        return host, rest[1:]
    host, sep, port = target.rpartition(":")
    if not sep or not host:
        raise NonLoopbackTargetError(f"target {target!r} must be HOST:PORT")
    if ":" in host:
        raise NonLoopbackTargetError(f"IPv6 target {target!r} must be written [ADDR]:PORT")
    return host, port


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and the literal name localhost."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def require_loopback(target: str) -> str:
    """Return `target` as a gRPC `host:port` string if it is on this machine, else raise.

    Raises NonLoopbackTargetError (a ValueError) with the reason; the message names the
    accepted forms so a user knows what to write instead.
    """
    if not isinstance(target, str) or not target.strip():
        raise NonLoopbackTargetError("target is empty: expected HOST:PORT on this machine, e.g. 127.0.0.1:50053")
    text = target.strip()
    if "," in text:
        raise NonLoopbackTargetError(f"target {target!r}: one address only (no load-balancing lists)")
    if text.startswith(("ipv4:", "ipv6:")):
        text = text[len("ipv4:") :]
    elif "://" in text or text.split(":", 1)[0] in {"dns", "unix", "unix-abstract", "xds", "vsock"}:
        raise NonLoopbackTargetError(
            f"target {target!r}: only plain HOST:PORT (or ipv4:/ipv6: forms) is accepted, no name resolvers"
        )
    host, port = _split_host_port(text)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise NonLoopbackTargetError(f"target {target!r}: port must be an integer in 1..65535")
    if not is_loopback_host(host):
        raise NonLoopbackTargetError(
            f"refusing to load-test {target!r}: load tests may only target this machine (127.0.0.0/8, ::1 or localhost)"
        )
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
