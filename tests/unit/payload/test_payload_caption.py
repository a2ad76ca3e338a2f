"""Caption bit format: ASCII transliteration, word-boundary truncation, and the deterministic
receiver rule for corrupted bytes."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.payload.caption import MAX_CAPTION_CHARS, decode_caption, encode_caption, truncate_words

PRINTABLE = set(range(0x20, 0x7F))


def assert_printable_ascii(data: bytes | str, limit: int = MAX_CAPTION_CHARS) -> None:
    raw = data.encode("ascii") if isinstance(data, str) else data
    assert len(raw) <= limit
    assert set(raw) <= PRINTABLE, raw


def test_plain_caption_is_sent_unchanged() -> None:
    text = "a dog runs along the beach with a red ball in its mouth"
    assert encode_caption(text) == text.encode("ascii")


def test_truncation_cuts_at_the_last_word_boundary() -> None:
    words = [
        "a",
        "group",
        "of",
        "people",
        "standing",
        "on",
        "top",
        "of",
        "a",
        "snow",
        "covered",
        "mountain",
        "next",
        "to",
        "skis",
        "and",
        "poles",
        "today",
    ]
    text = " ".join(words)
    assert len(text) > MAX_CAPTION_CHARS
    out = encode_caption(text).decode("ascii")
    assert len(out) <= MAX_CAPTION_CHARS
    assert text.startswith(out) and text[len(out)] == " "  # ends exactly at a word end
    assert len(out) + 1 + len(text[len(out) + 1 :].split()[0]) > MAX_CAPTION_CHARS  # next word would not fit


def test_word_ending_exactly_at_the_limit_is_kept() -> None:
    text = "x" * 70 + " abcdef" + " tail"  # 77 characters, then a space
    assert len(text[:77]) == 77 and text[77] == " "
    assert encode_caption(text) == text[:77].encode("ascii")


@pytest.mark.parametrize("text", ["a" * 100, "b" * 100 + " short words after"])
def test_single_overlong_word_is_hard_cut(text: str) -> None:
    assert encode_caption(text) == text[:MAX_CAPTION_CHARS].encode("ascii")


def test_max_chars_option_and_validation() -> None:
    assert encode_caption("one two three", max_chars=8) == b"one two"
    assert truncate_words("one two three", 3) == "one"
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_chars"):
            encode_caption("x", max_chars=bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("café crème à Zürich", b"cafe creme a Zurich"),
        ("Straße", b"Strasse"),
        ("中文", b"Zhong Wen"),
        ("a\tdog\n\x00on  the\x07grass", b"a dog on the grass"),
        ("😀 a dog 🐶", b"a dog"),
        ("", b""),
        ("   \n\t ", b""),
        ("\ud800lone surrogate", b"lone surrogate"),
    ],
)
def test_any_str_becomes_printable_ascii(text: str, expected: bytes) -> None:
    assert encode_caption(text) == expected


def test_random_unicode_never_crashes() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        points = rng.integers(0, 0x110000, size=rng.integers(0, 120))
        text = "".join(map(chr, points.tolist()))
        assert_printable_ascii(encode_caption(text))


def test_encode_rejects_non_str() -> None:
    with pytest.raises(TypeError):
        encode_caption(b"bytes")  # type: ignore[arg-type]


def test_clean_bytes_decode_unchanged() -> None:
    sent = encode_caption("two children play soccer in a park, 3 goals!")
    got = decode_caption(sent)
    assert got.text == sent.decode("ascii")
    assert (got.chars_replaced, got.high_bit_cleared, got.controls_replaced, got.bytes_dropped) == (0, 0, 0, 0)


def test_high_bit_is_cleared_when_that_gives_printable_ascii() -> None:
    got = decode_caption(bytes([ord("a"), ord("d") | 0x80, ord("b")]))
    assert got.text == "adb"
    assert got.high_bit_cleared == 1 and got.chars_replaced == 1 and got.controls_replaced == 0


@pytest.mark.parametrize("byte", [0x00, 0x07, 0x0A, 0x1F, 0x7F, 0x80, 0x9B, 0xFF])
def test_control_bytes_are_replaced(byte: int) -> None:
    got = decode_caption(bytes([ord("a"), byte, ord("b")]))
    assert got.text == "a b"
    assert got.controls_replaced == 1 and got.chars_replaced == 1 and got.high_bit_cleared == 0


def test_replacement_character_is_configurable_and_checked() -> None:
    assert decode_caption(b"a\x00b", replacement="?").text == "a?b"
    for bad in ("", "ab", "\x00", "é"):
        with pytest.raises(ValueError, match="replacement"):
            decode_caption(b"a", replacement=bad)


def test_every_byte_value_decodes_to_printable_ascii() -> None:
    data = bytes(range(256))
    got = decode_caption(data, max_chars=256)
    assert len(got.text) == 256
    assert_printable_ascii(got.text, 256)
    printable = sum(0x20 <= b <= 0x7E for b in data)
    assert got.high_bit_cleared == printable  # each printable byte also appears once with the high bit set
    assert got.controls_replaced == 256 - 2 * printable
    assert got.chars_replaced == 256 - printable


def test_bytes_beyond_max_chars_are_dropped() -> None:
    got = decode_caption(b"x" * 100)
    assert got.text == "x" * MAX_CAPTION_CHARS and got.bytes_dropped == 100 - MAX_CAPTION_CHARS
    assert decode_caption(b"").text == ""


def test_decode_rejects_non_bytes() -> None:
    with pytest.raises(ValueError, match="bytes"):
        decode_caption(12345)  # type: ignore[arg-type]
    assert decode_caption(bytearray(b"ok")).text == "ok"
    assert decode_caption(memoryview(b"ok")).text == "ok"


def test_every_single_bit_error_changes_at_most_one_char() -> None:
    sent = encode_caption("a man in a blue shirt rides a bicycle down a dirt road")
    raw = np.frombuffer(sent, dtype=np.uint8)
    n = raw.size
    # all 8n single-bit-error versions of the caption at once: row i flips bit i (MSB first)
    flips = np.packbits(np.eye(8 * n, dtype=np.uint8), axis=1)
    for row, corrupted in enumerate(raw[None, :] ^ flips):
        got = decode_caption(corrupted.tobytes())
        diff = sum(a != b for a, b in zip(got.text, sent.decode("ascii")))
        assert len(got.text) == n and diff <= 1
        if row % 8 == 0:  # the high bit: the receiver's rule undoes it exactly
            assert got.text == sent.decode("ascii") and got.high_bit_cleared == 1


def test_corrupted_characters_are_defined_once_for_the_sheet_and_the_page() -> None:
    from semcom.payload.caption import caption_segments, corrupted_positions

    assert corrupted_positions("a dog", "a d?g") == [3] and corrupted_positions("ab", "abcd") == [2, 3]
    assert caption_segments("a cat", "a bad") == [("a ", None), ("b", "corrupted"), ("a", None), ("d", "corrupted")]
    for sent, received in (("a dog", "a d?g"), ("ab", "abcd"), ("a dog", "a do")):
        labels = [label for text, label in caption_segments(sent, received) for _ in text]
        assert len(labels) == len(received)
        marked = [i for i, label in enumerate(labels) if label == "corrupted"]
        assert marked == [i for i in corrupted_positions(sent, received) if i < len(received)]
