"""The experiment grid: which (mode, latent variant, SNR, steps) cells a sweep evaluates.

A latent *variant* is a wire encoding from the payload registry plus sender and receiver options,
written `ENCODING[:OPTION...]`:

    pc        per-channel quantisation range (uniform encodings)
    pNN.N     clip range at the (100-NN.N, NN.N) percentiles instead of min/max (uniform encodings)
    fill      receiver: out-of-range values are filled with the channel median instead of clamped
    nb        receiver: `fill`, then outliers against the 3x3 spatial median are replaced by it
    mmse      receiver: MMSE dequantisation given the channel's bit error rates (uniform encodings)
    smmse     receiver: mmse with a spatial prior from the 8 neighbours (uniform encodings)
    authors   receiver: the authors' rule (NaN/inf/|x|>10/|x|<0.01 -> fresh N(0,1)), float only
    size=N    sender: the image is encoded at N x N (a multiple of 64) instead of the sweep's --size,
              so the latent has (N / size)^2 of the values: a smaller airtime budget. The receiver
              decodes at N and the image is upsampled (Lanczos) to the reference size for scoring

Receiver options combine as `mmse` or `smmse`, then `nb`; `authors` stands alone.
e.g. `float64` (the paper's format, this receiver's default sanitiser), `float64:authors` (the
paper's format and the authors' sanitiser), `int8g:pc:p99.9:nb`.

Cells: "text" has one cell per SNR (no latent is sent: variant "-", steps = the schedule length);
"latent" one per (variant, SNR) with k = 0 (decode only); "text+latent" one per (variant, SNR, k)
with k the number of denoising steps executed (strength k / schedule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from semcom.models.params import MODES as RECEIVER_MODES

if TYPE_CHECKING:
    from semcom.payload.latent import Encoding
    from semcom.variants import Variant

# The receiver modes (semcom.models.params) a sweep runs ("auto" is no condition), captioned first: text,
# text+latent, latent. The eval-only modes of its other cells: semcom.eval.baselines.MODE, semcom.eval.analog.MODE
MODES = tuple(sorted((m for m in RECEIVER_MODES if m != "auto"), key=lambda mode: "text" not in mode))
PAPER_SNRS_DB = (5.0, 6.25, 7.5, 8.75, 10.0)  # the paper's Fig. 3 grid
RECEIVER_OPTIONS = ("mmse", "smmse", "soft", "fill", "nb", "authors")  # canonical order
NO_LATENT = "-"
_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class LatentVariant:
    """A wire encoding with its sender options (per-channel range, percentile clip) and receiver repair."""

    encoding: str
    per_channel: bool = False
    percentile: float = 100.0
    repair: str = ""  # receiver options joined by "+" in canonical order, e.g. "mmse+nb"; "" = receiver default
    size: int | None = None  # sender: encode at size x size instead of the sweep's --size

    @property
    def spec(self) -> str:
        """Canonical text form (options in a fixed order): the name used in every output."""
        parts = [self.encoding]
        if self.per_channel:
            parts.append("pc")
        if self.percentile != 100.0:
            parts.append(f"p{self.percentile:g}")
        if self.repair:
            parts += self.repair.split("+")
        if self.size is not None:
            parts.append(f"size={self.size}")
        return ":".join(parts)

    @classmethod
    def parse(cls, text: str) -> LatentVariant:
        """Parse `ENCODING[:OPTION...]`; ValueError for unknown encodings or options that do not apply."""
        from semcom.payload.latent import get_encoding

        parts = [p.strip() for p in str(text).strip().split(":")]
        enc = get_encoding(parts[0])
        size = None
        for option in [p for p in parts[1:] if p.startswith("size=")]:
            value = option.partition("=")[2]
            if not value.isdigit() or int(value) < 64 or int(value) % 64:
                raise ValueError(f"{text!r}: size must be a multiple of 64, >= 64, got {value!r}")
            size = int(value)
        per_channel, percentile, options = _parse_options(text, [p for p in parts[1:] if not p.startswith("size=")])
        _check_applicable(text, enc, per_channel, percentile, options)
        return cls(enc.name, per_channel, percentile, _canonical_repair(options), size)


def _parse_options(text: str, options: list[str]) -> tuple[bool, float, set[str]]:
    """The sender options (per-channel range, percentile) and the set of receiver options in `options`."""
    per_channel, percentile, receiver = False, 100.0, set()
    for option in options:
        match = _PERCENTILE.match(option)
        if option == "pc":
            per_channel = True
        elif match:
            percentile = float(match.group(1))
            if not 50.0 < percentile <= 100.0:
                raise ValueError(f"{text!r}: percentile must be in (50, 100], got {percentile:g}")
        elif option in RECEIVER_OPTIONS:
            receiver.add(option)
        else:
            raise ValueError(
                f"{text!r}: unknown option {option!r}; options: pc, pNN.N, size=N, {', '.join(RECEIVER_OPTIONS)}"
            )
    return per_channel, percentile, receiver


def _check_applicable(text: str, enc: Encoding, per_channel: bool, percentile: float, options: set[str]) -> None:
    """ValueError for options that do not apply to the encoding's family or to each other."""
    if enc.family == "float" and (per_channel or percentile != 100.0):
        raise ValueError(f"{text!r}: pc/pNN apply to quantised encodings, not {enc.name}")
    if "authors" in options and (enc.family != "float" or len(options) > 1):
        raise ValueError(f"{text!r}: the authors' sanitiser applies alone, to float encodings only")
    if options & {"mmse", "smmse", "soft"} and enc.family != "uniform":
        raise ValueError(f"{text!r}: mmse/smmse/soft apply to quantised encodings, not {enc.name}")
    if "soft" in options and options & {"mmse", "smmse"}:
        raise ValueError(f"{text!r}: soft is the spatial MMSE from the bits' LLRs; it replaces mmse/smmse")


def _canonical_repair(options: set[str]) -> str:
    """Receiver options joined by "+" in canonical order, dropping those another one includes."""
    options = set(options)
    if {"mmse", "smmse"} <= options:
        options.discard("mmse")  # smmse starts from the mmse estimate
    if "nb" in options:
        options.discard("fill")  # nb includes fill
    return "+".join(o for o in RECEIVER_OPTIONS if o in options)


@dataclass(frozen=True)
class ServiceLatent:
    """A registry variant's latent as a service request carries it (`semcom.rpc.client.image_request`)."""

    encoding: str  # a wire encoding, or the canonical analog spec ("analog[:OPTIONS]", sent as text)
    per_channel: bool = False
    percentile: float | None = None  # the clip percentile; None: the full range
    repair: str | None = None  # the receiver's latent repair; None: the receiver's default


def service_latent(variant: Variant) -> ServiceLatent:
    """The latent fields of a request for `variant` (`semcom.variants`), read from its spec: what the
    UI and the demo send. ValueError for a spec the services do not send (a classical baseline, the
    pixel scheme softcast, size= or an eval-only receiver option)."""
    from semcom.link.analog import canonical, names_scheme

    default = None if variant.receiver_repair else "none"
    if names_scheme(variant.spec):
        return ServiceLatent(canonical(variant.spec), repair=default)
    latent = LatentVariant.parse(variant.spec)
    if latent.size is not None or latent.repair not in ("", "mmse", "smmse"):
        raise ValueError(f"{variant.name}: requests take no size= and repair mmse or smmse only, not {variant.spec!r}")
    percentile = None if latent.percentile == 100.0 else latent.percentile
    return ServiceLatent(latent.encoding, latent.per_channel, percentile, latent.repair or default)


@dataclass(frozen=True)
class Cell:
    """One experimental condition; `key` identifies it in results.jsonl and every table."""

    mode: str
    variant: str  # LatentVariant.spec, or "-" for text only
    snr_db: float
    steps: int  # denoising steps executed (k); text: the schedule length

    @property
    def key(self) -> str:
        return f"{self.mode}|{self.variant}|{self.snr_db:g}|{self.steps}"


def parse_variants(encodings: list[str] | str, sweep: Any = None) -> tuple:
    """Latent variants (and classical baselines, `semcom.eval.baselines`: jpeg, webp, avif; analog
    variants, `semcom.eval.analog`: analog, softcast) from a list or a comma list (duplicates dropped).
    A name of the variant registry (`semcom.variants`) that is not a spec itself stands for its spec;
    given the sweep's settings (`SweepConfig`), one whose link or mode they do not share is refused."""
    from semcom.analog.spec import SCHEMES, AnalogSpec, is_analog
    from semcom.eval.baselines import BaselineVariant, is_baseline
    from semcom.eval.codecs import CODECS
    from semcom.payload.latent import ENCODINGS
    from semcom.variants import VARIANTS

    def parse(text: str) -> object:
        if is_analog(text):
            return AnalogSpec.parse(text)
        if is_baseline(text):
            return BaselineVariant.parse(text)
        if text.split(":")[0] in ENCODINGS:
            return LatentVariant.parse(text)
        if text in VARIANTS:
            return parse(_registry_spec(text, sweep))
        raise ValueError(
            f"unknown encoding {text.split(':')[0]!r}: not a latent encoding ({', '.join(ENCODINGS)}), an image codec "
            f"({', '.join(CODECS)}), an analog scheme ({', '.join(SCHEMES)}) nor a registry variant ({', '.join(VARIANTS)})"
        )

    parts = [encodings] if isinstance(encodings, str) else encodings
    items = [item.strip() for part in parts for item in part.split(",") if item.strip()]
    out = tuple(dict.fromkeys(parse(text) for text in items))
    if not out:
        raise ValueError("no encoding given")
    return out


def _registry_spec(name: str, sweep: Any) -> str:
    """The spec of the registry variant `name`; ValueError naming each setting of the entry a sweep
    (`SweepConfig`) does not share: a sweep runs one link for every encoding (--fec, --mcs,
    --channel-model), sends every latent (latent policy always; never in mode text) and runs its --modes."""
    from semcom.variants import get

    v = get(name)
    if sweep is None:
        return v.spec
    wanted = {
        "--fec": (v.fec, sweep.fec),
        "--mcs": (v.mcs if v.fec == "ldpc" else sweep.mcs, sweep.mcs),
        "--channel-model": (v.model, sweep.channel),
        "latent policy": (v.policy, "never" if v.mode == "text" else "always"),
        "--modes": (v.mode, v.mode if v.mode in sweep.modes else " ".join(sweep.modes)),
    }
    differ = [f"{flag} {own} (the sweep's: {theirs})" for flag, (own, theirs) in wanted.items() if own != theirs]
    if differ:
        raise ValueError(
            f"registry variant {name!r} ({v.spec}) differs from this sweep: {', '.join(differ)}. A sweep runs all its "
            f"encodings on one link, in its --modes, and sends every latent: match the flags, or give the spec "
            f"{v.spec!r} to run the encoding with the sweep's settings"
        )
    return v.spec


def build_grid(
    modes: tuple[str, ...],
    variants: tuple[LatentVariant, ...],
    snrs_db: tuple[float, ...],
    steps: tuple[int, ...],
    schedule: int = 50,
) -> list[Cell]:
    """Every cell of the sweep, in a stable order (mode, variant, SNR, k)."""
    if not snrs_db:
        raise ValueError("no SNR given")
    for k in steps:
        if not 0 <= k <= schedule:
            raise ValueError(f"steps k must be in [0, {schedule}] (the schedule length), got {k}")
    from semcom.analog.spec import AnalogSpec
    from semcom.eval.analog import MODE as ANALOG
    from semcom.eval.baselines import MODE as BASELINE
    from semcom.eval.baselines import BaselineVariant

    baselines = [v for v in variants if isinstance(v, BaselineVariant)]
    analogs = [v for v in variants if isinstance(v, AnalogSpec)]
    variants = tuple(v for v in variants if not isinstance(v, (BaselineVariant, AnalogSpec)))
    cells: list[Cell] = []
    for mode in modes:
        if mode == "text":
            cells += [Cell("text", NO_LATENT, float(s), schedule) for s in snrs_db]
        elif mode == "latent":
            cells += [Cell("latent", v.spec, float(s), 0) for v in variants for s in snrs_db]
        else:
            if not steps:
                raise ValueError("mode text+latent needs at least one --steps value")
            cells += [Cell("text+latent", v.spec, float(s), int(k)) for v in variants for s in snrs_db for k in steps]
    cells += [Cell(BASELINE, v.spec, float(s), 0) for v in baselines for s in snrs_db]  # whatever the modes
    cells += [Cell(ANALOG, v.spec, float(s), 0) for v in analogs for s in snrs_db]  # whatever the modes
    return list(dict.fromkeys(cells))


def config_cells(config: dict[str, Any]) -> list[Cell]:
    """The cells of the sweep a run's config.json describes (KeyError, TypeError or ValueError when
    it describes none)."""
    return build_grid(
        tuple(config["modes"]),
        parse_variants(list(config["encodings"])),
        tuple(float(s) for s in config["snr_db"]),
        tuple(int(k) for k in config["steps"]),
        int(config["schedule"]),
    )
