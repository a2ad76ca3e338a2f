"""`semcom send` against the three real services (processes on 127.0.0.1, tiny profile, 64x64)
while the receiver is killed or frozen: no image is lost or delivered twice, and a frozen
receiver is noticed through keepalive, not after the deadline."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from semcom.loadtest.loopback import require_loopback
from tests.integration.services.procs import REPO, ServiceProcess, start_all, stop_all

pytestmark = pytest.mark.slow

STEPS = 6
IMAGES = 10


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceProcess, ...]]:
    logs = tmp_path_factory.mktemp("client-service-logs")
    env = {"SEMCOM_INSECURE": "true"}
    receiver = ServiceProcess("receiver", logs, env=env)
    channel = ServiceProcess("channel", logs, args=["--upstream", receiver.target, "--snr-db", "10"], env=env)
    sender = ServiceProcess("sender", logs, args=["--upstream", channel.target], env=env)
    services = (receiver, channel, sender)
    for service in services:
        require_loopback(service.target)  # this repository's tests only ever load this machine
    try:
        start_all(list(services))
        yield services
    finally:
        stop_all(list(services))


def _send(sender: ServiceProcess, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "semcom",
        "send",
        "--synthetic",
        str(IMAGES),
        "--to",
        sender.target,
        "--insecure",
        "--mode",
        "text+latent",
        "--steps",
        str(STEPS),
        "--strength",
        "1.0",
        "--seed",
        "1",
        "--out",
        str(out),
        "--deadline-s",
        "500",
        *extra,
    ]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_records(out: Path, count: int, proc: subprocess.Popen, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / ".semcom-send").glob("0*.json"))) < count:
        assert proc.poll() is None, f"send ended before {count} images: {proc.communicate()}"
        assert time.monotonic() < deadline, f"fewer than {count} images after {timeout} s"
        time.sleep(0.05)


def _check_exactly_once(out: Path) -> dict:
    report = json.loads((out / "report.json").read_text())
    assert [e["status"] for e in report["images"]] == ["ok"] * IMAGES, report["images"]
    assert sorted(e["request_id"] for e in report["images"]) == [f"{i:04d}" for i in range(IMAGES)]
    outputs = sorted(p.name for p in out.glob("*.png"))
    assert outputs == sorted(Path(e["output"]).name for e in report["images"])  # one file per image, no extra
    assert len(outputs) == IMAGES
    return report


def test_receiver_killed_mid_batch_every_image_delivered_exactly_once(topology, tmp_path: Path) -> None:
    receiver, _channel, sender = topology
    out = tmp_path / "out"
    proc = _send(sender, out, "--attempts", "30", "--retry-max-s", "300")
    try:
        _wait_for_records(out, 2, proc)
        receiver.kill()  # SIGKILL mid-batch, then a restart on the same port
        killed_with = len(list((out / ".semcom-send").glob("0*.json")))
        receiver.start()
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed_with < IMAGES, "the batch ended before the kill: nothing was tested"
    resumed = None
    if proc.returncode != 0:  # the retries ran out before the receiver was back: --resume finishes it
        receiver.wait_serving()
        again = _send(sender, out, "--resume")
        resumed = again.communicate(timeout=600)
        assert again.returncode == 0, resumed
    report = _check_exactly_once(out)
    assert "images left again" in stderr, stderr  # the client did re-send after the kill
    print(f"killed with {killed_with}/{IMAGES} complete; retries alone: {resumed is None}; resumed {report['resumed']}")


def test_send_killed_mid_batch_resume_completes_it_exactly_once(topology, tmp_path: Path) -> None:
    receiver, _channel, sender = topology
    receiver.wait_serving()
    out = tmp_path / "out"
    proc = _send(sender, out)
    try:
        _wait_for_records(out, 3, proc)
        proc.kill()  # the client itself dies (SIGKILL): no report, some images complete
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = {p.name: p.stat().st_mtime_ns for p in (out / ".semcom-send").glob("0*.json")}
    outputs = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert 3 <= len(done) < IMAGES and not (out / "report.json").exists()
    again = _send(sender, out, "--resume")
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    report = _check_exactly_once(out)
    assert report["resumed"] == len(done) and f"resuming: {len(done)} of {IMAGES}" in stdout
    for name, stamp in done.items():  # complete images were not sent again: record and output untouched
        assert (out / ".semcom-send" / name).stat().st_mtime_ns == stamp
        index = int(Path(name).stem)
        output = next(n for n in outputs if n.startswith(f"{index:04d}_"))
        assert (out / output).stat().st_mtime_ns == outputs[output]


def test_frozen_receiver_is_noticed_within_seconds(topology, tmp_path: Path) -> None:
    receiver, _channel, sender = topology
    receiver.wait_serving()
    out = tmp_path / "out"
    proc = _send(sender, out, "--attempts", "1")
    try:
        _wait_for_records(out, 1, proc)
        receiver.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        _stdout, stderr = proc.communicate(timeout=120)
        noticed = time.monotonic() - t0
    finally:
        receiver.proc.send_signal(signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    report = json.loads((out / "report.json").read_text())
    failed = [e for e in report["images"] if e["status"] == "failed"]
    assert failed and {e["code"] for e in failed} == {"UNAVAILABLE"}, failed
    # the channel proxy's keepalive to the receiver (10 s + 5 s of silence), not the 500 s deadline
    assert noticed < 30, (noticed, stderr)
    print(f"frozen receiver noticed after {noticed:.1f} s: {failed[0]['message']}")
