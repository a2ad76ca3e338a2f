"""`semcom config`: the environment variables every service and command reads, with defaults."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="list configuration environment variables and their values")
    p.add_argument("--markdown", action="store_true", help="print the documentation table")
    p.add_argument("--json", action="store_true", help="print current values as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from semcom import config

    if args.markdown:
        print(config.markdown_table())
        return 0
    values = {}
    for env in config.SETTINGS:
        try:
            values[env] = config.get(env)
        except ValueError as exc:
            values[env] = f"INVALID: {exc}"
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        width = max(map(len, values))
        for env, value in values.items():
            print(f"{env:<{width}}  {value}")
    return 0
