"""The modulation and coding scheme (MCS) table: Gray QAM order x 5G NR LDPC code rate.

Modelled on the 5G NR MCS/CQI tables (TS 38.214 Table 5.1.3.1-1): QPSK, 16-QAM and 64-QAM with
code rates from 1/3 to 5/6, ordered by spectral efficiency (information bits per channel symbol).
Rates are simple fractions rather than the 38.214 x/1024 values so that names stay readable
("16qam-r2/3"); 5G rate matching realises any rate k/n, so nothing is lost. Each entry has a
distinct spectral efficiency, so "highest throughput" is unambiguous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from semcom.link.types import MODULATIONS


@dataclass(frozen=True)
class Mcs:
    """One MCS: a square Gray QAM constellation and an LDPC code rate."""

    modulation: str  # a key of semcom.link.types.MODULATIONS ("qpsk", "16qam", "64qam")
    rate: Fraction  # nominal code rate k/n

    @property
    def name(self) -> str:
        return f"{self.modulation}-r{self.rate.numerator}/{self.rate.denominator}"

    @property
    def bits_per_symbol(self) -> int:
        return MODULATIONS[self.modulation]

    @property
    def spectral_efficiency(self) -> float:
        """Information bits per channel symbol (bits/s/Hz at one symbol per second per hertz)."""
        return float(self.rate) * self.bits_per_symbol

    def codeword_bits(self, k: int) -> int:
        """Rate-matched codeword length n for k information bits (CRC included).

        n is a multiple of the bits per symbol (whole QAM symbols, as the 5G bit interleaver
        needs) and is rounded *down*, so the realised rate k/n is never below the nominal one:
        5G base graph 1 rejects rates under 1/3, which rounding up would produce for r = 1/3.
        """
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        m = self.bits_per_symbol
        return (math.floor(k / float(self.rate)) // m) * m

    def symbols(self, k: int) -> int:
        """Channel symbols one codeword of k information bits occupies."""
        return self.codeword_bits(k) // self.bits_per_symbol


#: The table, ordered by increasing spectral efficiency (most robust first).
MCS_TABLE: tuple[Mcs, ...] = tuple(
    Mcs(modulation, Fraction(rate))
    for modulation, rates in (("qpsk", "1/3 1/2 2/3 3/4"), ("16qam", "1/2 2/3 3/4 5/6"), ("64qam", "2/3 3/4 5/6"))
    for rate in rates.split()
)

_BY_NAME: dict[str, Mcs] = {m.name: m for m in MCS_TABLE}


def names() -> list[str]:
    """All MCS names, most robust first."""
    return [m.name for m in MCS_TABLE]


def get(name: str) -> Mcs:
    """The MCS called `name` (e.g. "16qam-r1/2"); ValueError listing the valid names otherwise."""
    try:
        return _BY_NAME[name.strip().lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown MCS {name!r}; valid: {', '.join(names())}") from None
