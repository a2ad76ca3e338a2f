"""Latent encodings: byte-exact round trips, wire layout checked against hand-made bytes,
quantisation error bounds, sanitising, and validation of bad payloads."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from semcom.payload.latent import (
    ENCODINGS,
    decode_latent,
    encode_latent,
    get_encoding,
    gray_decode,
    gray_encode,
    sanitise,
)
from semcom.payload.packet import CodecInfo, LatentPayload, QuantParams

FLOATS = [n for n, e in ENCODINGS.items() if e.family == "float"]
UNIFORM = [n for n, e in ENCODINGS.items() if e.family == "uniform"]


@pytest.fixture(scope="module")
def latent() -> np.ndarray:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 16, 16)) * np.array([1.0, 0.5, 2.0, 0.1])[:, None, None]
    return x + np.array([0.3, -0.2, 0.0, 1.0])[:, None, None]


def test_registry_bits_and_sizes() -> None:
    assert {n: e.bits for n, e in ENCODINGS.items()} == {
        "float64": 64, "float32": 32, "float16": 16,
        "int8": 8, "int8g": 8, "int6": 6, "int6g": 6, "int4": 4, "int4g": 4,
    }  # fmt: skip
    assert get_encoding("int6").payload_bytes(3) == 3  # 18 bits -> 3 bytes
    assert get_encoding("int4").payload_bytes(3) == 2
    with pytest.raises(ValueError, match="unknown latent encoding 'int7'"):
        get_encoding("int7")


# ----------------------------------------------------------------------------- round trips


def test_float64_round_trip_is_bit_exact(latent: np.ndarray) -> None:
    x = np.concatenate([latent.ravel(), [5e-324, -2.2e-308, 1e300, -0.0, np.pi]])
    x = x.reshape(1, -1)
    got = decode_latent(encode_latent(x, "float64"), dtype=np.float64)
    assert got.values.tobytes() == x.astype("<f8").tobytes()  # bit-exact, -0.0 included
    assert got.values_sanitised == 0


def test_float64_to_float32_output_is_the_cast(latent: np.ndarray) -> None:
    got = decode_latent(encode_latent(latent, "float64"))
    assert got.values.dtype == np.float32
    np.testing.assert_array_equal(got.values, latent.astype(np.float32))
    # a float32 latent (what a VAE produces) survives float64 transport exactly
    x32 = latent.astype(np.float32)
    np.testing.assert_array_equal(decode_latent(encode_latent(x32, "float64")).values, x32)


@pytest.mark.parametrize("name", ["float32", "float16"])
def test_narrow_floats_round_trip_exactly_as_cast(latent: np.ndarray, name: str) -> None:
    got = decode_latent(encode_latent(latent, name), dtype=np.float64)
    np.testing.assert_array_equal(got.values, latent.astype(get_encoding(name).dtype).astype(np.float64))
    assert got.values_sanitised == 0


@pytest.mark.parametrize("name", UNIFORM)
@pytest.mark.parametrize("per_channel", [False, True])
def test_uniform_round_trip_within_half_a_step(latent: np.ndarray, name: str, per_channel: bool) -> None:
    enc = get_encoding(name)
    p = encode_latent(latent, name, per_channel=per_channel)
    assert len(p.data) == enc.payload_bytes(latent.size)
    lo, hi = np.array(p.quant.lo), np.array(p.quant.hi)
    assert len(lo) == (latent.shape[0] if per_channel else 1)
    np.testing.assert_array_equal(lo.astype(np.float32), lo)  # exactly representable in the proto's float
    rows = latent.reshape(len(lo), -1)
    assert (lo <= rows.min(axis=1)).all() and (hi >= rows.max(axis=1)).all()
    step = ((hi - lo) / (2**enc.bits - 1)).reshape(-1, 1, 1)
    got = decode_latent(p, dtype=np.float64)
    assert (np.abs(got.values - latent) <= step / 2 * (1 + 1e-9)).all()
    assert got.values_sanitised == 0


def test_given_clip_and_percentile_ranges(latent: np.ndarray) -> None:
    p = encode_latent(latent, "int8", clip=(-1.0, 1.0))
    assert p.quant == QuantParams(per_channel=False, lo=(-1.0,), hi=(1.0,))
    got = decode_latent(p, dtype=np.float64).values
    np.testing.assert_array_equal(got[latent >= 1.0], 1.0)  # clipped at the range
    inside = np.abs(latent) < 1.0
    assert (np.abs(got - latent)[inside] <= 1 / 255 + 1e-12).all()
    per = encode_latent(latent, "int8", per_channel=True, clip=([0, 1, 2, 3], [4, 5, 6, 7]))
    assert per.quant.lo == (0, 1, 2, 3) and per.quant.hi == (4, 5, 6, 7)
    pct = encode_latent(latent, "int8", percentile=99.0)
    assert np.isclose(pct.quant.hi[0], np.percentile(latent, 99.0), rtol=1e-6)
    assert np.isclose(pct.quant.lo[0], np.percentile(latent, 1.0), rtol=1e-6)


def test_constant_tensor_and_channel_quantise_exactly() -> None:
    x = np.full((2, 3, 3), 0.25)
    x[1] = np.linspace(-1, 1, 9).reshape(3, 3)
    got = decode_latent(encode_latent(x, "int4", per_channel=True), dtype=np.float64).values
    np.testing.assert_array_equal(got[0], 0.25)


def test_host_byte_order_and_memory_layout_do_not_matter(latent: np.ndarray) -> None:
    big_endian = latent.astype(">f8")
    assert encode_latent(big_endian, "float64").data == encode_latent(latent, "float64").data
    t = latent[:, :8, :8].transpose(0, 2, 1)  # a non-contiguous view
    assert encode_latent(t, "float32").data == np.ascontiguousarray(t, dtype="<f4").tobytes()


# ----------------------------------------------------------------------------- wire layout by hand


def test_float_bytes_by_hand() -> None:
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert encode_latent(x, "float64").data == struct.pack("<4d", 1.0, -2.0, 0.5, 3.0)
    assert encode_latent(x, "float64").data[:8] == bytes.fromhex("000000000000f03f")
    assert encode_latent(x, "float32").data == bytes.fromhex("0000803f000000c00000003f00004040")
    assert encode_latent(x, "float16").data == bytes.fromhex("003c00c000380042")
    hand = LatentPayload(shape=(3,), encoding="float64", data=struct.pack("<3d", 1.5, -0.25, 1e-3))
    np.testing.assert_array_equal(decode_latent(hand, dtype=np.float64).values, [1.5, -0.25, 1e-3])
    hand16 = LatentPayload(shape=(1, 2), encoding="float16", data=bytes.fromhex("00bc0040"))
    np.testing.assert_array_equal(decode_latent(hand16).values, [[-1.0, 2.0]])


def test_int8_bytes_by_hand() -> None:
    x = np.array([-1.0, 0.0, 1.0, -0.5])  # u = 0, 127.5 -> 128 (half to even), 255, 63.75 -> 64
    p = encode_latent(x, "int8", clip=(-1, 1))
    assert p.data == bytes([0x80, 0x00, 0x7F, 0xC0])  # u - 128 as two's complement
    g = encode_latent(x, "int8g", clip=(-1, 1))
    assert g.data == bytes([0x00, 0xC0, 0x80, 0x60])  # Gray codes of 0, 128, 255, 64
    hand = LatentPayload((2,), "int8", bytes([0x80, 0x7F]), QuantParams(False, (-1.0,), (1.0,)))
    np.testing.assert_array_equal(decode_latent(hand).values, [-1.0, 1.0])


def test_packed_bytes_by_hand() -> None:
    x = np.arange(16.0)
    assert encode_latent(x, "int4", clip=(0, 15)).data == bytes.fromhex("0123456789abcdef")
    x6 = np.array([1.0, 2.0, 3.0, 63.0])  # 000001 000010 000011 111111
    assert encode_latent(x6, "int6", clip=(0, 63)).data == bytes([0b00000100, 0b00100000, 0b11111111])
    x3 = np.array([63.0, 0.0, 63.0])  # 18 bits: 111111 000000 111111 + 6 zero padding bits
    p = encode_latent(x3, "int6", clip=(0, 63))
    assert p.data == bytes([0b11111100, 0b00001111, 0b11000000])
    padded_noise = LatentPayload(p.shape, p.encoding, p.data[:2] + bytes([0b11111111]), p.quant)
    np.testing.assert_array_equal(decode_latent(padded_noise).values, x3)  # padding bits are ignored


@pytest.mark.parametrize("bits", [4, 6, 8])
def test_gray_code_properties(bits: int) -> None:
    u = np.arange(2**bits, dtype=np.uint16)
    g = gray_encode(u)
    np.testing.assert_array_equal(gray_decode(g, bits), u)
    assert sorted(g.tolist()) == u.tolist()  # a permutation of the code words
    flips = np.unpackbits((g[1:] ^ g[:-1]).astype(">u2").view(np.uint8)).reshape(-1, 16).sum(axis=1)
    np.testing.assert_array_equal(flips, 1)  # neighbours differ in exactly one bit


@pytest.mark.parametrize("name", UNIFORM)
def test_any_single_bit_error_stays_inside_the_clip_range(name: str) -> None:
    x = np.array([-0.9, -0.1, 0.2, 0.7, 0.95])
    p = encode_latent(x, name, clip=(-1, 1))
    clean = decode_latent(p, dtype=np.float64).values
    nbits = len(p.data) * 8
    flips = np.packbits(np.eye(nbits, dtype=np.uint8), axis=1)  # row i flips bit i
    sent = np.frombuffer(p.data, dtype=np.uint8)
    changed = []
    for row in sent[None, :] ^ flips:
        got = decode_latent(LatentPayload(p.shape, p.encoding, row.tobytes(), p.quant), dtype=np.float64)
        assert got.values_sanitised == 0 and (got.values >= -1).all() and (got.values <= 1).all()
        changed.append(int(np.count_nonzero(got.values != clean)))
    used = x.size * get_encoding(name).bits
    assert all(c == 1 for c in changed[:used]) and all(c == 0 for c in changed[used:])


# ----------------------------------------------------------------------------- sanitising


def _float64_payload(values: list[float], shape: tuple[int, ...]) -> LatentPayload:
    return LatentPayload(shape=shape, encoding="float64", data=np.array(values, dtype="<f8").tobytes())


def test_sanitising_nan_inf_huge_and_subnormal() -> None:
    values = [1.0, 2.0, 3.0, math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324, -4.0]
    codec = CodecInfo(valid_min=-5.0, valid_max=5.0)
    got = decode_latent(_float64_payload(values, (1, 10)), codec, dtype=np.float64)
    # the median of the channel's finite in-range values 1, 2, 3, 5e-324, -4 is 1.0
    np.testing.assert_array_equal(got.values[0], [1, 2, 3, 1, 1, 1, 5, -5, 5e-324, -4])
    assert (got.non_finite, got.out_of_range, got.values_sanitised) == (3, 2, 5)
    as32 = decode_latent(_float64_payload(values, (1, 10)), codec)
    assert as32.values.dtype == np.float32 and as32.values[0, 8] == 0.0  # a subnormal is kept (as the cast)
    zero = decode_latent(_float64_payload(values, (1, 10)), codec, fill="zero", dtype=np.float64)
    np.testing.assert_array_equal(zero.values[0, 3:6], 0.0)
    fill = decode_latent(_float64_payload(values, (1, 10)), codec, out_of_range="fill", dtype=np.float64)
    np.testing.assert_array_equal(fill.values[0, 6:8], 1.0)
    assert fill.values_sanitised == 5


def test_fill_uses_each_channels_own_median() -> None:
    values = [3.0, 3.5, 4.0, math.nan, -2.0, -1.0, math.inf, -3.0]
    got = decode_latent(_float64_payload(values, (2, 4)), CodecInfo(valid_min=-10, valid_max=10))
    np.testing.assert_array_equal(got.values, [[3.0, 3.5, 4.0, 3.5], [-2.0, -1.0, -2.0, -3.0]])


def test_a_channel_with_nothing_usable_gets_zero_clamped_into_range() -> None:
    got = sanitise(np.array([[math.nan, math.inf], [1.5, 1.7]]), 1.0, 2.0)
    np.testing.assert_array_equal(got.values, np.array([[1.0, 1.0], [1.5, 1.7]], dtype=np.float32))


def test_without_a_codec_range_the_output_is_still_finite() -> None:
    got = decode_latent(_float64_payload([1e300, -1e39, 0.5, math.nan], (4,)))
    assert np.isfinite(got.values).all() and got.values[0] == np.finfo(np.float32).max
    assert (got.out_of_range, got.non_finite) == (2, 1)


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_perfect_channel_changes_nothing_inside_the_codec_range(latent: np.ndarray, name: str) -> None:
    p = encode_latent(latent, name)
    codec = CodecInfo(name="test", valid_min=-8.0, valid_max=8.0)
    with_codec = decode_latent(p, codec, dtype=np.float64)
    assert with_codec.values_sanitised == 0
    np.testing.assert_array_equal(with_codec.values, decode_latent(p, dtype=np.float64).values)


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_random_payload_bytes_decode_finite_and_in_range(name: str) -> None:
    rng = np.random.default_rng(11)
    enc = get_encoding(name)
    shape = (4, 8, 8)
    quant = QuantParams(per_channel=True, lo=(-3.0, -2, -1, 0), hi=(1.0, 2, 3, 4)) if enc.family == "uniform" else None
    data = rng.integers(0, 256, enc.payload_bytes(256), dtype=np.uint8).tobytes()
    got = decode_latent(LatentPayload(shape, name, data, quant), CodecInfo(valid_min=-2.5, valid_max=2.5))
    assert got.values.shape == shape and got.values.dtype == np.float32
    assert np.isfinite(got.values).all() and (np.abs(got.values) <= 2.5).all()


# ----------------------------------------------------------------------------- validation


def test_wrong_byte_length_is_a_precise_error() -> None:
    p = LatentPayload(shape=(4, 64, 64), encoding="float64", data=bytes(131_071))
    with pytest.raises(ValueError, match=r"131071 bytes.*\(4, 64, 64\) in float64 \(8 bytes per value\) needs 131072"):
        decode_latent(p)
    q = LatentPayload(shape=(3,), encoding="int6", data=bytes(2), quant=QuantParams(False, (0.0,), (1.0,)))
    with pytest.raises(ValueError, match=r"2 bytes.*int6 \(6 bits per value\) needs 3 bytes"):
        decode_latent(q)
    with pytest.raises(ValueError, match="must be bytes"):
        decode_latent(LatentPayload(shape=(1,), encoding="float64", data=12345))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("shape", "message"),
    [((), "1..4 dimensions"), ((1, 1, 1, 1, 1), "1..4 dimensions"), ((0, 4), r"1\.\.4096"),
     ((4097,), r"1\.\.4096"), ((-1,), r"1\.\.4096"), ((2.0,), "ints"), ((True,), "ints"), (None, "sequence")],
)  # fmt: skip
def test_bad_shapes_are_rejected(shape: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_latent(LatentPayload(shape=shape, encoding="float32", data=b""))  # type: ignore[arg-type]


def test_bad_encoding_and_quant_params_are_rejected() -> None:
    qp = QuantParams(False, (0.0,), (1.0,))
    cases = [
        (LatentPayload((2,), "bfloat16", bytes(4)), "unknown latent encoding"),
        (LatentPayload((2,), "int8", bytes(2)), "needs quantisation parameters"),
        (LatentPayload((2,), "float16", bytes(4), qp), "takes no quantisation parameters"),
        (LatentPayload((2, 1), "int8", bytes(2), QuantParams(True, (0.0,), (1.0,))), "needs 2 lo and hi values"),
        (LatentPayload((2,), "int8", bytes(2), QuantParams(False, (0.0, 1.0), (1.0, 2.0))), "needs 1 lo and hi"),
        (LatentPayload((2,), "int8", bytes(2), QuantParams(False, (math.nan,), (1.0,))), "finite"),
        (LatentPayload((2,), "int8", bytes(2), QuantParams(False, (1.0,), (0.0,))), "lo <= hi"),
    ]
    for payload, message in cases:
        with pytest.raises(ValueError, match=message):
            decode_latent(payload)


def test_bad_encoder_input_is_rejected() -> None:
    x = np.zeros((2, 2))
    with pytest.raises(ValueError, match="non-finite"):
        encode_latent(np.array([1.0, math.nan]), "int8")
    with pytest.raises(ValueError, match="real numeric"):
        encode_latent(np.array([1j]), "float32")
    with pytest.raises(ValueError, match="exceed the range of float16"):
        encode_latent(np.array([1e5]), "float16")
    with pytest.raises(ValueError, match="apply to quantised encodings"):
        encode_latent(x, "float32", clip=(0, 1))
    with pytest.raises(ValueError, match="lo < hi"):
        encode_latent(x, "int8", clip=(1, 1))
    with pytest.raises(ValueError, match="finite"):
        encode_latent(x, "int8", clip=(0, math.inf))
    with pytest.raises(ValueError, match="one per channel"):
        encode_latent(x, "int8", per_channel=True, clip=([0, 1, 2], [3, 4, 5]))
    with pytest.raises(ValueError, match="percentile"):
        encode_latent(x, "int8", percentile=40)
    with pytest.raises(ValueError, match="float32"):
        encode_latent(np.array([1e39, 0.0]), "int8")
    with pytest.raises(ValueError, match="fill"):
        decode_latent(encode_latent(x, "float32"), fill="mean")
    with pytest.raises(ValueError, match="dtype"):
        decode_latent(encode_latent(x, "float32"), dtype=np.float16)
