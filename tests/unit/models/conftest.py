"""Fixtures of the model-layer tests: the tiny profile, built once per session into a temporary
SEMCOM_CACHE_DIR by `load_profile("tiny")` itself (build on first use), then loaded from that
directory like any user profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SIZE = 64  # 64x64 images -> 4x8x8 latents: every code path, seconds on 2 CPU cores


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared 2-core machine thread
    synchronisation makes a tiny UNet step ~25x slower (measured: 6 ms vs 170 ms)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("semcom-cache")


@pytest.fixture(scope="session")
def tiny_dir(tiny_cache: Path) -> Path:
    """Directory of the tiny profile, built by `load_profile("tiny")` on first use."""
    from semcom.models import load_profile

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMCOM_CACHE_DIR", str(tiny_cache))
        models = load_profile("tiny", device="cpu", dtype="float32")
    return Path(models.spec.origin).parent


@pytest.fixture(scope="session")
def tiny(tiny_dir: Path):
    """One loaded tiny profile shared by the read-only tests (weights load once)."""
    from semcom.models import load_profile

    return load_profile(tiny_dir, device="cpu", dtype="float32")


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """A deterministic synthetic RGB image with structure (gradients + a disc), 96x80."""
    y, x = np.mgrid[0:80, 0:96].astype(np.float32)
    disc = ((x - 40) ** 2 + (y - 44) ** 2 < 400).astype(np.float32)
    rgb = np.stack([x / 95 * 255, y / 79 * 255, disc * 255], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb, mode="RGB")


@pytest.fixture(scope="session")
def packet(tiny, photo):
    """A clean packet of the photo: fixed caption (BLIP not loaded), seeded posterior sample."""
    return tiny.sender().encode(photo, caption="a red disc on a gradient", size=SIZE, seed=0)
