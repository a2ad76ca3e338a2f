"""The classical digital link as a baseline: a standard image codec + (optionally) 5G LDPC with AMC,
over the same channel and the same channel symbols as the latent.

A baseline *variant* is written `CODEC[:OPTION...]` in `semcom eval run --encodings`, beside the
latent variants (`semcom.eval.grid`):

    CODEC       jpeg | webp | avif (Pillow; avif where the installed Pillow supports it)
    budget=ENC  the budget is the channel symbols of the ENC latent packet (caption + latent, ENC a
                latent wire encoding: int8, float64, int4g, ...) at the cell's SNR, on the sweep's
                link (--fec/--mcs): equal airtime with that latent variant, per image. The default
                (`jpeg` = `jpeg:budget=int8`)
    frac=P/Q    the budget is P/Q (or a decimal) of the int8 latent's uncoded symbols (its bits /
                the modulation's bits per symbol; the caption not counted): a fixed airtime for
                rate-distortion curves, e.g. frac=1/16 .. frac=1
    sym=N       the budget is N channel symbols
    ldpc        the file is sent LDPC-coded, MCS from --mcs (auto: AMC); uncoded: sent raw on the
                --modulation. Default: the sweep's --fec
    shannon     the digital limit: the file is sized to the channel capacity at the (design) SNR,
                budget x C bits (`semcom.eval.capacity`: log2(1 + Es/N0) on AWGN, the ergodic
                capacity on Rayleigh), and received error-free if it fits the capacity at the
                channel's actual SNR, else an outage. No bits are simulated

e.g. `jpeg`, `webp:ldpc`, `jpeg:frac=1/4:ldpc`, `avif:budget=float16:uncoded`.

One cell per (variant, SNR), mode "baseline". What a cell does, per image:

1. budget B (channel symbols) as above;
2. the file: the reference image compressed at the highest quality (and best of 4 scales, see
   `semcom.eval.codecs.fit_to_budget`) whose bits fit B on the file's link: uncoded,
   ceil(8 bytes / bits per symbol) <= B; coded with --mcs auto, AMC (`semcom.fec.amc.choose`)
   finds an MCS meeting the *caption's* segment-BLER target (`SEMCOM_AMC_TARGET_BLER_CAPTION`,
   a compressed file, like a caption, is ruined by any error) within B; when no file fits that
   way, the most robust MCS and the largest file it fits (the link sends rather than stays
   silent; `mcs_meets_target` false in the row); a fixed --mcs: that MCS;
3. the file's bits over the channel (`semcom.link.transmission.transmit_bits`, or the coded
   `semcom.fec.transmit.transmit_field_coded`), channel noise seeded by (seed, image, cell);
4. the received bytes decoded in a guarded worker (`semcom.eval.codecs.GuardedDecoder`). A file
   that does not decode is an **outage**: scored with a mid-grey image (the receiver knows nothing
   of the picture), flagged `outage` in the row with the reason, and averaged with the rest. No
   file fitting the budget at all is an outage too (`outage_reason` "budget: ...", 0 symbols sent).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from semcom.analog.spec import BUDGET_KEYS, DEFAULT_BUDGET, budget_fields, parse_budget
from semcom.eval.airtime import file_fits, latent_bytes_of, max_file_bytes, packet_symbols, reference_symbols
from semcom.eval.capacity import capacity
from semcom.eval.codecs import (
    CODECS,
    FitMemo,
    Fitted,
    GuardedDecoder,
    decode_file,
    fallback_image,
    fit_to_budget,
    get_codec,
)
from semcom.eval.scenario import design_snr_db
from semcom.eval.store import safe_name
from semcom.link.types import MODULATIONS
from semcom.phy.snr import snr_db_pair

MODE = "baseline"
LINKS = ("ldpc", "uncoded", "shannon")


@dataclass(frozen=True)
class BaselineVariant:
    """An image codec, its channel-symbol budget rule and its link."""

    codec: str
    budget: str = DEFAULT_BUDGET  # latent encoding whose packet's symbols are the budget ("" with frac/sym)
    frac: Fraction | None = None  # of the int8 latent's uncoded symbols
    symbols: int | None = None  # fixed budget
    link: str = ""  # "ldpc" | "uncoded" | "" (the sweep's --fec)

    @property
    def encoding(self) -> str:  # the name in the rows' `encoding` column
        return self.codec

    @property
    def spec(self) -> str:
        parts = [self.codec, *budget_fields(self.budget, self.frac, self.symbols)]
        if self.link:
            parts.append(self.link)
        return ":".join(parts)

    @classmethod
    def parse(cls, text: str) -> BaselineVariant:
        parts = [p.strip() for p in str(text).strip().split(":")]
        codec = get_codec(parts[0]).name
        link, rules = "", {}
        for option in parts[1:]:
            key, sep, value = option.partition("=")
            if option in LINKS:
                if link:
                    raise ValueError(f"{text!r}: give one link option (ldpc or uncoded)")
                link = option
            elif sep and key in BUDGET_KEYS and key not in rules:
                rules[key] = value
            elif sep and key in BUDGET_KEYS:
                raise ValueError(f"{text!r}: option {key}= given twice")
            else:
                raise ValueError(
                    f"{text!r}: unknown option {option!r}; options: budget=ENCODING, frac=P/Q, "
                    f"sym=N, {', '.join(LINKS)}"
                )
        budget, frac, symbols = parse_budget(text, rules)
        return cls(codec, budget, frac, symbols, link)


def is_baseline(text: str) -> bool:
    """Whether an --encodings item names a baseline (its first field is an image codec)."""
    return str(text).strip().split(":")[0].strip().lower() in CODECS


def link_fec(variant: BaselineVariant, sweep_fec: str) -> str:
    return {"ldpc": "ldpc", "uncoded": "none", "shannon": "shannon"}.get(variant.link, sweep_fec)


def budget_symbols(variant: BaselineVariant, cfg: Any, caption_bytes: int, latent_values: int) -> int:
    """The cell's budget in channel symbols (see the module docstring); `cfg` the sweep's link."""
    if variant.symbols is not None:
        return variant.symbols
    if variant.frac is not None:
        return max(1, math.floor(reference_symbols(latent_values, cfg.modulation) * variant.frac))
    return packet_symbols(caption_bytes, latent_bytes_of(latent_values, variant.budget), cfg)


# ---------------------------------------------------------------------------------------- one cell
@dataclass
class BaselineRunner:
    """Runs baseline cells for a sweep: caches each image's fitted files, owns the guarded decoder."""

    decode_timeout_s: float | None = None  # None: SEMCOM_EVAL_DECODE_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.decode_timeout_s is None:
            from semcom.config import get

            self.decode_timeout_s = float(get("SEMCOM_EVAL_DECODE_TIMEOUT_S"))
        if not self.decode_timeout_s > 0:
            raise ValueError(f"decode timeout must be > 0 s, got {self.decode_timeout_s}")
        self._fits: dict[tuple, Any] = {}
        self._fit_memo: tuple[str, FitMemo] = ("", FitMemo())  # (image, fit_to_budget's memo of it)
        self._decoder: GuardedDecoder | None = None
        self._scores: dict[tuple, Any] = {}  # (image, pixels digest) -> (metrics, fid features)

    # Where fitted files are kept between processes (None: in memory only). The sweep sets it to
    # SEMCOM_EVAL_FIT_CACHE, else RUN_DIR/cache/fits: a resumed run, or other runs pointed at one
    # folder (e.g. the scenarios of a regime map), never compress the same (image, codec, cap) twice.
    fit_cache: Any = None

    def _disk_fit(self, key: tuple, reference: Any) -> tuple[Any, Any]:
        """(path, Fitted or None) of a cached fit on disk."""
        if self.fit_cache is None:
            return None, None
        image_name, codec, cap = key
        w, h = reference.size
        path = Path(self.fit_cache) / f"{safe_name(image_name)}-{w}x{h}-{codec}-{cap}.json"
        if not path.is_file():
            return path, None
        try:
            d = json.loads(path.read_text())
            data = base64.b64decode(d["data"]) if d["data"] is not None else None
            return path, Fitted(data, d["quality"], d["scale"], d["encodes"], float(d["clean_ssim"]))
        except (ValueError, KeyError, TypeError):
            return path, None  # a torn file: refit

    @staticmethod
    def _save_fit(path: Any, fitted: Fitted) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{id(fitted)}.tmp")
        data = base64.b64encode(fitted.data).decode() if fitted.data is not None else None
        record: dict[str, Any] = {"data": data, "quality": fitted.quality, "scale": fitted.scale}
        record["encodes"] = fitted.encodes
        record["clean_ssim"] = fitted.clean_ssim if fitted.clean_ssim == fitted.clean_ssim else None
        tmp.write_text(json.dumps(record))
        tmp.replace(path)  # atomic: concurrent runs sharing the folder never read half a file

    def scores(self, suite: Any, image_name: str, reference: Any, image: Any, caption: str) -> tuple[Any, Any]:
        """(per-image metrics, FID features) of `image`, memoised per image and pixel content: an outage's
        grey image and an error-free file received at many SNRs are scored once."""
        digest = hashlib.sha1(np.asarray(image.convert("RGB")).tobytes()).hexdigest()
        if self._scores and next(iter(self._scores))[0] != image_name:
            self._scores = {}  # the sweep runs image by image
        key = (image_name, digest)
        if key not in self._scores:
            features = suite.fid_features([image])
            self._scores[key] = (suite.per_image(reference, image, caption), features)
        metrics, features = self._scores[key]
        return dict(metrics), features

    def close(self) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    def decode(self, data: bytes, codec: str, size: tuple[int, int]) -> tuple[Any, str]:
        if self._decoder is None:
            assert self.decode_timeout_s is not None  # set in __post_init__
            self._decoder = GuardedDecoder(self.decode_timeout_s)
        return self._decoder.decode(data, codec, size)

    def fitted(self, image_name: str, reference: Any, variant: BaselineVariant, file_cfg: Any, budget: int):
        """The file for (image, codec) under the link's byte cap, cached per image; (Fitted, meets_target).

        The cap (`max_file_bytes`) is found without compressing anything; cells with the same cap
        (every SNR of an uncoded link, equal MCS choices) share one search."""
        fits, meets = file_fits(file_cfg, budget), True
        cap = max_file_bytes(fits, budget)
        if cap == 0 and file_cfg.fec != "none" and file_cfg.mcs.strip().lower() == "auto":
            fits, meets = file_fits(file_cfg, budget, robust=True), False
            cap = max_file_bytes(fits, budget)
        return self.fit_capped(image_name, reference, variant, fits, cap), meets

    def fit_capped(self, image_name: str, reference: Any, variant: BaselineVariant, fits: Any, cap: int) -> Fitted:
        """The best file of at most `cap` bytes that `fits` accepts (cached per image and cap)."""
        for _ in range(8):  # bounded: a cap the predicate disagrees with is lowered and refitted
            key = (image_name, variant.codec, cap)
            if key not in self._fits:
                if len(self._fits) > 1024:  # bounded: the sweep runs image by image
                    self._fits = {k: v for k, v in self._fits.items() if k[0] == image_name}
                path, cached = self._disk_fit(key, reference)
                if cached is None:
                    if self._fit_memo[0] != image_name:  # the sweep runs image by image
                        self._fit_memo = (image_name, FitMemo())
                    cached = fit_to_budget(reference, variant.codec, _at_most(cap), memo=self._fit_memo[1])
                    self._save_fit(path, cached)
                self._fits[key] = cached
            fitted = self._fits[key]
            if fitted.data is None or fits(len(fitted.data)):
                return fitted
            cap = len(fitted.data) - 1
        return Fitted(None, None, None, 0)

    def run_cell(
        self,
        cell: Any,
        variant: BaselineVariant,
        image_name: str,
        reference: Any,
        caption_bytes: int,
        latent_values: int,
        sweep_cfg: Any,
        seed: int,
    ) -> tuple[dict[str, Any], Any]:
        """One (image, baseline cell): the row's fields (no metrics) and the image to score."""
        design_db = design_snr_db(sweep_cfg, cell.snr_db)  # what the transmitter plans for
        budget = budget_symbols(
            variant, sweep_cfg.link(design_db, latent_policy="always"), caption_bytes, latent_values
        )
        esn0_db, ebn0_db = snr_db_pair(cell.snr_db, sweep_cfg.snr_convention, MODULATIONS[sweep_cfg.modulation])
        if variant.link == "shannon":
            design_esn0 = snr_db_pair(design_db, sweep_cfg.snr_convention, MODULATIONS[sweep_cfg.modulation])[0]
            return self._run_shannon(variant, image_name, reference, sweep_cfg, budget, design_esn0, esn0_db, ebn0_db)
        file_cfg = sweep_cfg.link(design_db, latent_policy="always", fec=link_fec(variant, sweep_cfg.fec), seed=seed)
        t0 = time.perf_counter()
        fitted, meets = self.fitted(image_name, reference, variant, file_cfg, budget)
        fit_seconds = time.perf_counter() - t0
        row = _outage_row(budget, file_cfg.fec, esn0_db, ebn0_db, fitted, fit_seconds=fit_seconds)
        size = reference.size
        if fitted.data is None:
            row["outage_reason"] = f"budget: no {variant.codec} file at any quality/scale fits {budget} symbols"
            return row, fallback_image(size)
        data = fitted.data
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
        rng = np.random.default_rng(seed)
        if design_db != cell.snr_db:  # planned for another SNR: the design's MCS, over the actual channel
            file_cfg = _actual_channel(file_cfg, cell.snr_db, budget, len(data))
        if file_cfg.fec == "none":
            from semcom.link.transmission import transmit_bits

            result = transmit_bits(bits, file_cfg, rng)
        else:
            from semcom.fec.transmit import transmit_field_coded

            result = transmit_field_coded(bits, file_cfg, rng, "caption", airtime_budget_symbols=budget)
        received = np.packbits(result.rx_bits).tobytes()
        row.update(
            {
                "mcs": result.mcs,
                "mcs_meets_target": meets if file_cfg.fec != "none" else None,
                "latent_bits": int(bits.size),
                "latent_bit_errors": int(result.bit_errors),
                "latent_ber": result.bit_errors / bits.size,
                "segments": int(result.segments),
                "segments_failed": int(result.segments_failed),
                "channel_symbols": int(result.symbols),
            }
        )
        if result.symbols > budget:  # the fit guarantees it; a broken invariant must not pass silently
            raise RuntimeError(f"{variant.spec}: {result.symbols} symbols sent for a budget of {budget}")
        if received == data:
            image, reason = decode_file(data, variant.codec, size)  # error-free: no need for the guard
        else:
            image, reason = self.decode(received, variant.codec, size)
        if image is None:
            row["outage_reason"] = f"decode: {reason}"
            return row, fallback_image(size)
        row["outage"] = False
        return row, image

    def _run_shannon(
        self,
        variant: BaselineVariant,
        image_name: str,
        reference: Any,
        sweep_cfg: Any,
        budget: int,
        design_esn0_db: float,
        esn0_db: float,
        ebn0_db: float,
    ) -> tuple[dict[str, Any], Any]:
        """The `shannon` link: the file sized to budget x C(design) bits, received iff it fits
        budget x C(actual) (`semcom.eval.capacity`); no bit is simulated."""
        c_design = float(capacity(sweep_cfg.channel, design_esn0_db))
        c_actual = float(capacity(sweep_cfg.channel, esn0_db))
        cap = int(math.floor(budget * c_design / 8.0 + 1e-9))
        t0 = time.perf_counter()
        fitted = self.fit_capped(image_name, reference, variant, _at_most(cap), cap) if cap > 0 else None
        row = _outage_row(
            budget,
            "shannon",
            esn0_db,
            ebn0_db,
            fitted,
            capacity={"capacity_design": c_design, "capacity_actual": c_actual},
            fit_seconds=time.perf_counter() - t0,
        )
        size = reference.size
        if fitted is None or fitted.data is None:
            row["outage_reason"] = f"budget: no {variant.codec} file fits {budget} symbols x {c_design:.3g} bit"
            return row, fallback_image(size)
        n_bits = 8 * len(fitted.data)
        row.update({"latent_bits": n_bits, "channel_symbols": budget})
        if n_bits > budget * c_actual:
            row["outage_reason"] = (
                f"capacity: {n_bits / budget:.4g} bit/symbol exceeds the channel's {c_actual:.4g} at {esn0_db:g} dB Es/N0"
            )
            row["latent_ber"] = math.nan
            return row, fallback_image(size)
        row.update({"outage": False, "latent_ber": 0.0})
        image, reason = decode_file(fitted.data, variant.codec, size)
        if image is None:  # cannot happen for a file the sender decoded itself; never silently
            raise RuntimeError(f"{variant.spec}: the sender's own file does not decode: {reason}")
        return row, image


def _actual_channel(design_cfg: Any, actual_snr_db: float, budget: int, n_bytes: int) -> Any:
    """The link config that sends what was planned at `design_cfg`'s SNR over a channel at
    `actual_snr_db`: on the coded link with AMC, the MCS chosen at the design SNR, fixed."""
    if design_cfg.fec == "none":
        return replace(design_cfg, snr_db=actual_snr_db)
    from semcom.fec.transmit import select_mcs

    mcs = select_mcs(design_cfg, "caption", 8 * n_bytes, budget)
    return replace(design_cfg, snr_db=actual_snr_db, mcs=mcs.name)


def link_columns(budget: int, link_fec: str, esn0_db: float, ebn0_db: float | None, mcs: str = "") -> dict[str, Any]:
    """The link columns a baseline or analog cell has before anything is sent (nothing sent, no file)."""
    return {
        "budget_symbols": budget,
        "link_fec": link_fec,
        "file_bytes": 0,
        "quality": None,
        "scale": None,
        "clean_ssim": math.nan,
        "mcs": mcs,
        "mcs_meets_target": None,
        "latent_bits": 0,
        "latent_bit_errors": 0,
        "latent_ber": math.nan,
        "segments": 0,
        "segments_failed": 0,
        "channel_symbols": 0,
        "esn0_db": esn0_db,
        "ebn0_db": ebn0_db,
    }


def _outage_row(
    budget: int,
    link_fec: str,
    esn0_db: float,
    ebn0_db: float,
    fitted: Fitted | None,
    *,
    fit_seconds: float,
    capacity: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A baseline cell's own columns before anything is sent, with the `fitted` file's where there is
    one: an outage until the file is received (`capacity`: the shannon link's two capacities, in their
    place before the outage columns)."""
    cols = link_columns(budget, link_fec, esn0_db, ebn0_db)
    if fitted is not None and fitted.data is not None:
        cols.update(
            file_bytes=len(fitted.data), quality=fitted.quality, scale=fitted.scale, clean_ssim=fitted.clean_ssim
        )
    return {**cols, **(capacity or {}), "outage": True, "outage_reason": "", "fit_seconds": fit_seconds}


def unsupported_reason(variant_spec: str) -> str | None:
    """Why this machine cannot run the baseline (its codec missing from Pillow), or None."""
    ok, reason = get_codec(BaselineVariant.parse(variant_spec).codec).available()
    return None if ok else reason


def sweep_row(
    sweep: Any, runner: BaselineRunner, cell: Any, item: Any, caption: str, latent: np.ndarray, reference: Any
) -> dict[str, Any]:
    """The results.jsonl row of one (image, baseline cell) of `sweep` (a `semcom.eval.sweep.Sweep`):
    the sweep's one call into this module."""
    from semcom.eval.sweep import decode_only_row, run_decode_only

    variant = BaselineVariant.parse(cell.variant)
    if runner.fit_cache is None:
        from semcom.config import get

        runner.fit_cache = Path(str(get("SEMCOM_EVAL_FIT_CACHE") or "") or sweep.store.root / "cache" / "fits")
    t0 = time.perf_counter()
    fields, image = run_decode_only(sweep, runner, cell, variant, item, reference, caption, latent)
    seconds = time.perf_counter() - t0
    metrics, features = runner.scores(sweep.suite, item.name, reference, image, caption)
    sweep.keep_outputs(item, cell.key, image, features)
    return decode_only_row(
        sweep, item, cell, metrics, seconds, encoding=variant.codec, latent_bytes=fields["file_bytes"], **fields
    )


def _at_most(cap: int) -> Callable[[int], bool]:
    """The fit predicate "a file of n bytes fits": n <= cap."""
    return lambda n: n <= cap
