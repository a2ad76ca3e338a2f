"""`semcom send` against a scripted sender: retries, --resume, per-image statuses, no report when
nothing was sent. Each image's output is b"PNG-of-" + its input, so outputs can be checked exactly."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from semcom.cli import main
from semcom.loadtest.cluster import free_port
from tests.unit.clients.scripted import Server, Step

N = 5


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(N):
        (folder / f"img{i}.png").write_bytes(b"input-%d" % i)
    return folder


@pytest.fixture(autouse=True)
def _no_grpc_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # gRPC's own per-call retries off: every scripted step is one application attempt
    monkeypatch.setenv("SEMCOM_RETRY_ATTEMPTS", "1")


def _send(target: str, inputs: Path, out: Path, *extra: str) -> int:
    return main(["send", str(inputs), "--to", target, "--insecure", "--out", str(out), "--seed", "3", *extra])


def _check_outputs(out: Path, report: dict, ok: list[int]) -> None:
    inputs = out.parent / "in"
    assert [e["index"] for e in report["images"]] == list(range(N))
    assert [e["status"] for e in report["images"]] == ["ok" if i in ok else "failed" for i in range(N)]
    assert report["ok"] == len(ok) and report["failed"] == N - len(ok)
    files = sorted(p.name for p in out.iterdir() if p.suffix == ".png")
    assert files == [f"{i:04d}_img{i}.png" for i in ok]  # exactly one output per delivered image
    for i in ok:
        assert (out / f"{i:04d}_img{i}.png").read_bytes() == b"PNG-of-" + (inputs / f"img{i}.png").read_bytes()
    assert not list(out.rglob("*.tmp"))


def test_stream_failures_are_retried_until_every_image_is_delivered(inputs, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    with Server(
        Step(answer=2, code=grpc.StatusCode.UNAVAILABLE), Step(answer=0, code=grpc.StatusCode.UNAVAILABLE), Step()
    ) as server:
        rc = _send(server.target, inputs, out, "--retry-max-s", "30")
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    _check_outputs(out, report, ok=list(range(N)))
    assert [len(set(s)) for s in server.streams][1:] == [1, 3]  # re-sent: only the 3 images left
    assert "sending the 3 images left again" in capsys.readouterr().err


def test_resume_skips_complete_images_and_keeps_their_files(inputs, tmp_path) -> None:
    out = tmp_path / "out"
    with Server(Step(answer=2, code=grpc.StatusCode.UNAVAILABLE, message="receiver gone")) as server:
        assert _send(server.target, inputs, out, "--attempts", "1") == 1
    first = json.loads((out / "report.json").read_text())
    _check_outputs(out, first, ok=[0, 1])
    assert {e["code"] for e in first["images"][2:]} == {"UNAVAILABLE"}
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    # a half-written image 2 from a crash (output written, record not yet): not complete, so re-sent
    (out / "0002_img2.png").write_bytes(b"partial")

    with Server() as server:
        assert _send(server.target, inputs, out, "--resume") == 0
        assert server.streams == [["0002", "0003", "0004"]]
    report = json.loads((out / "report.json").read_text())
    _check_outputs(out, report, ok=list(range(N)))
    assert report["resumed"] == 2
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png") if p.name in stamps} == stamps

    with Server() as server:  # everything complete: nothing to send
        assert _send(server.target, inputs, out, "--resume") == 0
        assert server.streams == []


def test_resume_detects_a_changed_output_or_input(inputs, tmp_path) -> None:
    out = tmp_path / "out"
    with Server() as server:
        assert _send(server.target, inputs, out) == 0
    (out / "0001_img1.png").write_bytes(b"tampered")
    (inputs / "img3.png").write_bytes(b"another picture")
    with Server() as server:
        assert _send(server.target, inputs, out, "--resume") == 0
        assert server.streams == [["0001", "0003"]]
    _check_outputs(out, json.loads((out / "report.json").read_text()), ok=list(range(N)))


def test_resume_refuses_a_batch_sent_with_other_options(inputs, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    with Server() as server:
        assert _send(server.target, inputs, out) == 0
        assert _send(server.target, inputs, out, "--resume", "--snr-db", "3") == 2
    assert "other options (snr_db)" in capsys.readouterr().err


def test_resume_takes_an_option_a_batch_does_not_name_as_not_given(inputs, tmp_path, capsys) -> None:
    """A batch.json written before an option existed (send's --fec, --mcs, --drop-threshold-db came
    later) resumes when the option is not given now, and names it when it is."""
    out = tmp_path / "out"
    with Server() as server:
        assert _send(server.target, inputs, out, "--attempts", "1") == 0
    batch = out / ".semcom-send" / "batch.json"
    earlier = json.loads(batch.read_text())
    for key in ("fec", "mcs", "drop_threshold_db"):
        assert earlier["options"].pop(key) is None
    batch.write_text(json.dumps(earlier))
    with Server() as server:
        assert _send(server.target, inputs, out, "--resume") == 0
        assert server.streams == []  # everything complete
        assert _send(server.target, inputs, out, "--resume", "--fec", "ldpc") == 2
    assert "other options (fec)" in capsys.readouterr().err


def test_without_resume_everything_is_sent_again(inputs, tmp_path) -> None:
    out = tmp_path / "out"
    with Server() as server:
        assert _send(server.target, inputs, out) == 0
        assert _send(server.target, inputs, out) == 0
        assert [len(s) for s in server.streams] == [N, N]


def test_refused_image_is_listed_with_its_code(inputs, tmp_path) -> None:
    out = tmp_path / "out"
    with Server(Step(answer=3, code=grpc.StatusCode.INVALID_ARGUMENT, message="image too large")) as server:
        assert _send(server.target, inputs, out, "--json") == 1
    report = json.loads((out / "report.json").read_text())
    _check_outputs(out, report, ok=[0, 1, 2, 4])
    assert report["images"][3]["code"] == "INVALID_ARGUMENT" and report["images"][3]["message"] == "image too large"


def test_nothing_sent_writes_no_report(inputs, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    rc = _send(f"127.0.0.1:{free_port()}", inputs, out, "--attempts", "2", "--retry-max-s", "5")
    assert rc == 1
    assert not out.exists()
    assert "no report written" in capsys.readouterr().err


def test_channel_flags_are_an_override_of_what_was_given(inputs, tmp_path, capsys) -> None:
    """send takes every channel flag (the shared ones, FEC, MCS and drop threshold included); each
    request carries only those given, so the proxy keeps its own settings for the rest; a bad value
    is refused before anything is sent (exit 2)."""
    from semcom.cli import build_parser
    from semcom.cli.send import _Send
    from semcom.link.types import ChannelConfig
    from semcom.rpc.convert import channel_config_from_proto
    from semcom.v1 import channel_pb2, sender_pb2

    def requests(*flags: str) -> list[sender_pb2.ImageRequest]:
        args = build_parser().parse_args(["send", str(inputs), "--to", "h:1", "--out", str(tmp_path / "o"), *flags])
        wire = [r.SerializeToString() for r in _Send.from_args(args).requests]
        return [sender_pb2.ImageRequest.FromString(data) for data in wire]

    assert not any(r.HasField("channel") for r in requests())
    sent = requests("--fec", "ldpc", "--mcs", "16QAM-r1/2", "--drop-threshold-db", "3.5", "--snr-db", "6")
    assert len(sent) == N and len({r.channel.SerializeToString() for r in sent}) == 1
    channel = sent[0].channel
    assert {f.name for f, _ in channel.ListFields()} == {"snr_db", "drop_threshold_db", "fec", "mcs"}
    assert (channel.fec, channel.mcs, channel.drop_threshold_db) == (channel_pb2.FEC_LDPC, "16qam-r1/2", 3.5)
    proxy = ChannelConfig(snr_db=9, modulation="qpsk", model="rayleigh", latent_policy="threshold")
    assert channel_config_from_proto(channel, proxy) == ChannelConfig(
        snr_db=6, modulation="qpsk", model="rayleigh", latent_policy="threshold", drop_threshold_db=3.5, fec="ldpc",
        mcs="16qam-r1/2",
    )  # fmt: skip
    for flags, message in (
        (["--fec", "turbo"], "invalid choice: 'turbo'"),
        (["--mcs", "8psk-r1/2"], "unknown MCS '8psk-r1/2'"),
        (["--drop-threshold-db", "nan"], "drop_threshold_db must be finite"),
        (["--snr-db", "1000"], "snr_db must be finite and in [-50, 100]"),
        (["--snr-db", "x"], "--snr-db: could not convert string to float: 'x'"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["send", str(inputs), "--to", "h:1", "--insecure", "--out", str(tmp_path / "o"), *flags])
        assert exit_.value.code == 2 and message in capsys.readouterr().err, flags
    assert not (tmp_path / "o").exists()
