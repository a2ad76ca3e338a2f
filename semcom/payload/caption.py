"""Caption bit format: 8-bit ASCII, one byte per character, at most 77 characters (CLIP's
context length), as in the paper.

Sender (`encode_caption`), for any str:
  1. transliterate to ASCII with unidecode ("café" -> "cafe", "中文" -> "Zhong Wen"); characters
     it has no spelling for (emoji, lone surrogates) are dropped;
  2. every remaining non-printable character (control characters, tab, newline, DEL) becomes a
     space; runs of spaces collapse to one; the ends are stripped;
  3. cut to `max_chars` at a word boundary (the last space that keeps the text within the limit);
     a single word longer than the limit is hard-cut.
  Each byte on the wire is then printable ASCII, 0x20..0x7E, with the high bit clear.

Receiver (`decode_caption`), for any bytes (a channel may flip any bit), byte by byte:
  * 0x20..0x7E (printable ASCII): kept;
  * high bit set: the high bit is cleared (a sent byte never has it, so a set high bit is
    certainly an error, and a single flip is its likeliest cause); if that yields printable
    ASCII it is kept;
  * anything still a control character (0x00..0x1F, 0x7F, with or without the high bit) is
    replaced by `replacement`, a space by default: a space is a word separator to CLIP's
    tokenizer, never a token of its own, and it keeps the text's length equal to the byte count;
  * bytes beyond `max_chars` are dropped (a compliant sender never sends them).
  The result is printable ASCII, which a CLIP tokenizer accepts; every change is counted.

Nothing here imports gRPC or a model library.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

MAX_CAPTION_CHARS = 77  # CLIP's context length; the paper's limit
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
_SPACES = re.compile(r" {2,}")


@dataclass(frozen=True)
class DecodedCaption:
    """A received caption and what the receiver had to do to it.

    `chars_replaced` = `high_bit_cleared` + `controls_replaced` (each changed byte counted once).
    """

    text: str
    chars_replaced: int
    high_bit_cleared: int = 0  # bytes whose high bit was cleared, leaving printable ASCII
    controls_replaced: int = 0  # bytes replaced by `replacement` (control characters, DEL)
    bytes_dropped: int = 0  # bytes beyond max_chars


def _check_max_chars(max_chars: int) -> int:
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars must be a positive int, got {max_chars!r}")
    return max_chars


def to_ascii(text: str) -> str:
    """Printable ASCII form of any str: transliterated, control characters as spaces, spaces
    collapsed, ends stripped."""
    if not isinstance(text, str):
        raise TypeError(f"caption must be str, got {type(text).__name__}")
    from unidecode import unidecode

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # unidecode warns on lone surrogates
        ascii_text = unidecode(text)
    ascii_text = _NOT_PRINTABLE.sub(" ", ascii_text)
    return _SPACES.sub(" ", ascii_text).strip()


def truncate_words(text: str, max_chars: int = MAX_CAPTION_CHARS) -> str:
    """`text` cut to at most `max_chars` characters at the last word boundary; a first word
    longer than the limit is hard-cut."""
    _check_max_chars(max_chars)
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars + 1)  # a space at index max_chars ends a word exactly at the limit
    head = text[:cut].rstrip() if cut > 0 else ""
    return head if head else text[:max_chars]


def encode_caption(text: str, max_chars: int = MAX_CAPTION_CHARS) -> bytes:
    """Caption bytes for the wire: printable 8-bit ASCII, at most `max_chars` bytes. Never fails
    on a str (empty, emoji, control characters give a possibly empty caption)."""
    return truncate_words(to_ascii(text), max_chars).encode("ascii")


def decode_caption(data: bytes, *, max_chars: int = MAX_CAPTION_CHARS, replacement: str = " ") -> DecodedCaption:
    """Received caption bytes -> printable ASCII text, by the rule in the module docstring."""
    _check_max_chars(max_chars)
    if not (isinstance(replacement, str) and len(replacement) == 1 and " " <= replacement <= "~"):
        raise ValueError(f"replacement must be one printable ASCII character, got {replacement!r}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"caption data must be bytes, got {type(data).__name__}")
    raw = np.frombuffer(bytes(data), dtype=np.uint8)
    dropped = max(0, raw.size - max_chars)
    raw = raw[:max_chars]
    high = raw >= 0x80
    low = raw & 0x7F
    control = (low < 0x20) | (low == 0x7F)
    out = np.where(control, ord(replacement), low).astype(np.uint8)
    n_high_fixed = int(np.count_nonzero(high & ~control))
    n_control = int(np.count_nonzero(control))
    return DecodedCaption(
        text=out.tobytes().decode("ascii"),
        chars_replaced=n_high_fixed + n_control,
        high_bit_cleared=n_high_fixed,
        controls_replaced=n_control,
        bytes_dropped=dropped,
    )


def corrupted_positions(sent: str, received: str) -> list[int]:
    """Indices where the received caption differs from the sent one, missing or extra characters
    included (the channel flips bits in place; nothing is inserted). The one definition of a
    corrupted character: the demo's sheet and the web page both mark these."""
    length = max(len(sent), len(received))
    return [i for i in range(length) if i >= len(sent) or i >= len(received) or sent[i] != received[i]]


def caption_segments(sent: str, received: str) -> list[tuple[str, str | None]]:
    """The received caption cut into runs, each labelled "corrupted" where `corrupted_positions`
    marks it, else None."""
    bad = set(corrupted_positions(sent, received))
    segments: list[tuple[str, str | None]] = []
    for i, ch in enumerate(received):
        label = "corrupted" if i in bad else None
        if segments and segments[-1][1] == label:
            segments[-1] = (segments[-1][0] + ch, label)
        else:
            segments.append((ch, label))
    return segments
