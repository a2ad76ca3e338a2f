"""Code-block segmentation of a field's payload, after 5G NR (TS 38.212 Sec. 5.2.2), simplified.

A payload of B bits is cut into C segments of equal length (the last one padded with zeros),
each carrying its own CRC so the receiver knows which segments to distrust:

- B + 16 <= 3,840 (the base-graph-2 maximum): one segment with CRC16 (the caption: at most
  77 characters = 616 bits);
- otherwise C = ceil(B / (8,448 - 24)) segments with CRC24B each (8,448 = the base-graph-1
  maximum code block, so a 4x64x64 or 32x64x64 latent becomes tens to hundreds of codewords).

Unlike 5G there is no transport-block CRC on top: each segment stands alone, because a failed
segment erases only its own bits (the rest of the latent is still usable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from semcom.fec.crc import crc_bits

MAX_SEGMENT_BITS = 8448  # K_cb of LDPC base graph 1 (CRC included)
SINGLE_SEGMENT_BITS = 3840  # K_cb of base graph 2
SHORT_CRC = "CRC16"
LONG_CRC = "CRC24B"


def block_crc(k: int) -> str:
    """The CRC a code block of k bits (CRC included) carries under this segmentation: CRC16 up to
    the base-graph-2 size, CRC24B above (used by the BLER sweep to build realistic blocks)."""
    return SHORT_CRC if k <= SINGLE_SEGMENT_BITS else LONG_CRC


@dataclass(frozen=True)
class SegmentPlan:
    """How `info_bits` payload bits are laid out over codewords."""

    info_bits: int  # B, payload bits of the field
    segments: int  # C, number of codewords
    payload_bits: int  # payload bits per segment (C * payload_bits >= B)
    crc: str  # CRC polynomial name appended to every segment

    @property
    def crc_bits(self) -> int:
        return crc_bits(self.crc)

    @property
    def k(self) -> int:
        """LDPC information bits per codeword: payload + CRC."""
        return self.payload_bits + self.crc_bits


def plan(info_bits: int, max_segment_bits: int = MAX_SEGMENT_BITS) -> SegmentPlan:
    """The segmentation of a payload of `info_bits` bits (see the module docstring)."""
    if int(info_bits) != info_bits or info_bits <= 0:
        raise ValueError(f"info_bits must be a positive integer, got {info_bits}")
    info_bits = int(info_bits)
    short = crc_bits(SHORT_CRC)
    if info_bits + short <= min(SINGLE_SEGMENT_BITS, max_segment_bits):
        return SegmentPlan(info_bits, 1, info_bits, SHORT_CRC)
    long = crc_bits(LONG_CRC)
    if max_segment_bits <= long + 12:
        raise ValueError(f"max_segment_bits={max_segment_bits} leaves no room for payload")
    segments = math.ceil(info_bits / (max_segment_bits - long))
    return SegmentPlan(info_bits, segments, math.ceil(info_bits / segments), LONG_CRC)


def split(bits: np.ndarray, seg: SegmentPlan) -> np.ndarray:
    """Payload bits [B] -> zero-padded segments [C, payload_bits] (uint8)."""
    bits = np.asarray(bits)
    if bits.shape != (seg.info_bits,):
        raise ValueError(f"expected {seg.info_bits} bits for this plan, got shape {bits.shape}")
    padded = np.zeros(seg.segments * seg.payload_bits, dtype=np.uint8)
    padded[: seg.info_bits] = bits
    return padded.reshape(seg.segments, seg.payload_bits)


def join(blocks: np.ndarray, seg: SegmentPlan) -> np.ndarray:
    """Segments [C, payload_bits] -> payload bits [B], padding removed."""
    blocks = np.asarray(blocks)
    if blocks.shape != (seg.segments, seg.payload_bits):
        raise ValueError(f"expected blocks of shape {(seg.segments, seg.payload_bits)}, got {blocks.shape}")
    return blocks.reshape(-1)[: seg.info_bits]


def bit_mask(segment_flags: np.ndarray, seg: SegmentPlan) -> np.ndarray:
    """Per-segment flags [C] -> per-payload-bit flags [B] (e.g. "this bit's segment failed")."""
    flags = np.asarray(segment_flags, dtype=bool)
    if flags.shape != (seg.segments,):
        raise ValueError(f"expected {seg.segments} segment flags, got shape {flags.shape}")
    return np.repeat(flags, seg.payload_bits)[: seg.info_bits]
