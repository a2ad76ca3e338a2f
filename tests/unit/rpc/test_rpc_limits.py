"""Every client-controlled size has a bound (semcom.rpc.limits): a request over it is
INVALID_ARGUMENT naming the setting, before any work; a request at the bound passes."""

from __future__ import annotations

import grpc
import pytest

from semcom.rpc.client import ReceiverClient, health_status
from semcom.rpc.errors import LimitError
from semcom.rpc.limits import Limits, check_image_request, check_reconstruct_request
from semcom.rpc.tls import TlsConfig
from semcom.v1 import sender_pb2
from tests.unit.rpc.hosts import ReceiverHost, reconstruct_request

LIMITS = Limits()  # the documented defaults


def _refused(check, request, setting: str, **kwargs) -> None:
    with pytest.raises(LimitError) as err:
        check(request, LIMITS, **kwargs)
    assert setting in str(err.value)


def test_reconstruct_request_bounds() -> None:
    check_reconstruct_request(reconstruct_request(), LIMITS, spatial_factor=8)  # a normal request passes

    r = reconstruct_request()
    r.packet.caption = b"x" * 78
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_CAPTION_CHARS")
    r.packet.caption = b"x" * 77
    check_reconstruct_request(r, LIMITS)

    r = reconstruct_request()
    r.channel.fading_block_length = 2**32 - 1
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_FADING_BLOCK_LENGTH")
    r = reconstruct_request()
    r.report.channel.fading_block_length = 2**28
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_FADING_BLOCK_LENGTH")

    r = reconstruct_request()
    r.packet.coded_size.width, r.packet.coded_size.height = 2048, 2048
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_OUTPUT_PIXELS")

    r = reconstruct_request()  # a 4x8x8 latent: 64x64 at factor 8, 2048x2048 at factor 256
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_OUTPUT_PIXELS", spatial_factor=256)

    r = reconstruct_request()
    r.packet.latent.shape[:] = [16, 256, 256]
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_LATENT_VALUES")
    r.packet.latent.shape[:] = [4, 8]
    with pytest.raises(LimitError, match="3 dimensions"):
        check_reconstruct_request(r, LIMITS)

    r = reconstruct_request()
    r.packet.latent.data = b"\0" * (LIMITS.max_latent_bytes + 1)
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_LATENT_BYTES")

    r = reconstruct_request()
    r.params.num_inference_steps = 100_000
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_INFERENCE_STEPS")

    r = reconstruct_request("x" * 129)
    _refused(check_reconstruct_request, r, "SEMCOM_MAX_REQUEST_ID_CHARS")


def test_image_request_bounds() -> None:
    ok = sender_pb2.ImageRequest(request_id="a", image=b"png", caption="a dog on a beach")
    check_image_request(ok, LIMITS)
    _refused(check_image_request, sender_pb2.ImageRequest(caption="x" * (10 * 1024 * 1024)), "SEMCOM_MAX_CAPTION_CHARS")
    _refused(check_image_request, sender_pb2.ImageRequest(caption="é" * 40), "SEMCOM_MAX_CAPTION_CHARS")  # 80 bytes
    r = sender_pb2.ImageRequest()
    r.channel.fading_block_length = 2**28
    _refused(check_image_request, r, "SEMCOM_MAX_FADING_BLOCK_LENGTH")
    r = sender_pb2.ImageRequest()
    r.quant.lo.extend([0.0] * 65)
    _refused(check_image_request, r, "quant.lo")


def test_limits_follow_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("SEMCOM_MAX_OUTPUT_PIXELS", str(32 * 32))
    with pytest.raises(LimitError, match="SEMCOM_MAX_OUTPUT_PIXELS"):
        check_reconstruct_request(reconstruct_request(), spatial_factor=8)  # 64x64 > 32x32


def test_receiver_refuses_oversize_output_and_keeps_serving(receiver_host: ReceiverHost) -> None:
    plain = TlsConfig(insecure=True)
    with ReceiverClient(receiver_host.target, tls=plain) as client:
        big = reconstruct_request()
        big.packet.coded_size.width, big.packet.coded_size.height = 2048, 2048
        big.packet.latent.shape[:] = [4, 256, 256]
        with pytest.raises(grpc.RpcError) as err:
            client.reconstruct(big, timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "SEMCOM_MAX_OUTPUT_PIXELS" in err.value.details()
        assert receiver_host.model.batches == []  # refused before any model work
        assert client.reconstruct(reconstruct_request("ok"), timeout=10).request_id == "ok"
    assert health_status(receiver_host.target, tls=plain) == "SERVING"


def test_analog_latent_bounds() -> None:
    """An analog latent's byte fields are bounded as the latent's data, its channel state's block
    length as a requested fading block length."""
    from dataclasses import replace

    small = replace(LIMITS, max_latent_bytes=1024, max_fading_block_length=64)
    r = reconstruct_request()
    r.packet.latent.data = b""
    r.packet.latent.analog.symbols = b"\0" * 1024
    check_reconstruct_request(r, small)
    for name in ("symbols", "meta"):
        bad = reconstruct_request()
        bad.packet.latent.data = b""
        setattr(bad.packet.latent.analog, name, b"\0" * 1025)
        with pytest.raises(LimitError, match=f"analog.{name} bytes .*SEMCOM_MAX_LATENT_BYTES"):
            check_reconstruct_request(bad, small)
    bad = reconstruct_request()
    bad.packet.latent.data = b""
    bad.packet.latent.analog.csi.gains = b"\0" * 1032
    with pytest.raises(LimitError, match="csi.gains bytes"):
        check_reconstruct_request(bad, small)
    bad = reconstruct_request()
    bad.packet.latent.data = b""
    bad.packet.latent.analog.csi.block_length = 65
    with pytest.raises(LimitError, match="SEMCOM_MAX_FADING_BLOCK_LENGTH"):
        check_reconstruct_request(bad, small)
