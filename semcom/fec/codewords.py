"""Codewords over the channel: LDPC-encoded blocks -> QAM -> AWGN / Rayleigh / BSC -> LLRs -> decoder.

The piece the coded link (`semcom.fec.transmit`), the BLER sweep (`semcom.fec.bler`) and AMC
(`semcom.fec.amc`) share, in its own module so that none of them imports another in a circle:
``amc -> bler -> codewords``, ``transmit -> amc, codewords``. See `semcom.fec.transmit` for the SNR convention and the channel interleaving.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from semcom.fec import crc, ldpc
from semcom.fec.mcs import Mcs
from semcom.link.types import CHANNEL_MODELS
from semcom.phy import channel as phy_channel
from semcom.phy.mapping import qam
from semcom.phy.scrambling import scrambling_sequence
from semcom.phy.snr import esn0_db_to_ebn0_db, esn0_db_to_n0
from semcom.phy.theory import ber_qam_awgn

PERFECT_LLR = 20.0  # |LLR| for an error-free link; the decoder clips messages at 20 anyway


def effective_fading_block_length(fading_block_length: int, codewords: int, interleave: bool = True) -> int:
    """Symbols of one codeword under one fading gain when `codewords` codewords are sent
    symbol-interleaved over blocks of `fading_block_length` symbols (at least 1)."""
    if fading_block_length < 1 or codewords < 1:
        raise ValueError(f"need fading_block_length >= 1 and codewords >= 1, got {fading_block_length}, {codewords}")
    return -(-int(fading_block_length) // int(codewords)) if interleave else int(fading_block_length)


def channel_llrs(
    codewords: np.ndarray,
    bits_per_symbol: int,
    esn0_db: float,
    rng: np.random.Generator,
    model: str = "awgn",
    fading_block_length: int = 128,
    interleave: bool = False,
    fading_per_codeword: bool = False,
) -> np.ndarray:
    """Codeword bits [C, n] -> channel logits log p(1)/p(0) [C, n] after modulation and `model`.

    `interleave`: send the codewords symbol-interleaved (see the module docstring) rather than
    one after the other; the logits come back in codeword order either way.
    `fading_per_codeword` (rayleigh, not interleaved): every codeword starts on a fresh fading
    block, as a one-codeword field does on the link; the BLER sweep measures codewords so, where
    back to back a codeword would straddle blocks and see more gains than it does in use.

    awgn / rayleigh: scrambled bits (`semcom.phy.scrambling`, so the symbols carry uniform bits
    whatever the payload, as the BLER table assumes) on Gray QAM symbols, noise of variance
    N0 = 10^(-Es/N0/10) (per-symbol N0/|h|^2 after perfect-CSI equalisation for rayleigh),
    max-log LLRs, descrambled by flipping LLR signs. bsc: the authors'
    channel, bits flipped at the closed-form uncoded BER of the QAM at this Es/N0, LLR
    +-ln((1-p)/p). none: error-free, LLR +-PERFECT_LLR.
    """
    if model not in CHANNEL_MODELS:
        raise ValueError(f"model must be one of {CHANNEL_MODELS}, got {model!r}")
    codewords = np.asarray(codewords, dtype=np.uint8)
    if codewords.ndim != 2 or codewords.shape[1] % bits_per_symbol:
        raise ValueError(f"codewords must be [C, n] with n a multiple of {bits_per_symbol}, got {codewords.shape}")
    count, n = codewords.shape
    interleave = interleave and count > 1
    on_air = codewords.reshape(count, n // bits_per_symbol, bits_per_symbol)
    if interleave:  # [C, S, m] -> [S, C, m]: symbol s of every codeword, then symbol s + 1, ...
        on_air = on_air.transpose(1, 0, 2)
    flat = np.ascontiguousarray(on_air).reshape(-1)
    if model == "none":
        llr = (flat.astype(np.float32) * 2.0 - 1.0) * np.float32(PERFECT_LLR)
    elif model == "bsc":
        p = float(ber_qam_awgn(bits_per_symbol, esn0_db_to_ebn0_db(esn0_db, bits_per_symbol)))
        received = phy_channel.bsc(flat, p, rng)
        magnitude = PERFECT_LLR if p <= 0.0 else min(PERFECT_LLR, float(np.log((1.0 - p) / p)))
        llr = (received.astype(np.float32) * 2.0 - 1.0) * np.float32(magnitude)
    else:
        constellation = qam(bits_per_symbol)
        sequence = scrambling_sequence(flat.size)  # uniform bits on the air, as 38.211 7.3.1.1
        x = constellation.modulate(flat ^ sequence)
        n0 = esn0_db_to_n0(esn0_db)
        n0_sym: float | np.ndarray
        if model == "awgn":
            y, n0_sym = phy_channel.awgn(x, n0, rng), n0
        elif fading_per_codeword and not interleave and count > 1:
            y, n0_sym = _fade_per_codeword(x.reshape(count, -1), n0, rng, fading_block_length)
        else:
            y, n0_sym = phy_channel.rayleigh_block_fading(x, n0, rng, fading_block_length)
        llr = constellation.demodulate_llr(y, n0_sym, method="maxlog")
        llr[sequence.astype(bool)] *= -1.0  # descramble: LLR of b is minus the LLR of b XOR 1
    if interleave:
        llr = llr.reshape(n // bits_per_symbol, count, bits_per_symbol).transpose(1, 0, 2)
    return np.ascontiguousarray(llr).reshape(codewords.shape)


def _fade_per_codeword(
    x: np.ndarray, n0: float, rng: np.random.Generator, block_length: int
) -> tuple[NDArray[np.complex64], NDArray[np.float32]]:
    """Rayleigh block fading of symbols [C, S] with blocks aligned to each row's start (rows
    padded to whole blocks, the padding dropped after the channel) -> flat (y, n0 per symbol)."""
    count, per_row = x.shape
    padded = np.zeros((count, -(-per_row // block_length) * block_length), dtype=np.complex64)
    padded[:, :per_row] = x
    y, n0_sym = phy_channel.rayleigh_block_fading(padded.reshape(-1), n0, rng, block_length)
    return y.reshape(count, -1)[:, :per_row].reshape(-1), n0_sym.reshape(count, -1)[:, :per_row].reshape(-1)


def run_codewords(
    info: np.ndarray,
    mcs: Mcs,
    esn0_db: float,
    rng: np.random.Generator,
    model: str = "awgn",
    num_iter: int = ldpc.DEFAULT_NUM_ITER,
    fading_block_length: int = 128,
    crc_name: str | None = None,
    interleave: bool = False,
    fading_per_codeword: bool = False,
) -> np.ndarray:
    """Info blocks [C, k] -> LDPC-encode at `mcs` -> channel -> decode -> decided blocks [C, k].

    With `crc_name` (the CRC the blocks end with), decoding stops early per codeword once its
    CRC passes (`ldpc.decode`). The shared core of `transmit_coded` (which interleaves) and the
    BLER sweep (which does not: it measures one codeword on blocks of `fading_block_length`).
    """
    info = np.asarray(info, dtype=np.uint8)
    if info.ndim != 2 or info.shape[0] == 0:
        raise ValueError(f"info must be a non-empty 2-D array [codewords, k], got shape {info.shape}")
    k, m = info.shape[1], mcs.bits_per_symbol
    codewords = ldpc.encode(info, mcs.codeword_bits(k), m)
    llr = channel_llrs(codewords, m, esn0_db, rng, model, fading_block_length, interleave, fading_per_codeword)
    is_done = None if crc_name is None else (lambda bits: crc.check(bits, crc_name)[1])
    return ldpc.decode(llr, k, m, num_iter, is_done)
