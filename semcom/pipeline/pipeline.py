"""`Pipeline`: sender -> link -> receiver, built once from a profile, the same object behind
`semcom transmit`, `semcom eval`, the benchmarks and (stage by stage) the three services.

    pipe = Pipeline.from_profile("tiny")
    result = pipe.run(TransmissionRequest(image, ReconParams(mode="text+latent"),
                                          channel=ChannelConfig(snr_db=7), seeds=RoleSeeds.derive(0, 0)))

Each stage is also callable alone (`send`, `link`, `receive`), which is what the evaluation sweep
does (it encodes each image's latent once and sends it in many variants), and what the services
do across the network.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from semcom.link.policy import explain_fallback
from semcom.link.transmission import transmit_packet_detailed
from semcom.link.types import ChannelConfig, FieldResult, TransmissionReport
from semcom.models import load_profile
from semcom.payload.packet import SemanticPacket
from semcom.pipeline import stages
from semcom.pipeline.types import TransmissionRequest, TransmissionResult

if TYPE_CHECKING:
    from semcom.models.params import LatentTreatment, ReconParams, ReconResult
    from semcom.models.profiles import Models
    from semcom.models.receiver import Receiver
    from semcom.models.sender import Sender


class Pipeline:
    """Holds the profile's models; every method is safe to call repeatedly (models load once)."""

    def __init__(self, models: Models) -> None:
        self.models = models
        self._sender: Sender | None = None
        self._receiver: Receiver | None = None

    @classmethod
    def from_profile(
        cls, profile: Any = None, device: Any = None, dtype: Any = None, preset: str | None = None
    ) -> Pipeline:
        """`preset`: the reproduction preset (None: the profile's; docs/models.md)."""
        return cls(load_profile(profile, device=device, dtype=dtype, preset=preset))

    @property
    def name(self) -> str:
        return str(self.models.name)

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            self._sender = self.models.sender()
        return self._sender

    @property
    def receiver(self) -> Receiver:
        if self._receiver is None:
            self._receiver = self.models.receiver()
        return self._receiver

    # ------------------------------------------------------------------ stages

    def send(self, request: TransmissionRequest) -> tuple[SemanticPacket, dict[str, float]]:
        """The sender: (the packet that goes on the channel, stage timings)."""
        caption = stages.sender_caption(request.caption, request.params.mode, self.models, "the request's caption")
        item = stages.encode_kwargs(request.image, request.latent, caption, request.seeds.sender)
        packet, timings = self.sender.encode_with_timings(**item)
        return stages.outgoing_packet(packet, request.params.mode), timings

    def link(
        self, packet: SemanticPacket, channel: ChannelConfig, seed: int | None = None, soft: bool = False
    ) -> tuple[SemanticPacket, TransmissionReport, FieldResult | None]:
        """The channel: (received packet, report, the digital latent field's `FieldResult`: its
        CRC-failed bits on a coded link, `erased`; its LLRs when `soft` on an uncoded one, `llr`;
        None when no digital latent crossed). What the services' receiver gets is the packet and
        the report; the field result is for receivers in this process (the evaluation)."""
        return transmit_packet_detailed(packet, stages.channel_for(channel, seed), soft=soft)

    def receive(
        self,
        received: SemanticPacket,
        params: ReconParams,
        report: TransmissionReport | None,
        treatment: LatentTreatment | None = None,
    ) -> ReconResult:
        """The receiver, reading the link the way receiver_service does (`stages.reconstruct_args`);
        a refusal after the channel dropped the latent says so (`semcom.link.policy.explain_fallback`).
        `treatment`: an evaluation-only receiver treatment of the latent (`LatentTreatment`: fill,
        nb, authors, mmse+nb, soft, ...), as the evaluation sweep compares them."""
        try:
            return self.receiver.reconstruct(*stages.reconstruct_args(received, params, report), treatment=treatment)
        except ValueError as exc:
            explain_fallback(exc, report, received.latent is None)
            raise

    # ------------------------------------------------------------------ end to end

    def run(self, request: TransmissionRequest) -> TransmissionResult:
        """One image end to end; the receiver's seed is `request.seeds.receiver` unless the
        reconstruction parameters name their own."""
        return self.run_each(request, [request.channel])[0]

    def run_each(self, request: TransmissionRequest, channels: Sequence[ChannelConfig]) -> list[TransmissionResult]:
        """`request` sent once (one sender pass) and then, as `run` would, over each of `channels`
        and received: one result per channel, each with the sender's timings. With the same seeds,
        result i equals `run` of the request on channels[i]."""
        sent, sender_timings = self.send(request)
        params = request.params
        if params.seed is None and request.seeds.receiver is not None:
            params = dataclasses.replace(params, seed=request.seeds.receiver)
        results = []
        for channel in channels:
            t0 = time.perf_counter()
            received, report, _ = self.link(sent, channel, request.seeds.channel)
            channel_s = time.perf_counter() - t0
            recon = self.receive(received, params, report)
            report.caption.chars_replaced = recon.chars_replaced
            report.latent.values_sanitised = recon.values_sanitised
            timings = {**{f"sender_{k}": v for k, v in sender_timings.items()}, "channel": channel_s}
            timings |= {f"receiver_{k}": v for k, v in recon.timings.items()}
            results.append(TransmissionResult(sent, received, report, recon, timings))
        return results
