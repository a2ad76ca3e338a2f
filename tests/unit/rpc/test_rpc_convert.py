"""semcom.rpc.convert: core <-> protobuf round trips and the wire-level checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semcom.link.types import ChannelConfig, FieldReport, TransmissionReport
from semcom.payload.latent import encode_latent
from semcom.payload.packet import CodecInfo, SemanticPacket
from semcom.rpc import convert
from semcom.rpc.errors import InvalidRequestError
from semcom.v1 import channel_pb2, packet_pb2, receiver_pb2


def _packet(encoding: str, per_channel: bool = False) -> SemanticPacket:
    latent = np.random.default_rng(0).normal(size=(4, 8, 8)).astype(np.float32)
    return SemanticPacket(
        caption=b"a dog runs on the grass",
        latent=encode_latent(latent, encoding, per_channel=per_channel),
        codec=CodecInfo("sd15-vae", "runwayml/stable-diffusion-v1-5", 0.18215, -5.0, 5.0),
        original_size=(500, 375),
        coded_size=(64, 64),
        packet_id="p1",
    )


@pytest.mark.parametrize(
    "encoding,per_channel", [("float64", False), ("float16", False), ("int8", False), ("int4g", True), ("int6", False)]
)
def test_packet_round_trip_is_exact(encoding: str, per_channel: bool) -> None:
    packet = _packet(encoding, per_channel)
    msg = convert.packet_to_proto(packet, profile="paper")
    wire = packet_pb2.SemanticPacket.FromString(msg.SerializeToString())
    back = convert.packet_from_proto(wire)
    assert wire.version == convert.PACKET_VERSION and wire.profile == "paper"
    assert back.caption == packet.caption and back.latent.data == packet.latent.data
    assert back.latent.shape == packet.latent.shape and back.latent.encoding == encoding
    assert back.original_size == (500, 375) and back.coded_size == (64, 64)
    assert back.codec.name == "sd15-vae" and back.codec.valid_min == -5.0 and back.codec.valid_max == 5.0
    if packet.latent.quant is not None:
        assert back.latent.quant.per_channel == per_channel
        np.testing.assert_allclose(back.latent.quant.lo, packet.latent.quant.lo, rtol=1e-6)


def test_packet_without_latent_or_codec() -> None:
    msg = packet_pb2.SemanticPacket(caption=b"text only")
    back = convert.packet_from_proto(msg)
    assert back.latent is None and back.caption == b"text only"
    assert back.codec.valid_min == -math.inf and back.codec.valid_max == math.inf


def test_latent_byte_length_must_match_shape_and_encoding() -> None:
    msg = convert.packet_to_proto(_packet("float64"))
    msg.latent.data = msg.latent.data[:-8]
    with pytest.raises(InvalidRequestError, match=r"2040 bytes, but shape \[4, 8, 8\] in float64"):
        convert.packet_from_proto(msg)


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda m: setattr(m.latent, "encoding", 42), "unknown enum value 42"),
        (lambda m: setattr(m, "version", 2), "version 2 is not supported"),
        (lambda m: m.latent.shape.append(0), "latent.shape"),
        (lambda m: m.latent.quant.lo.append(1.0), "takes no quantisation"),
        (lambda m: setattr(m.codec, "valid_min", float("nan")), "not a range"),
    ],
)
def test_malformed_packets_are_refused(mutate, message: str) -> None:
    msg = convert.packet_to_proto(_packet("float64"))
    mutate(msg)
    with pytest.raises(InvalidRequestError, match=message):
        convert.packet_from_proto(msg)


def test_int8_needs_its_quantisation_range() -> None:
    msg = convert.packet_to_proto(_packet("int8"))
    msg.latent.ClearField("quant")
    with pytest.raises(InvalidRequestError, match="needs 1 lo and hi values"):
        convert.packet_from_proto(msg)


def test_channel_override_keeps_unset_fields() -> None:
    base = ChannelConfig(snr_db=10.0, modulation="16qam", latent_policy="threshold", drop_threshold_db=5.0)
    assert convert.channel_config_from_proto(channel_pb2.ChannelConfig(), base) == base
    cfg = convert.channel_config_from_proto(
        channel_pb2.ChannelConfig(snr_db=0.0, modulation=channel_pb2.MODULATION_QPSK, seed=7), base
    )
    assert cfg.snr_db == 0.0 and cfg.modulation == "qpsk" and cfg.seed == 7
    assert cfg.latent_policy == "threshold" and cfg.drop_threshold_db == 5.0


@pytest.mark.parametrize(
    "override,message",
    [
        (channel_pb2.ChannelConfig(snr_db=float("nan")), "snr_db must be finite"),
        (channel_pb2.ChannelConfig(snr_db=float("inf")), "snr_db must be finite"),
        (channel_pb2.ChannelConfig(snr_db=1e6), r"in \[-50, 100\]"),
        (channel_pb2.ChannelConfig(modulation=17), "channel.modulation: unknown enum value 17"),
        (channel_pb2.ChannelConfig(latent_policy=9), "channel.latent_policy: unknown enum value 9"),
    ],
)
def test_bad_channel_overrides_are_invalid_arguments(override, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        convert.channel_config_from_proto(override, ChannelConfig())


def test_report_round_trip() -> None:
    report = TransmissionReport(
        channel=ChannelConfig(snr_db=7.5, snr_convention="esn0", seed=3),
        esn0_db=7.5,
        ebn0_db=1.48,
        caption=FieldReport(bits=616, info_bits=616, bit_errors=2, symbols=154),
        latent=FieldReport(bits=1_048_576, info_bits=1_048_576, bit_errors=1000, symbols=262_144),
        latent_dropped=False,
        total_symbols=262_298,
        channel_seconds=0.25,
    )
    back = convert.report_from_proto(convert.report_to_proto(report))
    assert back == report
    # the receiver reads the link's SNR as Eb/N0, whichever convention configured the proxy
    assert convert.link_report_from_proto(convert.report_to_proto(report)).snr.db == 1.48
    bad = convert.report_to_proto(report)
    bad.ebn0_db = float("nan")
    with pytest.raises(InvalidRequestError, match="report.ebn0_db"):
        convert.link_report_from_proto(bad)


def test_recon_params_defaults_and_limits() -> None:
    params = convert.recon_params_from_proto(receiver_pb2.ReconstructionParams())
    # guidance unset on the wire = the reproduction preset's (9; 7.5 text-only under `authors`)
    assert (params.mode, params.num_inference_steps, params.strength, params.guidance_scale) == ("auto", 50, 0.6, None)
    explicit = receiver_pb2.ReconstructionParams(
        mode=receiver_pb2.MODE_TEXT_LATENT, num_inference_steps=10, strength=0.0, seed=5
    )
    params = convert.recon_params_from_proto(explicit)
    assert (params.mode, params.num_inference_steps, params.strength, params.seed) == ("text+latent", 10, 0.0, 5)
    for bad in (
        dict(num_inference_steps=0),
        dict(num_inference_steps=5000),
        dict(strength=1.5),
        dict(strength=float("nan")),
        dict(guidance_scale=-1.0),
        dict(mode=42),
    ):
        with pytest.raises(InvalidRequestError):
            convert.recon_params_from_proto(receiver_pb2.ReconstructionParams(**bad))


def test_unset_strength_takes_the_receivers_profile_default() -> None:
    unset = receiver_pb2.ReconstructionParams()
    assert convert.recon_params_from_proto(unset).strength == 0.6  # the paper's
    assert convert.recon_params_from_proto(unset, strength=0.0).strength == 0.0  # a decode-only profile's
    asked = receiver_pb2.ReconstructionParams(strength=0.25)
    assert convert.recon_params_from_proto(asked, strength=0.0).strength == 0.25  # the request's own wins


def test_output_format() -> None:
    assert convert.output_format(receiver_pb2.ReconstructionParams()) == "png"
    assert convert.output_format(receiver_pb2.ReconstructionParams(output_format="JPG")) == "jpeg"
    with pytest.raises(InvalidRequestError, match="output_format"):
        convert.output_format(receiver_pb2.ReconstructionParams(output_format="bmp"))


def test_every_core_name_has_a_proto_number() -> None:
    from semcom.link import types
    from semcom.models.params import MODES
    from semcom.payload.latent import ENCODINGS

    assert set(convert.LATENT_ENCODINGS) == set(ENCODINGS) | {"analog"}  # analog: symbols, not bytes
    assert set(convert.MODES) == set(MODES)
    assert set(convert.MODULATIONS) == set(types.MODULATIONS)
    assert set(convert.CHANNEL_MODELS) == set(types.CHANNEL_MODELS)
    assert set(convert.LATENT_POLICIES) == set(types.LATENT_POLICIES)
    assert set(convert.SNR_CONVENTIONS) == set(types.SNR_CONVENTIONS)


def test_reported_link_and_latent_repair_params() -> None:
    report = TransmissionReport(
        channel=ChannelConfig(snr_db=4.0, snr_convention="ebn0", modulation="64qam", model="rayleigh", seed=3),
        esn0_db=11.78,
        ebn0_db=4.0,
    )
    link = convert.link_report_from_proto(convert.report_to_proto(report)).channel
    assert (link.snr_db, link.snr_convention, link.modulation, link.model, link.fec) == (
        4.0,
        "ebn0",
        "64qam",
        "rayleigh",
        "none",
    )
    assert convert.link_report_from_proto(channel_pb2.TransmissionReport()) is None  # no proxy, no link
    unset = receiver_pb2.ReconstructionParams()
    assert convert.recon_params_from_proto(unset).latent_repair == "none"
    assert convert.recon_params_from_proto(unset, latent_repair="smmse").latent_repair == "smmse"  # receiver default
    asked = receiver_pb2.ReconstructionParams(latent_repair=receiver_pb2.LATENT_REPAIR_MMSE)
    assert convert.recon_params_from_proto(asked, latent_repair="smmse").latent_repair == "mmse"
    with pytest.raises(InvalidRequestError, match="params.latent_repair: unknown enum value 7"):
        convert.recon_params_from_proto(receiver_pb2.ReconstructionParams(latent_repair=7))
    assert convert.repair_label(receiver_pb2.LATENT_REPAIR_SMMSE) == "smmse" and convert.repair_label(9) == "unknown(9)"


def test_unset_request_fields_take_the_servers_defaults() -> None:
    """A client that leaves a field unset gets the service's configured default (proto3 presence),
    not a value the client library chose for it."""
    from semcom.pipeline import RoleSeeds
    from semcom.rpc.client import image_request

    bare = image_request(b"\x89PNG...")
    assert bare.latent_encoding == 0 and not bare.HasField("sample_posterior")
    assert not bare.params.HasField("adaptive_strength") and not bare.HasField("seed")
    spec = convert.latent_spec_from_proto(bare, default_encoding="int8g", size=64)
    assert (spec.encoding, spec.sample_posterior, spec.per_channel, spec.percentile, spec.size) == (
        "int8g",
        True,
        False,
        100.0,
        64,
    )
    assert convert.recon_params_from_proto(bare.params).adaptive_strength is False
    asked = image_request(
        b"x",
        latent_encoding="float16",
        sample_posterior=False,
        adaptive_strength=True,
        clip_percentile=99.9,
        per_channel=True,
    )
    spec = convert.latent_spec_from_proto(asked, default_encoding="int8g", size=None)
    assert (spec.encoding, spec.sample_posterior, spec.per_channel, spec.percentile) == (
        "float16",
        False,
        True,
        pytest.approx(99.9),
    )
    assert convert.recon_params_from_proto(asked.params).adaptive_strength is True
    # one user seed: three independent seeds on the wire, one per role; an explicit channel seed wins
    seeded = image_request(b"x", seed=4, index=2)
    roles = RoleSeeds.derive(4, 2)
    assert (seeded.seed, seeded.channel.seed, seeded.params.seed) == (roles.sender, roles.channel, roles.receiver)
    kept = image_request(b"x", seed=4, channel=channel_pb2.ChannelConfig(seed=1))
    assert kept.channel.seed == 1 and kept.params.seed == RoleSeeds.derive(4, 0).receiver
    with pytest.raises(InvalidRequestError, match="quant"):
        msg = image_request(b"x", latent_encoding="int8")
        msg.quant.lo.extend([0.0, 1.0])
        convert.latent_spec_from_proto(msg, "float64", None)


def test_preset_crosses_the_wire() -> None:
    assert convert.recon_params_from_proto(receiver_pb2.ReconstructionParams()).preset is None  # receiver's default
    asked = receiver_pb2.ReconstructionParams(preset="authors")
    assert convert.recon_params_from_proto(asked).preset == "authors"
    with pytest.raises(InvalidRequestError, match="preset"):
        convert.recon_params_from_proto(receiver_pb2.ReconstructionParams(preset="ldm-ish"))
