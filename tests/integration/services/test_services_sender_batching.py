"""Sender batching (SEMCOM_SENDER_BATCH_MAX > 1): concurrent Encode calls give the packets of a
sender that encodes one image at a time (the topology's), and really are batched."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from semcom.cli.demo.plan import sample_images
from semcom.loadtest.cluster import free_port
from semcom.payload.latent import decode_latent
from semcom.rpc.client import SenderClient, image_request
from semcom.rpc.convert import packet_from_proto
from tests.integration.services.conftest import MAX_IMAGE_PIXELS, MAX_MESSAGE_BYTES, PLAIN, Topology
from tests.integration.services.procs import ServiceProcess, start_all, stop_all

pytestmark = pytest.mark.slow

CALLS = 6
ATOL = 1e-5  # batched CPU kernels may round the last bits differently


@pytest.fixture(scope="module")
def batched_sender(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A second sender, batching up to CALLS images with a wide window so concurrent calls meet."""
    env = {
        "SEMCOM_INSECURE": "true",
        "SEMCOM_MAX_IMAGE_PIXELS": str(MAX_IMAGE_PIXELS),
        "SEMCOM_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
    }
    sender = ServiceProcess(
        "sender",
        tmp_path_factory.mktemp("batched-sender-logs"),
        args=["--batch-max", str(CALLS), "--batch-window-ms", "500"],
        env=env,
        metrics_port=free_port(),
    )
    try:
        start_all([sender])
        yield sender
    finally:
        stop_all([sender])


def _encode_all(target: str, requests) -> list:
    with SenderClient(target, tls=PLAIN, deadline_s=120) as client, ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(client.encode, requests))


def test_concurrent_encodes_batched_equal_unbatched(topology: Topology, batched_sender: ServiceProcess) -> None:
    images = [data for _name, data, _caption in sample_images(CALLS)]
    # half with a given caption, half captioned by BLIP; every one with its own posterior seed
    requests = [
        image_request(data, caption=f"photo {i}" if i % 2 else None, seed=100 + i, request_id=f"r{i}")
        for i, data in enumerate(images)
    ]
    batches_before = batched_sender.metric("semcom_batch_size_count", service="sender")
    items_before = batched_sender.metric("semcom_batch_size_sum", service="sender")
    batched = _encode_all(batched_sender.target, requests)
    alone = _encode_all(topology.sender.target, requests)
    for request, got, want in zip(requests, batched, alone):
        assert got.request_id == want.request_id == request.request_id
        got_packet, want_packet = packet_from_proto(got.packet), packet_from_proto(want.packet)
        assert got_packet.caption == want_packet.caption
        assert got_packet.coded_size == want_packet.coded_size
        np.testing.assert_allclose(
            decode_latent(got_packet.latent).values, decode_latent(want_packet.latent).values, rtol=0, atol=ATOL
        )
        assert "queue" in got.timings and {"encode", "pack", "total"} <= set(got.timings)
    batches = batched_sender.metric("semcom_batch_size_count", service="sender") - batches_before
    items = batched_sender.metric("semcom_batch_size_sum", service="sender") - items_before
    assert items == CALLS and batches < CALLS  # some calls really shared a batch
