"""The semantic packet as the pure core sees it: caption bytes + an encoded latent.

This mirrors `semcom.v1.SemanticPacket` in proto/semcom/v1/packet.proto; the service layer
converts between the two (semcom.rpc.convert). Nothing here imports gRPC or a model library.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QuantParams:
    """Uniform int8 quantisation: x in [lo, hi] -> q = round((x - lo) / (hi - lo) * 255) - 128.

    `lo`/`hi` hold one value (per tensor) or one per channel (axis 0 of the latent, per channel).
    The k-bit encodings (int6, int4, Gray variants) use the same range with 2**k - 1 steps; see
    semcom.payload.latent. Values are float32-representable (the proto carries `float`).
    """

    per_channel: bool
    lo: tuple[float, ...]
    hi: tuple[float, ...]


@dataclass(frozen=True)
class CodecInfo:
    """Identity of the image codec that produced the latent, and the latent's valid range.

    `valid_min`/`valid_max` is where a clean latent of this codec lives; the receiver clamps
    received values into it (never replaces them at random).
    """

    name: str = "unknown"  # e.g. "sd15-vae", "taesd", "taef2", "tiny-vae"
    model_id: str = ""  # hub id or local path
    scaling_factor: float = 1.0
    valid_min: float = -float("inf")
    valid_max: float = float("inf")


@dataclass(frozen=True)
class ChannelState:
    """What the receiver knows of the channel an analog latent crossed (perfect CSI): the complex
    noise variance per symbol and, on block fading, one complex gain per block of `block_length`
    symbols (float32 (I, Q) pairs, little-endian; empty: no fading)."""

    noise_var: float
    gains: bytes = b""
    block_length: int = 0


@dataclass(frozen=True)
class AnalogPayload:
    """An analog latent on the wire (docs/channel.md "Analog latent").

    `symbols`: complex channel symbols as float32 (I, Q) pairs, little-endian (8 bytes each), unit
    average energy; `meta`: the codec's side information, which crosses the digital path as the
    latent's header; `csi`: set by the channel (None as the sender sends it).
    """

    spec: str  # canonical semcom.analog spec text, e.g. "analog", "analog:frac=1/2"
    symbols: bytes
    meta: bytes = b""
    csi: ChannelState | None = None


@dataclass(frozen=True)
class LatentPayload:
    """An encoded latent: shape, encoding name, raw little-endian bytes, quantisation params.

    An analog latent has encoding "analog", no `data`, and its symbols in `analog`.
    """

    shape: tuple[int, ...]
    # a name in semcom.payload.latent.ENCODINGS: "float64" | "float32" | "float16" | "int8" | ... | "analog"
    encoding: str
    data: bytes
    quant: QuantParams | None = None
    analog: AnalogPayload | None = None


@dataclass(frozen=True)
class SemanticPacket:
    caption: bytes  # 8-bit ASCII on the wire; after a channel it may hold any byte
    latent: LatentPayload | None
    codec: CodecInfo = field(default_factory=CodecInfo)
    original_size: tuple[int, int] = (0, 0)  # (width, height) of the sender's image
    coded_size: tuple[int, int] = (0, 0)  # (width, height) the encoder saw, e.g. (512, 512)
    packet_id: str = ""
