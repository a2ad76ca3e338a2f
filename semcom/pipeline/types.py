"""What a transmission is asked to do and what it gives back, independent of the door it came in by.

The services convert protobuf to these types (`semcom.rpc.convert`) and the in-process doors
(`semcom transmit`, `semcom eval`, the benchmarks) build them directly; all of them hand them to
the same stages (`semcom.pipeline.stages`) or the `Pipeline` that chains them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from semcom.link.types import ChannelConfig, TransmissionReport
from semcom.payload.packet import SemanticPacket
from semcom.pipeline.seeds import RoleSeeds

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from PIL import Image

    from semcom.models.params import ReconParams, ReconResult


@dataclass(frozen=True)
class LatentSpec:
    """How the sender turns the image's latent into bits."""

    encoding: str = "float64"  # semcom.payload.latent encodings (the paper: float64)
    per_channel: bool = False  # int encodings: one range per latent channel
    # int encodings: explicit (lo, hi) range, per channel with per_channel
    clip: tuple[ArrayLike, ArrayLike] | None = None
    percentile: float = 100.0  # int encodings: clip at the (100-p, p) percentiles
    sample_posterior: bool = True  # the VAE posterior sample (paper) instead of its mean
    size: int | None = None  # encoder input side (None: the profile's)


@dataclass(frozen=True)
class TransmissionRequest:
    """One image through sender -> channel -> receiver."""

    image: Image.Image
    params: ReconParams
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    latent: LatentSpec = field(default_factory=LatentSpec)
    caption: str | None = None  # send this caption instead of the captioner's
    seeds: RoleSeeds = field(default_factory=RoleSeeds)
    request_id: str = ""


@dataclass
class TransmissionResult:
    """What happened: the packet sent, the packet received, the link's report, the reconstruction."""

    sent: SemanticPacket
    received: SemanticPacket
    report: TransmissionReport
    recon: ReconResult
    timings: dict[str, float] = field(default_factory=dict)  # sender_*, channel, receiver_* stages

    @property
    def mode_used(self) -> str:
        return self.recon.mode_used
