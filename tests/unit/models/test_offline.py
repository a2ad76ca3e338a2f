"""Without network the loaders say so at once: the hub is probed up front (one bounded TCP
connect per process), the cache alone is searched, and the error names the network, not a
missing config.json (issue 14: it used to take 39 s and 22 retry warnings)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from semcom.loadtest.cluster import free_port  # bound, then released: nothing listens
from semcom.models import ModelNotAvailableError, hub, load_profile

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def endpoint(monkeypatch):
    """Point huggingface_hub at a loopback address (network on or off: the same result) and forget
    earlier probes."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "_probe_results", {})
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)

    def point(url: str) -> None:
        monkeypatch.setattr(constants, "ENDPOINT", url)

    return point


def test_unreachable_hub_fails_at_once_and_names_the_network(endpoint, tmp_path, monkeypatch) -> None:
    from huggingface_hub import constants

    endpoint(f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # an empty cache
    models = load_profile("paper", device="cpu", dtype="float32")
    start = time.monotonic()
    with pytest.raises(ModelNotAvailableError) as info:
        models.receiver().preload()
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert "unreachable" in message and "not in the local cache" in message and "config.json" not in message
    assert "semcom models download --profile paper" in message
    assert elapsed < 5.0  # the behaviour under test is speed: it took 39 s before (generous bound)
    assert not models.loaded


def test_reachable_hub_is_not_reported(endpoint) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        endpoint(f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub.hub_unreachable(timeout_s=5.0) is None


def test_probe_is_skipped_offline_or_when_disabled(endpoint, monkeypatch) -> None:
    from huggingface_hub import constants

    endpoint(f"http://127.0.0.1:{free_port()}")
    assert hub.hub_unreachable(timeout_s=0) is None  # SEMCOM_HUB_PROBE_TIMEOUT_S=0: never probe
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert hub.hub_unreachable(timeout_s=2.0) is None  # huggingface_hub never asks the network then
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    assert "refused" in hub.hub_unreachable(timeout_s=2.0).lower()


def test_cli_without_network_says_so(tmp_path) -> None:
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("HF_HUB_OFFLINE", None)
    from PIL import Image

    Image.new("RGB", (64, 64), "gray").save(tmp_path / "x.png")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "semcom",
            "transmit",
            str(tmp_path / "x.png"),
            "--profile",
            "paper",
            "--caption",
            "x",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "unreachable" in proc.stderr and "Traceback" not in proc.stderr
    assert "Retrying" not in proc.stderr and "thrown while requesting" not in proc.stderr
