"""One flag name per concept across subcommands, one list syntax (space-separated nargs), and the
old spellings still accepted for one release with a deprecation line."""

from __future__ import annotations

import argparse

import pytest

from semcom.cli import build_parser, flags, main

# concept -> the one name every subcommand uses; the old spellings may remain only as aliases
RETIRED = {
    "--channel": "--channel-model",
    "--target": "--to",
    "--size": "--image-size",
    "--snrs": "--snr-db",
    "--window-ms": "--batch-window-ms",
}


def _actions(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, (*path, name))
        elif action.option_strings:
            yield path, action


def test_no_subcommand_spells_a_concept_the_retired_way() -> None:
    offenders = []
    for path, action in _actions(build_parser()):
        primary = (
            max(action.option_strings, key=len) if not isinstance(action, flags._Renamed) else action.option_strings[0]
        )
        if primary in RETIRED:
            offenders.append(f"semcom {' '.join(path)} {primary} (use {RETIRED[primary]})")
        if isinstance(action, flags._Renamed):
            assert not set(action.old) & set(RETIRED.values()), action.option_strings
    assert not offenders, offenders


def test_old_spellings_still_work_with_one_deprecation_line(capsys, monkeypatch) -> None:
    monkeypatch.setattr(flags, "_warned", set())
    assert main(["payload", "--json", "--size", "256", "--encodings", "float16,int4"]) == 0
    err = capsys.readouterr().err
    assert "--size is deprecated, use --image-size" in err
    assert "--encodings with commas" in err and "--encodings float16 int4" in err
    new = main(["payload", "--json", "--image-size", "256", "--encodings", "float16", "int4"])
    assert new == 0 and capsys.readouterr().err == ""


def test_renamed_flags_parse_to_the_same_values() -> None:
    parser = build_parser()
    old = parser.parse_args(["demo", "--snrs", "0,8", "--images", "2", "--size", "128"])
    new = parser.parse_args(["demo", "--snr-db", "0", "8", "--num-images", "2", "--image-size", "128"])
    assert (flags.flatten(old.snrs), old.images, old.size) == (flags.flatten(new.snrs), new.images, new.size)
    assert flags.flatten(new.snrs) == [0.0, 8.0]
    lt = parser.parse_args(["loadtest", "--target", "h:1", "--service", "sender", "--modes", "text,auto"])
    assert lt.target == "h:1" and flags.flatten(lt.modes) == ["text", "auto"]
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--snr-db", "99"])  # still validated item by item
