"""What a receiver can do with the bits of segments whose CRC failed (erasures).

With FEC on, `FieldResult.erased` marks every payload bit of a failed segment: the decoder's
best guess, no longer guaranteed. Two options for the latent, measured in docs/fec.md:

- keep the decoded values. Near the BLER waterfall a failed LDPC segment still has well under 1%
  wrong bits (0.37% measured for 16qam-r2/3 at 8.75 dB), and an int8 bit error moves a value by
  at most its channel's quantisation range, so this is by far the better choice for int8
  latents (TAEF2 k = 0: SSIM 0.857 kept vs 0.516 neighbour fill vs 0.498 zero fill, clean 0.871,
  with 46% of segments failed);
- replace them: `erased_values` turns the bit mask into a value mask (a value is erased when any
  of its bits is), `fill_erased` fills erased values from valid neighbours ("neighbours") or
  with 0 ("zero"). Segments are contiguous runs of values (a failed segment of an int8 latent
  is ~1,049 consecutive values, 16 rows of one 64-wide channel), so "neighbours" fills inwards
  from the valid rows around the hole, pass after pass, like a diffusion inpainting. Use it
  when the decoded bits are worthless (far below the waterfall) or for formats where one wrong
  bit is unbounded.

For the caption, keep what the decoder produced and let the receiver's caption sanitising
handle non-printable bytes.
"""

from __future__ import annotations

import numpy as np

FILL_METHODS = ("neighbours", "zero")
_SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def erased_values(erased_bits: np.ndarray, bits_per_value: int, num_values: int | None = None) -> np.ndarray:
    """Per-bit erasure flags [n_bits] -> per-value flags [num_values] (True if any bit is erased).

    Bits are in payload order, `bits_per_value` per value (8 for int8, 16 for float16, ...);
    padding bits past `num_values` values (sub-byte encodings) are ignored.
    """
    flags = np.asarray(erased_bits, dtype=bool).reshape(-1)
    if int(bits_per_value) != bits_per_value or bits_per_value <= 0:
        raise ValueError(f"bits_per_value must be a positive integer, got {bits_per_value!r}")
    count = flags.size // bits_per_value if num_values is None else int(num_values)
    if count < 0 or count * bits_per_value > flags.size:
        raise ValueError(f"{flags.size} bit flags cannot cover {count} values of {bits_per_value} bits")
    return np.asarray(flags[: count * bits_per_value].reshape(count, bits_per_value).any(axis=1), dtype=bool)


def _neighbour_sums(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of the valid 8-neighbours of every position (last two axes are spatial)."""
    h, w = values.shape[-2:]
    pad = [(0, 0)] * (values.ndim - 2) + [(1, 1), (1, 1)]
    v = np.pad(np.where(valid, values, 0.0), pad)
    m = np.pad(valid.astype(values.dtype), pad)
    total = np.zeros(values.shape, dtype=values.dtype)
    count = np.zeros(values.shape, dtype=values.dtype)
    for dy, dx in _SHIFTS:  # the eight neighbour offsets, not data
        total += v[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        count += m[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
    return total, count


def fill_erased(values: np.ndarray, erased: np.ndarray, method: str = "neighbours") -> np.ndarray:
    """A copy of latent `values` (..., H, W) with the `erased` positions replaced.

    "neighbours": each pass sets every erased value that has at least one valid 8-neighbour in
    its own channel plane to the mean of those neighbours, which then count as valid; passes
    repeat until nothing is left (a hole of height h takes about h/2 passes). A plane with no
    valid value at all is set to 0. "zero": erased values become 0.
    Non-erased values are returned unchanged.
    """
    if method not in FILL_METHODS:
        raise ValueError(f"method must be one of {FILL_METHODS}, got {method!r}")
    arr = np.asarray(values)
    if arr.dtype.kind != "f":
        raise ValueError(f"values must be a float array, got dtype {arr.dtype}")
    mask = np.asarray(erased, dtype=bool)
    if mask.shape != arr.shape:
        raise ValueError(f"erased mask shape {mask.shape} differs from values shape {arr.shape}")
    if arr.ndim < 2:
        raise ValueError(f"values need two spatial axes (..., H, W), got shape {arr.shape}")
    out = np.where(mask, 0.0, arr).astype(arr.dtype)
    if method == "zero" or not mask.any():
        return out
    work = out.astype(np.float64)
    valid = ~mask
    while True:
        todo = ~valid
        if not todo.any():
            break
        total, count = _neighbour_sums(work, valid)
        fill = todo & (count > 0)
        if not fill.any():  # planes with no valid value left: they stay 0
            break
        work[fill] = total[fill] / count[fill]
        valid |= fill
    return work.astype(arr.dtype)
