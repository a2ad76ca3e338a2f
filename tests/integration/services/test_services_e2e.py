"""End to end over the network: sender -> channel proxy -> receiver as three real processes.

Streams 8 images in every receiver mode and checks each reconstruction, caption and channel
report; checks health (also through `semcom health`), reflection, the `semcom send` client and
the receiver's metrics.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys

import pytest
from PIL import Image

from semcom.cli.demo.plan import sample_images
from semcom.payload.caption import encode_caption
from semcom.pipeline import RoleSeeds
from semcom.rpc.client import ReceiverClient, SenderClient, image_request, reflected_services
from semcom.v1 import channel_pb2, receiver_pb2
from tests.integration.services.conftest import CHANNEL_SNR_DB, PLAIN, Topology
from tests.integration.services.procs import REPO

pytestmark = pytest.mark.slow

SIDE = 64  # SEMCOM_IMAGE_SIZE of the topology
STEPS, STRENGTH = 4, 0.5
LATENT_BITS = 4 * (SIDE // 8) ** 2 * 64  # tiny VAE: 4 channels, 1/8 resolution, float64 on the wire
CAPTIONS = [
    "a dog runs across the grass",
    "two children play in the water",
    "a man rides a bike",
    "a red car parked on a street",
    "people walk along a beach",
    "a cat sleeps on a sofa",
    "a boy jumps into a lake with his friends on a sunny afternoon in summer",
    "snow on the hills",
]
MODES = {  # requested mode -> (mode the receiver reports, DDIM steps it runs, strength used, latent sent?)
    "text": (receiver_pb2.MODE_TEXT, STEPS, 1.0, False),  # text only: the whole schedule from noise
    "latent": (receiver_pb2.MODE_LATENT, int(STEPS * STRENGTH), STRENGTH, True),
    "text+latent": (receiver_pb2.MODE_TEXT_LATENT, int(STEPS * STRENGTH), STRENGTH, True),
    "auto": (receiver_pb2.MODE_TEXT_LATENT, int(STEPS * STRENGTH), STRENGTH, True),
}


@pytest.fixture(scope="module")
def images() -> list[tuple[str, bytes]]:
    return [(name, data) for name, data, _caption in sample_images(8)]


def test_health_and_reflection(topology: Topology) -> None:
    for service in topology.all:
        done = subprocess.run(
            [sys.executable, "-m", "semcom", "health", service.target, "--insecure", "--json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "SERVING"
    closed = subprocess.run(
        [sys.executable, "-m", "semcom", "health", "127.0.0.1:1", "--insecure", "--timeout", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 1 and closed.stdout.strip() == "UNREACHABLE"
    infra = {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    assert set(reflected_services(topology.sender.target, tls=PLAIN)) == infra | {"semcom.v1.SenderService"}
    assert set(reflected_services(topology.channel.target, tls=PLAIN)) == infra | {"semcom.v1.ReceiverService"}
    assert set(reflected_services(topology.receiver.target, tls=PLAIN)) == infra | {"semcom.v1.ReceiverService"}


@pytest.mark.parametrize("mode", list(MODES))
def test_stream_of_images_in_each_mode(topology: Topology, images, mode: str) -> None:
    want_mode, want_steps, want_strength, latent_sent = MODES[mode]
    captioned_by_sender = mode == "auto"  # one mode exercises the sender's own captioner
    requests = [
        image_request(
            data,
            request_id=f"{mode}-{i}",
            mode=mode,
            steps=STEPS,
            strength=STRENGTH,
            seed=100,
            index=i,
            caption=None if captioned_by_sender else CAPTIONS[i],
        )
        for i, (_name, data) in enumerate(images)
    ]
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=300) as client:
        results = list(client.transmit(requests))
    assert [r.request_id for r in results] == [r.request_id for r in requests]
    for i, result in enumerate(results):
        image = Image.open(io.BytesIO(result.reconstruction.data))
        assert image.format == "PNG" and image.size == (SIDE, SIDE) == (
            result.reconstruction.width,
            result.reconstruction.height,
        )
        assert result.mode_used == want_mode and result.steps_executed == want_steps
        assert result.seed == RoleSeeds.derive(100, i).receiver and math.isclose(
            result.strength_used, want_strength, rel_tol=1e-6
        )
        if not captioned_by_sender:
            assert result.caption_sent == encode_caption(CAPTIONS[i])
        assert 0 < len(result.caption_sent) <= 77 and len(result.caption_received) == len(result.caption_sent)
        assert all(0x20 <= b <= 0x7E for b in result.caption_received)  # the receiver's sanitising
        report = result.report
        assert report.channel.snr_db == CHANNEL_SNR_DB
        assert report.channel.snr_convention == channel_pb2.SNR_CONVENTION_EBN0
        assert report.channel.modulation == channel_pb2.MODULATION_QAM16
        assert math.isclose(report.ebn0_db, CHANNEL_SNR_DB)
        assert math.isclose(report.esn0_db, CHANNEL_SNR_DB + 10 * math.log10(4))  # 16-QAM: 4 bits per symbol
        assert report.caption.info_bits == 8 * len(result.caption_sent) == report.caption.bits
        assert report.caption.symbols == math.ceil(report.caption.bits / 4)
        assert report.caption.bit_errors <= report.caption.bits
        assert report.caption.chars_replaced <= len(result.caption_sent)
        assert not report.latent_dropped
        assert report.latent.info_bits == (LATENT_BITS if latent_sent else 0)
        assert 0 <= report.latent.bit_errors <= report.latent.info_bits
        assert report.total_symbols == report.caption.symbols + report.latent.symbols
        timings = result.timings
        for stage in ("encode", "pack", "channel", "network", "denoise", "decode", "receiver", "total"):
            assert timings[stage] >= 0.0, stage
        assert ("caption" in timings) == captioned_by_sender
        assert timings["total"] >= timings["receiver"] >= timings["denoise"]
    if latent_sent:  # at 10 dB Eb/N0 a float64 latent of 16k bits sees a few bit errors
        assert sum(r.report.latent.bit_errors for r in results) > 0


def test_same_seeds_give_the_same_image(topology: Topology, images) -> None:
    channel = channel_pb2.ChannelConfig(seed=7)
    request = image_request(images[0][1], mode="text+latent", steps=STEPS, seed=7, caption=CAPTIONS[0], channel=channel)
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=120) as client:
        first, second = (list(client.transmit([request]))[0] for _ in range(2))
    assert first.reconstruction.data == second.reconstruction.data
    assert first.caption_received == second.caption_received
    assert first.report.latent.bit_errors == second.report.latent.bit_errors


@pytest.mark.parametrize("mode", ["auto", "text+latent", "latent"])
def test_channel_override_can_drop_the_latent(topology: Topology, images, mode: str) -> None:
    """A per-request override below the drop threshold: only the caption crosses, the receiver
    falls back to text-only diffusion, whatever mode was asked for: the channel dropped the
    latent, the client did nothing wrong (docs/pipeline.md)."""
    override = channel_pb2.ChannelConfig(
        snr_db=0.0, latent_policy=channel_pb2.LATENT_POLICY_THRESHOLD, drop_threshold_db=5.0
    )
    request = image_request(images[1][1], mode=mode, steps=STEPS, caption=CAPTIONS[1], channel=override)
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=120) as client:
        (result,) = client.transmit([request])
    assert result.report.latent_dropped and "below" in result.report.drop_reason
    assert result.report.channel.snr_db == 0.0 and result.report.latent.info_bits == 0
    assert result.mode_used == receiver_pb2.MODE_TEXT and result.steps_executed == STEPS


def test_int8_with_receiver_repair_end_to_end(topology: Topology, images) -> None:
    """The best uncoded configuration of docs/evaluation.md through the three services: int8g with
    per-channel 99.9 % clipping at the sender, soft-MMSE repair at the receiver from the proxy's
    report of the link; a float latent and a noiseless link fall back to the plain sanitiser."""
    noisy = channel_pb2.ChannelConfig(snr_db=2.0, latent_policy=channel_pb2.LATENT_POLICY_ALWAYS, seed=11)
    repairs = (("smmse", "smmse"), ("plain", "none"))  # the same int8g request with and without repair
    kwargs = dict(mode="latent", steps=STEPS, strength=0.0, caption=CAPTIONS[3], seed=3)
    clipped = dict(latent_encoding="int8g", per_channel=True, clip_percentile=99.9, channel=noisy, **kwargs)
    requests = [
        *(image_request(images[3][1], request_id=rid, latent_repair=repair, **clipped) for rid, repair in repairs),
        image_request(
            images[3][1], request_id="float", latent_encoding="float16", latent_repair="smmse", channel=noisy, **kwargs
        ),
        image_request(
            images[3][1],
            request_id="clean",
            latent_encoding="int8g",
            latent_repair="smmse",
            channel=channel_pb2.ChannelConfig(model=channel_pb2.CHANNEL_MODEL_NONE),
            **kwargs,
        ),
    ]
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=120) as client:
        results = {r.request_id: r for r in client.transmit(requests)}
    smmse, plain = results["smmse"], results["plain"]
    assert smmse.latent_repair_used == receiver_pb2.LATENT_REPAIR_SMMSE and "repair" in smmse.timings
    assert plain.latent_repair_used == receiver_pb2.LATENT_REPAIR_NONE and "repair" not in plain.timings
    assert smmse.report.latent.bit_errors == plain.report.latent.bit_errors > 0  # same seed, same errors
    assert smmse.reconstruction.data != plain.reconstruction.data
    assert results["float"].latent_repair_used == receiver_pb2.LATENT_REPAIR_NONE
    assert results["clean"].latent_repair_used == receiver_pb2.LATENT_REPAIR_NONE
    assert results["clean"].report.latent.bit_errors == 0


def test_coded_link_with_amc_on_awgn_and_rayleigh_through_the_proxy(topology: Topology, images) -> None:
    """Per-request overrides put 5G LDPC + AMC on the proxy's link: on AWGN the int8 latent goes
    coded and arrives bit for bit; on Rayleigh fading at the same SNR AMC reads the fading BLER
    curves (named in the drop reason) and drops it; far above, fading carries it too."""
    from semcom.fec import amc, mcs

    def coded(snr_db: float, model: int) -> channel_pb2.ChannelConfig:
        return channel_pb2.ChannelConfig(
            snr_db=snr_db,
            snr_convention=channel_pb2.SNR_CONVENTION_ESN0,
            model=model,
            fec=channel_pb2.FEC_LDPC,
            mcs="auto",
            latent_policy=channel_pb2.LATENT_POLICY_AMC,
            fading_block_length=128,
            seed=5,
        )

    awgn, fading = channel_pb2.CHANNEL_MODEL_AWGN, channel_pb2.CHANNEL_MODEL_RAYLEIGH_BLOCK
    kwargs = dict(mode="auto", steps=STEPS, caption=CAPTIONS[2], seed=3, latent_encoding="int8")
    requests = [
        image_request(images[2][1], request_id=name, channel=channel, **kwargs)
        for name, channel in (
            ("awgn", coded(20.0, awgn)),
            ("fading", coded(20.0, fading)),
            ("fading-high", coded(55.0, fading)),
        )
    ]
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=120) as client:
        results = {r.request_id: r for r in client.transmit(requests)}
    on_awgn, dropped, high = results["awgn"].report, results["fading"].report, results["fading-high"].report
    assert not on_awgn.latent_dropped and on_awgn.latent.mcs in mcs.names() and on_awgn.latent.segments == 1
    assert on_awgn.latent.bit_errors == 0 and on_awgn.latent.segments_failed == 0
    assert on_awgn.caption.mcs in mcs.names() and on_awgn.channel.fec == channel_pb2.FEC_LDPC
    assert results["awgn"].mode_used == receiver_pb2.MODE_TEXT_LATENT
    curves = amc.link_channel("rayleigh", 128, 1, k=2048 + 16)
    assert dropped.latent_dropped and f"{curves} BLER curves" in dropped.drop_reason
    assert results["fading"].mode_used == receiver_pb2.MODE_TEXT  # auto falls back to text only
    assert dropped.channel.fading_block_length == 128
    assert not high.latent_dropped and high.latent.segments_failed == 0


def test_encode_and_direct_reconstruct(topology: Topology, images) -> None:
    """Encode at the sender, then hand the packet to the channel proxy ourselves."""
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=120) as sender:
        encoded = sender.encode(image_request(images[2][1], caption=CAPTIONS[2], seed=1))
    packet = encoded.packet
    assert list(packet.latent.shape) == [4, SIDE // 8, SIDE // 8] and len(packet.latent.data) == LATENT_BITS // 8
    assert packet.caption == encode_caption(CAPTIONS[2]) and packet.profile == "tiny"
    assert (packet.coded_size.width, packet.coded_size.height) == (SIDE, SIDE)
    assert {"encode", "pack", "total"} <= set(encoded.timings)
    request = receiver_pb2.ReconstructRequest(
        request_id="direct", packet=packet, params=receiver_pb2.ReconstructionParams(num_inference_steps=STEPS)
    )
    with ReceiverClient(topology.channel.target, tls=PLAIN, deadline_s=120) as proxy:
        reply = proxy.reconstruct(request)
    assert reply.request_id == "direct" and reply.report.latent.info_bits == LATENT_BITS
    assert {"channel", "channel_sim", "receiver", "denoise"} <= set(reply.timings)


def test_semcom_send_writes_images_and_report(topology: Topology, images, tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, data in images[:3]:
        (folder / f"{name}.img.png").write_bytes(data)  # whatever the bytes, the sender decodes them
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "semcom",
            "send",
            str(folder),
            "--to",
            topology.sender.target,
            "--insecure",
            "--mode",
            "text+latent",
            "--steps",
            str(STEPS),
            "--snr-db",
            "7.5",
            "--seed",
            "5",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["failed"] == 0 and len(report["images"]) == 3
    for i, entry in enumerate(report["images"]):
        assert Image.open(entry["output"]).size == (SIDE, SIDE)
        assert entry["mode_used"] == "text+latent" and entry["seed"] == RoleSeeds.derive(5, i).receiver
        assert entry["report"]["channel"]["snr_db"] == 7.5
        assert entry["report"]["latent"]["info_bits"] == LATENT_BITS


def test_metrics_count_items_per_mode(topology: Topology) -> None:
    # Runs after the streams above (file order): every mode has been served by the receiver.
    for mode in ("text", "latent", "text+latent"):
        assert topology.receiver.metric("semcom_items_total", service="receiver", mode=mode, code="OK") >= 8
    assert topology.receiver.metric("semcom_stage_seconds_count", service="receiver", stage="denoise") >= 32
    assert topology.channel.metric("semcom_items_total", service="channel", code="OK") >= 32
    assert topology.sender.metric("semcom_rpc_total", service="sender", method="Transmit", code="OK") >= 4


@pytest.mark.parametrize("preset", ["authors", "diffusers"])
def test_preset_on_the_wire_is_applied_and_reported(topology: Topology, images, preset: str) -> None:
    request = image_request(images[0][1], mode="text", steps=STEPS, caption=CAPTIONS[0], preset=preset, seed=1)
    with SenderClient(topology.sender.target, tls=PLAIN, deadline_s=120) as client:
        (result,) = client.transmit([request])
    # text-only under authors follows the authors' script: guidance 7.5 (diffusers: 9)
    assert result.preset_used == preset
    assert result.guidance_used == pytest.approx(7.5 if preset == "authors" else 9.0)
