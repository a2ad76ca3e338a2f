"""Flags defined once for every subcommand that takes them.

Every subcommand spells a concept the same way (`--channel-model`, `--to`, `--image-size`,
`--snr-db`, `--num-images`), every list is argparse's space-separated `nargs="+"`, and the parsed
attribute is the flag's name (`--image-size` -> `args.image_size`). There are no deprecated
spellings: the project has had no release that would need them.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_preset_argument(group: Any, default_help: str) -> None:
    """`--preset NAME`: the reproduction preset (semcom.models.presets); `default_help` says what
    an unset flag means for this command."""
    from semcom.models.presets import PRESET_NAMES

    group.add_argument("--preset", choices=PRESET_NAMES, help=f"reproduction preset ({default_help}; docs/models.md)")


def add_guidance_argument(group: Any) -> None:
    """`--guidance SCALE`: classifier-free guidance; unset = the preset's."""
    group.add_argument(
        "--guidance",
        type=float,
        help="classifier-free guidance scale (default: the preset's, 9; 7.5 for text-only under authors)",
    )


# The channel flags: one definition each, the choices from the link's vocabularies
# (semcom.link.types), every value None when the flag is not given so that each command applies its
# own default (the settings, or the channel proxy's configuration for `semcom send`): every one but
# --snr-db (add_snr_argument: its nargs and default differ by command); the settings
# they fall back to: semcom.link.types.CHANNEL_SETTINGS
_CHANNEL_NAMES = "snr-convention modulation channel-model fading-block-length latent-policy drop-threshold-db fec mcs"
CHANNEL_FLAGS = tuple(f"--{name}" for name in _CHANNEL_NAMES.split())


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be positive and finite, got {text}")
    return value


def add_documented_parser(sub: Any, name: str, help: str, doc: str | None) -> Any:
    """The subcommand `name` whose --help shows `doc` (its module's docstring) as written."""
    return sub.add_parser(name, help=help, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_latent_arguments(group: Any, unset: str) -> None:
    """The sender's latent flags: `--encoding`, `--per-channel`, `--clip-percentile`; `unset` says
    where an unset --encoding comes from. An unset --clip-percentile is the full range (min/max)."""
    group.add_argument(
        "--encoding",
        help=f"latent encoding on the wire (float64 | ... | int4g), or analog[:OPTIONS] for analog symbols "
        f"(docs/channel.md; default: {unset})",
    )
    group.add_argument("--per-channel", action="store_true", help="int encodings: one clipping range per channel")
    group.add_argument(
        "--clip-percentile",
        type=float,
        help="int encodings: clip at the (100-p, p) percentiles, e.g. 99.9 (default min/max)",
    )


def add_simulated_channel_arguments(
    group: Any, models: tuple[str, ...] = ("awgn", "rayleigh"), model_help: str = "channel model"
) -> None:
    """`--channel-model` (default awgn) and `--fading-block-length` (default ChannelConfig's) of
    the commands that simulate the channel themselves: BER, BLER, MCS choice, the FEC bench."""
    from semcom.link.types import ChannelConfig

    group.add_argument("--channel-model", choices=models, default="awgn", help=f"{model_help} (default %(default)s)")
    group.add_argument(
        "--fading-block-length",
        type=positive_int,
        default=ChannelConfig().fading_block_length,
        help="rayleigh: channel symbols per fading gain (default %(default)s)",
    )


def add_channel_arguments(group: Any, flags: tuple[str, ...] = CHANNEL_FLAGS, unset: str = "") -> None:
    """The channel flags `flags` (a subset of CHANNEL_FLAGS, in its order) on `group`; `unset`
    says what a flag left out means for this command (default: its SEMCOM_* setting)."""
    from semcom.link.types import CHANNEL_MODELS, FEC_SCHEMES, LATENT_POLICIES, MODULATIONS, SNR_CONVENTIONS

    def default(dest: str) -> str:
        return unset or f"default SEMCOM_{dest.upper()}"  # semcom.link.types.CHANNEL_SETTINGS

    unknown = set(flags) - set(CHANNEL_FLAGS)
    if unknown:
        raise ValueError(f"not channel flags: {sorted(unknown)}")
    specs: dict[str, dict[str, Any]] = {
        "--snr-convention": {
            "choices": SNR_CONVENTIONS,
            "help": "the SNR's meaning: ebn0 per information bit, esn0 per channel symbol",
        },
        "--modulation": {"choices": tuple(MODULATIONS), "help": "channel modulation"},
        "--channel-model": {"choices": CHANNEL_MODELS, "help": "channel model"},
        "--fading-block-length": {"type": positive_int, "help": "rayleigh: channel symbols per fading gain"},
        "--latent-policy": {
            "choices": LATENT_POLICIES,
            "help": "when the latent is sent: auto = amc on a coded link, threshold otherwise (docs/channel.md)",
        },
        "--drop-threshold-db": {
            "type": channel_field("drop_threshold_db"),
            "help": "threshold policy: drop the latent below this SNR",
        },
        "--fec": {"choices": FEC_SCHEMES, "help": "channel coding"},
        "--mcs": {"type": mcs_name, "help": "with --fec ldpc: auto (AMC) or an MCS name from `semcom channel mcs`"},
    }
    for flag in (f for f in CHANNEL_FLAGS if f in flags):
        spec = specs[flag]
        dest = flag[2:].replace("-", "_")
        group.add_argument(flag, **{**spec, "help": f"{spec['help']} ({default(dest)})"})


def add_snr_argument(group: Any, note: str, default: Any = None, many: bool = False, kind: Any = None) -> None:
    """`--snr-db`: the channel's SNR in dB, checked as a channel checks it (`kind`: a narrower
    check); `many`: one or more values (a list), else one; `note` says what an unset flag means for
    this command (and, where it needs saying, how the values are used)."""
    group.add_argument(
        "--snr-db",
        type=kind or channel_field("snr_db"),
        nargs="+" if many else None,
        default=default,
        help=f"channel SNR{'s' if many else ''} in dB ({note})",
    )


def channel_field(name: str) -> Any:
    """argparse type: a number that ChannelConfig accepts as its field `name` (its own check and message)."""

    def parse(text: str) -> float:
        from semcom.link.types import ChannelConfig

        try:
            value: Any = float(text)
            return getattr(ChannelConfig(**{name: value}), name)
        except ValueError as exc:  # not a number (float's message names the text), or out of range
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def mcs_name(text: str) -> str:
    """argparse type: auto (AMC) or an MCS name of the table (semcom.fec.mcs)."""
    from semcom.fec.mcs import get

    try:
        return text if text == "auto" else get(text).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def channel_flags(args: Any) -> dict[str, Any]:
    """ChannelConfig field -> the value of its flag (--snr-db and CHANNEL_FLAGS); None where the
    command has no such flag or it was not given."""
    from semcom.link.types import CHANNEL_SETTINGS

    return {name: getattr(args, "channel_model" if name == "model" else name, None) for name in CHANNEL_SETTINGS}


def channel_values(args: Any, fields: Any = None) -> dict[str, Any]:
    """ChannelConfig field -> value of each of `fields` (default all that a setting configures): its
    flag if given, else its setting (semcom.link.types.channel_settings)."""
    from semcom.link.types import CHANNEL_SETTINGS, channel_settings

    return channel_settings(fields or CHANNEL_SETTINGS, **channel_flags(args))
