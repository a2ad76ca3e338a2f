"""SNR conversions, each with its convention in its name (as Sionna's `ebnodb2no`).

Conventions used throughout semcom:

* ``Es/N0``: average energy per channel symbol over the noise power spectral density. Every
  constellation here has unit average symbol energy (Es = 1), so ``N0 = 10 ** (-esn0_db / 10)``
  is the variance of the complex noise sample (N0 / 2 per real dimension).
* ``Eb/N0``: energy per *information* bit. With ``bits_per_symbol`` coded bits per symbol and
  code rate ``r`` (1 for an uncoded link) one symbol carries ``r * bits_per_symbol`` information
  bits, so ``Es/N0 [dB] = Eb/N0 [dB] + 10 log10(r * bits_per_symbol)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

SNR_CONVENTIONS = ("esn0", "ebn0")

# A scalar in gives a float out; an array in gives a float64 array (a 0-d array gives a float).
DbResult = NDArray[np.float64] | float


def _check_rate(bits_per_symbol: float, code_rate: float) -> float:
    """Information bits per channel symbol, after validating both factors."""
    if not (isinstance(bits_per_symbol, (int, float, np.integer, np.floating)) and bits_per_symbol > 0):
        raise ValueError(f"bits_per_symbol must be a positive number, got {bits_per_symbol!r}")
    if not (isinstance(code_rate, (int, float, np.integer, np.floating)) and 0.0 < code_rate <= 1.0):
        raise ValueError(f"code_rate must be in (0, 1], got {code_rate!r}")
    return float(bits_per_symbol) * float(code_rate)


@overload
def db_to_linear(db: float) -> float: ...
@overload
def db_to_linear(db: ArrayLike) -> DbResult: ...
def db_to_linear(db: ArrayLike) -> DbResult:
    """10 ** (db / 10), for power ratios."""
    out = np.power(10.0, np.asarray(db, dtype=np.float64) / 10.0)
    return float(out) if out.ndim == 0 else out


@overload
def linear_to_db(ratio: float) -> float: ...
@overload
def linear_to_db(ratio: ArrayLike) -> DbResult: ...
def linear_to_db(ratio: ArrayLike) -> DbResult:
    """10 log10(ratio), for power ratios (ratio must be > 0)."""
    arr = np.asarray(ratio, dtype=np.float64)
    if np.any(~(arr > 0)):
        raise ValueError("a power ratio must be > 0 to be expressed in dB")
    out = 10.0 * np.log10(arr)
    return float(out) if out.ndim == 0 else out


@overload
def ebn0_db_to_esn0_db(ebn0_db: float, bits_per_symbol: float, code_rate: float = ...) -> float: ...
@overload
def ebn0_db_to_esn0_db(ebn0_db: ArrayLike, bits_per_symbol: float, code_rate: float = ...) -> DbResult: ...
def ebn0_db_to_esn0_db(ebn0_db: ArrayLike, bits_per_symbol: float, code_rate: float = 1.0) -> DbResult:
    """Es/N0 in dB from Eb/N0 (per information bit) in dB."""
    shift = 10.0 * math.log10(_check_rate(bits_per_symbol, code_rate))
    out = np.asarray(ebn0_db, dtype=np.float64) + shift
    return float(out) if out.ndim == 0 else out


@overload
def esn0_db_to_ebn0_db(esn0_db: float, bits_per_symbol: float, code_rate: float = ...) -> float: ...
@overload
def esn0_db_to_ebn0_db(esn0_db: ArrayLike, bits_per_symbol: float, code_rate: float = ...) -> DbResult: ...
def esn0_db_to_ebn0_db(esn0_db: ArrayLike, bits_per_symbol: float, code_rate: float = 1.0) -> DbResult:
    """Eb/N0 (per information bit) in dB from Es/N0 in dB."""
    shift = 10.0 * math.log10(_check_rate(bits_per_symbol, code_rate))
    out = np.asarray(esn0_db, dtype=np.float64) - shift
    return float(out) if out.ndim == 0 else out


@overload
def esn0_db_to_n0(esn0_db: float, es: float = ...) -> float: ...
@overload
def esn0_db_to_n0(esn0_db: ArrayLike, es: float = ...) -> DbResult: ...
def esn0_db_to_n0(esn0_db: ArrayLike, es: float = 1.0) -> DbResult:
    """Complex noise variance N0 for a given Es/N0 in dB (Es = 1 for our constellations)."""
    if not es > 0:
        raise ValueError(f"es must be > 0, got {es!r}")
    out = es * np.power(10.0, -np.asarray(esn0_db, dtype=np.float64) / 10.0)
    return float(out) if out.ndim == 0 else out


@overload
def ebn0_db_to_n0(ebn0_db: float, bits_per_symbol: float, code_rate: float = ..., es: float = ...) -> float: ...
@overload
def ebn0_db_to_n0(ebn0_db: ArrayLike, bits_per_symbol: float, code_rate: float = ..., es: float = ...) -> DbResult: ...
def ebn0_db_to_n0(ebn0_db: ArrayLike, bits_per_symbol: float, code_rate: float = 1.0, es: float = 1.0) -> DbResult:
    """Complex noise variance N0 for a given Eb/N0 in dB (equivalent of Sionna's `ebnodb2no`)."""
    return esn0_db_to_n0(ebn0_db_to_esn0_db(ebn0_db, bits_per_symbol, code_rate), es)


def snr_db_pair(snr_db: float, convention: str, bits_per_symbol: float, code_rate: float = 1.0) -> tuple[float, float]:
    """``(esn0_db, ebn0_db)`` of an SNR given in `convention` ("esn0" or "ebn0")."""
    if convention == "esn0":
        return float(snr_db), float(esn0_db_to_ebn0_db(snr_db, bits_per_symbol, code_rate))
    if convention == "ebn0":
        return float(ebn0_db_to_esn0_db(snr_db, bits_per_symbol, code_rate)), float(snr_db)
    raise ValueError(f"SNR convention must be one of {SNR_CONVENTIONS}, got {convention!r}")


@dataclass(frozen=True)
class Snr:
    """An SNR in dB that carries its convention, so no consumer has to guess what a float means.

    Built once where a number enters the system (a flag, a setting, a request field) and read by
    every consumer through `esn0_db` / `ebn0_db` with the link's bits per symbol and code rate.
    """

    db: float
    convention: str = "ebn0"

    def __post_init__(self) -> None:
        if self.convention not in SNR_CONVENTIONS:
            raise ValueError(f"SNR convention must be one of {SNR_CONVENTIONS}, got {self.convention!r}")
        if not isinstance(self.db, (int, float, np.integer, np.floating)) or isinstance(self.db, bool):
            raise ValueError(f"SNR must be a number of dB, got {self.db!r}")
        if math.isnan(self.db):
            raise ValueError("SNR must not be NaN")

    def esn0_db(self, bits_per_symbol: float, code_rate: float = 1.0) -> float:
        """Es/N0 in dB on a link with `bits_per_symbol` coded bits per symbol and `code_rate`."""
        return snr_db_pair(self.db, self.convention, bits_per_symbol, code_rate)[0]

    def ebn0_db(self, bits_per_symbol: float, code_rate: float = 1.0) -> float:
        """Eb/N0 (per information bit) in dB on that link."""
        return snr_db_pair(self.db, self.convention, bits_per_symbol, code_rate)[1]
