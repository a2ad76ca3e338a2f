"""Dataset loader: image folders, the Flickr8k caption file, first-caption rule, limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semcom.eval.dataset import load_dataset, load_image, read_captions, reference_image


def _image(path: Path, size=(40, 30)) -> None:
    Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(path)


def test_first_caption_per_image_in_file_order(tmp_path):
    tsv = tmp_path / "captions.tsv"
    tsv.write_text("b.jpg\tfirst b\na.jpg#0\tfirst a\nb.jpg\tsecond b\n\n# comment\na.jpg#1\tsecond a\n")
    assert read_captions(tsv) == {"b.jpg": "first b", "a.jpg": "first a"}


def test_malformed_caption_line_is_a_value_error(tmp_path):
    tsv = tmp_path / "c.tsv"
    tsv.write_text("a.jpg no tab here\n")
    with pytest.raises(ValueError, match=r"c.tsv:1: expected 'image<TAB>caption'"):
        read_captions(tsv)


def test_folder_layouts_sorting_limit_and_default_caption_file(tmp_path):
    (tmp_path / "images").mkdir()
    for name in ("c.png", "a.jpg", "b.JPEG"):
        _image(tmp_path / "images" / name)
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    (tmp_path / "captions.tsv").write_text("a.jpg\ta cat\nc.png\ta car\n")
    items = load_dataset(tmp_path)
    assert [i.name for i in items] == ["a.jpg", "b.JPEG", "c.png"]
    assert [i.caption for i in items] == ["a cat", None, "a car"]
    assert [i.name for i in load_dataset(tmp_path, limit=2)] == ["a.jpg", "b.JPEG"]
    flat = load_dataset(tmp_path / "images")  # the images folder itself, no captions
    assert len(flat) == 3 and all(i.caption is None for i in flat)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: None, "no images"),
        (lambda d: (d / "x.txt").write_text("x"), "no images"),
    ],
)
def test_empty_folder_is_a_value_error(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_dataset(tmp_path)


def test_missing_folder_and_bad_limit(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    _image(tmp_path / "a.png")
    with pytest.raises(ValueError, match="limit must be >= 1"):
        load_dataset(tmp_path, limit=0)


def test_reference_is_the_senders_resize(tmp_path):
    _image(tmp_path / "a.png", size=(50, 20))
    (item,) = load_dataset(tmp_path)
    ref = reference_image(load_image(item), 64)
    assert ref.size == (64, 64) and ref.mode == "RGB"


def test_flickr8k_fixture(flickr_dir):
    items = load_dataset(flickr_dir)
    assert len(items) == 75 and all(i.caption for i in items)
    first_line = (flickr_dir / "captions.tsv").read_text(encoding="utf-8").splitlines()[0]
    name, caption = first_line.split("\t")
    assert {i.name: i.caption for i in items}[name] == caption


def test_the_caption_file_read_is_the_one_recorded(tmp_path) -> None:
    """`semcom eval run --data DIR` reads DIR/captions.tsv; the run's settings name that file
    (they printed `captions None` when it came from the default)."""
    from semcom.eval.dataset import captions_file

    assert captions_file(tmp_path) is None
    (tmp_path / "captions.tsv").write_text("a.jpg\ta cat\n")
    assert captions_file(tmp_path) == tmp_path / "captions.tsv"
    assert captions_file(tmp_path, "other.tsv") == Path("other.tsv")


def test_eval_run_refuses_a_mode_or_metric_typo_with_the_valid_choices(capsys) -> None:

    from semcom.cli import main

    for flag, typo in (("--modes", "latnt"), ("--metrics", "lpip")):
        with pytest.raises(SystemExit) as exit_:
            main(["eval", "run", "--data", "x", "--out", "y", flag, typo])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert f"invalid choice: '{typo}'" in err and "choose from" in err
