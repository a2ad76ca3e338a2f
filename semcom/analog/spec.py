"""The analog variant's text form, `SCHEME[:OPTION...]`, in the grammar of the classical
baselines (`semcom.eval.baselines`):

    SCHEME      analog    the VAE latent, sent as analog values (SoftCast-style, `semcom.analog.codec`)
                softcast  the image's own pixels (YCbCr, DCT chunks): the classical analog anchor
    budget=ENC  the budget is the channel symbols of the ENC latent packet (caption + latent, ENC a
                latent wire encoding: int8, float64, ...): equal airtime with it. The default
                (`analog` = `analog:budget=int8`)
    frac=P/Q    P/Q (or a decimal) of the int8 latent's uncoded symbols
    sym=N       N channel symbols
    stats=S     the receiver's chunk statistics: `fit` (fitted on photos, shipped with the codec:
                no metadata), `image` (this image's, sent as protected digital metadata, counted
                in the airtime) or `auto` (the default: `fit` where the package ships statistics
                for the source's shape, else `image`)
    est=E       the receiver's estimate: `lmmse` (the default: the linear MMSE estimate) or `matched`
                (the LMMSE estimate rescaled to the prior's variance per value, x̂ = μ + (x̂_lmmse - μ)/√w
                with w the LMMSE weight: no shrinkage toward the mean, which the VAE decoder renders
                as a washed-out image; the zero-perception-loss point of the perception-distortion
                trade-off for Gaussian sources)
    scale=N     analog only: the latent of the image downscaled N times (N = 1, 2, 4): fewer values,
                each with more of the budget; the receiver upsamples the decoded image (bicubic).
                The VAE at a lower resolution acts as a stronger transform at small budgets.
                Default 1
    alloc=A     analog only: the power allocation. `softcast` (the default: energy per value ∝ √λ,
                lowest-variance chunks dropped first, SoftCast's latent-MSE optimum) or `decoder`
                (energy ∝ √(wλ), lowest wλ dropped first, w the chunk's decoder weight shipped with
                the statistics: the image-MSE optimum of the same linear scheme; needs stats=fit)

Every symbol of the budget counts: analog values, metadata and caption.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from semcom.payload.latent import get_encoding

SCHEMES = ("analog", "softcast")
SCALES = (1, 2, 4)
STATS_MODES = ("auto", "fit", "image")
ESTIMATORS = ("lmmse", "matched")
ALLOCATIONS = ("softcast", "decoder")
DEFAULT_BUDGET = "int8"
_FRACTION = re.compile(r"^\d+(?:\.\d+)?(?:/\d+)?$")
_OPTIONS = (
    "budget=ENCODING, frac=P/Q, sym=N, stats=auto|fit|image, est=lmmse|matched, scale=1|2|4, alloc=softcast|decoder"
)


BUDGET_KEYS = ("budget", "frac", "sym")
# The other options and their values, as `AnalogSpec.parse` reads them.
_CHOICES = {"stats": STATS_MODES, "est": ESTIMATORS, "scale": tuple(map(str, SCALES)), "alloc": ALLOCATIONS}


def parse_budget(text: str, rules: dict[str, str]) -> tuple[str, Fraction | None, int | None]:
    """The channel-symbol budget rule of spec `text`, the grammar the analog schemes and the classical
    baselines (`semcom.eval.baselines`) share: `rules` holds the spec's budget options (key -> value,
    keys of BUDGET_KEYS): budget=ENCODING (that latent encoding's packet), frac=P/Q (0 < P/Q <= 64, of
    the int8 latent's uncoded symbols) or sym=N, at most one; none: budget=int8. Returns (budget, frac,
    sym), budget "" under frac= or sym=; ValueError naming `text` and the fault."""
    budget, frac, sym = DEFAULT_BUDGET, None, None
    for key, value in rules.items():
        if key == "budget":
            try:
                budget = get_encoding(value).name
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{text!r}: budget= must name a latent encoding: {exc}") from None
        elif key == "frac":
            if not _FRACTION.match(value):
                raise ValueError(f"{text!r}: frac must be P/Q or a decimal, e.g. frac=1/4, got {value!r}")
            if value.endswith("/0"):
                raise ValueError(f"{text!r}: frac has a zero denominator")
            frac = Fraction(value)
            if not 0 < frac <= 64:
                raise ValueError(f"{text!r}: frac must be in (0, 64], got {value}")
        elif key == "sym":
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"{text!r}: sym must be a positive integer, got {value!r}")
            sym = int(value)
        else:
            raise ValueError(f"{text!r}: {key}= is not a budget rule ({', '.join(BUDGET_KEYS)})")
    if len(rules) > 1:
        raise ValueError(f"{text!r}: give one budget rule (budget=, frac= or sym=)")
    return ("" if frac is not None or sym is not None else budget), frac, sym


def budget_fields(budget: str, frac: Fraction | None, sym: int | None) -> list[str]:
    """The canonical spec field of a budget rule (none for the default, budget=int8)."""
    if frac is not None:
        return [f"frac={frac.numerator}/{frac.denominator}" if frac.denominator != 1 else f"frac={frac.numerator}"]
    if sym is not None:
        return [f"sym={sym}"]
    return [f"budget={budget}"] if budget and budget != DEFAULT_BUDGET else []


def is_analog(text: str) -> bool:
    """Whether an --encodings item names an analog variant (its first field is a scheme)."""
    return str(text).strip().split(":")[0].strip().lower() in SCHEMES


@dataclass(frozen=True)
class AnalogSpec:
    """An analog scheme, its channel-symbol budget rule and its receiver statistics."""

    scheme: str = "analog"
    budget: str = DEFAULT_BUDGET  # latent encoding whose packet's symbols are the budget ("" with frac/sym)
    frac: Fraction | None = None  # of the int8 latent's uncoded symbols
    sym: int | None = None  # fixed budget
    stats: str = "auto"
    est: str = "lmmse"  # the receiver's estimate
    scale: int = 1  # analog: the latent of the image downscaled this many times
    alloc: str = "softcast"  # analog: the power allocation (softcast, or decoder-weighted)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown analog scheme {self.scheme!r}; choose from {', '.join(SCHEMES)}")
        if self.stats not in STATS_MODES:
            raise ValueError(f"stats must be one of {', '.join(STATS_MODES)}, got {self.stats!r}")
        if self.est not in ESTIMATORS:
            raise ValueError(f"est must be one of {', '.join(ESTIMATORS)}, got {self.est!r}")
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(map(str, SCALES))}, got {self.scale}")
        if self.scale != 1 and self.scheme != "analog":
            raise ValueError(f"scale= applies to the analog latent only, not {self.scheme}")
        if self.alloc not in ALLOCATIONS:
            raise ValueError(f"alloc must be one of {', '.join(ALLOCATIONS)}, got {self.alloc!r}")
        if self.alloc != "softcast" and (self.scheme != "analog" or self.stats == "image"):
            raise ValueError("alloc=decoder needs the analog latent with shipped statistics (not stats=image)")

    @property
    def encoding(self) -> str:  # the name in the rows' `encoding` column
        return self.scheme

    @property
    def spec(self) -> str:
        """Canonical text form (options in a fixed order): the name used in every output."""
        parts = [self.scheme, *budget_fields(self.budget, self.frac, self.sym)]
        for key, default in (("stats", "auto"), ("est", "lmmse"), ("scale", 1), ("alloc", "softcast")):
            if getattr(self, key) != default:
                parts.append(f"{key}={getattr(self, key)}")
        return ":".join(parts)

    @classmethod
    def parse(cls, text: str) -> AnalogSpec:
        """Parse `SCHEME[:OPTION...]`; ValueError naming the bad part and the valid choices."""
        if isinstance(text, AnalogSpec):
            return text
        parts = [p.strip() for p in str(text).strip().split(":")]
        scheme = parts[0].lower()
        if scheme not in SCHEMES:
            raise ValueError(f"{text!r}: unknown analog scheme {parts[0]!r}; choose from {', '.join(SCHEMES)}")
        rules: dict[str, str] = {}  # the budget options
        options: dict[str, str] = {}  # the others (_CHOICES)
        for option in parts[1:]:
            key, sep, value = option.partition("=")
            if not sep or (key not in BUDGET_KEYS and key not in _CHOICES):
                raise ValueError(f"{text!r}: unknown option {option!r}; options: {_OPTIONS}")
            if key in rules or key in options:
                raise ValueError(f"{text!r}: option {key}= given twice")
            if key in BUDGET_KEYS:
                rules[key] = value
                continue
            if value not in _CHOICES[key]:
                raise ValueError(f"{text!r}: {key} must be one of {', '.join(_CHOICES[key])}, got {value!r}")
            if key == "scale" and scheme != "analog":
                raise ValueError(f"{text!r}: scale= applies to the analog latent only")
            if key == "alloc" and value != "softcast" and scheme != "analog":
                raise ValueError(f"{text!r}: alloc=decoder applies to the analog latent only")
            options[key] = value
        budget, frac, sym = parse_budget(text, rules)
        stats, alloc = options.get("stats", "auto"), options.get("alloc", "softcast")
        if alloc != "softcast" and stats == "image":
            raise ValueError(f"{text!r}: alloc=decoder needs shipped statistics, not stats=image")
        return cls(scheme, budget, frac, sym, stats, options.get("est", "lmmse"), int(options.get("scale", 1)), alloc)

    def symbols(self, *, int8_symbols: int, enc_symbols: Callable[[str], int] | None = None) -> int:
        """The whole budget in complex channel symbols (analog values, metadata and caption
        together): `int8_symbols` the int8 latent's uncoded symbols (frac=), `enc_symbols`
        the packet symbols of a latent encoding (budget=)."""
        if self.sym is not None:
            return self.sym
        if self.frac is not None:
            return max(1, math.floor(int(int8_symbols) * self.frac))
        if enc_symbols is None:
            raise ValueError(f"{self.spec}: a budget=ENCODING rule needs enc_symbols")
        return int(enc_symbols(self.budget))
