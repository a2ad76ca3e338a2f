"""The sender process: SenderService + health + reflection around the profile's sender model.

semcom serve sender --port 50051 --upstream 127.0.0.1:50052 --profile tiny
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from semcom import config
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.server import SPARE_WORKERS, ModelServiceOptions, ServerOptions, ServiceHost
from semcom.rpc.tls import TlsConfig
from semcom.rpc.tls import upstream_tls as upstream_tls_of
from semcom.rpc.upstream import dial_upstream as dial  # dial() plus the hop keepalive
from semcom.v1 import receiver_pb2_grpc, sender_pb2, sender_pb2_grpc
from sender_service.servicer import SenderServicer

log = logging.getLogger("sender_service")


@dataclass(frozen=True)
class SenderOptions(ModelServiceOptions):
    image_size: int | None = None  # None: the profile's image size
    latent_encoding: str = "float64"
    upstream: str = ""  # the channel proxy (empty: Encode only)
    lb_policy: str | None = None
    stream_depth: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size is not None:
            from semcom.models.images import check_size

            check_size(self.image_size)
        from semcom.payload.latent import get_encoding

        get_encoding(self.latent_encoding)  # ValueError naming the known encodings


def serve(server: ServerOptions, options: SenderOptions, upstream_tls: TlsConfig) -> int:
    """Run the sender until SIGTERM/SIGINT; returns the exit code."""
    from semcom.rpc.images import configure_pixel_cap

    configure_pixel_cap(options.max_image_pixels)
    host = ServiceHost("sender", server)
    link = None
    stub = None
    if options.upstream:
        link = dial(
            options.upstream,
            tls=upstream_tls_of(upstream_tls),
            lb_policy=options.lb_policy,
            max_message_bytes=server.max_message_bytes,
        )
        stub = receiver_pb2_grpc.ReceiverServiceStub(link)
    else:
        log.warning("sender has no upstream: Transmit will answer FAILED_PRECONDITION (Encode works)")
    servicer = SenderServicer(
        options.max_image_pixels,
        options.image_size,
        options.latent_encoding,
        stub,
        options.upstream,
        options.stream_depth,
        batch_max=options.batch_max,
        batch_window_s=options.batch_window_ms / 1000.0,
        max_queue=server.max_workers + SPARE_WORKERS + server.max_queue,
        gate=DownstreamGate(config.get("SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT"), "sender") if stub is not None else None,
    )
    host.add(
        sender_pb2.DESCRIPTOR.services_by_name["SenderService"],
        servicer,
        sender_pb2_grpc.add_SenderServiceServicer_to_server,
    )

    def load() -> None:
        models = options.load_models("sender")
        servicer.attach(models.sender(), models.name)

    try:
        return host.run(load)
    finally:
        servicer.close()
        if link is not None:
            link.close()
