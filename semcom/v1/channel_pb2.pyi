from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SnrConvention(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNR_CONVENTION_UNSPECIFIED: _ClassVar[SnrConvention]
    SNR_CONVENTION_ESN0: _ClassVar[SnrConvention]
    SNR_CONVENTION_EBN0: _ClassVar[SnrConvention]

class Modulation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODULATION_UNSPECIFIED: _ClassVar[Modulation]
    MODULATION_BPSK: _ClassVar[Modulation]
    MODULATION_QPSK: _ClassVar[Modulation]
    MODULATION_QAM16: _ClassVar[Modulation]
    MODULATION_QAM64: _ClassVar[Modulation]
    MODULATION_QAM256: _ClassVar[Modulation]

class ChannelModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_MODEL_UNSPECIFIED: _ClassVar[ChannelModel]
    CHANNEL_MODEL_AWGN: _ClassVar[ChannelModel]
    CHANNEL_MODEL_RAYLEIGH_BLOCK: _ClassVar[ChannelModel]
    CHANNEL_MODEL_BSC: _ClassVar[ChannelModel]
    CHANNEL_MODEL_NONE: _ClassVar[ChannelModel]

class LatentPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LATENT_POLICY_UNSPECIFIED: _ClassVar[LatentPolicy]
    LATENT_POLICY_ALWAYS: _ClassVar[LatentPolicy]
    LATENT_POLICY_THRESHOLD: _ClassVar[LatentPolicy]
    LATENT_POLICY_NEVER: _ClassVar[LatentPolicy]
    LATENT_POLICY_AMC: _ClassVar[LatentPolicy]
    LATENT_POLICY_AUTO: _ClassVar[LatentPolicy]

class Fec(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEC_UNSPECIFIED: _ClassVar[Fec]
    FEC_NONE: _ClassVar[Fec]
    FEC_LDPC: _ClassVar[Fec]
SNR_CONVENTION_UNSPECIFIED: SnrConvention
SNR_CONVENTION_ESN0: SnrConvention
SNR_CONVENTION_EBN0: SnrConvention
MODULATION_UNSPECIFIED: Modulation
MODULATION_BPSK: Modulation
MODULATION_QPSK: Modulation
MODULATION_QAM16: Modulation
MODULATION_QAM64: Modulation
MODULATION_QAM256: Modulation
CHANNEL_MODEL_UNSPECIFIED: ChannelModel
CHANNEL_MODEL_AWGN: ChannelModel
CHANNEL_MODEL_RAYLEIGH_BLOCK: ChannelModel
CHANNEL_MODEL_BSC: ChannelModel
CHANNEL_MODEL_NONE: ChannelModel
LATENT_POLICY_UNSPECIFIED: LatentPolicy
LATENT_POLICY_ALWAYS: LatentPolicy
LATENT_POLICY_THRESHOLD: LatentPolicy
LATENT_POLICY_NEVER: LatentPolicy
LATENT_POLICY_AMC: LatentPolicy
LATENT_POLICY_AUTO: LatentPolicy
FEC_UNSPECIFIED: Fec
FEC_NONE: Fec
FEC_LDPC: Fec

class ChannelConfig(_message.Message):
    __slots__ = ("snr_db", "snr_convention", "modulation", "model", "seed", "latent_policy", "drop_threshold_db", "fec", "mcs", "soft_demapping", "fading_block_length")
    SNR_DB_FIELD_NUMBER: _ClassVar[int]
    SNR_CONVENTION_FIELD_NUMBER: _ClassVar[int]
    MODULATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LATENT_POLICY_FIELD_NUMBER: _ClassVar[int]
    DROP_THRESHOLD_DB_FIELD_NUMBER: _ClassVar[int]
    FEC_FIELD_NUMBER: _ClassVar[int]
    MCS_FIELD_NUMBER: _ClassVar[int]
    SOFT_DEMAPPING_FIELD_NUMBER: _ClassVar[int]
    FADING_BLOCK_LENGTH_FIELD_NUMBER: _ClassVar[int]
    snr_db: float
    snr_convention: SnrConvention
    modulation: Modulation
    model: ChannelModel
    seed: int
    latent_policy: LatentPolicy
    drop_threshold_db: float
    fec: Fec
    mcs: str
    soft_demapping: bool
    fading_block_length: int
    def __init__(self, snr_db: _Optional[float] = ..., snr_convention: _Optional[_Union[SnrConvention, str]] = ..., modulation: _Optional[_Union[Modulation, str]] = ..., model: _Optional[_Union[ChannelModel, str]] = ..., seed: _Optional[int] = ..., latent_policy: _Optional[_Union[LatentPolicy, str]] = ..., drop_threshold_db: _Optional[float] = ..., fec: _Optional[_Union[Fec, str]] = ..., mcs: _Optional[str] = ..., soft_demapping: _Optional[bool] = ..., fading_block_length: _Optional[int] = ...) -> None: ...

class FieldReport(_message.Message):
    __slots__ = ("bits", "info_bits", "bit_errors", "symbols", "segments", "segments_failed", "mcs", "values_sanitised", "chars_replaced", "analog_symbols")
    BITS_FIELD_NUMBER: _ClassVar[int]
    INFO_BITS_FIELD_NUMBER: _ClassVar[int]
    BIT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    MCS_FIELD_NUMBER: _ClassVar[int]
    VALUES_SANITISED_FIELD_NUMBER: _ClassVar[int]
    CHARS_REPLACED_FIELD_NUMBER: _ClassVar[int]
    ANALOG_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    bits: int
    info_bits: int
    bit_errors: int
    symbols: int
    segments: int
    segments_failed: int
    mcs: str
    values_sanitised: int
    chars_replaced: int
    analog_symbols: int
    def __init__(self, bits: _Optional[int] = ..., info_bits: _Optional[int] = ..., bit_errors: _Optional[int] = ..., symbols: _Optional[int] = ..., segments: _Optional[int] = ..., segments_failed: _Optional[int] = ..., mcs: _Optional[str] = ..., values_sanitised: _Optional[int] = ..., chars_replaced: _Optional[int] = ..., analog_symbols: _Optional[int] = ...) -> None: ...

class TransmissionReport(_message.Message):
    __slots__ = ("channel", "esn0_db", "ebn0_db", "caption", "latent", "latent_dropped", "drop_reason", "total_symbols", "channel_seconds", "latent_analog")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ESN0_DB_FIELD_NUMBER: _ClassVar[int]
    EBN0_DB_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    LATENT_FIELD_NUMBER: _ClassVar[int]
    LATENT_DROPPED_FIELD_NUMBER: _ClassVar[int]
    DROP_REASON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LATENT_ANALOG_FIELD_NUMBER: _ClassVar[int]
    channel: ChannelConfig
    esn0_db: float
    ebn0_db: float
    caption: FieldReport
    latent: FieldReport
    latent_dropped: bool
    drop_reason: str
    total_symbols: int
    channel_seconds: float
    latent_analog: bool
    def __init__(self, channel: _Optional[_Union[ChannelConfig, _Mapping]] = ..., esn0_db: _Optional[float] = ..., ebn0_db: _Optional[float] = ..., caption: _Optional[_Union[FieldReport, _Mapping]] = ..., latent: _Optional[_Union[FieldReport, _Mapping]] = ..., latent_dropped: _Optional[bool] = ..., drop_reason: _Optional[str] = ..., total_symbols: _Optional[int] = ..., channel_seconds: _Optional[float] = ..., latent_analog: _Optional[bool] = ...) -> None: ...
