"""Fixtures of the rpc plumbing tests (helpers in tests/unit/rpc/hosts.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.rpc.hosts import ReceiverHost


@pytest.fixture
def receiver_host() -> Iterator[ReceiverHost]:
    host = ReceiverHost()
    try:
        yield host
    finally:
        host.close()
