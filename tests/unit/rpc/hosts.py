"""In-process servers for the rpc plumbing tests: a real gRPC server on a loopback port, with a
stand-in receiver model (the plumbing is under test here; the real models are exercised by
tests/integration/services)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import grpc
import numpy as np
from PIL import Image

from receiver_service.batching import Batcher
from receiver_service.servicer import ReceiverServicer
from semcom.models.params import ReconResult
from semcom.payload.latent import encode_latent
from semcom.payload.packet import CodecInfo, SemanticPacket
from semcom.rpc import convert
from semcom.rpc.backpressure import DownstreamGate
from semcom.rpc.server import ServerOptions, ServiceHost
from semcom.rpc.tls import TlsConfig
from semcom.v1 import receiver_pb2, receiver_pb2_grpc, sender_pb2, sender_pb2_grpc
from sender_service.servicer import SenderServicer
from tests.images import encoded


class GatedReceiver:
    """Answers `reconstruct_batch` with grey images once `gate` is open; records every batch."""

    def __init__(self, open_gate: bool = True) -> None:
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.batches: list[int] = []

    def reconstruct_batch(self, items, return_exceptions: bool = False):
        self.gate.wait(30)
        self.batches.append(len(items))
        out = []
        for packet, params, *_channel_state in items:
            mode = params.mode if params.mode != "auto" else ("text+latent" if packet.latent else "text")
            out.append(
                ReconResult(
                    image=Image.new("RGB", (64, 64), (90, 90, 90)),
                    mode_used=mode,
                    caption_received=packet.caption.decode("ascii", "replace"),
                    steps_executed=params.num_inference_steps,
                    timings={"denoise": 0.0},
                )
            )
        return out


def small_packet() -> SemanticPacket:
    """A caption and a 4x8x8 float64 latent (seeded), as a tiny-VAE sender would pack them."""
    latent = np.random.default_rng(0).normal(size=(4, 8, 8))
    return SemanticPacket(
        caption=b"a cat",
        latent=encode_latent(latent, "float64"),
        codec=CodecInfo("tiny-vae", "", 0.18215, -5.0, 5.0),
        coded_size=(64, 64),
    )


def reconstruct_request(request_id: str = "r", mode: int = receiver_pb2.MODE_AUTO) -> receiver_pb2.ReconstructRequest:
    return receiver_pb2.ReconstructRequest(
        request_id=request_id,
        packet=convert.packet_to_proto(small_packet()),
        params=receiver_pb2.ReconstructionParams(mode=mode, num_inference_steps=3),
    )


class ReceiverHost:
    """A ReceiverService host on 127.0.0.1:<free port> around a GatedReceiver."""

    def __init__(
        self,
        tls: TlsConfig | None = None,
        max_queue: int = 4,
        batch_max: int = 1,
        window_s: float = 0.0,
        attach: bool = True,
        max_workers: int = 4,
        **options: object,
    ) -> None:
        """`options`: further ServerOptions fields (allowed_clients, shutdown_grace_s, ...);
        `admission` in them: keyword arguments of the Batcher (cost_budget, high_water ...)."""
        self.model = GatedReceiver()
        admission = dict(options.pop("admission", {}) or {})  # type: ignore[call-overload]
        settings = dict(
            host="127.0.0.1",
            port=0,
            max_workers=max_workers,
            max_queue=max_queue,
            shutdown_grace_s=5.0,
            tls=tls or TlsConfig(insecure=True),
        )
        settings.update(options)
        self.host = ServiceHost("receiver", ServerOptions(**settings))  # type: ignore[arg-type]
        self.servicer = ReceiverServicer(max_image_pixels=1_000_000)
        self.host.add(
            receiver_pb2.DESCRIPTOR.services_by_name["ReceiverService"],
            self.servicer,
            receiver_pb2_grpc.add_ReceiverServiceServicer_to_server,
        )
        if admission.pop("readiness", False):
            admission["on_pressure"] = self.host.set_overloaded
        self.batcher = Batcher(self.model, max_queue, batch_max, window_s, **admission)
        self.port = self.host.start()
        if attach:
            self.ready()

    def ready(self) -> None:
        self.servicer.attach(self.batcher, spatial_factor=8)
        self.host.set_serving()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.model.gate.set()
        self.host.stop(0).wait(5)
        self.batcher.close()


class SlowSender:
    """A stand-in sender model of profile `models` (tiny, with a captioner): each encode takes
    `seconds` (an image inside the model), or fails with `error` when set; counts the images it
    finished and records the caption each was given."""

    def __init__(self, seconds: float = 0.5) -> None:
        self.models = SimpleNamespace(name="tiny", has_captioner=True)
        self.seconds = seconds
        self.error: Exception | None = None
        self.done = 0
        self.captions: list[str | None] = []
        self._lock = threading.Lock()

    def encode_with_timings(self, **item):
        self.captions.append(item["caption"])
        time.sleep(self.seconds)
        if self.error is not None:
            raise self.error
        with self._lock:
            self.done += 1
        return small_packet(), {"encode": self.seconds}


def image_request(request_id: str = "i") -> sender_pb2.ImageRequest:
    return sender_pb2.ImageRequest(request_id=request_id, image=encoded(Image.new("RGB", (64, 64), (10, 20, 30))))


class SenderHost:
    """A SenderService host on 127.0.0.1:<free port> around a SlowSender, forwarding to a
    ReceiverHost (the downstream) through a `DownstreamGate` of `downstream_limit` permits."""

    def __init__(
        self,
        seconds: float = 0.5,
        max_workers: int = 8,
        receiver_workers: int = 8,
        downstream_limit: int | None = 8,
        **options: object,
    ) -> None:
        self.receiver = ReceiverHost(max_workers=receiver_workers, max_queue=64)
        self.link = grpc.insecure_channel(self.receiver.target)
        self.model = SlowSender(seconds)
        settings: dict = dict(host="127.0.0.1", port=0, max_workers=max_workers, shutdown_grace_s=5.0)
        settings.update(options)
        self.host = ServiceHost("sender", ServerOptions(**settings))
        gate = DownstreamGate(downstream_limit, "sender") if downstream_limit else None
        self.servicer = SenderServicer(
            1_000_000, 64, "float64", receiver_pb2_grpc.ReceiverServiceStub(self.link), self.receiver.target, gate=gate
        )
        self.host.add(
            sender_pb2.DESCRIPTOR.services_by_name["SenderService"],
            self.servicer,
            sender_pb2_grpc.add_SenderServiceServicer_to_server,
        )
        self.port = self.host.start()
        self.servicer.attach(self.model, "tiny")
        self.host.set_serving()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.host.stop(0).wait(5)
        self.link.close()
        self.receiver.close()


def status_code(fn) -> grpc.StatusCode:
    """The status `fn()` ends with (OK when it raises no RpcError)."""
    try:
        fn()
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK
