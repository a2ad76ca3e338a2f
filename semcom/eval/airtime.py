"""Airtime of digital fields and files on a link: the channel symbols a field of n bits takes
(uncoded, or LDPC-coded with the MCS AMC would pick), a semantic packet's symbols, and whether a
file of n bytes fits a symbol budget (`file_fits`, `max_file_bytes`). Used by the classical
baselines and the analog variants of the sweep to price what they send."""

from __future__ import annotations

from dataclasses import replace
from typing import Any


def field_symbols(n_bits: int, cfg: Any, field: str, airtime_budget: int | None = None) -> tuple[int, str]:
    """(channel symbols, MCS name or "") for a field of `n_bits` on the link `cfg` (ChannelConfig),
    as `semcom.link.transmission` / `semcom.fec.transmit.transmit_field_coded` would spend them."""
    from semcom.link.types import MODULATIONS

    if n_bits <= 0:
        return 0, ""
    if cfg.fec == "none":
        return -(-n_bits // MODULATIONS[cfg.modulation]), ""
    from semcom.fec import segmentation
    from semcom.fec.transmit import select_mcs

    mcs = select_mcs(cfg, field, n_bits, airtime_budget)
    plan = segmentation.plan(n_bits)
    return plan.segments * (mcs.codeword_bits(plan.k) // mcs.bits_per_symbol), mcs.name


def packet_symbols(caption_bytes: int, latent_bytes: int, cfg: Any) -> int:
    """Channel symbols of a semantic packet (caption + latent, latent always sent) on `cfg`: what
    the sweep's latent cell reports as `channel_symbols`."""
    return field_symbols(8 * caption_bytes, cfg, "caption")[0] + field_symbols(8 * latent_bytes, cfg, "latent")[0]


def reference_symbols(latent_values: int, modulation: str) -> int:
    """The int8 latent's uncoded channel symbols (its bits / the modulation's bits per symbol, caption
    not counted): the airtime unit of the regime map (`semcom.eval.regime`), recorded in every row,
    and of the budget rule frac=P/Q."""
    from semcom.link.types import MODULATIONS

    return -(-8 * int(latent_values) // MODULATIONS[modulation])


def latent_bytes_of(latent_values: int, encoding: str) -> int:
    from semcom.payload.latent import get_encoding

    return -(-latent_values * get_encoding(encoding).bits // 8)


def file_fits(cfg: Any, budget: int, robust: bool = False):
    """Predicate on a file's byte count: does it fit `budget` symbols on the file's link `cfg`?
    Coded with --mcs auto: an MCS meeting the target within the budget exists (`robust`: the most
    robust MCS fits it)."""
    from semcom.link.types import MODULATIONS

    if cfg.fec == "none":
        k = MODULATIONS[cfg.modulation]
        return lambda n: -(-8 * n // k) <= budget
    from semcom.fec import amc

    auto = cfg.mcs.strip().lower() == "auto"
    if not auto or robust:  # one MCS: the named one, or the most robust
        fixed = replace(cfg, mcs=amc.MOST_ROBUST.name) if auto else cfg
        return lambda n: n > 0 and field_symbols(8 * n, fixed, "caption")[0] <= budget
    esn0 = cfg.snr_pair[0]
    return lambda n: (
        n > 0 and amc.choose(esn0, "caption", 8 * n, budget, channel=amc.field_channel(cfg, 8 * n)) is not None
    )


def max_file_bytes(fits: Any, budget: int) -> int:
    """The largest byte count `fits` accepts (0: none), by bisection (a file's airtime grows with its
    size): no file is compressed to find it. No link carries more than 8 bits per symbol."""
    lo, hi = 0, max(1, int(budget))  # fits(lo) holds (0 bytes "fit"), hi bytes would need >= 8 bits/symbol
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo
