"""Bad input over the real network: every case gets a precise status code, never a crash or a
hang, and every service still answers SERVING afterwards."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
from PIL import Image

from semcom.loadtest.cluster import free_port
from semcom.models.params import MAX_STEPS
from semcom.payload.latent import encode_latent
from semcom.payload.packet import SemanticPacket
from semcom.rpc import convert
from semcom.rpc.client import ReceiverClient, SenderClient, health_status, image_request
from semcom.v1 import channel_pb2, packet_pb2, receiver_pb2
from tests.images import encoded, png_claiming_size
from tests.integration.services.conftest import MAX_MESSAGE_BYTES, PLAIN, RECEIVER_QUEUE, Topology, assert_serving, call
from tests.integration.services.procs import ServiceProcess

pytestmark = pytest.mark.slow

INVALID = grpc.StatusCode.INVALID_ARGUMENT
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
OK = grpc.StatusCode.OK


GOOD = encoded(Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)), "JPEG")
SIXTEEN_BIT = encoded(Image.fromarray((np.arange(64 * 64, dtype=np.uint16) * 16).reshape(64, 64)))
CMYK = encoded(Image.new("CMYK", (40, 40), (0, 128, 255, 0)), "JPEG")
PALETTE = encoded(Image.new("P", (40, 40), 3))


def image_req(data: bytes = GOOD, **changes):
    req = image_request(data, caption="a test picture", steps=2)
    for path, value in changes.items():
        obj = req
        *parents, leaf = path.split("__")
        for name in parents:
            obj = getattr(obj, name)
        setattr(obj, leaf, value)
    return req


def packet_req(shape=(4, 8, 8), encoding="float64", mode=receiver_pb2.MODE_AUTO, **changes):
    latent = np.random.default_rng(0).normal(size=shape)
    packet = SemanticPacket(caption=b"a test picture", latent=encode_latent(latent, encoding), coded_size=(64, 64))
    req = receiver_pb2.ReconstructRequest(
        request_id="bad",
        packet=convert.packet_to_proto(packet),
        params=receiver_pb2.ReconstructionParams(mode=mode, num_inference_steps=2),
    )
    for path, value in changes.items():
        obj = req
        *parents, leaf = path.split("__")
        for name in parents:
            obj = getattr(obj, name)
        if value is None:
            obj.ClearField(leaf)
        else:
            setattr(obj, leaf, value)
    return req


def _no_packet():
    return receiver_pb2.ReconstructRequest(request_id="x")


# (case, where, request factory, expected code, fragment of the message)
# where: "encode" = SenderService.Encode, "transmit" = SenderService.Transmit (three hops),
#        "receiver" / "channel" = ReceiverService.Reconstruct at that service.
CASES: list[tuple[str, str, Callable, grpc.StatusCode, str]] = [
    ("not an image", "encode", lambda: image_req(b"GIF89? this is not an image at all"), INVALID, "not an image"),
    ("empty image", "encode", lambda: image_req(b""), INVALID, "empty"),
    ("truncated JPEG", "encode", lambda: image_req(GOOD[: len(GOOD) // 2]), INVALID, "truncated or corrupt"),
    ("0-pixel PNG header", "encode", lambda: image_req(png_claiming_size(0, 64)), INVALID, "not an image"),
    (
        "decompression bomb (header 30000x30000)",
        "encode",
        lambda: image_req(png_claiming_size(30000, 30000)),
        INVALID,
        "decompression bomb",
    ),
    (
        "over the pixel cap (real 1200x1000 PNG, 4 KB)",
        "encode",
        lambda: image_req(encoded(Image.new("L", (1200, 1000)))),
        INVALID,
        "decompression bomb|exceeds the cap",
    ),
    (
        "32-bit float TIFF",
        "encode",
        lambda: image_req(encoded(Image.new("F", (16, 16)), "TIFF")),
        INVALID,
        "unsupported image mode 'F'",
    ),
    ("CMYK JPEG (converted)", "encode", lambda: image_req(CMYK), OK, ""),
    ("16-bit greyscale PNG (scaled)", "encode", lambda: image_req(SIXTEEN_BIT), OK, ""),
    ("palette PNG (expanded)", "encode", lambda: image_req(PALETTE), OK, ""),
    (
        "unknown latent encoding enum",
        "encode",
        lambda: image_req(latent_encoding=99),
        INVALID,
        "latent_encoding: unknown enum value 99",
    ),
    (
        "message over SEMCOM_MAX_MESSAGE_BYTES",
        "encode",
        lambda: image_req(b"\0" * (MAX_MESSAGE_BYTES + 1024)),
        EXHAUSTED,
        "",
    ),
    ("NaN SNR", "transmit", lambda: image_req(channel__snr_db=float("nan")), INVALID, "snr_db must be finite"),
    ("+inf SNR", "transmit", lambda: image_req(channel__snr_db=float("inf")), INVALID, "snr_db must be finite"),
    ("-inf SNR", "transmit", lambda: image_req(channel__snr_db=float("-inf")), INVALID, "snr_db must be finite"),
    ("SNR 1000 dB", "transmit", lambda: image_req(channel__snr_db=1000.0), INVALID, r"in \[-50, 100\]"),
    (
        "fading block length 0",
        "transmit",
        lambda: image_req(channel__model=channel_pb2.CHANNEL_MODEL_RAYLEIGH_BLOCK, channel__fading_block_length=0),
        INVALID,
        "fading_block_length must be an integer >= 1",
    ),
    (
        "unknown modulation enum",
        "transmit",
        lambda: image_req(channel__modulation=17),
        INVALID,
        "channel.modulation: unknown enum value 17",
    ),
    (
        "unknown latent repair enum",
        "transmit",
        lambda: image_req(params__latent_repair=9),
        INVALID,
        "params.latent_repair: unknown enum value 9",
    ),
    (
        "unknown latent repair enum (receiver)",
        "receiver",
        lambda: packet_req(params__latent_repair=9),
        INVALID,
        "params.latent_repair: unknown enum value 9",
    ),
    (
        "clip percentile 30",
        "encode",
        lambda: image_req(latent_encoding=packet_pb2.LATENT_ENCODING_INT8, clip_percentile=30.0),
        INVALID,
        r"percentile must be a number in \(50, 100\]",
    ),
    (
        "clip percentile NaN",
        "encode",
        lambda: image_req(latent_encoding=packet_pb2.LATENT_ENCODING_INT8, clip_percentile=float("nan")),
        INVALID,
        r"percentile must be a number in \(50, 100\]",
    ),
    (
        "clip percentile on a float encoding",
        "encode",
        lambda: image_req(clip_percentile=99.0),
        INVALID,
        "apply to quantised encodings",
    ),
    (
        "unknown mode enum",
        "transmit",
        lambda: image_req(params__mode=42),
        INVALID,
        "params.mode: unknown enum value 42",
    ),
    ("unknown preset", "transmit", lambda: image_req(params__preset="ldm-ish"), INVALID, "preset"),
    ("unknown preset (receiver)", "receiver", lambda: packet_req(params__preset="x" * 4096), INVALID, "preset"),
    ("0 steps", "transmit", lambda: image_req(params__num_inference_steps=0), INVALID, "num_inference_steps"),
    ("5000 steps", "transmit", lambda: image_req(params__num_inference_steps=5000), INVALID, "num_inference_steps"),
    ("strength 1.5", "transmit", lambda: image_req(params__strength=1.5), INVALID, "strength"),
    ("strength NaN", "transmit", lambda: image_req(params__strength=float("nan")), INVALID, "strength"),
    ("guidance -1", "transmit", lambda: image_req(params__guidance_scale=-1.0), INVALID, "guidance_scale"),
    ("guidance 1000", "transmit", lambda: image_req(params__guidance_scale=1000.0), INVALID, "guidance_scale"),
    ("output format bmp", "transmit", lambda: image_req(params__output_format="bmp"), INVALID, "output_format"),
    ("no packet", "receiver", _no_packet, INVALID, "no packet"),
    ("no packet (proxy)", "channel", _no_packet, INVALID, "no packet"),
    (
        "latent bytes != shape x dtype",
        "receiver",
        lambda: packet_req(packet__latent__data=b"\0" * 100),
        INVALID,
        r"100 bytes, but shape \[4, 8, 8\] in float64",
    ),
    (
        "latent bytes != shape x dtype (proxy)",
        "channel",
        lambda: packet_req(packet__latent__data=b"\0" * 100),
        INVALID,
        "100 bytes",
    ),
    ("latent with 3 channels", "receiver", lambda: packet_req(shape=(3, 8, 8)), INVALID, "3 channels"),
    ("latent with a 0 dimension", "receiver", lambda: _zero_dim(), INVALID, "latent.shape"),
    (
        "reconstruction over the pixel cap (latent 4x200x200)",
        "receiver",
        lambda: packet_req(shape=(4, 200, 200), encoding="int4"),
        INVALID,
        "over the cap",
    ),
    (
        "unknown latent encoding in packet",
        "receiver",
        lambda: packet_req(packet__latent__encoding=77),
        INVALID,
        "packet.latent.encoding: unknown enum value 77",
    ),
    (
        "int8 latent without its range",
        "receiver",
        lambda: packet_req(encoding="int8", packet__latent__quant=None),
        INVALID,
        "needs 1 lo and hi",
    ),
    ("packet version 9", "receiver", lambda: packet_req(packet__version=9), INVALID, "version 9"),
    (
        "text+latent without a latent",
        "receiver",
        lambda: packet_req(mode=receiver_pb2.MODE_TEXT_LATENT, packet__latent=None),
        INVALID,
        "needs a latent",
    ),
    ("NaN SNR in the report", "receiver", lambda: _with_report(float("nan")), INVALID, "not finite"),
]


def _zero_dim():
    req = packet_req()
    req.packet.latent.shape[1] = 0
    return req


def _with_report(snr: float):
    req = packet_req()
    req.report.channel.snr_convention = channel_pb2.SNR_CONVENTION_EBN0
    req.report.ebn0_db = snr
    return req


@pytest.mark.parametrize("case,where,make,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(topology: Topology, case: str, where: str, make: Callable, code, fragment: str) -> None:
    request = make()
    if code == OK:
        call(topology, where, request)
    else:
        with pytest.raises(grpc.RpcError) as err:
            call(topology, where, request)
        assert err.value.code() == code, err.value.details()
        if fragment:
            assert re.search(fragment, err.value.details()), err.value.details()
    assert_serving(topology)


def test_full_receiver_queue_is_resource_exhausted(topology: Topology) -> None:
    """More concurrent requests than SEMCOM_MAX_QUEUE admits: the rest are refused at once."""
    slow = packet_req(mode=receiver_pb2.MODE_TEXT, params__num_inference_steps=100)
    n = RECEIVER_QUEUE + 4
    with ReceiverClient(topology.receiver.target, tls=PLAIN, retry_attempts=1) as client, ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(client.reconstruct, slow, 120) for _ in range(n)]
        codes = []
        for future in futures:
            try:
                future.result()
                codes.append(OK)
            except grpc.RpcError as exc:
                codes.append(exc.code())
                assert "queue is full" in exc.details()
    assert EXHAUSTED in codes and OK in codes and set(codes) <= {OK, EXHAUSTED}
    assert_serving(topology)


def test_deadline_propagates_and_abandoned_work_stops(topology: Topology) -> None:
    before = topology.receiver.metric("semcom_abandoned_batches_total")
    # The most steps the receiver admits: ~4 s of denoising on one core of a small CPU (500 steps
    # took 2 s, so a 3 s deadline was met and the test failed), four times the 1 s deadline.
    request = image_req(params__mode=receiver_pb2.MODE_TEXT, params__num_inference_steps=MAX_STEPS)
    with SenderClient(topology.sender.target, tls=PLAIN, retry_attempts=1) as client:
        with pytest.raises(grpc.RpcError) as err:
            list(client.transmit([request], timeout=1.0))
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 60  # the receiver notices at its next DDIM step
    while topology.receiver.metric("semcom_abandoned_batches_total") <= before:
        assert time.monotonic() < deadline, "the receiver kept denoising for a caller that had gone"
        time.sleep(0.2)
    assert_serving(topology)


def test_downstream_down_is_unavailable_with_a_clear_message(tmp_path) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    proxy = ServiceProcess("channel", tmp_path, args=["--upstream", dead], env={"SEMCOM_INSECURE": "true"})
    try:
        proxy.start().wait_serving(timeout=120)
        with ReceiverClient(proxy.target, tls=PLAIN) as client, pytest.raises(grpc.RpcError) as err:
            client.reconstruct(packet_req(), timeout=60)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # not DEADLINE_EXCEEDED: no hang
        assert f"downstream receiver at {dead} unavailable" in err.value.details()
        # The proxy retried its hop; it tells this client not to retry again (retries would multiply).
        assert ("grpc-retry-pushback-ms", "-1") in [(m.key, m.value) for m in err.value.trailing_metadata()]
        assert health_status(proxy.target, tls=PLAIN) == "SERVING"
        assert proxy.stop() == 0  # SIGTERM: drained and exited cleanly
    finally:
        proxy.kill()
