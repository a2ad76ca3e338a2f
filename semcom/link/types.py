"""Channel configuration and transmission report as the pure core sees them.

Mirror `semcom.v1.ChannelConfig` / `TransmissionReport` (proto/semcom/v1/channel.proto); the
service layer converts. Names of enums are lower-case strings here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom import config
from semcom.phy.mapping import MODULATIONS as MODULATIONS  # name -> bits/symbol, defined by the physical layer
from semcom.phy.snr import SNR_CONVENTIONS as SNR_CONVENTIONS  # "esn0" | "ebn0", defined with the conversions
from semcom.phy.snr import Snr, snr_db_pair

CHANNEL_MODELS = ("awgn", "rayleigh", "bsc", "none")
# "auto": AMC decides when the link is coded (fec="ldpc"), the SNR threshold when it is not.
LATENT_POLICIES = ("always", "threshold", "never", "amc", "auto")
FEC_SCHEMES = ("none", "ldpc")
# ChannelConfig field -> the setting that configures it when a command is not told: SEMCOM_<FIELD>
# (SEMCOM_SNR_DB, SEMCOM_FEC, ...), the model's SEMCOM_CHANNEL_MODEL
CHANNEL_SETTINGS = {
    name: f"SEMCOM_{'CHANNEL_MODEL' if name == 'model' else name.upper()}"
    for name in [
        "snr_db",
        "snr_convention",
        "modulation",
        "model",
        "fading_block_length",
        "latent_policy",
        "drop_threshold_db",
        "fec",
        "mcs",
    ]
}


def channel_settings(fields: Any = CHANNEL_SETTINGS, **given: Any) -> dict[str, Any]:
    """ChannelConfig field -> value of each of `fields`: the value `given` for it unless None, else
    its setting (CHANNEL_SETTINGS). ValueError names a malformed setting."""
    return {name: config.get(CHANNEL_SETTINGS[name]) if given.get(name) is None else given[name] for name in fields}


@dataclass(frozen=True)
class ChannelConfig:
    snr_db: float = 10.0
    snr_convention: str = "ebn0"  # "esn0" per channel symbol | "ebn0" per information bit
    modulation: str = "16qam"
    model: str = "awgn"
    seed: int | None = None  # None: fresh randomness per packet
    latent_policy: str = "auto"
    drop_threshold_db: float = 5.0  # same convention as snr_db; why 5 dB: docs/channel.md
    fec: str = "none"
    mcs: str = "auto"
    soft_demapping: bool = False
    fading_block_length: int = 128  # rayleigh: symbols per fading block (one gain per block)

    def __post_init__(self) -> None:
        if not math.isfinite(self.snr_db) or not -50.0 <= self.snr_db <= 100.0:
            raise ValueError(f"snr_db must be finite and in [-50, 100], got {self.snr_db}")
        if self.snr_convention not in SNR_CONVENTIONS:
            raise ValueError(f"snr_convention must be one of {SNR_CONVENTIONS}, got {self.snr_convention!r}")
        if self.modulation not in MODULATIONS:
            raise ValueError(f"modulation must be one of {tuple(MODULATIONS)}, got {self.modulation!r}")
        if self.model not in CHANNEL_MODELS:
            raise ValueError(f"model must be one of {CHANNEL_MODELS}, got {self.model!r}")
        if self.latent_policy not in LATENT_POLICIES:
            raise ValueError(f"latent_policy must be one of {LATENT_POLICIES}, got {self.latent_policy!r}")
        if not math.isfinite(self.drop_threshold_db):
            raise ValueError("drop_threshold_db must be finite")
        if self.fec not in FEC_SCHEMES:
            raise ValueError(f"fec must be one of {FEC_SCHEMES}, got {self.fec!r}")
        if self.seed is not None and not 0 <= self.seed < 2**64:
            raise ValueError("seed must be in [0, 2**64)")
        if not isinstance(self.fading_block_length, int) or self.fading_block_length < 1:
            raise ValueError(f"fading_block_length must be an integer >= 1, got {self.fading_block_length!r}")

    @property
    def snr(self) -> Snr:
        """The configured SNR with its convention (`snr_db` alone means nothing without it)."""
        return Snr(float(self.snr_db), self.snr_convention)

    @property
    def snr_pair(self) -> tuple[float, float]:
        """(Es/N0, Eb/N0) in dB of this channel: `snr_db` read in its convention with the configured
        modulation, coded or not (one ChannelConfig is one physical channel)."""
        return snr_db_pair(self.snr_db, self.snr_convention, MODULATIONS[self.modulation])


@dataclass
class FieldResult:
    """What one field (caption or latent bits) became on the link; produced per field by
    `semcom.link.transmission.transmit_bits` (uncoded) or `semcom.fec.transmit.transmit_field_coded`."""

    rx_bits: NDArray[np.uint8]  # uint8 0/1, same length as the transmitted information bits
    symbols: int  # channel symbols used
    coded_bits: int  # bits put on the channel (= information bits when uncoded)
    bit_errors: int  # information bit errors after demapping/decoding
    segments: int = 0  # FEC codewords/segments
    segments_failed: int = 0  # segments whose CRC failed
    # bool per information bit: True where a failed segment makes it untrustworthy
    erased: NDArray[np.bool_] | None = None
    mcs: str = ""
    llr: NDArray[np.float32] | None = None  # float32 per information bit, log p(1)/p(0): soft output, when asked for

    def report(self, info_bits: int) -> FieldReport:
        """This field's FieldReport, `info_bits` the payload bits that were sent."""
        return FieldReport(
            bits=int(self.coded_bits),
            info_bits=int(info_bits),
            bit_errors=int(self.bit_errors),
            symbols=int(self.symbols),
            segments=int(self.segments),
            segments_failed=int(self.segments_failed),
            mcs=self.mcs,
        )


@dataclass
class FieldReport:
    bits: int = 0  # bits on the channel (coded bits with FEC)
    info_bits: int = 0  # payload bits before coding
    bit_errors: int = 0  # payload bit errors after demapping/decoding
    symbols: int = 0  # channel symbols used
    segments: int = 0
    segments_failed: int = 0
    mcs: str = ""
    values_sanitised: int = 0  # filled by the receiver
    chars_replaced: int = 0  # filled by the receiver
    analog_symbols: int = 0  # analog latent: complex symbols sent without bits (included in `symbols`)


@dataclass
class TransmissionReport:
    channel: ChannelConfig
    esn0_db: float
    ebn0_db: float
    caption: FieldReport = field(default_factory=FieldReport)
    latent: FieldReport = field(default_factory=FieldReport)
    latent_dropped: bool = False
    drop_reason: str = ""
    total_symbols: int = 0
    channel_seconds: float = 0.0
    # The latent crossed as analog symbols: only Es/N0 describes its link; ebn0_db is then the
    # configured modulation's Eb/N0 at that Es/N0, not a property of the analog latent.
    latent_analog: bool = False

    @property
    def snr(self) -> Snr:
        """The link's SNR as it ran, normalised to Eb/N0 per information bit (the paper's axis and
        the one the receiver's adaptive strength is defined on), whatever convention configured it."""
        return Snr(float(self.ebn0_db), "ebn0")

    @property
    def snr_note(self) -> str:
        """What the reported SNRs mean when they need saying, in one sentence ("" otherwise): with an
        analog latent only Es/N0 describes its link; on a coded link `ebn0_db` is per information
        bit after the code rate, while the SNR asked for set the channel's Es/N0 through the
        modulation alone."""
        if self.latent_analog:
            return (
                "analog latent: only Es/N0 is defined for it (symbols carry no bits); ebn0_db is the "
                "modulation's Eb/N0 at that Es/N0, for the digital fields"
            )
        cfg = self.channel
        bits_per_symbol = MODULATIONS.get(cfg.modulation, 0)
        if cfg.fec == "none" or bits_per_symbol == 0:
            return ""
        info_per_symbol = 10 ** ((self.esn0_db - self.ebn0_db) / 10)
        return (
            f"asked: {cfg.snr_convention} {cfg.snr_db:g} dB, read with {cfg.modulation} ({bits_per_symbol} coded bits per "
            f"symbol) as the channel's Es/N0 {self.esn0_db:.2f} dB; ebn0_db {self.ebn0_db:.2f} is per information "
            f"bit after the code rate: Es/N0 - 10 log10({info_per_symbol:.3f} information bits per symbol)"
        )
