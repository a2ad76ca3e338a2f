"""The transmitter's plan against the channel (semcom.eval.scenario) and the capacity of the
`shannon` link (semcom.eval.capacity)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from semcom.eval import capacity, scenario
from semcom.eval.baselines import BaselineVariant


def _cfg(**kw):
    base = {"snr_db": (0.0, 5.0, 10.0), "fec": "none", "mcs": "auto", "design_snr_db": None}
    base.update({"design_offset_db": None, "broadcast": False})
    base.update(kw)
    return SimpleNamespace(**base)


def test_design_snr_rules():
    assert scenario.design_snr_db(_cfg(), 5.0) == 5.0 and scenario.scenario_label(_cfg()) == "matched"
    assert scenario.design_snr_db(_cfg(design_snr_db=12.0), 5.0) == 12.0
    assert scenario.design_snr_db(_cfg(design_offset_db=3.0), 5.0) == 8.0
    assert scenario.scenario_label(_cfg(design_offset_db=3.0)) == "design +3 dB"
    broadcast = _cfg(broadcast=True)
    assert [scenario.design_snr_db(broadcast, s) for s in (0.0, 5.0, 10.0)] == [0.0, 0.0, 0.0]  # weakest receiver
    assert scenario.scenario_label(_cfg(broadcast=True, design_snr_db=5.0)) == "broadcast, design 5 dB"
    fields = scenario.row_fields(_cfg(design_offset_db=-2.0), 10.0)
    assert fields == {"design_snr_db": 8.0, "broadcast": False, "scenario": "design -2 dB"}
    assert scenario.identity(_cfg()) == {}  # matched runs keep their identity


def test_unsupported_plans_are_refused():
    with pytest.raises(ValueError, match="not an offset"):
        scenario.validate(_cfg(broadcast=True, design_offset_db=3.0), [])
    latent_cell = SimpleNamespace(mode="latent")
    with pytest.raises(ValueError, match="ldpc"):
        scenario.validate(_cfg(fec="ldpc", design_offset_db=3.0), [latent_cell])
    scenario.validate(_cfg(fec="ldpc", design_offset_db=3.0), [SimpleNamespace(mode="baseline")])
    scenario.validate(_cfg(fec="ldpc"), [latent_cell])  # matched: as before


def test_awgn_capacity_closed_form():
    assert capacity.capacity("awgn", 0.0) == pytest.approx(1.0)
    assert capacity.capacity("awgn", 10 * math.log10(3)) == pytest.approx(2.0)
    np.testing.assert_allclose(capacity.capacity("awgn", [0.0, 20.0]), [1.0, math.log2(101)])


def test_rayleigh_ergodic_capacity_against_quadrature_and_bounds():
    from scipy import integrate

    snrs_db = np.array([-30.0, -10.0, 0.0, 10.0, 20.0, 30.0])
    closed = capacity.capacity("rayleigh", snrs_db)
    for snr_db, value in zip(snrs_db, closed):
        snr = 10 ** (snr_db / 10)
        quad, _ = integrate.quad(lambda g, s=snr: math.log2(1 + g * s) * math.exp(-g), 0, np.inf, limit=200)
        assert value == pytest.approx(quad, rel=1e-6)
    awgn = capacity.capacity("awgn", snrs_db)
    assert np.all(closed < awgn)  # Jensen: fading costs capacity at equal mean SNR
    assert capacity.rayleigh_ergodic_capacity(1e-4) == pytest.approx(1e-4 / math.log(2), rel=1e-3)  # low-SNR limit
    with pytest.raises(ValueError):
        capacity.capacity("bsc", 10.0)


def test_shannon_link_option_parses():
    v = BaselineVariant.parse("webp:frac=1/16:shannon")
    assert v.link == "shannon" and v.spec == "webp:frac=1/16:shannon"
