"""`semcom models ...`: list profiles, build the tiny profile, prefetch real weights.

* ``semcom models list [--json]``: built-in profiles (and ``--profile FILE``), their components,
  and whether each is available locally (tiny built; hub weights in the HF cache).
* ``semcom models build-tiny [--out DIR] [--force]``: write the tiny profile (random weights, real
  classes) to SEMCOM_CACHE_DIR/profiles/tiny-v1 or DIR.
* ``semcom models download --profile paper``: fetch every hub component of a profile into the
  Hugging Face cache (HF_HOME) with huggingface_hub.snapshot_download (its progress bars; an
  interrupted download continues where it stopped when run again), then verify every file
  against the hub's list (size, SHA-256 of LFS files, git SHA-1 of the others; --no-verify skips).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from semcom.models.errors import ModelNotAvailableError, ProfileError

# Files fetched per component subfolder: configs, tokenizers, safetensors weights only.
ALLOW_SUFFIXES = ("*.json", "*.txt", "*.safetensors", "*.model")
IGNORE = ["*.fp16.*", "*non_ema*", "*.ckpt", "*.bin", "*.onnx", "*.onnx_data", "*.msgpack", "*.h5"]
CONFIG_FILE = {"scheduler": "scheduler_config.json", "tokenizer": "tokenizer_config.json"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="model profiles: list, build the tiny one, download real weights")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")

    q = msub.add_parser("list", help="profiles, their components, and what is available locally")
    q.add_argument("--profile", action="append", help="also show this profile file/dir (repeatable)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_list)

    q = msub.add_parser("build-tiny", help="build the tiny profile (random weights, no download)")
    q.add_argument("--out", help="directory to write (default: SEMCOM_CACHE_DIR/profiles/tiny-v1)")
    q.add_argument("--force", action="store_true", help="rebuild even if it exists")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_build_tiny)

    q = msub.add_parser("download", help="prefetch a profile's hub weights into the HF cache (HF_HOME)")
    q.add_argument("--profile", default="paper", help="profile name or file (default: paper)")
    q.add_argument("--no-verify", action="store_true", help="skip the size/checksum check after downloading")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_download)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _fail(command: str, exc: Exception) -> int:
    print(f"semcom {command}: error: {exc}", file=sys.stderr)
    return 3 if isinstance(exc, ModelNotAvailableError) else 2


def _component_status(what: str, source: Any) -> dict[str, Any]:
    from huggingface_hub import try_to_load_from_cache

    row: dict[str, Any] = {"component": what, "source": source.describe(), "local": source.is_local}
    if source.is_local:
        row["available"] = source.path.expanduser().is_dir()
    else:
        name = CONFIG_FILE.get(what, "config.json")
        filename = f"{source.subfolder}/{name}" if source.subfolder else name
        row["available"] = isinstance(try_to_load_from_cache(source.ref, filename, revision=source.revision), str)
    return row


def run_list(args: argparse.Namespace) -> int:
    from semcom.models.spec import BUILTIN, parse_profile, read_profile_file
    from semcom.models.tiny import default_dir

    profiles: list[dict[str, Any]] = []
    tiny = default_dir()
    profiles.append(
        {
            "name": "tiny",
            "origin": str(tiny),
            "built": (tiny / "profile.yaml").is_file(),
            "note": "random weights, built locally on first use (semcom models build-tiny)",
        }
    )
    try:
        specs = [parse_profile(data, origin=name) for name, data in BUILTIN.items()]
        specs += [read_profile_file(Path(p).expanduser()) for p in args.profile or []]
    except ProfileError as exc:
        return _fail("models list", exc)
    for spec in specs:
        rows = [_component_status(what, src) for what, src in spec.sources()]
        profiles.append(
            {
                "name": spec.name,
                "origin": spec.origin,
                "components": rows,
                "available": all(r["available"] for r in rows),
            }
        )
    if args.json:
        print(json.dumps(profiles, indent=2))
        return 0
    for prof in profiles:
        if "components" not in prof:
            state = "built" if prof["built"] else "not built yet"
            print(f"{prof['name']:<8} {state}: {prof['origin']} ({prof['note']})")
            continue
        state = "available" if prof["available"] else "missing weights"
        print(f"{prof['name']:<8} {state} ({prof['origin']})")
        for row in prof["components"]:
            mark = "ok " if row["available"] else "-- "
            print(f"    {mark}{row['component']:<13} {row['source']}")
    return 0


def run_build_tiny(args: argparse.Namespace) -> int:
    from semcom.models.hub import quiet_libraries
    from semcom.models.tiny import build_tiny_profile, default_dir

    if not args.verbose:
        quiet_libraries()
    target = Path(args.out).expanduser() if args.out else default_dir()
    built = args.force or not (target / "profile.yaml").is_file()
    if built:
        build_tiny_profile(target)
    if args.json:
        print(json.dumps({"profile": "tiny", "path": str(target), "built": built}))
    else:
        print(f"tiny profile {'written to' if built else 'already at'} {target}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from semcom.models.hub import download, verify_snapshot
    from semcom.models.profiles import resolve_spec

    try:
        spec = resolve_spec(args.profile)
        repos: dict[tuple[str, str | None], list[str]] = {}
        for _what, source in spec.hub_sources():
            prefix = f"{source.subfolder}/" if source.subfolder else ""
            repos.setdefault((source.ref, source.revision), []).extend(prefix + s for s in ALLOW_SUFFIXES)
        fetched = []
        for (ref, revision), patterns in repos.items():
            if not args.json:
                print(f"{ref}: downloading {', '.join(patterns)} (run again to resume)", flush=True)
            path = download(ref, allow_patterns=patterns, ignore_patterns=IGNORE, revision=revision, what=ref)
            row: dict[str, Any] = {"repo": ref, "path": str(path)}
            if not args.no_verify:
                row["verified"] = verify_snapshot(path, ref, patterns, IGNORE, revision)
            fetched.append(row)
            if not args.json:
                check = row.get("verified")
                note = (
                    (f", verified {check['files']} files, {check['bytes'] / 1e6:.1f} MB ({check['sha256']} by SHA-256)")
                    if check
                    else ""
                )
                print(f"{ref}: {path}{note}")
    except (ModelNotAvailableError, ProfileError, ValueError) as exc:
        return _fail("models download", exc)
    if args.json:
        print(json.dumps({"profile": spec.name, "downloaded": fetched}, indent=2))
    elif not fetched:
        print(f"profile {spec.name!r} has no hub components; nothing to download")
    return 0
