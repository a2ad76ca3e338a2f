"""The stages of a transmission as functions every door calls: the in-process `Pipeline` chains
them, each gRPC service runs its own (sender: `encode_kwargs` + `outgoing_packet`; channel proxy:
`channel_for` + `transmit_packet`; receiver: `reconstruct_args`). One implementation per rule:

* text mode: the latent stays home (only the caption crosses the channel, the paper's text-only
  scheme), whichever door asked for it;
* a sender without captioner (taef2) sends no caption where the reconstruction does not read it
  and refuses, naming how to give one, where it does (`sender_caption`);
* the channel seed of a request decides its noise (`ChannelConfig.seed`);
* the receiver reads the link's SNR from the link's report, normalised to Eb/N0 per information
  bit (`TransmissionReport.snr`), never from a bare number whose convention depends on who
  configured the proxy;
* a latent the channel dropped is not the client's error: a mode that needs a latent falls back
  to text (`mode_used` says "text", the report says why: `latent_dropped`, `drop_reason`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from semcom.link.types import ChannelConfig, TransmissionReport
from semcom.payload.packet import SemanticPacket
from semcom.pipeline.types import LatentSpec

if TYPE_CHECKING:
    from PIL import Image

    from semcom.models.base import ModelSet
    from semcom.models.params import ReconParams

LATENT_MODES = ("latent", "text+latent")  # modes that cannot run without a latent
CAPTION_MODES = ("text", "text+latent")  # modes whose reconstruction is conditioned on the caption


def sender_caption(caption: str | None, mode: str, models: ModelSet, supply: str) -> str | None:
    """The caption the sender encodes: the one given; else None (the profile's captioner writes
    it); else, for a profile without captioner (taef2), "" in modes `latent` (conditioned on no
    caption) and `auto` (a taef2 latent is decoded, k = 0), and ValueError naming `supply`, how
    this door takes a caption, in `CAPTION_MODES`."""
    if caption is not None or models.has_captioner:
        return caption
    if mode in CAPTION_MODES:
        raise ValueError(
            f"profile {models.name!r} has no captioner and mode {mode!r} is conditioned on the caption: "
            f"supply it with {supply}"
        )
    return ""


def encode_kwargs(image: Image.Image, latent: LatentSpec, caption: str | None, seed: int | None) -> dict[str, Any]:
    """The keyword arguments of `Sender.encode_with_timings` (one item of `Sender.encode_batch`)."""
    return dict(
        image=image,
        caption=caption,
        encoding=latent.encoding,
        per_channel=latent.per_channel,
        clip=latent.clip,
        percentile=latent.percentile,  # 100: min/max, as when the sender is given none
        sample_posterior=latent.sample_posterior,
        seed=seed,
        size=latent.size,
    )


def outgoing_packet(packet: SemanticPacket, mode: str) -> SemanticPacket:
    """The packet the sender puts on the channel for reconstruction `mode` (text: caption only)."""
    if mode == "text" and packet.latent is not None:
        return dataclasses.replace(packet, latent=None)
    return packet


def channel_for(channel: ChannelConfig, seed: int | None) -> ChannelConfig:
    """`channel` with the request's channel seed (None keeps the configured one)."""
    return channel if seed is None else dataclasses.replace(channel, seed=seed)


def reconstruct_args(
    received: SemanticPacket, params: ReconParams, report: TransmissionReport | None
) -> tuple[SemanticPacket, ReconParams, float | None, ChannelConfig | None]:
    """The positional arguments of `Receiver.reconstruct` (one item of `Receiver.reconstruct_batch`):
    (packet, params, Eb/N0 dB, link).

    Without a report (a sender talking to a receiver directly) the receiver knows no SNR and no
    link: adaptive strength and latent repair are then off, as documented.
    """
    if report is None:
        return received, params, None, None
    if report.latent_dropped and received.latent is None and params.mode in LATENT_MODES:
        params = dataclasses.replace(params, mode="text")
    return received, params, report.snr.db, report.channel
