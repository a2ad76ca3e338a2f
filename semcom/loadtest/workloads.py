"""What one load-test request is: a sender Transmit, or a receiver/proxy Reconstruct.

Each workload is a callable `(index, timeout_s) -> timings` for the drivers in
`semcom.loadtest.generator`. It builds request `index` from a small pool of inputs (images for the
sender, prepared semantic packets for the receiver), sends it, checks the answer holds an image,
and returns the server's stage timings (the response's `timings` map).

Modes are the receiver's ("text", "latent", "text+latent", "auto"). With an SNR given, requests
carry a channel override for the proxy: that SNR, and a latent policy matching the mode: text ->
NEVER (the latent is not transmitted at all), latent / text+latent -> ALWAYS, auto -> unset (the
proxy's configured policy), so "auto" measures what the system would decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from semcom.loadtest.generator import ResponseError
from semcom.models.params import check_mode
from semcom.rpc.convert import MODES, channel_message  # MODES: mode name -> wire number (semcom.models.params)
from semcom.v1 import channel_pb2, packet_pb2, receiver_pb2, receiver_pb2_grpc, sender_pb2, sender_pb2_grpc

# mode -> latent policy of the channel override ("auto": unset, the proxy's own policy)
MODE_POLICY = {"text": "never", "latent": "always", "text+latent": "always"}


def channel_override(mode: str, snr_db: float, seed: int | None = None) -> channel_pb2.ChannelConfig:
    """The per-request channel override: the load test's SNR and the mode's latent policy.

    Fields left unset (UNSPECIFIED enums, absent optionals) keep the proxy's configured values
    (proto/semcom/v1/channel.proto), so modulation, channel model and FEC are the deployment's.
    "auto" leaves the latent policy to the proxy too (SEMCOM_LATENT_POLICY, threshold by default).
    """
    check_mode(mode)
    return channel_message(snr_db=snr_db, latent_policy=MODE_POLICY.get(mode), seed=seed)


@dataclass(frozen=True)
class ReconOptions:
    """Receiver parameters sent with every request (None: the receiver's default)."""

    steps: int | None = None
    strength: float | None = None
    guidance_scale: float | None = None
    seed: int | None = None  # None: request i uses seed i (reproducible, and not all identical)

    def to_proto(self, mode: str, index: int) -> receiver_pb2.ReconstructionParams:
        return receiver_pb2.ReconstructionParams(  # a None option stays unset
            mode=MODES[check_mode(mode)],
            output_format="png",
            num_inference_steps=self.steps,
            strength=self.strength,
            guidance_scale=self.guidance_scale,
            seed=self.seed if self.seed is not None else max(index, 0),
        )


def _require_image(image: receiver_pb2.Image, what: str) -> None:
    if not image.data:
        raise ResponseError(f"{what}: the response holds no image")


class _Workload:
    """What both workloads send with request i: its id, the receiver parameters, the channel override."""

    def __init__(self, mode: str, snr_db: float | None, options: ReconOptions) -> None:
        self._mode = check_mode(mode)
        self._snr_db = snr_db
        self._options = options

    def _request(self, message: type, index: int, **inputs: Any) -> Any:
        channel = None if self._snr_db is None else channel_override(self._mode, self._snr_db)
        params = self._options.to_proto(self._mode, index)
        return message(request_id=f"loadtest-{index}", params=params, channel=channel, **inputs)


class SenderTransmit(_Workload):
    """Request i: image i (mod pool) through sender.Transmit -> channel -> receiver, end to end.

    Each request is its own Transmit stream carrying one image, so latency is per image.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        images: Sequence[bytes],
        mode: str,
        snr_db: float | None,
        options: ReconOptions = ReconOptions(),
    ) -> None:
        if not images:
            raise ValueError("need at least one image")
        super().__init__(mode, snr_db, options)
        self._stub = sender_pb2_grpc.SenderServiceStub(channel)
        self._images = list(images)

    def request(self, index: int) -> sender_pb2.ImageRequest:
        return self._request(sender_pb2.ImageRequest, index, image=self._images[index % len(self._images)])

    def __call__(self, index: int, timeout_s: float) -> Mapping[str, float]:
        replies = list(self._stub.Transmit(iter([self.request(index)]), timeout=timeout_s))
        if len(replies) != 1:
            raise ResponseError(f"expected one TransmitResult, got {len(replies)}")
        _require_image(replies[0].reconstruction, "Transmit")
        return dict(replies[0].timings)


class ReceiverReconstruct(_Workload):
    """Request i: prepared packet i (mod pool) through Reconstruct (a receiver, or the channel proxy).

    In text mode the latent is removed from the packet, as a sender in text mode would send it.
    With `keep_images`, `images[i]` holds the encoded image of request i (for output comparisons).
    """

    def __init__(
        self,
        channel: grpc.Channel,
        packets: Sequence[packet_pb2.SemanticPacket],
        mode: str,
        snr_db: float | None,
        options: ReconOptions = ReconOptions(),
        keep_images: bool = False,
    ) -> None:
        if not packets:
            raise ValueError("need at least one packet")
        super().__init__(mode, snr_db, options)
        self._stub = receiver_pb2_grpc.ReceiverServiceStub(channel)
        self._packets = [self._for_mode(p) for p in packets]
        self._keep = keep_images
        self.images: dict[int, bytes] = {}

    def _for_mode(self, packet: packet_pb2.SemanticPacket) -> packet_pb2.SemanticPacket:
        copy = packet_pb2.SemanticPacket()
        copy.CopyFrom(packet)
        if self._mode == "text":
            copy.ClearField("latent")
        return copy

    def request(self, index: int) -> receiver_pb2.ReconstructRequest:
        return self._request(receiver_pb2.ReconstructRequest, index, packet=self._packets[index % len(self._packets)])

    def __call__(self, index: int, timeout_s: float) -> Mapping[str, float]:
        reply = self._stub.Reconstruct(self.request(index), timeout=timeout_s)
        _require_image(reply.image, "Reconstruct")
        if self._keep:
            self.images[index] = reply.image.data
        return dict(reply.timings)


def encode_packets(channel: grpc.Channel, images: Sequence[bytes], timeout_s: float) -> list[packet_pb2.SemanticPacket]:
    """Semantic packets for `images` from a running sender's Encode (caption + latent, no channel)."""
    stub = sender_pb2_grpc.SenderServiceStub(channel)
    packets = []
    for i, image in enumerate(images):
        reply = stub.Encode(sender_pb2.ImageRequest(request_id=f"loadtest-encode-{i}", image=image), timeout=timeout_s)
        if not reply.packet.caption and not reply.packet.HasField("latent"):
            raise ResponseError(f"Encode of image {i} returned an empty packet")
        packets.append(reply.packet)
    return packets
