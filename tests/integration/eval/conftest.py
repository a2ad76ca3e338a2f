"""What the eval integration tests share: an offline environment with the tiny profile built into a
temporary cache, the command line of a small tiny-profile sweep, a small captioned data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# `semcom eval run` on the tiny profile: the dataset's captions, one thread, the summary as JSON
TINY_ARGS = ["--caption", "dataset", "--profile", "tiny", "--threads", "1", "--no-progress", "--json"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The cache in a temporary directory, no hub access, one thread (tiny models); yields the
    variables set, for child processes."""
    import torch

    cache = tmp_path_factory.mktemp("semcom-cache")
    values = {
        "SEMCOM_CACHE_DIR": str(cache),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(cache / "hf"),
        "OMP_NUM_THREADS": "1",
    }
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in values.items():
            mp.setenv(key, value)
        yield values
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Three structured 80x96 images and a Flickr8k-style caption file (two captions each)."""
    root = tmp_path_factory.mktemp("data")
    (root / "images").mkdir()
    y, x = np.mgrid[0:80, 0:96].astype(np.float32)
    lines = []
    for i in range(3):
        disc = ((x - 30 - 10 * i) ** 2 + (y - 40) ** 2 < 300).astype(np.float32)
        rgb = np.stack([x / 95 * 255, y / 79 * 255, disc * (255 - 60 * i)], axis=-1).astype(np.uint8)
        Image.fromarray(rgb).save(root / "images" / f"img{i}.png")
        lines += [f"img{i}.png\ta disc number {i} on a gradient", f"img{i}.png\tsecond caption {i}"]
    (root / "captions.tsv").write_text("\n".join(lines) + "\n")
    return root


def write_discs(root: Path, shape: tuple[int, int], centre: tuple[int, int], r2: int, gain: float) -> Path:
    """Three structured images of `shape` in root/images (a gradient of slope `gain`, a noisy disc of
    squared radius `r2` at `centre` moving 10 px right per image) and root/captions.tsv; returns root."""
    (root / "images").mkdir(parents=True)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    rng = np.random.default_rng(0)
    lines = []
    for i in range(3):
        disc = ((x - centre[0] - 10 * i) ** 2 + (y - centre[1]) ** 2 < r2).astype(np.float32)
        rgb = np.stack([x * gain, y * gain, disc * (255 - 60 * i) + rng.normal(0, 10, x.shape)], axis=-1)
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(root / "images" / f"img{i}.png")
        lines.append(f"img{i}.png\ta disc number {i} on a gradient")
    (root / "captions.tsv").write_text("\n".join(lines) + "\n")
    return root
