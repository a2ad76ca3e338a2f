"""The pipeline tests' tiny-profile pipeline, built once per module in a temporary cache, offline,
on one torch thread."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    import torch

    from semcom.pipeline.pipeline import Pipeline

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMCOM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield Pipeline.from_profile("tiny")
    torch.set_num_threads(threads)
