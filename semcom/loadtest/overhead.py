"""Cost of the service boundary: the three-hop gRPC pipeline vs the same work in one process.

For each request i (same image, caption model, codec, channel settings, receiver mode and steps on
both paths) the benchmark times

* in process: decode the image, `semcom.pipeline.Pipeline.run` (the stages the services run),
  PNG-encode the result (what the three services do, minus gRPC);
* over gRPC: one sender.Transmit through sender -> channel_sim -> receiver, each its own process.

Two estimates of the overhead, both reported:

* direct (the headline number): per gRPC request, client latency minus the work stages the
  services themselves timed (`WORK_STAGES`: caption, encode, pack, channel, unpack, text_encode,
  denoise, decode, image_encode); what is left is gRPC, protobuf conversion, dispatch and the
  sender's (untimed) image decode. Both terms come from the same request, so the load of a shared
  machine cannot make it negative; its ratio is taken to the median work time.
* paired: median of (gRPC - in process) over interleaved pairs (in process, gRPC, in process,
  ...). It compares with the in-process path directly but inherits the run-to-run noise of the
  model time, which on a busy CPU is far larger than the overhead itself.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from semcom import config
from semcom.link.types import ChannelConfig, channel_settings
from semcom.loadtest.cluster import LocalServices
from semcom.loadtest.dial import open_channel
from semcom.loadtest.workloads import MODE_POLICY, ReconOptions, SenderTransmit
from semcom.models import ReconParams
from semcom.pipeline import LatentSpec, Pipeline, RoleSeeds, TransmissionRequest
from semcom.rpc.images import decode_image, encode_image

# Stages the in-process pipeline also performs (names as the services report them).
WORK_STAGES = ("caption", "encode", "pack", "channel", "unpack", "text_encode", "denoise", "decode", "image_encode")


@dataclass
class OverheadResult:
    requests: int
    image_size: int
    mode: str
    steps: int | None
    snr_db: float
    in_process_s: list[float]  # wall time per request, in process
    grpc_s: list[float]  # wall time per request, over the three services
    model_s: list[float]  # in process: sender + channel + receiver time per request
    grpc_work_s: list[float]  # per gRPC request: sum of WORK_STAGES the services reported
    grpc_stages: dict[str, float]  # median of each stage the services reported over gRPC
    median_in_process_s: float
    median_grpc_s: float
    median_model_s: float
    overhead_s: float  # direct: median of (gRPC latency - reported work stages)
    overhead_ratio: float  # overhead_s / median of grpc_work_s
    paired_overhead_s: float  # median of paired (gRPC - in process)
    paired_overhead_ratio: float  # paired_overhead_s / median_model_s

    def to_dict(self) -> dict:
        return asdict(self)


def in_process_pipeline(
    profile: str, image_size: int, mode: str, snr_db: float, options: ReconOptions
) -> Callable[[bytes, int], float]:
    """A function (image bytes, index) -> model seconds that runs the whole pipeline in this process."""
    pipeline = Pipeline.from_profile(profile)
    pipeline.sender.preload()
    pipeline.receiver.preload()
    # as the gRPC twin: its override (the SNR, the mode's latent policy) on the proxy's settings
    channel = ChannelConfig(**channel_settings(snr_db=snr_db, latent_policy=MODE_POLICY.get(mode)))
    max_pixels = config.get("SEMCOM_MAX_IMAGE_PIXELS")
    given: dict[str, Any] = {"num_inference_steps": options.steps, "strength": options.strength}
    recon = ReconParams(mode=mode, **{name: value for name, value in given.items() if value is not None})
    # as the sender service for an ImageRequest with defaults
    latent = LatentSpec(encoding=config.get("SEMCOM_LATENT_ENCODING"), size=image_size)

    def run(image: bytes, index: int) -> float:
        # the same seeds as the gRPC twin's request i (`ReconOptions.to_proto`): the receiver's only
        seeds = RoleSeeds(receiver=options.seed if options.seed is not None else index)
        done = pipeline.run(
            TransmissionRequest(
                image=decode_image(image, max_pixels), params=recon, channel=channel, latent=latent, seeds=seeds
            )
        )
        encode_image(done.recon.image, "png")
        return done.timings["sender_total"] + done.report.channel_seconds + done.timings["receiver_total"]

    return run


def measure_overhead(
    images: Sequence[bytes],
    *,
    requests: int = 3,
    profile: str = "tiny",
    image_size: int = 512,
    mode: str = "text+latent",
    snr_db: float = 10.0,
    options: ReconOptions = ReconOptions(steps=10),
    timeout_s: float = 600.0,
    progress: Callable[[str], None] | None = None,
) -> OverheadResult:
    """Interleaved in-process vs gRPC runs of `requests` requests (plus one warm-up each);
    `progress` gets a line before the set-up and one per request pair."""
    if requests < 1:
        raise ValueError("requests must be >= 1")
    say = progress or (lambda line: None)
    say(f"loading profile {profile} in process and starting sender -> channel -> receiver, warm-up ...")
    local = in_process_pipeline(profile, image_size, mode, snr_db, options)
    inproc, remote, model, work = [], [], [], []
    stage_values: dict[str, list[float]] = {}
    with LocalServices(profile=profile, image_size=image_size) as pipe, open_channel(pipe.sender, True) as channel:
        transmit = SenderTransmit(channel, images, mode, snr_db, options)
        local(images[0], 0)  # warm-up: first calls allocate, JIT and fill caches
        transmit(0, timeout_s)
        for i in range(requests):
            image = images[i % len(images)]
            t0 = time.perf_counter()
            model.append(local(image, i))
            inproc.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            timings = transmit(i, timeout_s)
            remote.append(time.perf_counter() - t0)
            work.append(sum(timings.get(stage, 0.0) for stage in WORK_STAGES))
            say(f"pair {i + 1}/{requests}: in process {inproc[-1]:.2f} s, three-hop gRPC {remote[-1]:.2f} s")
            for stage, value in timings.items():
                stage_values.setdefault(stage, []).append(value)
    paired = statistics.median(g - p for g, p in zip(remote, inproc))
    direct = statistics.median(g - w for g, w in zip(remote, work))
    median_model, median_work = statistics.median(model), statistics.median(work)
    return OverheadResult(
        requests=requests,
        image_size=image_size,
        mode=mode,
        steps=options.steps,
        snr_db=snr_db,
        in_process_s=inproc,
        grpc_s=remote,
        model_s=model,
        grpc_work_s=work,
        grpc_stages={k: statistics.median(v) for k, v in sorted(stage_values.items())},
        median_in_process_s=statistics.median(inproc),
        median_grpc_s=statistics.median(remote),
        median_model_s=median_model,
        overhead_s=direct,
        overhead_ratio=direct / median_work if median_work > 0 else float("nan"),
        paired_overhead_s=paired,
        paired_overhead_ratio=paired / median_model if median_model > 0 else float("nan"),
    )
