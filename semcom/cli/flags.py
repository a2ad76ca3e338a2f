"""Flags defined once for every subcommand that takes them.

Every subcommand spells a concept the same way (`--channel-model`, `--to`, `--image-size`,
`--snr-db`, `--num-images`), every list is argparse's space-separated `nargs="+"`, and the parsed
attribute is the flag's name (`--image-size` -> `args.image_size`). There are no deprecated
spellings: the project has had no release that would need them.
"""

from __future__ import annotations

from typing import Any


def add_preset_argument(group: Any, default_help: str) -> None:
    """`--preset NAME`: the reproduction preset (semcom.models.presets); `default_help` says what
    an unset flag means for this command."""
    from semcom.models.presets import PRESET_NAMES

    group.add_argument(
        "--preset", default=None, choices=PRESET_NAMES, help=f"reproduction preset ({default_help}; docs/models.md)"
    )


def add_guidance_argument(group: Any) -> None:
    """`--guidance SCALE`: classifier-free guidance; unset = the preset's."""
    group.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="classifier-free guidance scale (default: the preset's, 9; 7.5 for text-only under authors)",
    )
