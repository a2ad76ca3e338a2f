"""The `semcom` command: one CLI, one subcommand module per job.

Each module in COMMANDS defines `register(subparsers)`; modules keep heavy imports (torch,
diffusers, grpc) inside their handlers so `semcom --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

from semcom.cli.extras import message

COMMANDS = [
    "payload",
    "channel",
    "models",
    "transmit",
    "serve",
    "health",
    "send",
    "demo",
    "eval",
    "loadtest",
    "bench",
    "config",
    "ui",
]


def version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    try:
        return dist_version("semcom")
    except PackageNotFoundError:
        from semcom import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semcom",
        description="Language-oriented semantic image transmission (caption + latent over a noisy channel).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"semcom.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except ModuleNotFoundError as exc:  # an optional extra is not installed: say which, in one line
        text = message(str(args.command), exc)
        if text is None:
            raise
        print(text, file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and friends
        sys.stderr.close()
        return 0
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
