"""Protobuf (semcom.v1) <-> core dataclasses, with the wire-level checks a boundary owes.

Every `*_from_proto` function validates what it reads and raises `InvalidRequestError`
(-> INVALID_ARGUMENT) with a message naming the field: unknown enum numbers (proto3 keeps them),
a latent whose byte length disagrees with shape x encoding, malformed quantisation ranges, an
unsupported packet version, out-of-range numbers. The cores check again (they never trust their
caller); the point here is that a bad packet is refused before any model work starts, with a
message that talks about the wire format.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, TypeVar

from semcom.link.analog import canonical, check_payload, names_scheme
from semcom.link.types import ChannelConfig, FieldReport, TransmissionReport
from semcom.models.params import MODES as MODE_NAMES  # torch-free: the receiver's parameter vocabulary
from semcom.models.params import ReconParams
from semcom.payload.latent import check_shape, get_encoding
from semcom.payload.packet import AnalogPayload, ChannelState, CodecInfo, LatentPayload, QuantParams, SemanticPacket
from semcom.pipeline.types import LatentSpec
from semcom.rpc.errors import InvalidRequestError
from semcom.v1 import channel_pb2, packet_pb2, receiver_pb2, sender_pb2

PACKET_VERSION = 1

# The tables below map core names to generated protobuf enum types (int subclasses in the .pyi
# stubs), so a number taken from them can be assigned to an enum field without a conversion.
E = TypeVar("E", bound=int)

LATENT_ENCODINGS: dict[str, packet_pb2.LatentEncoding] = {
    "float64": packet_pb2.LATENT_ENCODING_FLOAT64,
    "float32": packet_pb2.LATENT_ENCODING_FLOAT32,
    "float16": packet_pb2.LATENT_ENCODING_FLOAT16,
    "int8": packet_pb2.LATENT_ENCODING_INT8,
    "int8g": packet_pb2.LATENT_ENCODING_INT8_GRAY,
    "int6": packet_pb2.LATENT_ENCODING_INT6,
    "int6g": packet_pb2.LATENT_ENCODING_INT6_GRAY,
    "int4": packet_pb2.LATENT_ENCODING_INT4,
    "int4g": packet_pb2.LATENT_ENCODING_INT4_GRAY,
    "analog": packet_pb2.LATENT_ENCODING_ANALOG,  # options travel in AnalogSymbols.spec / ImageRequest.analog_spec
}
# The receiver's modes are named once (semcom.models.params.MODES); here only their wire numbers:
# "text+latent" is MODE_TEXT_LATENT.
MODES: dict[str, receiver_pb2.Mode] = {
    name: receiver_pb2.Mode.Value("MODE_" + name.upper().replace("+", "_")) for name in MODE_NAMES
}
SNR_CONVENTIONS: dict[str, channel_pb2.SnrConvention] = {
    "esn0": channel_pb2.SNR_CONVENTION_ESN0,
    "ebn0": channel_pb2.SNR_CONVENTION_EBN0,
}
MODULATIONS: dict[str, channel_pb2.Modulation] = {
    "bpsk": channel_pb2.MODULATION_BPSK,
    "qpsk": channel_pb2.MODULATION_QPSK,
    "16qam": channel_pb2.MODULATION_QAM16,
    "64qam": channel_pb2.MODULATION_QAM64,
    "256qam": channel_pb2.MODULATION_QAM256,
}
CHANNEL_MODELS: dict[str, channel_pb2.ChannelModel] = {
    "awgn": channel_pb2.CHANNEL_MODEL_AWGN,
    "rayleigh": channel_pb2.CHANNEL_MODEL_RAYLEIGH_BLOCK,
    "bsc": channel_pb2.CHANNEL_MODEL_BSC,
    "none": channel_pb2.CHANNEL_MODEL_NONE,
}
LATENT_POLICIES: dict[str, channel_pb2.LatentPolicy] = {
    "always": channel_pb2.LATENT_POLICY_ALWAYS,
    "threshold": channel_pb2.LATENT_POLICY_THRESHOLD,
    "never": channel_pb2.LATENT_POLICY_NEVER,
    "auto": channel_pb2.LATENT_POLICY_AUTO,
    "amc": channel_pb2.LATENT_POLICY_AMC,
}
FEC_SCHEMES: dict[str, channel_pb2.Fec] = {"none": channel_pb2.FEC_NONE, "ldpc": channel_pb2.FEC_LDPC}
# ChannelConfig's enum fields (one name in the dataclass and the message) and their tables
CHANNEL_ENUMS: dict[str, Mapping[str, Any]] = {
    "snr_convention": SNR_CONVENTIONS,
    "modulation": MODULATIONS,
    "model": CHANNEL_MODELS,
    "latent_policy": LATENT_POLICIES,
    "fec": FEC_SCHEMES,
}
# its fields with presence on the wire: an override that leaves one unset keeps the base value
_CHANNEL_OPTIONALS = ("snr_db", "drop_threshold_db", "soft_demapping", "seed", "fading_block_length")
OUTPUT_FORMATS = ("png", "jpeg")
LATENT_REPAIRS: dict[str, receiver_pb2.LatentRepair] = {
    "none": receiver_pb2.LATENT_REPAIR_NONE,
    "mmse": receiver_pb2.LATENT_REPAIR_MMSE,
    "smmse": receiver_pb2.LATENT_REPAIR_SMMSE,
}


def enum_name(table: Mapping[str, int], value: int, field: str, default: str | None = None) -> str:
    """Core name of a proto enum number; 0 (UNSPECIFIED) gives `default` when one is allowed."""
    if value == 0 and default is not None:
        return default
    for name, number in table.items():
        if number == value:
            return name
    allowed = ", ".join(f"{n} ({v})" for n, v in table.items())
    raise InvalidRequestError(f"{field}: unknown enum value {value}; expected one of {allowed}")


def enum_number(table: Mapping[str, E], name: str, field: str) -> E:
    """Proto enum number of a core name (ValueError for an unknown name)."""
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"{field}: unknown value {name!r}; expected one of {', '.join(table)}") from None


# ----------------------------------------------------------------------------- packet


def packet_to_proto(packet: SemanticPacket, profile: str = "") -> packet_pb2.SemanticPacket:
    msg = packet_pb2.SemanticPacket(
        version=PACKET_VERSION,
        packet_id=packet.packet_id,
        caption=bytes(packet.caption),
        original_size=packet_pb2.ImageSize(width=packet.original_size[0], height=packet.original_size[1]),
        coded_size=packet_pb2.ImageSize(width=packet.coded_size[0], height=packet.coded_size[1]),
        profile=profile,
        codec=packet_pb2.CodecInfo(**dataclasses.asdict(packet.codec)),
    )
    if packet.latent is not None:  # the same field names (quant, analog and its csi as nested dicts)
        latent = packet.latent
        encoding = enum_number(LATENT_ENCODINGS, latent.encoding, "latent.encoding")
        fields = dataclasses.asdict(latent) | {"encoding": encoding, "data": bytes(latent.data)}
        msg.latent.CopyFrom(packet_pb2.LatentTensor(**fields))
    return msg


def _analog_from_proto(msg: packet_pb2.LatentTensor, caption_bytes: int) -> LatentPayload:
    """Wire analog latent -> core payload, checked (`semcom.link.analog.check_payload`): the spec,
    float32 (I, Q) pairs, finite values, the budget's symbol count, unit energy as sent, side
    information the codec accepts, a channel state that fits the symbols."""
    if not msg.HasField("analog"):
        raise InvalidRequestError("packet.latent: LATENT_ENCODING_ANALOG needs latent.analog (the symbols)")
    if msg.data or (msg.HasField("quant") and (msg.quant.lo or msg.quant.hi)):
        raise InvalidRequestError("packet.latent: an analog latent has no data bytes and no quantisation parameters")
    try:
        shape = check_shape(tuple(msg.shape))
    except ValueError as exc:
        raise InvalidRequestError(f"packet.latent.shape: {exc}") from None
    a = msg.analog
    csi = (
        ChannelState(noise_var=a.csi.noise_var, gains=bytes(a.csi.gains), block_length=a.csi.block_length)
        if a.HasField("csi")
        else None
    )
    payload = LatentPayload(
        shape=shape,
        encoding="analog",
        data=b"",
        analog=AnalogPayload(spec=a.spec, symbols=bytes(a.symbols), meta=bytes(a.meta), csi=csi),
    )
    try:
        check_payload(payload, caption_bytes)
    except ValueError as exc:
        raise InvalidRequestError(f"packet.latent.analog: {exc}") from None
    return payload


def latent_from_proto(msg: packet_pb2.LatentTensor, caption_bytes: int = 0) -> LatentPayload:
    """Wire latent -> core payload, refusing a byte length that disagrees with shape x encoding.

    `caption_bytes`: the packet's caption length, which an analog latent's budget depends on."""
    name = enum_name(LATENT_ENCODINGS, msg.encoding, "packet.latent.encoding")
    if name == "analog":
        return _analog_from_proto(msg, caption_bytes)
    if msg.HasField("analog"):
        raise InvalidRequestError(f"packet.latent.analog is set, but the encoding is {name}, not analog")
    try:
        shape = check_shape(tuple(msg.shape))
    except ValueError as exc:
        raise InvalidRequestError(f"packet.latent.shape: {exc}") from None
    encoding = get_encoding(name)
    count = math.prod(shape)
    want = encoding.payload_bytes(count)
    if len(msg.data) != want:
        raise InvalidRequestError(
            f"packet.latent.data: {len(msg.data)} bytes, but shape {list(shape)} in {name} "
            f"({encoding.bits} bits per value) needs {want} bytes"
        )
    quant = None
    if encoding.family == "uniform":
        q = msg.quant
        channels = shape[0] if q.per_channel else 1
        if len(q.lo) != channels or len(q.hi) != channels:
            raise InvalidRequestError(
                f"packet.latent.quant: {name} needs {channels} lo and hi values, got {len(q.lo)} and {len(q.hi)}"
            )
        if not all(math.isfinite(v) for v in (*q.lo, *q.hi)) or any(lo > hi for lo, hi in zip(q.lo, q.hi)):
            raise InvalidRequestError("packet.latent.quant: lo/hi must be finite with lo <= hi")
        quant = QuantParams(per_channel=q.per_channel, lo=tuple(q.lo), hi=tuple(q.hi))
    elif msg.HasField("quant") and (msg.quant.lo or msg.quant.hi):
        raise InvalidRequestError(f"packet.latent.quant: {name} takes no quantisation parameters")
    return LatentPayload(shape=shape, encoding=name, data=bytes(msg.data), quant=quant)


def codec_from_proto(msg: packet_pb2.CodecInfo) -> CodecInfo:
    lo, hi = msg.valid_min, msg.valid_max
    if lo == 0.0 and hi == 0.0:  # unset in proto3: no known range
        lo, hi = -math.inf, math.inf
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise InvalidRequestError(f"packet.codec: valid range [{lo}, {hi}] is not a range")
    if not math.isfinite(msg.scaling_factor):
        raise InvalidRequestError("packet.codec.scaling_factor must be finite")
    return CodecInfo(
        name=msg.name or "unknown",
        model_id=msg.model_id,
        scaling_factor=msg.scaling_factor or 1.0,
        valid_min=lo,
        valid_max=hi,
    )


def packet_from_proto(msg: packet_pb2.SemanticPacket) -> SemanticPacket:
    """Wire packet -> core packet. Raises InvalidRequestError naming the offending field."""
    if msg.version not in (0, PACKET_VERSION):
        raise InvalidRequestError(
            f"packet.version {msg.version} is not supported (this service speaks {PACKET_VERSION})"
        )
    latent = latent_from_proto(msg.latent, len(msg.caption)) if msg.HasField("latent") else None
    return SemanticPacket(
        caption=bytes(msg.caption),
        latent=latent,
        codec=codec_from_proto(msg.codec) if msg.HasField("codec") else CodecInfo(),
        original_size=(msg.original_size.width, msg.original_size.height),
        coded_size=(msg.coded_size.width, msg.coded_size.height),
        packet_id=msg.packet_id,
    )


# ----------------------------------------------------------------------------- channel


def channel_message(**fields: Any) -> channel_pb2.ChannelConfig:
    """A ChannelConfig message with the `fields` that are not None, the enum fields (CHANNEL_ENUMS)
    by their core names (ValueError for an unknown one); as an override, every field left out
    keeps the configured value."""
    return channel_pb2.ChannelConfig(
        **{
            name: enum_number(CHANNEL_ENUMS[name], value, name) if name in CHANNEL_ENUMS else value
            for name, value in fields.items()
            if value is not None
        }
    )


def channel_config_to_proto(cfg: ChannelConfig) -> channel_pb2.ChannelConfig:
    return channel_message(**{name: getattr(cfg, name) for name in (*CHANNEL_ENUMS, *_CHANNEL_OPTIONALS)}, mcs=cfg.mcs)


def channel_config_from_proto(msg: channel_pb2.ChannelConfig, base: ChannelConfig) -> ChannelConfig:
    """`base` with every field `msg` sets overridden (an unset field keeps the base value)."""
    enums: dict[str, Any] = {
        name: enum_name(table, getattr(msg, name), f"channel.{name}", getattr(base, name))
        for name, table in CHANNEL_ENUMS.items()
    }
    given: dict[str, Any] = {name: getattr(msg, name) for name in _CHANNEL_OPTIONALS if msg.HasField(name)}
    try:
        return dataclasses.replace(base, **enums, **given, mcs=msg.mcs or base.mcs)
    except ValueError as exc:
        raise InvalidRequestError(f"channel: {exc}") from None


def _field_report_from_proto(msg: channel_pb2.FieldReport) -> FieldReport:
    return FieldReport(**{f.name: getattr(msg, f.name) for f in dataclasses.fields(FieldReport)})


# the report's scalar fields, the same name in the dataclass and the message (the nested ones convert)
_REPORT_SCALARS = tuple(
    f.name for f in dataclasses.fields(TransmissionReport) if f.name not in ("channel", "caption", "latent")
)


def report_to_proto(report: TransmissionReport) -> channel_pb2.TransmissionReport:
    """The same field names (the field reports as nested dicts); the channel by `channel_config_to_proto`."""
    fields = dataclasses.asdict(report) | {"channel": channel_config_to_proto(report.channel)}
    return channel_pb2.TransmissionReport(**fields)


def report_from_proto(msg: channel_pb2.TransmissionReport) -> TransmissionReport:
    return TransmissionReport(
        channel=channel_config_from_proto(msg.channel, ChannelConfig()),
        caption=_field_report_from_proto(msg.caption),
        latent=_field_report_from_proto(msg.latent),
        **{name: getattr(msg, name) for name in _REPORT_SCALARS},
    )


def link_report_from_proto(msg: channel_pb2.TransmissionReport) -> TransmissionReport | None:
    """The report a channel proxy attached to a request, for the receiver (None without one).

    A report without a channel configuration is no report. Its SNR numbers must be finite; the
    receiver reads the link's SNR from it as Eb/N0 (`TransmissionReport.snr`), whichever
    convention configured the proxy.
    """
    if not msg.HasField("channel"):
        return None
    for name in ("esn0_db", "ebn0_db"):
        if not math.isfinite(getattr(msg, name)):
            raise InvalidRequestError(f"report.{name}: {getattr(msg, name)} is not finite")
    return report_from_proto(msg)


# ----------------------------------------------------------------------------- receiver


def recon_params_from_proto(
    msg: receiver_pb2.ReconstructionParams, latent_repair: str = "none", strength: float | None = None
) -> ReconParams:
    """Wire parameters -> `ReconParams`; unset optionals take the paper's defaults, an unspecified
    latent repair the receiver's default `latent_repair`, an unset strength the receiver's
    `strength` (`semcom.models.params.default_strength` of its profile) when given."""
    optional = ("num_inference_steps", "strength", "guidance_scale", "seed", "adaptive_strength")
    given: dict[str, Any] = {} if strength is None else {"strength": strength}  # the rest: ReconParams' defaults
    given |= {name: getattr(msg, name) for name in optional if msg.HasField(name)}
    try:
        return ReconParams(
            mode=enum_name(MODES, msg.mode, "params.mode", "auto"),
            preset=msg.preset or None,
            latent_repair=enum_name(LATENT_REPAIRS, msg.latent_repair, "params.latent_repair", latent_repair),
            **given,
        )
    except InvalidRequestError:
        raise
    except ValueError as exc:
        raise InvalidRequestError(f"params: {exc}") from None


def latent_spec_from_proto(msg: sender_pb2.ImageRequest, default_encoding: str, size: int | None) -> LatentSpec:
    """How the sender packs the latent: the request's fields, the sender's defaults where unset."""
    encoding = enum_name(LATENT_ENCODINGS, msg.latent_encoding, "latent_encoding", default_encoding)
    if msg.analog_spec or names_scheme(encoding):
        if msg.analog_spec and msg.latent_encoding not in (0, packet_pb2.LATENT_ENCODING_ANALOG):
            raise InvalidRequestError(f"analog_spec is set, but latent_encoding is {encoding}, not analog")
        try:
            encoding = canonical(msg.analog_spec or encoding)
        except ValueError as exc:
            raise InvalidRequestError(f"analog_spec: {exc}") from None
    per_channel, clip = bool(msg.HasField("quant") and msg.quant.per_channel), None
    if msg.HasField("quant") and (msg.quant.lo or msg.quant.hi):
        q = msg.quant
        if len(q.lo) != len(q.hi) or (not q.per_channel and len(q.lo) != 1):
            raise InvalidRequestError(
                f"quant: need one lo and one hi value (or one per channel with per_channel), "
                f"got {len(q.lo)} lo and {len(q.hi)} hi"
            )
        per_channel = q.per_channel
        clip = (tuple(q.lo), tuple(q.hi)) if per_channel else (q.lo[0], q.hi[0])
    optional = {"percentile": "clip_percentile", "sample_posterior": "sample_posterior"}  # unset: LatentSpec's defaults
    given = {name: getattr(msg, wire) for name, wire in optional.items() if msg.HasField(wire)}
    return LatentSpec(encoding=encoding, per_channel=per_channel, clip=clip, size=size, **given)


def output_format(msg: receiver_pb2.ReconstructionParams) -> str:
    fmt = (msg.output_format or "png").lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    if fmt not in OUTPUT_FORMATS:
        raise InvalidRequestError(f"params.output_format must be one of {OUTPUT_FORMATS}, got {msg.output_format!r}")
    return fmt


def mode_number(name: str) -> receiver_pb2.Mode:
    return enum_number(MODES, name, "mode")


def _label(table: Mapping[str, int], number: int, unset: str) -> str:
    """The core name of a proto enum number, `unset` for 0, else "unknown(N)" (never raises)."""
    name = next((name for name, value in table.items() if value == number), None)
    return name or (unset if number == 0 else f"unknown({number})")


def repair_label(number: int) -> str:
    """A label for a proto LatentRepair number (never raises)."""
    return _label(LATENT_REPAIRS, number, "unspecified")


def mode_label(number: int) -> str:
    """A metric/log label for a proto mode number (never raises)."""
    return _label(MODES, number, "auto")
