"""One field over a coded link: segment + CRC -> LDPC -> Gray QAM -> channel -> LLRs -> LDPC -> CRC.

This is the hook `semcom.link.transmission.transmit_packet` calls when ``ChannelConfig.fec ==
"ldpc"``. Modulation, channel and soft demapping are the project's own PHY (`semcom.phy`: Gray
QAM mapper, max-log LLR demapper in Sionna's logit convention, AWGN / Rayleigh / BSC); coding is
Sionna's 5G LDPC and CRC. Every codeword of a field travels as one batch.

SNR: the channel is defined by its Es/N0 (per channel symbol, unit-energy constellations). An
SNR given as Eb/N0 is converted with the configured *uncoded* modulation
(``ChannelConfig.modulation``), so one ChannelConfig describes one physical channel whether FEC
is on or off; Eb/N0 per information bit of the coded link is then Es/N0 - 10 log10(r m).

Channel interleaving: a field's C codewords go on the air symbol-interleaved (symbol s of
codeword c is the (s C + c)-th symbol sent), so on block fading with L symbols per gain each
codeword sees its symbols ceil(L / C) at a time under one gain instead of L: a 125-segment
latent gets about as many independent fades as it has symbols, while a one-codeword caption is
unchanged. On AWGN the order of symbols is immaterial. AMC reads the fading curves measured at
that effective block length (`effective_fading_block_length`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semcom.fec import amc, crc, ldpc, segmentation
from semcom.fec.codewords import run_codewords
from semcom.fec.mcs import Mcs
from semcom.fec.mcs import get as get_mcs
from semcom.link.types import ChannelConfig, FieldResult
from semcom.phy.mapping import as_bits


@dataclass(frozen=True)
class CodedResult:
    """What `transmit_coded` returns: decoded payload and which segments passed their CRC."""

    rx_bits: np.ndarray  # uint8 [B], the decoder's decisions (also for failed segments)
    segment_ok: np.ndarray  # bool [C], CRC passed
    erased: np.ndarray  # bool [B], True where the bit's segment failed its CRC
    plan: segmentation.SegmentPlan
    codeword_bits: int  # n per codeword
    symbols: int  # channel symbols of all codewords


def transmit_coded(
    bits: np.ndarray,
    mcs: Mcs,
    esn0_db: float,
    rng: np.random.Generator,
    model: str = "awgn",
    num_iter: int = ldpc.DEFAULT_NUM_ITER,
    fading_block_length: int = 128,
    max_segment_bits: int = segmentation.MAX_SEGMENT_BITS,
    interleave: bool = True,
) -> CodedResult:
    """Carry payload `bits` [B] over the channel with `mcs`: segment, CRC, LDPC, (interleave,)
    QAM, channel, decode, check."""
    bits = as_bits(bits)
    plan = segmentation.plan(bits.size, max_segment_bits)
    with_crc = crc.attach(segmentation.split(bits, plan), plan.crc)
    decided = run_codewords(with_crc, mcs, esn0_db, rng, model, num_iter, fading_block_length, plan.crc, interleave)
    payload, ok = crc.check(decided, plan.crc)
    n = mcs.codeword_bits(plan.k)
    return CodedResult(
        rx_bits=segmentation.join(payload, plan),
        segment_ok=ok,
        erased=segmentation.bit_mask(~ok, plan),
        plan=plan,
        codeword_bits=n,
        symbols=plan.segments * (n // mcs.bits_per_symbol),
    )


def select_mcs(cfg: ChannelConfig, field: str, n_info_bits: int, airtime_budget_symbols: int | None = None) -> Mcs:
    """The MCS `cfg` asks for: the named one, or with ``mcs == "auto"`` the AMC choice.

    When AMC finds no MCS meeting the field's BLER target within the budget it falls back to the
    most robust MCS: whether to send at all is the drop policy's decision
    (`semcom.link.policy`, which asks `amc.choose` itself), and the caption always goes.
    """
    if cfg.mcs.strip().lower() != "auto":
        return get_mcs(cfg.mcs)
    channel = amc.field_channel(cfg, n_info_bits)
    choice = amc.choose(cfg.snr_pair[0], field, n_info_bits, airtime_budget_symbols, channel=channel)
    return choice.mcs if choice is not None else amc.MOST_ROBUST


def transmit_field_coded(
    bits: np.ndarray,
    cfg: ChannelConfig,
    rng: np.random.Generator,
    field: str,
    *,
    airtime_budget_symbols: int | None = None,
) -> FieldResult:
    """One packet field ("caption" or "latent") over the coded link `cfg` describes.

    Returns the decoded bits (the decoder's best guess everywhere), the channel symbols and
    coded bits spent, the payload bit errors, the segment counts, and `erased`: True on every
    bit of a segment whose CRC failed (those bits are the decoder's unverified best guess; what
    a receiver should do with them is in `semcom.fec.erasure`).
    """
    amc.check_field(field)
    bits = as_bits(bits)
    if bits.size == 0:
        return FieldResult(np.zeros(0, np.uint8), 0, 0, 0, 0, 0, np.zeros(0, bool), "")
    chosen = select_mcs(cfg, field, bits.size, airtime_budget_symbols)
    coded = transmit_coded(bits, chosen, cfg.snr_pair[0], rng, cfg.model, fading_block_length=cfg.fading_block_length)
    return FieldResult(
        rx_bits=coded.rx_bits,
        symbols=coded.symbols,
        coded_bits=coded.plan.segments * coded.codeword_bits,
        bit_errors=int(np.count_nonzero(coded.rx_bits != bits)),
        segments=coded.plan.segments,
        segments_failed=int(np.count_nonzero(~coded.segment_ok)),
        erased=coded.erased,
        mcs=chosen.name,
    )
