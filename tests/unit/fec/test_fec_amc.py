"""AMC: the highest-throughput MCS meeting the field's BLER target, or a drop."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.fec import amc, bler, mcs


def _step_table(edge_db=lambda i: 2.0 * i, k=8448) -> bler.BlerTable:
    """MCS i fails completely below edge_db(i) and has BLER 0.005 at the edge, 0 above."""
    curves = []
    for i, m in enumerate(mcs.MCS_TABLE):
        e = edge_db(i)
        curves.append(bler.BlerCurve(m.name, k, m.codeword_bits(k), [e - 0.5, e, e + 0.5], [1000] * 3, [1000, 5, 0]))
    return bler.BlerTable(curves)


LATENT_BITS = 8 * 32 * 64 * 64  # int8 TAEF2 latent


def test_picks_the_fastest_mcs_that_meets_the_target() -> None:
    table = _step_table()
    for i, m in enumerate(mcs.MCS_TABLE):
        choice = amc.choose(2.0 * i + 0.1, "latent", LATENT_BITS, target_bler=0.01, table=table)
        assert choice.mcs == m and choice.expected_bler <= 0.01
        assert choice.symbols == choice.plan.segments * m.symbols(choice.plan.k)
    assert amc.choose(-1.0, "latent", LATENT_BITS, target_bler=0.01, table=table) is None  # nothing works


def test_caption_target_is_stricter_than_the_latent_one(monkeypatch) -> None:
    assert amc.target_bler("caption") < amc.target_bler("latent")
    table = _step_table()
    at_edge = 2.0 * 5  # MCS 5 has BLER 0.005 here: enough for the latent (0.01), not the caption (0.001)
    assert amc.choose(at_edge, "latent", LATENT_BITS, table=table).mcs == mcs.MCS_TABLE[5]
    assert amc.choose(at_edge, "caption", LATENT_BITS, table=table).mcs == mcs.MCS_TABLE[4]
    monkeypatch.setenv("SEMCOM_AMC_TARGET_BLER_CAPTION", "0.01")
    assert amc.choose(at_edge, "caption", LATENT_BITS, table=table).mcs == mcs.MCS_TABLE[5]


def test_airtime_budget_drops_what_does_not_fit() -> None:
    table = _step_table()
    choice = amc.choose(7.0, "latent", LATENT_BITS, table=table, target_bler=0.01)
    assert amc.choose(7.0, "latent", LATENT_BITS, choice.symbols, table=table, target_bler=0.01) == choice
    assert amc.choose(7.0, "latent", LATENT_BITS, choice.symbols - 1, table=table, target_bler=0.01) is None
    # default budget: uncoded 16-QAM float16, 4 symbols per value = 1/4 of the paper's float64
    assert amc.latent_airtime_budget(32 * 64 * 64) == 32 * 64 * 64 * 64 // 4 // 4
    with pytest.raises(ValueError):
        amc.latent_airtime_budget(0)
    with pytest.raises(ValueError):
        amc.choose(7.0, "latent", LATENT_BITS, 0, table=table)


def test_invalid_arguments_are_value_errors() -> None:
    table = _step_table()
    for kwargs in ({"field": "image"}, {"n_info_bits": 0}, {"target_bler": 1.5}, {"snr_esn0_db": float("nan")}):
        args = {"snr_esn0_db": 5.0, "field": "latent", "n_info_bits": 100, "table": table} | kwargs
        with pytest.raises(ValueError):
            amc.choose(**args)


def test_measured_table_low_snr_robust_or_drop_high_snr_fast() -> None:
    assert amc.choose(-8.0, "latent", LATENT_BITS) is None
    low = amc.choose(2.0, "latent", LATENT_BITS)
    assert low is not None and low.mcs.modulation == "qpsk"
    assert amc.choose(30.0, "latent", LATENT_BITS).mcs.name == "64qam-r5/6"
    assert amc.choose(30.0, "caption", 616).mcs.name == "64qam-r5/6"
    # throughput never falls as the SNR rises
    se = [getattr(amc.choose(s, "latent", LATENT_BITS), "mcs", None) for s in np.arange(-4.0, 24.0, 0.5)]
    values = [m.spectral_efficiency if m else 0.0 for m in se]
    assert values == sorted(values)
    # the default budget drops an int8 latent only where even the fastest reliable MCS needs more airtime
    budget = amc.latent_airtime_budget(32 * 64 * 64)
    assert amc.choose(2.0, "latent", LATENT_BITS, budget) is None  # QPSK at 2 dB: > 4 symbols per value
    assert amc.choose(14.0, "latent", LATENT_BITS, budget) is not None


def test_fading_link_reads_its_own_curves_and_picks_a_more_robust_mcs() -> None:
    """The same table holds AWGN curves and fading ones 6 dB worse: at one Es/N0 AMC picks a
    slower MCS for the fading link, and records which curves it read."""
    fading = bler.channel_key("rayleigh", 128)
    awgn_table = _step_table()
    fading_curves = [
        bler.BlerCurve(c.mcs, c.k, c.n, [x + 6.0 for x in c.esn0_db], c.blocks, c.block_errors, channel=fading)
        for c in awgn_table.curves
    ]
    table = bler.BlerTable(awgn_table.curves + fading_curves)
    esn0 = 2.0 * 6 + 0.1
    on_awgn = amc.choose(esn0, "latent", LATENT_BITS, target_bler=0.01, table=table)
    on_fading = amc.choose(esn0, "latent", LATENT_BITS, target_bler=0.01, table=table, channel=fading)
    assert on_awgn.mcs == mcs.MCS_TABLE[6] and on_awgn.table_channel == "awgn"
    assert on_fading.mcs == mcs.MCS_TABLE[3] and on_fading.to_dict()["table_channel"] == fading
    assert amc.link_channel("rayleigh", 128, table=table) == fading
    assert amc.link_channel("bsc", 128, table=table) == amc.link_channel("awgn", 128, table=table) == "awgn"
    assert amc.link_channel("rayleigh", 128, table=awgn_table) == "awgn"  # no fading curves at all


def test_interleaved_codewords_read_the_curves_of_their_effective_fading_block_length() -> None:
    table = bler.BlerTable([_faded_curve(length) for length in (1, 2, 128)])
    assert amc.link_channel("rayleigh", 128, 1, table) == "rayleigh-L128"  # one codeword: no interleaving gain
    assert amc.link_channel("rayleigh", 128, 125, table) == "rayleigh-L2"  # 125 codewords: 2 symbols per fade
    assert amc.link_channel("rayleigh", 128, 250, table) == "rayleigh-L1"
    assert amc.link_channel("rayleigh", 128, 40, table) == "rayleigh-L128"  # 4 per fade: the next measured above
    assert amc.link_channel("rayleigh", 512, 1, table) == "rayleigh-L128"  # beyond every measurement: the longest


def _faded_curve(length: int) -> bler.BlerCurve:
    m = mcs.MCS_TABLE[0]
    return bler.BlerCurve(
        m.name, 8448, m.codeword_bits(8448), [0.0, 1.0], [10, 10], [10, 0], channel=bler.channel_key("rayleigh", length)
    )


def test_an_mcs_the_table_never_measured_is_never_chosen() -> None:
    full = _step_table()
    partial = bler.BlerTable([c for c in full.curves if c.mcs != mcs.MCS_TABLE[6].name])
    assert amc.choose(12.1, "latent", LATENT_BITS, target_bler=0.01, table=full).mcs == mcs.MCS_TABLE[6]
    assert amc.choose(12.1, "latent", LATENT_BITS, target_bler=0.01, table=partial).mcs == mcs.MCS_TABLE[5]
    assert amc.choose(12.1, "latent", LATENT_BITS, target_bler=0.01, table=partial, channel="rayleigh-L128") is None
