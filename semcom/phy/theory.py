"""Closed-form bit and symbol error rates of Gray-labelled square QAM (and BPSK).

BER of square M-QAM, exact for Gray labelling over AWGN: K. Cho and D. Yoon, "On the general BER
expression of one- and two-dimensional amplitude modulations", IEEE Trans. Commun. 50(7), 2002.
It is a finite sum of Q-functions, ``Pb = sum_i c_i Q(sqrt(beta_i * Eb/N0))``; the same
terms averaged over an exponentially distributed SNR give the exact BER over Rayleigh fading with
perfect-CSI equalisation, via ``E[Q(sqrt(beta g))] = (1 - sqrt(beta g_mean / (2 + beta g_mean))) / 2``.

All functions take Eb/N0 in dB (per information bit of an uncoded link) and accept scalars or arrays.
`bits_per_symbol` is 1 (BPSK) or even (2 QPSK, 4 16-QAM, 6 64-QAM, 8 256-QAM, up to 16).

The complementary error function is numpy-only (W. J. Cody, "Rational Chebyshev approximations
for the error function", Math. Comp. 23(107), 1969; the CALERF coefficients of netlib's SPECFUN),
so the core install needs no scipy.
"""

from __future__ import annotations

from functools import cache
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.phy.snr import DbResult, db_to_linear

# Cody's rational approximations: erf on |x| <= 0.46875, erfc on (0.46875, 4] and on (4, inf)
_ERF_A = (
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
    1.85777706184603153e-1,
)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_C = (
    5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
    8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
    2.15311535474403846e-8,
)  # fmt: skip
_ERFC_D = (
    1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
    3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03,
)  # fmt: skip
_ERFC_P = (
    3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
    6.58749161529837803e-4, 1.63153871373020978e-2,
)  # fmt: skip
_ERFC_Q = (
    2.56852019228982242e00,
    1.87295284992346725e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_ERFC_ZERO_ABOVE = 27.3  # erfc(27.3) < 1e-325: underflows to 0 in float64
_RSQRT_PI = 0.5641895835477562869480794515607725858440


def _ratio(z: NDArray[np.float64], num: tuple[float, ...], den: tuple[float, ...], lead: float) -> NDArray[np.float64]:
    """Cody's nested evaluation (lead*z + num[0]) z + ... + num[-1] over (z + den[0]) z + ... + den[-1]."""
    xnum, xden = lead * z, z
    for a, b in zip(num[:-1], den[:-1]):
        xnum, xden = (xnum + a) * z, (xden + b) * z
    out: NDArray[np.float64] = (xnum + num[-1]) / (xden + den[-1])
    return out


@overload
def erfc(x: float) -> float: ...
@overload
def erfc(x: ArrayLike) -> DbResult: ...
def erfc(x: ArrayLike) -> DbResult:
    """Complementary error function, elementwise, relative error ~1e-15 on the float64 range."""
    xs = np.asarray(x, dtype=np.float64)
    flat = np.atleast_1d(xs).ravel()
    y = np.abs(flat)
    out = np.full(flat.shape, np.nan)
    small = y <= 0.46875
    z = y[small] ** 2
    out[small] = 1.0 - flat[small] * _ratio(z, _ERF_A[:4], _ERF_B, _ERF_A[4])
    mid = (y > 0.46875) & (y <= 4.0)
    out[mid] = _ratio(y[mid], _ERFC_C[:8], _ERFC_D, _ERFC_C[8])
    big = (y > 4.0) & (y < _ERFC_ZERO_ABOVE)
    z = 1.0 / y[big] ** 2
    out[big] = (_RSQRT_PI - z * _ratio(z, _ERFC_P[:5], _ERFC_Q, _ERFC_P[5])) / y[big]
    tail = mid | big  # times exp(-x^2), split so that x^2 loses no bits: x^2 = s^2 + (x - s)(x + s)
    s = np.trunc(y[tail] * 16.0) / 16.0
    out[tail] *= np.exp(-s * s) * np.exp(-(y[tail] - s) * (y[tail] + s))
    out[y >= _ERFC_ZERO_ABOVE] = 0.0
    negative = (flat < 0) & ~small
    out[negative] = 2.0 - out[negative]
    if xs.ndim == 0:
        return float(out[0])
    return out.reshape(xs.shape)


@overload
def q_function(x: float) -> float: ...
@overload
def q_function(x: ArrayLike) -> DbResult: ...
def q_function(x: ArrayLike) -> DbResult:
    """Gaussian tail probability Q(x) = P(N(0,1) > x) = erfc(x / sqrt 2) / 2."""
    out = 0.5 * erfc(np.asarray(x, dtype=np.float64) / np.sqrt(2.0))
    return float(out) if np.ndim(out) == 0 else out


def _check_bits_per_symbol(bits_per_symbol: int) -> int:
    k = int(bits_per_symbol)
    if k != bits_per_symbol or not (k == 1 or (k >= 2 and k % 2 == 0)) or k > 16:
        raise ValueError(f"bits_per_symbol must be 1 (BPSK) or even in [2, 16] (square QAM), got {bits_per_symbol!r}")
    return k


@cache
def qam_ber_terms(bits_per_symbol: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(c, beta)`` with ``Pb(g) = sum_i c_i Q(sqrt(beta_i g))``, g = Eb/N0 linear (Cho & Yoon 2002).

    Returned arrays are read-only (they are cached).
    """
    k = _check_bits_per_symbol(bits_per_symbol)
    if k == 1:  # BPSK: Pb = Q(sqrt(2 g))
        coef, beta = np.array([1.0]), np.array([2.0])
    else:
        m = 2**k
        side = 2 ** (k // 2)  # sqrt(M) PAM levels per axis
        coef = np.zeros(side)
        for j in range(1, k // 2 + 1):  # the k/2 bit positions of one axis (formula terms, not data)
            i = np.arange(side - side // 2**j)  # i = 0 .. (1 - 2^-j) sqrt(M) - 1
            step = i * 2 ** (j - 1)
            sign = np.where((step // side) % 2 == 0, 1.0, -1.0)
            weight = 2 ** (j - 1) - (2 * step + side) // (2 * side)  # 2^(j-1) - floor(i 2^(j-1)/sqrt(M) + 1/2)
            np.add.at(coef, i, sign * weight)
        # P_b = 1/(k/2) * 1/sqrt(M) * sum w_i erfc((2i+1) sqrt(3k g / (2(M-1)))), erfc(x) = 2 Q(x sqrt 2)
        coef = coef * 2.0 / (side * (k // 2))
        beta = (2.0 * np.arange(side) + 1.0) ** 2 * 3.0 * k / (m - 1)
        keep = coef != 0
        coef, beta = coef[keep], beta[keep]
    coef.setflags(write=False)
    beta.setflags(write=False)
    return coef, beta


@overload
def ber_qam_awgn(bits_per_symbol: int, ebn0_db: float) -> float: ...
@overload
def ber_qam_awgn(bits_per_symbol: int, ebn0_db: ArrayLike) -> DbResult: ...
def ber_qam_awgn(bits_per_symbol: int, ebn0_db: ArrayLike) -> DbResult:
    """Exact BER of Gray square QAM (or BPSK) over AWGN at Eb/N0 `ebn0_db`."""
    coef, beta = qam_ber_terms(_check_bits_per_symbol(bits_per_symbol))
    g = np.asarray(db_to_linear(ebn0_db), dtype=np.float64)
    out = np.sum(coef * q_function(np.sqrt(beta * g[..., None])), axis=-1)
    return float(out) if out.ndim == 0 else out


@overload
def ser_qam_awgn(bits_per_symbol: int, ebn0_db: float) -> float: ...
@overload
def ser_qam_awgn(bits_per_symbol: int, ebn0_db: ArrayLike) -> DbResult: ...
def ser_qam_awgn(bits_per_symbol: int, ebn0_db: ArrayLike) -> DbResult:
    """Exact SER of square QAM (or BPSK) over AWGN: 1 - (1 - 2(1 - 1/sqrt M) Q(sqrt(3 Es/N0 / (M-1))))^2."""
    k = _check_bits_per_symbol(bits_per_symbol)
    g = np.asarray(db_to_linear(ebn0_db), dtype=np.float64)
    if k == 1:
        out = np.asarray(q_function(np.sqrt(2.0 * g)))
    else:
        m = 2**k
        p_axis = 2.0 * (1.0 - 2.0 ** (-k / 2)) * q_function(np.sqrt(3.0 * k * g / (m - 1)))
        out = p_axis * (2.0 - p_axis)  # = 1 - (1 - p)^2 without cancellation at high SNR
    return float(out) if out.ndim == 0 else out


@overload
def ber_qam_rayleigh(bits_per_symbol: int, ebn0_db: float) -> float: ...
@overload
def ber_qam_rayleigh(bits_per_symbol: int, ebn0_db: ArrayLike) -> DbResult: ...
def ber_qam_rayleigh(bits_per_symbol: int, ebn0_db: ArrayLike) -> DbResult:
    """Exact average BER of Gray square QAM over Rayleigh fading, perfect-CSI equalisation.

    `ebn0_db` is the *average* Eb/N0 (E|h|^2 = 1). Holds for any fading block length: block
    length changes how errors cluster, not their mean.
    """
    coef, beta = qam_ber_terms(_check_bits_per_symbol(bits_per_symbol))
    g = np.asarray(db_to_linear(ebn0_db), dtype=np.float64)[..., None] * beta
    out = np.sum(coef * 0.5 * (1.0 - np.sqrt(g / (2.0 + g))), axis=-1)
    return float(out) if out.ndim == 0 else out
