"""The channel proxy process: ReceiverService in front of the upstream receiver(s).

semcom serve channel --port 50052 --upstream 127.0.0.1:50053 --snr-db 10
"""

from __future__ import annotations

import logging

from channel_sim.servicer import ChannelServicer
from semcom import config
from semcom.link.types import ChannelConfig
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.server import ServerOptions, ServiceHost
from semcom.rpc.tls import TlsConfig
from semcom.rpc.tls import upstream_tls as upstream_tls_of
from semcom.rpc.upstream import dial_upstream as dial  # dial() plus the hop keepalive
from semcom.v1 import receiver_pb2, receiver_pb2_grpc

log = logging.getLogger("channel_sim")


def serve(
    server: ServerOptions,
    channel: ChannelConfig,
    upstream: str,
    upstream_tls: TlsConfig,
    lb_policy: str | None = None,
    stream_depth: int = 2,
) -> int:
    """Run the proxy until SIGTERM/SIGINT; returns the exit code."""
    if not upstream:
        raise ValueError("channel_sim needs an upstream receiver: --upstream HOST:PORT or SEMCOM_UPSTREAM")
    host = ServiceHost("channel", server)
    link = dial(
        upstream, tls=upstream_tls_of(upstream_tls), lb_policy=lb_policy, max_message_bytes=server.max_message_bytes
    )
    gate = DownstreamGate(config.get("SEMCOM_DOWNSTREAM_MAX_IN_FLIGHT"), "channel")
    servicer = ChannelServicer(channel, receiver_pb2_grpc.ReceiverServiceStub(link), upstream, stream_depth, gate)
    host.add(
        receiver_pb2.DESCRIPTOR.services_by_name["ReceiverService"],
        servicer,
        receiver_pb2_grpc.add_ReceiverServiceServicer_to_server,
    )

    def load() -> None:
        # Nothing to load: warm the link code (numpy, the QAM tables) so the first packet is not slow.
        from semcom.link.transmission import transmit_packet  # noqa: F401

        log.info("channel ready", extra={"fields": {"upstream": upstream, "channel": repr(channel)}})

    try:
        return host.run(load)
    finally:
        link.close()
