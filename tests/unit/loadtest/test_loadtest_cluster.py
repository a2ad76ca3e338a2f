"""Local service launcher helpers (the launch itself is exercised in tests/integration/loadtest)."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from semcom.loadtest.cluster import LocalServices, free_port, process_cpu_seconds


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux only")
def test_process_cpu_seconds_tracks_own_cpu_time() -> None:
    before = process_cpu_seconds(os.getpid())
    sum(i * i for i in range(2_000_000))  # burn some CPU
    after = process_cpu_seconds(os.getpid())
    times = os.times()
    assert before is not None and after is not None and after >= before
    assert after == pytest.approx(times.user + times.system, abs=0.05)


def test_process_cpu_seconds_of_missing_process() -> None:
    assert process_cpu_seconds(2**22 + 12345) is None  # above the kernel's pid_max


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("roles", [(), ("sender", "proxy")])
def test_pipeline_rejects_unknown_roles(roles: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        LocalServices(roles=roles)
