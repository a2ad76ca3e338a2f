"""`semcom serve receiver --profile taef2` (the packaged, decode-only TAEF2 codec): a request
that names no strength is decoded at k = 0, the profile's default, instead of being refused for
the paper's 0.6 that this profile cannot honour (issue 23)."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.payload.latent import encode_latent
from semcom.payload.packet import CodecInfo, SemanticPacket
from semcom.rpc import convert
from semcom.rpc.client import ReceiverClient
from semcom.v1 import receiver_pb2
from tests.integration.services.procs import ServiceProcess

pytestmark = pytest.mark.slow


def test_taef2_receiver_decodes_a_request_without_strength(tmp_path) -> None:
    receiver = ServiceProcess("receiver", tmp_path, args=["--profile", "taef2", "--insecure"])
    try:
        receiver.start().wait_serving()
        latent = np.random.default_rng(0).normal(size=(32, 8, 8)).clip(-3, 3)
        packet = SemanticPacket(
            caption=b"a photo", latent=encode_latent(latent, "float32"), codec=CodecInfo("taef2", "", 1.0, -7.0, 7.0)
        )
        request = receiver_pb2.ReconstructRequest(
            request_id="r",
            packet=convert.packet_to_proto(packet),
            params=receiver_pb2.ReconstructionParams(mode=receiver_pb2.MODE_LATENT),  # no strength
        )
        with ReceiverClient(receiver.target, insecure=True, deadline_s=60) as client:
            reply = client.reconstruct(request)
        assert (reply.image.width, reply.image.height) == (64, 64)
        assert reply.steps_executed == 0 and reply.strength_used == 0.0
    finally:
        receiver.stop(grace=5.0)
