"""A semantic packet across the simulated link: bytes -> bits -> symbols -> channel -> bits -> bytes.

Caption bytes and latent data bytes are each expanded to bits (`np.unpackbits`, MSB first), sent
as separate fields and packed back. The returned packet carries the corrupted bytes as received;
sanitising them (non-printable characters, non-finite floats) is the receiver's job.

Randomness: when `cfg.seed` is set it alone decides the noise (identical input and config give
identical output); otherwise the `rng` argument is used, or fresh OS entropy. Caption and latent
always draw from two independent child streams (`SeedSequence.spawn`), so the caption's noise
does not depend on whether, or how long, a latent was sent.

With ``cfg.fec == "ldpc"`` each field goes through the registered coded link (`semcom.link.coding`;
`semcom.fec.transmit.transmit_field_coded`)
instead of the uncoded `transmit_bits`; both return a `FieldResult`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from semcom.link.analog import transmit_payload
from semcom.link.coding import coded_link
from semcom.link.policy import decide_latent
from semcom.link.types import MODULATIONS, ChannelConfig, FieldReport, FieldResult, TransmissionReport
from semcom.payload.packet import SemanticPacket
from semcom.phy.channel import awgn, bsc, rayleigh_block_fading
from semcom.phy.mapping import as_bits, qam
from semcom.phy.scrambling import scramble, scrambling_sequence
from semcom.phy.snr import esn0_db_to_n0, linear_to_db
from semcom.phy.theory import ber_qam_awgn

FieldTransmitter = Callable[[NDArray[np.uint8], ChannelConfig, np.random.Generator, str], FieldResult]


SOFT_LLR_LIMIT = 30.0  # |LLR| of a bit the link leaves no doubt about (error-free link, p -> 0)


def transmit_bits(
    bits: ArrayLike, cfg: ChannelConfig, rng: np.random.Generator | None = None, soft_output: bool = False
) -> FieldResult:
    """Send 0/1 bits uncoded over `cfg`'s modulation and channel model; decide them back.

    * ``awgn`` / ``rayleigh``: scrambled bits (`semcom.phy.scrambling`: uniform bits on the air, so
      the configured SNR is the true one) on Gray QAM symbols, complex noise at the configured
      SNR (fading with perfect-CSI equalisation), hard nearest-point decisions, or with
      ``cfg.soft_demapping`` the sign of the exact LLR (bitwise MAP; with no decoder after it
      this differs from the hard decision only near decision boundaries at low SNR).
    * ``bsc``: the authors' model: no symbols are simulated, every bit flips independently with
      the closed-form Gray-QAM BER at the configured Eb/N0 (16-QAM by default, as in their code).
    * ``none``: an error-free link.

    `symbols` counts the channel uses the bits need (``ceil(n / k)``) for every model.

    `soft_output`: also return each bit's exact LLR (`FieldResult.llr`, log p(1)/p(0) given the
    received symbol and, on fading, its own gain: what a receiver with CSI knows about every bit),
    descrambled; +-ln((1-p)/p) on ``bsc``, +-SOFT_LLR_LIMIT on ``none``. The decisions are those
    the link makes without it. The noise drawn is the same with or without it.
    """
    if cfg.fec != "none":
        raise ValueError(f"transmit_bits is the uncoded link; cfg.fec={cfg.fec!r} goes through transmit_packet")
    tx = as_bits(bits)
    rng = np.random.default_rng(cfg.seed) if rng is None else rng
    k = MODULATIONS[cfg.modulation]
    n_symbols = -(-tx.size // k)
    esn0_db, ebn0_db = cfg.snr_pair
    llr: NDArray[np.float32] | None = None
    if cfg.model == "none":
        rx = tx.copy()
        if soft_output:
            llr = (tx.astype(np.float32) * 2 - 1) * np.float32(SOFT_LLR_LIMIT)
    elif cfg.model == "bsc":
        p = float(ber_qam_awgn(k, ebn0_db))
        rx = bsc(tx, p, rng)
        if soft_output:
            magnitude = SOFT_LLR_LIMIT if p <= 0 else min(SOFT_LLR_LIMIT, float(np.log((1 - p) / p)))
            llr = (rx.astype(np.float32) * 2 - 1) * np.float32(magnitude)
    else:
        constellation = qam(k)
        x = constellation.modulate(scramble(tx))
        n0 = esn0_db_to_n0(esn0_db)
        n0_per_symbol: float | NDArray[np.float32]
        if cfg.model == "awgn":
            y, n0_per_symbol = awgn(x, n0, rng), n0
        else:  # rayleigh, the last model ChannelConfig allows
            y, n0_per_symbol = rayleigh_block_fading(x, n0, rng, cfg.fading_block_length)
        exact = (
            constellation.demodulate_llr(y, n0_per_symbol, method="exact")
            if (cfg.soft_demapping or soft_output)
            else None
        )
        if cfg.soft_demapping and exact is not None:  # exact is computed whenever soft_demapping
            rx = scramble((exact[: tx.size] > 0).view(np.uint8))
        else:
            rx = scramble(constellation.demodulate_hard(y, tx.size))
        if soft_output and exact is not None:  # descramble: the LLR of b is minus the LLR of b XOR 1
            sign = 1.0 - 2.0 * scrambling_sequence(tx.size).astype(np.float32)
            llr = np.clip(exact[: tx.size] * sign, -SOFT_LLR_LIMIT, SOFT_LLR_LIMIT).astype(np.float32)
    return FieldResult(
        rx_bits=rx,
        symbols=n_symbols,
        coded_bits=int(tx.size),
        bit_errors=int(np.count_nonzero(rx != tx)),
        llr=llr,
    )


def _field_transmitter(cfg: ChannelConfig) -> FieldTransmitter:
    """The per-field link: uncoded `transmit_bits`, or the FEC package's coded link."""
    if cfg.fec == "none":
        return lambda bits, cfg_, rng, field: transmit_bits(bits, cfg_, rng)
    return coded_link().transmit_field  # "ldpc": the registered coded link, never an import of semcom.fec


def _field_rngs(cfg: ChannelConfig, rng: np.random.Generator | None) -> tuple[np.random.Generator, ...]:
    """Two independent generators: (caption, latent)."""
    if cfg.seed is not None:
        return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(2))
    if rng is not None:
        return tuple(rng.spawn(2))
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence().spawn(2))


def _to_report(result: FieldResult, info_bits: int) -> FieldReport:
    if result.rx_bits.shape != (info_bits,):
        raise ValueError(f"field link returned {result.rx_bits.shape} bits for {info_bits} sent")
    return result.report(info_bits)


def _report_snr(cfg: ChannelConfig, fields: list[FieldReport]) -> tuple[float, float]:
    """(Es/N0, Eb/N0) in dB of the link as it ran.

    Es/N0 is `cfg.snr_db` read in its convention with the configured modulation, coded or not
    (one ChannelConfig is one physical channel; `semcom.fec.transmit` uses the same Es/N0). Eb/N0 is
    per information bit: uncoded, ``Es/N0 - 10 log10(k)``; coded, ``Es/N0 - 10 log10(info bits
    per channel symbol)`` over both fields, i.e. code rate times bits per symbol of the MCS used.
    """
    esn0_db, ebn0_db = cfg.snr_pair
    symbols = sum(f.symbols for f in fields)
    info = sum(f.info_bits for f in fields)
    if cfg.fec != "none" and symbols > 0 and info > 0:
        ebn0_db = esn0_db - float(linear_to_db(info / symbols))
    return esn0_db, ebn0_db


def transmit_packet(
    packet: SemanticPacket, cfg: ChannelConfig, rng: np.random.Generator | None = None
) -> tuple[SemanticPacket, TransmissionReport]:
    """Send `packet` over the link `cfg`; return the packet as received and what happened to it.

    The latent is dropped (returned as None, ``latent_dropped=True`` with a reason) when
    `cfg.latent_policy` says so; the caption is always sent.
    """
    received, report, _ = _transmit(packet, cfg, rng, soft_latent=False)
    return received, report


def transmit_packet_detailed(
    packet: SemanticPacket, cfg: ChannelConfig, rng: np.random.Generator | None = None, soft: bool = False
) -> tuple[SemanticPacket, TransmissionReport, FieldResult | None]:
    """`transmit_packet`, also returning the digital latent field's own `FieldResult` (None when no
    digital latent crossed): the same noise, decisions and report, plus what only a receiver in the
    same process can use: on a coded link the bits of the segments whose CRC failed (`erased`);
    with `soft` (uncoded links only) each bit's LLR (`transmit_bits(..., soft_output=True)`) for the
    "soft" latent repair. The services carry bits, not these."""
    if soft and cfg.fec != "none":
        raise ValueError("soft output is defined for the uncoded link (fec='none'); the coded link decodes its LLRs")
    return _transmit(packet, cfg, rng, soft_latent=soft)


def _transmit(
    packet: SemanticPacket, cfg: ChannelConfig, rng: np.random.Generator | None, soft_latent: bool
) -> tuple[SemanticPacket, TransmissionReport, FieldResult | None]:
    if not isinstance(packet, SemanticPacket):
        raise TypeError(f"packet must be a SemanticPacket, got {type(packet).__name__}")
    if not isinstance(cfg, ChannelConfig):
        raise TypeError(f"cfg must be a ChannelConfig, got {type(cfg).__name__}")
    start = time.perf_counter()
    send_field = _field_transmitter(cfg)
    caption_rng, latent_rng = _field_rngs(cfg, rng)

    caption_bits = np.unpackbits(np.frombuffer(packet.caption, dtype=np.uint8))
    caption_result = send_field(caption_bits, cfg, caption_rng, "caption")
    caption_report = _to_report(caption_result, caption_bits.size)
    rx_caption = np.packbits(caption_result.rx_bits).tobytes()

    latent, latent_report, dropped, reason = packet.latent, FieldReport(), False, ""
    latent_result: FieldResult | None = None
    analog = latent is not None and latent.analog is not None
    if latent is not None:
        decision = decide_latent(cfg, latent)
        if decision.send and analog:
            latent, latent_report, reason = transmit_payload(latent, cfg, latent_rng)
            dropped = latent is None
        elif decision.send:
            latent_bits = np.unpackbits(np.frombuffer(latent.data, dtype=np.uint8))
            if soft_latent:
                latent_result = transmit_bits(latent_bits, cfg, latent_rng, soft_output=True)
            else:
                latent_result = send_field(latent_bits, cfg, latent_rng, "latent")
            latent_report = _to_report(latent_result, latent_bits.size)
            latent = dataclasses.replace(latent, data=np.packbits(latent_result.rx_bits).tobytes())
        else:
            latent, dropped, reason = None, True, decision.reason

    if analog:  # only Es/N0 describes an analog latent's link; Eb/N0 is the modulation's, uncoded
        esn0_db, ebn0_db = cfg.snr_pair
    else:
        esn0_db, ebn0_db = _report_snr(cfg, [caption_report, latent_report])
    report = TransmissionReport(
        channel=cfg,
        esn0_db=esn0_db,
        ebn0_db=ebn0_db,
        caption=caption_report,
        latent=latent_report,
        latent_dropped=dropped,
        drop_reason=reason,
        total_symbols=caption_report.symbols + latent_report.symbols,
        channel_seconds=time.perf_counter() - start,
        latent_analog=analog,
    )
    return dataclasses.replace(packet, caption=rx_caption, latent=latent), report, latent_result
