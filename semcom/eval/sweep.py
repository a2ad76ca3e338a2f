"""The evaluation sweep: images x cells (mode, latent variant, SNR, k) -> one result line each.

For every image: load it, resize the reference to size x size (as the sender does), pick the
caption (BLIP once per image, or the dataset's), encode the latent ONCE (cached on disk), then for
every cell not yet in results.jsonl: pack the latent in the cell's variant, send the packet over
the simulated link (`semcom.link.transmit_packet`), rebuild the image with the profile's receiver,
score it (`semcom.metrics.MetricSuite`) and append the line. A rerun skips every (image, cell)
already logged, so an interrupted sweep resumes where it stopped.

Packets come from the sender's own packer (`semcom.models.sender.pack_packet`), reconstructions
from the receiver (`Pipeline.receive`, an evaluation-only latent treatment included), so a cell
sends and rebuilds what `semcom transmit` and the services would.

Seeds (all derived from --seed by `semcom.pipeline.seeds`, so every number is reproducible and a
cell's result does not depend on which other cells run: `RoleSeeds.of_cell`): the posterior sample
from (seed, image); the channel noise from (seed, image, cell); the diffusion noise from (seed,
image), shared by all cells of an image (common random numbers: the differences between cells are
the channel's and the mode's, not a different noise draw).

Profiles without a diffusion model (e.g. TAEF2 alone) support only latent decoding (k = 0);
their text and text+latent k > 0 cells are skipped with a note in the summary and in config.json.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from semcom.eval.airtime import reference_symbols
from semcom.eval.dataset import ImageItem, load_dataset, load_image, reference_image
from semcom.eval.grid import Cell, LatentVariant
from semcom.eval.scenario import row_fields
from semcom.eval.store import RunStore
from semcom.eval.sweep_config import RECEIVER_REPAIRS, SweepConfig, SweepSummary
from semcom.pipeline.seeds import RoleSeeds, channel_seed, posterior_seed, repair_seed

log = logging.getLogger(__name__)


def unsupported_reason(models: Any, cell: Cell) -> str | None:
    """Why a profile cannot evaluate `cell` (None: it can)."""
    spec = models.spec
    if cell.mode == "baseline":
        from semcom.eval.baselines import unsupported_reason as baseline_unsupported

        return baseline_unsupported(cell.variant)
    if cell.mode in ("latent", "analog") or (cell.mode == "text+latent" and cell.steps == 0):
        return None
    if cell.mode == "text+latent" and LatentVariant.parse(cell.variant).repair not in ("", *RECEIVER_REPAIRS):
        return f"receiver option of {cell.variant!r} is implemented for k = 0 (decode-only) cells only"
    if spec.diffusion is None:
        return f"profile {spec.name!r} has no diffusion model: only latent decoding (k = 0) is possible"
    codec = spec.decoder if cell.mode == "text" else spec.encoder
    if codec.latent_space != spec.diffusion.latent_space:
        return (
            f"profile {spec.name!r}: codec {codec.name!r} ({codec.latent_space!r} latents) is not in the UNet's "
            f"{spec.diffusion.latent_space!r} space: only latent decoding (k = 0) is possible"
        )
    return None


class Sweep:
    """Runs a SweepConfig into its run directory (models and metrics injectable for tests)."""

    def __init__(self, config: SweepConfig, models: Any = None, suite: Any = None, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.config = config
        self.jobs = jobs  # worker processes over images (semcom.eval.parallel); not part of the identity
        self.store = RunStore(config.out)
        self._models = models
        self._suite = suite
        self._pipeline: Any = None
        self._captions: dict[str, str] | None = None
        self._runners: dict[str, Any] = {}  # "analog"/"baseline" -> its cells' runner, made on the first such cell
        self._reference_symbols = math.nan  # of the image being run (`_run_image`)

    # ------------------------------------------------------------------ lazy components
    @property
    def models(self) -> Any:
        if self._models is None:
            from semcom.models import load_profile

            self._models = load_profile(self.config.profile, device=self.config.device, preset=self.config.preset)
        return self._models

    @property
    def pipeline(self) -> Any:
        """The shared transmission pipeline over this sweep's models (`semcom.pipeline`)."""
        if self._pipeline is None:
            from semcom.pipeline.pipeline import Pipeline

            self._pipeline = Pipeline(self.models)
        return self._pipeline

    @property
    def suite(self) -> Any:
        if self._suite is None:
            from semcom import config
            from semcom.eval.metric_cache import CachedSuite
            from semcom.metrics.suite import MetricSuite

            device = str(getattr(self.models, "device", "cpu"))
            self._suite = CachedSuite(  # reference terms once per image, each distinct picture scored once
                MetricSuite.load(
                    enabled=self.config.metrics, device=device, clip_model=str(config.get("SEMCOM_CLIP_MODEL"))
                )
            )
        return self._suite

    # ------------------------------------------------------------------ bookkeeping
    def _check_resume(self) -> None:
        old = self.store.read_json("config.json")
        if not old:
            return
        mine = json.loads(json.dumps(self.config.identity()))
        diff = {k: (old.get(k), v) for k, v in mine.items() if old.get(k) != v}
        if diff:
            detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in diff.items())
            raise ValueError(f"{self.config.out} holds a sweep with other settings ({detail}); use another --out")

    def _caption(self, item: ImageItem, image: Any) -> str:
        if self._captions is None:
            self._captions = (
                json.loads(self.store.captions_path.read_text()) if self.store.captions_path.is_file() else {}
            )
        if item.name in self._captions:
            return self._captions[item.name]
        if self.config.caption_source == "dataset":
            if item.caption is None:
                raise ValueError(f"--caption dataset: no caption for {item.name} in the caption file")
            caption = item.caption
        else:
            if not self.models.has_captioner:
                raise ValueError(f"profile {self.models.name!r} has no captioner: use --caption dataset")
            caption = self.models.sender().caption(image)
        self._captions[item.name] = caption
        self.store.captions_path.parent.mkdir(parents=True, exist_ok=True)
        self.store.captions_path.write_text(json.dumps(self._captions, indent=1, sort_keys=True))
        return caption

    def latent_of(self, item: ImageItem, image: Any, size: int | None = None) -> np.ndarray:
        """The image's float32 latent, encoded once and cached in RUN_DIR/cache/latents (a variant's
        `size=N`: encoded at N x N, cached beside it)."""
        path = self.store.latent_path(item.name)
        if size is not None and size != self.config.size:
            path = path.with_name(f"{path.stem}.size{size}.npy")
        if path.is_file():
            return np.load(path)
        latent = self.pipeline.sender.encode_latent_tensor(
            image,
            sample_posterior=True,
            seed=posterior_seed(self.config.seed, item.name),
            size=size or self.config.size,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.npy")
        np.save(tmp, latent)
        tmp.replace(path)  # atomic: a concurrent reader never sees half a file
        return latent

    def packet(self, latent: np.ndarray | None, variant: LatentVariant | None, caption: str, image: Any) -> Any:
        """The packet the sender builds for `image` with `latent` in `variant` (`pack_packet`, the
        sender's packer; None: text mode's caption-only packet)."""
        from semcom.models.sender import pack_packet

        codec = self.models.encoder().info
        if variant is None:
            return pack_packet(caption, None, codec, image.size, self.config.size)
        return pack_packet(
            caption,
            latent,
            codec,
            image.size,
            variant.size or self.config.size,
            encoding=variant.encoding,
            per_channel=variant.per_channel,
            percentile=variant.percentile,
        )

    # ------------------------------------------------------------------ one cell
    def _reconstruct(
        self,
        cell: Cell,
        variant: LatentVariant | None,
        packet: Any,
        report: Any,
        image_name: str,
        seeds: RoleSeeds,
        llr: Any = None,
    ) -> Any:
        """The receiver stage of the shared pipeline (`Pipeline.receive`, as receiver_service runs
        it): reads the link's SNR and configuration from the report. A variant's receiver option
        that the wire does not carry (fill, nb, authors, mmse+nb, soft, ...) goes to the receiver
        as an evaluation-only `LatentTreatment`."""
        from semcom.models import LatentTreatment, ReconParams

        cfg = self.config
        if cell.mode == "text":
            params = ReconParams(
                mode="text",
                num_inference_steps=cfg.schedule,
                guidance_scale=cfg.guidance,
                seed=seeds.receiver,
                adaptive_strength=cfg.adaptive_strength,
            )
            return self.pipeline.receive(packet, params, report)
        if variant is None:
            raise ValueError(f"cell {cell.key}: mode {cell.mode!r} needs a latent variant")
        repair = variant.repair
        if "mmse" in repair and cfg.fec != "none":  # mmse, smmse, mmse+nb, ...
            raise ValueError(f"{variant.spec}: mmse/smmse model the uncoded link; use --fec none")
        treatment = None
        if repair and repair not in RECEIVER_REPAIRS:
            treatment = LatentTreatment(repair, seed=repair_seed(cfg.seed, image_name, cell.key), llr=llr)
        # strength k / schedule, nudged up by 1e-9 so that int(schedule * strength) == k despite rounding
        strength = min(1.0, (cell.steps + 1e-9) / cfg.schedule)
        params = ReconParams(
            mode=cell.mode,
            num_inference_steps=cfg.schedule,
            strength=strength,
            guidance_scale=cfg.guidance,
            seed=seeds.receiver,
            adaptive_strength=cfg.adaptive_strength,
            latent_repair=repair if repair in RECEIVER_REPAIRS else "none",
        )
        # mmse/smmse run in the receiver itself, from the link's bit error rates (as in receiver_service)
        return self.pipeline.receive(packet, params, report, treatment)

    def _run_cell(self, cell: Cell, item: ImageItem, caption: str, packets: dict[str, Any], reference: Any) -> dict:
        cfg = self.config
        variant = None if cell.mode == "text" else LatentVariant.parse(cell.variant)
        packet = packets[cell.variant]
        seeds = RoleSeeds.of_cell(cfg.seed, item.name, cell.key)
        channel = cfg.link(cell.snr_db, latent_policy="never" if cell.mode == "text" else "always")
        t0 = time.perf_counter()
        soft = variant is not None and "soft" in variant.repair.split("+")
        if variant is not None and soft and cfg.fec != "none":
            raise ValueError(f"{variant.spec}: soft repair needs the uncoded link's LLRs; use --fec none")
        received, report, field = self.pipeline.link(packet, channel, seeds.channel, soft=soft)
        llr = field.llr if field is not None else None
        result = self._reconstruct(cell, variant, received, report, item.name, seeds, llr=llr)
        seconds = time.perf_counter() - t0
        recon = result.image
        if recon.size != reference.size:
            from PIL import Image

            recon = recon.resize(reference.size, Image.Resampling.LANCZOS)
        metrics = self.score(item, cell.key, reference, recon, caption)
        latent_bits = report.latent.info_bits
        return self.row(
            item,
            cell,
            metrics,
            seconds,
            encoding=variant.encoding if variant else "",
            steps_executed=result.steps_executed,
            caption_sent=caption,
            caption_received=result.caption_received,
            chars_replaced=result.chars_replaced,
            caption_bits=report.caption.info_bits,
            caption_bit_errors=report.caption.bit_errors,
            latent_bits=latent_bits,
            latent_bit_errors=report.latent.bit_errors,
            latent_ber=report.latent.bit_errors / latent_bits if latent_bits else math.nan,
            latent_dropped=bool(report.latent_dropped),
            latent_bytes=len(packet.latent.data) if packet.latent is not None and cell.mode != "text" else 0,
            values_sanitised=result.values_sanitised,
            esn0_db=report.esn0_db,
            ebn0_db=report.ebn0_db,
            channel_symbols=report.total_symbols,
            seeds=seeds.as_dict(),
            preset_used=result.preset_used,
            guidance_used=result.guidance_used,
        )

    def row(self, item: ImageItem, cell: Cell, metrics: dict[str, Any], seconds: float, **fields: Any) -> dict:
        """A results.jsonl row of any kind of cell: the cell, its `metrics`, the kind's own `fields`,
        its time, the transmitter's plan (`scenario.row_fields`) and the image's `reference_symbols`."""
        return {
            "image": item.name,
            "cell": cell.key,
            "mode": cell.mode,
            "variant": cell.variant,
            "snr_db": cell.snr_db,
            "steps": cell.steps,
            **metrics,
            **fields,
            "seconds": seconds,
            **row_fields(self.config, cell.snr_db),
            "reference_symbols": self._reference_symbols,
        }

    def score(self, item: ImageItem, cell_key: str, reference: Any, image: Any, caption: str) -> dict[str, Any]:
        """A cell's metrics of `image` against `reference`, its outputs kept (`keep_outputs`)."""
        self.keep_outputs(item, cell_key, image, self.suite.fid_features([image]))
        return self.suite.per_image(reference, image, caption)

    def keep_outputs(self, item: ImageItem, cell_key: str, image: Any, features: Any) -> None:
        """A cell's FID features (when the suite computes them) and, for the grid's images, its
        reconstruction as a PNG (for the report's image grid): the same for every kind of cell."""
        if features is not None:
            _save_npy(self.store.feature_path(item.name, cell_key), features[0])
        if item.name in self._grid_names:
            _save_png(self.store.sample_path(item.name, cell_key), image)

    # ------------------------------------------------------------------ the loop
    def run(self, progress: bool = True) -> SweepSummary:
        """Compute every (image, cell) not yet logged; write config.json and metrics.json."""
        cfg = self.config
        start = time.perf_counter()
        self._check_resume()
        items = load_dataset(cfg.data, cfg.captions, cfg.limit)
        self._grid_names = {it.name for it in items[: cfg.grid_images]}  # of the whole set, so shards agree
        if cfg.shard is not None:
            index, count = cfg.shard
            items = items[index::count]
        summary = SweepSummary(images=len(items))
        reasons = {cell.key: unsupported_reason(self.models, cell) for cell in cfg.cells}
        summary.unsupported = {key: reason for key, reason in reasons.items() if reason}
        cells = [cell for cell in cfg.cells if not reasons[cell.key]]
        summary.cells, skipped = len(cells), sorted(Counter(summary.unsupported.values()).items())
        if cfg.cells and not cells:  # nothing the profile can run: refused before any work, nothing written
            hint = "; a profile with a diffusion model (tiny, paper) runs text and text+latent k > 0 cells"
            raise ValueError(
                f"profile {cfg.profile!r} can run none of the {len(cfg.cells)} requested cells: "
                + "; ".join(f"{count} cells: {reason}" for reason, count in skipped)
                + (hint if self.models.spec.diffusion is None else "")
            )
        for reason, count in skipped:
            log.warning("skipping %d cells: %s", count, reason)
        merged = (self.store.read_json("config.json") or {}).get("merged")  # kept: `semcom eval merge` history
        self.store.write_json(
            "config.json",
            {**cfg.to_json(), "unsupported_cells": summary.unsupported, **({"merged": merged} if merged else {})},
        )
        self.store.write_json(
            "metrics.json",
            {a.metric: {"available": a.available, "reason": a.reason} for a in self.suite.availability()},
        )
        done = self.store.done()
        todo = [(it, [c for c in cells if (it.name, c.key) not in done]) for it in items]
        summary.cached = len(items) * len(cells) - sum(len(c) for _, c in todo)
        total = len(items) * len(cells)
        bar = tqdm(
            total=total, initial=summary.cached, desc="eval", unit="cell", disable=not progress, dynamic_ncols=True
        )
        try:
            if self.jobs > 1:
                from semcom.eval.parallel import run_images

                run_images(self, todo, self.jobs, bar, summary)
            for item, pending in todo if self.jobs == 1 else ():
                if pending:
                    self._run_image(item, pending, bar, summary)
        finally:
            bar.close()
            self.close_runners()
        summary.seconds = time.perf_counter() - start
        return summary

    def _decode_only(self, mode: str) -> tuple[Any, Any]:
        """The module of analog or baseline cells and their runner (made on the first such cell)."""
        from semcom.eval import analog, baselines

        module: Any = analog if mode == "analog" else baselines
        if mode not in self._runners:
            self._runners[mode] = analog.AnalogRunner() if mode == "analog" else baselines.BaselineRunner()
        return module, self._runners[mode]

    def close_runners(self) -> None:
        """Close the analog and baseline cells' runners (their worker processes), if made."""
        for runner in self._runners.values():
            runner.close()

    def _run_image(self, item: ImageItem, pending: list[Cell], bar: Any, summary: SweepSummary) -> None:
        cfg = self.config
        image = load_image(item)
        reference = reference_image(image, cfg.size)
        caption = self._caption(item, image)
        if self.suite.fid_extractor is not None and not self.store.feature_path(item.name, None).is_file():
            _save_npy(self.store.feature_path(item.name, None), self.suite.fid_features([reference])[0])
        if item.name in self._grid_names and not self.store.sample_path(item.name, None).is_file():
            _save_png(self.store.sample_path(item.name, None), reference)
        needs_latent = any(c.mode != "text" for c in pending)
        latent = self.latent_of(item, image) if needs_latent else np.zeros(0, np.float32)  # unused without latent cells
        self._reference_symbols = reference_symbols(latent.size, cfg.modulation) if latent.size else math.nan
        packets: dict[str, Any] = {}
        for cell in pending:
            if cell.mode in ("analog", "baseline"):  # no diffusion: semcom.eval.analog, semcom.eval.baselines
                module, runner = self._decode_only(cell.mode)
                row = module.sweep_row(self, runner, cell, item, caption, latent, reference)
            else:
                if cell.variant not in packets:
                    if cell.mode == "text":
                        packets[cell.variant] = self.packet(None, None, caption, image)
                    else:
                        variant = LatentVariant.parse(cell.variant)
                        size = variant.size
                        own = latent if size in (None, cfg.size) else self.latent_of(item, image, size)
                        packets[cell.variant] = self.packet(own, variant, caption, image)
                bar.set_postfix_str(f"{item.name[:24]} {cell.key}", refresh=False)
                row = self._run_cell(cell, item, caption, packets, reference)
            self.store.append(row)
            summary.computed += 1
            bar.update(1)


# a decode-only cell's columns that its own fields do not set: no denoising, no caption decoded
DECODE_ONLY_COLUMNS = {
    "steps_executed": 0,
    "caption_sent": "",
    "caption_received": "",
    "chars_replaced": 0,
    "caption_bits": 0,
    "caption_bit_errors": 0,
    "latent_bytes": 0,
    "latent_dropped": False,
    "values_sanitised": 0,
}


def decode_only_row(sweep: Sweep, item: ImageItem, cell: Cell, metrics: dict, seconds: float, **fields: Any) -> dict:
    """The results.jsonl row of a cell that sends no diffusion work (k = 0): a baseline or an
    analog cell. `fields` are the cell's own columns (encoding, airtime, outage, ...)."""
    return sweep.row(item, cell, metrics, seconds, **(DECODE_ONLY_COLUMNS | fields))


def run_decode_only(
    sweep: Sweep, runner: Any, cell: Cell, spec: Any, item: ImageItem, source: Any, caption: str, latent: np.ndarray
) -> tuple[dict[str, Any], Any]:
    """`runner.run_cell` of one (image, baseline or analog cell): `source` over the cell's link, with
    the caption's bytes and the latent's size it is compared with, under the cell's channel seed."""
    from semcom.payload.caption import encode_caption

    cfg = sweep.config
    caption_bytes, latent_values = len(encode_caption(caption)), int(np.asarray(latent).size)
    seed = channel_seed(cfg.seed, item.name, cell.key)
    return runner.run_cell(cell, spec, item.name, source, caption_bytes, latent_values, cfg, seed)


def _save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(array, dtype=np.float32))


def _save_png(path: Path, image: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
