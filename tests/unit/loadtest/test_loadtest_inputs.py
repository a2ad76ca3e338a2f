"""Load-test inputs: synthetic images, image folders, CLI argument checks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semcom.cli import main
from semcom.loadtest.images import load_images, synthetic_png


def test_synthetic_png_is_deterministic_and_varied() -> None:
    a, b, c = synthetic_png(64, seed=1), synthetic_png(64, seed=1), synthetic_png(64, seed=2)
    assert a == b and a != c
    pixels = np.asarray(Image.open(io.BytesIO(a)))
    assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8
    assert pixels.std() > 10  # not a flat colour: the encoder and captioner get real structure


def test_load_images_synthetic_and_folder(tmp_path: Path) -> None:
    assert len(load_images(None, 3, 32)) == 3
    for name in ("b.png", "a.jpg"):
        Image.new("RGB", (20, 10), "red").save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    files = load_images(tmp_path, 5)
    assert files == [(tmp_path / "a.jpg").read_bytes(), (tmp_path / "b.png").read_bytes()]


@pytest.mark.parametrize("bad", [{"folder": "/nonexistent/folder", "count": 1}, {"folder": None, "count": 0}])
def test_load_images_errors(bad: dict) -> None:
    with pytest.raises(ValueError):
        load_images(bad["folder"], bad["count"])


def test_load_images_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no images"):
        load_images(tmp_path, 1)


@pytest.mark.parametrize(
    "argv",
    [
        ["--modes", "text,pictures"],
        ["--concurrency", "0"],
        ["--requests", "-1"],
        ["--duration", "inf"],
        ["--rate", "0"],
    ],
)
def test_cli_rejects_bad_arguments(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["loadtest", "--to", "127.0.0.1:1", "--service", "receiver", *argv])
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_load_commands_print_progress_on_stderr_unless_told_not_to(capsys) -> None:
    from semcom.cli import build_parser
    from semcom.cli.loadtest import progress_printer

    args = build_parser().parse_args(["loadtest", "--to", "h:1", "--service", "sender"])
    progress_printer(args, "semcom loadtest")("level 1/6 ...")
    assert capsys.readouterr().err == "semcom loadtest: level 1/6 ...\n"
    quiet = build_parser().parse_args(["bench", "sweep", "--no-progress"])
    assert progress_printer(quiet, "semcom bench sweep") is None
