"""Closed-form bit and symbol error rates of Gray-labelled square QAM (and BPSK).

BER of square M-QAM, exact for Gray labelling over AWGN: K. Cho and D. Yoon, "On the general BER
expression of one- and two-dimensional amplitude modulations", IEEE Trans. Commun. 50(7), 2002.
It is a finite sum of Q-functions, ``Pb = sum_i c_i Q(sqrt(beta_i * Eb/N0))``; the same
terms averaged over an exponentially distributed SNR give the exact BER over Rayleigh fading with
perfect-CSI equalisation, via ``E[Q(sqrt(beta g))] = (1 - sqrt(beta g_mean / (2 + beta g_mean))) / 2``.

All functions take Eb/N0 in dB (per information bit of an uncoded link) and accept scalars or arrays.
`bits_per_symbol` is 1 (BPSK) or even (2 QPSK, 4 16-QAM, 6 64-QAM, 8 256-QAM, up to 16).
"""

from __future__ import annotations

from functools import cache
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erfc

from semcom.phy.snr import DbResult, db_to_linear


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
