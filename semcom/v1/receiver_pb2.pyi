from semcom.v1 import channel_pb2 as _channel_pb2
from semcom.v1 import packet_pb2 as _packet_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_UNSPECIFIED: _ClassVar[Mode]
    MODE_TEXT: _ClassVar[Mode]
    MODE_LATENT: _ClassVar[Mode]
    MODE_TEXT_LATENT: _ClassVar[Mode]
    MODE_AUTO: _ClassVar[Mode]

class LatentRepair(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LATENT_REPAIR_UNSPECIFIED: _ClassVar[LatentRepair]
    LATENT_REPAIR_NONE: _ClassVar[LatentRepair]
    LATENT_REPAIR_MMSE: _ClassVar[LatentRepair]
    LATENT_REPAIR_SMMSE: _ClassVar[LatentRepair]
MODE_UNSPECIFIED: Mode
MODE_TEXT: Mode
MODE_LATENT: Mode
MODE_TEXT_LATENT: Mode
MODE_AUTO: Mode
LATENT_REPAIR_UNSPECIFIED: LatentRepair
LATENT_REPAIR_NONE: LatentRepair
LATENT_REPAIR_MMSE: LatentRepair
LATENT_REPAIR_SMMSE: LatentRepair

class ReconstructionParams(_message.Message):
    __slots__ = ("mode", "num_inference_steps", "strength", "guidance_scale", "seed", "adaptive_strength", "output_format", "latent_repair", "preset")
    MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_INFERENCE_STEPS_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_SCALE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ADAPTIVE_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    LATENT_REPAIR_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    mode: Mode
    num_inference_steps: int
    strength: float
    guidance_scale: float
    seed: int
    adaptive_strength: bool
    output_format: str
    latent_repair: LatentRepair
    preset: str
    def __init__(self, mode: _Optional[_Union[Mode, str]] = ..., num_inference_steps: _Optional[int] = ..., strength: _Optional[float] = ..., guidance_scale: _Optional[float] = ..., seed: _Optional[int] = ..., adaptive_strength: _Optional[bool] = ..., output_format: _Optional[str] = ..., latent_repair: _Optional[_Union[LatentRepair, str]] = ..., preset: _Optional[str] = ...) -> None: ...

class Image(_message.Message):
    __slots__ = ("data", "width", "height", "format")
    DATA_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    width: int
    height: int
    format: str
    def __init__(self, data: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class ReconstructRequest(_message.Message):
    __slots__ = ("request_id", "packet", "params", "channel", "report")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PACKET_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    packet: _packet_pb2.SemanticPacket
    params: ReconstructionParams
    channel: _channel_pb2.ChannelConfig
    report: _channel_pb2.TransmissionReport
    def __init__(self, request_id: _Optional[str] = ..., packet: _Optional[_Union[_packet_pb2.SemanticPacket, _Mapping]] = ..., params: _Optional[_Union[ReconstructionParams, _Mapping]] = ..., channel: _Optional[_Union[_channel_pb2.ChannelConfig, _Mapping]] = ..., report: _Optional[_Union[_channel_pb2.TransmissionReport, _Mapping]] = ...) -> None: ...

class ReconstructResponse(_message.Message):
    __slots__ = ("request_id", "image", "mode_used", "caption_received", "steps_executed", "report", "timings", "seed", "strength_used", "latent_repair_used", "preset_used", "guidance_used")
    class TimingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MODE_USED_FIELD_NUMBER: _ClassVar[int]
    CAPTION_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STEPS_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_USED_FIELD_NUMBER: _ClassVar[int]
    LATENT_REPAIR_USED_FIELD_NUMBER: _ClassVar[int]
    PRESET_USED_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_USED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    image: Image
    mode_used: Mode
    caption_received: bytes
    steps_executed: int
    report: _channel_pb2.TransmissionReport
    timings: _containers.ScalarMap[str, float]
    seed: int
    strength_used: float
    latent_repair_used: LatentRepair
    preset_used: str
    guidance_used: float
    def __init__(self, request_id: _Optional[str] = ..., image: _Optional[_Union[Image, _Mapping]] = ..., mode_used: _Optional[_Union[Mode, str]] = ..., caption_received: _Optional[bytes] = ..., steps_executed: _Optional[int] = ..., report: _Optional[_Union[_channel_pb2.TransmissionReport, _Mapping]] = ..., timings: _Optional[_Mapping[str, float]] = ..., seed: _Optional[int] = ..., strength_used: _Optional[float] = ..., latent_repair_used: _Optional[_Union[LatentRepair, str]] = ..., preset_used: _Optional[str] = ..., guidance_used: _Optional[float] = ...) -> None: ...
