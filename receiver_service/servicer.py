"""ReceiverService: a SemanticPacket in, the reconstructed image out.

The servicer translates and checks (semcom.rpc.convert), enforces the service's limits, and
hands the work to the `Batcher`, which owns the model (`semcom.models.Receiver`). Until the
models are attached (`attach`) every call answers UNAVAILABLE, and health says NOT_SERVING.
"""

from __future__ import annotations

import time
from typing import Any

from receiver_service.batching import Batcher
from semcom.link.policy import explain_fallback
from semcom.pipeline import stages
from semcom.rpc import convert
from semcom.rpc.deadlines import wait
from semcom.rpc.errors import InvalidRequestError, NotReadyError
from semcom.rpc.images import encode_image
from semcom.rpc.limits import check_reconstruct_request
from semcom.rpc.metrics import observe_failure, observe_item
from semcom.rpc.ordered import Pending, ReconstructServicer
from semcom.v1 import channel_pb2, receiver_pb2


class ReceiverServicer(ReconstructServicer):
    service_name = "receiver"
    hop = "receiver model"

    def __init__(self, max_image_pixels: int, stream_depth: int = 2, latent_repair: str = "none") -> None:
        from semcom.models.params import LATENT_REPAIRS

        if latent_repair not in LATENT_REPAIRS:
            raise ValueError(f"latent repair must be one of {LATENT_REPAIRS}, got {latent_repair!r}")
        self.max_image_pixels = max_image_pixels
        self.stream_depth = stream_depth
        self.latent_repair = latent_repair  # used when a request leaves params.latent_repair unspecified
        self._batcher: Batcher | None = None
        self._spatial_factor = 8
        self.strength: float | None = None  # for requests that leave params.strength unset (attach)

    def attach(self, batcher: Batcher, spatial_factor: int, strength: float | None = None) -> None:
        """Start taking work: `batcher` wraps the loaded receiver model; `strength` is the default
        of requests that name none (`semcom.models.params.default_strength` of the profile)."""
        self._spatial_factor = spatial_factor
        self.strength = strength
        self._batcher = batcher

    # ------------------------------------------------------------------ checks

    def _check_output_size(self, request: receiver_pb2.ReconstructRequest) -> None:
        """Refuse a packet whose reconstruction would exceed the pixel cap (before any model work)."""
        packet = request.packet
        if packet.HasField("latent") and len(packet.latent.shape) == 3:
            h, w = packet.latent.shape[1] * self._spatial_factor, packet.latent.shape[2] * self._spatial_factor
        else:
            w, h = packet.coded_size.width, packet.coded_size.height
        if w * h > self.max_image_pixels:
            raise InvalidRequestError(
                f"the reconstruction would be {w}x{h} = {w * h} pixels, over the cap of {self.max_image_pixels} "
                "(SEMCOM_MAX_IMAGE_PIXELS)"
            )

    def _start(self, request: receiver_pb2.ReconstructRequest, context) -> Pending[receiver_pb2.ReconstructResponse]:
        batcher = self._batcher
        if batcher is None:
            raise NotReadyError("receiver models are still loading")
        check_reconstruct_request(
            request, spatial_factor=self._spatial_factor
        )  # bounds on every client-controlled size
        if not request.HasField("packet"):
            raise InvalidRequestError("request carries no packet")
        t0 = time.monotonic()
        packet = convert.packet_from_proto(request.packet)
        params = convert.recon_params_from_proto(request.params, self.latent_repair, self.strength)
        fmt = convert.output_format(request.params)
        report = convert.link_report_from_proto(request.report) if request.HasField("report") else None
        self._check_output_size(request)
        work = batcher.submit(*stages.reconstruct_args(packet, params, report))

        def finish() -> receiver_pb2.ReconstructResponse:
            try:
                try:
                    result = wait(work, context, "the receiver model")
                except ValueError as exc:  # a refusal after the channel dropped the latent says so
                    explain_fallback(exc, report, packet.latent is None)
                    raise
                response = self._response(request, result, fmt, t0)
            except Exception as exc:
                observe_failure(self.service_name, params.mode, exc, t0)
                raise
            seconds = response.timings["receiver"]
            observe_item(self.service_name, result.mode_used, "OK", seconds, dict(response.timings))
            return response

        return Pending(finish, work.cancel)

    def _response(self, request, result: Any, fmt: str, t0: float) -> receiver_pb2.ReconstructResponse:
        t_img = time.perf_counter()
        data = encode_image(result.image, fmt)
        timings = {k: float(v) for k, v in result.timings.items() if k != "total"}
        timings["image_encode"] = time.perf_counter() - t_img
        report = channel_pb2.TransmissionReport()
        if request.HasField("report"):
            report.CopyFrom(request.report)
        report.caption.chars_replaced = result.chars_replaced
        report.latent.values_sanitised = result.values_sanitised
        response = receiver_pb2.ReconstructResponse(
            request_id=request.request_id,
            image=receiver_pb2.Image(data=data, width=result.image.width, height=result.image.height, format=fmt),
            mode_used=convert.mode_number(result.mode_used),
            caption_received=result.caption_received.encode("ascii", "replace"),
            steps_executed=result.steps_executed,
            report=report,
            seed=result.seed,
            strength_used=result.strength_used,
            latent_repair_used=convert.LATENT_REPAIRS[result.latent_repair_used],
            preset_used=result.preset_used,
            guidance_used=result.guidance_used,
        )
        timings["receiver"] = time.monotonic() - t0
        response.timings.update(timings)
        return response
