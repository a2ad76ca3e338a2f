"""The shared pipeline's rules: per-role seeds, the typed SNR, text mode, the dropped-latent
fallback, and `Pipeline.run` end to end on the tiny profile."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from PIL import Image

from semcom.link.types import ChannelConfig, FieldReport, TransmissionReport
from semcom.payload.caption import encode_caption
from semcom.payload.packet import SemanticPacket
from semcom.phy.snr import Snr
from semcom.pipeline import RoleSeeds, stages


def test_role_seeds_are_independent_reproducible_and_per_image() -> None:
    a, b = RoleSeeds.derive(7, 0), RoleSeeds.derive(7, 0)
    assert a == b and len({a.sender, a.channel, a.receiver}) == 3
    assert all(0 <= v < 2**63 for v in a.as_dict().values())
    assert RoleSeeds.derive(7, 1) != a and RoleSeeds.derive(8, 0) != a
    assert RoleSeeds.derive(None, 3) == RoleSeeds()  # no user seed: fresh randomness everywhere
    # the streams the roles draw are uncorrelated (one seed for all made them identical)
    import torch

    draws = [torch.randn(4096, generator=torch.Generator().manual_seed(s)).numpy() for s in (a.sender, a.receiver)]
    assert abs(np.corrcoef(*draws)[0, 1]) < 0.1
    for bad in (-1, 2**64, 1.5, True):
        with pytest.raises(ValueError):
            RoleSeeds.derive(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RoleSeeds(sender=-3)


def test_snr_carries_its_convention() -> None:
    eb = Snr(7.0, "ebn0")
    assert eb.esn0_db(4) == pytest.approx(7.0 + 10 * math.log10(4))
    assert Snr(13.0206, "esn0").ebn0_db(4, code_rate=0.5) == pytest.approx(13.0206 - 10 * math.log10(2))
    assert ChannelConfig(snr_db=3, snr_convention="esn0").snr == Snr(3.0, "esn0")
    for bad in (dict(db=float("nan")), dict(db=1.0, convention="snr"), dict(db="7")):
        with pytest.raises(ValueError):
            Snr(**bad)  # type: ignore[arg-type]


def _packet(with_latent: bool) -> SemanticPacket:
    from semcom.payload.latent import encode_latent

    latent = encode_latent(np.zeros((4, 2, 2), np.float32), "float16") if with_latent else None
    return SemanticPacket(caption=encode_caption("a cat"), latent=latent)


def _report(cfg: ChannelConfig, dropped: bool) -> TransmissionReport:
    esn0, ebn0 = cfg.snr.esn0_db(4), cfg.snr.ebn0_db(4)
    return TransmissionReport(
        channel=cfg,
        esn0_db=esn0,
        ebn0_db=ebn0,
        caption=FieldReport(),
        latent_dropped=dropped,
        drop_reason="below threshold" if dropped else "",
    )


def test_receiver_reads_the_reported_snr_as_ebn0_whatever_configured_the_proxy() -> None:
    from semcom.models.params import ReconParams

    params = ReconParams(mode="text+latent", adaptive_strength=True)
    for cfg in (
        ChannelConfig(snr_db=7.0, snr_convention="ebn0"),
        ChannelConfig(snr_db=7.0 + 10 * math.log10(4), snr_convention="esn0"),
    ):
        _, _, snr_db, link = stages.reconstruct_args(_packet(True), params, _report(cfg, False))
        assert snr_db == pytest.approx(7.0) and link is cfg
    assert stages.reconstruct_args(_packet(True), params, None)[2:] == (None, None)  # no proxy, no link


def test_a_latent_the_channel_dropped_falls_back_to_text() -> None:
    from semcom.models.params import ReconParams

    cfg = ChannelConfig(snr_db=2.0, latent_policy="threshold")
    for mode in ("text+latent", "latent"):
        _, params, _, _ = stages.reconstruct_args(_packet(False), ReconParams(mode=mode), _report(cfg, dropped=True))
        assert params.mode == "text"
        # a client that sent no latent without any drop on the way asked for the impossible: unchanged
        _, params, _, _ = stages.reconstruct_args(_packet(False), ReconParams(mode=mode), _report(cfg, dropped=False))
        assert params.mode == mode


def test_text_mode_leaves_the_latent_home() -> None:
    packet = _packet(True)
    assert stages.outgoing_packet(packet, "text").latent is None
    for mode in ("auto", "latent", "text+latent"):
        assert stages.outgoing_packet(packet, mode) is packet
    assert stages.channel_for(ChannelConfig(seed=3), None).seed == 3
    assert stages.channel_for(ChannelConfig(seed=3), 9).seed == 9


def test_a_sender_without_captioner_sends_no_caption_only_where_the_mode_does_not_read_it() -> None:
    from types import SimpleNamespace

    taef2 = SimpleNamespace(name="taef2", has_captioner=False)
    for mode in ("auto", "latent"):  # rebuilt from the latent alone: an empty caption
        assert stages.sender_caption(None, mode, taef2, "--caption TEXT") == ""
    for mode in ("text", "text+latent"):  # conditioned on the caption: refused, naming how to give one
        with pytest.raises(ValueError) as refused:
            stages.sender_caption(None, mode, taef2, "--caption TEXT")
        assert str(refused.value) == (
            f"profile 'taef2' has no captioner and mode {mode!r} is conditioned on the caption: supply it with "
            "--caption TEXT"
        )
    blip = SimpleNamespace(name="tiny", has_captioner=True)
    for mode in ("auto", "latent", "text", "text+latent"):
        assert stages.sender_caption("a dog", mode, taef2, "-") == "a dog"  # a given caption is sent as given
        assert stages.sender_caption(None, mode, blip, "-") is None  # None: the profile's captioner writes it


def _image() -> Image.Image:
    y, x = np.mgrid[0:64, 0:64]
    return Image.fromarray(np.stack([x * 4, y * 4, (x + y) * 2], -1).astype(np.uint8))


def test_pipeline_run_is_reproducible_and_falls_back_when_the_latent_is_dropped(pipeline) -> None:
    from semcom.models.params import ReconParams
    from semcom.pipeline import LatentSpec, TransmissionRequest

    request = TransmissionRequest(
        image=_image(),
        params=ReconParams(mode="text+latent", num_inference_steps=4, strength=0.5),
        channel=ChannelConfig(snr_db=8.0, latent_policy="always"),
        latent=LatentSpec(encoding="int8", size=64),
        caption="a gradient",
        seeds=RoleSeeds.derive(3, 0),
    )
    first, second = pipeline.run(request), pipeline.run(request)
    assert first.mode_used == "text+latent" and first.recon.seed == request.seeds.receiver
    assert first.report.latent.bit_errors == second.report.latent.bit_errors > 0
    assert np.array_equal(np.asarray(first.recon.image), np.asarray(second.recon.image))
    assert first.report.caption.chars_replaced == first.recon.chars_replaced  # the report is completed

    dropped = pipeline.run(dataclasses.replace(request, channel=ChannelConfig(snr_db=2.0, latent_policy="threshold")))
    assert dropped.report.latent_dropped and "threshold" in dropped.report.drop_reason
    assert dropped.mode_used == "text" and dropped.received.latent is None

    text = pipeline.run(dataclasses.replace(request, params=ReconParams(mode="text", num_inference_steps=2)))
    assert text.sent.latent is None and text.report.latent.info_bits == 0  # the latent stayed home


def test_a_refusal_after_a_dropped_latent_names_the_drop_and_the_policy() -> None:
    """Latent mode at 4 dB, default policy auto, no FEC, on the decode-only TAEF2 profile: the
    threshold drops the latent, the receiver falls back to text and cannot do it; the error says
    all of that, not only "text-only reconstruction is impossible"."""
    from semcom.models.params import ReconParams
    from semcom.pipeline import LatentSpec, Pipeline, TransmissionRequest

    pipeline = Pipeline.from_profile("taef2", device="cpu", dtype="float32")
    request = TransmissionRequest(
        image=_image(),
        params=ReconParams(mode="latent", strength=0.0),
        channel=ChannelConfig(snr_db=4.0),
        latent=LatentSpec(encoding="float16", size=64),
        caption="a gradient",
    )
    with pytest.raises(ValueError) as refused:
        pipeline.run(request)
    message = str(refused.value)
    assert "the channel dropped the latent (latent_policy=auto (threshold: no FEC): snr 4 dB (ebn0)" in message
    assert "text-only reconstruction is impossible" in message and "latent policy 'always'" in message
    sent = pipeline.run(dataclasses.replace(request, channel=ChannelConfig(snr_db=4.0, latent_policy="always")))
    assert sent.mode_used == "latent"


def test_one_packet_over_several_channels_equals_separate_runs(pipeline, monkeypatch, tmp_path, capsys) -> None:
    """`Pipeline.run_each` encodes once and sends the packet over each channel; with the same seeds
    each result is the one `run` gives on that channel. `semcom transmit --snr-db A B` uses it: one
    row, record and file pair per SNR, each file what a run at that one SNR writes."""
    import json

    from semcom.cli import main
    from semcom.models.params import ReconParams
    from semcom.pipeline import LatentSpec, Pipeline, TransmissionRequest

    request = TransmissionRequest(
        image=_image(),
        params=ReconParams(mode="text+latent", num_inference_steps=4, strength=0.5),
        latent=LatentSpec(encoding="int8", size=64),
        caption="a gradient",
        seeds=RoleSeeds.derive(3, 0),
    )
    channels = [ChannelConfig(snr_db=snr, latent_policy="always") for snr in (2.0, 8.0)]
    encodes, real = [], pipeline.sender.encode_with_timings

    def encode(**item):
        encodes.append(item)
        return real(**item)

    monkeypatch.setattr(pipeline.sender, "encode_with_timings", encode)
    both = pipeline.run_each(request, channels)
    assert len(encodes) == 1 and [r.report.channel.snr_db for r in both] == [2.0, 8.0]
    for result, channel in zip(both, channels, strict=True):
        alone = pipeline.run(dataclasses.replace(request, channel=channel))
        assert result.report.latent.bit_errors == alone.report.latent.bit_errors
        assert np.array_equal(np.asarray(result.recon.image), np.asarray(alone.recon.image))
    assert both[0].report.latent.bit_errors > both[1].report.latent.bit_errors > 0

    monkeypatch.setattr(Pipeline, "from_profile", classmethod(lambda cls, *a, **k: pipeline))
    _image().save(tmp_path / "photo.png")
    flags = ["--caption", "a dog", "--encoding", "int8", "--latent-policy", "always", "--steps", "4", "--seed", "7"]
    flags += ["--mode", "text+latent", "--image-size", "64", "--json"]
    assert (
        main(["transmit", str(tmp_path / "photo.png"), *flags, "--snr-db", "2", "8", "--out", str(tmp_path / "m")]) == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert [r["report"]["channel"]["snr_db"] for r in records] == [2.0, 8.0]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "photo_2dB.json",
        "photo_2dB.png",
        "photo_8dB.json",
        "photo_8dB.png",
    ]
    for snr in ("2", "8"):
        assert (
            main(["transmit", str(tmp_path / "photo.png"), *flags, "--snr-db", snr, "--out", str(tmp_path / snr)]) == 0
        )
        single = json.loads(capsys.readouterr().out)
        assert (tmp_path / snr / "photo.png").read_bytes() == (tmp_path / "m" / f"photo_{snr}dB.png").read_bytes()
        assert single[0]["report"]["latent"] == records[int(snr) // 8]["report"]["latent"]
    assert (
        main(["transmit", str(tmp_path / "photo.png"), *flags[:-1], "--snr-db", "2", "8", "--out", str(tmp_path / "t")])
        == 0
    )
    assert capsys.readouterr().out.startswith("photo.png at 2 dB: text+latent")
