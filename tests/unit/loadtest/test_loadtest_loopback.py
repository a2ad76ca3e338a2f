"""The loopback guard: load tests reach this machine only."""

from __future__ import annotations

import pytest

from semcom.loadtest.loopback import NonLoopbackTargetError, is_loopback_host, require_loopback


@pytest.mark.parametrize(
    ("target", "normalised"),
    [
        ("127.0.0.1:50051", "127.0.0.1:50051"),
        ("127.8.9.10:1", "127.8.9.10:1"),
        ("localhost:65535", "localhost:65535"),
        ("LOCALHOST:8080", "LOCALHOST:8080"),
        ("[::1]:50053", "[::1]:50053"),
        ("ipv4:127.0.0.1:50052", "127.0.0.1:50052"),
        ("ipv6:[::1]:50052", "[::1]:50052"),
        ("[::ffff:127.0.0.1]:9000", "[::ffff:127.0.0.1]:9000"),
        ("  127.0.0.1:50051 ", "127.0.0.1:50051"),
    ],
)
def test_loopback_targets_accepted(target: str, normalised: str) -> None:
    assert require_loopback(target) == normalised


@pytest.mark.parametrize(
    "target",
    [
        "10.0.0.5:50051",  # private network is still someone else's machine
        "0.0.0.0:50051",  # "any" address, not loopback
        "192.168.1.1:80",
        "8.8.8.8:53",
        "[::]:50051",
        "[2001:db8::1]:50051",
        "[::ffff:10.0.0.1]:50051",
        "example.com:50051",
        "localhost.evil.com:50051",
        "dns:///localhost:50051",  # resolver schemes are refused: the name could resolve anywhere
        "unix:/tmp/sock",
        "127.0.0.1:50051,10.0.0.1:50051",
        "127.0.0.1",  # no port
        "127.0.0.1:0",
        "127.0.0.1:99999",
        "127.0.0.1:http",
        "::1:50051",  # IPv6 without brackets is ambiguous
        "",
        "   ",
    ],
)
def test_other_targets_refused(target: str) -> None:
    with pytest.raises(NonLoopbackTargetError):
        require_loopback(target)


def test_refusal_message_says_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8, ::1 or localhost"):
        require_loopback("10.1.2.3:50051")


def test_is_loopback_host() -> None:
    assert is_loopback_host("127.255.255.254")
    assert is_loopback_host("::1")
    assert not is_loopback_host("128.0.0.1")
    assert not is_loopback_host("not-an-address")
