"""Receiver dynamic batching, measured: throughput with SEMCOM_BATCH_MAX=B vs 1 at one concurrency.

Two receivers are started one after the other (same profile, image size and packets, batching
off then on), each driven by the same closed-loop load; request i carries seed i in both runs,
so their images can be compared. `compare_batching` returns both levels, the throughput ratio,
the receiver's CPU seconds per request in each run (on a shared machine far steadier than wall
time, which other people's load moves run to run) and the image comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from semcom.loadtest.cluster import LocalServices
from semcom.loadtest.dial import open_channel
from semcom.loadtest.generator import Bounds, run_closed_loop, warm_up
from semcom.loadtest.stats import LevelResult, summarise_level
from semcom.loadtest.workloads import ReceiverReconstruct, ReconOptions
from semcom.v1 import packet_pb2


@dataclass
class BatchingResult:
    concurrency: int
    batch_max: int
    mode: str
    unbatched: LevelResult
    batched: LevelResult
    throughput_ratio: float  # batched / unbatched requests per second
    unbatched_cpu_s: float | None  # receiver CPU seconds per measured request (None off Linux)
    batched_cpu_s: float | None
    cpu_ratio: float | None  # unbatched / batched CPU seconds per request (> 1: batching saves CPU)
    compared: int  # requests answered in both runs
    identical: int  # of those, how many PNGs are byte-identical
    differing: list[int] = field(default_factory=list)  # request indices whose PNGs differ

    def to_dict(self) -> dict:
        return asdict(self)


def compare_batching(
    packets: list[packet_pb2.SemanticPacket],
    *,
    profile: str = "tiny",
    image_size: int = 128,
    concurrency: int = 8,
    batch_max: int = 8,
    bounds: Bounds = Bounds(max_requests=16, duration_s=120.0, timeout_s=300.0),
    mode: str = "text+latent",
    options: ReconOptions = ReconOptions(),
    window_ms: float = 20.0,
    progress: Callable[[str], None] | None = None,
) -> BatchingResult:
    """Unbatched, then batched receiver under the same closed-loop load (see module docstring);
    `progress` gets a line as each run starts and one when it ends."""
    if batch_max < 2:
        raise ValueError(f"batch_max must be >= 2 to compare with unbatched, got {batch_max}")
    say = progress or (lambda line: None)

    def measure(batch: int) -> tuple[LevelResult, dict[int, bytes], float | None]:
        """A receiver with SEMCOM_BATCH_MAX=`batch` under the load: its level, images, CPU s per request."""
        what = f"run {1 + (batch > 1)}/2 (SEMCOM_BATCH_MAX={batch}, concurrency {concurrency})"
        say(f"{what}: starting a receiver, then at most {bounds.max_requests} requests or {bounds.duration_s:g} s ...")
        env = {"SEMCOM_BATCH_MAX": str(batch), "SEMCOM_BATCH_WINDOW_MS": str(window_ms)}
        with LocalServices(profile=profile, image_size=image_size, roles=("receiver",), receiver_env=env) as pipe:
            with open_channel(pipe.receiver, insecure=True) as channel:
                warm = ReceiverReconstruct(channel, packets, mode, None, options)
                warm_up(warm, 1, bounds.timeout_s)
                call = ReceiverReconstruct(channel, packets, mode, None, options, keep_images=True)
                service = pipe.services["receiver"]
                cpu0 = service.cpu_seconds()
                run = run_closed_loop(call, concurrency, bounds)
                cpu1 = service.cpu_seconds()
        level = summarise_level(run.samples, mode=mode, snr_db=None, loop="closed", concurrency=concurrency, t0=run.t0)
        say(f"{what} done: {level.completed}/{level.issued} ok in {level.elapsed_s:.1f} s")
        cpu = (cpu1 - cpu0) / level.completed if cpu0 is not None and cpu1 is not None and level.completed else None
        return level, call.images, cpu

    unbatched, images_1, cpu_1 = measure(1)
    batched, images_b, cpu_b = measure(batch_max)
    both = sorted(set(images_1) & set(images_b))
    differing = [i for i in both if images_1[i] != images_b[i]]
    ratio = batched.throughput_rps / unbatched.throughput_rps if unbatched.throughput_rps > 0 else float("nan")
    return BatchingResult(
        concurrency=concurrency,
        batch_max=batch_max,
        mode=mode,
        unbatched=unbatched,
        batched=batched,
        throughput_ratio=ratio,
        unbatched_cpu_s=cpu_1,
        batched_cpu_s=cpu_b,
        cpu_ratio=cpu_1 / cpu_b if cpu_1 and cpu_b else None,
        compared=len(both),
        identical=len(both) - len(differing),
        differing=differing,
    )
