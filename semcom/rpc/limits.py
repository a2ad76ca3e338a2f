"""Bounds on every size a client controls, checked on the protobuf messages before any work.

Each hop that handles a field checks it (the sender on `ImageRequest`, the channel proxy and the
receiver on `ReconstructRequest`), so a request cannot make any hop allocate or compute beyond
the bound, whichever hop it is sent to. A violation raises `LimitError` (INVALID_ARGUMENT) whose
message names the field, its value, the bound and the setting:

===============================  ==================================  ===========================
field                            bound (setting, default)            checked at
===============================  ==================================  ===========================
request_id                       SEMCOM_MAX_REQUEST_ID_CHARS (128)   sender, channel, receiver
caption (ImageRequest, packet)   SEMCOM_MAX_CAPTION_CHARS (77)       sender, channel, receiver
latent shape / values            rank 3, SEMCOM_MAX_LATENT_VALUES    channel, receiver
latent data bytes                SEMCOM_MAX_LATENT_BYTES             channel, receiver
analog symbols / meta /          SEMCOM_MAX_LATENT_BYTES each        channel, receiver
  csi gains bytes
analog csi.block_length          SEMCOM_MAX_FADING_BLOCK_LENGTH      channel, receiver
coded size / output pixels       SEMCOM_MAX_OUTPUT_PIXELS (1024^2)   channel, receiver (+ latent
                                                                     x spatial factor there)
params.num_inference_steps       SEMCOM_MAX_INFERENCE_STEPS (999)    sender, channel, receiver
channel.fading_block_length      SEMCOM_MAX_FADING_BLOCK_LENGTH      sender, channel, receiver
quant lo/hi values               64 each                             sender
message size                     SEMCOM_MAX_MESSAGE_BYTES (gRPC)     every hop, by gRPC
requests per stream              SEMCOM_MAX_STREAM_ITEMS             every stream (pipeline)
===============================  ==================================  ===========================

Pure: imports only the settings and the error type (no gRPC server code, no models).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from semcom import config
from semcom.rpc.errors import LimitError

MAX_QUANT_VALUES = 64  # per-channel clipping ranges: far more channels than any latent has


@dataclass(frozen=True)
class Limits:
    max_request_id_chars: int = 128
    max_caption_chars: int = 77
    max_latent_values: int = 16 * 128 * 128
    max_latent_bytes: int = 16 * 128 * 128 * 8
    max_output_pixels: int = 1024 * 1024
    max_inference_steps: int = 999
    max_fading_block_length: int = 65536

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(**config.fields_from_settings(cls))


def _over(what: str, value: int, bound: int, setting: str) -> None:
    if value > bound:
        raise LimitError(f"{what} is {value}, over the cap of {bound} ({setting})")


def _cap(what: str, value: int, limits: Limits, name: str) -> None:
    """`_over` the bound `limits.<name>`, whose setting is SEMCOM_<NAME> (`Limits.from_settings`)."""
    _over(what, value, getattr(limits, name), f"SEMCOM_{name.upper()}")


def _common(request: Any, limits: Limits) -> None:
    _cap("request_id length", len(request.request_id), limits, "max_request_id_chars")
    if request.HasField("params") and request.params.HasField("num_inference_steps"):
        _cap("params.num_inference_steps", request.params.num_inference_steps, limits, "max_inference_steps")


def _channel(channel: Any, limits: Limits, where: str) -> None:
    if channel.HasField("fading_block_length"):
        _cap(f"{where}.fading_block_length", channel.fading_block_length, limits, "max_fading_block_length")


def check_image_request(request: Any, limits: Limits | None = None) -> None:
    """Bounds of a `sender_pb2.ImageRequest` (Encode, each Transmit item)."""
    limits = limits or Limits.from_settings()
    _common(request, limits)
    if request.HasField("caption"):
        _cap("caption length in bytes", len(request.caption.encode("utf-8")), limits, "max_caption_chars")
    if request.HasField("quant"):
        _over("quant.lo values", len(request.quant.lo), MAX_QUANT_VALUES, "fixed")
        _over("quant.hi values", len(request.quant.hi), MAX_QUANT_VALUES, "fixed")
    if request.HasField("channel"):
        _channel(request.channel, limits, "channel")


def check_reconstruct_request(request: Any, limits: Limits | None = None, spatial_factor: int | None = None) -> None:
    """Bounds of a `receiver_pb2.ReconstructRequest` (channel proxy and receiver).

    `spatial_factor` (the receiver's decoder: output pixels per latent pixel, per side) also
    bounds the output implied by the latent's shape; the proxy, which has no decoder, checks the
    packet's coded size only."""
    limits = limits or Limits.from_settings()
    _common(request, limits)
    if request.HasField("channel"):
        _channel(request.channel, limits, "channel")
    if request.HasField("report") and request.report.HasField("channel"):
        _channel(request.report.channel, limits, "report.channel")
    if not request.HasField("packet"):
        return
    packet = request.packet
    _cap("packet.caption length in bytes", len(packet.caption), limits, "max_caption_chars")
    if packet.HasField("coded_size"):
        w, h = packet.coded_size.width, packet.coded_size.height
        _cap(f"packet.coded_size {w}x{h} in pixels", w * h, limits, "max_output_pixels")
    if packet.HasField("latent"):
        latent = packet.latent
        shape = list(latent.shape)
        if len(shape) != 3:
            raise LimitError(f"packet.latent.shape must have 3 dimensions (channels, height, width), got {shape}")
        values = shape[0] * shape[1] * shape[2]
        _cap(f"packet.latent values (shape {shape})", values, limits, "max_latent_values")
        _cap("packet.latent.data bytes", len(latent.data), limits, "max_latent_bytes")
        if latent.HasField("analog"):
            _analog(latent.analog, limits)
        if spatial_factor:
            pixels = shape[1] * spatial_factor * shape[2] * spatial_factor
            size = f"{shape[2] * spatial_factor}x{shape[1] * spatial_factor}"
            _cap(f"output of latent {shape} ({size}) in pixels", pixels, limits, "max_output_pixels")


def _analog(analog: Any, limits: Limits) -> None:
    """Bounds of an analog latent (`packet.latent.analog`): each byte field as the latent's data,
    the channel state's block length as a requested fading block length."""
    for name in ("symbols", "meta"):
        _cap(f"packet.latent.analog.{name} bytes", len(getattr(analog, name)), limits, "max_latent_bytes")
    if analog.HasField("csi"):
        _cap("packet.latent.analog.csi.gains bytes", len(analog.csi.gains), limits, "max_latent_bytes")
        _cap("packet.latent.analog.csi.block_length", analog.csi.block_length, limits, "max_fading_block_length")
