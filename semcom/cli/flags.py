"""One flag name per concept, one list syntax, and the old spellings kept for one release.

Every subcommand spells a concept the same way (`--channel-model`, `--to`, `--image-size`,
`--snr-db`, `--num-images`), and every list is argparse's space-separated `nargs="+"`. An old
spelling still works for one release: it prints one deprecation line naming the new one. A list
written the old comma-separated way is split, with the same kind of line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

_warned: set[str] = set()


def deprecated(old: str, new: str) -> None:
    """Say once per process that `old` is deprecated in favour of `new`."""
    if old in _warned:
        return
    _warned.add(old)
    print(f"semcom: {old} is deprecated, use {new} (the old form is accepted until the next release)", file=sys.stderr)


class _Renamed(argparse.Action):
    """A store action whose extra option strings are deprecated spellings of the first one."""

    def __init__(self, option_strings: Sequence[str], dest: str, old: Sequence[str] = (), **kwargs: Any) -> None:
        self.old = tuple(old)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string in self.old:
            deprecated(option_string, self.option_strings[0])
        setattr(namespace, self.dest, values)


def add_renamed(parser: Any, new: str, *old: str, **kwargs: Any) -> argparse.Action:
    """`parser.add_argument(new, **kwargs)` that also accepts the deprecated spellings `old`."""
    return parser.add_argument(new, *old, action=_Renamed, old=old, **kwargs)


def list_of(convert: Callable[[str], Any], flag: str) -> Callable[[str], Any]:
    """An argparse `type` for one item of a `nargs="+"` list; an item holding commas (the old list
    syntax) is split, with a deprecation line, and the caller flattens (`flatten`)."""

    def parse(text: str) -> Any:
        if "," in text:
            deprecated(f"{flag} with commas ({text!r})", f"spaces: {flag} {' '.join(p for p in text.split(',') if p)}")
            return [convert(part.strip()) for part in text.split(",") if part.strip()]
        return convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def flatten(values: Sequence[Any] | None) -> list[Any] | None:
    """The items of a list parsed with `list_of`: comma-split items flattened in order."""
    if values is None:
        return None
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


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
