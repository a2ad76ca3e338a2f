"""`semcom eval run --jobs N` starts at most one worker per pending image and per CPU core: each
worker loads the models, so an oversized N must not cost unbounded processes and memory."""

from __future__ import annotations

import logging

import pytest

from semcom.eval import parallel


def test_workers_are_bounded_by_images_and_cores(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 4)
    assert parallel.worker_count(2, 10) == 2
    assert parallel.worker_count(3, 2) == 2
    with caplog.at_level(logging.WARNING, logger="semcom.eval.parallel"):
        assert parallel.worker_count(99_999_999_999, 75) == 4
    assert "this machine has 4 cores" in caplog.text
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: None)  # unknown: one core
    assert parallel.worker_count(8, 8) == 1
