"""Cyclic redundancy check per segment, through Sionna's 5G CRC (TS 38.212 Sec. 5.1).

The receiver re-computes each segment's CRC after LDPC decoding; a mismatch marks the segment as
failed so its bits are treated as erased instead of trusted. Arrays are numpy uint8 at this
interface; Sionna works on float32 torch tensors inside.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: CRC polynomials Sionna implements, with their parity lengths.
CRC_BITS = {"CRC24A": 24, "CRC24B": 24, "CRC24C": 24, "CRC16": 16, "CRC11": 11, "CRC6": 6}


def crc_bits(name: str) -> int:
    """Number of parity bits of the CRC `name`."""
    try:
        return CRC_BITS[name]
    except KeyError:
        raise ValueError(f"unknown CRC {name!r}; valid: {', '.join(CRC_BITS)}") from None


@lru_cache(maxsize=16)
def _coders(name: str, k: int) -> tuple[Any, Any]:
    # (CRCEncoder, CRCDecoder) (sionna is untyped), cached per payload length
    from sionna.phy.fec.crc import CRCDecoder, CRCEncoder

    encoder = CRCEncoder(name, k=k, device="cpu")
    return encoder, CRCDecoder(encoder, device="cpu")


def _as_blocks(blocks: np.ndarray, what: str) -> np.ndarray:
    blocks = np.asarray(blocks)
    if blocks.ndim != 2 or blocks.shape[0] == 0 or blocks.shape[1] == 0:
        raise ValueError(f"{what} must be a non-empty 2-D array [segments, bits], got shape {blocks.shape}")
    return blocks


def attach(blocks: np.ndarray, name: str) -> NDArray[np.uint8]:
    """Append the CRC `name` to every row of `blocks` ([segments, k] of 0/1) -> [segments, k + L]."""
    import torch

    blocks = _as_blocks(blocks, "blocks")
    crc_bits(name)
    encoder, _ = _coders(name, blocks.shape[1])
    out = encoder(torch.from_numpy(blocks.astype(np.float32)))
    attached: NDArray[np.uint8] = out.numpy().astype(np.uint8)
    return attached


def check(blocks_with_crc: np.ndarray, name: str) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """Strip and verify the CRC of every row -> (payload [segments, k] uint8, valid [segments] bool)."""
    import torch

    blocks_with_crc = _as_blocks(blocks_with_crc, "blocks_with_crc")
    length = crc_bits(name)
    if blocks_with_crc.shape[1] <= length:
        raise ValueError(f"rows of {blocks_with_crc.shape[1]} bits cannot hold a {length}-bit CRC and data")
    _, decoder = _coders(name, blocks_with_crc.shape[1] - length)
    payload, valid = decoder(torch.from_numpy(blocks_with_crc.astype(np.float32)))
    return payload.numpy().astype(np.uint8), valid.numpy()[:, 0].astype(bool)
