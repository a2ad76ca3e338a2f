"""The service CLIs' pure parts: image collection for `semcom send`, the channel override it
builds, the report JSON (the demo's sheet and report: tests/unit/demo)."""

from __future__ import annotations

import argparse
import io

import pytest
from PIL import Image

from semcom.cli import build_parser
from semcom.cli.send import channel_override, collect_images, report_dict
from semcom.v1 import channel_pb2


def test_collect_images_from_files_directories_and_synthetic(tmp_path) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name in ("b.png", "a.jpg", "notes.txt"):
        (folder / name).write_bytes(b"x")
    single = tmp_path / "single.webp"
    single.write_bytes(b"y")
    images = collect_images([str(folder), str(single)], synthetic=2)
    assert [name for name, _ in images] == ["a", "b", "single", "synthetic_0", "synthetic_1"]
    assert Image.open(io.BytesIO(images[-1][1])).size == (256, 256)
    with pytest.raises(ValueError, match="no such file"):
        collect_images([str(tmp_path / "missing")])
    with pytest.raises(ValueError, match="nothing to send"):
        collect_images([])


def test_send_channel_override_sets_only_given_fields() -> None:
    args = build_parser().parse_args(["send", "x.png", "--to", "h:1", "--snr-db", "0", "--modulation", "qpsk"])
    msg = channel_override(args)
    assert msg.HasField("snr_db") and msg.snr_db == 0.0 and msg.modulation == channel_pb2.MODULATION_QPSK
    assert not msg.HasField("seed") and msg.latent_policy == channel_pb2.LATENT_POLICY_UNSPECIFIED
    assert channel_override(build_parser().parse_args(["send", "x.png", "--to", "h:1"])) is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["send", "x.png", "--to", "h:1", "--mode", "pixels"])


def test_report_dict_writes_counters_as_numbers() -> None:
    report = channel_pb2.TransmissionReport(total_symbols=262_298, esn0_db=16.0)
    report.latent.bit_errors = 12
    out = report_dict(report)
    assert out["total_symbols"] == 262_298 and out["latent"]["bit_errors"] == 12 and out["esn0_db"] == 16.0
    assert out["snr_note"] == ""  # no channel configuration: nothing to explain
    coded = channel_pb2.TransmissionReport(esn0_db=10.0206, ebn0_db=5.7748)
    coded.channel.snr_db, coded.channel.fec = 4.0, channel_pb2.FEC_LDPC
    assert "ebn0_db 5.77 is per information bit after the code rate" in report_dict(coded)["snr_note"]


def test_serve_flags_mirror_settings() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "channel",
            "--port",
            "0",
            "--upstream",
            "a:1,b:2",
            "--snr-db",
            "7.5",
            "--insecure",
            "--channel-seed",
            "3",
        ]
    )
    assert (args.role, args.port, args.upstream, args.snr_db, args.insecure, args.channel_seed) == (
        "channel",
        0,
        "a:1,b:2",
        7.5,
        True,
        3,
    )
    receiver = build_parser().parse_args(["serve", "receiver"])
    assert receiver.port is None and receiver.batch_max is None and receiver.insecure is None  # -> environment
    assert isinstance(receiver, argparse.Namespace)


def test_fading_block_length_reaches_the_channel_from_flags_and_settings(monkeypatch) -> None:
    from semcom.cli.serve import proxy_channel_config

    args = build_parser().parse_args(["send", "x.png", "--to", "h:1", "--fading-block-length", "16"])
    msg = channel_override(args)
    assert msg.HasField("fading_block_length") and msg.fading_block_length == 16 and not msg.HasField("snr_db")
    bare = build_parser().parse_args(["serve", "channel"])
    assert proxy_channel_config(bare).fading_block_length == 128  # the documented default
    monkeypatch.setenv("SEMCOM_FADING_BLOCK_LENGTH", "32")
    assert proxy_channel_config(bare).fading_block_length == 32
    serve = build_parser().parse_args(["serve", "channel", "--fading-block-length", "8"])
    assert proxy_channel_config(serve).fading_block_length == 8
    monkeypatch.setenv("SEMCOM_CHANNEL_SEED", "7")
    monkeypatch.setenv("SEMCOM_SOFT_DEMAPPING", "true")
    assert (proxy_channel_config(bare).seed, proxy_channel_config(bare).soft_demapping) == (7, True)
    monkeypatch.setenv("SEMCOM_FADING_BLOCK_LENGTH", "0")
    with pytest.raises(ValueError, match="fading_block_length"):
        proxy_channel_config(bare)


def test_a_malformed_setting_is_the_reading_commands_error_not_every_commands(monkeypatch, capsys) -> None:
    """Settings are read when a command runs, not when the CLI is built: `semcom config` still
    reports the bad value, and `semcom transmit`, which reads it, names it and exits 2."""
    from semcom.cli import main

    monkeypatch.setenv("SEMCOM_FADING_BLOCK_LENGTH", "zz")
    assert main(["config"]) == 0
    assert "SEMCOM_FADING_BLOCK_LENGTH" in capsys.readouterr().out
    assert main(["transmit", "x.png"]) == 2
    assert "semcom transmit: SEMCOM_FADING_BLOCK_LENGTH='zz'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("role", "flags", "message"),
    [
        ("sender", ["--image-size", "-1"], "image size must be a multiple of 64"),
        ("sender", ["--latent-encoding", "float65"], "unknown latent encoding 'float65'"),
        ("receiver", ["--max-image-pixels", "0"], "max_pixels must be >= 1"),
        ("receiver", ["--batch-max", "0"], "batch max must be >= 1"),
        ("sender", ["--batch-window-ms", "-1"], "batch window >= 0 ms"),
    ],
)
def test_an_invalid_service_configuration_is_refused_at_start_up(role, flags, message) -> None:
    """Never listening, never SERVING: the process exits 2 naming the setting, before any model loads."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", "semcom", "serve", role, "--port", "0", "--insecure", *flags],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "SERVING" not in done.stderr + done.stdout


def test_send_to_an_address_where_nothing_listens_fails_in_seconds(tmp_path, capsys) -> None:
    """A mistyped port took 52 s (every retry's reconnect backoff); now the connect deadline."""
    import time

    from semcom.cli import main
    from semcom.loadtest.cluster import free_port
    from semcom.rpc.client import CONNECT_TIMEOUT_S

    port = free_port()  # a loopback port that was free a moment ago: nothing listens
    t0 = time.monotonic()
    rc = main(["send", "--synthetic", "1", "--to", f"127.0.0.1:{port}", "--insecure", "--out", str(tmp_path / "o")])
    elapsed = time.monotonic() - t0
    assert rc == 1 and elapsed < CONNECT_TIMEOUT_S + 5
    assert f"cannot connect to 127.0.0.1:{port} within {CONNECT_TIMEOUT_S:g} s" in capsys.readouterr().err


def test_loadtest_of_an_address_where_nothing_listens_fails_in_seconds(capsys) -> None:
    """As `semcom send`: the connect deadline, exit 1, no sweep of UNAVAILABLE levels and no table
    (`semcom loadtest` and `semcom bench sweep --to`)."""
    import time

    from semcom.cli import main
    from semcom.loadtest.cluster import free_port
    from semcom.rpc.client import CONNECT_TIMEOUT_S

    target = f"127.0.0.1:{free_port()}"  # a loopback port that was free a moment ago: nothing listens
    for name, command in (("loadtest", ["loadtest", "--service", "sender"]), ("bench sweep", ["bench", "sweep"])):
        t0 = time.monotonic()  # `bench sweep --to` load-tests the sender it names: the same check
        rc = main([*command, "--to", target, "--timeout", "10", "--image-size", "16", "--insecure"])
        elapsed = time.monotonic() - t0
        out, err = capsys.readouterr()
        assert rc == 1 and elapsed < CONNECT_TIMEOUT_S + 5 and out == ""
        assert f"semcom {name}: error: cannot connect to {target} within {CONNECT_TIMEOUT_S:g} s" in err
        assert "level" not in err
