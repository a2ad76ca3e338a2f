"""Load drivers over a real loopback gRPC channel, against a scripted ReceiverService.

The servicer here is a test double with known behaviour (fails every fifth request with
UNAVAILABLE, answers OK without an image when asked to), so the counts the drivers and the
statistics report can be checked exactly. The real services are exercised in
tests/integration/loadtest.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from semcom.loadtest.cluster import process_cpu_seconds
from semcom.loadtest.generator import BAD_RESPONSE, CLIENT_LINK, Bounds, run_closed_loop, run_open_loop
from semcom.loadtest.report import markdown_tables, write_report
from semcom.loadtest.runner import SweepPlan, run_load_test
from semcom.loadtest.stats import summarise_level
from semcom.loadtest.workloads import ReceiverReconstruct, channel_override
from semcom.v1 import channel_pb2, packet_pb2, receiver_pb2, receiver_pb2_grpc


class ScriptedReceiver(receiver_pb2_grpc.ReceiverServiceServicer):
    """Request `loadtest-i`: UNAVAILABLE when i % 5 == 4, no image when caption is b"empty", else OK."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[receiver_pb2.ReconstructRequest] = []

    def Reconstruct(self, request, context):  # noqa: N802 (gRPC method name)
        with self.lock:
            self.requests.append(request)
        index = int(request.request_id.rsplit("-", 1)[1])
        if index % 5 == 4:
            context.abort(grpc.StatusCode.UNAVAILABLE, "scripted failure")
        if request.packet.caption == b"empty":
            return receiver_pb2.ReconstructResponse(request_id=request.request_id)
        return receiver_pb2.ReconstructResponse(
            request_id=request.request_id,
            image=receiver_pb2.Image(data=b"\x89PNG", width=1, height=1, format="png"),
            timings={"denoise": 0.002, "decode": 0.001, "total": 0.003},
        )


@pytest.fixture()
def scripted():
    servicer = ScriptedReceiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    receiver_pb2_grpc.add_ReceiverServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield servicer, channel
    finally:
        channel.close()
        server.stop(grace=None)


def _packet(caption: bytes = b"a dog runs on the grass") -> packet_pb2.SemanticPacket:
    return packet_pb2.SemanticPacket(
        version=1,
        caption=caption,
        latent=packet_pb2.LatentTensor(shape=[4, 2, 2], encoding=packet_pb2.LATENT_ENCODING_FLOAT32, data=bytes(64)),
    )


def test_closed_loop_counts_add_up(scripted) -> None:
    servicer, channel = scripted
    call = ReceiverReconstruct(channel, [_packet()], mode="text+latent", snr_db=None)
    run = run_closed_loop(call, concurrency=3, bounds=Bounds(max_requests=20, duration_s=30.0, timeout_s=10.0))
    level = summarise_level(run.samples, mode="text+latent", snr_db=None, loop="closed", concurrency=3, t0=run.t0)
    assert level.issued == 20 == len(servicer.requests)
    assert level.errors == {"UNAVAILABLE": 4}  # indices 4, 9, 14, 19
    assert level.completed == 16
    assert level.throughput_rps == pytest.approx(level.completed / level.elapsed_s)
    lat = level.latency
    assert lat.min <= lat.p50 <= lat.p90 <= lat.p95 <= lat.p99 <= lat.max
    assert level.stages["denoise"].count == 16 and level.stages["denoise"].mean == pytest.approx(0.002)
    # the generator adds the client's share: its latency minus the server's reported total
    ok = [s for s in run.samples if s.code == "OK"]
    assert level.stages[CLIENT_LINK].count == 16
    assert all(s.timings[CLIENT_LINK] == pytest.approx(max(s.latency - 0.003, 0.0)) for s in ok)
    # every index sent exactly once, each with its own seed
    assert sorted(int(r.request_id.rsplit("-", 1)[1]) for r in servicer.requests) == list(range(20))
    assert sorted(r.params.seed for r in servicer.requests) == list(range(20))


def test_text_mode_strips_latent_and_sets_mode(scripted) -> None:
    servicer, channel = scripted
    call = ReceiverReconstruct(channel, [_packet()], mode="text", snr_db=7.5)
    run_closed_loop(call, concurrency=1, bounds=Bounds(max_requests=2, duration_s=30.0, timeout_s=10.0))
    for request in servicer.requests:
        assert not request.packet.HasField("latent")
        assert request.params.mode == receiver_pb2.MODE_TEXT
        assert request.channel.snr_db == 7.5
        assert request.channel.latent_policy == channel_pb2.LATENT_POLICY_NEVER


def test_duration_bound_stops_before_request_bound(scripted) -> None:
    _, channel = scripted
    call = ReceiverReconstruct(channel, [_packet()], mode="auto", snr_db=None)
    run = run_closed_loop(call, concurrency=1, bounds=Bounds(max_requests=10**9, duration_s=0.2, timeout_s=10.0))
    assert 0 < len(run.samples) < 10**9


def test_ok_without_image_is_a_bad_response(scripted) -> None:
    _, channel = scripted
    call = ReceiverReconstruct(channel, [_packet(b"empty")], mode="auto", snr_db=None)
    run = run_closed_loop(call, concurrency=2, bounds=Bounds(max_requests=5, duration_s=30.0, timeout_s=10.0))
    codes = sorted(s.code for s in run.samples)
    assert codes == sorted([BAD_RESPONSE] * 4 + ["UNAVAILABLE"])


def test_open_loop_releases_on_schedule(scripted) -> None:
    servicer, channel = scripted
    call = ReceiverReconstruct(channel, [_packet()], mode="auto", snr_db=None)
    rate = 40.0
    run = run_open_loop(call, rate, Bounds(max_requests=8, duration_s=30.0, timeout_s=10.0), max_in_flight=2)
    assert len(run.samples) == 8 == len(servicer.requests)
    # latency is measured from the scheduled release, so starts sit exactly on the schedule
    starts = sorted(s.start - run.t0 for s in run.samples)
    assert starts == pytest.approx([i / rate for i in range(8)])
    assert all(s.end >= s.start for s in run.samples)


def test_sweep_and_report_files(scripted, tmp_path: Path) -> None:
    _, channel = scripted
    plan = SweepPlan(
        modes=["text", "text+latent"],
        concurrency=[1, 2],
        bounds=Bounds(max_requests=6, duration_s=30.0, timeout_s=10.0),
        snr_dbs=[10.0],
        warmup=1,
    )
    # the scripted server runs in this process, so this process's CPU time is the server's
    lines: list[str] = []
    report = run_load_test(
        "127.0.0.1:0",
        "receiver",
        plan,
        lambda mode, snr: ReceiverReconstruct(channel, [_packet()], mode, snr),
        cpu_probe=lambda: {"scripted": process_cpu_seconds(os.getpid())},
        progress=lines.append,
    )
    # progress: a line as each of the 4 levels starts and one as it ends (the defaults run for minutes)
    assert len(lines) == 8 and lines[0].startswith("level 1/4 (mode text, snr 10.0, concurrency 1): at most 6")
    assert lines[7].startswith("level 4/4 done (mode text+latent, snr 10.0, concurrency 2): 5/6 ok, 1 errors")
    assert [(lv.mode, lv.concurrency) for lv in report.levels] == [
        ("text", 1),
        ("text", 2),
        ("text+latent", 1),
        ("text+latent", 2),
    ]
    assert report.warmup_errors == {}  # warm-up indices are negative, never scripted to fail
    paths = write_report(report, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert len(data["levels"]) == 4
    for level in data["levels"]:
        assert level["issued"] == 6
        assert level["server_cpu_s"]["scripted"] >= 0
        assert level["completed"] + sum(level["errors"].values()) == level["issued"]
    assert paths["plot"].read_bytes()[:4] == b"\x89PNG"
    table = markdown_tables(report)
    assert "| text+latent | 10 | 2 | 5/6 | UNAVAILABLE 1 |" in table
    assert "denoise" in paths["markdown"].read_text()
    assert "| mode | SNR dB | conc. | scripted |" in table


def test_channel_override_sets_only_snr_and_policy() -> None:
    cfg = channel_override("auto", 5.0, seed=3)
    assert cfg.snr_db == 5.0 and cfg.seed == 3
    # everything else stays unset, so the proxy keeps its configured channel
    assert cfg.latent_policy == channel_pb2.LATENT_POLICY_UNSPECIFIED
    assert cfg.modulation == channel_pb2.MODULATION_UNSPECIFIED and not cfg.HasField("drop_threshold_db")
    assert channel_override("text+latent", 5.0).latent_policy == channel_pb2.LATENT_POLICY_ALWAYS
    with pytest.raises(ValueError):
        channel_override("pictures", 5.0)


def test_the_in_process_twin_has_the_channel_the_proxy_would(monkeypatch) -> None:
    """`bench pipeline`'s in-process twin: the gRPC twin's override (the SNR, the mode's latent
    policy) on every channel setting the proxy reads (semcom.link.types.channel_settings), so a
    deployment's SEMCOM_FEC / SEMCOM_MCS are in both (the twin left them at their defaults)."""
    import io
    from types import SimpleNamespace

    from PIL import Image

    from semcom.link.types import ChannelConfig
    from semcom.loadtest.overhead import in_process_pipeline
    from semcom.loadtest.workloads import ReconOptions
    from semcom.pipeline import Pipeline

    requests = []

    def run(request):
        requests.append(request)
        recon = SimpleNamespace(image=Image.new("RGB", (8, 8)))
        return SimpleNamespace(recon=recon, report=SimpleNamespace(channel_seconds=0.0), timings=dict.fromkeys(
            ("sender_total", "receiver_total"), 0.0))  # fmt: skip

    stage = SimpleNamespace(preload=lambda: None)
    fake = SimpleNamespace(sender=stage, receiver=stage, run=run)
    monkeypatch.setattr(Pipeline, "from_profile", classmethod(lambda cls, *a, **k: fake))
    settings = {
        "SEMCOM_FEC": "ldpc",
        "SEMCOM_MCS": "qpsk-r1/2",
        "SEMCOM_MODULATION": "qpsk",
        "SEMCOM_LATENT_POLICY": "amc",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    for mode, policy in (("text", "never"), ("latent", "always"), ("auto", "amc")):
        in_process_pipeline("tiny", 64, mode, 6.0, ReconOptions())(png.getvalue(), 0)
        want = ChannelConfig(snr_db=6.0, modulation="qpsk", fec="ldpc", mcs="qpsk-r1/2", latent_policy=policy)
        assert requests[-1].channel == want, mode


def test_bounds_validation() -> None:
    for kwargs in ({"max_requests": 0}, {"duration_s": 0.0}, {"timeout_s": float("inf")}):
        args = {"max_requests": 1, "duration_s": 1.0, "timeout_s": 1.0} | kwargs
        with pytest.raises(ValueError):
            Bounds(**args)


def test_open_loop_sweep_reports_offered_rate(scripted, tmp_path: Path) -> None:
    _, channel = scripted
    plan = SweepPlan(
        modes=["auto"],
        concurrency=[4],
        rates=[50.0, 100.0],
        bounds=Bounds(max_requests=5, duration_s=30.0, timeout_s=10.0),
        warmup=0,
    )
    report = run_load_test(
        "127.0.0.1:0", "receiver", plan, lambda m, s: ReceiverReconstruct(channel, [_packet()], m, s)
    )
    assert [(lv.loop, lv.offered_rps, lv.concurrency) for lv in report.levels] == [
        ("open", 50.0, 4),
        ("open", 100.0, 4),
    ]
    for level in report.levels:
        assert level.issued == 5 and level.errors == {"UNAVAILABLE": 1}
    table = markdown_tables(report)
    assert "| auto | - | 50/s | 4/5 | UNAVAILABLE 1 |" in table
    write_report(report, tmp_path)  # the plot handles open-loop levels (x = offered rate)
