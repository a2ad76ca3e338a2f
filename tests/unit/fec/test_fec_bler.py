"""BLER: the Monte-Carlo sweep, the table format and the lookup rule AMC relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semcom.fec import bler, bler_sweep, mcs


def _curve(name="qpsk-r1/2", k=320, esn0=(0.0, 1.0, 2.0, 3.0), errors=(100, 40, 50, 0), blocks=100):
    return bler.BlerCurve(name, k, mcs.get(name).codeword_bits(k), list(esn0), [blocks] * len(esn0), list(errors))


def test_simulated_bler_does_not_increase_with_snr() -> None:
    curve = bler_sweep.sweep_curve(
        mcs.get("qpsk-r1/2"), 128, np.arange(0.0, 4.1, 1.5), seed=0, max_blocks=30, min_errors=30, coarse_step=1
    )
    values = curve.bler
    assert len(values) >= 3 and values[0] > 0.5 and values[-1] == 0.0  # from the waterfall's top to its end
    assert np.all(np.diff(values) <= 0)


def test_sweep_strides_over_all_fail_points_then_walks_every_point() -> None:
    grid = np.arange(-3.0, 24.01, 0.5)
    m = mcs.get("64qam-r5/6")
    curve = bler_sweep.sweep_curve(m, 1024, grid, seed=1, max_blocks=20, min_errors=4, coarse_step=2)
    assert curve.esn0_db[0] == pytest.approx(15.0)  # first grid point above the Shannon limit, 14.91 dB
    all_fail = [e == b for e, b in zip(curve.block_errors, curve.blocks)]
    steps = np.diff(curve.esn0_db)
    assert set(np.round(steps, 6)) <= {0.5, 1.0} and 1.0 in np.round(steps, 6)
    for i in np.flatnonzero(np.isclose(steps, 1.0)):  # coarse strides only between all-fail points
        assert all_fail[i] and all_fail[i + 1]
    assert curve.block_errors[-1] == 0 and curve.block_errors[-2] > 0  # ends at the first clean point


def test_lookup_is_a_monotone_pessimistic_interpolation() -> None:
    curve = _curve()  # measured 1, 0.4, 0.5 (a Monte-Carlo wiggle), 0
    np.testing.assert_allclose(curve.envelope(), [1.0, 0.5, 0.5, 0.0])
    assert curve.at(-5.0) == 1.0  # below the first point
    assert curve.at(0.5) == pytest.approx(0.75)
    assert curve.at(2.5) == pytest.approx(0.25)
    assert curve.at(99.0) == 0.0
    assert curve.required_esn0_db(0.5) == 1.0 and curve.required_esn0_db(0.01) == 3.0
    never = _curve(errors=(100, 90, 80, 70))
    assert never.required_esn0_db(0.1) == math.inf and never.at(50.0) == 0.7


def test_curve_for_a_block_length_prefers_the_longest_not_much_longer_code() -> None:
    table = bler.BlerTable([_curve(k=320), _curve(k=8448)])
    assert table.curve("qpsk-r1/2", 8413).k == 8448  # within 10%
    assert table.curve("qpsk-r1/2", 4000).k == 320  # a 4000-bit code is weaker than an 8448-bit one
    assert table.curve("qpsk-r1/2", 100).k == 320  # shorter than anything measured: the shortest
    with pytest.raises(ValueError, match="no awgn curve"):
        table.curve("64qam-r5/6", 320)


def test_table_round_trips_through_json_and_merges(tmp_path) -> None:
    table = bler.BlerTable([_curve(k=320)], {"runs": [{"command": "a"}]})
    path = tmp_path / "t.json"
    table.save(path)
    loaded = bler.BlerTable.load(path)
    assert loaded.to_dict() == table.to_dict()
    newer = bler.BlerTable(
        [_curve(k=320, errors=(9, 9, 9, 9)), _curve("16qam-r1/2", k=320)], {"runs": [{"command": "b"}]}
    )
    merged = loaded.merged(newer)
    assert [(c.mcs, c.k) for c in merged.curves] == [("qpsk-r1/2", 320), ("16qam-r1/2", 320)]
    assert merged.curve("qpsk-r1/2", 320).block_errors == [9, 9, 9, 9]
    assert [r["command"] for r in merged.meta["runs"]] == ["a", "b"]

    # a run whose every curve is measured again leaves the record; one with a surviving curve stays
    def run(command, ks):
        return {"command": command, "channel": "awgn", "mcs": ["qpsk-r1/2"], "ks": ks}

    first = bler.BlerTable([_curve(k=320)], {"runs": [run("x", [320])]})
    both = bler.BlerTable([_curve(k=320), _curve(k=8448)], {"runs": [run("x", [320, 8448])]})
    again = bler.BlerTable([_curve(k=320, errors=(9, 9, 9, 9))], {"runs": [run("y", [320])]})
    assert [r["command"] for r in first.merged(again).meta["runs"]] == ["y"]
    assert [r["command"] for r in both.merged(again).meta["runs"]] == ["x", "y"]
    assert [r["command"] for r in merged.merged(again).meta["runs"]] == ["a", "b", "y"]  # runs that say nothing stay


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"format": "other"},
        {"format": bler.TABLE_FORMAT, "curves": [{"mcs": "qpsk-r1/2"}]},
        {"format": bler.TABLE_FORMAT, "curves": [_curve().to_dict() | {"block_errors": [1, 2, 3, 200]}]},
        {"format": bler.TABLE_FORMAT, "curves": [_curve().to_dict() | {"esn0_db": [3, 2, 1, 0]}]},
    ],
)
def test_malformed_tables_are_rejected(data) -> None:
    with pytest.raises(ValueError):
        bler.BlerTable.from_dict(data)


def test_grid_parsing() -> None:
    np.testing.assert_allclose(bler_sweep.parse_grid("-1:1:0.5"), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(bler_sweep.parse_grid("3,1,2"), [1, 2, 3])
    for bad in ("1:0:0.5", "0:1:0", "a,b", "0:100:1", ""):
        with pytest.raises(ValueError):
            bler_sweep.parse_grid(bad)


def test_packaged_table_covers_every_mcs_at_caption_and_code_block_lengths() -> None:
    table = bler.default_table()
    for m in mcs.MCS_TABLE:
        assert table.ks(m.name) == list(bler_sweep.DEFAULT_KS)
        for k in bler_sweep.DEFAULT_KS:
            curve = table.curve(m.name, k)
            assert curve.bler[0] > 0.5 and curve.bler[-1] == 0.0  # swept from failure to error-free
            assert curve.esn0_db[0] >= bler.shannon_esn0_db(m.spectral_efficiency) - 1e-9
    # a longer code needs less SNR than a short one for the same MCS and target
    for m in mcs.MCS_TABLE:
        assert table.curve(m.name, 8448).required_esn0_db(0.01) <= table.curve(m.name, 320).required_esn0_db(0.01)


def test_channel_keys_round_trip_and_reject_nonsense() -> None:
    assert bler.channel_key("awgn") == "awgn" and bler.parse_channel_key("awgn") == ("awgn", None)
    assert bler.channel_key("rayleigh", 128) == "rayleigh-L128"
    assert bler.parse_channel_key("rayleigh-L128") == ("rayleigh", 128)
    for bad_model, length in (("bsc", 1), ("rayleigh", 0), ("rayleigh", None), ("none", 1)):
        with pytest.raises(ValueError):
            bler.channel_key(bad_model, length)
    for bad_key in ("rayleigh", "rayleigh-L0", "rayleigh-Lx", "AWGN", ""):
        with pytest.raises(ValueError):
            bler.parse_channel_key(bad_key)
    with pytest.raises(ValueError):
        bler.BlerCurve("qpsk-r1/2", 320, 640, [0.0], [1], [0], channel="rician")


def test_curves_of_each_channel_are_kept_apart_and_unmeasured_channels_read_awgn(tmp_path) -> None:
    fading = bler.channel_key("rayleigh", 128)
    table = bler.BlerTable([_curve(k=320), _faded(k=320)])
    assert table.channels() == ["awgn", fading]
    assert table.curve("qpsk-r1/2", 320).channel == "awgn"
    assert table.curve("qpsk-r1/2", 320, fading).block_errors == [100, 90, 60, 10]
    assert table.bler("qpsk-r1/2", 320, 3.0) == 0.0 and table.bler("qpsk-r1/2", 320, 3.0, fading) > 0.5
    assert table.channel_for("rayleigh", 128) == fading
    # an unmeasured fading block length reads the next longer one (fewer fades: pessimistic), or
    # the longest; models without curves read AWGN's
    assert table.channel_for("rayleigh", 16) == table.channel_for("rayleigh", 1000) == fading
    assert bler.BlerTable([_curve()]).channel_for("rayleigh", 128) == "awgn"
    assert table.channel_for("bsc") == table.channel_for("none") == table.channel_for("awgn") == "awgn"
    with pytest.raises(ValueError, match="no rayleigh-L16 curve"):
        table.curve("qpsk-r1/2", 320, "rayleigh-L16")
    # same (mcs, k) on two channels is not a duplicate; both survive JSON and merging
    path = tmp_path / "t.json"
    table.save(path)
    assert bler.BlerTable.load(path).to_dict() == table.to_dict()
    merged = bler.BlerTable([_curve(k=320, errors=(9, 9, 9, 9))]).merged(table)
    assert [(c.channel, c.block_errors[0]) for c in merged.curves] == [("awgn", 100), (fading, 100)]
    with pytest.raises(ValueError, match="duplicate"):
        bler.BlerTable([_faded(), _faded()])


def test_a_table_written_before_channels_existed_reads_as_awgn() -> None:
    data = bler.BlerTable([_curve()]).to_dict()
    for curve in data["curves"]:
        del curve["channel"]
    assert bler.BlerTable.from_dict(data).curves[0].channel == "awgn"


def test_rayleigh_fading_costs_more_blocks_than_awgn_at_the_same_average_snr() -> None:
    """Same code, same average Es/N0, same seed: a codeword spanning ~2 fading blocks fails far
    more often (deep fades) than on AWGN, where this point is past the waterfall."""
    m, k, esn0 = mcs.get("qpsk-r1/2"), 256, 4.0
    awgn = bler_sweep.simulate_point(m, k, esn0, np.random.default_rng(5), max_blocks=200, min_errors=200)
    faded = bler_sweep.simulate_point(
        m, k, esn0, np.random.default_rng(5), max_blocks=200, min_errors=200, channel=bler.channel_key("rayleigh", 128)
    )
    assert awgn[0] == faded[0] == 200
    assert awgn[1] <= 2 and faded[1] >= 20  # diversity ~2: BLER of order 10 % here


def test_packaged_table_has_fading_curves_that_need_more_snr_than_awgn() -> None:
    table = bler.default_table()
    fading = bler.channel_key("rayleigh", 128)
    assert table.channels() == ["awgn", "rayleigh-L1", "rayleigh-L4", "rayleigh-L16", fading]
    for m in mcs.MCS_TABLE:
        for k in (320, 8448):
            awgn_db = table.curve(m.name, k).required_esn0_db(0.01)
            fading_db = table.curve(m.name, k, fading).required_esn0_db(0.01)
            assert fading_db > awgn_db + 1.0, (m.name, k, awgn_db, fading_db)
        # fewer symbols per fade, more diversity per codeword: never more SNR needed (0.5 dB grid)
        needs = [table.curve(m.name, 8448, ch).required_esn0_db(0.01) for ch in table.channels()[1:]]
        assert needs == sorted(needs) and needs[0] > table.curve(m.name, 8448).required_esn0_db(0.01), (m.name, needs)


def _faded(name="qpsk-r1/2", k=320):
    return bler.BlerCurve(
        name,
        k,
        mcs.get(name).codeword_bits(k),
        [0.0, 5.0, 10.0, 15.0],
        [100] * 4,
        [100, 90, 60, 10],
        channel=bler.channel_key("rayleigh", 128),
    )


def test_fading_curves_of_long_codes_never_serve_a_short_one() -> None:
    """A caption (k = 632) on fast fading must not read curves measured only at k = 8448 (a long
    code is stronger): the next longer block length with short-code curves serves it."""

    def faded(length, k):
        return bler.BlerCurve(
            "qpsk-r1/2",
            k,
            mcs.get("qpsk-r1/2").codeword_bits(k),
            [0.0],
            [1],
            [1],
            channel=bler.channel_key("rayleigh", length),
        )

    table = bler.BlerTable([faded(4, 8448), faded(128, 320), faded(128, 8448)])
    assert table.channel_for("rayleigh", 2, k=632) == "rayleigh-L128"
    assert table.channel_for("rayleigh", 2, k=8413) == "rayleigh-L4"
    assert table.channel_for("rayleigh", 2) == "rayleigh-L4"
    assert table.channel_for("rayleigh", 200, k=632) == "rayleigh-L128"  # beyond every measurement
