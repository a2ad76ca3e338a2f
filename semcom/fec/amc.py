"""Adaptive modulation and coding: per packet and per field, the MCS the channel can afford.

Rule (as 5G link adaptation, without HARQ): at the reported Es/N0, take the MCS with the highest
spectral efficiency whose BLER (from the measured table, `semcom.fec.bler`) is at most the
field's target. The caption gets a stricter target than the latent (unequal error protection):
a lost caption loses the image's meaning, while a failed latent segment touches about 1% of the
values, and even its decoded bits are mostly right (docs/fec.md, "Erasures").

When no MCS meets the target, or the best one needs more channel symbols than the airtime
budget, `choose` returns None: the latent is dropped (text-only reconstruction). The default
budget is the airtime of the *uncoded* 16-QAM float16 latent, 4 symbols per latent value
(`SEMCOM_AMC_SYMBOLS_PER_VALUE`): float16 keeps the latent essentially lossless at a quarter of
the paper's float64 airtime, so a coded latent that needs more airtime than that has lost its
point; and a quarter of the paper's symbols is the goal this project measures against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from semcom.config import get
from semcom.fec import segmentation
from semcom.fec.bler import AWGN, BlerTable, default_table
from semcom.fec.codewords import effective_fading_block_length
from semcom.fec.mcs import MCS_TABLE, Mcs

if TYPE_CHECKING:
    from semcom.link.types import ChannelConfig

FIELDS = ("caption", "latent")
_TARGET_SETTING = {"caption": "SEMCOM_AMC_TARGET_BLER_CAPTION", "latent": "SEMCOM_AMC_TARGET_BLER_LATENT"}


@dataclass(frozen=True)
class McsChoice:
    """An MCS applied to one field: its segmentation, airtime and expected segment BLER."""

    mcs: Mcs
    field: str
    plan: segmentation.SegmentPlan
    esn0_db: float
    expected_bler: float  # per segment, from the BLER table at esn0_db
    target_bler: float
    table_channel: str = "awgn"  # the BLER-table channel whose curves gave expected_bler

    @property
    def codeword_bits(self) -> int:
        return self.mcs.codeword_bits(self.plan.k)

    @property
    def coded_bits(self) -> int:
        return self.plan.segments * self.codeword_bits

    @property
    def symbols(self) -> int:
        return self.plan.segments * self.mcs.symbols(self.plan.k)

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "mcs": self.mcs.name,
            "spectral_efficiency": round(self.mcs.spectral_efficiency, 4),
            "esn0_db": self.esn0_db,
            "info_bits": self.plan.info_bits,
            "segments": self.plan.segments,
            "segment_k": self.plan.k,
            "crc": self.plan.crc,
            "codeword_bits": self.codeword_bits,
            "symbols": self.symbols,
            "expected_bler": self.expected_bler,
            "target_bler": self.target_bler,
            "table_channel": self.table_channel,
        }


def check_field(field: str) -> None:
    if field not in FIELDS:
        raise ValueError(f"field must be one of {FIELDS}, got {field!r}")


def target_bler(field: str) -> float:
    """The field's default segment-BLER target (`SEMCOM_AMC_TARGET_BLER_CAPTION` / `_LATENT`)."""
    check_field(field)
    return _check_target(get(_TARGET_SETTING[field]))


def _check_target(value: float) -> float:
    if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise ValueError(f"target BLER must be in (0, 1), got {value!r}")
    return float(value)


def latent_airtime_budget(num_values: int, symbols_per_value: float | None = None) -> int:
    """Default airtime budget (channel symbols) for a latent of `num_values` values: the uncoded
    16-QAM float16 latent, `SEMCOM_AMC_SYMBOLS_PER_VALUE` (4) symbols per value."""
    if int(num_values) != num_values or num_values <= 0:
        raise ValueError(f"num_values must be a positive integer, got {num_values!r}")
    per_value = get("SEMCOM_AMC_SYMBOLS_PER_VALUE") if symbols_per_value is None else symbols_per_value
    if not per_value > 0:
        raise ValueError(f"symbols per value must be > 0, got {per_value!r}")
    return int(math.floor(num_values * per_value))


def evaluate(
    mcs: Mcs,
    field: str,
    n_info_bits: int,
    esn0_db: float,
    target: float | None = None,
    table: BlerTable | None = None,
    channel: str = AWGN,
) -> McsChoice:
    """`mcs` applied to a field of `n_info_bits` bits at `esn0_db`: airtime and expected BLER
    from the `channel` curves of the table (a `semcom.fec.bler.channel_key`)."""
    check_field(field)
    if not math.isfinite(esn0_db):
        raise ValueError(f"Es/N0 must be finite, got {esn0_db!r}")
    plan = segmentation.plan(n_info_bits)
    table = default_table() if table is None else table
    return McsChoice(
        mcs=mcs,
        field=field,
        plan=plan,
        esn0_db=float(esn0_db),
        expected_bler=table.bler(mcs.name, plan.k, esn0_db, channel),
        target_bler=target_bler(field) if target is None else _check_target(target),
        table_channel=channel,
    )


def choose(
    snr_esn0_db: float,
    field: str,
    n_info_bits: int,
    airtime_budget_symbols: int | None = None,
    target_bler: float | None = None,
    table: BlerTable | None = None,
    channel: str = AWGN,
) -> McsChoice | None:
    """The highest-throughput MCS whose segment BLER at `snr_esn0_db` (Es/N0, dB) is at most the
    target (default: the field's, see `target_bler`), or None when no MCS meets it or the best
    one needs more than `airtime_budget_symbols` channel symbols (None = no budget).

    `channel` picks the table's curves (`BlerTable.channel_for` maps a link's channel model to
    them); an MCS without a curve there is never chosen. Less efficient MCS need *more*
    symbols, so when the best reliable MCS breaks the budget, every reliable one does: None
    means "cannot carry it" and the latent is dropped.
    """
    if airtime_budget_symbols is not None and not (
        int(airtime_budget_symbols) == airtime_budget_symbols and airtime_budget_symbols > 0
    ):
        raise ValueError(f"airtime_budget_symbols must be a positive integer or None, got {airtime_budget_symbols!r}")
    table = default_table() if table is None else table
    measured = set(table.mcs_names(channel))  # an MCS the table never measured is never vouched for
    for mcs in sorted(MCS_TABLE, key=lambda m: m.spectral_efficiency, reverse=True):
        if mcs.name not in measured:
            continue
        choice = evaluate(mcs, field, n_info_bits, snr_esn0_db, target_bler, table, channel)
        if choice.expected_bler <= choice.target_bler:
            if airtime_budget_symbols is not None and choice.symbols > airtime_budget_symbols:
                return None
            return choice
    return None


def link_channel(
    model: str, fading_block_length: int, segments: int = 1, table: BlerTable | None = None, k: int | None = None
) -> str:
    """The table channel serving a field of `segments` codewords of `k` bits on a link with
    `model` (ChannelConfig.model) and fading block length: the coded link interleaves the
    codewords, so on fading each one sees `semcom.fec.codewords.effective_fading_block_length`
    symbols per gain (`BlerTable.channel_for` says which measured curves stand in for that)."""
    table = default_table() if table is None else table
    if model != "rayleigh":
        return table.channel_for(model)
    return table.channel_for(model, effective_fading_block_length(fading_block_length, segments), k)


def field_channel(cfg: ChannelConfig, n_info_bits: int, table: BlerTable | None = None) -> str:
    """`link_channel` for a field of `n_info_bits` bits on the link `cfg`
    describes: the one rule the drop policy and the coded link's MCS selection share."""
    plan = segmentation.plan(n_info_bits)
    return link_channel(cfg.model, cfg.fading_block_length, plan.segments, table, plan.k)


#: The lowest-rate MCS: the fallback when nothing meets the target (the caption always goes).
MOST_ROBUST: Mcs = min(MCS_TABLE, key=lambda m: m.spectral_efficiency)
