"""Analog transmission as an evaluation variant (`semcom.analog`): `analog[:OPTION...]` (the VAE
latent) and `softcast[:OPTION...]` (the image's pixels) in `semcom eval run --encodings`, beside
the latent variants and the classical baselines, with the baselines' budget grammar
(`semcom.analog.spec`).

One cell per (variant, SNR), mode "analog". What a cell does, per image:

1. budget B (channel symbols): `AnalogSpec.symbols` (frac= of the int8 latent's uncoded symbols,
   sym=N, or budget=ENC: the ENC latent packet on the sweep's link, as the baselines);
2. the caption and the metadata go DIGITALLY over the protected link (5G LDPC, AMC at the cell's
   Es/N0 for the caption's BLER target, `semcom.fec.transmit`): their symbols are counted; the
   metadata's bits cross the simulated channel (a lost energy scale falls back to 1, lost per-image
   statistics are an outage, scored grey); the caption only counts (k = 0 cells do not read it);
3. the analog part gets every remaining symbol, B - caption - metadata: the latent (the sweep's
   cached TAEF2/VAE encoding, one per image; with scale=N the latent of the image at size / N,
   encoded once per image and scale) or the reference pixels in [0, 1] are encoded
   (`AnalogCodec`), sent over `semcom.phy.analog.analog_channel` (AWGN or Rayleigh block fading
   with the sweep's block length, coherent), estimated by LMMSE and decoded (the profile's VAE
   decoder, upsampled bicubic to the reference size with scale=N; pixels clipped to [0, 1]).

Statistics (`stats=fit`, the default where shipped): the file fitted on the most photos that does
NOT contain the image (`semcom.analog.stats.packaged(..., exclude=image)`), so the 75 photos are
scored with held-out folds; each row names the file (`analog_stats`).

Only Es/N0 is defined for analog symbols: the sweep must use --snr-convention esn0; rows carry
`ebn0_db` None and say why in `snr_note`.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from semcom.analog import AnalogCodec, AnalogSpec
from semcom.analog.spec import is_analog

MODE = "analog"
SNR_NOTE = "analog symbols carry no bits: only Es/N0 is defined (ebn0_db None)"

__all__ = ["MODE", "AnalogRunner", "is_analog", "sweep_row"]


def check_convention(snr_convention: str, variants: Any) -> None:
    """ValueError when a sweep with analog variants is not on Es/N0."""
    if snr_convention != "esn0" and any(isinstance(v, AnalogSpec) for v in variants):
        names = ", ".join(v.spec for v in variants if isinstance(v, AnalogSpec))
        raise ValueError(
            f"{names}: only Es/N0 is defined for analog symbols (they carry no bits); use --snr-convention esn0"
        )


@dataclass
class AnalogRunner:
    """Runs analog cells for a sweep; caches one codec per (variant, image's held-out statistics)."""

    _codecs: dict[tuple, AnalogCodec] = field(default_factory=dict)
    _scaled: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)

    def scaled_latent(self, sweep: Any, item: Any, scale: int) -> np.ndarray:
        """The latent of the image at size / scale (posterior sample seeded as the sweep's latent),
        encoded once per (image, scale)."""
        from semcom.eval.dataset import load_image
        from semcom.pipeline.seeds import posterior_seed

        key = (item.name, scale)
        if key not in self._scaled:
            self._scaled = {k: v for k, v in self._scaled.items() if k[0] == item.name}
            self._scaled[key] = sweep.pipeline.sender.encode_latent_tensor(
                load_image(item),
                sample_posterior=True,
                seed=posterior_seed(sweep.config.seed, item.name),
                size=sweep.config.size // scale,
            )
        return self._scaled[key]

    def codec(self, spec: AnalogSpec, shape: tuple[int, ...], image_name: str) -> AnalogCodec:
        key = (spec.spec, shape, image_name)
        if key not in self._codecs:
            if len(self._codecs) > 64:
                self._codecs.clear()
            self._codecs[key] = AnalogCodec.for_spec(spec, source_shape=shape, exclude=image_name)
        return self._codecs[key]

    def close(self) -> None:
        self._codecs.clear()

    def run_cell(
        self,
        cell: Any,
        spec: AnalogSpec,
        image_name: str,
        source: np.ndarray,
        caption_bytes: int,
        latent_values: int,
        sweep_cfg: Any,
        seed: int,
    ) -> tuple[dict[str, Any], np.ndarray | None]:
        """One (image, analog cell): the row's fields (no metrics) and the estimated source (None:
        outage)."""
        from semcom.eval.airtime import field_symbols, latent_bytes_of, packet_symbols, reference_symbols
        from semcom.eval.baselines import link_columns
        from semcom.eval.scenario import design_snr_db
        from semcom.fec.transmit import transmit_field_coded
        from semcom.phy.analog import analog_channel

        int8_symbols = reference_symbols(latent_values, sweep_cfg.modulation)
        # the transmitter plans (budget=ENC, the protected header's MCS) for the design SNR
        # (semcom.eval.scenario); the analog part needs no plan, the receiver's LMMSE uses its own SNR
        design_db = design_snr_db(sweep_cfg, cell.snr_db)

        def enc_symbols(encoding: str) -> int:
            link = sweep_cfg.link(design_db)
            return packet_symbols(caption_bytes, latent_bytes_of(latent_values, encoding), link)

        budget = spec.symbols(int8_symbols=int8_symbols, enc_symbols=enc_symbols)
        codec = self.codec(spec, tuple(source.shape), image_name)
        # the protected digital link of the caption and metadata: LDPC with AMC, at the cell's Es/N0
        protected = sweep_cfg.link(
            design_db, snr_convention="esn0", fec="ldpc", mcs="auto", latent_policy="always", seed=seed
        )
        caption_symbols, caption_mcs = field_symbols(8 * caption_bytes, protected, "caption")
        meta_symbols, meta_mcs = field_symbols(8 * codec.meta_size, protected, "caption")
        analog_symbols = budget - caption_symbols - meta_symbols
        stats = codec.stats
        row: dict[str, Any] = {
            **link_columns(budget, "analog", float(cell.snr_db), None, mcs=meta_mcs),
            "snr_note": SNR_NOTE,
            "analog_symbols": 0,
            "meta_symbols": meta_symbols,
            "meta_bytes": codec.meta_size,
            "caption_symbols": caption_symbols,
            "caption_mcs": caption_mcs,
            "meta_ok": None,
            "analog_stats": "image (metadata)"
            if stats is None
            else f"fit {stats.id} on {len(stats.images)} photos, held out",
            "outage": True,
            "outage_reason": "",
        }
        if analog_symbols < 1:
            row["outage_reason"] = (
                f"budget: caption ({caption_symbols}) and metadata ({meta_symbols}) symbols fill the {budget}"
            )
            return row, None
        rng = np.random.default_rng(seed)
        frame = codec.encode(source, analog_symbols)
        meta_bits = np.unpackbits(np.frombuffer(frame.meta, np.uint8))
        sent = protected
        if design_db != cell.snr_db and meta_mcs:  # the design's MCS over the actual channel
            sent = replace(protected, snr_db=cell.snr_db, mcs=meta_mcs)
        result = transmit_field_coded(meta_bits, sent, rng, "caption")
        meta = np.packbits(result.rx_bits).tobytes()
        meta_ok = meta == frame.meta
        y, gains, n0 = analog_channel(
            frame.symbols, cell.snr_db, rng, fading=sweep_cfg.channel, block_length=sweep_cfg.fading_block_length
        )
        total = caption_symbols + int(result.symbols) + int(frame.symbols.size)
        row.update(
            {
                "channel_symbols": total,
                "analog_symbols": int(frame.symbols.size),
                "meta_symbols": int(result.symbols),
                "meta_ok": bool(meta_ok),
                "segments": int(result.segments),
                "segments_failed": int(result.segments_failed),
            }
        )
        if total != budget:  # a broken invariant must not pass silently
            raise RuntimeError(f"{spec.spec}: {total} symbols sent for a budget of {budget}")
        if not meta_ok:
            if codec.per_image_stats:
                row["outage_reason"] = "metadata: the per-image chunk statistics were lost"
                return row, None
            meta = struct.pack("<f", 1.0)  # the energy scale's expected value
        estimate = codec.decode(y, meta, noise_var=n0, gains=gains)
        row["outage"] = False
        return row, estimate


def sweep_row(
    sweep: Any, runner: AnalogRunner, cell: Any, item: Any, caption: str, latent: np.ndarray, reference: Any
) -> dict[str, Any]:
    """The results.jsonl row of one (image, analog cell) of `sweep` (a `semcom.eval.sweep.Sweep`):
    the sweep's one call into this module."""
    from semcom.eval.codecs import fallback_image
    from semcom.eval.sweep import decode_only_row, run_decode_only
    from semcom.payload.caption import encode_caption

    spec = AnalogSpec.parse(cell.variant)
    t0 = time.perf_counter()
    if spec.scheme == "softcast":
        source = np.asarray(reference, dtype=np.float32).transpose(2, 0, 1) / np.float32(255.0)
    elif spec.scale != 1:
        source = np.asarray(runner.scaled_latent(sweep, item, spec.scale), dtype=np.float32)
    else:
        source = np.asarray(latent, dtype=np.float32)
    fields, estimate = run_decode_only(sweep, runner, cell, spec, item, source, caption, latent)
    if estimate is None:
        image = fallback_image(reference.size)
    elif spec.scheme == "softcast":
        from PIL import Image

        pixels = np.clip(np.rint(estimate.transpose(1, 2, 0) * 255.0), 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels)
    else:
        image = _decode_latent(sweep, estimate)
        if image.size != reference.size:
            from PIL import Image

            image = image.resize(reference.size, Image.Resampling.BICUBIC)
    seconds = time.perf_counter() - t0
    metrics = sweep.score(item, cell.key, reference, image, caption)
    return decode_only_row(
        sweep,
        item,
        cell,
        metrics,
        seconds,
        encoding=spec.scheme,
        caption_sent=caption,
        caption_bits=8 * len(encode_caption(caption)),
        **fields,
    )


def _decode_latent(sweep: Any, estimate: np.ndarray) -> Any:
    """The profile's VAE decoder on the LMMSE latent estimate (k = 0)."""
    import torch

    from semcom.models.images import to_pil

    decoder = sweep.models.decoder()
    with torch.no_grad():
        return to_pil(decoder.decode(torch.from_numpy(np.ascontiguousarray(estimate, dtype=np.float32))[None]))[0]


# ---------------------------------------------------------------------------------------- report
def _budget_rule(variant: str, mode: str) -> tuple | None:
    """The budget rule of an analog or baseline variant, comparable across the two grammars."""
    if mode == MODE:
        spec = AnalogSpec.parse(variant)
        return (spec.frac, spec.sym, spec.budget)
    if mode == "baseline":
        from semcom.eval.baselines import BaselineVariant

        base = BaselineVariant.parse(variant)
        return (base.frac, base.symbols, base.budget)
    return None


def report_markdown(per_image: list[dict[str, Any]], metric: str = "ssim") -> str:
    """Each analog variant against every baseline with the same budget rule (equal airtime): per SNR
    both means with their 95% t-intervals, the paired mean difference (same images) with its
    interval, and the paired win count."""
    from semcom.eval.aggregate import summarize
    from semcom.eval.report import table_head

    rows = [r for r in per_image if r["mode"] in (MODE, "baseline")]
    values: dict[tuple[str, str, float], dict[str, float]] = {}
    for r in rows:
        values.setdefault((r["mode"], r["variant"], float(r["snr_db"])), {})[r["image"]] = float(r[metric])
    variants = {(m, v): _budget_rule(v, m) for m, v, _ in values}
    snrs = sorted({s for _, _, s in values})
    analog = [v for (m, v) in variants if m == MODE]
    lines = [
        f"### Analog against the digital link at equal airtime ({metric.upper()}, paired over the same photos)",
        "",
        "Only Es/N0 is defined for analog symbols (they carry no bits): SNRs are Es/N0. Every analog "
        "symbol counts (analog values, metadata and caption); a lost digital link is scored with a "
        "mid-grey picture.",
        "",
    ]
    for a in analog:
        for b in [v for (m, v) in variants if m == "baseline" and variants[(m, v)] == variants[(MODE, a)]]:
            heads = ["n", a, b, "difference (95% CI)", "wins"]
            lines += [f"`{a}` against `{b}`:", "", *table_head("Es/N0 (dB)", "---:", heads)]
            for snr in snrs:
                x, y = values.get((MODE, a, snr), {}), values.get(("baseline", b, snr), {})
                common = sorted(set(x) & set(y))
                if not common:
                    continue
                sa, sb = summarize(x[i] for i in common), summarize(y[i] for i in common)
                d = summarize(x[i] - y[i] for i in common)
                wins = sum(1 for i in common if x[i] > y[i])
                lines.append(
                    f"| {snr:g} | {len(common)} | {sa.mean:.3f} ± {sa.ci95:.3f} | {sb.mean:.3f} ± {sb.ci95:.3f} "
                    f"| {d.mean:+.3f} ± {d.ci95:.3f} | {wins}/{len(common)} |"
                )
            lines.append("")
    return "\n".join(lines)
