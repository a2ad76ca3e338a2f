"""SenderService: semantic extraction (caption + latent) and end-to-end transmission.

Encode: image bytes -> checked, decoded RGB image -> `Sender.encode` -> SemanticPacket.
Transmit: for each image of the stream, Encode, then one unary Reconstruct call to the
downstream (the channel proxy; a receiver works too), pipelined so the next image is encoded
while the previous one is on the channel/receiver. Unary calls per image let a load-balanced
downstream spread one stream over several replicas. With batching on (`batch_max` > 1,
SEMCOM_SENDER_BATCH_MAX) the images of concurrent Encode calls and Transmit streams are queued to
one model thread (`semcom.rpc.batching.BatchQueue`) and captioned/encoded together by
`Sender.encode_batch`; with it off they are encoded one at a time behind a lock. A text-only request (MODE_TEXT) leaves the
latent out of the packet: only the caption crosses the channel, as in the paper's text-only
scheme.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc

from semcom.pipeline import stages
from semcom.rpc import convert
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.batching import BatchQueue
from semcom.rpc.deadlines import add_hop_network, call_downstream, wait
from semcom.rpc.errors import NotReadyError, ServiceError
from semcom.rpc.images import decode_image
from semcom.rpc.limits import check_image_request
from semcom.rpc.metrics import observe_failure, observe_item
from semcom.rpc.observe import rpc_method
from semcom.rpc.ordered import Pending, ordered_map
from semcom.v1 import receiver_pb2, sender_pb2, sender_pb2_grpc


class SenderServicer(sender_pb2_grpc.SenderServiceServicer):
    service_name = "sender"

    def __init__(
        self,
        max_image_pixels: int,
        image_size: int | None,
        default_encoding: str,
        downstream: Any | None,
        downstream_target: str = "",
        stream_depth: int = 2,
        batch_max: int = 1,
        batch_window_s: float = 0.01,
        max_queue: int = 64,
        gate: DownstreamGate | None = None,
    ) -> None:
        """`downstream`: a ReceiverServiceStub towards the channel proxy (None: Encode only);
        `gate`: at most that many calls to it at once (`semcom.rpc.backpressure`; None: no limit).

        `batch_max` > 1 turns on batching (window `batch_window_s`, at most `max_queue` waiting).
        """
        if batch_max < 1 or batch_window_s < 0 or max_queue < 1:
            raise ValueError("batch_max and max_queue must be >= 1 and batch_window_s >= 0")
        self.max_image_pixels = max_image_pixels
        self.image_size = image_size
        self.default_encoding = default_encoding
        self.downstream = downstream
        self.gate = gate
        self.hop = f"channel at {downstream_target}" if downstream_target else "downstream"
        self.stream_depth = stream_depth
        self._sender: Any = None
        self._profile = ""
        self._model_lock = threading.Lock()  # one model on one device: encode one image at a time
        self.batch_max = batch_max
        self.batch_window_s = batch_window_s
        self.max_queue = max_queue
        self._batcher: BatchQueue | None = None

    def attach(self, sender: Any, profile: str) -> None:
        """Start taking work with the loaded `sender` (and its batcher when batching is on)."""
        if self.batch_max > 1:
            self._batcher = BatchQueue(
                lambda items: sender.encode_batch_with_timings(items, return_exceptions=True),
                self.max_queue,
                self.batch_max,
                self.batch_window_s,
                service=self.service_name,
                thread_name="sender-batcher",
            )
        self._sender = sender
        self._profile = profile

    def close(self) -> None:
        """Stop the batcher (queued encodes are cancelled); a no-op without batching."""
        if self._batcher is not None:
            self._batcher.close()

    # ------------------------------------------------------------------ stages

    def _encode(self, request: sender_pb2.ImageRequest, context) -> tuple[Any, dict[str, float]]:
        check_image_request(request)  # bounds on every client-controlled size
        if self._sender is None:
            raise NotReadyError("sender models are still loading")
        image = decode_image(request.image, self.max_image_pixels)
        spec = convert.latent_spec_from_proto(request, self.default_encoding, self.image_size)
        caption = stages.sender_caption(
            request.caption if request.HasField("caption") else None,
            convert.enum_name(convert.MODES, request.params.mode, "params.mode", "auto"),
            self._sender.models,
            "the request's caption field (semcom send --caption TEXT)",
        )  # ValueError: INVALID_ARGUMENT
        seed = request.seed if request.HasField("seed") else None
        item = stages.encode_kwargs(image, spec, caption, seed)
        batcher = self._batcher
        if batcher is not None:
            work = batcher.submit(item)
            packet, timings = wait(work, context, "the sender model")
            timings = {**timings, "queue": work.queue_seconds}
        else:
            with self._model_lock:
                packet, timings = self._sender.encode_with_timings(**item)
        timings = {k: v for k, v in timings.items() if k != "total"}
        return packet, timings

    def _start_transmit(self, request: sender_pb2.ImageRequest, context) -> Pending[sender_pb2.TransmitResult]:
        if self.downstream is None:
            raise ServiceError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "this sender has no downstream: start it with --upstream HOST:PORT (SEMCOM_UPSTREAM)",
            )
        t0 = time.monotonic()
        mode = convert.mode_label(request.params.mode)
        try:
            packet, timings = self._encode(request, context)
        except Exception as exc:
            observe_failure(self.service_name, mode, exc, t0)
            raise
        packet = stages.outgoing_packet(
            packet, convert.enum_name(convert.MODES, request.params.mode, "params.mode", "auto")
        )
        forward = receiver_pb2.ReconstructRequest(
            request_id=request.request_id, packet=convert.packet_to_proto(packet, self._profile), params=request.params
        )
        if request.HasField("channel"):
            forward.channel.CopyFrom(request.channel)

        def failed(exc: BaseException) -> None:
            observe_failure(self.service_name, mode, exc, t0, self.hop)

        def finish(response: receiver_pb2.ReconstructResponse, rtt: float) -> sender_pb2.TransmitResult:
            all_timings: dict[str, float] = dict(response.timings)
            add_hop_network(all_timings, rtt, "channel_sim" if "channel_sim" in all_timings else "receiver")
            all_timings.update(timings)
            all_timings["total"] = time.monotonic() - t0
            observe_item(
                self.service_name,
                convert.mode_label(response.mode_used),
                "OK",
                all_timings["total"],
                {k: all_timings[k] for k in ("caption", "encode", "pack", "network") if k in all_timings},
            )
            return sender_pb2.TransmitResult(
                request_id=request.request_id,
                reconstruction=response.image,
                caption_sent=packet.caption,
                caption_received=response.caption_received,
                report=response.report,
                mode_used=response.mode_used,
                steps_executed=response.steps_executed,
                timings=all_timings,
                seed=response.seed,
                strength_used=response.strength_used,
                latent_repair_used=response.latent_repair_used,
                preset_used=response.preset_used,
                guidance_used=response.guidance_used,
            )

        return call_downstream(self.downstream.Reconstruct, forward, context, self.hop, failed, finish, self.gate)

    # ------------------------------------------------------------------ RPCs

    @rpc_method
    def Encode(self, request, context):
        t0 = time.monotonic()
        packet, timings = self._encode(request, context)
        timings["total"] = time.monotonic() - t0
        observe_item(self.service_name, "encode", "OK", timings["total"], timings)
        return sender_pb2.EncodeResponse(
            request_id=request.request_id, packet=convert.packet_to_proto(packet, self._profile), timings=timings
        )

    @rpc_method
    def Transmit(self, request_iterator, context):
        yield from ordered_map(request_iterator, lambda r: self._start_transmit(r, context), self.stream_depth)
