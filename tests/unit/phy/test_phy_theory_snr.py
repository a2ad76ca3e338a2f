"""Closed-form error rates and the named SNR conversions."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.phy import snr, theory

EBN0_GRID = np.arange(-2.0, 16.0, 0.5)


def _q(x):
    from scipy.stats import norm

    return norm.sf(x)


def test_16qam_ber_reproduces_the_reference_values() -> None:
    got = theory.ber_qam_awgn(4, [0.0, 5.0, 10.0])
    np.testing.assert_allclose(got, [0.14098, 0.041893, 0.0017542], rtol=5e-5)


def test_16qam_ber_and_ser_equal_the_settings_formulas() -> None:
    g = 10 ** (EBN0_GRID / 10)
    a = np.sqrt(0.8 * g)
    np.testing.assert_allclose(
        theory.ber_qam_awgn(4, EBN0_GRID), (3 * _q(a) + 2 * _q(3 * a) - _q(5 * a)) / 4, rtol=1e-12
    )
    np.testing.assert_allclose(
        theory.ser_qam_awgn(4, EBN0_GRID), 1 - (1 - 1.5 * _q(a)) ** 2, rtol=1e-9
    )  # reference cancels


@pytest.mark.parametrize("k", [1, 2])
def test_bpsk_and_qpsk_ber_is_q_of_sqrt_2_ebn0(k: int) -> None:
    g = 10 ** (EBN0_GRID / 10)
    np.testing.assert_allclose(theory.ber_qam_awgn(k, EBN0_GRID), _q(np.sqrt(2 * g)), rtol=1e-12)


def test_64qam_leading_term_is_the_textbook_approximation() -> None:
    # at high SNR Gray 64-QAM: Pb ~ (7/12) Q(sqrt(2/7 Eb/N0))
    g = 10 ** (18.0 / 10)
    assert theory.ber_qam_awgn(6, 18.0) == pytest.approx(7 / 12 * _q(np.sqrt(2 / 7 * g)), rel=1e-3)


def test_rayleigh_bpsk_closed_form() -> None:
    g = 10 ** (EBN0_GRID / 10)
    np.testing.assert_allclose(theory.ber_qam_rayleigh(1, EBN0_GRID), 0.5 * (1 - np.sqrt(g / (1 + g))), rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 4, 6, 8])
def test_error_rates_are_probabilities_decreasing_in_snr(k: int) -> None:
    for curve in (
        theory.ber_qam_awgn(k, EBN0_GRID),
        theory.ser_qam_awgn(k, EBN0_GRID),
        theory.ber_qam_rayleigh(k, EBN0_GRID),
    ):
        assert np.all((curve > 0) & (curve < 1)) and np.all(np.diff(curve) < 0)
    assert np.all(theory.ber_qam_rayleigh(k, EBN0_GRID) > theory.ber_qam_awgn(k, EBN0_GRID))
    # BER <= SER <= k * BER (a symbol error costs 1..k bit errors)
    assert np.all(theory.ber_qam_awgn(k, EBN0_GRID) <= theory.ser_qam_awgn(k, EBN0_GRID) + 1e-15)
    assert np.all(theory.ser_qam_awgn(k, EBN0_GRID) <= k * theory.ber_qam_awgn(k, EBN0_GRID) + 1e-15)


def test_scalar_in_scalar_out() -> None:
    assert isinstance(theory.ber_qam_awgn(4, 3.0), float)
    assert theory.q_function(0.0) == 0.5


@pytest.mark.parametrize("k", [0, 3, 5, 2.5, 18])
def test_theory_rejects_bad_bits_per_symbol(k) -> None:
    with pytest.raises(ValueError):
        theory.ber_qam_awgn(k, 0.0)


# ---- SNR conventions --------------------------------------------------------------------------
def test_esn0_is_ebn0_plus_10log10_bits_per_symbol_times_rate() -> None:
    assert snr.ebn0_db_to_esn0_db(10.0, 4) == pytest.approx(10 + 10 * np.log10(4))
    assert snr.ebn0_db_to_esn0_db(10.0, 4, code_rate=0.5) == pytest.approx(10 + 10 * np.log10(2))
    assert snr.ebn0_db_to_esn0_db(3.0, 1) == pytest.approx(3.0)
    np.testing.assert_allclose(snr.esn0_db_to_ebn0_db(snr.ebn0_db_to_esn0_db(EBN0_GRID, 6, 0.75), 6, 0.75), EBN0_GRID)


def test_noise_variance_conversions() -> None:
    assert snr.esn0_db_to_n0(0.0) == pytest.approx(1.0)
    assert snr.esn0_db_to_n0(10.0) == pytest.approx(0.1)
    assert snr.ebn0_db_to_n0(10.0, 4) == pytest.approx(0.1 / 4)
    assert snr.ebn0_db_to_n0(10.0, 4, 0.5) == pytest.approx(0.1 / 2)
    assert snr.linear_to_db(snr.db_to_linear(7.5)) == pytest.approx(7.5)


def test_snr_db_pair_reports_both_conventions() -> None:
    assert snr.snr_db_pair(10.0, "ebn0", 4) == pytest.approx((10 + 10 * np.log10(4), 10.0))
    assert snr.snr_db_pair(10.0, "esn0", 4) == pytest.approx((10.0, 10 - 10 * np.log10(4)))


def test_ebn0_to_n0_matches_sionna() -> None:
    pytest.importorskip("torch")
    utils = pytest.importorskip("sionna.phy.utils")
    for k, rate in [(1, 1.0), (4, 1.0), (6, 0.5), (8, 0.75)]:
        assert snr.ebn0_db_to_n0(4.0, k, rate) == pytest.approx(
            float(utils.ebnodb2no(4.0, k, rate, device="cpu")), rel=1e-6
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda: snr.ebn0_db_to_esn0_db(0.0, 0),
        lambda: snr.ebn0_db_to_esn0_db(0.0, 4, code_rate=0.0),
        lambda: snr.ebn0_db_to_esn0_db(0.0, 4, code_rate=1.5),
        lambda: snr.esn0_db_to_n0(0.0, es=0.0),
        lambda: snr.linear_to_db(0.0),
        lambda: snr.snr_db_pair(0.0, "snr", 4),
    ],
)
def test_snr_bad_input(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_erfc_matches_math_erfc_to_1e_12_relative() -> None:
    import math

    x = np.concatenate([np.linspace(-7.0, 26.5, 20001), [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 1e-300]])
    want = np.array([math.erfc(v) for v in x])
    got = theory.erfc(x)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_erfc_edges_scalars_and_shapes() -> None:
    assert isinstance(theory.erfc(0.5), float) and theory.erfc(0.0) == 1.0
    assert theory.erfc(40.0) == 0.0 and theory.erfc(np.inf) == 0.0
    assert theory.erfc(-40.0) == 2.0 and theory.erfc(-np.inf) == 2.0
    assert np.isnan(theory.erfc(np.nan))
    assert theory.erfc(np.zeros((2, 3))).shape == (2, 3)
