"""The analog latent on the link (semcom.link.analog, docs/channel.md "Analog latent"): unit energy
on the wire, the budget spent exactly, the header on the coded link, the receiver's channel state,
the policies, the checks every hop runs, and the protobuf round trip with its refusals."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from semcom.link import analog
from semcom.link.policy import decide_latent
from semcom.link.transmission import transmit_packet
from semcom.link.types import ChannelConfig
from semcom.payload.packet import ChannelState, SemanticPacket

CAPTION = b"a red disc on a blue gradient"
SHAPE = (4, 8, 8)


def _latent(shape=SHAPE, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[1], 0 : shape[2]]
    smooth = np.sin(x / 3.0)[None] + np.cos(y / 4.0)[None] * np.arange(1, shape[0] + 1)[:, None, None]
    return (smooth + 0.3 * rng.standard_normal(shape)).astype(np.float32)


def _packet(encoding="analog", shape=SHAPE) -> SemanticPacket:
    payload = analog.encode_payload(_latent(shape), encoding, len(CAPTION))
    return SemanticPacket(caption=CAPTION, latent=payload, coded_size=(64, 64))


def _symbols(packet: SemanticPacket) -> np.ndarray:
    assert packet.latent is not None and packet.latent.analog is not None
    return analog.symbols_from_bytes(packet.latent.analog.symbols)


@pytest.mark.parametrize("encoding", ["analog", "analog:sym=1500", "analog:budget=float16", "analog:frac=3/2"])
def test_unit_energy_and_the_budget_spent_exactly(encoding: str) -> None:
    packet = _packet(encoding)
    x = _symbols(packet)
    assert np.mean(np.abs(x.astype(np.complex128)) ** 2) == pytest.approx(1.0, abs=1e-5)
    spec = analog.parse_spec(encoding)
    budget = analog.budget(spec, SHAPE, len(CAPTION))
    # on the reference link (uncoded 16-QAM caption) the packet uses exactly its budget
    _, report = transmit_packet(packet, ChannelConfig(snr_db=10, snr_convention="esn0", seed=1))
    assert report.total_symbols == budget
    assert report.latent.analog_symbols == x.size
    assert report.latent.symbols == x.size + analog.header_symbols(len(packet.latent.analog.meta))
    assert report.latent_analog and not report.latent_dropped
    if encoding == "analog":  # the int8 latent's packet: caption + one byte per value on 16-QAM
        assert budget == math.ceil(len(CAPTION) * 8 / 4) + math.prod(SHAPE) * 2


def test_the_sender_refuses_a_budget_over_the_wire_bound() -> None:
    with pytest.raises(ValueError, match=r"analog:frac=64: .* over the cap of 1000000 \(SEMCOM_MAX_LATENT_BYTES\)"):
        analog.encode_payload(_latent((4, 64, 64)), "analog:frac=64", len(CAPTION), max_bytes=10**6)
    analog.encode_payload(_latent(), "analog", len(CAPTION), max_bytes=8 * 512)  # at the bound: fine


def test_paper_shaped_latent_uses_its_budget_and_estimates_better_with_snr() -> None:
    shape = (4, 64, 64)  # the SD VAE latent of a 512x512 image
    x = _latent(shape)
    payload = analog.encode_payload(x, "analog", len(CAPTION))
    packet = SemanticPacket(caption=CAPTION, latent=payload)
    errors = []
    for snr in (0.0, 10.0, 20.0):
        received, report = transmit_packet(packet, ChannelConfig(snr_db=snr, snr_convention="esn0", seed=3))
        assert report.total_symbols == analog.budget(analog.parse_spec("analog"), shape, len(CAPTION))
        assert received.latent is not None
        estimate = analog.decode_payload(received.latent)
        assert estimate.shape == shape
        errors.append(float(np.mean((estimate - x) ** 2)))
    assert errors[0] > errors[1] > errors[2]


def test_the_receiver_knows_the_gain_per_block() -> None:
    packet = _packet()
    cfg = ChannelConfig(snr_db=15, snr_convention="esn0", model="rayleigh", fading_block_length=16, seed=2)
    received, report = transmit_packet(packet, cfg)
    assert received.latent is not None and received.latent.analog is not None
    csi = received.latent.analog.csi
    n = _symbols(packet).size
    assert csi is not None and csi.block_length == 16 and len(csi.gains) == 8 * math.ceil(n / 16)
    assert csi.noise_var == pytest.approx(10 ** (-1.5))
    # the same draw as phy.analog's channel: y = h x + n with h repeated over each block
    x, y = _symbols(packet), _symbols(received)
    h = np.repeat(analog.symbols_from_bytes(csi.gains), 16)[:n]
    assert np.mean(np.abs(y - h * x) ** 2) == pytest.approx(csi.noise_var, rel=0.2)
    analog.check_payload(received.latent, len(CAPTION))  # a received payload passes the receiver's checks
    # AWGN: no gains, the noise variance at the channel's Es/N0
    received, _ = transmit_packet(packet, dataclasses.replace(cfg, model="awgn"))
    assert received.latent is not None and received.latent.analog is not None
    assert received.latent.analog.csi == ChannelState(noise_var=pytest.approx(10 ** (-1.5)))


def test_same_channel_in_both_conventions_and_only_esn0_for_the_latent() -> None:
    packet = _packet()
    eb = ChannelConfig(snr_db=7.0, snr_convention="ebn0", seed=4)
    es = ChannelConfig(snr_db=7.0 + 10 * math.log10(4), snr_convention="esn0", seed=4)
    (rx_eb, rep_eb), (rx_es, rep_es) = transmit_packet(packet, eb), transmit_packet(packet, es)
    assert rep_eb.esn0_db == pytest.approx(rep_es.esn0_db) and rep_eb.latent_analog
    assert rx_eb.latent is not None and rx_es.latent is not None
    assert rx_eb.latent.analog == rx_es.latent.analog  # the same symbols, noise and state
    assert rep_eb.ebn0_db == pytest.approx(7.0)  # the modulation's Eb/N0 at that Es/N0, documented


def test_policies_never_drop_an_analog_latent_for_low_snr_unless_asked() -> None:
    latent = _packet().latent
    assert latent is not None
    low = ChannelConfig(snr_db=-5.0, snr_convention="esn0")
    for policy, fec in (("auto", "none"), ("auto", "ldpc"), ("amc", "ldpc"), ("always", "none")):
        assert decide_latent(dataclasses.replace(low, latent_policy=policy, fec=fec), latent).send, policy
    assert not decide_latent(dataclasses.replace(low, latent_policy="threshold"), latent).send
    assert not decide_latent(dataclasses.replace(low, latent_policy="never"), latent).send
    # auto, uncoded, Es/N0 2 dB (under the 5 dB threshold; the header at qpsk-r1/3 still decodes): sent
    received, report = transmit_packet(_packet(), dataclasses.replace(low, snr_db=2.0, seed=0))
    assert received.latent is not None and not report.latent_dropped


def test_a_header_that_fails_its_crc_loses_the_latent() -> None:
    cfg = ChannelConfig(snr_db=-12.0, snr_convention="esn0", latent_policy="always", seed=5)
    received, report = transmit_packet(_packet(), cfg)
    assert received.latent is None and report.latent_dropped
    assert "header" in report.drop_reason and "CRC" in report.drop_reason
    assert report.latent.segments_failed == report.latent.segments == 1 and report.latent.mcs == analog.HEADER_MCS


def test_error_free_channel_and_the_bit_channel() -> None:
    received, report = transmit_packet(_packet(), ChannelConfig(model="none", seed=0))
    assert received.latent is not None and received.latent.analog is not None
    assert received.latent.analog.csi == ChannelState(noise_var=0.0)
    assert received.latent.analog.symbols == _packet().latent.analog.symbols  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="needs a symbol channel"):
        transmit_packet(_packet(), ChannelConfig(model="bsc", seed=0))


def _with(packet: SemanticPacket, **changes) -> SemanticPacket:
    assert packet.latent is not None and packet.latent.analog is not None
    latent = dataclasses.replace(packet.latent, analog=dataclasses.replace(packet.latent.analog, **changes))
    return dataclasses.replace(packet, latent=latent)


def _floats(packet: SemanticPacket) -> np.ndarray:
    return _symbols(packet).view(np.float32).copy()


BAD = [
    (
        "NaN",
        lambda p: _with(
            p, symbols=np.where(np.arange(_floats(p).size) == 3, np.nan, _floats(p)).astype("<f4").tobytes()
        ),
        "not every I/Q value is finite",
    ),
    (
        "inf",
        lambda p: _with(
            p, symbols=np.where(np.arange(_floats(p).size) == 0, np.inf, _floats(p)).astype("<f4").tobytes()
        ),
        "not every I/Q value is finite",
    ),
    ("odd float count", lambda p: _with(p, symbols=p.latent.analog.symbols + b"\0\0\0\0"), "odd count"),
    ("ragged bytes", lambda p: _with(p, symbols=p.latent.analog.symbols + b"\0"), "whole number of float32"),
    ("one symbol short", lambda p: _with(p, symbols=p.latent.analog.symbols[:-8]), "complex symbols, but"),
    ("one symbol more", lambda p: _with(p, symbols=p.latent.analog.symbols * 2), "complex symbols, but"),
    ("energy 4", lambda p: _with(p, symbols=(_floats(p) * 2).astype("<f4").tobytes()), "average energy"),
    ("meta cut", lambda p: _with(p, meta=p.latent.analog.meta[:-1]), "complex symbols, but|meta"),
    (
        "meta scale NaN",
        lambda p: _with(p, meta=np.float32(np.nan).tobytes() + p.latent.analog.meta[4:]),
        "meta: .*energy scale",
    ),
    ("spec not analog", lambda p: _with(p, spec="softcast"), "pixels"),
    ("spec malformed", lambda p: _with(p, spec="analog:frac=0/1"), "frac"),
    ("spec not canonical", lambda p: _with(p, spec="analog:budget=int8"), "not canonical"),
    ("downscaled latent", lambda p: _with(p, spec="analog:scale=2"), "scale=2 .* semcom eval"),
    ("csi gains for the wrong block count", lambda p: _with(p, csi=ChannelState(0.1, b"\0" * 16, 4)), "gains for"),
    ("csi noise NaN", lambda p: _with(p, csi=ChannelState(float("nan"))), "noise_var"),
]


@pytest.mark.parametrize("case,make,fragment", BAD, ids=[c[0] for c in BAD])
def test_check_payload_refuses(case: str, make, fragment: str) -> None:
    bad = make(_packet())
    with pytest.raises(ValueError, match=fragment):
        analog.check_payload(bad.latent, len(CAPTION))


def test_proto_round_trip_and_refusals() -> None:
    from semcom.rpc import convert
    from semcom.rpc.errors import InvalidRequestError

    packet = _packet("analog:budget=float16")
    msg = convert.packet_to_proto(packet)
    assert msg.latent.encoding == convert.LATENT_ENCODINGS["analog"] and not msg.latent.data
    assert len(msg.latent.analog.symbols) % 8 == 0 and not msg.latent.analog.HasField("csi")
    assert convert.packet_from_proto(msg) == packet
    received, _ = transmit_packet(packet, ChannelConfig(model="rayleigh", fading_block_length=7, seed=9))
    assert convert.packet_from_proto(convert.packet_to_proto(received)) == received  # with its channel state
    for _case, make, fragment in BAD:
        bad = convert.packet_to_proto(make(packet))
        with pytest.raises(InvalidRequestError, match=f"packet.latent.analog: .*({fragment})"):
            convert.packet_from_proto(bad)
    no_symbols = convert.packet_to_proto(packet)
    no_symbols.latent.ClearField("analog")
    with pytest.raises(InvalidRequestError, match="needs latent.analog"):
        convert.packet_from_proto(no_symbols)
    with_data = convert.packet_to_proto(packet)
    with_data.latent.data = b"\0" * 8
    with pytest.raises(InvalidRequestError, match="no data bytes"):
        convert.packet_from_proto(with_data)


def test_image_request_names_the_analog_spec() -> None:
    from semcom.pipeline.types import LatentSpec  # noqa: F401 - the converter's result type
    from semcom.rpc import convert
    from semcom.rpc.client import image_request
    from semcom.rpc.errors import InvalidRequestError
    from semcom.v1 import packet_pb2

    req = image_request(b"x", latent_encoding="analog:budget=int8")
    assert req.latent_encoding == packet_pb2.LATENT_ENCODING_ANALOG and req.analog_spec == "analog"
    assert convert.latent_spec_from_proto(req, "float64", None).encoding == "analog"
    req = image_request(b"x", latent_encoding="analog:frac=1/4")
    assert convert.latent_spec_from_proto(req, "float64", None).encoding == "analog:frac=1/4"
    # the sender's default may be analog too
    assert convert.latent_spec_from_proto(image_request(b"x"), "analog:sym=9000", None).encoding == "analog:sym=9000"
    req.analog_spec = "analog:sym=0"
    with pytest.raises(InvalidRequestError, match="analog_spec: .*sym"):
        convert.latent_spec_from_proto(req, "float64", None)
    req.analog_spec, req.latent_encoding = "analog", packet_pb2.LATENT_ENCODING_INT8
    with pytest.raises(InvalidRequestError, match="analog_spec is set, but latent_encoding is int8"):
        convert.latent_spec_from_proto(req, "float64", None)
    with pytest.raises(ValueError, match="pixels"):
        image_request(b"x", latent_encoding="softcast")
