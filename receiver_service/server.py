"""The receiver process: ReceiverService + health + reflection around the profile's receiver model.

semcom serve receiver --port 50053 --profile tiny
"""

from __future__ import annotations

from dataclasses import dataclass

from receiver_service.batching import Batcher
from receiver_service.servicer import ReceiverServicer
from semcom.rpc.server import ModelServiceOptions, ServerOptions, ServiceHost, admission_settings
from semcom.v1 import receiver_pb2, receiver_pb2_grpc


@dataclass(frozen=True)
class ReceiverOptions(ModelServiceOptions):
    latent_repair: str = "none"  # default for requests that leave params.latent_repair unspecified


def serve(server: ServerOptions, options: ReceiverOptions) -> int:
    """Run the receiver until SIGTERM/SIGINT; returns the exit code."""
    from semcom.models.params import default_strength
    from semcom.rpc.images import configure_pixel_cap

    configure_pixel_cap(options.max_image_pixels)
    host = ServiceHost("receiver", server)
    servicer = ReceiverServicer(
        options.max_image_pixels, stream_depth=max(2, options.batch_max), latent_repair=options.latent_repair
    )
    host.add(
        receiver_pb2.DESCRIPTOR.services_by_name["ReceiverService"],
        servicer,
        receiver_pb2_grpc.add_ReceiverServiceServicer_to_server,
    )
    batchers: list[Batcher] = []

    def load() -> None:
        models = options.load_models("receiver")
        batcher = Batcher(
            models.receiver(),
            server.max_queue,
            options.batch_max,
            options.batch_window_ms / 1000.0,
            **admission_settings(host),
        )
        batchers.append(batcher)
        servicer.attach(
            batcher, spatial_factor=models.decoder().spatial_factor, strength=default_strength(models.has_diffusion)
        )

    code = host.run(load)
    for batcher in batchers:
        batcher.close()
    return code
