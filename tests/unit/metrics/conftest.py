"""Small stand-in networks for the metric tests: real code paths, tiny random weights."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_clip():
    """A randomly initialised transformers CLIPModel with its processors (see standins)."""
    pytest.importorskip("transformers")
    from tests.unit.metrics.standins import build_tiny_clip

    return build_tiny_clip()


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture()
def images(rng):
    """Four random 48x48 RGB uint8 images."""
    return [rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8) for _ in range(4)]
