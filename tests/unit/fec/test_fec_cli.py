"""`semcom channel bler` and `semcom channel mcs` through the real CLI entry point."""

from __future__ import annotations

import json
import shlex
from importlib import resources

import numpy as np
import pytest

from semcom.cli import build_parser, main
from semcom.cli import channel_fec as fec_cli
from semcom.fec import bler, mcs


def _bler_args(words: list[str]):
    """`semcom channel bler WORDS` parsed by the real parser."""
    return build_parser().parse_args(["channel", "bler", *words])


def _values(args) -> tuple:
    """What a parsed `semcom channel bler` runs: grid, MCS, k, blocks and errors per k, the rest."""
    ks = fec_cli._parse_ks(args.k)
    return (
        tuple(fec_cli._grid(args.esn0_db)),
        tuple(m.name for m in fec_cli._mcs_list(args.mcs)),
        tuple(ks),
        tuple(fec_cli._per_k_ints(args.blocks, ks, "--blocks", 300, 60)),
        tuple(fec_cli._per_k_ints(args.min_errors, ks, "--min-errors", 20, 10)),
        args.channel_model,
        args.fading_block_length,
        args.jobs,
        args.seed,
        str(args.out),
        args.merge,
    )


def _recorded_words(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[:3] == ["semcom", "channel", "bler"]
    return words[3:]


def test_bler_command_writes_a_table_amc_can_read(tmp_path, capsys) -> None:
    out = tmp_path / "table.json"
    rc = main(
        [
            "channel",
            "bler",
            "--esn0-db=0:4:2",
            "--mcs",
            "qpsk-r1/2",
            "--k",
            "64",
            "--blocks",
            "20",
            "--min-errors",
            "20",
            "--seed",
            "3",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert rc == 0
    table = bler.BlerTable.load(out)
    curve = table.curve("qpsk-r1/2", 64)
    assert curve.esn0_db[0] == 0.0 and curve.n == mcs.get("qpsk-r1/2").codeword_bits(64)
    command = table.meta["runs"][0]["command"]
    assert "--esn0-db=0:4:2" in command and " --k 64 --blocks 20 --min-errors 20 " in command
    assert "," not in command  # the new list syntax only
    assert "qpsk-r1/2" in capsys.readouterr().out
    # --merge adds a curve, keeps the old one
    rc = main(
        [
            "channel",
            "bler",
            "--esn0-db=4:8:2",
            "--mcs",
            "16qam-r1/2",
            "--k",
            "64",
            "--blocks",
            "10",
            "--seed",
            "3",
            "--out",
            str(out),
            "--merge",
            "-q",
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(c["mcs"] for c in data["curves"]) == ["16qam-r1/2", "qpsk-r1/2"]


def test_bler_command_rejects_bad_arguments(tmp_path, capsys) -> None:
    # each list item is validated by argparse, which names the flag and the item
    for bad, message in (
        (["--esn0-db=5:1:1"], "argument --esn0-db: range '5:1:1' needs STEP > 0 and STOP >= START"),
        (["--esn0-db", "1", "1:2"], "argument --esn0-db: expected a number of dB or START:STOP:STEP, got '1:2'"),
        (["--esn0-db", "0", "70"], "argument --esn0-db: Es/N0 must be in [-20, 60] dB, got '70'"),
        (["--esn0-db", "0:60:1e-6"], "argument --esn0-db: range '0:60:1e-6' has more than 10000 points"),
        (["--esn0-db", "nan"], "argument --esn0-db: expected finite values, got 'nan'"),
        (["--mcs", "qpsk-r1/2", "qpsk-r9/10"], "argument --mcs: unknown MCS 'qpsk-r9/10'"),
        (["--k", "64", "8"], "argument --k: k must be in [12, 8448], got '8'"),
        (["--k", "64", "x"], "argument --k: expected an integer, got 'x'"),
        (["--blocks", "10", "0"], "argument --blocks: expected a positive integer, got '0'"),
        (["--min-errors", "1.5"], "argument --min-errors: expected an integer, got '1.5'"),
        (["--esn0-db"], "argument --esn0-db: expected at least one argument"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["channel", "bler", "--out", str(tmp_path / "x.json"), *bad])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err, bad
    # what needs the whole list is checked before any simulation runs
    for bad, message in (
        (["--k", "64", "64"], "--k values must be distinct, got 64 64"),
        (
            ["--k", "64", "320", "--blocks", "1", "2", "3"],
            "--blocks needs one value or one per --k value (2), got 1 2 3",
        ),
        (["--mcs", "all", "qpsk-r1/2"], "--mcs all cannot be combined with MCS names"),
        (["--mcs", "qpsk-r1/2", "QPSK-r1/2"], "--mcs values must be distinct"),
    ):
        assert main(["channel", "bler", "--out", str(tmp_path / "x.json"), *bad]) == 2
        assert f"semcom channel bler: {message}" in capsys.readouterr().err, bad
    assert not (tmp_path / "x.json").exists()


def test_bler_lists_are_space_separated_and_a_comma_list_is_refused(capsys) -> None:
    new = _bler_args(
        [
            "--esn0-db",
            "-1",
            "0.5",
            "2:4:1",
            "--mcs",
            "qpsk-r1/2",
            "16qam-r1/2",
            "--k",
            "64",
            "320",
            "--blocks",
            "30",
            "40",
            "--min-errors",
            "5",
            "--out",
            "t.json",
        ]
    )
    assert capsys.readouterr().err == ""
    assert _values(new)[:5] == ((-1.0, 0.5, 2.0, 3.0, 4.0), ("qpsk-r1/2", "16qam-r1/2"), (64, 320), (30, 40), (5, 5))
    for words, message in (
        (["--k", "64,320"], "argument --k: expected an integer, got '64,320'"),
        (["--mcs", "qpsk-r1/2,16qam-r1/2"], "argument --mcs:"),
        (["--esn0-db", "2,0.5"], "argument --esn0-db: expected a number of dB or START:STOP:STEP, got '2,0.5'"),
    ):
        with pytest.raises(SystemExit):
            _bler_args([*words, "--out", "t.json"])
        assert message in capsys.readouterr().err, words
    with pytest.raises(SystemExit):
        _bler_args(["--k", "64", "8", "--out", "t.json"])  # validated item by item
    assert "argument --k: k must be in [12, 8448], got '8'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "words",
    [
        ["--esn0-db=-3:22:0.25"],
        ["--esn0-db", "-2", "-0.5", "1:3:0.5", "--mcs", "all", "--k", "320", "8448", "--min-errors", "7", "--merge"],
        ["--esn0-db", "-1", "1:2:0.5", "--mcs", "qpsk-r1/2", "64QAM-r5/6", "--k", "64", "--blocks", "9"],
    ],
)
def test_the_recorded_command_parses_back_to_the_same_sweep(words) -> None:
    args = _bler_args([*words, "--out", "t.json"])
    command = fec_cli._bler_command(args)
    assert "," not in command
    assert _values(_bler_args(_recorded_words(command))) == _values(args)


def test_a_negative_range_among_several_items_is_recorded_as_its_points() -> None:
    args = _bler_args(["--esn0-db=-1:0:0.5", "--out", "t.json"])
    assert "--esn0-db=-1:0:0.5 " in fec_cli._bler_command(args)
    # "-1:0:0.5" as a word of its own would read as an option, so with other items it is written out
    args.esn0_db = ["-1:0:0.5", "3"]
    command = fec_cli._bler_command(args)
    assert " --esn0-db -1 -0.5 0 3 --mcs " in command
    assert _values(_bler_args(_recorded_words(command))) == _values(args)


def test_the_commands_stored_in_the_packaged_tables_still_parse() -> None:
    checked = 0
    for name in ("bler_table.json", "bler_table_sionna.json"):
        table = bler.BlerTable.load(resources.files("semcom.fec").joinpath(name))
        for run in table.meta["runs"]:
            args = _bler_args(_recorded_words(run["command"]))
            grid, names, ks = _values(args)[:3]
            channel = bler.channel_key(args.channel_model, args.fading_block_length)
            curves = [c for c in table.curves if c.channel == channel and c.k in ks]
            # the table holds that run's curves, measured on points of the grid the command gives
            assert {c.mcs for c in curves} == set(names) and {c.k for c in curves} == set(ks), run["command"]
            assert all(set(c.esn0_db) <= set(grid) for c in curves), run["command"]
            checked += 1
    assert checked >= 2


def test_mcs_command_lists_the_table_and_the_amc_choice(capsys) -> None:
    assert main(["channel", "mcs", "--json", "--esn0-db", "30", "--field", "caption"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["mcs"] for r in data["mcs"]] == mcs.names()
    assert data["segments"] == 1 and data["segment_k"] == 632 and data["choice"]["mcs"] == "64qam-r5/6"
    assert main(["channel", "mcs", "--esn0-db", "-9"]) == 0
    text = capsys.readouterr().out
    assert "drop" in text and "16qam-r1/2" in text
    assert main(["channel", "mcs", "--bits", "0"]) == 2


def test_bler_command_measures_fading_curves_next_to_awgn_ones(tmp_path, capsys) -> None:
    out = tmp_path / "table.json"
    common = [
        "--esn0-db=2:8:3",
        "--mcs",
        "qpsk-r1/2",
        "--k",
        "64",
        "--blocks",
        "30",
        "--min-errors",
        "30",
        "--seed",
        "3",
        "--out",
        str(out),
        "-q",
    ]
    assert main(["channel", "bler", *common]) == 0
    assert (
        main(["channel", "bler", "--channel-model", "rayleigh", "--fading-block-length", "16", *common, "--merge"]) == 0
    )
    table = bler.BlerTable.load(out)
    assert table.channels() == ["awgn", "rayleigh-L16"]
    awgn, faded = table.curve("qpsk-r1/2", 64), table.curve("qpsk-r1/2", 64, "rayleigh-L16")
    # at the same average SNR deep fades cost blocks (compared point by point: the curves end
    # where each first has no error, so their last points are at different SNRs)
    bler_at = {c.channel: dict(zip(c.esn0_db, np.divide(c.block_errors, c.blocks))) for c in (awgn, faded)}
    shared = sorted(set(bler_at["awgn"]) & set(bler_at["rayleigh-L16"]))
    assert shared and all(bler_at["rayleigh-L16"][x] > bler_at["awgn"][x] for x in shared)
    assert "--channel-model rayleigh --fading-block-length 16" in table.meta["runs"][1]["command"]
    assert table.meta["runs"][1]["channel"] == "rayleigh-L16"
    capsys.readouterr()
    # `mcs` reads the fading curves for that channel, AWGN ones for the others
    assert (
        main(
            [
                "channel",
                "mcs",
                "--table",
                str(out),
                "--channel-model",
                "rayleigh",
                "--fading-block-length",
                "16",
                "--esn0-db",
                "8",
                "--bits",
                "40",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["table_channel"] == "rayleigh-L16"
    assert main(["channel", "mcs", "--table", str(out), "--channel-model", "bsc", "--bits", "40", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["table_channel"] == "awgn"
    with pytest.raises(SystemExit) as refused:  # argparse: not a positive integer
        main(["channel", "bler", "--channel-model", "rayleigh", "--fading-block-length", "0", "--out", "x.json"])
    assert refused.value.code == 2
    assert "--fading-block-length: expected a positive integer, got '0'" in capsys.readouterr().err


def test_channel_bench_fec_times_both_decoders_on_identical_llrs(capsys) -> None:
    rc = main(
        [
            "channel",
            "bench",
            "--fec",
            "--codewords",
            "3",
            "--k",
            "632",
            "--points",
            "16qam-r5/6@15",
            "qpsk-r1/3@8",
            "--json",
            "--seed",
            "1",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert [(p["mcs"], p["esn0_db"]) for p in data["points"]] == [("16qam-r5/6", 15.0), ("qpsk-r1/3", 8.0)]
    for point in data["points"]:
        assert set(point["decoders"]) == {"minsum", "sionna"} and point["speedup"] > 0
    assert main(["channel", "bench", "--fec", "--codewords", "2", "--k", "632", "--points", "16qam-r5/6@15"]) == 0
    assert "minsum is" in capsys.readouterr().out
    for bad, message in (
        (["16qam-r5/6"], "operating point '16qam-r5/6': expected MCS@ESN0_DB"),
        (["qpsk-r1/2@1", "16qam-r9/10@3"], "operating point '16qam-r9/10@3': unknown MCS"),
        (["qpsk-r1/2@x"], "operating point 'qpsk-r1/2@x': Es/N0 'x' is not a number of dB"),
        (["qpsk-r1/2@99"], "operating point 'qpsk-r1/2@99': Es/N0 must be in [-20, 60] dB"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["channel", "bench", "--fec", "--points", *bad])
        assert exit_.value.code == 2
        assert f"argument --points: {message}" in capsys.readouterr().err


def test_channel_bench_fec_prints_progress_on_stderr_unless_told_not_to(capsys) -> None:
    """With its defaults the benchmark runs for minutes: a line as each decoder starts and ends a point."""
    argv = ["channel", "bench", "--fec", "--codewords", "2", "--k", "632", "--decoders", "minsum"]
    assert main([*argv, "--points", "16qam-r5/6@15", "qpsk-r1/3@8"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "point 1/2 (16qam-r5/6 at Es/N0 15 dB), minsum",
        "point 1/2 (16qam-r5/6 at Es/N0 15 dB), minsum done",
        "point 2/2 (qpsk-r1/3 at Es/N0 8 dB), minsum",
        "point 2/2 (qpsk-r1/3 at Es/N0 8 dB), minsum done",
    ]
    assert lines[0] == "semcom channel bench --fec: point 1/2 (16qam-r5/6 at Es/N0 15 dB), minsum: 2 codewords ..."
    assert lines[1].endswith(" s, 0/2 block errors")
    assert main([*argv, "--points", "16qam-r5/6@15", "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_bench_points_are_space_separated(capsys) -> None:
    parser = build_parser()
    new = parser.parse_args(["channel", "bench", "--fec", "--points", "16qam-r5/6@15", "qpsk-r1/3@-2.5"])
    assert capsys.readouterr().err == ""
    assert new.points == [("16qam-r5/6", 15.0), ("qpsk-r1/3", -2.5)]
    with pytest.raises(SystemExit):
        parser.parse_args(["channel", "bench", "--fec", "--points", "16qam-r5/6@15,qpsk-r1/3@-2.5"])
    default = parser.parse_args(["channel", "bench", "--fec"])
    assert default.points == [("16qam-r1/2", 6.4), ("16qam-r3/4", 10.2), ("16qam-r5/6", 13.5)]
