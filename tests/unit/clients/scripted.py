"""A scripted SenderService for client tests: each Transmit stream follows the next entry of a
script, so the client's retries, resumes and reports can be checked exactly (no models)."""

from __future__ import annotations

import sys
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field

import grpc

from semcom.v1 import receiver_pb2, sender_pb2, sender_pb2_grpc


@dataclass
class Step:
    """One stream: answer `answer` requests (None = all), then end with `code` (None = OK).

    `pushback_ms` goes out as the trailer grpc-retry-pushback-ms; `duplicate` re-sends the first
    result once more after it (a server misbehaving: the client must not deliver it twice)."""

    answer: int | None = None
    code: grpc.StatusCode | None = None
    message: str = "scripted"
    pushback_ms: int | None = None
    duplicate: bool = False
    sleep_s: float = 0.0  # before answering anything (a slow or, once SIGSTOPped, frozen server)


def result_for(request: sender_pb2.ImageRequest) -> sender_pb2.TransmitResult:
    result = sender_pb2.TransmitResult(
        request_id=request.request_id,
        reconstruction=receiver_pb2.Image(data=b"PNG-of-" + request.image, width=1, height=1, format="png"),
        caption_sent=b"a scripted caption",
        caption_received=b"a scripted caption",
        steps_executed=2,
        timings={"total": 0.01},
    )
    result.report.latent.bits = 8
    return result


@dataclass
class ScriptedSender(sender_pb2_grpc.SenderServiceServicer):
    script: list[Step] = field(default_factory=list)
    streams: list[list[str]] = field(default_factory=list)  # request ids each stream carried
    lock: threading.Lock = field(default_factory=threading.Lock)

    def Transmit(self, request_iterator, context):  # noqa: N802 (gRPC method name)
        with self.lock:
            step = self.script.pop(0) if self.script else Step()
            ids: list[str] = []
            self.streams.append(ids)
        if step.sleep_s:
            time.sleep(step.sleep_s)
        for answered, request in enumerate(request_iterator):
            ids.append(request.request_id)
            if step.answer is not None and answered >= step.answer:
                break
            yield result_for(request)
            if step.duplicate and answered == 0:
                yield result_for(request)
        if step.code is not None:
            if step.pushback_ms is not None:
                context.set_trailing_metadata((("grpc-retry-pushback-ms", str(step.pushback_ms)),))
            context.abort(step.code, step.message)


class Server:
    """The scripted sender on a free 127.0.0.1 port."""

    def __init__(
        self,
        *steps: Step,
        credentials: grpc.ServerCredentials | None = None,
        port: int = 0,
        options: list[tuple[str, int]] | None = None,
    ) -> None:
        self.servicer = ScriptedSender(list(steps))
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
        sender_pb2_grpc.add_SenderServiceServicer_to_server(self.servicer, self.server)
        address = f"127.0.0.1:{port}"
        self.port = (
            self.server.add_secure_port(address, credentials)
            if credentials is not None
            else self.server.add_insecure_port(address)
        )
        self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def streams(self) -> list[list[str]]:
        return self.servicer.streams

    def stop(self) -> None:
        self.server.stop(grace=None)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# A server that accepts keepalive pings every second, with or without calls (gRPC's default
# policy answers pings more often than about every 10 s with a too_many_pings GOAWAY).
PERMISSIVE_PINGS = [
    ("grpc.http2.min_ping_interval_without_data_ms", 1000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_ping_strikes", 0),
]

if __name__ == "__main__":  # python -m tests.unit.clients.scripted PORT SLEEP_S [permit]: a process to SIGSTOP
    server = Server(
        *[Step(sleep_s=float(sys.argv[2]))] * 100,
        port=int(sys.argv[1]),
        options=PERMISSIVE_PINGS if sys.argv[3:] == ["permit"] else None,
    )
    print("serving", flush=True)
    server.server.wait_for_termination()
