"""The MCS table: names, spectral efficiencies, rate matching."""

from __future__ import annotations

from fractions import Fraction

import pytest

from semcom.fec import mcs


def test_table_spans_qpsk_to_64qam_and_rates_one_third_to_five_sixths() -> None:
    table = mcs.MCS_TABLE
    assert 10 <= len(table) <= 15
    assert {m.modulation for m in table} == {"qpsk", "16qam", "64qam"}
    assert min(m.rate for m in table) == Fraction(1, 3) and max(m.rate for m in table) == Fraction(5, 6)
    se = [m.spectral_efficiency for m in table]
    assert se == sorted(se) and len(set(se)) == len(se)  # most robust first, no ties
    assert mcs.get("16qam-r1/2").spectral_efficiency == 2.0
    assert mcs.get("64qam-r5/6").spectral_efficiency == pytest.approx(5.0)


@pytest.mark.parametrize("name", mcs.names())
def test_rate_matching_gives_whole_symbols_at_no_less_than_the_nominal_rate(name: str) -> None:
    m = mcs.get(name)
    for k in (24, 320, 632, 8413, 8448):
        n = m.codeword_bits(k)
        assert n % m.bits_per_symbol == 0
        assert k / n >= float(m.rate)  # never below (5G BG1 rejects r < 1/3)
        assert k / n < float(m.rate) * (1 + 2 * m.bits_per_symbol / n)  # but only by rounding
        assert m.symbols(k) == n // m.bits_per_symbol


def test_lookup_errors_name_the_valid_choices() -> None:
    with pytest.raises(ValueError, match="qpsk-r1/3"):
        mcs.get("8psk-r1/2")
    with pytest.raises(ValueError):
        mcs.get(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mcs.get("qpsk-r1/2").codeword_bits(0)
