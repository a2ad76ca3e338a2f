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
    base=N      hybrid: a digital base layer of N thousandths of the budget (e.g. base=250) carries a
                WebP thumbnail of the image over the protected link; the analog part refines what it
                misses (`semcom.analog.hybrid`). Default 0: analog only

Every symbol of the budget counts: analog values, metadata, base layer and caption.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

SCHEMES = ("analog", "softcast")
STATS_MODES = ("auto", "fit", "image")
DEFAULT_BUDGET = "int8"
_FRACTION = re.compile(r"^\d+(?:\.\d+)?(?:/\d+)?$")
_OPTIONS = "budget=ENCODING, frac=P/Q, sym=N, stats=auto|fit|image, base=N (0..900)"


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
    base: int = 0  # thousandths of the budget spent on a digital base layer (0: none)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown analog scheme {self.scheme!r}; choose from {', '.join(SCHEMES)}")
        if self.stats not in STATS_MODES:
            raise ValueError(f"stats must be one of {', '.join(STATS_MODES)}, got {self.stats!r}")
        if not 0 <= self.base <= 900:
            raise ValueError(f"base must be in [0, 900] thousandths of the budget, got {self.base}")

    @property
    def encoding(self) -> str:  # the name in the rows' `encoding` column
        return self.scheme

    @property
    def spec(self) -> str:
        """Canonical text form (options in a fixed order): the name used in every output."""
        parts = [self.scheme]
        if self.frac is not None:
            f = self.frac
            parts.append(f"frac={f.numerator}/{f.denominator}" if f.denominator != 1 else f"frac={f.numerator}")
        elif self.sym is not None:
            parts.append(f"sym={self.sym}")
        elif self.budget != DEFAULT_BUDGET:
            parts.append(f"budget={self.budget}")
        if self.stats != "auto":
            parts.append(f"stats={self.stats}")
        if self.base:
            parts.append(f"base={self.base}")
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
        budget, frac, sym, stats, base, rules = DEFAULT_BUDGET, None, None, "auto", 0, 0
        seen: set[str] = set()
        for option in parts[1:]:
            key, sep, value = option.partition("=")
            if not sep or key not in ("budget", "frac", "sym", "stats", "base"):
                raise ValueError(f"{text!r}: unknown option {option!r}; options: {_OPTIONS}")
            if key in seen:
                raise ValueError(f"{text!r}: option {key}= given twice")
            seen.add(key)
            if key == "budget":
                from semcom.payload.latent import get_encoding

                try:
                    budget = get_encoding(value).name
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{text!r}: budget= must name a latent encoding: {exc}") from None
                rules += 1
            elif key == "frac":
                if not _FRACTION.match(value):
                    raise ValueError(f"{text!r}: frac must be P/Q or a decimal, e.g. frac=1/4, got {value!r}")
                if value.endswith("/0"):
                    raise ValueError(f"{text!r}: frac has a zero denominator")
                frac, rules = Fraction(value), rules + 1
                if not 0 < frac <= 64:
                    raise ValueError(f"{text!r}: frac must be in (0, 64], got {value}")
            elif key == "sym":
                if not value.isdigit() or int(value) < 1:
                    raise ValueError(f"{text!r}: sym must be a positive integer, got {value!r}")
                sym, rules = int(value), rules + 1
            elif key == "stats":
                if value not in STATS_MODES:
                    raise ValueError(f"{text!r}: stats must be one of {', '.join(STATS_MODES)}, got {value!r}")
                stats = value
            else:
                if not value.isdigit() or not 0 <= int(value) <= 900:
                    raise ValueError(f"{text!r}: base must be an integer in [0, 900] (thousandths), got {value!r}")
                base = int(value)
        if rules > 1:
            raise ValueError(f"{text!r}: give one budget rule (budget=, frac= or sym=)")
        if frac is not None or sym is not None:
            budget = ""
        return cls(scheme, budget, frac, sym, stats, base)

    def symbols(self, *, int8_symbols: int, enc_symbols: Callable[[str], int] | None = None) -> int:
        """The whole budget in complex channel symbols (analog values, metadata, base layer and
        caption together): `int8_symbols` the int8 latent's uncoded symbols (frac=), `enc_symbols`
        the packet symbols of a latent encoding (budget=)."""
        if self.sym is not None:
            return self.sym
        if self.frac is not None:
            return max(1, math.floor(int(int8_symbols) * self.frac))
        if enc_symbols is None:
            raise ValueError(f"{self.spec}: a budget=ENCODING rule needs enc_symbols")
        return int(enc_symbols(self.budget))
