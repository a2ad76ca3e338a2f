"""The channel proxy: speaks ReceiverService, corrupts each packet on the way through.

Per request: the proxy's ChannelConfig, overridden field by field by `request.channel`;
`semcom.link.transmit_packet` (bit-level modulation, noise, demapping, and the latent drop
policy; an analog latent's symbols get noise and fading as symbols, and the forwarded packet
carries the receiver's channel state in `latent.analog.csi`); then the received packet goes upstream with the proxy's TransmissionReport in
`request.report` (the receiver may use the SNR) and without `request.channel`, so a receiver
sees what it would see from a sender. The reply is the receiver's, with the proxy's report
(completed by the receiver's sanitising counts) and its timings added.
"""

from __future__ import annotations

import time
from typing import Any

import grpc

from semcom.link.types import ChannelConfig
from semcom.rpc import convert
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.deadlines import add_hop_network, call_downstream
from semcom.rpc.errors import InvalidRequestError, ServiceError
from semcom.rpc.limits import check_reconstruct_request
from semcom.rpc.metrics import observe_failure, observe_item
from semcom.rpc.ordered import Pending, ReconstructServicer
from semcom.v1 import receiver_pb2


class ChannelServicer(ReconstructServicer):
    service_name = "channel"

    def __init__(
        self,
        base: ChannelConfig,
        upstream: Any,
        upstream_target: str,
        stream_depth: int = 2,
        gate: DownstreamGate | None = None,
    ) -> None:
        """`upstream`: a ReceiverServiceStub towards the receiver(s) at `upstream_target`; `gate`:
        at most that many calls to it at once (`semcom.rpc.backpressure`; None: no limit here)."""
        self.gate = gate
        self.base = base
        self.upstream = upstream
        self.hop = f"receiver at {upstream_target}"
        self.stream_depth = stream_depth

    def _start(self, request: receiver_pb2.ReconstructRequest, context) -> Pending[receiver_pb2.ReconstructResponse]:
        from semcom.link.coding import FecUnavailableError
        from semcom.link.transmission import transmit_packet

        check_reconstruct_request(request)  # bounds on every client-controlled size
        if not request.HasField("packet"):
            raise InvalidRequestError("request carries no packet")
        t0 = time.monotonic()
        cfg = (
            convert.channel_config_from_proto(request.channel, self.base) if request.HasField("channel") else self.base
        )
        packet = convert.packet_from_proto(request.packet)
        if packet.latent is not None and packet.latent.analog is not None and packet.latent.analog.csi is not None:
            raise InvalidRequestError(
                "packet.latent.analog.csi: a packet entering the channel carries no channel state (the channel sets it)"
            )
        mode = convert.mode_label(request.params.mode)
        t_channel = time.perf_counter()
        try:
            received, report = transmit_packet(packet, cfg)
        except FecUnavailableError as exc:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, str(exc)) from None
        channel_seconds = time.perf_counter() - t_channel
        forward = receiver_pb2.ReconstructRequest(
            request_id=request.request_id,
            packet=self._forwarded_packet(request, received),
            params=request.params,
            report=convert.report_to_proto(report),
        )

        def failed(exc: BaseException) -> None:
            observe_failure(self.service_name, mode, exc, t0, self.hop)

        def finish(response: receiver_pb2.ReconstructResponse, rtt: float) -> receiver_pb2.ReconstructResponse:
            chars_replaced = response.report.caption.chars_replaced
            values_sanitised = response.report.latent.values_sanitised
            response.report.CopyFrom(forward.report)  # the proxy's own report is the authority
            response.report.caption.chars_replaced = chars_replaced
            response.report.latent.values_sanitised = values_sanitised
            timings = response.timings
            hop_network = add_hop_network(timings, rtt)
            timings["channel"] = channel_seconds
            timings["channel_sim"] = time.monotonic() - t0
            observe_item(
                self.service_name,
                convert.mode_label(response.mode_used),
                "OK",
                timings["channel_sim"],
                {"channel": channel_seconds, "network": hop_network},
            )
            return response

        return call_downstream(self.upstream.Reconstruct, forward, context, self.hop, failed, finish, self.gate)

    @staticmethod
    def _forwarded_packet(request: receiver_pb2.ReconstructRequest, received: Any):
        """The received packet, keeping the sender's metadata (profile, FEC info, version)."""
        msg = convert.packet_to_proto(received, profile=request.packet.profile)
        for name in ("caption_fec", "latent_fec"):
            if request.packet.HasField(name):
                getattr(msg, name).CopyFrom(getattr(request.packet, name))
        return msg
