"""The receiver process: ReceiverService + health + reflection around the profile's receiver model.

semcom serve receiver --port 50053 --profile tiny
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from receiver_service.batching import Batcher
from receiver_service.servicer import ReceiverServicer
from semcom.rpc.server import ServerOptions, ServiceHost, admission_settings, load_models
from semcom.v1 import receiver_pb2, receiver_pb2_grpc

log = logging.getLogger("receiver_service")


@dataclass(frozen=True)
class ReceiverOptions:
    profile: str = "tiny"
    device: str | None = None
    dtype: str | None = None
    torch_threads: int = 0  # 0: torch's default (one per core)
    max_image_pixels: int = 40_000_000
    batch_max: int = 1
    batch_window_ms: float = 10.0
    latent_repair: str = "none"  # default for requests that leave params.latent_repair unspecified

    def __post_init__(self) -> None:
        """An invalid configuration is refused before the service listens or loads a model."""
        if self.batch_max < 1 or self.batch_window_ms < 0 or self.torch_threads < 0:
            raise ValueError(
                f"batch max must be >= 1, batch window >= 0 ms and torch threads >= 0, got {self.batch_max}, "
                f"{self.batch_window_ms} and {self.torch_threads}"
            )


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
        models = load_models(options.profile, options.device, options.dtype, options.torch_threads)
        receiver = models.receiver()
        receiver.preload()
        log.info("receiver models loaded", extra={"fields": {"profile": models.name, "device": str(models.device)}})
        batcher = Batcher(
            receiver, server.max_queue, options.batch_max, options.batch_window_ms / 1000.0, **admission_settings(host)
        )
        batchers.append(batcher)
        servicer.attach(
            batcher, spatial_factor=models.decoder().spatial_factor, strength=default_strength(models.has_diffusion)
        )

    code = host.run(load)
    for batcher in batchers:
        batcher.close()
    return code
