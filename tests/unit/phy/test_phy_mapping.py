"""Gray square QAM: constellation geometry, mapper/demapper against brute force and Sionna."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.phy.mapping import qam

ALL_K = (1, 2, 4, 6, 8)


def _label_bits(k: int) -> np.ndarray:
    return ((np.arange(2**k)[:, None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.uint8)


def _nearest_point_bits(constellation, y: np.ndarray) -> np.ndarray:
    """Brute-force ML decisions: distance to all M points."""
    labels = np.argmin(np.abs(y[:, None] - constellation.points[None, :].astype(np.complex128)), axis=1)
    return _label_bits(constellation.bits_per_symbol)[labels].reshape(-1)


@pytest.mark.parametrize("k", ALL_K)
def test_unit_average_energy_and_distinct_points(k: int) -> None:
    points = qam(k).points.astype(np.complex128)
    assert points.shape == (2**k,)
    assert np.mean(np.abs(points) ** 2) == pytest.approx(1.0, abs=1e-6)
    assert len(np.unique(np.round(points, 5))) == 2**k
    if k == 1:
        assert np.allclose(points, [1.0, -1.0])


@pytest.mark.parametrize("k", ALL_K)
def test_gray_nearest_neighbours_differ_in_one_bit(k: int) -> None:
    points = qam(k).points.astype(np.complex128)
    dist = np.abs(points[:, None] - points[None, :])
    np.fill_diagonal(dist, np.inf)
    nearest = np.isclose(dist, dist.min(), rtol=1e-4)
    hamming = _label_bits(k)[:, None, :] != _label_bits(k)[None, :, :]
    assert nearest.sum() >= 2**k  # every point has at least one nearest neighbour
    assert np.all(hamming.sum(axis=2)[nearest] == 1)


def test_16qam_is_the_3gpp_formula() -> None:
    b = _label_bits(4).astype(float)
    expected = (
        (1 - 2 * b[:, 0]) * (2 - (1 - 2 * b[:, 2])) + 1j * (1 - 2 * b[:, 1]) * (2 - (1 - 2 * b[:, 3]))
    ) / np.sqrt(10)
    np.testing.assert_allclose(qam(4).points, expected, atol=1e-6)


@pytest.mark.parametrize("k", ALL_K)
@pytest.mark.parametrize("n_bits", [0, 1, 7, 8 * 6 * 11 + 5])
def test_noiseless_round_trip_with_padding(k: int, n_bits: int) -> None:
    c = qam(k)
    bits = np.random.default_rng(n_bits).integers(0, 2, n_bits, dtype=np.uint8)
    x = c.modulate(bits)
    assert x.dtype == np.complex64 and x.size == c.num_symbols(n_bits)
    np.testing.assert_array_equal(c.demodulate_hard(x, n_bits), bits)


@pytest.mark.parametrize("k", ALL_K)
def test_modulate_matches_label_table(k: int) -> None:
    c = qam(k)
    labels = np.random.default_rng(k).integers(0, 2**k, 999)
    bits = _label_bits(k)[labels].reshape(-1)
    np.testing.assert_array_equal(c.modulate(bits), c.points[labels])


@pytest.mark.parametrize("k", ALL_K)
def test_hard_demapper_equals_brute_force_nearest_point(k: int) -> None:
    c = qam(k)
    rng = np.random.default_rng(100 + k)
    x = c.modulate(rng.integers(0, 2, 4000 * k, dtype=np.uint8))
    # noise comparable to the spacing: many symbols land off their point, some beyond the edges
    y = (x + (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * 2 * c.spacing).astype(np.complex64)
    np.testing.assert_array_equal(c.demodulate_hard(y), _nearest_point_bits(c, y.astype(np.complex128)))


def test_hard_demapper_survives_non_finite_input() -> None:
    y = np.array([np.nan, np.inf, -np.inf, 1e30 + 1j * np.nan], dtype=np.complex64)
    bits = qam(4).demodulate_hard(y)
    assert bits.shape == (16,) and set(np.unique(bits)) <= {0, 1}


@pytest.mark.parametrize("k", ALL_K)
def test_exact_llr_equals_brute_force_over_all_points(k: int) -> None:
    c = qam(k)
    rng = np.random.default_rng(7 + k)
    n0 = 0.05
    y = c.modulate(rng.integers(0, 2, 300 * k, dtype=np.uint8)).astype(np.complex128)
    y += np.sqrt(n0 / 2) * (rng.standard_normal(y.size) + 1j * rng.standard_normal(y.size))
    metric = -(np.abs(y[:, None] - c.points[None, :].astype(np.complex128)) ** 2) / n0
    bits = _label_bits(k).astype(bool)
    expected = np.stack(
        [
            np.logaddexp.reduce(np.where(bits[:, j], metric, -np.inf), axis=1)
            - np.logaddexp.reduce(np.where(bits[:, j], -np.inf, metric), axis=1)
            for j in range(k)
        ],
        axis=1,
    ).reshape(-1)
    np.testing.assert_allclose(c.demodulate_llr(y, n0, "exact"), expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("k", ALL_K)
def test_maxlog_llr_sign_is_the_hard_decision(k: int) -> None:
    c = qam(k)
    rng = np.random.default_rng(11 + k)
    x = c.modulate(rng.integers(0, 2, 5000 * k, dtype=np.uint8))
    y = (x + (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * c.spacing).astype(np.complex64)
    llr = c.demodulate_llr(y, 0.1, "maxlog")
    np.testing.assert_array_equal((llr > 0).astype(np.uint8), c.demodulate_hard(y))


@pytest.mark.parametrize("k", ALL_K)
def test_maxlog_and_exact_agree_at_high_snr(k: int) -> None:
    c = qam(k)
    rng = np.random.default_rng(21 + k)
    n0 = 10 ** (-(25 + 3 * k) / 10)  # high SNR for this constellation
    x = c.modulate(rng.integers(0, 2, 2000 * k, dtype=np.uint8))
    y = x + np.sqrt(n0 / 2) * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)).astype(np.complex64)
    maxlog, exact = c.demodulate_llr(y, n0, "maxlog"), c.demodulate_llr(y, n0, "exact")
    # log-sum-exp exceeds the max by at most log(number of terms) = log(M/2) per bit set ...
    assert np.max(np.abs(exact - maxlog)) <= np.log(2 ** (k - 1)) + 1e-3
    # ... which is negligible next to LLRs of order 1/N0
    assert np.median(np.abs(exact - maxlog) / np.abs(maxlog)) < 1e-3
    np.testing.assert_array_equal(np.sign(exact), np.sign(maxlog))


def test_llr_per_symbol_noise_variance() -> None:
    c = qam(4)
    y = c.modulate(np.random.default_rng(0).integers(0, 2, 400, dtype=np.uint8))
    scalar = c.demodulate_llr(y, 0.2, "exact")
    per_symbol = c.demodulate_llr(y, np.full(y.size, 0.2), "exact")
    np.testing.assert_allclose(per_symbol, scalar, rtol=1e-6)
    doubled = c.demodulate_llr(y, np.full(y.size, 0.4), "maxlog")
    np.testing.assert_allclose(doubled, c.demodulate_llr(y, 0.2, "maxlog") / 2, rtol=1e-5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: qam(3),
        lambda: qam(10),
        lambda: qam("16qam"),
        lambda: qam(4).modulate(np.array([0, 1, 2])),
        lambda: qam(4).modulate(np.array([0.0, 1.0])),
        lambda: qam(4).modulate(np.array([-1, 0])),
        lambda: qam(4).demodulate_hard(np.zeros(2, np.complex64), n_bits=9),
        lambda: qam(4).demodulate_llr(np.zeros(2, np.complex64), 0.1, "app"),
        lambda: qam(4).demodulate_llr(np.zeros(2, np.complex64), 0.0),
        lambda: qam(4).demodulate_llr(np.zeros(2, np.complex64), np.ones(3)),
    ],
)
def test_bad_input_raises_value_error(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_boolean_bits_accepted() -> None:
    bits = np.random.default_rng(3).integers(0, 2, 64).astype(bool)
    np.testing.assert_array_equal(qam(4).modulate(bits), qam(4).modulate(bits.astype(np.uint8)))


# ---- against Sionna ---------------------------------------------------------------------------
@pytest.mark.parametrize("k", ALL_K)
def test_same_constellation_and_mapper_as_sionna(k: int) -> None:
    torch = pytest.importorskip("torch")
    mapping = pytest.importorskip("sionna.phy.mapping")
    ref = mapping.pam(1) if k == 1 else mapping.qam(k)
    np.testing.assert_allclose(qam(k).points, ref, atol=1e-6)
    bits = np.random.default_rng(k).integers(0, 2, 600 * k, dtype=np.uint8)
    theirs = mapping.Mapper("pam" if k == 1 else "qam", k, device="cpu")(torch.from_numpy(bits.astype(np.float32)))
    np.testing.assert_allclose(qam(k).modulate(bits), theirs.numpy(), atol=1e-6)


def test_ber_matches_sionna_chain_within_statistics() -> None:
    """Same bits, each chain with its own noise: both BERs agree with each other and theory."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("sionna.phy")
    from sionna.phy.channel import AWGN
    from sionna.phy.mapping import Demapper, Mapper
    from sionna.phy.utils import ebnodb2no

    from semcom.phy.channel import awgn
    from semcom.phy.snr import ebn0_db_to_n0
    from semcom.phy.theory import ber_qam_awgn

    n, ebn0_db = 400_000, 6.0
    bits = np.random.default_rng(5).integers(0, 2, n, dtype=np.uint8)
    c = qam(4)
    ours = np.count_nonzero(
        c.demodulate_hard(awgn(c.modulate(bits), ebn0_db_to_n0(ebn0_db, 4), np.random.default_rng(6)), n) != bits
    )
    torch.manual_seed(6)
    no = ebnodb2no(ebn0_db, 4, 1.0, device="cpu")
    with torch.inference_mode():
        tx = torch.from_numpy(bits.astype(np.float32))
        rx = Demapper("maxlog", "qam", 4, hard_out=True, device="cpu")(
            AWGN(device="cpu")(Mapper("qam", 4, device="cpu")(tx), no), no
        )
    theirs = np.count_nonzero(rx.numpy().astype(np.uint8) != bits)
    p = ber_qam_awgn(4, ebn0_db)
    sd = np.sqrt(n * p * (1 - p))
    assert abs(ours - n * p) < 5 * sd
    assert abs(theirs - n * p) < 5 * sd
    assert abs(ours - theirs) < 5 * np.sqrt(2) * sd
