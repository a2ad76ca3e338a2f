from semcom.v1 import channel_pb2 as _channel_pb2
from semcom.v1 import packet_pb2 as _packet_pb2
from semcom.v1 import receiver_pb2 as _receiver_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageRequest(_message.Message):
    __slots__ = ("request_id", "image", "caption", "latent_encoding", "quant", "sample_posterior", "params", "channel", "seed", "clip_percentile", "analog_spec")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    LATENT_ENCODING_FIELD_NUMBER: _ClassVar[int]
    QUANT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_POSTERIOR_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CLIP_PERCENTILE_FIELD_NUMBER: _ClassVar[int]
    ANALOG_SPEC_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    image: bytes
    caption: str
    latent_encoding: _packet_pb2.LatentEncoding
    quant: _packet_pb2.QuantParams
    sample_posterior: bool
    params: _receiver_pb2.ReconstructionParams
    channel: _channel_pb2.ChannelConfig
    seed: int
    clip_percentile: float
    analog_spec: str
    def __init__(self, request_id: _Optional[str] = ..., image: _Optional[bytes] = ..., caption: _Optional[str] = ..., latent_encoding: _Optional[_Union[_packet_pb2.LatentEncoding, str]] = ..., quant: _Optional[_Union[_packet_pb2.QuantParams, _Mapping]] = ..., sample_posterior: _Optional[bool] = ..., params: _Optional[_Union[_receiver_pb2.ReconstructionParams, _Mapping]] = ..., channel: _Optional[_Union[_channel_pb2.ChannelConfig, _Mapping]] = ..., seed: _Optional[int] = ..., clip_percentile: _Optional[float] = ..., analog_spec: _Optional[str] = ...) -> None: ...

class EncodeResponse(_message.Message):
    __slots__ = ("request_id", "packet", "timings")
    class TimingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PACKET_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    packet: _packet_pb2.SemanticPacket
    timings: _containers.ScalarMap[str, float]
    def __init__(self, request_id: _Optional[str] = ..., packet: _Optional[_Union[_packet_pb2.SemanticPacket, _Mapping]] = ..., timings: _Optional[_Mapping[str, float]] = ...) -> None: ...

class TransmitResult(_message.Message):
    __slots__ = ("request_id", "reconstruction", "caption_sent", "caption_received", "report", "mode_used", "steps_executed", "timings", "seed", "strength_used", "latent_repair_used", "preset_used", "guidance_used")
    class TimingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    CAPTION_SENT_FIELD_NUMBER: _ClassVar[int]
    CAPTION_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    MODE_USED_FIELD_NUMBER: _ClassVar[int]
    STEPS_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_USED_FIELD_NUMBER: _ClassVar[int]
    LATENT_REPAIR_USED_FIELD_NUMBER: _ClassVar[int]
    PRESET_USED_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_USED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reconstruction: _receiver_pb2.Image
    caption_sent: bytes
    caption_received: bytes
    report: _channel_pb2.TransmissionReport
    mode_used: _receiver_pb2.Mode
    steps_executed: int
    timings: _containers.ScalarMap[str, float]
    seed: int
    strength_used: float
    latent_repair_used: _receiver_pb2.LatentRepair
    preset_used: str
    guidance_used: float
    def __init__(self, request_id: _Optional[str] = ..., reconstruction: _Optional[_Union[_receiver_pb2.Image, _Mapping]] = ..., caption_sent: _Optional[bytes] = ..., caption_received: _Optional[bytes] = ..., report: _Optional[_Union[_channel_pb2.TransmissionReport, _Mapping]] = ..., mode_used: _Optional[_Union[_receiver_pb2.Mode, str]] = ..., steps_executed: _Optional[int] = ..., timings: _Optional[_Mapping[str, float]] = ..., seed: _Optional[int] = ..., strength_used: _Optional[float] = ..., latent_repair_used: _Optional[_Union[_receiver_pb2.LatentRepair, str]] = ..., preset_used: _Optional[str] = ..., guidance_used: _Optional[float] = ...) -> None: ...
