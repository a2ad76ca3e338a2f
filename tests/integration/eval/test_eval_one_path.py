"""The sweep runs the doors' pipeline (issue 23): its packet for an image is the one the Sender
builds with the same options, bit for bit, and an evaluation-only receiver treatment (fill, nb,
authors, mmse+nb, soft, ...) is the receiver's own path (`Pipeline.receive` with a
`LatentTreatment`), giving a real ReconResult. Tiny profile, 64x64, offline."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from semcom.eval.dataset import load_dataset, load_image
from semcom.eval.grid import LatentVariant
from semcom.eval.store import RunStore
from semcom.eval.sweep import Sweep
from semcom.eval.sweep_config import SweepConfig
from semcom.pipeline import RoleSeeds, stages
from semcom.pipeline.seeds import posterior_seed, repair_seed

CAPTION = "a green square on a red gradient"


pytestmark = pytest.mark.usefixtures("env")  # offline, the tiny profile in a temporary cache


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    (root / "images").mkdir()
    y, x = np.mgrid[0:72, 0:88].astype(np.float32)
    square = ((abs(x - 40) < 14) & (abs(y - 30) < 12)).astype(np.float32)
    rgb = np.stack([x / 87 * 255, square * 220, y / 71 * 160], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(root / "images" / "square.png")
    (root / "captions.tsv").write_text(f"square.png\t{CAPTION}\n")
    return root


def _config(data_dir, out, **kw) -> SweepConfig:
    base = dict(
        data=data_dir,
        out=out,
        profile="tiny",
        caption_source="dataset",
        snr_db=(0.0,),
        modes=("latent",),
        encodings=("int8",),
        steps=(0,),
        schedule=4,
        size=64,
        seed=9,
        metrics=(),
        grid_images=1,
    )
    return SweepConfig(**{**base, **kw})


@pytest.mark.parametrize(
    "spec", ["int8", "float16", "int8:pc:p99.9", "int8g:pc:p99.9:smmse", "int6:pc", "int8:size=128", "-"]
)
def test_the_sweep_packs_what_the_sender_builds(data_dir, tmp_path, spec) -> None:
    sweep = Sweep(_config(data_dir, tmp_path / "run"))
    (item,) = load_dataset(data_dir, None, 1)
    image = load_image(item)
    variant = None if spec == "-" else LatentVariant.parse(spec)
    size = (variant.size if variant else None) or sweep.config.size
    latent = sweep.latent_of(item, image, size) if variant else None
    packet = sweep.packet(latent, variant, CAPTION, image)
    sent = sweep.pipeline.sender.encode(
        image,
        caption=CAPTION,
        encoding=variant.encoding if variant else "int8",
        per_channel=bool(variant and variant.per_channel),
        percentile=variant.percentile if variant else 100.0,
        seed=posterior_seed(sweep.config.seed, item.name),
        size=size,
    )
    if variant is None:  # text mode: the latent stays home
        sent = stages.outgoing_packet(sent, "text")
    assert sent.packet_id and not packet.packet_id  # the sender's is a fresh uuid; nothing else differs
    assert dataclasses.replace(sent, packet_id="") == packet
    if variant is not None:
        assert packet.latent is not None and packet.latent.encoding == variant.encoding
        assert packet.coded_size == (size, size) and packet.latent.shape[1] == size // 8


def _sample(out, row) -> np.ndarray:
    with Image.open(RunStore(out).sample_path(row["image"], row["cell"])) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_a_receiver_treatment_cell_is_the_receivers_path(data_dir, tmp_path) -> None:
    """Each treated k = 0 cell of the sweep equals `Pipeline.receive` with its `LatentTreatment`
    replayed from the row's seeds (the pixels, the values the treatment changed, the caption the
    receiver decoded), and the treatment changed the image on this noisy link."""
    from semcom.link.types import ChannelConfig
    from semcom.models import LatentTreatment, ReconParams

    specs = ("int8:nb", "int8:mmse:nb", "float16:authors", "int8g:pc:soft", "float16:fill")
    cfg = _config(data_dir, tmp_path / "run", encodings=specs, modes=("latent", "text+latent"))
    sweep = Sweep(cfg)
    sweep.run(progress=False)
    rows = [json.loads(line) for line in (cfg.out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["variant"] for r in rows) == sorted(s for s in specs for _ in range(2))
    (item,) = load_dataset(data_dir, None, 1)
    image = load_image(item)
    for row in rows:
        variant = LatentVariant.parse(row["variant"])
        seeds = RoleSeeds(**row["seeds"])
        assert seeds == RoleSeeds.of_cell(cfg.seed, item.name, row["cell"])
        packet = sweep.packet(sweep.latent_of(item, image), variant, CAPTION, image)
        channel = ChannelConfig(
            snr_db=0.0,
            snr_convention=cfg.snr_convention,
            modulation=cfg.modulation,
            model=cfg.channel,
            latent_policy="always",
            fec="none",
            mcs=cfg.mcs,
            fading_block_length=cfg.fading_block_length,
        )
        soft = variant.repair == "soft"
        received, report, field = sweep.pipeline.link(packet, channel, seeds.channel, soft=soft)
        llr = field.llr if field is not None else None
        assert report.latent.bit_errors == row["latent_bit_errors"] > 0
        treatment = LatentTreatment(variant.repair, seed=repair_seed(cfg.seed, item.name, row["cell"]), llr=llr)
        params = ReconParams(mode=row["mode"], num_inference_steps=4, strength=1e-9 / 4, seed=seeds.receiver)
        result = sweep.pipeline.receive(received, params, report, treatment)
        assert result.latent_repair_used == variant.repair and result.mode_used == row["mode"]
        assert result.steps_executed == row["steps_executed"] == 0
        assert result.caption_received == row["caption_received"] and result.chars_replaced == row["chars_replaced"]
        assert result.values_sanitised == row["values_sanitised"], row["cell"]
        assert np.array_equal(np.asarray(result.image.convert("RGB"), dtype=np.int16), _sample(cfg.out, row))
        plain = sweep.pipeline.receive(received, params, report)  # the receiver's default decoding differs
        assert plain.latent_repair_used == "none"
        assert not np.array_equal(np.asarray(plain.image), np.asarray(result.image)), row["cell"]


def test_an_mmse_treatment_needs_the_uncoded_link(data_dir, tmp_path) -> None:
    cfg = _config(data_dir, tmp_path / "coded", encodings=("int8:mmse:nb",), fec="ldpc")
    with pytest.raises(ValueError, match="uncoded link"):
        Sweep(cfg).run(progress=False)
