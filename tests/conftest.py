"""Shared test fixtures. `../shared` (fixtures outside the repo) is optional: tests that need it
skip with a reason when it is absent (a user's clone); CI has it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEMCOM_SHARED_DIR", REPO.parent / "shared")).resolve()


def parses(argv: list[str]) -> None:
    """`semcom ARGV` is accepted by the real CLI parser (argparse exits on an unknown flag)."""
    from semcom.cli import build_parser

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`semcom {' '.join(argv)}` is not a valid command line (exit {exc.code})")
    assert getattr(args, "func", None) is not None, argv


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED} (set SEMCOM_SHARED_DIR)")
    return SHARED


@pytest.fixture(scope="session")
def flickr_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "flickr8k"
    if not (path / "images").is_dir():
        pytest.skip(f"Flickr8k fixture not found at {path}")
    return path


@pytest.fixture(scope="session")
def taef2_dir() -> Path:
    """The TAEF2 weights shipped inside the package (checked against their SHA256SUMS at load)."""
    from semcom.models.taef2 import PACKAGED_DIR

    return PACKAGED_DIR
