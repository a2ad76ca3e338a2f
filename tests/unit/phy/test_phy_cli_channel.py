"""`semcom channel ber` and `semcom channel bench` as a user runs them (in-process)."""

from __future__ import annotations

import json

import pytest

from semcom.cli import main


def _run_json(capsys, argv: list[str]) -> tuple[int, dict]:
    rc = main(argv)
    return rc, json.loads(capsys.readouterr().out)


def test_ber_command_agrees_with_theory(capsys) -> None:
    rc, out = _run_json(
        capsys,
        [
            "channel",
            "ber",
            "--modulation",
            "16qam",
            "--ebn0-db",
            "0",
            "5",
            "10",
            "--bits",
            "400000",
            "--seed",
            "7",
            "--json",
        ],
    )
    assert rc == 0
    assert out["modulation"] == "16qam" and out["channel"] == "awgn" and out["snr_convention"] == "ebn0"
    assert [r["ebn0_db"] for r in out["rows"]] == [0.0, 5.0, 10.0]
    for row in out["rows"]:
        assert row["esn0_db"] == pytest.approx(row["ebn0_db"] + 6.0206, abs=1e-4)
        assert row["ber"] == row["errors"] / row["bits"]
        lo, hi = row["ber_band"]
        assert lo <= row["ber_theory"] <= hi and row["within_band"]
        assert abs(row["errors"] - row["expected_errors"]) <= 5 * row["sd_errors"]
    assert [r["ber_theory"] for r in out["rows"]] == pytest.approx([0.14098, 0.041893, 0.0017542], rel=5e-5)


def test_ber_command_is_reproducible_with_a_seed(capsys) -> None:
    argv = ["channel", "ber", "--esn0-db", "8", "--bits", "20000", "--seed", "3", "--json"]
    assert _run_json(capsys, argv)[1] == _run_json(capsys, argv)[1]


def test_ber_command_esn0_rayleigh_and_bsc(capsys) -> None:
    rc, out = _run_json(
        capsys,
        [
            "channel",
            "ber",
            "--modulation",
            "qpsk",
            "--channel-model",
            "rayleigh",
            "--esn0-db",
            "10",
            "--bits",
            "200000",
            "--seed",
            "1",
            "--fading-block-length",
            "32",
            "--json",
        ],
    )
    assert rc == 0 and out["fading_block_length"] == 32
    assert out["rows"][0]["ebn0_db"] == pytest.approx(10 - 3.0103, abs=1e-4) and out["rows"][0]["within_band"]
    rc, out = _run_json(
        capsys,
        ["channel", "ber", "--channel-model", "bsc", "--ebn0-db", "5", "--bits", "200000", "--seed", "1", "--json"],
    )
    assert (
        rc == 0 and out["rows"][0]["ber_theory"] == pytest.approx(0.041893, rel=5e-5) and out["rows"][0]["within_band"]
    )


@pytest.mark.parametrize("argv", [["--bits", "0"], ["--ebn0-db", "500"], ["--sigmas", "0"]])
def test_ber_command_rejects_bad_input(capsys, argv) -> None:
    assert main(["channel", "ber", *argv]) == 2
    assert "semcom channel ber:" in capsys.readouterr().out


def test_ber_command_rejects_unknown_modulation() -> None:
    with pytest.raises(SystemExit):
        main(["channel", "ber", "--modulation", "8psk"])


def test_bench_command_reports_every_implementation(capsys) -> None:
    rc, out = _run_json(capsys, ["channel", "bench", "--repeats", "1", "--json"])
    assert rc == 0
    assert out["workload"]["bits"] == 4 * 64 * 64 * 64
    impl = out["implementations"]
    assert {"semcom", "commpy", "sionna_1thread"} <= set(impl)
    ours = impl["semcom"]
    assert ours["available"] and ours["seconds"] > 0 and ours["threads"] == 1
    for name, r in impl.items():
        if r["available"]:
            # all chains did the same job: BER near the 16-QAM value at 10 dB (payload bits are not
            # uniform, so only roughly), and the ratio is consistent with the times
            assert 5e-4 < r["ber"] < 5e-3, name
            if name != "semcom":
                assert out["speedup_of_semcom"][name] == pytest.approx(r["seconds"] / ours["seconds"])
        else:
            assert r["reason"]
    assert set(out["meets_targets"]) >= {"ms_per_mbit"} and set(out["meets_targets_cpu_time"]) >= {"ms_per_mbit"}
    assert set(out["speedup_of_semcom_cpu_time"]) == set(out["speedup_of_semcom"])


def test_bench_commands_reject_zero_repeats(capsys) -> None:
    """`semcom channel bench` and `semcom bench channel` take the same flags."""
    for argv in (["channel", "bench", "--repeats", "0"], ["bench", "channel", "--repeats", "0"]):
        with pytest.raises(SystemExit) as refused:
            main(argv)
        assert refused.value.code == 2
        assert "--repeats: expected a positive integer, got '0'" in capsys.readouterr().err
