"""One flag name per concept across subcommands, one list syntax (space-separated nargs), the
parsed attribute named as the flag, and no deprecated spellings (the project has had no release)."""

from __future__ import annotations

import argparse
import re

import pytest

from semcom.cli import build_parser, main

# concept -> the one name every subcommand uses; the old spellings are gone, not aliases
RETIRED = {
    "--channel": "--channel-model",
    "--target": "--to",
    "--size": "--image-size",
    "--snrs": "--snr-db",
    "--window-ms": "--batch-window-ms",
    "--block-length": "--fading-block-length",
    "--images": "--num-images",
}
# flags whose attribute is deliberately not the flag's name: none
ATTRIBUTE_EXCEPTIONS: dict[str, str] = {}


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
        for option in action.option_strings:
            # `--images DIR` of loadtest/bench is a directory of pictures, not a count
            if option in RETIRED and not (option == "--images" and path[:1] in (("loadtest",), ("bench",))):
                offenders.append(f"semcom {' '.join(path)} {option} (use {RETIRED[option]})")
    assert not offenders, offenders


def test_every_long_flag_has_one_spelling_and_its_attribute_is_its_name() -> None:
    offenders = []
    for path, action in _actions(build_parser()):
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        if len(longs) > 1:
            offenders.append(f"semcom {' '.join(path)}: {longs} (one spelling per flag)")
        want = ATTRIBUTE_EXCEPTIONS.get(longs[0], longs[0][2:].replace("-", "_"))
        if action.dest != want:
            offenders.append(f"semcom {' '.join(path)} {longs[0]} parses to args.{action.dest}, not args.{want}")
    assert not offenders, offenders


def test_old_spellings_and_comma_lists_are_refused(capsys) -> None:
    for argv in (
        ["payload", "--json", "--size", "256"],
        ["demo", "--snrs", "0", "8"],
        ["loadtest", "--target", "h:1", "--service", "sender"],
        ["eval", "--data", "x", "--out", "y"],  # `eval` needs its subcommand: run, report or merge
    ):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args(argv)
        assert exit_.value.code == 2, argv
        capsys.readouterr()
    assert main(["payload", "--json", "--image-size", "256", "--encodings", "float16", "int4"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["payload", "--json", "--encodings", "float16,int4"]) == 2


def test_flags_parse_to_attributes_named_as_the_flags() -> None:
    parser = build_parser()
    demo = parser.parse_args(["demo", "--snr-db", "0", "8", "--num-images", "2", "--image-size", "128"])
    assert (demo.snr_db, demo.num_images, demo.image_size) == ([0.0, 8.0], 2, 128)
    lt = parser.parse_args(["loadtest", "--to", "h:1", "--service", "sender", "--modes", "text", "auto"])
    assert lt.to == "h:1" and lt.modes == ["text", "auto"]
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--snr-db", "99"])  # validated item by item


def _groups(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every command that has subcommands of its own (path from the top), with its parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if path:
                yield path, parser
            for name, sub in action.choices.items():
                yield from _groups(sub, (*path, name))


def test_a_command_group_alone_prints_its_own_usage(capsys) -> None:
    """`semcom eval` (or channel, bench, models, ...) without a subcommand: that group's usage, exit 2,
    not the top-level help or a traceback."""
    groups = list(_groups(build_parser()))
    assert {"eval", "channel", "bench", "models"} <= {p[0] for p, _ in groups}
    for path, _parser in groups:
        try:
            rc = main(list(path))
        except SystemExit as exc:  # a required subcommand (serve ROLE): argparse's own error
            rc = exc.code
        out = capsys.readouterr()
        assert rc == 2, path
        assert f"usage: semcom {' '.join(path)}" in out.out + out.err, path


def test_the_docs_name_no_retired_spelling() -> None:
    """README and docs/*.md never tell a user to type a retired flag (`--size` for `--image-size`, ...);
    a benchmark script's own flags (a line naming benchmarks/ or scripts/) are not semcom's."""
    import re

    from tests.conftest import REPO

    offenders = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        script = False  # inside a benchmark's command, continued over lines ending in a backslash
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            script = "benchmarks/" in line or "scripts/" in line or script
            if script:
                script = line.rstrip().endswith("\\")
                continue
            for old, new in RETIRED.items():
                if old == "--images":  # `semcom loadtest --images DIR` is a folder, not --num-images
                    continue
                if re.search(re.escape(old) + r"(?![\w-])", line):
                    offenders.append(f"{path.name}:{number}: {old} (now {new})")
    assert not offenders, offenders


def _flag(option: str) -> dict[str, argparse.Action]:
    """Command path -> the action of `option` in every subcommand that has it."""
    return {" ".join(path): a for path, a in _actions(build_parser()) if option in a.option_strings}


def test_snr_db_is_declared_once_for_every_command() -> None:
    """--snr-db comes from one helper: the same help shape, a channel's own check of the value, a
    list where the command runs several SNRs (transmit too), one value where it is one setting."""
    found = _flag("--snr-db")
    several = {"transmit", "eval run", "loadtest", "demo"}
    assert set(found) == several | {"send", "serve channel", "bench pipeline", "bench sweep"}
    for path, action in found.items():
        assert action.help and re.fullmatch(r"channel SNRs? in dB \(.+\)", action.help), (path, action.help)
        assert (action.nargs == "+") == (path in several) == action.help.startswith("channel SNRs"), path
        parse = action.type
        assert callable(parse) and parse("7.5") == 7.5, path
        for bad in ("nan", "inf", "1000", "-60", "x"):
            with pytest.raises(argparse.ArgumentTypeError):
                parse(bad)


def test_vocabulary_flags_offer_the_one_definition() -> None:
    """Every flag naming a mode, a latent repair, an SNR convention or an FEC scheme offers the one
    vocabulary (semcom.models.params, semcom.link.types) as its choices, in its order."""
    from semcom.link.types import FEC_SCHEMES, SNR_CONVENTIONS
    from semcom.models.params import LATENT_REPAIRS, MODES

    vocabularies = {"--mode": MODES, "--latent-repair": LATENT_REPAIRS, "--snr-convention": SNR_CONVENTIONS}
    vocabularies |= {"--fec": FEC_SCHEMES}
    checked = 0
    for option, vocabulary in vocabularies.items():
        for path, action in _flag(option).items():
            if action.nargs == 0:  # `channel bench --fec`: a switch (benchmark the decoders), not a scheme
                continue
            assert tuple(action.choices or ()) == vocabulary, (path, option, action.choices)
            checked += 1
    for path in ("loadtest", "bench sweep"):  # receiver modes to sweep (eval's --modes: the sweep's own subset)
        assert tuple(_flag("--modes")[path].choices or ()) == MODES, path
    assert checked >= 12
    with pytest.raises(SystemExit):
        build_parser().parse_args(["send", "x", "--to", "h:1", "--mode", "text_latent"])
