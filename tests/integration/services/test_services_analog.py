"""The analog latent over the real network (docs/channel.md "Analog latent"): the channel proxy is
its PHY (noise, fading, the receiver's channel state in the forwarded packet), and every hop
refuses a malformed analog payload with INVALID_ARGUMENT naming the fault, then keeps serving."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import grpc
import numpy as np
import pytest

from semcom.link import analog
from semcom.payload.packet import ChannelState, SemanticPacket
from semcom.rpc import convert
from semcom.rpc.client import ReceiverClient, image_request
from semcom.v1 import channel_pb2, receiver_pb2
from tests.integration.services.conftest import PLAIN, Topology, assert_serving, call
from tests.integration.services.test_services_bad_input import GOOD

pytestmark = pytest.mark.slow

INVALID = grpc.StatusCode.INVALID_ARGUMENT
CAPTION = b"a test picture"


def _packet(spec: str = "analog") -> SemanticPacket:
    y, x = np.mgrid[0:8, 0:8]
    latent = (np.sin(x / 2.0)[None] + np.arange(4)[:, None, None] * np.cos(y / 3.0)[None]).astype(np.float32)
    return SemanticPacket(
        caption=CAPTION, latent=analog.encode_payload(latent, spec, len(CAPTION)), coded_size=(64, 64)
    )


def _request(packet: SemanticPacket, **channel) -> receiver_pb2.ReconstructRequest:
    req = receiver_pb2.ReconstructRequest(
        request_id="analog",
        packet=convert.packet_to_proto(packet),
        params=receiver_pb2.ReconstructionParams(mode=receiver_pb2.MODE_LATENT, num_inference_steps=2, strength=0.0),
    )
    if channel:
        req.channel.CopyFrom(channel_pb2.ChannelConfig(**channel))
    return req


def _with(packet: SemanticPacket, **changes) -> SemanticPacket:
    assert packet.latent is not None and packet.latent.analog is not None
    latent = dataclasses.replace(packet.latent, analog=dataclasses.replace(packet.latent.analog, **changes))
    return dataclasses.replace(packet, latent=latent)


def _floats(packet: SemanticPacket) -> np.ndarray:
    assert packet.latent is not None and packet.latent.analog is not None
    return np.frombuffer(packet.latent.analog.symbols, "<f4").copy()


def _set(packet: SemanticPacket, index: int, value: float) -> SemanticPacket:
    floats = _floats(packet)
    floats[index] = value
    return _with(packet, symbols=floats.astype("<f4").tobytes())


def _symbols_bytes(packet: SemanticPacket) -> bytes:
    assert packet.latent is not None and packet.latent.analog is not None
    return packet.latent.analog.symbols


def _meta(packet: SemanticPacket) -> bytes:
    assert packet.latent is not None and packet.latent.analog is not None
    return packet.latent.analog.meta


# (case, where, request factory, fragment of the message); every one INVALID_ARGUMENT
CASES: list[tuple[str, str, Callable[[], object], str]] = [
    ("NaN symbol", "channel", lambda: _request(_set(_packet(), 5, float("nan"))), "not every I/Q value is finite"),
    ("+inf symbol", "channel", lambda: _request(_set(_packet(), 0, float("inf"))), "not every I/Q value is finite"),
    ("-inf symbol (receiver)", "receiver", lambda: _request(_set(_packet(), 2, -np.inf)), "not every I/Q value"),
    (
        "odd float count",
        "channel",
        lambda: _request(_with(_packet(), symbols=_symbols_bytes(_packet()) + b"\0\0\0\0")),
        "odd count",
    ),
    (
        "bytes not float32",
        "channel",
        lambda: _request(_with(_packet(), symbols=_symbols_bytes(_packet())[:-3])),
        "whole number of float32",
    ),
    (
        "one symbol short of the budget",
        "channel",
        lambda: _request(_with(_packet(), symbols=_symbols_bytes(_packet())[:-8])),
        "complex symbols, but analog for a latent of shape",
    ),
    (
        "twice the budget",
        "receiver",
        lambda: _request(_with(_packet(), symbols=_symbols_bytes(_packet()) * 2)),
        "complex symbols, but",
    ),
    (
        "energy 4 (a louder sender)",
        "channel",
        lambda: _request(_with(_packet(), symbols=(_floats(_packet()) * 2).astype("<f4").tobytes())),
        "average energy",
    ),
    (
        "meta scale NaN",
        "channel",
        lambda: _request(_with(_packet(), meta=np.float32(np.nan).tobytes() + _meta(_packet())[4:])),
        "meta: .*energy scale",
    ),
    (
        "meta one byte short",
        "receiver",
        lambda: _request(_with(_packet(), meta=_meta(_packet())[:-1])),
        "symbols, but|meta",
    ),
    ("pixel scheme", "channel", lambda: _request(_with(_packet(), spec="softcast")), "pixels"),
    ("malformed spec", "receiver", lambda: _request(_with(_packet(), spec="analog:sym=-3")), "sym"),
    (
        "channel state sent into the channel",
        "channel",
        lambda: _request(_with(_packet(), csi=ChannelState(0.1))),
        "carries no channel state",
    ),
    (
        "gains for the wrong number of blocks",
        "receiver",
        lambda: _request(_with(_packet(), csi=ChannelState(0.1, b"\0" * 24, 16))),
        "gains for",
    ),
    (
        "over SEMCOM_MAX_LATENT_BYTES",
        "channel",
        lambda: _request(_with(_packet(), symbols=b"\0" * (16 * 128 * 128 * 8 + 8))),
        "SEMCOM_MAX_LATENT_BYTES",
    ),
    (
        "analog over the bit channel (bsc)",
        "channel",
        lambda: _request(_packet(), model=channel_pb2.CHANNEL_MODEL_BSC),
        "needs a symbol channel",
    ),
    (
        "unparsable spec at the sender",
        "encode",
        lambda: _spec_request("analog:frac=1/0"),
        "analog_spec: .*zero denominator",
    ),
    (
        "alloc=decoder for a latent without shipped weights",
        "encode",
        lambda: _spec_request("analog:alloc=decoder"),
        "alloc=decoder.*decoder weights",
    ),
]


def _spec_request(spec: str):
    req = image_request(GOOD, caption="a test picture", steps=2, latent_encoding="analog")
    req.analog_spec = spec
    return req


@pytest.mark.parametrize("case,where,make,fragment", CASES, ids=[c[0] for c in CASES])
def test_malformed_analog_payload_is_invalid_argument(topology: Topology, case, where, make, fragment) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call(topology, where, make())
    assert err.value.code() == INVALID, err.value.details()
    assert re.search(fragment, err.value.details()), err.value.details()
    assert_serving(topology)
    # and a good analog packet still goes through that hop
    good = call(topology, "channel" if where == "encode" else where, _request(_packet()))
    assert good.mode_used == receiver_pb2.MODE_LATENT


def test_the_proxy_is_the_analog_phy(topology: Topology) -> None:
    packet = _packet("analog:sym=900")
    with ReceiverClient(topology.channel.target, tls=PLAIN, retry_attempts=1) as client:
        done = client.reconstruct(
            _request(
                packet,
                snr_db=12.0,
                snr_convention=channel_pb2.SNR_CONVENTION_ESN0,
                model=channel_pb2.CHANNEL_MODEL_RAYLEIGH_BLOCK,
                fading_block_length=32,
                seed=7,
                latent_policy=convert.LATENT_POLICIES["auto"],
            ),
            timeout=60,
        )
    report = done.report
    n = len(_symbols_bytes(packet)) // 8
    assert report.latent_analog and not report.latent_dropped
    assert report.latent.analog_symbols == n
    assert report.latent.symbols == n + analog.header_symbols(len(_meta(packet)))
    assert report.total_symbols == 900  # the budget, on the reference link (uncoded 16-QAM caption)
    assert report.esn0_db == pytest.approx(12.0)
    assert report.latent.mcs == analog.HEADER_MCS
    # the same channel in process: the same counts, and the receiver's channel state per block
    from semcom.link.transmission import transmit_packet
    from semcom.link.types import ChannelConfig

    cfg = ChannelConfig(snr_db=12.0, snr_convention="esn0", model="rayleigh", fading_block_length=32, seed=7)
    received, local = transmit_packet(packet, cfg)
    assert received.latent is not None and received.latent.analog is not None
    assert received.latent.analog.csi is not None and received.latent.analog.csi.block_length == 32
    assert (local.total_symbols, local.latent.analog_symbols) == (report.total_symbols, report.latent.analog_symbols)


def test_semcom_send_with_an_analog_encoding(topology: Topology, tmp_path, capsys) -> None:
    """`semcom send --encoding analog:...`: the spec crosses in ImageRequest.analog_spec, the line
    printed and report.json give Es/N0 only for the analog latent; at Es/N0 0 dB on an uncoded link
    the latent is sent (policy auto), where a digital latent would be dropped by the threshold."""
    import json

    from semcom.cli import main

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "photo.jpg").write_bytes(GOOD)
    out = tmp_path / "out"
    args = ["send", str(tmp_path / "in"), "--to", topology.sender.target, "--insecure", "--out", str(out)]
    args += ["--encoding", "analog:budget=float16", "--caption", "a test picture", "--mode", "latent"]
    args += ["--steps", "2", "--strength", "0", "--snr-db", "0", "--snr-convention", "esn0", "--latent-policy", "auto"]
    args += ["--seed", "0"]  # the channel's noise: at 0 dB an unlucky draw can fail the analog header's CRC
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "analog latent in" in printed and "Es/N0 0.00 dB" in printed and "dropped" not in printed
    (record,) = json.loads((out / "report.json").read_text())["images"]
    assert record["mode_used"] == "latent" and "only Es/N0" in record["snr_note"]
    assert record["report"]["latent_analog"] and record["report"]["latent"]["analog_symbols"] > 0
