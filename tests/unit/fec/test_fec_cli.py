"""`semcom channel bler` and `semcom channel mcs` through the real CLI entry point."""

from __future__ import annotations

import json

import numpy as np

from semcom.cli import main
from semcom.fec import bler, mcs


def test_bler_command_writes_a_table_amc_can_read(tmp_path, capsys) -> None:
    out = tmp_path / "table.json"
    rc = main(["channel", "bler", "--esn0-db=0:4:2", "--mcs", "qpsk-r1/2", "--k", "64", "--blocks", "20",
               "--min-errors", "20", "--seed", "3", "--out", str(out), "-q"])
    assert rc == 0
    table = bler.BlerTable.load(out)
    curve = table.curve("qpsk-r1/2", 64)
    assert curve.esn0_db[0] == 0.0 and curve.n == mcs.get("qpsk-r1/2").codeword_bits(64)
    assert "--esn0-db=0:4:2" in table.meta["runs"][0]["command"]
    assert "qpsk-r1/2" in capsys.readouterr().out
    # --merge adds a curve, keeps the old one
    rc = main(["channel", "bler", "--esn0-db=4:8:2", "--mcs", "16qam-r1/2", "--k", "64", "--blocks", "10",
               "--seed", "3", "--out", str(out), "--merge", "-q", "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(c["mcs"] for c in data["curves"]) == ["16qam-r1/2", "qpsk-r1/2"]


def test_bler_command_rejects_bad_arguments(tmp_path, capsys) -> None:
    for bad in (["--esn0-db=5:1:1"], ["--mcs", "qpsk-r9/10"], ["--k", "8"], ["--blocks", "0"]):
        assert main(["channel", "bler", "--out", str(tmp_path / "x.json"), *bad]) == 2
    assert "semcom channel bler:" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


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
    common = ["--esn0-db=2:8:3", "--mcs", "qpsk-r1/2", "--k", "64", "--blocks", "30", "--min-errors", "30",
              "--seed", "3", "--out", str(out), "-q"]
    assert main(["channel", "bler", *common]) == 0
    assert main(["channel", "bler", "--channel", "rayleigh", "--fading-block-length", "16", *common, "--merge"]) == 0
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
    assert main(["channel", "mcs", "--table", str(out), "--channel", "rayleigh", "--fading-block-length", "16",
                 "--esn0-db", "8", "--bits", "40", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["table_channel"] == "rayleigh-L16"
    assert main(["channel", "mcs", "--table", str(out), "--channel", "bsc", "--bits", "40", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["table_channel"] == "awgn"
    assert main(["channel", "bler", "--channel", "rayleigh", "--fading-block-length", "0", "--out",
                 str(tmp_path / "x.json")]) == 2


def test_channel_bench_fec_times_both_decoders_on_identical_llrs(capsys) -> None:
    rc = main(["channel", "bench", "--fec", "--codewords", "3", "--k", "632", "--points", "16qam-r5/6@15,qpsk-r1/3@8",
               "--json", "--seed", "1"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert [(p["mcs"], p["esn0_db"]) for p in data["points"]] == [("16qam-r5/6", 15.0), ("qpsk-r1/3", 8.0)]
    for point in data["points"]:
        assert set(point["decoders"]) == {"minsum", "sionna"} and point["speedup"] > 0
    assert main(["channel", "bench", "--fec", "--codewords", "2", "--k", "632", "--points", "16qam-r5/6@15"]) == 0
    assert "minsum is" in capsys.readouterr().out
    assert main(["channel", "bench", "--fec", "--points", "16qam-r5/6"]) == 2
    assert main(["channel", "bench", "--fec", "--points", "16qam-r9/10@3"]) == 2
    assert "semcom channel bench --fec:" in capsys.readouterr().err
