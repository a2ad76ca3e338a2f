"""Semantic packets prepared in this process, for load tests that call a receiver directly.

The sender's own code (`semcom.models` Sender + `semcom.rpc.convert`) makes them, so they are
exactly what a sender would put on the wire; no sender service is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from semcom import config
from semcom.models import ReconParams
from semcom.pipeline import LatentSpec, Pipeline, RoleSeeds, TransmissionRequest
from semcom.rpc.convert import packet_to_proto
from semcom.rpc.images import decode_image
from semcom.v1 import packet_pb2

DEFAULT_CAPTION = "a photo of a scene"


def local_packets(
    images: Sequence[bytes],
    profile: str | None = None,
    caption: str = DEFAULT_CAPTION,
    size: int | None = None,
    encoding: str | None = None,
) -> list[packet_pb2.SemanticPacket]:
    """Encode `images` with `profile`'s sender (seed i for image i) into proto packets.

    `caption` is used when the profile has no captioner (the tiny profile), else BLIP captions.
    `size` defaults to SEMCOM_IMAGE_SIZE, `encoding` to SEMCOM_LATENT_ENCODING.
    """
    pipeline = Pipeline.from_profile(profile or str(config.get("SEMCOM_PROFILE")))
    text = None if pipeline.models.has_captioner else caption
    side = int(config.get("SEMCOM_IMAGE_SIZE")) if size is None else size
    wire = encoding or str(config.get("SEMCOM_LATENT_ENCODING"))
    max_pixels = int(config.get("SEMCOM_MAX_IMAGE_PIXELS"))
    latent = LatentSpec(encoding=wire, size=side)
    requests = (
        TransmissionRequest(
            image=decode_image(data, max_pixels),
            params=ReconParams(),
            latent=latent,
            caption=text,
            seeds=RoleSeeds(sender=i),
        )
        for i, data in enumerate(images)
    )
    return [packet_to_proto(pipeline.send(request)[0], profile=pipeline.name) for request in requests]
