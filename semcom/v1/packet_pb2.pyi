from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LatentEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LATENT_ENCODING_UNSPECIFIED: _ClassVar[LatentEncoding]
    LATENT_ENCODING_FLOAT64: _ClassVar[LatentEncoding]
    LATENT_ENCODING_FLOAT32: _ClassVar[LatentEncoding]
    LATENT_ENCODING_FLOAT16: _ClassVar[LatentEncoding]
    LATENT_ENCODING_INT8: _ClassVar[LatentEncoding]
    LATENT_ENCODING_INT8_GRAY: _ClassVar[LatentEncoding]
    LATENT_ENCODING_INT6: _ClassVar[LatentEncoding]
    LATENT_ENCODING_INT6_GRAY: _ClassVar[LatentEncoding]
    LATENT_ENCODING_INT4: _ClassVar[LatentEncoding]
    LATENT_ENCODING_INT4_GRAY: _ClassVar[LatentEncoding]
    LATENT_ENCODING_ANALOG: _ClassVar[LatentEncoding]
LATENT_ENCODING_UNSPECIFIED: LatentEncoding
LATENT_ENCODING_FLOAT64: LatentEncoding
LATENT_ENCODING_FLOAT32: LatentEncoding
LATENT_ENCODING_FLOAT16: LatentEncoding
LATENT_ENCODING_INT8: LatentEncoding
LATENT_ENCODING_INT8_GRAY: LatentEncoding
LATENT_ENCODING_INT6: LatentEncoding
LATENT_ENCODING_INT6_GRAY: LatentEncoding
LATENT_ENCODING_INT4: LatentEncoding
LATENT_ENCODING_INT4_GRAY: LatentEncoding
LATENT_ENCODING_ANALOG: LatentEncoding

class QuantParams(_message.Message):
    __slots__ = ("per_channel", "lo", "hi")
    PER_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    per_channel: bool
    lo: _containers.RepeatedScalarFieldContainer[float]
    hi: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, per_channel: _Optional[bool] = ..., lo: _Optional[_Iterable[float]] = ..., hi: _Optional[_Iterable[float]] = ...) -> None: ...

class ChannelState(_message.Message):
    __slots__ = ("noise_var", "gains", "block_length")
    NOISE_VAR_FIELD_NUMBER: _ClassVar[int]
    GAINS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_LENGTH_FIELD_NUMBER: _ClassVar[int]
    noise_var: float
    gains: bytes
    block_length: int
    def __init__(self, noise_var: _Optional[float] = ..., gains: _Optional[bytes] = ..., block_length: _Optional[int] = ...) -> None: ...

class AnalogSymbols(_message.Message):
    __slots__ = ("spec", "symbols", "meta", "csi")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    CSI_FIELD_NUMBER: _ClassVar[int]
    spec: str
    symbols: bytes
    meta: bytes
    csi: ChannelState
    def __init__(self, spec: _Optional[str] = ..., symbols: _Optional[bytes] = ..., meta: _Optional[bytes] = ..., csi: _Optional[_Union[ChannelState, _Mapping]] = ...) -> None: ...

class LatentTensor(_message.Message):
    __slots__ = ("shape", "encoding", "data", "quant", "analog")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    QUANT_FIELD_NUMBER: _ClassVar[int]
    ANALOG_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    encoding: LatentEncoding
    data: bytes
    quant: QuantParams
    analog: AnalogSymbols
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., encoding: _Optional[_Union[LatentEncoding, str]] = ..., data: _Optional[bytes] = ..., quant: _Optional[_Union[QuantParams, _Mapping]] = ..., analog: _Optional[_Union[AnalogSymbols, _Mapping]] = ...) -> None: ...

class CodecInfo(_message.Message):
    __slots__ = ("name", "model_id", "scaling_factor", "valid_min", "valid_max")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SCALING_FACTOR_FIELD_NUMBER: _ClassVar[int]
    VALID_MIN_FIELD_NUMBER: _ClassVar[int]
    VALID_MAX_FIELD_NUMBER: _ClassVar[int]
    name: str
    model_id: str
    scaling_factor: float
    valid_min: float
    valid_max: float
    def __init__(self, name: _Optional[str] = ..., model_id: _Optional[str] = ..., scaling_factor: _Optional[float] = ..., valid_min: _Optional[float] = ..., valid_max: _Optional[float] = ...) -> None: ...

class ImageSize(_message.Message):
    __slots__ = ("width", "height")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class FecInfo(_message.Message):
    __slots__ = ("scheme", "mcs")
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    MCS_FIELD_NUMBER: _ClassVar[int]
    scheme: str
    mcs: str
    def __init__(self, scheme: _Optional[str] = ..., mcs: _Optional[str] = ...) -> None: ...

class SemanticPacket(_message.Message):
    __slots__ = ("version", "packet_id", "caption", "latent", "codec", "original_size", "coded_size", "profile", "caption_fec", "latent_fec")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PACKET_ID_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    LATENT_FIELD_NUMBER: _ClassVar[int]
    CODEC_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    CODED_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FEC_FIELD_NUMBER: _ClassVar[int]
    LATENT_FEC_FIELD_NUMBER: _ClassVar[int]
    version: int
    packet_id: str
    caption: bytes
    latent: LatentTensor
    codec: CodecInfo
    original_size: ImageSize
    coded_size: ImageSize
    profile: str
    caption_fec: FecInfo
    latent_fec: FecInfo
    def __init__(self, version: _Optional[int] = ..., packet_id: _Optional[str] = ..., caption: _Optional[bytes] = ..., latent: _Optional[_Union[LatentTensor, _Mapping]] = ..., codec: _Optional[_Union[CodecInfo, _Mapping]] = ..., original_size: _Optional[_Union[ImageSize, _Mapping]] = ..., coded_size: _Optional[_Union[ImageSize, _Mapping]] = ..., profile: _Optional[str] = ..., caption_fec: _Optional[_Union[FecInfo, _Mapping]] = ..., latent_fec: _Optional[_Union[FecInfo, _Mapping]] = ...) -> None: ...
